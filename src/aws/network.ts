/**
 * A VPC with public subnets (a route table whose default route is an internet gateway) and private
 * subnets (a route table with no way out). Each subnet sits in one availability zone. Systems add
 * their own routes to `privateRouteTable` (e.g. the tailnet's range through a router).
 */
import { Construct } from "constructs";
import { InternetGateway } from "../../.gen/providers/aws/internet-gateway";
import { Route } from "../../.gen/providers/aws/route";
import { RouteTable } from "../../.gen/providers/aws/route-table";
import { RouteTableAssociation } from "../../.gen/providers/aws/route-table-association";
import { Subnet } from "../../.gen/providers/aws/subnet";
import { Vpc } from "../../.gen/providers/aws/vpc";
import {
  fail,
  requireAwsAvailabilityZone,
  requireAwsRegion,
  requireCidrInside,
  requireIpv4Cidr,
  requireNoOverlap,
  requirePrefixLength,
  requireUnique,
} from "../validation";

export interface AwsSubnetSpec {
  /** Short name: the Name tag suffix and the key in `publicSubnets` / `privateSubnets`. */
  readonly name: string;
  readonly cidr: string;
  /** @default the network's availabilityZone */
  readonly availabilityZone?: string;
}

export interface AwsNetworkProps {
  /** Name tag prefix of every resource, e.g. "vpc-subnet-router". */
  readonly name: string;
  readonly region: string;
  /** The VPC's IPv4 block (/16 to /28, AWS's limits). */
  readonly cidr: string;
  /** Subnets whose default route is the internet gateway (instances there can have public IPs). */
  readonly publicSubnets?: readonly AwsSubnetSpec[];
  /** Subnets with no route out of the VPC. */
  readonly privateSubnets?: readonly AwsSubnetSpec[];
  /** Zone for subnets that don't name one. @default `<region>a` (every region has an "a" zone) */
  readonly availabilityZone?: string;
  /**
   * Logical ID stem: aws_vpc.<name>, aws_subnet.<subnet>, aws_route_table.<name>_public / _private…
   * @default "vpc"
   */
  readonly resourceName?: string;
  /** Field names errors use for this network's inputs. @default { cidr: "cidr", publicSubnets: "publicSubnets", privateSubnets: "privateSubnets" } */
  readonly fields?: { readonly name?: string; readonly cidr?: string; readonly publicSubnets?: string; readonly privateSubnets?: string };
}

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

export class AwsNetwork extends Construct {
  public readonly vpc: Vpc;
  public readonly internetGateway?: InternetGateway;
  public readonly publicRouteTable?: RouteTable;
  public readonly privateRouteTable?: RouteTable;
  public readonly publicSubnets: Readonly<Record<string, Subnet>>;
  public readonly privateSubnets: Readonly<Record<string, Subnet>>;
  /** The zone each subnet is in, by name. */
  public readonly zones: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: AwsNetworkProps) {
    super(scope, id);
    const f = { name: "name", cidr: "cidr", publicSubnets: "publicSubnets", privateSubnets: "privateSubnets", ...props.fields };
    requireAwsRegion("region", props.region);
    if (!NAME.test(props.name)) fail(f.name, `${JSON.stringify(props.name)} must be 1-40 lower-case letters, digits and '-'`);
    requireIpv4Cidr(f.cidr, props.cidr);
    requirePrefixLength(f.cidr, props.cidr, 16, 28, "an AWS VPC");
    const defaultZone = props.availabilityZone ?? `${props.region}a`;
    requireAwsAvailabilityZone("availabilityZone", defaultZone, props.region);
    const pub = props.publicSubnets ?? [];
    const priv = props.privateSubnets ?? [];
    const all = [
      ...pub.map((s, i) => ({ ...s, field: `${f.publicSubnets}[${i}]` })),
      ...priv.map((s, i) => ({ ...s, field: `${f.privateSubnets}[${i}]` })),
    ];
    for (const s of all) {
      if (!NAME.test(s.name)) fail(`${s.field}.name`, `${JSON.stringify(s.name)} must be 1-40 lower-case letters, digits and '-'`);
      requireIpv4Cidr(`${s.field}.cidr`, s.cidr);
      requirePrefixLength(`${s.field}.cidr`, s.cidr, 16, 28, "an AWS subnet");
      requireCidrInside(`${s.field}.cidr`, s.cidr, props.cidr, f.cidr);
      if (s.availabilityZone !== undefined) requireAwsAvailabilityZone(`${s.field}.availabilityZone`, s.availabilityZone, props.region);
    }
    requireUnique("subnet names", all.map((s) => s.name));
    requireNoOverlap(all.map((s) => ({ field: `${s.field}.cidr`, cidr: s.cidr })));

    const tag = (suffix: string) => ({ Name: `${props.name}-${suffix}` });
    const rn = props.resourceName ?? "vpc";
    this.vpc = new Vpc(this, "vpc", { cidrBlock: props.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tag("vpc") });
    this.vpc.overrideLogicalId(rn);
    const zones: Record<string, string> = {};
    const subnet = (s: AwsSubnetSpec, kind: "public" | "private") => {
      zones[s.name] = s.availabilityZone ?? defaultZone;
      const sn = new Subnet(this, `${kind}-${s.name}`, {
        vpcId: this.vpc.id,
        cidrBlock: s.cidr,
        availabilityZone: zones[s.name],
        // Public IPs are asked for per instance; a subnet-wide default would give one to anything.
        mapPublicIpOnLaunch: false,
        tags: tag(s.name),
      });
      sn.overrideLogicalId(s.name);
      return sn;
    };
    this.publicSubnets = Object.fromEntries(pub.map((s) => [s.name, subnet(s, "public")]));
    this.privateSubnets = Object.fromEntries(priv.map((s) => [s.name, subnet(s, "private")]));
    this.zones = zones;

    if (pub.length) {
      this.internetGateway = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: tag("igw") });
      this.internetGateway.overrideLogicalId(rn);
      this.publicRouteTable = new RouteTable(this, "public-rt", { vpcId: this.vpc.id, tags: tag("public") });
      this.publicRouteTable.overrideLogicalId(`${rn}_public`);
      new Route(this, "public-default", {
        routeTableId: this.publicRouteTable.id,
        destinationCidrBlock: "0.0.0.0/0",
        gatewayId: this.internetGateway.id,
      }).overrideLogicalId(`${rn}_public_default`);
      for (const s of pub) {
        new RouteTableAssociation(this, `public-${s.name}-rt`, { subnetId: this.publicSubnets[s.name].id, routeTableId: this.publicRouteTable.id }).overrideLogicalId(s.name);
      }
    }
    if (priv.length) {
      this.privateRouteTable = new RouteTable(this, "private-rt", { vpcId: this.vpc.id, tags: tag("private") });
      this.privateRouteTable.overrideLogicalId(`${rn}_private`);
      for (const s of priv) {
        new RouteTableAssociation(this, `private-${s.name}-rt`, { subnetId: this.privateSubnets[s.name].id, routeTableId: this.privateRouteTable.id }).overrideLogicalId(s.name);
      }
    }
  }
}
