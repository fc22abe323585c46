import { TerraformIterator, TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";
import { TailnetKey } from "../../.gen/providers/tailscale/tailnet-key";
import { TailnetPolicy } from "./tailnet-policy";
import { requireIntegerInRange, requireTailnetKeyDescription, requireTailscaleTag } from "../validation";
import { NodeSecret, PerNodeSecret, Secret } from "../terraform/secret";
import { GroupedNodes, groupMoves, groupResourceName, RegroupedResource, UngroupedAddresses } from "../terraform/regrouping";

/** Where nodes get the auth key they join the tailnet with. */
export type NodeAuthKeySource =
  /** Terraform mints one single-use, pre-authorised, tagged key per node (needs tailnet API access). */
  | { readonly kind: "managed"; readonly policy: TailnetPolicy; readonly expirySeconds?: number }
  /** A key made by hand, passed in a sensitive variable (for users who can't give Terraform API access). */
  | { readonly kind: "premade"; readonly variable: TerraformVariable };

export interface NodeAuthKeysProps {
  readonly source: NodeAuthKeySource;
  /**
   * The nodes (a NodeMap): one key resource per group (`<resourceName>_<group>`), for_each over the
   * group's nodes, so a key comes and goes with its node. Omit it for a single key (no for_each),
   * e.g. for one router.
   */
  readonly nodes?: GroupedNodes;
  /** Tags the keys carry (managed keys only). */
  readonly tags: readonly string[];
  /**
   * More tags for some nodes' keys only (managed keys over `nodes`), e.g. peer relays' tag. Node
   * keys are the for_each keys of `nodes`. @default none
   */
  readonly extraTags?: { readonly nodes: readonly string[]; readonly tags: readonly string[] };
  /** Key description shown in the admin console (forces a new key when changed). @default "mesh node bootstrap" */
  readonly description?: string;
  /** Logical ID of the managed key resource (the base of the per-group names with `nodes`). @default "node" */
  readonly resourceName?: string;
  /** A state from the layout with one key resource for every node: see TailscaleNodesProps. @default "guard" */
  readonly ungroupedAddresses?: UngroupedAddresses;
}

export class NodeAuthKeys extends Construct {
  /** The managed key resources (one per node group, or the one key); none for a pre-made key. Escape hatch. */
  public readonly keys: readonly TailnetKey[];
  /**
   * Each node's key, for constructs that take one (TailscaleNodes): per group with `nodes`, else
   * the one key's (or the pre-made key's) reference.
   */
  public readonly key: NodeSecret;
  /** Without a node map (one router): the one key's reference, or the pre-made key's variable. */
  public readonly singleKey?: Secret;

  constructor(scope: Construct, id: string, props: NodeAuthKeysProps) {
    super(scope, id);
    const source = props.source;
    if (source.kind === "premade") {
      // Refused unless the variable is sensitive and has no default: the key is never in the JSON.
      this.singleKey = Secret.fromVariable(source.variable, "premadeAuthKey");
      this.key = this.singleKey;
      this.keys = [];
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
    const keyProps = (forEach?: TerraformIterator, nodes?: readonly string[]) => ({
      forEach,
      description,
      reusable: false,
      ephemeral: false,
      preauthorized: true,
      expiry,
      tags: extra ? tagsForEach(props.tags, extra, nodes) : [...props.tags],
      // Single-use keys are spent once the node has joined; never mint a new one (and churn the node).
      recreateIfInvalid: "never",
      // The policy must own the tags before a tagged key can be minted: the policy resource comes
      // first (same stack), the policy's stack comes first (another stack), or a plan-time check of
      // the live policy comes first (a policy kept outside this app).
      ...(guard.dependsOn ? { dependsOn: guard.dependsOn } : {}),
    });
    const nodes = props.nodes;
    if (!nodes) {
      const key = new TailnetKey(this, "key", keyProps());
      key.overrideLogicalId(name);
      this.keys = [key];
      this.singleKey = Secret.fromReference(`\${tailscale_tailnet_key.${name}.key}`, "authKey");
      this.key = this.singleKey;
      return;
    }
    this.keys = nodes.groups.map((g) => {
      const key = new TailnetKey(this, `key-${g.id}`, keyProps(g.iterator, g.nodes.map((n) => n.name)));
      key.overrideLogicalId(groupResourceName(name, g.id));
      return key;
    });
    // Nodes read their key from one map per group, built once (see Secret.fromEachAttribute).
    this.key = PerNodeSecret.fromEachAttribute(
      this,
      "by-node",
      nodes.groups,
      { type: "tailscale_tailnet_key", name: (g) => groupResourceName(name, g) },
      "key",
      (g) => `${name}_auth_keys_${g}`,
      "authKey",
    );
    new RegroupedResource(this, "ungrouped", { type: "tailscale_tailnet_key", oldName: name, moves: groupMoves(nodes, name), mode: props.ungroupedAddresses });
  }
}

/**
 * Tags of the keys of a group of nodes: every key's tags, plus `extra.tags` for the nodes in
 * `extra.nodes`. A literal when that is all or none of the group; otherwise one expression with
 * string conditionals and compact(), so both branches have one type.
 */
function tagsForEach(base: readonly string[], extra: { readonly nodes: readonly string[]; readonly tags: readonly string[] }, group?: readonly string[]): string[] {
  const more = extra.tags.filter((t) => !base.includes(t));
  if (group) {
    const inGroup = group.filter((n) => extra.nodes.includes(n));
    if (inGroup.length === 0) return [...base];
    if (inGroup.length === group.length) return [...base, ...more];
  }
  const q = (v: string) => JSON.stringify(v);
  const nodes = `[${(group ? extra.nodes.filter((n) => group.includes(n)) : extra.nodes).map(q).join(", ")}]`;
  const parts = [...base.map(q), ...more.map((t) => `contains(${nodes}, each.key) ? ${q(t)} : ""`)];
  return Token.asList(`\${compact([${parts.join(", ")}])}`);
}
