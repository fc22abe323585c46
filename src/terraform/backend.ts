import { LocalBackend, LocalBackendConfig, TerraformStack } from "cdktf";
import { fail } from "../validation";

/**
 * cdktf's default local backend writes an absolute state path into the JSON, which makes synthesized
 * output machine-dependent. This path is relative to the stack's working directory
 * (cdktf.out/stacks/<stack>) and lands the state where cdktf would: terraform.<stack>.tfstate at the
 * project root, so `cdktf deploy` and plain `terraform` in that directory share one state.
 */
export function relativeStateBackend(stackName: string): LocalBackendConfig {
  return { path: `../../../terraform.${stackName}.tfstate` };
}

/** Where a stack keeps its state. Only "local" so far; shared backends are for teams (see issue notes). */
export type BackendOptions = { readonly type: "local" };

/** Props every stack of the app accepts. */
export interface CommonStackProps {
  /** Where this stack's state lives. @default { type: "local" } (terraform.<stack>.tfstate at the project root) */
  readonly backend?: BackendOptions;
}

/** Configures the stack's backend; every stack calls this once, in its constructor. */
export function configureBackend(stack: TerraformStack, options: BackendOptions = { type: "local" }): void {
  if (options.type !== "local") fail("backend.type", `${JSON.stringify((options as { type: unknown }).type)} is not one of "local"`);
  new LocalBackend(stack, relativeStateBackend(stack.node.id));
}
