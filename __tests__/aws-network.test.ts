/**
 * What AwsNetwork adds to every VPC it creates, read from the synthesized JSON: the default security
 * group held with no rules (Checkov CKV2_AWS_12) and VPC flow logs into a CloudWatch Logs group of
 * its own (CKV2_AWS_11), with the flowLogs option's defaults, overrides and refusals. The scanner's
 * verdict on the real stacks is in plan-engines.test.ts.
 */
import { Testing, TerraformStack } from "cdktf";
import { AwsNetwork } from "../src/aws/network";
import { awsRegionCodes } from "../src/catalog/aws-regions";
import { SiteToSiteStack, SiteToSiteStackProps } from "../src/systems/site-to-site/site-to-site-stack";
import { AwsSubnetRouterStack, AwsSubnetRouterStackProps } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { validationMessage } from "../src/validation/report";

type Resources = Record<string, Record<string, Record<string, unknown>>>;
const router = (p: AwsSubnetRouterStackProps = {}): Resources => JSON.parse(Testing.synth(new AwsSubnetRouterStack(Testing.app(), "sra", p))).resource;
const s2s = (p: SiteToSiteStackProps = {}): Resources => JSON.parse(Testing.synth(new SiteToSiteStack(Testing.app(), "s2s", p))).resource;
const existingVpc = { vpcId: "vpc-0123456789abcdef0", cidr: "10.0.0.0/24", routeTableIds: ["rtb-0123456789abcdef0"] };
const FLOW_TYPES = ["aws_flow_log", "aws_cloudwatch_log_group", "aws_iam_role_policy"];

function refusal(run: () => unknown): string | undefined {
  try {
    run();
  } catch (e) {
    const m = validationMessage(e);
    if (m === undefined) throw e;
    return m;
  }
  return undefined;
}

describe("the VPC's default security group", () => {
  test.each([["subnet-router-aws", router], ["site-to-site", s2s]] as const)("%s: managed for the stack's VPC with empty rule lists", (_, synth) => {
    const r = synth();
    expect(Object.keys(r.aws_default_security_group)).toEqual(["vpc_default"]);
    const sg = r.aws_default_security_group.vpc_default;
    expect(sg.vpc_id).toBe("${aws_vpc.vpc.id}");
    // Empty lists, not absent: with the attribute omitted the provider would leave later rules alone.
    expect(sg.ingress).toEqual([]);
    expect(sg.egress).toEqual([]);
  });

  test("every instance names its own security groups, so none relies on the default group", () => {
    for (const r of [router(), s2s({ aws: { testHost: true } })]) {
      for (const [name, i] of Object.entries(r.aws_instance)) {
        expect({ name, groups: (i.vpc_security_group_ids as unknown[] | undefined)?.length ?? 0 }).toEqual({ name, groups: 1 });
      }
    }
  });

  test("an existing VPC's default group is not touched (no flow logs added to it either)", () => {
    const r = s2s({ aws: { existingVpc } });
    expect(r.aws_default_security_group).toBeUndefined();
    for (const t of FLOW_TYPES) expect(r[t]).toBeUndefined();
  });
});

describe("VPC flow logs", () => {
  test("on by default: ALL traffic, 10-minute aggregation, kept 365 days, delivered by a role scoped to the one group", () => {
    const r = router();
    const flow = r.aws_flow_log.vpc;
    expect(flow).toMatchObject({
      vpc_id: "${aws_vpc.vpc.id}",
      traffic_type: "ALL",
      max_aggregation_interval: 600,
      log_destination_type: "cloud-watch-logs",
      log_destination: "${aws_cloudwatch_log_group.vpc_flow_logs.arn}",
      iam_role_arn: "${aws_iam_role.vpc_flow_logs.arn}",
    });
    expect(r.aws_cloudwatch_log_group.vpc_flow_logs).toMatchObject({ name: "/aws/vpc-flow-logs/vpc-subnet-router", retention_in_days: 365 });
    expect(r.aws_cloudwatch_log_group.vpc_flow_logs.kms_key_id).toBeUndefined();
    const role = r.aws_iam_role.vpc_flow_logs;
    expect(role.name).toBe("vpc-subnet-router-flowlogs-ap-northeast-1");
    expect(JSON.parse(role.assume_role_policy as string).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    const policy = JSON.parse(r.aws_iam_role_policy.vpc_flow_logs.policy as string);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0].Resource).toEqual(["${aws_cloudwatch_log_group.vpc_flow_logs.arn}", "${aws_cloudwatch_log_group.vpc_flow_logs.arn}:*"]);
    for (const a of policy.Statement[0].Action as string[]) expect(a).toMatch(/^logs:(CreateLogStream|PutLogEvents|Describe\w+)$/);
    expect(r.aws_iam_role_policy.vpc_flow_logs.role).toBe("${aws_iam_role.vpc_flow_logs.name}");
    expect(flow.depends_on).toEqual(["aws_iam_role_policy.vpc_flow_logs"]);
  });

  test("the role's name fits IAM's 64 characters for the longest network name in the longest region code", () => {
    const longest = awsRegionCodes().sort((a, b) => b.length - a.length || a.localeCompare(b))[0];
    const net = new AwsNetwork(new TerraformStack(Testing.app(), "t"), "n", { name: "n".repeat(40), region: longest, cidr: "10.0.0.0/16" });
    expect(net.flowLogRole!.name).toBeDefined();
    const synthed = JSON.parse(Testing.synth(net.node.scope as TerraformStack)).resource.aws_iam_role.vpc_flow_logs.name as string;
    expect(synthed).toBe(`${"n".repeat(40)}-flowlogs-${longest}`);
    expect(synthed.length).toBeLessThanOrEqual(64);
  });

  test("options reach the resources", () => {
    const kms = "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const r = s2s({ aws: { flowLogs: { trafficType: "REJECT", retentionInDays: 30, maxAggregationInterval: 60, kmsKeyArn: kms } } });
    expect(r.aws_flow_log.vpc).toMatchObject({ traffic_type: "REJECT", max_aggregation_interval: 60 });
    expect(r.aws_cloudwatch_log_group.vpc_flow_logs).toMatchObject({ name: "/aws/vpc-flow-logs/s2s", retention_in_days: 30, kms_key_id: kms });
  });

  test("flowLogs: false leaves them out and keeps the default group", () => {
    for (const r of [router({ flowLogs: false }), s2s({ aws: { flowLogs: false } })]) {
      for (const t of FLOW_TYPES) expect(r[t]).toBeUndefined();
      expect(Object.keys(r.aws_iam_role ?? {})).not.toContain("vpc_flow_logs");
      expect(r.aws_default_security_group.vpc_default).toBeDefined();
    }
  });

  test.each([
    ["not an object", () => router({ flowLogs: "on" as never }), /^flowLogs: "on" must be an object of flow-log options, or false for none$/],
    ["retention 0 is allowed (never expire)", () => router({ flowLogs: { retentionInDays: 0 } }), undefined],
    ["a fractional interval", () => router({ flowLogs: { maxAggregationInterval: 60.5 } }), /^flowLogs\.maxAggregationInterval: 60\.5 must be a whole number from 60 to 600$/],
    ["with an existing VPC", () => s2s({ aws: { existingVpc, flowLogs: {} } }), /^aws\.flowLogs: only applies to a new VPC; aws\.existingVpc is set/],
    ["flowLogs: false with an existing VPC is refused too (it would do nothing)", () => s2s({ aws: { existingVpc, flowLogs: false } }), /^aws\.flowLogs: only applies to a new VPC/],
  ])("%s", (_, run, expected) => {
    const m = refusal(run);
    if (expected === undefined) expect(m).toBeUndefined();
    else expect(m).toMatch(expected);
  });
});
