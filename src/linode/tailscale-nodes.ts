import { MapTerraformIterator, RemoteExecProvisioner, TerraformIterator, TerraformLocal } from "cdktf";
import { gzipSync } from "zlib";
import { Construct } from "constructs";
import { Instance } from "../../.gen/providers/linode/instance";
import { BootstrapExtras, distroForImage, renderNodeBootstrapScript } from "../tailnet/bootstrap";
import {
  claimLinodeLabel,
  fail,
  requireHostname,
  requireInstanceType,
  requireLinodeLabel,
  requireLinodeTags,
  requireSshPublicKeys,
  requireIntegerInRange,
  requireNonEmpty,
  requireOneOf,
  requireOnlyInModes,
  requireRegion,
  requireTailscaleTag,
  requireUnique,
} from "../validation";
import { escapeTerraformTemplate, replaceSlotsExpression } from "../terraform/template";
import { NodeSecret, optionalSecret, requireNodeSecret, Secret } from "../terraform/secret";
import { GroupedNodes, groupMoves, groupResourceName, RegroupedResource, UngroupedAddresses } from "../terraform/regrouping";

/** One node of the mesh. */
export interface NodeSpec {
  /** Node name: the for_each key, and (with the label prefix) its Linode label and tailnet hostname. */
  readonly name: string;
  readonly region: string;
  /** Plan for this node. @default the TailscaleNodes instanceType */
  readonly instanceType?: string;
  /**
   * The group whose resources hold this node (`linode_instance.<name>_<group>`, `-` becoming `_`).
   * Terraform walks a group's whole node map once per instance while planning, so a plan grows
   * with the square of the largest group: give the nodes of a region with many (hundreds of) nodes
   * groups of their own, e.g. "us-ord-a". A node keeps its group for life: changing it moves the
   * node's resources to new addresses. @default the node's region
   */
  readonly group?: string;
}

export type BootstrapDelivery = "remote-exec" | "cloud-init";

export interface TailscaleNodesProps {
  readonly nodes: readonly NodeSpec[];
  /**
   * The node map to iterate over, shared with resources that come and go with the nodes (auth keys,
   * passwords). Must hold the same nodes. @default a NodeMap of its own
   */
  readonly nodeMap?: NodeMap;
  /** Prepended to node names for labels and hostnames. @default "mesh-" */
  readonly namePrefix?: string;
  /** @default "linode/ubuntu24.04" */
  readonly image?: string;
  /** @default "g6-standard-2" */
  readonly instanceType?: string;
  /** Linode tags on every instance. @default ["tailscale", "mesh"] */
  readonly linodeTags?: readonly string[];
  /** Tailscale tags the nodes advertise. */
  readonly advertiseTags: readonly string[];
  /** Each node's auth key, a reference (see NodeAuthKeys.key); never the key itself. */
  readonly authKey: NodeSecret;
  /** How the bootstrap script reaches the node. @default "remote-exec" */
  readonly delivery?: BootstrapDelivery;
  /** Public SSH keys put in root's authorized_keys (values or a list expression). */
  readonly authorizedKeys?: string[];
  /** Private key remote-exec connects with (remote-exec only), a sensitive variable. @default none: ssh-agent */
  readonly sshPrivateKey?: Secret;
  /** Whether remote-exec uses ssh-agent: "true", "false" or a bool expression. @default "true" when no private key */
  readonly sshAgent?: string;
  /**
   * Each node's root password, a reference (e.g. per-group `random_password`s, PerNodeSecret).
   * @default none: the provider sets a random password it does not keep; access is by key only
   */
  readonly rootPassword?: NodeSecret;
  /** Cloud Firewall every node is created behind (attached at creation: never exposed without it). */
  readonly firewallId?: number;
  /** Pin a Tailscale version, e.g. "1.90.6". @default latest from the stable track */
  readonly tailscaleVersion?: string;
  /** iperf3 server port on the tailnet address; false for none. @default 5201 */
  readonly iperf3Port?: number | false;
  /** Kernel tuning for long fat paths. @default true */
  readonly tuning?: boolean;
  /** Unprivileged local users to create (no password, no sudo), e.g. for Tailscale SSH `accept` rules. */
  readonly localUsers?: readonly string[];
  /** Base of the instance resources' logical IDs: `<resourceName>_<group>`. @default "node" */
  readonly resourceName?: string;
  /**
   * What to do about a state from the layout with one instance resource for every node
   * (`linode_instance.<resourceName>["<node>"]`): "guard" stops such a plan before it destroys
   * anything, "move" moves each node to its group's resource (for the one apply that migrates),
   * "off" does neither. @default "guard"
   */
  readonly ungroupedAddresses?: UngroupedAddresses;
  /**
   * What a system adds to the bootstrap (packages, service accounts, files, units). Text that differs
   * per node uses NODE_HOSTNAME_SLOT, which becomes each node's hostname.
   */
  readonly bootstrapExtras?: BootstrapExtras;
  /**
   * More slots in the rendered script: marker (an identifier that occurs nowhere else) → a secret's
   * reference, so the value itself is never in the synthesized JSON.
   */
  readonly templateSlots?: Readonly<Record<string, NodeSecret>>;
  /**
   * Make some nodes Tailscale peer relays (client 1.86+): they serve relayed paths on UDP `port`
   * and advertise `tags` as well (their auth keys must carry them). @default none
   */
  readonly peerRelay?: PeerRelayNodes;
}

/** Which nodes relay, on which UDP port, with which extra tags. */
export interface PeerRelayNodes {
  /** Node names (NodeSpec.name). */
  readonly nodes: readonly string[];
  readonly port: number;
  readonly tags: readonly string[];
}

/** Attributes of a node the stack's outputs and other constructs use. */
export interface NodeInfo {
  readonly name: string;
  readonly region: string;
  /** Its group (NodeSpec.group, else the region). */
  readonly group: string;
  readonly label: string;
  readonly hostname: string;
  readonly type: string;
}

// Slot markers: valid in every field they stand in for (hostname rules), unique in the script.
const HOSTNAME_SLOT = "meshnodehostnameslot";
/** Stands for the node's hostname in `bootstrapExtras` text (each node gets its own). */
export const NODE_HOSTNAME_SLOT = HOSTNAME_SLOT;
const AUTH_KEY_SLOT = "MESH_NODE_AUTH_KEY_SLOT";

export interface NodeMapProps {
  readonly nodes: readonly NodeSpec[];
  /** @default "mesh-" */
  readonly namePrefix?: string;
  /** @default "g6-standard-2" */
  readonly instanceType?: string;
  /** Names the locals: `<resourceName>_<group>` (and `<resourceName>_types`). @default "node" */
  readonly resourceName?: string;
}

/**
 * The nodes of one group (by default, of one region). Every kind of per-node resource (instances, auth keys, passwords) is one
 * for_each resource per group, `<name>_<group id>`, iterating over the group's local.
 */
export interface NodeGroup {
  /** A Terraform identifier made from the group's name: `us_ord` for us-ord. */
  readonly id: string;
  /** The region of its first node (a group given by NodeSpec.group may span regions). */
  readonly region: string;
  readonly nodes: readonly NodeInfo[];
  /** `local.<resourceName>_<id>`: node name → region, for these nodes only. */
  readonly local: TerraformLocal;
  /** Iterator for `forEach`: `for_each = local.<resourceName>_<id>`. */
  readonly iterator: MapTerraformIterator;
}

/**
 * The nodes, grouped by region, each group one Terraform `locals` value (node name → region) that
 * the group's for_each resources read; labels and hostnames are the prefix and the key.
 *
 * Why groups: while planning, Terraform (1.11 to 1.15, and OpenTofu) evaluates a resource's whole
 * for_each value again for every instance and walks it (UnmarkDeep, AsValueMap in
 * `NodeAbstractResourceInstance.plan`), so one for_each over N nodes costs O(N²). Split by region,
 * each walk covers one region's nodes, removing a region removes only its own resources, and a
 * node's resources depend only on its own group's keys and passwords.
 */
export class NodeMap extends Construct implements GroupedNodes {
  public readonly nodes: readonly NodeInfo[];
  /** Groups sorted by name (the region, or NodeSpec.group); a group with no node does not exist. */
  public readonly groups: readonly NodeGroup[];
  /** Base of the locals' names (`<resourceName>_<group id>`). */
  public readonly resourceName: string;
  /** Expressions of the current node's attributes, valid in a resource iterating over a group. */
  public readonly label: string;
  public readonly hostname: string;
  public readonly region: string;
  public readonly type: string;

  constructor(scope: Construct, id: string, props: NodeMapProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "mesh-";
    const name = props.resourceName ?? "node";
    requireTerraformIdentifier("resourceName", name);
    this.resourceName = name;
    this.nodes = planNodes(props.nodes, prefix, props.instanceType);
    const byGroup = new Map<string, NodeInfo[]>();
    for (const n of this.nodes) byGroup.set(n.group, [...(byGroup.get(n.group) ?? []), n]);
    this.groups = [...byGroup.keys()].sort().map((group) => {
      const gid = groupId(group);
      const nodes = byGroup.get(group)!;
      const local = new TerraformLocal(this, `group-${gid}`, Object.fromEntries(nodes.map((n) => [n.name, n.region])));
      local.overrideLogicalId(`${name}_${gid}`);
      return { id: gid, region: nodes[0].region, nodes, local, iterator: TerraformIterator.fromMap(local.asStringMap) };
    });
    // planNodes makes label and hostname the prefix and the name, for every node.
    this.label = `${prefix}\${each.key}`;
    this.hostname = this.label;
    this.region = "${each.value}";
    const types = new Set(this.nodes.map((n) => n.type));
    if (types.size === 1) {
      this.type = this.nodes[0].type;
    } else {
      const byNode = new TerraformLocal(this, "types", Object.fromEntries(this.nodes.map((n) => [n.name, n.type])));
      byNode.overrideLogicalId(`${name}_types`);
      this.type = `\${local.${name}_types[each.key]}`;
    }
  }

  /**
   * One map over every node's resource of a per-group kind, for outputs:
   * `merge({ for key, val in <type>.<base>_<g> : key => <value> }, ...)`, where `value` may use
   * `key` and `val`.
   */
  forEachNode(type: string, base: string, value: string): string {
    const parts = this.groups.map((g) => `{ for key, val in ${type}.${groupResourceName(base, g.id)} : key => ${value} }`);
    return `\${${parts.length === 1 ? parts[0] : `merge(${parts.join(", ")})`}}`;
  }
}

/** `us-ord` → `us_ord`: group names (region slugs by default) are lower-case letters, digits and hyphens. */
export function groupId(group: string): string {
  return group.replace(/-/g, "_");
}

function requireTerraformIdentifier(field: string, value: string): void {
  if (typeof value !== "string" || !/^[a-z][a-z0-9_]{0,40}$/.test(value)) {
    fail(field, `${JSON.stringify(value)} is not a Terraform name: a lower-case letter, then up to 40 lower-case letters, digits or '_'`);
  }
}

/**
 * Mesh nodes: one `linode_instance` per node, for_each keyed by node name, so adding or removing a
 * node touches only that node. Each node installs Tailscale from the signed apt repository, joins
 * with its tags, and runs an iperf3 server on its tailnet address.
 */
export class TailscaleNodes extends Construct {
  /** One instance resource per node group (`<resourceName>_<group>`), in the map's group order. */
  public readonly instances: readonly Instance[];
  public readonly nodes: readonly NodeInfo[];
  /** The node map, grouped (by region unless NodeSpec.group says); other per-node resources iterate over its groups. */
  public readonly map: NodeMap;
  /** Base of the instance resources' names. */
  public readonly resourceName: string;

  constructor(scope: Construct, id: string, props: TailscaleNodesProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "mesh-";
    const image = props.image ?? "linode/ubuntu24.04";
    const defaultType = props.instanceType ?? "g6-standard-2";
    const delivery = props.delivery ?? "remote-exec";
    requireOneOf("delivery", delivery, ["cloud-init", "remote-exec"] as const);
    requireOnlyInModes(
      { field: "delivery", value: delivery, appliesTo: ["remote-exec"], why: "cloud-init delivery never connects over SSH" },
      { sshPrivateKey: props.sshPrivateKey === undefined ? undefined : "(sensitive)", sshAgent: props.sshAgent },
    );
    const distro = distroForImage(image);
    props.advertiseTags.forEach((t, i) => requireTailscaleTag(`advertiseTags[${i}]`, t));
    requireSshPublicKeys("authorizedKeys", props.authorizedKeys);
    if (delivery === "remote-exec" && !props.authorizedKeys) {
      fail("authorizedKeys", "remote-exec delivery connects over SSH, so at least one public key is required");
    }

    const resourceName = props.resourceName ?? "node";
    this.resourceName = resourceName;
    this.nodes = planNodes(props.nodes, prefix, defaultType);
    // Linode refuses a second instance with a label already in use: checked across the stack.
    this.nodes.forEach((n, i) => claimLinodeLabel(this, "instance", n.label, `nodes[${i}] label (namePrefix + name)`));
    const linodeTags = props.linodeTags ?? ["tailscale", "mesh"];
    requireLinodeTags("linodeTags", linodeTags);
    if (props.nodeMap) {
      const given = props.nodeMap.nodes;
      if (given.length !== this.nodes.length || given.some((n, i) => JSON.stringify(n) !== JSON.stringify(this.nodes[i]))) {
        fail("nodeMap", "must be made from the same nodes, namePrefix and instanceType as this TailscaleNodes");
      }
    }
    const map = props.nodeMap ?? new NodeMap(this, "node-map", { nodes: props.nodes, namePrefix: prefix, instanceType: defaultType, resourceName });
    this.map = map;
    // Secrets only as references, checked for every group now: JavaScript callers bypass the types.
    const secretsOf = (g: NodeGroup) => ({
      authKey: requireNodeSecret("authKey", props.authKey, g.id),
      rootPassword: props.rootPassword === undefined ? undefined : requireNodeSecret("rootPassword", props.rootPassword, g.id),
      slots: Object.entries(props.templateSlots ?? {}).map(([marker, value]) => [marker, requireNodeSecret(`templateSlots.${marker}`, value, g.id)] as const),
    });
    const bySecrets = new Map(map.groups.map((g) => [g.id, secretsOf(g)]));
    const sshPrivateKey = optionalSecret("sshPrivateKey", props.sshPrivateKey);

    // One script template for every node; the per-node parts are Terraform expressions.
    const script = renderNodeBootstrapScript({
      hostname: HOSTNAME_SLOT,
      advertiseTags: [...props.advertiseTags],
      distro,
      authKey: AUTH_KEY_SLOT,
      tailscaleVersion: props.tailscaleVersion,
      ssh: true,
      iperf3: props.iperf3Port === false ? false : { port: props.iperf3Port ?? 5201 },
      tuning: props.tuning ?? true,
      localUsers: props.localUsers ? [...props.localUsers] : undefined,
      ...props.bootstrapExtras,
      ...(props.peerRelay ? { peerRelay: peerRelayBootstrap(props.peerRelay, this.nodes) } : {}),
    });
    for (const marker of Object.keys(props.templateSlots ?? {})) {
      if (marker === HOSTNAME_SLOT || marker === AUTH_KEY_SLOT) fail("templateSlots", `${marker} is a reserved slot`);
    }
    if (delivery === "cloud-init") requireUserDataFits(script);
    // The script is one local, evaluated once; each node's copy is that text with its slots
    // replaced. (A 20 KB template per instance costs Terraform a parse per instance at every step of
    // the plan.) The secrets go in last, so no later replace() scans them.
    const bootstrap = new TerraformLocal(this, "bootstrap", escapeTerraformTemplate(script));
    bootstrap.overrideLogicalId(`${resourceName}_bootstrap`);

    this.instances = map.groups.map((g) => {
      const secrets = bySecrets.get(g.id)!;
      const scriptExpression = replaceSlotsExpression(`local.${resourceName}_bootstrap`, script, [
        [HOSTNAME_SLOT, map.hostname],
        ...secrets.slots,
        [AUTH_KEY_SLOT, secrets.authKey],
      ]);
      const provisioners: RemoteExecProvisioner[] = [];
      if (delivery === "remote-exec") {
        provisioners.push({
          type: "remote-exec",
          // Terraform uploads inline commands as one script; the first line picks bash, the second
          // removes the uploaded copy (it holds the auth key) while bash keeps reading it.
          inline: ["#!/bin/bash", 'rm -f -- "$0"', `\${${scriptExpression}}`],
          connection: {
            type: "ssh",
            user: "root",
            // The public IPv4: the only one in ipv4 (no private IP is asked for); ip_address is
            // deprecated in the provider (v3.13.0, linode/instance/schema_resource.go).
            host: "${one(self.ipv4)}",
            ...(sshPrivateKey ? { privateKey: sshPrivateKey } : {}),
            agent: props.sshAgent ?? String(!sshPrivateKey),
            timeout: "10m",
          },
        });
      }
      const instance = new Instance(this, `instance-${g.id}`, {
        forEach: g.iterator,
        label: map.label,
        region: map.region,
        type: map.type,
        image,
        tags: [...linodeTags],
        // No root password unless asked for: the provider then sets a random one it does not keep,
        // and access is by SSH key or Tailscale SSH only.
        rootPass: secrets.rootPassword,
        authorizedKeys: props.authorizedKeys,
        firewallId: props.firewallId,
        privateIp: false,
        // Gzipped (cloud-init unpacks it) to stay far below user-data size limits.
        metadata: delivery === "cloud-init" ? [{ userData: `\${base64gzip(${scriptExpression})}` }] : undefined,
        provisioners: provisioners.length ? provisioners : undefined,
        lifecycle:
          delivery === "cloud-init"
            ? // user_data is read once at first boot; a new script must not silently replace every node.
              { ignoreChanges: ["metadata"] }
            : undefined,
      });
      instance.overrideLogicalId(groupResourceName(resourceName, g.id));
      return instance;
    });
    new RegroupedResource(this, "ungrouped", {
      type: "linode_instance",
      oldName: resourceName,
      moves: groupMoves(map, resourceName),
      mode: props.ungroupedAddresses,
      // The one argument linode_instance requires; the guard has no instance to plan.
      guardArguments: { region: map.groups[0].region },
    });
  }

  /** One map over every node, for outputs: see NodeMap.forEachNode (`key`, `val` = the instance). */
  forEachNode(value: string): string {
    return this.map.forEachNode("linode_instance", this.resourceName, value);
  }
}

/** The bootstrap's relay options: node names become hostnames; an unknown name is an error. */
function peerRelayBootstrap(pr: PeerRelayNodes, nodes: readonly NodeInfo[]): { port: number; hostnames: string[]; tags: string[] } {
  requireIntegerInRange("peerRelay.port", pr.port, 1, 65535);
  requireNonEmpty("peerRelay.nodes", pr.nodes);
  requireUnique("peerRelay.nodes", pr.nodes);
  pr.tags.forEach((t, i) => requireTailscaleTag(`peerRelay.tags[${i}]`, t));
  const hostnames = pr.nodes.map((name, i) => {
    const n = nodes.find((x) => x.name === name);
    if (!n) fail(`peerRelay.nodes[${i}]`, `${JSON.stringify(name)} is not a node of this mesh (nodes: ${nodes.map((x) => x.name).join(", ")})`);
    return n.hostname;
  });
  return { port: pr.port, hostnames, tags: [...pr.tags] };
}

/**
 * Validates node specs and derives each node's label, hostname and plan. Pure, so the stack and other
 * constructs (auth keys) can build the same node map before any resource exists.
 */
export function planNodes(
  specs: readonly NodeSpec[],
  namePrefix = "mesh-",
  defaultType = "g6-standard-2",
): NodeInfo[] {
  requireNonEmpty("nodes", specs);
  requireInstanceType("instanceType", defaultType);
  const nodes = specs.map((n, i) => {
    const field = `nodes[${i}]`;
    requireHostname(`${field}.name`, n.name);
    requireRegion(`${field}.region`, n.region);
    const type = n.instanceType ?? defaultType;
    requireInstanceType(`${field}.instanceType`, type);
    const label = `${namePrefix}${n.name}`;
    requireLinodeLabel(`${field} label (namePrefix + name)`, label);
    requireHostname(`${field} hostname (namePrefix + name)`, label);
    const group = n.group ?? n.region;
    if (n.group !== undefined && (typeof n.group !== "string" || !/^[a-z][a-z0-9-]{0,30}$/.test(n.group) || n.group.endsWith("-"))) {
      fail(`${field}.group`, `${JSON.stringify(n.group)} is not a group name: a lower-case letter, then up to 30 lower-case letters, digits or '-' (not last)`);
    }
    return { name: n.name, region: n.region, group, label, hostname: label, type };
  });
  requireUnique("nodes[].name", nodes.map((n) => n.name));
  return nodes;
}

/** regions × count → node specs named `<region>` (count 1) or `<region>-<n>`. */
export function nodesFromRegions(regions: readonly string[], perRegion: number): NodeSpec[] {
  requireNonEmpty("regions", regions);
  regions.forEach((r, i) => requireRegion(`regions[${i}]`, r));
  requireUnique("regions", regions);
  requireIntegerInRange("nodesPerRegion", perRegion, 1, 100);
  const maxNodes = 2000;
  if (regions.length * perRegion > maxNodes) {
    fail("nodesPerRegion", `${regions.length} regions × ${perRegion} = ${regions.length * perRegion} nodes; at most ${maxNodes} are supported`);
  }
  return regions.flatMap((region) =>
    perRegion === 1
      ? [{ name: region, region }]
      : Array.from({ length: perRegion }, (_, i) => ({ name: `${region}-${i + 1}`, region })),
  );
}

/** Conservative ceiling for base64 user data; cloud providers commonly cap user data at 16 KiB. */
export const USER_DATA_LIMIT_BYTES = 16384;

export function requireUserDataFits(script: string): void {
  // Slots are replaced by longer expressions' values at plan time; 256 bytes of headroom covers a key and a name.
  const size = Math.ceil((gzipSync(script, { level: 9 }).length + 256) / 3) * 4;
  if (size > USER_DATA_LIMIT_BYTES) {
    fail("delivery", `the bootstrap script needs ~${size} bytes of base64 user data, over the ${USER_DATA_LIMIT_BYTES}-byte limit; use remote-exec delivery`);
  }
}
