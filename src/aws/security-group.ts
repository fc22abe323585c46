/**
 * A security group whose rules are separate resources (aws_vpc_security_group_ingress_rule /
 * egress_rule), one per rule, so adding a rule never rewrites the others. Like every Terraform
 * security group, it starts with no rule at all: no egress unless a rule says so.
 */
import { Construct } from "constructs";
import { SecurityGroup } from "../../.gen/providers/aws/security-group";
import { VpcSecurityGroupEgressRule } from "../../.gen/providers/aws/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "../../.gen/providers/aws/vpc-security-group-ingress-rule";
import { fail, requireCidr, requireEc2Description, requireIntegerInRange, requireOneOf, requireSecurityGroupName } from "../validation";

export interface SecurityGroupRule {
  /** Unique within the group's ingress (or egress) rules; names the rule resource. */
  readonly name: string;
  readonly description: string;
  /** "tcp", "udp", "icmp" or "-1" (everything). */
  readonly protocol: "tcp" | "udp" | "icmp" | "-1";
  /** Port range (tcp/udp); for icmp, type and code. Omitted for "-1". */
  readonly fromPort?: number;
  readonly toPort?: number;
  /** Exactly one peer: an IPv4 block, an IPv6 block, or another security group. */
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
  readonly securityGroupId?: string;
}

export interface RuledSecurityGroupProps {
  /** Group name (unique in the VPC) and Name tag. */
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  readonly ingress?: readonly SecurityGroupRule[];
  readonly egress?: readonly SecurityGroupRule[];
  /** Logical ID of the group; rules get `<resourceName>_<rule>`. @default the construct id */
  readonly resourceName?: string;
}

export class RuledSecurityGroup extends Construct {
  public readonly group: SecurityGroup;
  public readonly ingressRules: Readonly<Record<string, VpcSecurityGroupIngressRule>>;
  public readonly egressRules: Readonly<Record<string, VpcSecurityGroupEgressRule>>;

  constructor(scope: Construct, id: string, props: RuledSecurityGroupProps) {
    super(scope, id);
    // The EC2 API's rules for names and descriptions (the provider checks neither's characters).
    requireSecurityGroupName("securityGroup.name", props.name);
    requireEc2Description("securityGroup.description", props.description, "a security group description");
    this.group = new SecurityGroup(this, "group", {
      name: props.name,
      description: props.description,
      vpcId: props.vpcId,
      tags: { Name: props.name },
    });
    const rn = props.resourceName ?? id.replace(/[^A-Za-z0-9_-]/g, "_");
    this.group.overrideLogicalId(rn);
    const ingress: Record<string, VpcSecurityGroupIngressRule> = {};
    const egress: Record<string, VpcSecurityGroupEgressRule> = {};
    for (const [dir, rules] of [["ingress", props.ingress ?? []], ["egress", props.egress ?? []]] as const) {
      const seen = new Set<string>();
      rules.forEach((r, i) => {
        const field = `${dir}[${i}]`;
        if (!/^[a-z0-9-]+$/.test(r.name) || seen.has(r.name)) fail(`${field}.name`, `${JSON.stringify(r.name)} must be unique and made of a-z, 0-9 and '-'`);
        seen.add(r.name);
        requireOneOf(`${field}.protocol`, r.protocol, ["tcp", "udp", "icmp", "-1"] as const);
        requireEc2Description(`${field}.description`, r.description, "a security group rule description");
        const peers = [r.cidrIpv4, r.cidrIpv6, r.securityGroupId].filter((p) => p !== undefined);
        if (peers.length !== 1) fail(field, "give exactly one of cidrIpv4, cidrIpv6 or securityGroupId");
        if (r.cidrIpv4 !== undefined) requireCidr(`${field}.cidrIpv4`, r.cidrIpv4);
        if (r.cidrIpv6 !== undefined) requireCidr(`${field}.cidrIpv6`, r.cidrIpv6);
        if (r.protocol === "-1" && (r.fromPort !== undefined || r.toPort !== undefined)) fail(field, 'protocol "-1" covers every port; leave fromPort/toPort out');
        if (r.protocol === "icmp") {
          // EC2 takes an ICMP type and code from -1 (any) to 255.
          requireIntegerInRange(`${field}.fromPort`, r.fromPort ?? -1, -1, 255);
          requireIntegerInRange(`${field}.toPort`, r.toPort ?? -1, -1, 255);
        }
        if (r.protocol === "tcp" || r.protocol === "udp") {
          requireIntegerInRange(`${field}.fromPort`, r.fromPort, 1, 65535);
          requireIntegerInRange(`${field}.toPort`, r.toPort, r.fromPort!, 65535);
        }
        const config = {
          securityGroupId: this.group.id,
          description: r.description,
          ipProtocol: r.protocol,
          fromPort: r.fromPort,
          toPort: r.toPort,
          cidrIpv4: r.cidrIpv4,
          cidrIpv6: r.cidrIpv6,
          referencedSecurityGroupId: r.securityGroupId,
          tags: { Name: `${props.name}-${r.name}` },
        };
        const rule =
          dir === "ingress" ? new VpcSecurityGroupIngressRule(this, `in-${r.name}`, config) : new VpcSecurityGroupEgressRule(this, `out-${r.name}`, config);
        rule.overrideLogicalId(`${rn}_${r.name}`);
        if (rule instanceof VpcSecurityGroupIngressRule) ingress[r.name] = rule;
        else egress[r.name] = rule;
      });
    }
    this.ingressRules = ingress;
    this.egressRules = egress;
  }
}
