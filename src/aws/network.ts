/**
 * A VPC with public subnets (a route table whose default route is an internet gateway) and private
 * subnets (a route table with no way out). Each subnet sits in one availability zone. Systems add
 * their own routes to `privateRouteTable` (e.g. the tailnet's range through a router).
 *
 * Every network also gets, so a scanner has nothing to say about the VPC itself:
 * - its default security group managed with no rules (anything left in it reaches nothing and is
 *   reached by nothing; every instance here names its own groups);
 * - VPC flow logs into a CloudWatch Logs group of its own (`flowLogs`, on by default; `false` turns
 *   them off).
 */
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "../../.gen/providers/aws/cloudwatch-log-group";
import { DefaultSecurityGroup } from "../../.gen/providers/aws/default-security-group";
import { FlowLog } from "../../.gen/providers/aws/flow-log";
import { IamRole } from "../../.gen/providers/aws/iam-role";
import { IamRolePolicy } from "../../.gen/providers/aws/iam-role-policy";
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
  requireIntegerInRange,
  requireIpv4Cidr,
  requireNoOverlap,
  requireOneOf,
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

/**
 * VPC flow logs (every ENI's traffic, as 5-tuple records) into a CloudWatch Logs group the network
 * creates, delivered by a role only the flow-logs service can assume and only for that group.
 * Billed by CloudWatch Logs per GB ingested (vended-log rates) and per GB-month stored.
 */
export interface AwsFlowLogsOptions {
  /** Which packets are recorded. @default "ALL" */
  readonly trafficType?: "ALL" | "ACCEPT" | "REJECT";
  /** Days the records are kept: one of CloudWatch Logs' periods (1, 3, 5, 7, 14, 30, 60, 90, … 3653), or 0 for never expire. @default 365 */
  readonly retentionInDays?: number;
  /** Seconds a flow is aggregated over before a record is written: 60 or 600 (fewer records). @default 600 */
  readonly maxAggregationInterval?: number;
  /** A KMS key (ARN) for the log group; its key policy must let CloudWatch Logs use it. @default CloudWatch Logs' own encryption at rest */
  readonly kmsKeyArn?: string;
}

/** CloudWatch Logs' retention periods (the provider's IntInSlice for retention_in_days). */
export const LOG_RETENTION_DAYS: readonly number[] = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
export const FLOW_LOG_DEFAULTS = { trafficType: "ALL", retentionInDays: 365, maxAggregationInterval: 600 } as const;

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
  /** VPC flow logs to CloudWatch Logs; `false` for none. @default on, with FLOW_LOG_DEFAULTS */
  readonly flowLogs?: AwsFlowLogsOptions | false;
  /** Field names errors use for this network's inputs. @default { cidr: "cidr", publicSubnets: "publicSubnets", privateSubnets: "privateSubnets", flowLogs: "flowLogs" } */
  readonly fields?: { readonly name?: string; readonly cidr?: string; readonly publicSubnets?: string; readonly privateSubnets?: string; readonly flowLogs?: string };
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
  /** The VPC's default security group, held with no rules. */
  public readonly defaultSecurityGroup: DefaultSecurityGroup;
  /** Undefined with `flowLogs: false`. */
  public readonly flowLog?: FlowLog;
  public readonly flowLogGroup?: CloudwatchLogGroup;
  public readonly flowLogRole?: IamRole;

  constructor(scope: Construct, id: string, props: AwsNetworkProps) {
    super(scope, id);
    const f = { name: "name", cidr: "cidr", publicSubnets: "publicSubnets", privateSubnets: "privateSubnets", flowLogs: "flowLogs", ...props.fields };
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
    const flow = props.flowLogs === false ? undefined : flowLogSettings(f.flowLogs, props.flowLogs ?? {});
    // IAM names are account-wide, so the region is part of the role's name: at most 40 + 10 + 14
    // (the longest region code) = 64 characters, IAM's limit.
    const flowRoleName = `${props.name}-flowlogs-${props.region}`;

    const tag = (suffix: string) => ({ Name: `${props.name}-${suffix}` });
    const rn = props.resourceName ?? "vpc";
    this.vpc = new Vpc(this, "vpc", { cidrBlock: props.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tag("vpc") });
    this.vpc.overrideLogicalId(rn);
    // The provider adopts the VPC's default group and revokes its rules (the VPC is new, so they are
    // AWS's defaults: all traffic between members, everything out). Empty lists rather than none:
    // a rule added outside Terraform later shows as drift and the next apply removes it. Destroy
    // only forgets the group (AWS deletes it with the VPC).
    this.defaultSecurityGroup = new DefaultSecurityGroup(this, "default-sg", { vpcId: this.vpc.id, ingress: [], egress: [], tags: tag("default-no-rules") });
    this.defaultSecurityGroup.overrideLogicalId(`${rn}_default`);
    if (flow) {
      this.flowLogGroup = new CloudwatchLogGroup(this, "flow-log-group", {
        name: `/aws/vpc-flow-logs/${props.name}`,
        retentionInDays: flow.retentionInDays,
        kmsKeyId: flow.kmsKeyArn,
        tags: tag("flow-logs"),
      });
      this.flowLogGroup.overrideLogicalId(`${rn}_flow_logs`);
      this.flowLogRole = new IamRole(this, "flow-log-role", {
        name: flowRoleName,
        description: "VPC flow logs delivery into one CloudWatch Logs group",
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
        tags: { Name: flowRoleName },
      });
      this.flowLogRole.overrideLogicalId(`${rn}_flow_logs`);
      const group = this.flowLogGroup.arn;
      const delivery = new IamRolePolicy(this, "flow-log-policy", {
        name: "deliver-to-own-log-group",
        role: this.flowLogRole.name,
        // Only this group and its streams: the service creates streams and writes records.
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
              Resource: [group, `${group}:*`],
            },
          ],
        }),
      });
      delivery.overrideLogicalId(`${rn}_flow_logs`);
      this.flowLog = new FlowLog(this, "flow-log", {
        vpcId: this.vpc.id,
        trafficType: flow.trafficType,
        maxAggregationInterval: flow.maxAggregationInterval,
        logDestinationType: "cloud-watch-logs",
        logDestination: group,
        iamRoleArn: this.flowLogRole.arn,
        tags: tag("flow-logs"),
        // The role's ARN alone would let Terraform create the flow log before the role may write.
        dependsOn: [delivery],
      });
      this.flowLog.overrideLogicalId(rn);
    }
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

/** The flow-log options with defaults, each checked against the provider's validator (aws 6.25.0). */
function flowLogSettings(field: string, o: AwsFlowLogsOptions): Required<Omit<AwsFlowLogsOptions, "kmsKeyArn">> & { kmsKeyArn?: string } {
  if (o === null || typeof o !== "object" || Array.isArray(o)) fail(field, `${JSON.stringify(o)} must be an object of flow-log options, or false for none`);
  const trafficType = requireOneOf(`${field}.trafficType`, o.trafficType ?? FLOW_LOG_DEFAULTS.trafficType, ["ALL", "ACCEPT", "REJECT"] as const);
  const retentionInDays = o.retentionInDays ?? FLOW_LOG_DEFAULTS.retentionInDays;
  if (!LOG_RETENTION_DAYS.includes(retentionInDays)) {
    fail(`${field}.retentionInDays`, `${JSON.stringify(retentionInDays)} is not a CloudWatch Logs retention period: one of ${LOG_RETENTION_DAYS.join(", ")} (0 keeps records forever)`);
  }
  const maxAggregationInterval = requireIntegerInRange(`${field}.maxAggregationInterval`, o.maxAggregationInterval ?? FLOW_LOG_DEFAULTS.maxAggregationInterval, 60, 600);
  if (maxAggregationInterval !== 60 && maxAggregationInterval !== 600) fail(`${field}.maxAggregationInterval`, `${maxAggregationInterval} must be 60 or 600 (seconds)`);
  if (o.kmsKeyArn !== undefined && (typeof o.kmsKeyArn !== "string" || !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(o.kmsKeyArn))) {
    fail(`${field}.kmsKeyArn`, `${JSON.stringify(o.kmsKeyArn)} is not a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`);
  }
  return { trafficType, retentionInDays, maxAggregationInterval, kmsKeyArn: o.kmsKeyArn };
}
