import { TerraformIterator, TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";
import { TailnetKey } from "../../.gen/providers/tailscale/tailnet-key";
import { TailnetPolicy } from "./tailnet-policy";
import { requireIntegerInRange, requireTailnetKeyDescription, requireTailscaleTag } from "../validation";
import { Secret } from "../terraform/secret";

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
  /**
   * More tags for some nodes' keys only (managed keys over `nodes`), e.g. peer relays' tag. Node
   * keys are the for_each keys of `nodes`. @default none
   */
  readonly extraTags?: { readonly nodes: readonly string[]; readonly tags: readonly string[] };
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
  /** The same reference as a Secret, for constructs that take one (TailscaleNodes). */
  public readonly key: Secret;

  constructor(scope: Construct, id: string, props: NodeAuthKeysProps) {
    super(scope, id);
    const source = props.source;
    if (source.kind === "premade") {
      // Refused unless the variable is sensitive and has no default: the key is never in the JSON.
      this.key = Secret.fromVariable(source.variable, "premadeAuthKey");
      this.keyForEachNode = this.key.expression;
      return;
    }
    // A key only has to live from `apply` until the node boots and joins: an hour by default.
    const expiry = source.expirySeconds ?? 3600;
    requireIntegerInRange("authKey.expirySeconds", expiry, 300, 90 * 24 * 3600);
    const description = props.description ?? "mesh node bootstrap";
    requireTailnetKeyDescription("authKey.description", description);
    props.tags.forEach((t, i) => requireTailscaleTag(`authKey.tags[${i}]`, t));
    const name = props.resourceName ?? "node";
    const extra = props.extraTags;
    if (extra && !props.nodes) throw new Error("NodeAuthKeys: extraTags needs the node map (nodes)");
    const guard = source.policy.guardKeys(this, [...props.tags, ...(extra?.tags ?? []).filter((t) => !props.tags.includes(t))]);
    this.keys = new TailnetKey(this, "key", {
      forEach: props.nodes,
      description,
      reusable: false,
      ephemeral: false,
      preauthorized: true,
      expiry,
      tags: extra ? tagsForEach(props.tags, extra) : [...props.tags],
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
      this.key = Secret.fromReference(this.keyForEachNode, "authKey");
      return;
    }
    // Nodes read their key from one map built once (see Secret.fromEachAttribute).
    this.key = Secret.fromEachAttribute(this, "by-node", { type: "tailscale_tailnet_key", name }, "key", `${name}_auth_keys`, "authKey");
    this.keyForEachNode = this.key.expression;
  }
}

/**
 * Per-node tags as one expression: every key's tags, plus `extra.tags` where each.key is one of
 * `extra.nodes`. Written with string conditionals and compact() so both branches have one type.
 */
function tagsForEach(base: readonly string[], extra: { readonly nodes: readonly string[]; readonly tags: readonly string[] }): string[] {
  const q = (v: string) => JSON.stringify(v);
  const nodes = `[${extra.nodes.map(q).join(", ")}]`;
  const parts = [...base.map(q), ...extra.tags.filter((t) => !base.includes(t)).map((t) => `contains(${nodes}, each.key) ? ${q(t)} : ""`)];
  return Token.asList(`\${compact([${parts.join(", ")}])}`);
}
