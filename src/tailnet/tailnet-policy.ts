import { Construct } from "constructs";
import { Acl } from "../../.gen/providers/tailscale/acl";
import { MeshPolicyOptions, meshPolicy, renderPolicy } from "../systems/mesh/mesh-policy";

export interface TailnetPolicyProps extends MeshPolicyOptions {
  /**
   * Replace a policy file that was edited by hand. Off by default: the provider then only writes over
   * the untouched default policy (a fresh tailnet) and refuses otherwise, instead of erasing rules.
   * @default false
   */
  readonly overwriteExistingPolicy?: boolean;
  /** Logical ID in the synthesized JSON. @default "mesh" */
  readonly resourceName?: string;
}

/** The tailnet policy file as a `tailscale_acl`, from `meshPolicy()`. */
export class TailnetPolicy extends Construct {
  public readonly acl: Acl;
  public readonly meshTag: string;

  constructor(scope: Construct, id: string, props: TailnetPolicyProps = {}) {
    super(scope, id);
    const policy = meshPolicy(props);
    this.meshTag = Object.keys(policy.tagOwners)[0];
    this.acl = new Acl(this, "acl", {
      acl: renderPolicy(policy),
      overwriteExistingContent: props.overwriteExistingPolicy ?? false,
    });
    this.acl.overrideLogicalId(props.resourceName ?? "mesh");
  }
}
