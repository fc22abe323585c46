import { Token } from "cdktf";
import { Construct } from "constructs";
import { Password } from "@cdktf/provider-random/lib/password";
import { UngroupedAddresses } from "../../terraform/regrouping";
import { NODE_HOSTNAME_SLOT, NodeInfo, NodeMap, NodeSpec, TailscaleNodes } from "../../linode/tailscale-nodes";
import { NodeFirewall } from "../../linode/node-firewall";
import { NodeAuthKeys } from "../../tailnet/auth-keys";
import { TailnetPolicy, TailnetPolicyProps } from "../../tailnet/tailnet-policy";
import { fail, requireIntegerInRange } from "../../validation";
import { ErlangPolicyOptions, erlangClusterPolicy } from "./erlang-policy";
import { EPMD_UNIT, NODE_UNIT, PACKAGED_EPMD_UNITS, DEFAULT_PATHS, erlangNodeFiles, parseNodeName, resolveErlangRenderOptions } from "./render";
import { Secret } from "../../terraform/secret";

export interface ErlangClusterProps {
  /** The nodes this construct creates (name and region each; several per region allowed). */
  readonly nodes: readonly NodeSpec[];
  /**
   * A state from the layout with one resource for all nodes (`linode_instance.erlang["<node>"]`):
   * "guard" stops its plan before anything is destroyed, "move" moves it (one apply), "off" neither.
   * @default "guard"
   */
  readonly ungroupedAddresses?: UngroupedAddresses;
  /** Prepended to node names for Linode labels and tailnet hostnames. @default "erl-" */
  readonly namePrefix?: string;
  /** @default "linode/ubuntu24.04" */
  readonly image?: string;
  /** @default "g6-standard-2" */
  readonly instanceType?: string;
  /** Pin Tailscale, e.g. "1.90.6". @default latest stable */
  readonly tailscaleVersion?: string;
  /** The part of every node name before the `@`. @default "erlang" */
  readonly nodeName?: string;
  /**
   * The tailnet's MagicDNS suffix (e.g. "tail1234.ts.net", admin console → DNS): node names become
   * fully qualified (`-name erlang@erl-tokyo-1.tail1234.ts.net`). @default none: short tailnet names
   * (`-sname erlang@erl-tokyo-1`), resolved through the search domain Tailscale's DNS sets up.
   * Erlang does not connect the two kinds, so members kept elsewhere must use the same kind.
   */
  readonly magicDnsSuffix?: string;
  /**
   * Members this construct does not create (other clouds, as in the article): their tailnet names
   * (`vultr-tokyo-1`, becoming `<nodeName>@vultr-tokyo-1`) or full node names (`app@vultr-tokyo-1`).
   * They must carry the cluster's tag and the same cookie (the stack's `erlang_cookie` output).
   */
  readonly externalMembers?: readonly string[];
  /** Distribution listen ports, inclusive. @default { min: 9100, max: 9105 } */
  readonly distPorts?: { readonly min: number; readonly max: number };
  /** How long a booting node waits for the other members, ms. @default 30000 */
  readonly syncTimeoutMs?: number;
  /**
   * Run your own release instead of the default node, e.g. { command: ["/opt/app/bin/app",
   * "foreground"] }: the unit runs it through the launcher (tailnet binding, cookie file, node name
   * in ERLANG_CLUSTER_NODE / RELEASE_NODE). Deploying the release to that path is yours.
   */
  readonly release?: { readonly command: readonly string[] };
  /** Debian packages for the VM. @default ["erlang-base"] (OTP from the image's release) */
  readonly erlangPackages?: readonly string[];
  /** Tag, admins, SSH users. */
  readonly policy?: ErlangPolicyOptions;
  /**
   * The tailnet policy to contribute to: the app's shared one (e.g. `mesh.tailnetPolicy`), or props
   * for one this construct creates (`tailscale_acl.erlang`). @default a managed policy of its own
   */
  readonly tailnetPolicy?: TailnetPolicy | TailnetPolicyProps;
  /** Lifetime of the single-use auth keys, seconds. @default 3600 */
  readonly keyExpirySeconds?: number;
  /** Label of the Cloud Firewall. @default "<namePrefix>firewall" */
  readonly firewallLabel?: string;
  /** Length of the generated cookie. @default 48 */
  readonly cookieLength?: number;
}

// Stands for the cookie in the rendered script; the stack fills in the random_password reference.
const COOKIE_SLOT = "ErlangClusterCookieSlotMarker";

/**
 * An Erlang/OTP cluster whose distribution stays on the tailnet: Linode nodes that join the tailnet
 * with a tag of their own, Erlang from the image's release, epmd and distribution bound to the
 * tailnet address by a launcher, a Terraform-generated cookie in a 0400 file, a default node that
 * forms the cluster at boot, a policy that lets members reach each other on epmd and the
 * distribution ports only, and a Cloud Firewall that drops everything public but WireGuard.
 */
export class ErlangCluster extends Construct {
  public readonly policy: TailnetPolicy;
  public readonly tag: string;
  /** Every member's node name, managed ones first, in the order of `nodes` then `externalMembers`. */
  public readonly members: readonly string[];
  /** Node name of each managed node, by node name key. */
  public readonly nodeNames: Readonly<Record<string, string>>;
  public readonly planned: readonly NodeInfo[];
  public readonly distPorts: { readonly min: number; readonly max: number };
  public readonly cookie: Password;
  public readonly firewall: NodeFirewall;
  public readonly authKeys: NodeAuthKeys;
  public readonly nodes: TailscaleNodes;

  constructor(scope: Construct, id: string, props: ErlangClusterProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "erl-";
    // One node map (a Terraform local) for the nodes and their keys.
    const nodeMap = new NodeMap(this, "node-map", { nodes: props.nodes, namePrefix: prefix, instanceType: props.instanceType, resourceName: "erlang" });
    this.planned = nodeMap.nodes;
    const nodeName = props.nodeName ?? "erlang";
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(nodeName)) {
      fail("nodeName", `${JSON.stringify(nodeName)} is not the name part of an Erlang node name (a letter, then letters, digits, '_' or '-')`);
    }
    const suffix = props.magicDnsSuffix;
    if (suffix !== undefined && !/^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+ts\.net$/.test(suffix)) {
      fail("magicDnsSuffix", `${JSON.stringify(suffix)} is not a MagicDNS suffix like "tail1234.ts.net" (admin console → DNS → Tailnet name)`);
    }
    const hostOf = (hostname: string) => (suffix ? `${hostname}.${suffix}` : hostname);
    const names: Record<string, string> = {};
    for (const n of this.planned) names[n.name] = `${nodeName}@${hostOf(n.hostname)}`;
    this.nodeNames = names;
    const external = (props.externalMembers ?? []).map((m, i) => {
      const full = m.includes("@") ? m : `${nodeName}@${m.includes(".") ? m : hostOf(m)}`;
      parseNodeName(`externalMembers[${i}]`, full);
      return full;
    });
    this.members = [...Object.values(names), ...external];
    const dup = this.members.find((m, i) => this.members.indexOf(m) !== i);
    if (dup) fail("externalMembers", `${dup} is already a member (listed twice, or also a managed node)`);
    external.forEach((m, i) => {
      if (m.split("@")[1].includes(".") !== Boolean(suffix)) {
        fail(`externalMembers[${i}]`, `${m} ${suffix ? "is a short name, but magicDnsSuffix makes every name fully qualified" : "is fully qualified, but the cluster uses short tailnet names (set magicDnsSuffix for fully qualified ones)"}; Erlang does not connect short-name and long-name nodes`);
      }
    });

    // Everything rendered is checked now, with one node's concrete name standing for all.
    const renderOptions = {
      node: `${nodeName}@${hostOf(NODE_HOSTNAME_SLOT)}`,
      members: this.members,
      distPorts: props.distPorts,
      syncTimeoutMs: props.syncTimeoutMs,
      release: props.release,
    };
    const resolved = resolveErlangRenderOptions({ ...renderOptions, node: this.members[0] });
    this.distPorts = resolved.distPorts;

    const contribution = erlangClusterPolicy(props.policy ?? {}, this.distPorts);
    this.tag = contribution.tag;
    this.policy = TailnetPolicy.use(this, "policy", props.tailnetPolicy, "erlang");
    this.policy.contribute(this, contribution.contribution);

    this.firewall = new NodeFirewall(this, "firewall", {
      label: props.firewallLabel ?? `${prefix}firewall`,
      labelField: props.firewallLabel ? "firewallLabel" : 'firewall label (namePrefix + "firewall")',
      // No SSH on public addresses: cloud-init delivers the bootstrap; admins use Tailscale SSH.
      sshSourceCidrs: [],
      resourceName: "erlang",
    });

    const cookieLength = requireIntegerInRange("cookieLength", props.cookieLength ?? 48, 32, 255);
    this.cookie = new Password(this, "cookie", {
      length: cookieLength,
      special: false,
      upper: true,
      lower: true,
      numeric: true,
    });
    this.cookie.overrideLogicalId("erlang_cookie");

    this.authKeys = new NodeAuthKeys(this, "keys", {
      source: { kind: "managed", policy: this.policy, expirySeconds: props.keyExpirySeconds },
      nodes: nodeMap,
      ungroupedAddresses: props.ungroupedAddresses,
      tags: [this.tag],
      description: "erlang cluster node bootstrap",
      resourceName: "erlang",
    });

    const packages = [...(props.erlangPackages ?? ["erlang-base"])];
    if (packages.length === 0) fail("erlangPackages", "must list the package(s) that provide erl and epmd, e.g. [\"erlang-base\"]");
    this.nodes = new TailscaleNodes(this, "nodes", {
      nodes: props.nodes,
      nodeMap,
      ungroupedAddresses: props.ungroupedAddresses,
      namePrefix: prefix,
      image: props.image,
      instanceType: props.instanceType,
      tailscaleVersion: props.tailscaleVersion,
      linodeTags: ["tailscale", "erlang-cluster"],
      advertiseTags: [this.tag],
      authKey: this.authKeys.key,
      delivery: "cloud-init",
      // Nothing else listens on a cluster member: no iperf3 server.
      iperf3Port: false,
      firewallId: Token.asNumber(this.firewall.firewall.id),
      resourceName: "erlang",
      bootstrapExtras: {
        extraPackages: packages,
        // Debian's erlang-base starts an epmd socket on every address; it is masked before install.
        maskUnits: [...PACKAGED_EPMD_UNITS],
        systemUsers: [{ name: resolved.user, home: DEFAULT_PATHS.home }],
        files: erlangNodeFiles({ ...renderOptions, cookie: COOKIE_SLOT }),
        units: [EPMD_UNIT, NODE_UNIT],
      },
      // The cookie reaches the node inside user_data at plan time; the JSON holds only this reference.
      templateSlots: { [COOKIE_SLOT]: Secret.fromReference("${random_password.erlang_cookie.result}", "cookie") },
    });
  }
}
