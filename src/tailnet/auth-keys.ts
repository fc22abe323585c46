import { TerraformIterator, TerraformLocal, TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import { TailnetKey } from "../../.gen/providers/tailscale/tailnet-key";
import { TailnetPolicy } from "./tailnet-policy";
import { requireIntegerInRange } from "../validation";

/** Where nodes get the auth key they join the tailnet with. */
export type NodeAuthKeySource =
  /** Terraform mints one single-use, pre-authorised, tagged key per node (needs tailnet API access). */
  | { readonly kind: "managed"; readonly policy: TailnetPolicy; readonly expirySeconds?: number }
  /** A key made by hand, passed in a sensitive variable (for users who can't give Terraform API access). */
  | { readonly kind: "premade"; readonly variable: TerraformVariable };

export interface NodeAuthKeysProps {
  readonly source: NodeAuthKeySource;
  /**
   * The node map the mesh iterates over; managed keys use the same keys, so they come and go with
   * nodes. Omit it for a single key (no for_each), e.g. for one router.
   */
  readonly nodes?: TerraformIterator;
  /** Tags the keys carry (managed keys only). */
  readonly tags: readonly string[];
  /** Key description shown in the admin console (forces a new key when changed). @default "mesh node bootstrap" */
  readonly description?: string;
  /** Logical ID of the managed key resource. @default "node" */
  readonly resourceName?: string;
}

export class NodeAuthKeys extends Construct {
  /** The managed key resource (for_each over nodes); undefined for a pre-made key. Escape hatch. */
  public readonly keys?: TailnetKey;
  /**
   * Expression for the current node's key, valid inside a resource iterating over the same nodes
   * (the one key's expression when `nodes` is omitted).
   */
  public readonly keyForEachNode: string;

  constructor(scope: Construct, id: string, props: NodeAuthKeysProps) {
    super(scope, id);
    const source = props.source;
    if (source.kind === "premade") {
      // As text, not a cdktf token: it goes inside a larger expression (see replaceSlotsExpression).
      this.keyForEachNode = `\${var.${source.variable.friendlyUniqueId}}`;
      return;
    }
    // A key only has to live from `apply` until the node boots and joins: an hour by default.
    const expiry = source.expirySeconds ?? 3600;
    requireIntegerInRange("authKey.expirySeconds", expiry, 300, 90 * 24 * 3600);
    const name = props.resourceName ?? "node";
    const guard = source.policy.guardKeys(this, props.tags);
    this.keys = new TailnetKey(this, "key", {
      forEach: props.nodes,
      description: props.description ?? "mesh node bootstrap",
      reusable: false,
      ephemeral: false,
      preauthorized: true,
      expiry,
      tags: [...props.tags],
      // Single-use keys are spent once the node has joined; never mint a new one (and churn the node).
      recreateIfInvalid: "never",
      // The policy must own the tags before a tagged key can be minted: the policy resource comes
      // first (same stack), the policy's stack comes first (another stack), or a plan-time check of
      // the live policy comes first (a policy kept outside this app).
      ...(guard.dependsOn ? { dependsOn: guard.dependsOn } : {}),
    });
    this.keys.overrideLogicalId(name);
    if (!props.nodes) {
      this.keyForEachNode = `\${tailscale_tailnet_key.${name}.key}`;
      return;
    }
    // Nodes read their key from one map built once. Terraform 1.11 evaluates
    // `tailscale_tailnet_key.<name>[each.key]` by building the whole resource, every instance, for
    // each node (hashicorp/terraform#26355): O(N²) time and memory in plan.
    const byNode = new TerraformLocal(this, "by-node", `\${{ for k, v in tailscale_tailnet_key.${name} : k => v.key }}`);
    byNode.overrideLogicalId(`${name}_auth_keys`);
    this.keyForEachNode = `\${local.${name}_auth_keys[each.key]}`;
  }
}
