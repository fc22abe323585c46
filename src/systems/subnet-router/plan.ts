/**
 * The subnet router, planned: every check and every derived value (routes advertised, the router's
 * flags, the forwarding file, the routes the private network needs back) as a pure function of the
 * stack's options. The stacks build resources from the plan; the rehearsal builds network namespaces
 * from the same plan, so both run on one set of decisions.
 *
 * Address rules. A deployment ("deployment" rules) must keep its private network out of the
 * tailnet's own ranges, and on Linode inside RFC 1918. A rehearsal on this machine may only use
 * 100.64.0.0/10 and 169.254.0.0/16, exactly what a deployment must not: "rehearsal" rules swap
 * those range rules (and only those) for "every address in the lab ranges". The stacks always plan
 * with "deployment" rules; nothing a stack accepts turns them off.
 */
import { SYSCTL_FORWARDING_PATH, renderForwardingSysctl } from "../../tailnet/bootstrap/sysctl";
import {
  LINK_LOCAL_IPV4_RANGE,
  TAILNET_IPV4_RANGE,
  addressInCidr,
  cidrContains,
  fail,
  requireAwsAvailabilityZone,
  requireAwsRegion,
  requireCidr,
  requireCidrInside,
  requireCidrInsideOneOf,
  requireHostAddress,
  requireHostname,
  requireInstanceType,
  requireIntegerInRange,
  requireIpv4Cidr,
  requireNoOverlap,
  requireOutsideTailnet,
  requirePrefixLength,
  requireRegion,
  requireUnique,
} from "../../validation";
import {
  LINODE_VPC_RESERVED_FIRST,
  LINODE_VPC_RESERVED_LAST,
  requireLinodeVpcSubnetRange,
  requireVpcLabel,
} from "../../linode/vpc";
import { AMAZON_LINUX_2023, Distro, distroForImage } from "../../tailnet/bootstrap/distro";
import { architectureOf, CpuArchitecture } from "../../aws/amazon-linux";

export type AddressRules = "deployment" | "rehearsal";
/** Where a rehearsal's addresses must come from (the project's network-test rule). */
export const LAB_RANGES: readonly string[] = [TAILNET_IPV4_RANGE, LINK_LOCAL_IPV4_RANGE];

/** How the router forwards; the same options on both platforms. */
export interface RouterRoutingOptions {
  /**
   * Masquerade forwarded traffic as the router, Tailscale's default: hosts in the network see the
   * router's address and need no route back. false keeps tailnet source addresses (see each
   * platform for what that needs). @default true
   */
  readonly snatSubnetRoutes?: boolean;
  /** Also offer the router as an exit node (approved by the policy like the routes). @default false */
  readonly advertiseExitNode?: boolean;
  /** Routes to advertise. @default the network (each platform says which) */
  readonly advertiseRoutes?: readonly string[];
}

/** A private instance in the network, to prove reachability through the router. */
export interface TargetOptions {
  /** Subnet (by name) the target sits in. @default the first private subnet (AWS), the router's subnet (Linode) */
  readonly subnet?: string;
  /** Its address. @default one the cloud picks */
  readonly address?: string;
  /** TCP port of its probe service (a static HTTP page). @default 8080 */
  readonly port?: number;
  readonly instanceType?: string;
}

/** What both platforms' plans share. */
export interface SubnetRouterPlan {
  readonly platform: "linode" | "aws";
  /** Tailnet and system hostname of the router. */
  readonly hostname: string;
  readonly advertiseRoutes: readonly string[];
  readonly snatSubnetRoutes: boolean;
  readonly advertiseExitNode: boolean;
  /** The block the router's private interface is in. */
  readonly routerSubnet: string;
  /** The router's private address, when the options fix it (else the cloud picks). */
  readonly routerAddress?: string;
  readonly target?: { readonly subnetName: string; readonly subnet: string; readonly address?: string; readonly port: number; readonly instanceType: string };
  /** Destinations the private network must route through the router (only with SNAT off). */
  readonly returnRoutes: readonly string[];
  /** The file the router installs (persisted across reboots) and applies with `sysctl -p`. */
  readonly forwarding: { readonly path: string; readonly content: string };
  /** The router's OS release (which package repository its script uses). */
  readonly distro: Distro;
}

/** Ranges every address must stay in (rehearsal) or out of (deployment); range rules only. */
function rangeRules(rules: AddressRules, field: string, cidr: string): void {
  if (rules === "rehearsal") {
    requireCidrInsideOneOf(field, cidr, LAB_RANGES, "the ranges rehearsals may use");
  } else {
    requireOutsideTailnet(field, cidr);
  }
}

function checkRouting(o: RouterRoutingOptions): { snat: boolean; exitNode: boolean } {
  const snat = o.snatSubnetRoutes ?? true;
  const exitNode = o.advertiseExitNode ?? false;
  if (typeof snat !== "boolean") fail("snatSubnetRoutes", "must be true or false");
  if (typeof exitNode !== "boolean") fail("advertiseExitNode", "must be true or false");
  if (!snat && exitNode) {
    fail(
      "snatSubnetRoutes",
      "false cannot be combined with advertiseExitNode: Tailscale then stops masquerading exit-node traffic too (tailscale/tailscale#18725), which leaves with tailnet source addresses and is dropped; run the exit node on another machine",
    );
  }
  return { snat, exitNode };
}

/** Advertised routes: valid IPv4 blocks, unique, inside `within` (the network), range rules. */
function checkRoutes(rules: AddressRules, routes: readonly string[], within: readonly { cidr: string; field: string }[], what: string): string[] {
  if (!Array.isArray(routes) || routes.length === 0) fail("advertiseRoutes", "must list at least one route (or leave it out for the default)");
  routes.forEach((r, i) => {
    const field = `advertiseRoutes[${i}]`;
    // Any family first, so an address in the tailnet's IPv6 range gets that message, not "not IPv4".
    requireCidr(field, r);
    rangeRules(rules, field, r);
    requireIpv4Cidr(field, r);
    if (!within.some((w) => cidrContains(w.cidr, r))) {
      fail(field, `${JSON.stringify(r)} is not inside ${what} (${within.map((w) => `${w.field} ${w.cidr}`).join(", ")}); the router can only forward to where its private interface reaches`);
    }
  });
  requireUnique("advertiseRoutes", routes);
  requireNoOverlap(routes.map((r, i) => ({ field: `advertiseRoutes[${i}]`, cidr: r })));
  return [...routes];
}

function checkTarget(
  t: TargetOptions | boolean | undefined,
  subnets: readonly { name: string; cidr: string }[],
  defaultSubnet: string,
  defaultType: string,
  instanceTypeCheck: (field: string, type: string) => void,
  address: (field: string, addr: string, cidr: string, cidrField: string) => void,
  routes: readonly string[],
): SubnetRouterPlan["target"] {
  if (t === undefined || t === false) return undefined;
  const o: TargetOptions = t === true ? {} : t;
  const subnetName = o.subnet ?? defaultSubnet;
  const subnet = subnets.find((s) => s.name === subnetName);
  if (!subnet) fail("target.subnet", `${JSON.stringify(subnetName)} is not one of the subnets (${subnets.map((s) => s.name).join(", ")})`);
  const port = o.port ?? 8080;
  requireIntegerInRange("target.port", port, 1, 65535);
  const instanceType = o.instanceType ?? defaultType;
  instanceTypeCheck("target.instanceType", instanceType);
  if (o.address !== undefined) {
    address("target.address", o.address, subnet!.cidr, `subnet ${subnetName}`);
    if (!routes.some((r) => addressInCidr(o.address!, r))) fail("target.address", `${JSON.stringify(o.address)} is in none of the advertised routes, so no tailnet client could reach it`);
  } else if (!routes.some((r) => cidrContains(r, subnet!.cidr) || cidrContains(subnet!.cidr, r))) {
    fail("target.subnet", `${subnetName} (${subnet!.cidr}) is covered by none of the advertised routes, so no tailnet client could reach the target`);
  }
  return { subnetName, subnet: subnet!.cidr, address: o.address, port, instanceType };
}

function common(r: { snat: boolean; exitNode: boolean }, routes: string[]): Pick<SubnetRouterPlan, "snatSubnetRoutes" | "advertiseExitNode" | "returnRoutes" | "forwarding"> {
  return {
    snatSubnetRoutes: r.snat,
    advertiseExitNode: r.exitNode,
    // Without SNAT the private hosts answer tailnet addresses: those replies must go to the router.
    returnRoutes: r.snat || routes.length === 0 ? [] : [TAILNET_IPV4_RANGE],
    forwarding: { path: SYSCTL_FORWARDING_PATH, content: renderForwardingSysctl() },
  };
}

// ---------------------------------------------------------------------------------------------
// Linode

export interface LinodeSubnetSpec {
  readonly name: string;
  readonly cidr: string;
}

export interface LinodeSubnetRouterOptions extends RouterRoutingOptions {
  /** @default "us-ord" */
  readonly region?: string;
  /** Router's Linode label, tailnet hostname and the prefix of other labels. @default "linode-subnet-router" */
  readonly hostname?: string;
  /** @default "<hostname>-vpc" */
  readonly vpcLabel?: string;
  /** The VPC's subnets. @default [{ name: "private", cidr: "10.20.0.0/24" }] */
  readonly subnets?: readonly LinodeSubnetSpec[];
  /** Subnet (by name) the router's VPC interface joins. @default the first */
  readonly routerSubnet?: string;
  /** The router's VPC address. @default one the API picks */
  readonly routerAddress?: string;
  /** A private Linode (VPC interface only, no public one) in the router's subnet. @default none */
  readonly target?: TargetOptions | boolean;
  /** @default "linode/ubuntu24.04" */
  readonly image?: string;
  /** @default "g6-nanode-1" */
  readonly instanceType?: string;
}

export interface LinodeSubnetRouterPlan extends SubnetRouterPlan {
  readonly platform: "linode";
  readonly region: string;
  readonly vpcLabel: string;
  readonly subnets: readonly LinodeSubnetSpec[];
  readonly routerSubnetName: string;
  readonly image: string;
  readonly instanceType: string;
}

export const LINODE_DEFAULTS = {
  region: "us-ord",
  hostname: "linode-subnet-router",
  subnets: [{ name: "private", cidr: "10.20.0.0/24" }] as readonly LinodeSubnetSpec[],
  image: "linode/ubuntu24.04",
  instanceType: "g6-nanode-1",
} as const;

export function planLinodeSubnetRouter(o: LinodeSubnetRouterOptions = {}, rules: AddressRules = "deployment"): LinodeSubnetRouterPlan {
  const region = o.region ?? LINODE_DEFAULTS.region;
  requireRegion("region", region);
  const hostname = o.hostname ?? LINODE_DEFAULTS.hostname;
  requireHostname("hostname", hostname);
  const vpcLabel = o.vpcLabel ?? `${hostname}-vpc`;
  requireVpcLabel("vpcLabel", vpcLabel);
  const image = o.image ?? LINODE_DEFAULTS.image;
  const distro = distroForImage(image);
  const instanceType = o.instanceType ?? LINODE_DEFAULTS.instanceType;
  requireInstanceType("instanceType", instanceType);
  const routing = checkRouting(o);
  if (!routing.snat) {
    fail(
      "snatSubnetRoutes",
      "false cannot work in a Linode VPC: a VPC interface only sends packets whose source is its own address or one of its ip_ranges, and ip_ranges must be VPC subnet ranges (RFC 1918), so forwarded packets from tailnet addresses (100.64.0.0/10) would be dropped; keep SNAT on (hosts in the VPC then see the router's VPC address)",
    );
  }

  const subnets = o.subnets ?? LINODE_DEFAULTS.subnets;
  if (!Array.isArray(subnets) || subnets.length === 0) fail("subnets", "must list at least one subnet");
  subnets.forEach((s, i) => {
    const field = `subnets[${i}].cidr`;
    requireVpcLabel(`subnets[${i}].name`, s.name);
    requireCidr(field, s.cidr);
    rangeRules(rules, field, s.cidr);
    if (rules === "deployment") requireLinodeVpcSubnetRange(field, s.cidr);
    else {
      requireIpv4Cidr(field, s.cidr);
      requirePrefixLength(field, s.cidr, 1, 29, "a Linode VPC subnet");
    }
  });
  requireUnique("subnets[].name", subnets.map((s) => s.name));
  requireNoOverlap(subnets.map((s, i) => ({ field: `subnets[${i}].cidr`, cidr: s.cidr })));

  const routerSubnetName = o.routerSubnet ?? subnets[0].name;
  const routerIndex = subnets.findIndex((s) => s.name === routerSubnetName);
  if (routerIndex < 0) fail("routerSubnet", `${JSON.stringify(routerSubnetName)} is not one of the subnets (${subnets.map((s) => s.name).join(", ")})`);
  const routerSubnet = subnets[routerIndex].cidr;
  const vpcAddress = (field: string, addr: string, cidr: string, cidrField: string) =>
    requireHostAddress(field, addr, cidr, cidrField, LINODE_VPC_RESERVED_FIRST, LINODE_VPC_RESERVED_LAST);
  if (o.routerAddress !== undefined) vpcAddress("routerAddress", o.routerAddress, routerSubnet, `subnets[${routerIndex}] (${routerSubnetName})`);

  // The router's VPC interface is on its own subnet; reaching other subnets would need routes via
  // the VPC gateway that the router doesn't install, so routes stay inside the router's subnet.
  const routes = checkRoutes(rules, o.advertiseRoutes ?? [routerSubnet], [{ cidr: routerSubnet, field: `the router's subnet subnets[${routerIndex}]` }], "the router's subnet");
  const targetSubnet = typeof o.target === "object" ? o.target.subnet : undefined;
  if (targetSubnet !== undefined && targetSubnet !== routerSubnetName) {
    fail("target.subnet", `must be the router's subnet (${routerSubnetName}): the router forwards only within its own subnet`);
  }
  const target = checkTarget(o.target, subnets, routerSubnetName, instanceType, requireInstanceType, vpcAddress, routes);
  if (target?.address !== undefined && target.address === o.routerAddress) fail("target.address", "is the router's address");

  return {
    platform: "linode",
    hostname,
    region,
    vpcLabel,
    subnets: subnets.map((s) => ({ name: s.name, cidr: s.cidr })),
    routerSubnetName,
    routerSubnet,
    routerAddress: o.routerAddress,
    advertiseRoutes: routes,
    target,
    image,
    instanceType,
    distro,
    ...common(routing, routes),
  };
}

// ---------------------------------------------------------------------------------------------
// AWS

export interface AwsSubnetSpec {
  readonly name: string;
  readonly cidr: string;
  /** @default the stack's availabilityZone */
  readonly availabilityZone?: string;
}

export interface AwsSubnetRouterOptions extends RouterRoutingOptions {
  /** @default "ap-northeast-1" */
  readonly region?: string;
  /** Zone of every subnet that names none. @default "<region>a" */
  readonly availabilityZone?: string;
  /** Router's tailnet hostname and the Name tag prefix. @default "vpc-subnet-router" (the article's) */
  readonly hostname?: string;
  /** @default "10.0.0.0/16" (the article's) */
  readonly vpcCidr?: string;
  /** The router's subnet, routed to an internet gateway. @default { name: "public", cidr: "10.0.1.0/24" } */
  readonly publicSubnet?: AwsSubnetSpec;
  /** Subnets with no way out but the router. @default [{ name: "private", cidr: "10.0.2.0/24" }] */
  readonly privateSubnets?: readonly AwsSubnetSpec[];
  /** The router's private IP. @default one AWS picks */
  readonly routerAddress?: string;
  /** @default "t3.micro" */
  readonly instanceType?: string;
  /** A private instance (no public IP) in a private subnet, behind the target security group. @default none */
  readonly target?: TargetOptions | boolean;
}

export interface AwsSubnetRouterPlan extends SubnetRouterPlan {
  readonly platform: "aws";
  readonly region: string;
  readonly availabilityZone: string;
  readonly vpcCidr: string;
  readonly publicSubnet: AwsSubnetSpec;
  readonly privateSubnets: readonly AwsSubnetSpec[];
  readonly instanceType: string;
  readonly architecture: CpuArchitecture;
}

export const AWS_DEFAULTS = {
  region: "ap-northeast-1",
  hostname: "vpc-subnet-router",
  vpcCidr: "10.0.0.0/16",
  publicSubnet: { name: "public", cidr: "10.0.1.0/24" } as AwsSubnetSpec,
  privateSubnets: [{ name: "private", cidr: "10.0.2.0/24" }] as readonly AwsSubnetSpec[],
  instanceType: "t3.micro",
} as const;
/** AWS keeps the first four addresses and the last of every subnet. */
export const AWS_RESERVED_FIRST = 4;
export const AWS_RESERVED_LAST = 1;

function requireEc2InstanceType(field: string, type: string): void {
  if (typeof type !== "string" || !/^[a-z]+\d+[a-z-]*\.[a-z0-9]+$/.test(type)) fail(field, `${JSON.stringify(type)} is not an EC2 instance type such as t3.micro or t4g.small`);
}

export function planAwsSubnetRouter(o: AwsSubnetRouterOptions = {}, rules: AddressRules = "deployment"): AwsSubnetRouterPlan {
  const region = o.region ?? AWS_DEFAULTS.region;
  requireAwsRegion("region", region);
  const availabilityZone = o.availabilityZone ?? `${region}a`;
  requireAwsAvailabilityZone("availabilityZone", availabilityZone, region);
  const hostname = o.hostname ?? AWS_DEFAULTS.hostname;
  requireHostname("hostname", hostname);
  const instanceType = o.instanceType ?? AWS_DEFAULTS.instanceType;
  requireEc2InstanceType("instanceType", instanceType);
  const routing = checkRouting(o);

  const vpcCidr = o.vpcCidr ?? AWS_DEFAULTS.vpcCidr;
  requireCidr("vpcCidr", vpcCidr);
  rangeRules(rules, "vpcCidr", vpcCidr);
  requireIpv4Cidr("vpcCidr", vpcCidr);
  requirePrefixLength("vpcCidr", vpcCidr, 16, 28, "an AWS VPC");
  const publicSubnet = o.publicSubnet ?? AWS_DEFAULTS.publicSubnet;
  const privateSubnets = o.privateSubnets ?? AWS_DEFAULTS.privateSubnets;
  const all = [
    { ...publicSubnet, field: "publicSubnet" },
    ...privateSubnets.map((s, i) => ({ ...s, field: `privateSubnets[${i}]` })),
  ];
  for (const s of all) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/.test(s.name)) fail(`${s.field}.name`, `${JSON.stringify(s.name)} must be 1-40 lower-case letters, digits and '-'`);
    requireIpv4Cidr(`${s.field}.cidr`, s.cidr);
    requirePrefixLength(`${s.field}.cidr`, s.cidr, 16, 28, "an AWS subnet");
    requireCidrInside(`${s.field}.cidr`, s.cidr, vpcCidr, "vpcCidr");
    if (s.availabilityZone !== undefined) requireAwsAvailabilityZone(`${s.field}.availabilityZone`, s.availabilityZone, region);
  }
  requireUnique("subnet names", all.map((s) => s.name));
  requireNoOverlap(all.map((s) => ({ field: `${s.field}.cidr`, cidr: s.cidr })));

  const ec2Address = (field: string, addr: string, cidr: string, cidrField: string) =>
    requireHostAddress(field, addr, cidr, cidrField, AWS_RESERVED_FIRST, AWS_RESERVED_LAST);
  if (o.routerAddress !== undefined) ec2Address("routerAddress", o.routerAddress, publicSubnet.cidr, "publicSubnet");

  // AWS routes the whole VPC block between its subnets, so the router reaches all of it.
  const routes = checkRoutes(rules, o.advertiseRoutes ?? [vpcCidr], [{ cidr: vpcCidr, field: "vpcCidr" }], "the VPC");
  if (privateSubnets.length === 0 && o.target) fail("target", "needs a private subnet to sit in (privateSubnets is empty)");
  const target = checkTarget(
    o.target,
    privateSubnets.map((s) => ({ name: s.name, cidr: s.cidr })),
    privateSubnets[0]?.name ?? "",
    instanceType,
    requireEc2InstanceType,
    ec2Address,
    routes,
  );
  return {
    platform: "aws",
    hostname,
    region,
    availabilityZone,
    vpcCidr,
    publicSubnet: { ...publicSubnet },
    privateSubnets: privateSubnets.map((s) => ({ ...s })),
    routerSubnet: publicSubnet.cidr,
    routerAddress: o.routerAddress,
    advertiseRoutes: routes,
    target,
    instanceType,
    architecture: architectureOf(instanceType),
    distro: { ...AMAZON_LINUX_2023 },
    ...common(routing, routes),
  };
}
