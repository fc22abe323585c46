/**
 * Linode VPCs: a `linode_vpc` with its `linode_vpc_subnet`s, and the interface blocks that attach an
 * instance to them (and to a VLAN). Subnet rules are the API's: an RFC 1918 range, prefix /1 to /29, not overlapping
 * 192.168.128.0/17 (Linode's private-IP range) nor another subnet of the VPC.
 *
 * A VPC interface only sends packets whose source is its own VPC address or one of its `ip_ranges`,
 * and `ip_ranges` are VPC subnet ranges routed to the interface. So a Linode can forward into its
 * VPC only traffic it has given its own source address (SNAT), or traffic from VPC ranges.
 */
import { Token } from "cdktf";
import { Construct } from "constructs";
import { InstanceInterface } from "../../.gen/providers/linode/instance";
import { Vpc } from "../../.gen/providers/linode/vpc";
import { VpcSubnet } from "../../.gen/providers/linode/vpc-subnet";
import {
  RFC1918_RANGES,
  claimLinodeLabel,
  fail,
  requireVlanLabel,
  requireVpcLabel,
  requireCidrInsideOneOf,
  requireCidrOutside,
  requireHostAddress,
  requireIpv4Cidr,
  requireNoOverlap,
  requirePrefixLength,
  requireRegion,
  requireUnique,
} from "../validation";

/** Linode's own private-IP range; VPC subnets must stay out of it. */
export const LINODE_PRIVATE_IP_RANGE = "192.168.128.0/17";
/** Addresses a VPC subnet keeps for itself: the network and gateway at the start, the broadcast at the end. */
export const LINODE_VPC_RESERVED_FIRST = 2;
export const LINODE_VPC_RESERVED_LAST = 1;

// Label rules live with the other provider and API rules (src/validation/providers.ts).
export { requireVlanLabel, requireVpcLabel };

/** Checks one subnet range against the API's rules. */
export function requireLinodeVpcSubnetRange(field: string, cidr: string): void {
  requireIpv4Cidr(field, cidr);
  requirePrefixLength(field, cidr, 1, 29, "a Linode VPC subnet");
  requireCidrInsideOneOf(field, cidr, RFC1918_RANGES, "RFC 1918 private space, which Linode VPC subnets must use");
  requireCidrOutside(field, cidr, [LINODE_PRIVATE_IP_RANGE], "Linode's private-IP range, which VPC subnets must not overlap");
}

/** A usable VPC address of `cidr` (not one of the reserved addresses). */
export function requireLinodeVpcAddress(field: string, address: string, cidr: string, cidrField: string): void {
  requireHostAddress(field, address, cidr, cidrField, LINODE_VPC_RESERVED_FIRST, LINODE_VPC_RESERVED_LAST);
}

export interface LinodeVpcSubnetSpec {
  /** The subnet's label and its key in `subnets`. */
  readonly name: string;
  readonly cidr: string;
}

export interface LinodeVpcProps {
  readonly label: string;
  readonly region: string;
  readonly description?: string;
  readonly subnets: readonly LinodeVpcSubnetSpec[];
  /** Field name errors use for the label. @default "vpc label" */
  readonly labelField?: string;
  /** Field name errors use for the subnet list. @default "subnets" */
  readonly subnetsField?: string;
  /** Logical ID of the VPC; subnets get `<name>_<subnet>`. @default "vpc" */
  readonly resourceName?: string;
}

export class LinodeVpc extends Construct {
  public readonly vpc: Vpc;
  public readonly subnets: Readonly<Record<string, VpcSubnet>>;

  constructor(scope: Construct, id: string, props: LinodeVpcProps) {
    super(scope, id);
    // Unique among the account's VPCs (Linode's rule): checked across the stack.
    claimLinodeLabel(this, "vpc", props.label, props.labelField ?? "vpc label");
    requireRegion("region", props.region);
    const field = props.subnetsField ?? "subnets";
    if (!Array.isArray(props.subnets) || props.subnets.length === 0) fail(field, "must list at least one subnet");
    props.subnets.forEach((s, i) => {
      requireVpcLabel(`${field}[${i}].name`, s.name);
      requireLinodeVpcSubnetRange(`${field}[${i}].cidr`, s.cidr);
    });
    requireUnique(`${field}[].name`, props.subnets.map((s) => s.name));
    requireNoOverlap(props.subnets.map((s, i) => ({ field: `${field}[${i}].cidr`, cidr: s.cidr })));

    const name = props.resourceName ?? "vpc";
    this.vpc = new Vpc(this, "vpc", { label: props.label, region: props.region, description: props.description });
    this.vpc.overrideLogicalId(name);
    this.subnets = Object.fromEntries(
      props.subnets.map((s) => {
        const subnet = new VpcSubnet(this, `subnet-${s.name}`, { vpcId: Token.asNumber(this.vpc.id), label: s.name, ipv4: s.cidr });
        subnet.overrideLogicalId(`${name}_${s.name}`);
        return [s.name, subnet];
      }),
    );
  }

  /** The subnet's numeric ID, as `interface.subnet_id` wants it. */
  subnetId(name: string): number {
    const s = this.subnets[name];
    if (!s) fail("subnet", `${JSON.stringify(name)} is not a subnet of this VPC (${Object.keys(this.subnets).join(", ")})`);
    return Token.asNumber(s.id);
  }
}

/** The public internet interface (eth0 when listed first): the Linode's public IPv4/IPv6. */
export function publicInterface(primary = true): InstanceInterface {
  return { purpose: "public", primary };
}

export interface VpcInterfaceOptions {
  readonly subnetId: number;
  /** The interface's VPC address. @default one the API picks */
  readonly address?: string;
  /** "any": 1:1 NAT of the Linode's public IPv4 to this address (for VPC-only Linodes that need the internet). */
  readonly natOneToOne?: "any";
  /** Extra VPC ranges routed to this interface (and accepted as its source addresses). */
  readonly ipRanges?: readonly string[];
  /** Holds the default route. @default false */
  readonly primary?: boolean;
}

/** A `purpose = "vpc"` interface block. */
export function vpcInterface(o: VpcInterfaceOptions): InstanceInterface {
  (o.ipRanges ?? []).forEach((r, i) => requireIpv4Cidr(`ipRanges[${i}]`, r));
  return {
    purpose: "vpc",
    subnetId: o.subnetId,
    // Always present, even empty: its address is then computed (known after apply), where an absent
    // block would plan as an empty list and `interface[n].ipv4[0].vpc` could not be referenced.
    ipv4: { vpc: o.address, nat11: o.natOneToOne },
    ...(o.ipRanges?.length ? { ipRanges: [...o.ipRanges] } : {}),
    ...(o.primary ? { primary: true } : {}),
  };
}

/**
 * A `purpose = "vlan"` interface block: a layer-2 segment shared by every Linode in the region with
 * the same label (broadcast and multicast pass, so VRRP works). `ipamAddress` is the interface's
 * address in CIDR notation (e.g. "10.0.1.2/24"), which Network Helper configures at boot. A VLAN
 * can't be a Linode's primary interface, and Cloud Firewalls don't apply to it.
 */
export function vlanInterface(o: { readonly label: string; readonly ipamAddress: string }): InstanceInterface {
  requireVlanLabel("vlan.label", o.label);
  return { purpose: "vlan", label: o.label, ipamAddress: o.ipamAddress };
}
