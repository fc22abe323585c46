import { TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";
import { Password } from "@cdktf/provider-random/lib/password";
import { NodeMap, TailscaleNodes, TailscaleNodesProps } from "../../linode/tailscale-nodes";
import { NodeAuthKeys } from "../../tailnet/auth-keys";
import { NodeFirewall } from "../../linode/node-firewall";
import { TailnetPolicy, TailnetPolicyProps } from "../../tailnet/tailnet-policy";
import { fail, requireOnlyInModes } from "../../validation";
import { MeshPolicyOptions, meshPolicy } from "./mesh-policy";
import { MeshPeerRelayOptions, resolveMeshPeerRelays } from "./peer-relays";
import { PerNodeSecret } from "../../terraform/secret";
import { groupMoves, groupResourceName, RegroupedResource } from "../../terraform/regrouping";

export interface TailscaleMeshProps
  extends Omit<TailscaleNodesProps, "advertiseTags" | "authKey" | "firewallId" | "authorizedKeys" | "rootPassword" | "peerRelay"> {
  /** Make some nodes Tailscale peer relays (managed keys only). @default off */
  readonly peerRelays?: MeshPeerRelayOptions;
  /** What the mesh adds to the tailnet policy; its tag is what nodes advertise. */
  readonly policy?: MeshPolicyOptions;
  /**
   * The tailnet policy the mesh contributes to (managed keys only): an existing TailnetPolicy
   * shared with other systems, or props for one this construct creates. @default a managed policy
   * over the new-tailnet default base, as `tailscale_acl.mesh`
   */
  readonly tailnetPolicy?: TailnetPolicy | TailnetPolicyProps;
  /**
   * "managed": the tailscale provider writes the policy and mints a single-use key per node.
   * "premade": nodes use the key in `premadeAuthKey` and the tailnet is not touched.
   * @default "managed"
   */
  readonly authKeyMode?: "managed" | "premade";
  /** Sensitive variable holding a pre-made key (premade mode). */
  readonly premadeAuthKey?: TerraformVariable;
  /** Lifetime of managed keys. @default 3600 */
  readonly keyExpirySeconds?: number;
  /** Networks allowed to SSH to nodes' public addresses; required for remote-exec delivery. */
  readonly sshSourceCidrs?: readonly string[];
  /** Accept 0.0.0.0/0 or ::/0 in `sshSourceCidrs`. @default false */
  readonly allowSshFromAnywhere?: boolean;
  /** Public SSH keys for root. Required for remote-exec delivery. */
  readonly authorizedKeys?: string[];
  /** Label of the shared Cloud Firewall. @default "<namePrefix>firewall" */
  readonly firewallLabel?: string;
  /**
   * Give each node a root password from a per-node `random_password` (sensitive, kept in state),
   * for console access. Needs a random provider in the stack. @default false
   */
  readonly rootPassword?: boolean;
}

/**
 * A Tailscale full mesh over Linode regions: policy and keys (managed or pre-made), one Cloud Firewall,
 * and the nodes. Each part stays reachable as a property for overrides.
 */
export class TailscaleMesh extends Construct {
  /** The tailnet policy the mesh contributes to (managed keys). */
  public readonly policy?: TailnetPolicy;
  /** Tag every node advertises. */
  public readonly tag: string;
  /** Local user the probe logs in as with Tailscale SSH, if any. */
  public readonly probeUser?: string;
  public readonly authKeys: NodeAuthKeys;
  public readonly firewall: NodeFirewall;
  public readonly nodes: TailscaleNodes;
  /** Peer relay nodes (names), their UDP port and tag, when on. */
  public readonly peerRelays?: { readonly nodes: readonly string[]; readonly port: number; readonly tag: string };
  /** Per-node root passwords (one resource per node group), when asked for. Escape hatch. */
  public readonly rootPasswords?: readonly Password[];

  constructor(scope: Construct, id: string, props: TailscaleMeshProps) {
    super(scope, id);
    const mode = props.authKeyMode ?? "managed";
    const delivery = props.delivery ?? "remote-exec";
    const sshCidrs = props.sshSourceCidrs ?? [];
    if (delivery === "remote-exec" && sshCidrs.length === 0) {
      fail("sshSourceCidrs", "remote-exec delivery needs SSH from the admin networks: give at least one CIDR (or use cloud-init delivery)");
    }
    if (mode === "premade" && !props.premadeAuthKey) fail("premadeAuthKey", 'authKeyMode "premade" needs the sensitive variable holding the key');
    if (mode === "premade" && !props.premadeAuthKey!.sensitive) fail("premadeAuthKey", "the variable must be declared sensitive");
    if (mode !== "managed" && mode !== "premade") fail("authKeyMode", `${JSON.stringify(mode)} is not "managed" or "premade"`);
    requireOnlyInModes(
      { field: "authKeyMode", value: mode, appliesTo: ["managed"], why: "with a pre-made key the app mints no key and writes no tailnet policy" },
      {
        keyExpirySeconds: props.keyExpirySeconds,
        tailnetPolicy: props.tailnetPolicy instanceof TailnetPolicy ? props.tailnetPolicy.node.path : props.tailnetPolicy,
        "policy.admins": props.policy?.admins,
        "policy.sshUsers": props.policy?.sshUsers,
        "policy.sshAction": props.policy?.sshAction,
        "policy.probeUser": props.policy?.probeUser,
        // The relay tag and grant live in the policy this app writes, and keys must carry the tag.
        peerRelays: props.peerRelays,
      },
    );

    const prefix = props.namePrefix ?? "mesh-";
    // Nodes first: a bad name prefix is reported against the nodes, where the user set it.
    // One node map (a Terraform local) for the nodes and everything that comes and goes with them.
    const nodeMap = new NodeMap(this, "node-map", {
      nodes: props.nodes,
      namePrefix: prefix,
      instanceType: props.instanceType,
      resourceName: props.resourceName,
    });
    const relays = props.peerRelays ? resolveMeshPeerRelays(props.peerRelays, nodeMap.nodes, props.tailscaleVersion) : undefined;
    this.peerRelays = relays;
    this.firewall = new NodeFirewall(this, "firewall", {
      label: props.firewallLabel ?? `${prefix}firewall`,
      labelField: props.firewallLabel ? "firewallLabel" : 'firewall label (namePrefix + "firewall")',
      sshSourceCidrs: sshCidrs,
      allowSshFromAnywhere: props.allowSshFromAnywhere,
      ...(relays ? { peerRelayUdpPort: relays.port } : {}),
    });

    const contribution = meshPolicy(props.policy, props.iperf3Port ?? 5201);
    this.tag = contribution.tag;
    const meshTag = contribution.tag;
    if (relays && relays.tag === meshTag) fail("peerRelays.tag", `${meshTag} is the mesh tag every node carries; relays need a tag of their own`);
    if (mode === "managed") {
      this.policy = TailnetPolicy.use(this, "policy", props.tailnetPolicy, "mesh");
      this.policy.contribute(this, contribution.contribution);
      if (relays) this.policy.contribute(this, relays.policy(meshTag, contribution.admins));
      this.probeUser = contribution.probeUser;
    }

    // Keys and nodes iterate over the same node map, so a node and its key come and go together.
    this.authKeys = new NodeAuthKeys(this, "keys", {
      source:
        mode === "managed"
          ? { kind: "managed", policy: this.policy!, expirySeconds: props.keyExpirySeconds }
          : { kind: "premade", variable: props.premadeAuthKey! },
      nodes: nodeMap,
      tags: [meshTag],
      ungroupedAddresses: props.ungroupedAddresses,
      ...(relays ? { extraTags: { nodes: relays.nodes, tags: [relays.tag] } } : {}),
    });
    let rootPasswordSecret: PerNodeSecret | undefined;
    if (props.rootPassword) {
      this.rootPasswords = nodeMap.groups.map((g) => {
        const pw = new Password(this, `root-password-${g.id}`, { forEach: g.iterator, length: 32, special: true });
        pw.overrideLogicalId(groupResourceName("node_root", g.id));
        return pw;
      });
      // Read through a map per group built once, like the auth keys (hashicorp/terraform#26355).
      rootPasswordSecret = PerNodeSecret.fromEachAttribute(
        this,
        "root-passwords",
        nodeMap.groups,
        { type: "random_password", name: (g) => groupResourceName("node_root", g) },
        "result",
        (g) => `node_root_passwords_${g}`,
        "rootPassword",
      );
      new RegroupedResource(this, "ungrouped-root-passwords", {
        type: "random_password",
        oldName: "node_root",
        moves: groupMoves(nodeMap, "node_root"),
        mode: props.ungroupedAddresses,
        guardArguments: { length: 32 },
      });
    }
    this.nodes = new TailscaleNodes(this, "nodes", {
      ...props,
      nodeMap,
      rootPassword: rootPasswordSecret,
      advertiseTags: [meshTag],
      localUsers: this.probeUser ? [this.probeUser] : undefined,
      authKey: this.authKeys.key,
      // Token for the firewall's numeric ID; attached at creation so no node is ever unprotected.
      firewallId: Token.asNumber(this.firewall.firewall.id),
      ...(relays ? { peerRelay: { nodes: relays.nodes, port: relays.port, tags: [relays.tag] } } : {}),
    });
  }
}
