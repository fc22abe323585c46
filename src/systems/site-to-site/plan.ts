/**
 * The HA site-to-site VPN, planned: every check and every value derived from the stack's options
 * (addresses, VRRP roles, tunnel inside addresses, IPsec proposals and timers) as a pure function.
 * The stack builds both clouds from the plan; the renderers write each daemon's configuration from
 * it; the rehearsal builds its network namespaces from the same plan, so all three share one set of
 * decisions.
 *
 * The AWS side assigns the tunnels' outside addresses, pre-shared keys and its BGP ASN when the VPN
 * connections are created; those reach the routers as Terraform references (RouterTunnelValues),
 * never as planned values.
 */
import {
  AWS_RESERVED_INSIDE_CIDRS,
  LINK_LOCAL_IPV4_RANGE,
  cidrHost,
  fail,
  prefixLength,
  requireAwsAvailabilityZone,
  requireAwsRegion,
  requireCidr,
  requireCidrInside,
  requireCidrOutside,
  requireDistinctFrom,
  requireHostAddress,
  requireHostname,
  requireInstanceType,
  requireIntegerInRange,
  requireKeyOf,
  requireIpv4Cidr,
  requireLinodeLabel,
  requireNoOverlap,
  requireNotEverywhere,
  requireOneOf,
  requirePrefixLength,
  requirePrivateAsn,
  requireRegion,
  requireTunnelInsideCidr,
  requireUnique,
} from "../../validation";
import { requireVlanLabel } from "../../linode/vpc";
import type { AwsFlowLogsOptions } from "../../aws/network";

// ---------------------------------------------------------------------------------------------
// IPsec proposals: what strongSwan calls them and what AWS's tunnel options call them.

export const ENCRYPTION_ALGORITHMS = { aes128: "AES128", aes256: "AES256" } as const;
export const INTEGRITY_ALGORITHMS = { sha256: "SHA2-256", sha384: "SHA2-384", sha512: "SHA2-512" } as const;
/** Diffie-Hellman groups both AWS and strongSwan offer (the weak 2, 5, 22-24 left out). */
export const DH_GROUPS = { 14: "modp2048", 15: "modp3072", 16: "modp4096", 19: "ecp256", 20: "ecp384", 21: "ecp521" } as const;

export type Encryption = keyof typeof ENCRYPTION_ALGORITHMS;
export type Integrity = keyof typeof INTEGRITY_ALGORITHMS;
export type DhGroup = keyof typeof DH_GROUPS;

export interface IpsecProposal {
  /** @default "aes128" */
  readonly encryption?: Encryption;
  /** @default "sha256" */
  readonly integrity?: Integrity;
  /** Also the PFS group of the ESP (phase 2) proposal. @default 14 (2048-bit MODP) */
  readonly dhGroup?: DhGroup;
}

export interface IpsecOptions {
  /** One proposal for IKE (phase 1) and ESP with PFS (phase 2), on the routers and AWS alike. */
  readonly proposal?: IpsecProposal;
  /** AWS's phase 1 lifetime, seconds (900-28800). @default 28800 */
  readonly ikeLifetimeSeconds?: number;
  /** AWS's phase 2 lifetime, seconds (900-3600, below phase 1). @default 3600 */
  readonly childLifetimeSeconds?: number;
  /** AWS's rekey margin, seconds (60 to half the phase 2 lifetime). @default 540 */
  readonly rekeyMarginSeconds?: number;
  /** AWS's rekey fuzz, percent (0-100). @default 100 */
  readonly rekeyFuzzPercent?: number;
  /** Seconds without traffic before the routers probe a tunnel (DPD). @default 10 */
  readonly dpdDelaySeconds?: number;
  /** Seconds without an answer before AWS declares a tunnel dead (30 or more). @default 30 */
  readonly awsDpdTimeoutSeconds?: number;
}

export interface RouterOptions {
  /** Linode label and hostname. @default "<namePrefix>-router-<n>" */
  readonly name?: string;
  /** Address on the VLAN. @default the VLAN's .2 (first router) and .3 (second) */
  readonly vlanAddress?: string;
  /** VRRP priority (1-254); the higher one is MASTER. @default 100 (first) and 99 (second), as the article */
  readonly priority?: number;
  /** Inside /30s of the router's two tunnels. @default 169.254.10.0/30 + .11.0/30 (first), .12/.13 (second) */
  readonly tunnelInsideCidrs?: readonly [string, string];
}

export interface ClientOptions {
  /** Linode label suffix (after "<namePrefix>-") and hostname. */
  readonly name: string;
  readonly vlanAddress: string;
  /** @default the stack's clientInstanceType */
  readonly instanceType?: string;
}

export interface ExistingVpcOptions {
  readonly vpcId: string;
  /** The VPC's IPv4 block (for the routers' BGP filters and the overlap check). */
  readonly cidr: string;
  /** Route tables that learn the VLAN's route from the VPN gateway (route propagation). */
  readonly routeTableIds: readonly string[];
}

export interface AwsSideOptions {
  /** @default "ap-northeast-1" */
  readonly region?: string;
  /** @default "<region>a" */
  readonly availabilityZone?: string;
  /** A new VPC's block. @default "10.0.0.0/24" (the article's) */
  readonly vpcCidr?: string;
  /** The new VPC's one subnet. @default the whole VPC */
  readonly subnetCidr?: string;
  /** Attach the VPN gateway to this VPC instead of creating one. */
  readonly existingVpc?: ExistingVpcOptions;
  /** A private EC2 instance (no public IP) that accepts what comes from the VLAN: a ping target. @default none */
  readonly testHost?: boolean | { readonly address?: string; readonly instanceType?: string };
  /** Amazon-side ASN of the VPN gateway. @default 64512 (AWS's default) */
  readonly amazonSideAsn?: number;
  /** The new VPC's flow logs into CloudWatch Logs (ALL traffic, kept 365 days); `false` for none. @default on (new VPC only) */
  readonly flowLogs?: AwsFlowLogsOptions | false;
}

export interface SiteToSiteOptions {
  /** Prefix of every label and Name tag. @default "s2s" */
  readonly namePrefix?: string;
  /** @default "ap-northeast" (Tokyo 2) */
  readonly linodeRegion?: string;
  readonly aws?: AwsSideOptions;
  /** The Linode VLAN the routers and clients share. @default { label: "<namePrefix>-vlan", cidr: "10.0.1.0/24" } */
  readonly vlan?: { readonly label?: string; readonly cidr?: string };
  /** The VRRP address clients route through. @default the VLAN's .200 (the article's 10.0.1.200) */
  readonly virtualIp?: string;
  /** VRRP virtual router ID (1-255), unique on the VLAN. @default 10 */
  readonly virtualRouterId?: number;
  /** Exactly two routers (MASTER and BACKUP). */
  readonly routers?: readonly [RouterOptions, RouterOptions];
  /** Instances on the VLAN that route the AWS VPC through the VIP. @default one, "client-1" at the VLAN's .10 */
  readonly clients?: readonly ClientOptions[];
  /** The routers' BGP ASN (one AS, iBGP between them). @default 65000 (the article's) */
  readonly customerAsn?: number;
  readonly ipsec?: IpsecOptions;
  /** @default "linode/debian12" (the Debian release the rehearsal's daemons come from) */
  readonly routerImage?: string;
  /** @default "linode/ubuntu24.04" (systemd-networkd reads the client's route file) */
  readonly clientImage?: string;
  /** @default "g6-nanode-1" */
  readonly routerInstanceType?: string;
  /** @default "g6-nanode-1" */
  readonly clientInstanceType?: string;
  /** Networks that may SSH to the routers (configuration delivery). @default none: set TF_VAR_admin_cidrs */
  readonly adminCidrs?: readonly string[];
  /** Accept 0.0.0.0/0 or ::/0 in adminCidrs. @default false */
  readonly allowSshFromAnywhere?: boolean;
}

export interface TunnelPlan {
  /** 1 or 2: AWS's tunnel1_* / tunnel2_* attributes. */
  readonly index: 1 | 2;
  readonly insideCidr: string;
  /** The customer gateway's (router's) inside address: the /30's second address. */
  readonly cgwInsideAddress: string;
  /** AWS's inside address, the BGP neighbour: the /30's first address. */
  readonly vgwInsideAddress: string;
  /** Route-based: the XFRM interface and its if_id. */
  readonly interfaceName: string;
  readonly ifId: number;
}

export interface RouterPlan {
  /** Stable key: logical IDs (router_1, router_2) never change when a router is renamed. */
  readonly key: "router_1" | "router_2";
  readonly name: string;
  readonly vlanAddress: string;
  readonly priority: number;
  readonly state: "MASTER" | "BACKUP";
  /** The article's names: Instance1 on the first router, Instance2 on the second. */
  readonly vrrpInstance: string;
  readonly tunnels: readonly [TunnelPlan, TunnelPlan];
}

export interface ClientPlan {
  readonly key: string;
  readonly name: string;
  readonly label: string;
  readonly vlanAddress: string;
  readonly instanceType: string;
}

export interface IpsecPlan {
  readonly encryption: Encryption;
  readonly integrity: Integrity;
  readonly dhGroup: DhGroup;
  /** strongSwan proposal, e.g. aes128-sha256-modp2048 (IKE, and ESP with PFS). */
  readonly proposal: string;
  readonly ikeLifetimeSeconds: number;
  readonly childLifetimeSeconds: number;
  readonly rekeyMarginSeconds: number;
  readonly rekeyFuzzPercent: number;
  /** Our rekey times: a minute before AWS's earliest rekey (lifetime - margin x (1 + fuzz)). */
  readonly ikeRekeySeconds: number;
  readonly childRekeySeconds: number;
  readonly dpdDelaySeconds: number;
  readonly awsDpdTimeoutSeconds: number;
  /** charon's retransmission: timeout x base^n for n = 0..tries; together the DPD timeout. */
  readonly retransmit: { readonly timeout: number; readonly base: number; readonly tries: number };
  /** Longest time from the last packet heard to a tunnel declared dead on the routers. */
  readonly routerDeadAfterSeconds: number;
}

export type AwsVpcPlan =
  | { readonly mode: "new"; readonly vpcCidr: string; readonly subnetCidr: string; readonly availabilityZone: string; readonly flowLogs?: AwsFlowLogsOptions | false }
  | { readonly mode: "existing"; readonly vpcId: string; readonly vpcCidr: string; readonly routeTableIds: readonly string[] };

export interface SiteToSitePlan {
  readonly namePrefix: string;
  readonly linodeRegion: string;
  readonly awsRegion: string;
  readonly vlan: { readonly label: string; readonly cidr: string };
  readonly virtualIp: string;
  readonly virtualRouterId: number;
  readonly routers: readonly [RouterPlan, RouterPlan];
  readonly clients: readonly ClientPlan[];
  readonly customerAsn: number;
  readonly amazonSideAsn: number;
  readonly aws: AwsVpcPlan;
  readonly testHost?: { readonly address?: string; readonly instanceType: string };
  readonly ipsec: IpsecPlan;
  /** AWS's BGP timers (keepalive 10 s, hold 30 s) and how often a down session is retried. */
  readonly bgp: { readonly keepaliveSeconds: number; readonly holdSeconds: number; readonly connectRetrySeconds: number };
  /** Interface names on the Linodes: the public interface first, the VLAN second. */
  readonly interfaces: { readonly public: string; readonly vlan: string };
  readonly routerImage: string;
  readonly clientImage: string;
  readonly routerInstanceType: string;
  readonly adminCidrs?: readonly string[];
  readonly allowSshFromAnywhere: boolean;
}

export const SITE_TO_SITE_DEFAULTS = {
  namePrefix: "s2s",
  linodeRegion: "ap-northeast",
  awsRegion: "ap-northeast-1",
  vpcCidr: "10.0.0.0/24",
  vlanCidr: "10.0.1.0/24",
  virtualRouterId: 10,
  customerAsn: 65000,
  amazonSideAsn: 64512,
  priorities: [100, 99] as const,
  insideCidrs: [
    ["169.254.10.0/30", "169.254.11.0/30"],
    ["169.254.12.0/30", "169.254.13.0/30"],
  ] as const,
  routerImage: "linode/debian12",
  clientImage: "linode/ubuntu24.04",
  instanceType: "g6-nanode-1",
  testHostInstanceType: "t3.micro",
} as const;

/** Images whose apt repositories carry charon-systemd, strongswan-swanctl, frr and keepalived. */
export const ROUTER_IMAGES = ["linode/debian12", "linode/ubuntu22.04", "linode/ubuntu24.04"] as const;
/** Images that configure their network with systemd-networkd (the client's route file). */
export const CLIENT_IMAGES = ["linode/ubuntu22.04", "linode/ubuntu24.04"] as const;

/** charon's retransmission for DPD: 2 + 3 + 4.5 + 6.75 = 16.25 s after the first unanswered probe. */
const RETRANSMIT = { timeout: 2, base: 1.5, tries: 3 } as const;
/** AWS's BGP timers for VPN tunnels. */
const AWS_BGP = { keepaliveSeconds: 10, holdSeconds: 30 } as const;
/** AWS keeps the first four and the last address of every subnet. */
const AWS_RESERVED_FIRST = 4;
const AWS_RESERVED_LAST = 1;

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

function retransmitTotal(r: { timeout: number; base: number; tries: number }): number {
  let total = 0;
  for (let n = 0; n <= r.tries; n++) total += r.timeout * r.base ** n;
  return Math.round(total * 100) / 100;
}

function planIpsec(o: IpsecOptions = {}): IpsecPlan {
  const p = o.proposal ?? {};
  const encryption = requireKeyOf<Encryption>("ipsec.proposal.encryption", p.encryption ?? "aes128", ENCRYPTION_ALGORITHMS);
  const integrity = requireKeyOf<Integrity>("ipsec.proposal.integrity", p.integrity ?? "sha256", INTEGRITY_ALGORITHMS);
  // Own keys only, and numbers only: "toString" or "14" is no group.
  const dhGroup = requireKeyOf<DhGroup>("ipsec.proposal.dhGroup", p.dhGroup ?? 14, DH_GROUPS, "Diffie-Hellman groups AWS and strongSwan share", true);
  const ikeLifetimeSeconds = requireIntegerInRange("ipsec.ikeLifetimeSeconds", o.ikeLifetimeSeconds ?? 28800, 900, 28800);
  const childLifetimeSeconds = requireIntegerInRange("ipsec.childLifetimeSeconds", o.childLifetimeSeconds ?? 3600, 900, 3600);
  if (childLifetimeSeconds >= ikeLifetimeSeconds) fail("ipsec.childLifetimeSeconds", `${childLifetimeSeconds} must be below ipsec.ikeLifetimeSeconds (${ikeLifetimeSeconds}), as AWS requires`);
  const rekeyMarginSeconds = requireIntegerInRange("ipsec.rekeyMarginSeconds", o.rekeyMarginSeconds ?? 540, 60, Math.floor(childLifetimeSeconds / 2));
  const rekeyFuzzPercent = requireIntegerInRange("ipsec.rekeyFuzzPercent", o.rekeyFuzzPercent ?? 100, 0, 100);
  // AWS rekeys at lifetime - margin - random(0, margin x fuzz): our side goes a minute before that.
  const awsEarliest = (lifetime: number) => lifetime - Math.ceil(rekeyMarginSeconds * (1 + rekeyFuzzPercent / 100));
  const ikeRekeySeconds = awsEarliest(ikeLifetimeSeconds) - 60;
  const childRekeySeconds = awsEarliest(childLifetimeSeconds) - 60;
  if (childRekeySeconds < 300) {
    fail("ipsec.rekeyMarginSeconds", `${rekeyMarginSeconds} with ${rekeyFuzzPercent}% fuzz leaves the routers ${childRekeySeconds} s to rekey before AWS does; lower the margin or the fuzz`);
  }
  const dpdDelaySeconds = requireIntegerInRange("ipsec.dpdDelaySeconds", o.dpdDelaySeconds ?? 10, 2, 60);
  const awsDpdTimeoutSeconds = requireIntegerInRange("ipsec.awsDpdTimeoutSeconds", o.awsDpdTimeoutSeconds ?? 30, 30, 3600);
  const routerDeadAfterSeconds = dpdDelaySeconds + retransmitTotal(RETRANSMIT);
  if (routerDeadAfterSeconds >= awsDpdTimeoutSeconds) {
    fail(
      "ipsec.dpdDelaySeconds",
      `${dpdDelaySeconds} makes the routers declare a dead tunnel after up to ${routerDeadAfterSeconds} s, not before AWS's ${awsDpdTimeoutSeconds} s (ipsec.awsDpdTimeoutSeconds); use at most ${Math.ceil(awsDpdTimeoutSeconds - retransmitTotal(RETRANSMIT)) - 1}`,
    );
  }
  return {
    encryption,
    integrity,
    dhGroup,
    proposal: `${encryption}-${integrity}-${DH_GROUPS[dhGroup]}`,
    ikeLifetimeSeconds,
    childLifetimeSeconds,
    rekeyMarginSeconds,
    rekeyFuzzPercent,
    ikeRekeySeconds,
    childRekeySeconds,
    dpdDelaySeconds,
    awsDpdTimeoutSeconds,
    retransmit: { ...RETRANSMIT },
    routerDeadAfterSeconds,
  };
}

function planAwsVpc(o: AwsSideOptions, region: string): AwsVpcPlan {
  if (o.existingVpc) {
    const e = o.existingVpc;
    for (const k of ["vpcCidr", "subnetCidr", "availabilityZone", "flowLogs"] as const) {
      if (o[k] !== undefined) fail(`aws.${k}`, "only applies to a new VPC; aws.existingVpc is set, so remove it");
    }
    if (typeof e.vpcId !== "string" || !/^vpc-[0-9a-f]{8,17}$/.test(e.vpcId)) fail("aws.existingVpc.vpcId", `${JSON.stringify(e.vpcId)} is not a VPC ID such as vpc-0123456789abcdef0`);
    requireIpv4Cidr("aws.existingVpc.cidr", e.cidr);
    if (!Array.isArray(e.routeTableIds) || e.routeTableIds.length === 0) {
      fail("aws.existingVpc.routeTableIds", "must list the route tables that should learn the VLAN's route (at least one)");
    }
    e.routeTableIds.forEach((id, i) => {
      if (typeof id !== "string" || !/^rtb-[0-9a-f]{8,17}$/.test(id)) fail(`aws.existingVpc.routeTableIds[${i}]`, `${JSON.stringify(id)} is not a route table ID such as rtb-0123456789abcdef0`);
    });
    requireUnique("aws.existingVpc.routeTableIds", e.routeTableIds);
    return { mode: "existing", vpcId: e.vpcId, vpcCidr: e.cidr, routeTableIds: [...e.routeTableIds] };
  }
  const vpcCidr = o.vpcCidr ?? SITE_TO_SITE_DEFAULTS.vpcCidr;
  requireIpv4Cidr("aws.vpcCidr", vpcCidr);
  requirePrefixLength("aws.vpcCidr", vpcCidr, 16, 28, "an AWS VPC");
  const subnetCidr = o.subnetCidr ?? vpcCidr;
  requireIpv4Cidr("aws.subnetCidr", subnetCidr);
  requirePrefixLength("aws.subnetCidr", subnetCidr, 16, 28, "an AWS subnet");
  requireCidrInside("aws.subnetCidr", subnetCidr, vpcCidr, "aws.vpcCidr");
  const availabilityZone = o.availabilityZone ?? `${region}a`;
  requireAwsAvailabilityZone("aws.availabilityZone", availabilityZone, region);
  return { mode: "new", vpcCidr, subnetCidr, availabilityZone, ...(o.flowLogs !== undefined ? { flowLogs: o.flowLogs } : {}) };
}

export function planSiteToSite(o: SiteToSiteOptions = {}): SiteToSitePlan {
  const d = SITE_TO_SITE_DEFAULTS;
  const namePrefix = o.namePrefix ?? d.namePrefix;
  if (typeof namePrefix !== "string" || !NAME.test(namePrefix) || namePrefix.length > 30) {
    fail("namePrefix", `${JSON.stringify(namePrefix)} must be 1-30 lower-case letters, digits and '-', starting and ending with a letter or digit`);
  }
  const linodeRegion = o.linodeRegion ?? d.linodeRegion;
  requireRegion("linodeRegion", linodeRegion);
  const awsOpts = o.aws ?? {};
  const awsRegion = awsOpts.region ?? d.awsRegion;
  requireAwsRegion("aws.region", awsRegion);

  // --- ASNs: both private; the two ends of each eBGP session must differ.
  const customerAsn = requirePrivateAsn("customerAsn", o.customerAsn ?? d.customerAsn);
  const amazonSideAsn = requirePrivateAsn("aws.amazonSideAsn", awsOpts.amazonSideAsn ?? d.amazonSideAsn);
  requireDistinctFrom("customerAsn", customerAsn, [{ field: "aws.amazonSideAsn", value: amazonSideAsn }], "eBGP needs a different AS on each end (the same AS would drop AWS's routes as a loop)");

  // --- Networks on both clouds: valid, outside the link-local range the tunnels use, disjoint.
  const aws = planAwsVpc(awsOpts, awsRegion);
  const vlanCidr = o.vlan?.cidr ?? d.vlanCidr;
  requireCidr("vlan.cidr", vlanCidr);
  requireIpv4Cidr("vlan.cidr", vlanCidr);
  requirePrefixLength("vlan.cidr", vlanCidr, 8, 29, "the VLAN (room for two routers, the VIP and clients)");
  const vpcField = aws.mode === "new" ? "aws.vpcCidr" : "aws.existingVpc.cidr";
  requireCidrOutside("vlan.cidr", vlanCidr, [LINK_LOCAL_IPV4_RANGE], "the link-local range the tunnels' inside addresses use");
  requireCidrOutside(vpcField, aws.vpcCidr, [LINK_LOCAL_IPV4_RANGE], "the link-local range the tunnels' inside addresses use");
  requireNoOverlap(
    [
      { field: vpcField, cidr: aws.vpcCidr },
      { field: "vlan.cidr", cidr: vlanCidr },
    ],
    "the AWS VPC and the Linode VLAN must not overlap (each side routes the other's block through the tunnels)",
  );
  const vlanLabel = o.vlan?.label ?? `${namePrefix}-vlan`;
  requireVlanLabel("vlan.label", vlanLabel);

  // --- VLAN addresses: hosts of the VLAN (not its network or broadcast address), all distinct.
  const host = (field: string, addr: unknown) => requireHostAddress(field, addr as string, vlanCidr, "vlan.cidr", 1, 1);
  const taken: { field: string; value: string }[] = [];
  const claim = (field: string, addr: string) => {
    host(field, addr);
    requireDistinctFrom(field, addr, taken, "every address on the VLAN must be unique");
    taken.push({ field, value: addr });
  };
  const routerOpts = o.routers ?? [{}, {}];
  if (!Array.isArray(routerOpts) || routerOpts.length !== 2) {
    fail("routers", `must list exactly two routers (the MASTER and the BACKUP), not ${Array.isArray(routerOpts) ? routerOpts.length : JSON.stringify(routerOpts)}`);
  }
  const virtualIp = o.virtualIp ?? safeHost(vlanCidr, 200, "virtualIp");
  const routerAddresses = routerOpts.map((r, i) => r.vlanAddress ?? safeHost(vlanCidr, 2 + i, `routers[${i}].vlanAddress`));
  routerAddresses.forEach((a, i) => claim(`routers[${i}].vlanAddress`, a));
  // The VIP moves between the routers; it must not be an address one of them owns.
  claim("virtualIp", virtualIp);
  const virtualRouterId = requireIntegerInRange("virtualRouterId", o.virtualRouterId ?? d.virtualRouterId, 1, 255);

  // --- VRRP priorities: distinct (the higher is MASTER), 1-254 (255 means the address owner).
  const priorities = routerOpts.map((r, i) => requireIntegerInRange(`routers[${i}].priority`, r.priority ?? d.priorities[i], 1, 254));
  requireDistinctFrom("routers[1].priority", priorities[1], [{ field: "routers[0].priority", value: priorities[0] }], "VRRP elects the higher priority as MASTER, so the two must differ");

  // --- Tunnel inside /30s: valid, not reserved by AWS, four distinct blocks.
  const insideFields: { field: string; cidr: string }[] = [];
  const routers = routerOpts.map((r, i): RouterPlan => {
    const name = r.name ?? `${namePrefix}-router-${i + 1}`;
    requireHostname(`routers[${i}].name`, name);
    requireLinodeLabel(`routers[${i}].name`, name);
    const cidrs = r.tunnelInsideCidrs ?? d.insideCidrs[i];
    if (!Array.isArray(cidrs) || cidrs.length !== 2) fail(`routers[${i}].tunnelInsideCidrs`, "must list two /30s, one per tunnel of the router's VPN connection");
    const tunnels = cidrs.map((c, t): TunnelPlan => {
      const field = `routers[${i}].tunnelInsideCidrs[${t}]`;
      requireTunnelInsideCidr(field, c);
      insideFields.push({ field, cidr: c });
      return {
        index: (t + 1) as 1 | 2,
        insideCidr: c,
        cgwInsideAddress: cidrHost(c, 2),
        vgwInsideAddress: cidrHost(c, 1),
        interfaceName: `xfrm${t + 1}`,
        ifId: t + 1,
      };
    }) as unknown as [TunnelPlan, TunnelPlan];
    return {
      key: i === 0 ? "router_1" : "router_2",
      name,
      vlanAddress: routerAddresses[i],
      priority: priorities[i],
      state: priorities[i] > priorities[1 - i] ? "MASTER" : "BACKUP",
      vrrpInstance: `Instance${i + 1}`,
      tunnels,
    };
  }) as unknown as [RouterPlan, RouterPlan];
  requireNoOverlap(insideFields, "each tunnel needs its own inside /30");
  requireUnique("routers[].name", routers.map((r) => r.name));

  // --- Clients.
  const clientType = o.clientInstanceType ?? d.instanceType;
  requireInstanceType("clientInstanceType", clientType);
  const clientOpts = o.clients ?? [{ name: "client-1", vlanAddress: safeHost(vlanCidr, 10, "clients[0].vlanAddress") }];
  if (!Array.isArray(clientOpts)) fail("clients", "must be a list (empty for none)");
  const clients = clientOpts.map((c, i): ClientPlan => {
    requireHostname(`clients[${i}].name`, c.name);
    const label = `${namePrefix}-${c.name}`;
    requireLinodeLabel(`clients[${i}] label (namePrefix + name)`, label);
    claim(`clients[${i}].vlanAddress`, c.vlanAddress);
    const instanceType = c.instanceType ?? clientType;
    requireInstanceType(`clients[${i}].instanceType`, instanceType);
    return { key: `client_${c.name.replace(/-/g, "_")}`, name: c.name, label, vlanAddress: c.vlanAddress, instanceType };
  });
  requireUnique("clients[].name", clients.map((c) => c.name));

  // --- The AWS test host.
  let testHost: SiteToSitePlan["testHost"];
  if (awsOpts.testHost) {
    if (aws.mode !== "new") fail("aws.testHost", "needs the VPC this stack creates (aws.existingVpc is set); remove one of them");
    const t = awsOpts.testHost === true ? {} : awsOpts.testHost;
    const instanceType = t.instanceType ?? d.testHostInstanceType;
    if (!/^[a-z]+\d+[a-z-]*\.[a-z0-9]+$/.test(instanceType)) fail("aws.testHost.instanceType", `${JSON.stringify(instanceType)} is not an EC2 instance type such as t3.micro`);
    if (t.address !== undefined) requireHostAddress("aws.testHost.address", t.address, aws.subnetCidr, "aws.subnetCidr", AWS_RESERVED_FIRST, AWS_RESERVED_LAST);
    testHost = { address: t.address, instanceType };
  }

  // --- Images, plans, admin access.
  const routerImage = requireOneOf("routerImage", o.routerImage ?? d.routerImage, ROUTER_IMAGES);
  const clientImage = requireOneOf("clientImage", o.clientImage ?? d.clientImage, CLIENT_IMAGES);
  const routerInstanceType = o.routerInstanceType ?? d.instanceType;
  requireInstanceType("routerInstanceType", routerInstanceType);
  if (o.adminCidrs !== undefined) {
    if (!Array.isArray(o.adminCidrs) || o.adminCidrs.length === 0) fail("adminCidrs", "must list at least one network (or leave it out and set TF_VAR_admin_cidrs)");
    o.adminCidrs.forEach((c, i) => requireCidr(`adminCidrs[${i}]`, c));
    requireNotEverywhere("adminCidrs", o.adminCidrs, { prop: "allowSshFromAnywhere", allowed: o.allowSshFromAnywhere });
  }

  return {
    namePrefix,
    linodeRegion,
    awsRegion,
    vlan: { label: vlanLabel, cidr: vlanCidr },
    virtualIp,
    virtualRouterId,
    routers,
    clients,
    customerAsn,
    amazonSideAsn,
    aws,
    testHost,
    ipsec: planIpsec(o.ipsec),
    bgp: { ...AWS_BGP, connectRetrySeconds: 10 },
    interfaces: { public: "eth0", vlan: "eth1" },
    routerImage,
    clientImage,
    routerInstanceType,
    adminCidrs: o.adminCidrs ? [...o.adminCidrs] : undefined,
    allowSshFromAnywhere: o.allowSshFromAnywhere ?? false,
  };
}

/** The n-th address of the VLAN as a default, or a message naming the field to set instead. */
function safeHost(cidr: string, n: number, field: string): string {
  const size = 2 ** (32 - prefixLength(cidr));
  if (n >= size - 1) fail(field, `has no default in vlan.cidr ${cidr} (the default is the block's address number ${n}); set it`);
  return cidrHost(cidr, n);
}

/** The reserved inside /30s, re-exported for documentation and tests. */
export { AWS_RESERVED_INSIDE_CIDRS };
