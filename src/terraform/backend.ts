import { LocalBackendConfig } from "cdktf";

/**
 * cdktf's default local backend writes an absolute state path into the JSON, which makes synthesized
 * output machine-dependent. This path is relative to the stack's working directory
 * (cdktf.out/stacks/<stack>) and lands the state where cdktf would: terraform.<stack>.tfstate at the
 * project root, so `cdktf deploy` and plain `terraform` in that directory share one state.
 */
export function relativeStateBackend(stackName: string): LocalBackendConfig {
  return { path: `../../../terraform.${stackName}.tfstate` };
}
