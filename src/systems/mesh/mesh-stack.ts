import { UngroupedAddresses } from "../../terraform/regrouping";
import { Op, TerraformOutput, TerraformStack, TerraformVariable, Token } from "cdktf";
import { linodeProvider } from "../../linode/provider";
import { Construct } from "constructs";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { ARTICLE_REGIONS, LINODE_REGIONS } from "../../catalog/regions";
import { BootstrapDelivery, NodeSpec, nodesFromRegions } from "../../linode/tailscale-nodes";
import { TailscaleMesh } from "./tailscale-mesh";
import { MeshPolicyOptions } from "./mesh-policy";
import { MeshPeerRelayOptions } from "./peer-relays";
import { tailscaleProvider } from "../../tailnet/provider";
import { TailnetPolicy, TailnetPolicyProps } from "../../tailnet/tailnet-policy";
import { fail, requireCidr, notEverywhereCondition, requireNotEverywhere, requireOneOf, requireOnlyInModes } from "../../validation";
import { CommonStackProps, configureBackend } from "../../terraform/backend";
import { Secret } from "../../terraform/secret";

export interface MeshStackProps extends CommonStackProps {
  /** Regions to cover, one node each (or `nodesPerRegion`). @default the article's 14 regions */
  readonly regions?: readonly string[];
  /** Nodes per region; names become `<region>` for 1, `<region>-<n>` for more. @default 1 */
  readonly nodesPerRegion?: number;
  /** Explicit nodes instead of regions × nodesPerRegion. */
  readonly nodes?: readonly NodeSpec[];
  /** @default "mesh-" */
  readonly namePrefix?: string;
  /** @default "linode/ubuntu24.04" */
  readonly image?: string;
  /** @default "g6-standard-2" */
  readonly instanceType?: string;
  /** @default "cloud-init" (no inbound SSH at all); "remote-exec" does as the article does */
  readonly delivery?: BootstrapDelivery;
  /**
   * Networks allowed to SSH to public addresses (default of `var.admin_cidrs`); required for
   * remote-exec, an error with cloud-init (which opens no SSH port).
   */
  readonly adminCidrs?: readonly string[];
  /**
   * Accept 0.0.0.0/0 or ::/0 in `adminCidrs` (SSH open to the whole internet, also as a runtime value
   * of `var.admin_cidrs`). @default false: refused at synth and by the variable's validation
   */
  readonly allowSshFromAnywhere?: boolean;
  /** @default "managed" (policy and per-node keys by the tailscale provider) */
  readonly authKeyMode?: "managed" | "premade";
  /** What the mesh adds to the tailnet policy (tag, admins, SSH users, probe user). */
  readonly policy?: MeshPolicyOptions & {
    /** Same as `tailnetPolicy.overwriteExistingPolicy`, for the policy this stack creates. */
    overwriteExistingPolicy?: boolean;
  };
  /**
   * The tailnet policy (managed keys): a TailnetPolicy shared with other stacks, or props for the one
   * this stack creates and owns (`tailscale_acl.mesh`). @default managed, over the new-tailnet default
   */
  readonly tailnetPolicy?: TailnetPolicy | TailnetPolicyProps;
  /** Lifetime of managed auth keys, seconds. @default 3600 */
  readonly keyExpirySeconds?: number;
  /** Pin Tailscale, e.g. "1.90.6". @default latest stable */
  readonly tailscaleVersion?: string;
  /** A random_password per node as root password (console access). @default false: no password */
  readonly rootPassword?: boolean;
  /**
   * A state written when each kind of per-node resource was one for_each resource over every node
   * (`linode_instance.node["<node>"]`): "guard" stops its plan before anything is destroyed, "move"
   * moves every node to its region's resource (for the one apply that migrates), "off" neither.
   * @default "guard"
   */
  readonly ungroupedAddresses?: UngroupedAddresses;
  /**
   * Tailscale peer relays on some nodes (managed keys): which ones ("all", "placed", or regions),
   * their UDP port and tag. @default off
   */
  readonly peerRelays?: MeshPeerRelayOptions;
}

/**
 * The production mesh: the article's network with for_each addressing, managed Tailscale policy and
 * keys, a Cloud Firewall, no root password and no secret in plain text. The app's recommended stack.
 */
export class MeshStack extends TerraformStack {
  public readonly mesh: TailscaleMesh;

  /** The tailnet policy the mesh writes to (managed keys), to share with other systems' stacks. */
  get tailnetPolicy(): TailnetPolicy | undefined {
    return this.mesh.policy;
  }

  constructor(scope: Construct, id: string, props: MeshStackProps = {}) {
    super(scope, id);
    configureBackend(this, props.backend);
    const delivery = props.delivery ?? "cloud-init";
    requireOneOf("delivery", delivery, ["cloud-init", "remote-exec"] as const);
    const authKeyMode = props.authKeyMode ?? "managed";
    requireOneOf("authKeyMode", authKeyMode, ["managed", "premade"] as const);
    // Options the chosen modes would ignore are errors, not silent no-ops.
    requireOnlyInModes(
      { field: "delivery", value: delivery, appliesTo: ["remote-exec"], why: "cloud-init delivery opens no SSH port" },
      { adminCidrs: props.adminCidrs, allowSshFromAnywhere: props.allowSshFromAnywhere },
    );
    requireOnlyInModes(
      { field: "authKeyMode", value: authKeyMode, appliesTo: ["managed"], why: "with a pre-made key the app writes no tailnet policy" },
      { "policy.overwriteExistingPolicy": props.policy?.overwriteExistingPolicy },
    );
    const nodes = props.nodes ?? nodesFromRegions(props.regions ?? ARTICLE_REGIONS, props.nodesPerRegion ?? 1);
    if (props.nodes && (props.regions || props.nodesPerRegion)) {
      fail("nodes", "give either nodes, or regions/nodesPerRegion, not both");
    }
    const adminCidrs = props.adminCidrs ?? [];
    adminCidrs.forEach((c, i) => requireCidr(`adminCidrs[${i}]`, c));
    requireNotEverywhere("adminCidrs", adminCidrs, { prop: "allowSshFromAnywhere", allowed: props.allowSshFromAnywhere });
    if (delivery === "remote-exec" && adminCidrs.length === 0) {
      fail("adminCidrs", "remote-exec delivery connects over SSH: give the admin networks allowed to reach port 22 (e.g. [\"203.0.113.0/24\"]), or use cloud-init delivery");
    }

    // --- Secrets: sensitive, never defaulted, never in files (TF_VAR_… in the environment). ---
    linodeProvider(this);
    if (props.rootPassword) new RandomProvider(this, "random");

    let premadeAuthKey: TerraformVariable | undefined;
    if (authKeyMode === "managed") {
      tailscaleProvider(this);
    } else {
      premadeAuthKey = new TerraformVariable(this, "tailscale_auth_key", {
        type: "string",
        sensitive: true,
        nullable: false,
        description: "Pre-authorised, tagged Tailscale auth key made in the admin console (TF_VAR_tailscale_auth_key)",
        validation: [
          {
            condition: '${startswith(var.tailscale_auth_key, "tskey-")}',
            errorMessage: 'tailscale_auth_key must be a Tailscale auth key (it starts with "tskey-").',
          },
        ],
      });
    }

    let sshKeys: TerraformVariable | undefined;
    let sshPrivateKey: TerraformVariable | undefined;
    let sshCidrs: string[] = [];
    if (delivery === "remote-exec") {
      const cidrVar = new TerraformVariable(this, "admin_cidrs", {
        type: "list(string)",
        default: [...adminCidrs],
        description: "Networks allowed to reach SSH (tcp/22) on the nodes' public addresses",
        validation: [
          { condition: "${length(var.admin_cidrs) > 0}", errorMessage: "admin_cidrs must list at least one network." },
          {
            condition: "${alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0))])}",
            errorMessage: "Every admin_cidrs entry must be a CIDR block such as 203.0.113.0/24.",
          },
          // The synth-time opt-in holds for values given at plan time too.
          ...(props.allowSshFromAnywhere
            ? []
            : [
                {
                  condition: "${alltrue([for c in var.admin_cidrs : !can(cidrhost(c, 0)) || split(\"/\", c)[1] != \"0\"])}",
                  errorMessage: "admin_cidrs must not open SSH to the whole internet (a /0 network); set allowSshFromAnywhere in the stack's props to mean it.",
                },
                {
                  condition: notEverywhereCondition("var.admin_cidrs"),
                  errorMessage: "admin_cidrs must not together cover every address (0.0.0.0/1 with 128.0.0.0/1 opens SSH to the whole internet as 0.0.0.0/0 does); set allowSshFromAnywhere in the stack's props to mean it.",
                },
              ]),
        ],
      });
      sshCidrs = cidrVar.listValue;
      sshKeys = new TerraformVariable(this, "ssh_public_keys", {
        type: "list(string)",
        nullable: false,
        description: "Public keys for root (authorized_keys); remote-exec connects with the matching private key",
        validation: [
          {
            condition:
              '${length(var.ssh_public_keys) > 0 && alltrue([for k in var.ssh_public_keys : can(regex("^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh.com) ", k))])}',
            errorMessage: "ssh_public_keys must list OpenSSH public keys (ssh-ed25519 …, ssh-rsa …, ecdsa-sha2-… ).",
          },
        ],
      });
      sshPrivateKey = new TerraformVariable(this, "ssh_private_key", {
        type: "string",
        sensitive: true,
        default: Token.nullValue(),
        description: "Private key for remote-exec; null uses ssh-agent (SSH_AUTH_SOCK)",
      });
    }

    this.mesh = new TailscaleMesh(this, "mesh", {
      nodes,
      namePrefix: props.namePrefix,
      image: props.image,
      instanceType: props.instanceType,
      delivery,
      authKeyMode,
      premadeAuthKey,
      keyExpirySeconds: props.keyExpirySeconds,
      policy: props.policy,
      tailnetPolicy: ownTailnetPolicy(props),
      tailscaleVersion: props.tailscaleVersion,
      rootPassword: props.rootPassword,
      ungroupedAddresses: props.ungroupedAddresses,
      peerRelays: props.peerRelays,
      // The synth-time check above guarantees the list; the variable carries it at runtime.
      sshSourceCidrs: delivery === "remote-exec" ? (sshCidrs.length ? sshCidrs : [...adminCidrs]) : [],
      allowSshFromAnywhere: props.allowSshFromAnywhere,
      authorizedKeys: sshKeys?.listValue,
      sshPrivateKey: sshPrivateKey ? Secret.fromVariable(sshPrivateKey, "sshPrivateKey") : undefined,
      sshAgent: sshPrivateKey ? Token.asString(Op.eq(sshPrivateKey.value, Token.nullValue())) : undefined,
    });

    // What the probe and people need per node: label, region, public IPv4, tailnet hostname.
    new TerraformOutput(this, "nodes", {
      description: "Mesh nodes by name: label, region, public IPv4, tailnet hostname",
      value: this.mesh.nodes.forEachNode("{ label = val.label, region = val.region, public_ipv4 = one(val.ipv4), tailnet_hostname = val.label }"),
    });
    if (this.mesh.peerRelays) {
      new TerraformOutput(this, "peer_relays", {
        description: "Nodes serving as Tailscale peer relays, their UDP port and tag",
        value: { nodes: [...this.mesh.peerRelays.nodes], port: this.mesh.peerRelays.port, tag: this.mesh.peerRelays.tag },
      });
    }
    // How the probe reaches the nodes: over the tailnet with Tailscale SSH, as the user the policy
    // accepts without a browser check (cloud-init nodes accept no SSH on their public address, and
    // remote-exec nodes only from the admin networks).
    if (this.mesh.probeUser) {
      new TerraformOutput(this, "probe_access", {
        description: "How `npm run probe` reaches the nodes: SSH over the tailnet as this user",
        value: { ssh_via: "tailnet", ssh_user: this.mesh.probeUser },
      });
    }
  }
}

/** The stack's tailnetPolicy prop, with the legacy `policy.overwriteExistingPolicy` folded in. */
function ownTailnetPolicy(props: MeshStackProps): TailnetPolicy | TailnetPolicyProps | undefined {
  const legacy = props.policy?.overwriteExistingPolicy;
  if (props.tailnetPolicy instanceof TailnetPolicy) {
    if (legacy !== undefined) fail("policy.overwriteExistingPolicy", "set it on the shared TailnetPolicy (tailnetPolicy), not here");
    return props.tailnetPolicy;
  }
  if (legacy === undefined) return props.tailnetPolicy;
  return { ...props.tailnetPolicy, overwriteExistingPolicy: props.tailnetPolicy?.overwriteExistingPolicy ?? legacy };
}

// Moved down to src/linode (other systems plan nodes the same way); re-exported for existing imports.
export { nodesFromRegions };

/** Every region of the catalog, for users who want the whole footprint. */
export const ALL_REGIONS: readonly string[] = LINODE_REGIONS.map((r) => r.slug);
