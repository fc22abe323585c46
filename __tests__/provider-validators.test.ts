import { Secret } from "../src/terraform/secret";
import { readFileSync } from "fs";
import { join } from "path";
import { Testing, TerraformStack } from "cdktf";
import { RuledSecurityGroup, RuledSecurityGroupProps, SecurityGroupRule } from "../src/aws/security-group";
import { SsmInstanceProfile } from "../src/aws/ssm-instance-profile";
import { NodeFirewall, NodeFirewallProps } from "../src/linode/node-firewall";
import { TailscaleNodes, TailscaleNodesProps } from "../src/linode/tailscale-nodes";
import { NodeAuthKeys } from "../src/tailnet/auth-keys";
import { ErlangClusterStack, ErlangClusterStackProps } from "../src/systems/erlang-cluster/erlang-cluster-stack";
import { MeshStack, MeshStackProps } from "../src/systems/mesh/mesh-stack";
import { SiteToSiteStack, SiteToSiteStackProps } from "../src/systems/site-to-site/site-to-site-stack";
import { AwsSubnetRouterStack, AwsSubnetRouterStackProps } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack, LinodeSubnetRouterStackProps } from "../src/systems/subnet-router/linode-subnet-router-stack";
import { PROVIDER_RULES, providerRuleRow } from "../src/validation/provider-rules";
import { expectRefusedInOneLine } from "./helpers/refusal";

// One bad input per rule of docs/validators.md: each stops synthesis with one line that starts with
// the field's name and says what is allowed, as the bad-input suites of each system do.
const stack = () => new TerraformStack(Testing.app(), "t");
const mesh = (p: MeshStackProps) => () => new MeshStack(Testing.app(), "mesh", p);
const erlang = (p: ErlangClusterStackProps) => () => new ErlangClusterStack(Testing.app(), "erlang", p);
const s2s = (p: SiteToSiteStackProps) => () => new SiteToSiteStack(Testing.app(), "s2s", p);
const linodeRouter = (p: LinodeSubnetRouterStackProps) => () => new LinodeSubnetRouterStack(Testing.app(), "srl", p);
const awsRouter = (p: AwsSubnetRouterStackProps) => () => new AwsSubnetRouterStack(Testing.app(), "sra", p);
const firewall = (p: Partial<NodeFirewallProps>) => () => new NodeFirewall(stack(), "fw", { label: "fw-test", sshSourceCidrs: [], ...p });
const inbound = (r: Record<string, unknown>) => firewall({ extraInbound: [{ label: "extra", action: "ACCEPT", protocol: "TCP", ports: "443", ipv4: ["0.0.0.0/0"], ...r } as never] });
const nodes = (p: Partial<TailscaleNodesProps>) => () =>
  new TailscaleNodes(stack(), "nodes", { nodes: [{ name: "a", region: "us-ord" }], advertiseTags: ["tag:mesh"], authKey: Secret.fromReference("${tailscale_tailnet_key.k.key}"), delivery: "cloud-init", ...p });
const sg = (p: Partial<RuledSecurityGroupProps>) => () => new RuledSecurityGroup(stack(), "sg", { name: "router-group", description: "ok", vpcId: "vpc-1", ...p });
const rule = (r: Partial<SecurityGroupRule>): SecurityGroupRule => ({ name: "r", description: "ok", protocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "10.0.0.0/8", ...r });
const longName = "n".repeat(48); // mesh- + 48 = 53 characters: a valid hostname, too long a Linode label

const cases: Record<string, [() => unknown, RegExp]> = {
  "linode-instance-label-length": [mesh({ nodes: [{ name: longName, region: "us-ord" }] }), /^nodes\[0\] label \(namePrefix \+ name\): "mesh-n+" \(53 characters\) is not a valid Linode instance label \(3-50 characters/],
  "linode-firewall-label-length": [erlang({ firewallLabel: "f".repeat(33) }), /^firewallLabel: "f{33}" \(33 characters\) is not a valid Linode firewall label \(3-32 characters/],
  "linode-firewall-rule-label": [inbound({ label: "x".repeat(33) }), /^firewall\.extraInbound\[0\]\.label: .* is not a valid Linode firewall rule label \(3-32/],
  "linode-firewall-rule-action": [inbound({ action: "accept" }), /^firewall\.extraInbound\[0\]\.action: "accept" is not one of "ACCEPT", "DROP"/],
  "linode-firewall-rule-protocol": [inbound({ protocol: "tcp" }), /^firewall\.extraInbound\[0\]\.protocol: "tcp" is not one of "TCP", "UDP", "ICMP", "IPENCAP"/],
  "linode-firewall-rule-ports": [inbound({ ports: "" }), /^firewall\.extraInbound\[0\]\.ports: "" is not a port list/],
  "linode-firewall-rule-ipv4": [inbound({ ipv4: [] }), /^firewall\.extraInbound\[0\]\.ipv4: \[\] must be a non-empty list of IPv4 CIDRs/],
  "linode-firewall-rule-ipv6": [inbound({ ipv4: undefined, ipv6: ["10.0.0.0/8"] }), /^firewall\.extraInbound\[0\]\.ipv6\[0\]: "10\.0\.0\.0\/8" is not an IPv6 CIDR/],
  "linode-label-charset": [s2s({ routers: [{ name: "router--1" }, {}] }), /^routers\[0\]\.name: "router--1" is not a valid Linode instance label/],
  "linode-instance-label-unique": [s2s({ clients: [{ name: "router-1", vlanAddress: "10.0.1.10" }] }), /^clients\[0\] label \(namePrefix \+ name\): "s2s-router-1" is also routers\[0\]\.name in stack "s2s"; each Linode instance needs its own label/],
  "linode-firewall-label-unique": [
    () => {
      const s = stack();
      new NodeFirewall(s, "a", { label: "shared-fw", sshSourceCidrs: [], resourceName: "a" });
      new NodeFirewall(s, "b", { label: "shared-fw", labelField: "second.label", sshSourceCidrs: [], resourceName: "b" });
    },
    /^second\.label: "shared-fw" is also firewall\.label \(t\/a\) in stack "t"; each Linode firewall needs its own label/,
  ],
  "linode-vpc-label": [linodeRouter({ vpcLabel: "v".repeat(65) }), /^vpcLabel: "v+… is not a VPC label \(1-64 letters/],
  "linode-vpc-subnet-label": [linodeRouter({ subnets: [{ name: "my_subnet", cidr: "10.20.0.0/24" }] }), /^subnets\[0\]\.name: "my_subnet" is not a VPC label/],
  "linode-vpc-subnet-range": [linodeRouter({ subnets: [{ name: "a", cidr: "192.168.130.0/24" }] }), /^subnets\[0\]\.cidr: "192\.168\.130\.0\/24" overlaps 192\.168\.128\.0\/17, Linode's private-IP range/],
  "linode-vlan-label": [s2s({ vlan: { label: "v".repeat(65) } }), /^vlan\.label: "v+… is not a VLAN label \(1-64 letters, digits and '-'\)/],
  "linode-tags": [nodes({ linodeTags: ["ok-tag", "x"] }), /^linodeTags\[1\]: "x" is not a Linode tag \(3-50 characters/],
  "linode-region": [mesh({ regions: ["ap-northeest"] }), /^regions\[0\]: unknown Linode region "ap-northeest"\. Did you mean "ap-northeast"/],
  "linode-type": [mesh({ instanceType: "g6-standrd-2" }), /^instanceType: "g6-standrd-2" is not a Linode plan ID\. Did you mean "g6-standard-2"/],
  "linode-authorized-keys": [nodes({ delivery: "remote-exec", authorizedKeys: ["~/.ssh/id_ed25519.pub"] }), /^authorizedKeys\[0\]: is not one OpenSSH public key per entry/],
  "linode-firewall-rule-count": [
    firewall({ extraInbound: Array.from({ length: 24 }, (_, i) => ({ label: `rule-${i}`, action: "ACCEPT", protocol: "TCP", ports: String(1000 + i), ipv4: ["10.0.0.0/8"] })) }),
    /^firewall\.extraInbound: makes 26 inbound rules with the built-in ones; a Linode Cloud Firewall takes at most 25/,
  ],
  "linode-user-data-size": [nodes({ bootstrapExtras: { files: [{ path: "/etc/big", content: require("crypto").randomBytes(20000).toString("hex"), mode: "644" }] } as never }), /^delivery: the bootstrap script needs ~\d+ bytes of base64 user data, over the 16384-byte limit/],
  "tailscale-key-description": [
    () => new NodeAuthKeys(stack(), "keys", { source: { kind: "managed", policy: {} as never }, tags: ["tag:mesh"], description: "d".repeat(51) }),
    /^authKey\.description: "d{51}" \(51 characters\) is not a key description \(at most 50 letters/,
  ],
  "tailscale-device-wait-for": [linodeRouter({ joinTimeout: "1s" }), /^joinTimeout: "1s" is not a duration such as "15m" or "1h30m" \(h, m, s\), more than 1s and at most 24h/],
  "tailscale-key-tags": [nodes({ advertiseTags: ["mesh"] }), /^advertiseTags\[0\]: "mesh" is not a valid Tailscale tag/],
  "tailscale-key-expiry": [mesh({ keyExpirySeconds: 91 * 86400 }), /^authKey\.expirySeconds: 7862400 must be a whole number from 300 to 7776000/],
  "tailscale-device-hostname": [linodeRouter({ hostname: "Router" }), /^hostname: "Router" is not a valid hostname/],
  "aws-cgw-bgp-asn": [s2s({ customerAsn: 65535 }), /^customerAsn: 65535 is not a private AS number/],
  "aws-vgw-amazon-side-asn": [s2s({ aws: { amazonSideAsn: 64511 } }), /^aws\.amazonSideAsn: 64511 is not a private AS number/],
  "aws-vpn-inside-cidr": [s2s({ routers: [{ tunnelInsideCidrs: ["169.254.5.0/30", "169.254.11.0/30"] }, {}] }), /^routers\[0\]\.tunnelInsideCidrs\[0\]: "169\.254\.5\.0\/30" is reserved by AWS/],
  "aws-vpn-phase1-lifetime": [s2s({ ipsec: { ikeLifetimeSeconds: 28801 } }), /^ipsec\.ikeLifetimeSeconds: 28801 must be a whole number from 900 to 28800/],
  "aws-vpn-phase2-lifetime": [s2s({ ipsec: { childLifetimeSeconds: 899 } }), /^ipsec\.childLifetimeSeconds: 899 must be a whole number from 900 to 3600/],
  "aws-vpn-rekey-margin": [s2s({ ipsec: { rekeyMarginSeconds: 59 } }), /^ipsec\.rekeyMarginSeconds: 59 must be a whole number from 60 to 1800/],
  "aws-vpn-rekey-fuzz": [s2s({ ipsec: { rekeyFuzzPercent: 101 } }), /^ipsec\.rekeyFuzzPercent: 101 must be a whole number from 0 to 100/],
  "aws-vpn-dpd-timeout": [s2s({ ipsec: { awsDpdTimeoutSeconds: 29 } }), /^ipsec\.awsDpdTimeoutSeconds: 29 must be a whole number from 30 to 3600/],
  "aws-vpn-encryption": [s2s({ ipsec: { proposal: { encryption: "toString" as never } } }), /^ipsec\.proposal\.encryption: "toString" is not one of "aes128", "aes256"/],
  "aws-vpn-integrity": [s2s({ ipsec: { proposal: { integrity: "sha1" as never } } }), /^ipsec\.proposal\.integrity: "sha1" is not one of "sha256", "sha384", "sha512"/],
  "aws-vpn-dh-group": [s2s({ ipsec: { proposal: { dhGroup: "toString" as never } } }), /^ipsec\.proposal\.dhGroup: "toString" is not one of 14, 15, 16, 19, 20, 21/],
  "aws-vpc-cidr": [awsRouter({ vpcCidr: "10.0.0.0/12" }), /^vpcCidr: "10\.0\.0\.0\/12" has prefix length \/12; an AWS VPC allows \/16 to \/28/],
  "aws-subnet-cidr": [awsRouter({ privateSubnets: [{ name: "private", cidr: "10.0.2.0/29" }] }), /^privateSubnets\[0\]\.cidr: "10\.0\.2\.0\/29" has prefix length \/29; an AWS subnet allows \/16 to \/28/],
  "aws-sg-name": [sg({ name: "sg-router" }), /^securityGroup\.name: "sg-router" is not a security group name EC2 accepts \(not empty, not starting with "sg-"\)/],
  "aws-sg-description": [sg({ description: "Router's group" }), /^securityGroup\.description: "Router's group" is not a security group description EC2 accepts \(at most 255 of .*; "'" is not allowed\)/],
  "aws-iam-role-name": [() => new SsmInstanceProfile(stack(), "ssm", { name: "role name", region: "ap-northeast-1" } as never), /^name: "role name" is not an IAM role name/],
  "aws-instance-private-ip": [s2s({ aws: { testHost: { address: "10.0.0.3" } } }), /^aws\.testHost\.address: "10\.0\.0\.3" is reserved in 10\.0\.0\.0\/24/],
  "aws-log-group-retention": [awsRouter({ flowLogs: { retentionInDays: 10 } }), /^flowLogs\.retentionInDays: 10 is not a CloudWatch Logs retention period: one of 0, 1, 3, 5, 7, 14, 30/],
  "aws-flow-log-aggregation": [s2s({ aws: { flowLogs: { maxAggregationInterval: 300 } } }), /^aws\.flowLogs\.maxAggregationInterval: 300 must be 60 or 600 \(seconds\)/],
  "aws-flow-log-traffic-type": [awsRouter({ flowLogs: { trafficType: "all" as never } }), /^flowLogs\.trafficType: "all" is not one of "ACCEPT", "ALL", "REJECT"\. Did you mean "ALL"/],
  "aws-log-group-kms-key": [awsRouter({ flowLogs: { kmsKeyArn: "alias/logs" } }), /^flowLogs\.kmsKeyArn: "alias\/logs" is not a KMS key ARN such as arn:aws:kms:/],
  "aws-sg-rule-description": [sg({ ingress: [rule({ description: "the router's address" })] }), /^ingress\[0\]\.description: "the router's address" is not a security group rule description EC2 accepts .*"'" is not allowed/],
  "aws-sg-rule-ports": [sg({ ingress: [rule({ protocol: "icmp", fromPort: 256, toPort: 0 })] }), /^ingress\[0\]\.fromPort: 256 must be a whole number from -1 to 255/],
  "aws-region": [awsRouter({ region: "ap-northeast-5" }), /^region: "ap-northeast-5" is not an AWS region code such as ap-northeast-1 or us-east-1 \(src\/catalog\/aws-regions\.ts\)\. Did you mean "ap-northeast-1"/],
  "aws-availability-zone": [awsRouter({ availabilityZone: "ap-northeast-1z" }), /^availabilityZone: "ap-northeast-1z" is not an availability zone of ap-northeast-1 .*ap-northeast-1 has ap-northeast-1a, ap-northeast-1b, ap-northeast-1c, ap-northeast-1d/],
  "random-password-length": [erlang({ cookieLength: 0 }), /^cookieLength: 0 must be a whole number from 32 to 255/],
};

describe("every provider rule a user's input reaches is refused at synth", () => {
  it("has one case per rule of PROVIDER_RULES, and no other", () => {
    expect(Object.keys(cases).sort()).toEqual(PROVIDER_RULES.map((r) => r.id).sort());
  });

  it.each(PROVIDER_RULES.map((r) => [r.id, r.target] as const))("%s (%s)", (id) => {
    const [run, expected] = cases[id];
    expectRefusedInOneLine(run, expected);
  });
});

describe("docs/validators.md", () => {
  const doc = readFileSync(join(__dirname, "..", "docs", "validators.md"), "utf8");
  const tableRows = doc.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| id |"));

  it("lists exactly PROVIDER_RULES, row for row", () => {
    expect(tableRows).toEqual(PROVIDER_RULES.map(providerRuleRow));
  });

  it("names a source for every rule: a pinned provider file or a cloud API", () => {
    for (const r of PROVIDER_RULES) expect(r.source).toMatch(/@v\d+\.\d+\.\d+ \S+|^API: /);
  });
});

describe("where a value goes depends on it", () => {
  const synthJson = (p: SiteToSiteStackProps) => JSON.parse(Testing.synth(new SiteToSiteStack(Testing.app(), "s2s", p)));

  it("a 32-bit customer ASN is written to bgp_asn_extended, a 16-bit one to bgp_asn", () => {
    const wide = synthJson({ customerAsn: 4200000001 }).resource.aws_customer_gateway;
    for (const cgw of Object.values(wide) as Record<string, unknown>[]) {
      expect(cgw.bgp_asn_extended).toBe("4200000001");
      expect(cgw.bgp_asn).toBeUndefined();
    }
    const narrow = synthJson({}).resource.aws_customer_gateway;
    for (const cgw of Object.values(narrow) as Record<string, unknown>[]) {
      expect(cgw.bgp_asn).toBe("65000");
      expect(cgw.bgp_asn_extended).toBeUndefined();
    }
  });

  it("the largest bgp_asn is 2147483647 (a signed 32-bit integer)", () => {
    const { customerGatewayAsn } = require("../src/validation") as typeof import("../src/validation");
    expect(customerGatewayAsn(2147483647)).toEqual({ bgpAsn: "2147483647" });
    expect(customerGatewayAsn(2147483648)).toEqual({ bgpAsnExtended: "2147483648" });
  });
});
