import { TerraformIterator, Token } from "cdktf";
import { Construct } from "constructs";
import { Firewall, FirewallInbound } from "../../.gen/providers/linode/firewall";
import { claimLinodeLabel, fail, LINODE_FIREWALL_MAX_RULES, requireCidr, requireIntegerInRange, requireLinodeFirewallRules, requireLinodeTags, requireNotEverywhere } from "../validation";

export interface NodeFirewallProps {
  /** Firewall label (Linode label rules, at most 32 characters). */
  readonly label: string;
  /** How errors name the label's field, when it was derived from another input. @default "firewall.label" */
  readonly labelField?: string;
  /** Source networks allowed to reach SSH (tcp/22). Empty means no SSH rule at all. */
  readonly sshSourceCidrs: readonly string[];
  /** Accept 0.0.0.0/0 or ::/0 in `sshSourceCidrs` (SSH from the whole internet). @default false */
  readonly allowSshFromAnywhere?: boolean;
  /** UDP port peers use for direct WireGuard paths; false for no such rule. @default 41641 (tailscaled's default) */
  readonly tailscaleUdpPort?: number | false;
  /**
   * UDP port of Tailscale peer relay servers, opened to everyone (peers behind any NAT must reach
   * it). The firewall is shared, so every node behind it gets the rule; only relay nodes listen.
   * @default none
   */
  readonly peerRelayUdpPort?: number;
  /** Accept ICMP/ICMPv6 from anywhere (ping, path MTU discovery). @default true */
  readonly allowIcmp?: boolean;
  /** Extra inbound rules, appended after the built-in ones. */
  readonly extraInbound?: readonly FirewallInbound[];
  readonly tags?: readonly string[];
  /** Logical ID in the synthesized JSON. @default "mesh" */
  readonly resourceName?: string;
}

/**
 * A Linode Cloud Firewall for mesh nodes: inbound DROP except direct WireGuard (UDP 41641, so peers
 * don't fall back to a DERP relay), ICMP, and SSH from the admin networks; outbound ACCEPT.
 */
export class NodeFirewall extends Construct {
  public readonly firewall: Firewall;

  constructor(scope: Construct, id: string, props: NodeFirewallProps) {
    super(scope, id);
    const labelField = props.labelField ?? "firewall.label";
    // Firewall labels: 3-32 characters (the provider's limit), unique in the stack (Linode's rule).
    claimLinodeLabel(this, "firewall", props.label, labelField);
    if (props.tags !== undefined) requireLinodeTags("firewall.tags", props.tags);
    if (props.extraInbound !== undefined) requireLinodeFirewallRules("firewall.extraInbound", props.extraInbound);
    const port = props.tailscaleUdpPort ?? 41641;
    if (port !== false) requireIntegerInRange("firewall.tailscaleUdpPort", port, 1, 65535);
    // A literal list is checked here; a variable's list is checked by its own validation block.
    const cidrsAreToken = Token.isUnresolved(props.sshSourceCidrs);
    if (!cidrsAreToken) {
      props.sshSourceCidrs.forEach((c, i) => requireCidr(`firewall.sshSourceCidrs[${i}]`, c));
      requireNotEverywhere("firewall.sshSourceCidrs", props.sshSourceCidrs, { prop: "allowSshFromAnywhere", allowed: props.allowSshFromAnywhere });
    }

    const everywhere = { ipv4: ["0.0.0.0/0"], ipv6: ["::/0"] };
    // Linode wants IPv4 and IPv6 sources in separate lists; a runtime list is split by Terraform.
    const split = (cidrs: readonly string[]) => {
      if (!cidrsAreToken) {
        return { ipv4: cidrs.filter((c) => !c.includes(":")), ipv6: cidrs.filter((c) => c.includes(":")) };
      }
      const it = TerraformIterator.fromList(cidrs as string[]);
      return {
        ipv4: Token.asList(it.forExpressionForList('val if !strcontains(val, ":")')),
        ipv6: Token.asList(it.forExpressionForList('val if strcontains(val, ":")')),
      };
    };
    const inbound: FirewallInbound[] =
      port === false ? [] : [{ label: "tailscale-wireguard", action: "ACCEPT", protocol: "UDP", ports: String(port), ...everywhere }];
    if (props.allowIcmp ?? true) {
      // Linode's ICMP protocol covers ICMPv6 for the IPv6 sources.
      inbound.push({ label: "icmp", action: "ACCEPT", protocol: "ICMP", ...everywhere });
    }
    if (cidrsAreToken || props.sshSourceCidrs.length > 0) {
      const s = split(props.sshSourceCidrs);
      inbound.push({
        label: "ssh-admin",
        action: "ACCEPT",
        protocol: "TCP",
        ports: "22",
        ...(cidrsAreToken || s.ipv4.length ? { ipv4: s.ipv4 } : {}),
        ...(cidrsAreToken || s.ipv6.length ? { ipv6: s.ipv6 } : {}),
      });
    }
    if (props.peerRelayUdpPort !== undefined) {
      requireIntegerInRange("firewall.peerRelayUdpPort", props.peerRelayUdpPort, 1, 65535);
      if (props.peerRelayUdpPort === port) fail("firewall.peerRelayUdpPort", `${port} is already the WireGuard port; the relay server needs its own`);
      inbound.push({ label: "tailscale-peer-relay", action: "ACCEPT", protocol: "UDP", ports: String(props.peerRelayUdpPort), ...everywhere });
    }
    inbound.push(...(props.extraInbound ?? []));
    if (inbound.length > LINODE_FIREWALL_MAX_RULES) {
      fail("firewall.extraInbound", `makes ${inbound.length} inbound rules with the built-in ones; a Linode Cloud Firewall takes at most ${LINODE_FIREWALL_MAX_RULES}`);
    }

    this.firewall = new Firewall(this, "firewall", {
      label: props.label,
      inboundPolicy: "DROP",
      outboundPolicy: "ACCEPT",
      inbound,
      tags: props.tags ? [...props.tags] : undefined,
      // Nodes attach themselves at creation (linode_instance.firewall_id), so the firewall must not
      // try to reconcile its device list against what it did not create.
      lifecycle: { ignoreChanges: ["linodes"] },
    });
    this.firewall.overrideLogicalId(props.resourceName ?? "mesh");
  }
}
