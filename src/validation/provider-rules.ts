/**
 * Every rule of the pinned providers (and of the cloud APIs behind them) that a user's input can
 * reach, with where it was read and which synth-time check refuses the input first. The table in
 * docs/validators.md is this list; __tests__/provider-validators.test.ts has one bad input per
 * entry and checks that the two agree.
 */
export type RuleProvider = "linode" | "tailscale" | "aws" | "random";

export interface ProviderRule {
  /** Stable key: the table test's case for this rule has the same key. */
  readonly id: string;
  readonly provider: RuleProvider;
  /** resource.attribute (data.… for a data source) the value lands in. */
  readonly target: string;
  /** The rule, in words. */
  readonly rule: string;
  /** Where it is enforced: `repo@tag path` for a provider, `API: …` for a cloud API's rule. */
  readonly source: string;
  /** The project inputs that reach it. */
  readonly inputs: string;
  /** The synth-time check (a function of src/validation unless a path is given). */
  readonly check: string;
}

const LINODE = "linode/terraform-provider-linode@v3.13.0";
const TAILSCALE = "tailscale/terraform-provider-tailscale@v0.29.2";
const AWS = "hashicorp/terraform-provider-aws@v6.25.0";
const RANDOM = "hashicorp/terraform-provider-random@v3.7.2";

export const PROVIDER_RULES: readonly ProviderRule[] = Object.freeze([
  // --- Linode: the provider's validators
  { id: "linode-instance-label-length", provider: "linode", target: "linode_instance.label", rule: "3-50 characters (StringLenBetween(3, 50))", source: `${LINODE} linode/instance/schema_resource.go`, inputs: "mesh/erlang nodes[].name with namePrefix; site-to-site routers[].name, clients[].name with namePrefix; subnet-router hostname (router and target labels); article namePrefix", check: "requireLinodeLabel(kind instance)" },
  { id: "linode-firewall-label-length", provider: "linode", target: "linode_firewall.label", rule: "3-32 characters (LengthBetween(3, 32))", source: `${LINODE} linode/firewall/framework_schema_resource.go`, inputs: "firewallLabel; namePrefix (mesh, erlang, site-to-site); subnet-router hostname", check: "claimLinodeLabel(kind firewall)" },
  { id: "linode-firewall-rule-label", provider: "linode", target: "linode_firewall.inbound.label", rule: "3-32 characters (LengthBetween(3, 32))", source: `${LINODE} linode/firewall/framework_schema_resource.go`, inputs: "NodeFirewall extraInbound[].label", check: "requireLinodeFirewallRules" },
  { id: "linode-firewall-rule-action", provider: "linode", target: "linode_firewall.inbound.action", rule: 'OneOf("ACCEPT", "DROP")', source: `${LINODE} linode/firewall/framework_schema_resource.go`, inputs: "NodeFirewall extraInbound[].action", check: "requireLinodeFirewallRules" },
  { id: "linode-firewall-rule-protocol", provider: "linode", target: "linode_firewall.inbound.protocol", rule: 'OneOf("TCP", "UDP", "ICMP", "IPENCAP")', source: `${LINODE} linode/firewall/framework_schema_resource.go`, inputs: "NodeFirewall extraInbound[].protocol", check: "requireLinodeFirewallRules" },
  { id: "linode-firewall-rule-ports", provider: "linode", target: "linode_firewall.inbound.ports", rule: "LengthAtLeast(1); the API: ports or ranges 1-65535, at most 15 (a range counts 2), none for ICMP/IPENCAP", source: `${LINODE} linode/firewall/framework_schema_resource.go; API: Cloud Firewall rules`, inputs: "NodeFirewall extraInbound[].ports; tailscaleUdpPort", check: "requireFirewallPorts" },
  { id: "linode-firewall-rule-ipv4", provider: "linode", target: "linode_firewall.inbound.ipv4", rule: "SizeAtLeast(1) of IPv4PrefixType", source: `${LINODE} linode/firewall/framework_schema_resource.go`, inputs: "NodeFirewall extraInbound[].ipv4; sshSourceCidrs", check: "requireLinodeFirewallRules" },
  { id: "linode-firewall-rule-ipv6", provider: "linode", target: "linode_firewall.inbound.ipv6", rule: "SizeAtLeast(1) of IPv6PrefixType", source: `${LINODE} linode/firewall/framework_schema_resource.go`, inputs: "NodeFirewall extraInbound[].ipv6; sshSourceCidrs", check: "requireLinodeFirewallRules" },
  // --- Linode: the API's rules (the provider passes these through)
  { id: "linode-label-charset", provider: "linode", target: "linode_instance.label, linode_firewall.label", rule: "letters, digits, '-', '_', '.'; alphanumeric at both ends; no '--', '__', '..'", source: "API: Linode API v4, Linodes/Firewalls label", inputs: "as linode-instance-label-length", check: "requireLinodeLabel" },
  { id: "linode-instance-label-unique", provider: "linode", target: "linode_instance.label", rule: "unique among the account's Linodes (compared without case)", source: "API: Linode API v4, Linode label", inputs: "two nodes, a client named like a router, a target named like a router", check: "claimLinodeLabel (per stack)" },
  { id: "linode-firewall-label-unique", provider: "linode", target: "linode_firewall.label", rule: "unique among the account's firewalls", source: "API: Linode API v4, Firewall label", inputs: "firewallLabel of two constructs in one stack", check: "claimLinodeLabel (per stack)" },
  { id: "linode-vpc-label", provider: "linode", target: "linode_vpc.label", rule: "1-64 letters, digits and '-', no '--', unique among the account's VPCs (the provider has no validator)", source: `API: Linode API v4, VPC label (${LINODE} linode/vpc/framework_schema_resource.go has none)`, inputs: "subnet-router vpcLabel, hostname", check: "requireVpcLabel, claimLinodeLabel(kind vpc)" },
  { id: "linode-vpc-subnet-label", provider: "linode", target: "linode_vpc_subnet.label", rule: "1-64 letters, digits and '-', no '--'", source: `API: Linode API v4, VPC subnet label (${LINODE} linode/vpcsubnet/framework_schema_resource.go has none)`, inputs: "subnet-router subnets[].name", check: "requireVpcLabel" },
  { id: "linode-vpc-subnet-range", provider: "linode", target: "linode_vpc_subnet.ipv4", rule: "an RFC 1918 IPv4 network /1-/29 outside 192.168.128.0/17", source: "API: Linode API v4, VPC subnet ipv4", inputs: "subnet-router subnets[].cidr", check: "requireLinodeVpcSubnetRange (src/linode/vpc.ts)" },
  { id: "linode-vlan-label", provider: "linode", target: "linode_instance.interface.label", rule: "1-64 letters, digits and '-' (purpose vlan)", source: "API: Linode API v4, interface label", inputs: "site-to-site vlan.label", check: "requireVlanLabel" },
  { id: "linode-tags", provider: "linode", target: "linode_instance.tags, linode_firewall.tags", rule: "each tag 3-50 characters", source: "API: Linode API v4, Tags label", inputs: "TailscaleNodes linodeTags; NodeFirewall tags; ArticleVpnInstances tags", check: "requireLinodeTags" },
  { id: "linode-region", provider: "linode", target: "linode_instance.region, linode_vpc.region", rule: "a region Linode has", source: "API: Linode API v4, Regions", inputs: "regions[], nodes[].region, linodeRegion, region", check: "requireRegion (src/catalog/regions.ts)" },
  { id: "linode-type", provider: "linode", target: "linode_instance.type", rule: "a plan Linode has", source: "API: Linode API v4, Linode Types", inputs: "instanceType, nodes[].instanceType, routerInstanceType, clientInstanceType", check: "requireInstanceType (src/catalog/plans.ts)" },
  { id: "linode-authorized-keys", provider: "linode", target: "linode_instance.authorized_keys", rule: "OpenSSH public keys", source: "API: Linode API v4, authorized_keys", inputs: "TailscaleNodes authorizedKeys (literal lists)", check: "requireSshPublicKeys" },
  { id: "linode-firewall-rule-count", provider: "linode", target: "linode_firewall.inbound", rule: "at most 25 rules", source: "API: Linode API v4, Cloud Firewall rules", inputs: "NodeFirewall extraInbound with the built-in rules", check: "NodeFirewall (LINODE_FIREWALL_MAX_RULES)" },
  { id: "linode-user-data-size", provider: "linode", target: "linode_instance.metadata.user_data", rule: "base64 user data under the Metadata service's limit (16 KiB kept here)", source: "API: Linode Metadata service, user_data", inputs: "bootstrapExtras, localUsers, subnet-router and client scripts", check: "requireUserDataFits (src/linode/tailscale-nodes.ts)" },
  // --- Tailscale
  { id: "tailscale-key-description", provider: "tailscale", target: "tailscale_tailnet_key.description", rule: "at most 50 characters (LengthAtMost(50)); the provider's docs say alphanumeric", source: `${TAILSCALE} tailscale/resource_tailnet_key.go`, inputs: "NodeAuthKeys description; subnet-router hostname", check: "requireTailnetKeyDescription" },
  { id: "tailscale-device-wait-for", provider: "tailscale", target: "data.tailscale_device.wait_for", rule: "a Go duration greater than 1s (retryDeadlineValidator)", source: `${TAILSCALE} tailscale/validators.go, tailscale/data_source_device.go`, inputs: "joinTimeout (subnet-router stacks)", check: "requireJoinTimeout" },
  { id: "tailscale-key-tags", provider: "tailscale", target: "tailscale_tailnet_key.tags", rule: "tag:name (the API refuses other spellings and tags the policy does not own)", source: "API: Tailscale API, create auth key (the provider has no validator)", inputs: "advertiseTags, router tag, NodeAuthKeys tags", check: "requireTailscaleTag" },
  { id: "tailscale-key-expiry", provider: "tailscale", target: "tailscale_tailnet_key.expiry", rule: "at most 90 days (the API's limit; no validator in the provider)", source: "API: Tailscale API, create auth key expirySeconds", inputs: "keyExpirySeconds", check: "requireIntegerInRange (authKey.expirySeconds, 300-7776000)" },
  { id: "tailscale-device-hostname", provider: "tailscale", target: "data.tailscale_device.hostname", rule: "the hostname the node joins with (a DNS label)", source: "API: Tailscale device hostname (tailscale up --hostname)", inputs: "subnet-router hostname", check: "requireHostname" },
  // --- AWS: the provider's validators
  { id: "aws-cgw-bgp-asn", provider: "aws", target: "aws_customer_gateway.bgp_asn", rule: "Valid4ByteASN at plan, but parsed as a 32-bit signed integer at create: above 2147483647 only bgp_asn_extended works", source: `${AWS} internal/service/ec2/vpnsite_customer_gateway.go`, inputs: "customerAsn", check: "requirePrivateAsn + customerGatewayAsn (writes bgp_asn_extended)" },
  { id: "aws-vgw-amazon-side-asn", provider: "aws", target: "aws_vpn_gateway.amazon_side_asn", rule: "ValidAmazonSideASN: 64512-65534, 4200000000-4294967294 (or 7224, 9059, 10124, 17493)", source: `${AWS} internal/verify/validate.go`, inputs: "aws.amazonSideAsn", check: "requirePrivateAsn" },
  { id: "aws-vpn-inside-cidr", provider: "aws", target: "aws_vpn_connection.tunnel1_inside_cidr", rule: "a /30 in 169.254.0.0/16, not 169.254.0-5.0/30 or 169.254.169.252/30", source: `${AWS} internal/service/ec2/vpnsite_connection.go (validVPNConnectionTunnelInsideCIDR)`, inputs: "routers[].tunnelInsideCidrs", check: "requireTunnelInsideCidr" },
  { id: "aws-vpn-phase1-lifetime", provider: "aws", target: "aws_vpn_connection.tunnel1_phase1_lifetime_seconds", rule: "IntBetween(900, 28800)", source: `${AWS} internal/service/ec2/vpnsite_connection.go`, inputs: "ipsec.ikeLifetimeSeconds", check: "requireIntegerInRange" },
  { id: "aws-vpn-phase2-lifetime", provider: "aws", target: "aws_vpn_connection.tunnel1_phase2_lifetime_seconds", rule: "IntBetween(900, 3600); the API: below phase 1", source: `${AWS} internal/service/ec2/vpnsite_connection.go`, inputs: "ipsec.childLifetimeSeconds", check: "requireIntegerInRange" },
  { id: "aws-vpn-rekey-margin", provider: "aws", target: "aws_vpn_connection.tunnel1_rekey_margin_time_seconds", rule: "IntBetween(60, 1800); the API: at most half the phase 2 lifetime", source: `${AWS} internal/service/ec2/vpnsite_connection.go`, inputs: "ipsec.rekeyMarginSeconds", check: "requireIntegerInRange" },
  { id: "aws-vpn-rekey-fuzz", provider: "aws", target: "aws_vpn_connection.tunnel1_rekey_fuzz_percentage", rule: "IntBetween(0, 100)", source: `${AWS} internal/service/ec2/vpnsite_connection.go`, inputs: "ipsec.rekeyFuzzPercent", check: "requireIntegerInRange" },
  { id: "aws-vpn-dpd-timeout", provider: "aws", target: "aws_vpn_connection.tunnel1_dpd_timeout_seconds", rule: "IntAtLeast(30)", source: `${AWS} internal/service/ec2/vpnsite_connection.go`, inputs: "ipsec.awsDpdTimeoutSeconds", check: "requireIntegerInRange" },
  { id: "aws-vpn-encryption", provider: "aws", target: "aws_vpn_connection.tunnel1_phase1_encryption_algorithms", rule: "StringInSlice(AES128, AES256, AES128-GCM-16, AES256-GCM-16)", source: `${AWS} internal/service/ec2/vpnsite_connection.go`, inputs: "ipsec.proposal.encryption", check: "requireKeyOf" },
  { id: "aws-vpn-integrity", provider: "aws", target: "aws_vpn_connection.tunnel1_phase1_integrity_algorithms", rule: "StringInSlice(SHA1, SHA2-256, SHA2-384, SHA2-512)", source: `${AWS} internal/service/ec2/vpnsite_connection.go`, inputs: "ipsec.proposal.integrity", check: "requireKeyOf" },
  { id: "aws-vpn-dh-group", provider: "aws", target: "aws_vpn_connection.tunnel1_phase1_dh_group_numbers", rule: "a group AWS offers (no provider validator; the API refuses others)", source: "API: EC2 VpnTunnelOptionsSpecification Phase1DHGroupNumbers", inputs: "ipsec.proposal.dhGroup", check: "requireKeyOf (numeric)" },
  { id: "aws-vpc-cidr", provider: "aws", target: "aws_vpc.cidr_block", rule: "an IPv4 network, /16 to /28", source: "API: EC2 CreateVpc CidrBlock (the provider's own validator on this attribute was not read)", inputs: "cidr, aws.vpcCidr", check: "requireIpv4Cidr + requirePrefixLength" },
  { id: "aws-subnet-cidr", provider: "aws", target: "aws_subnet.cidr_block", rule: "an IPv4 network, /16 to /28, inside the VPC", source: "API: EC2 CreateSubnet CidrBlock (the provider's own validator on this attribute was not read)", inputs: "publicSubnets[].cidr, privateSubnets[].cidr, aws.subnetCidr", check: "requireIpv4Cidr + requirePrefixLength + requireCidrInside" },
  { id: "aws-sg-name", provider: "aws", target: "aws_security_group.name", rule: "StringLenBetween(0, 255); the API: EC2's character set, not starting with sg-", source: `${AWS} internal/service/ec2/vpc_security_group.go; API: EC2 CreateSecurityGroup GroupName`, inputs: "RuledSecurityGroup name (from name / namePrefix)", check: "requireSecurityGroupName" },
  { id: "aws-sg-description", provider: "aws", target: "aws_security_group.description", rule: "StringLenBetween(0, 255); the API: a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*", source: `${AWS} internal/service/ec2/vpc_security_group.go; API: EC2 CreateSecurityGroup GroupDescription`, inputs: "RuledSecurityGroup description", check: "requireEc2Description" },
  { id: "aws-iam-role-name", provider: "aws", target: "aws_iam_role.name", rule: "1-64 of letters, digits and +=,.@_-", source: "API: IAM CreateRole RoleName (the provider's validator was not read)", inputs: "SsmInstanceProfile name", check: "SsmInstanceProfile (src/aws/ssm-instance-profile.ts)" },
  { id: "aws-instance-private-ip", provider: "aws", target: "aws_instance.private_ip", rule: "a usable address of the subnet (not the first four or the last)", source: "API: EC2 RunInstances PrivateIpAddress, subnet reserved addresses (the provider's validator was not read)", inputs: "aws.testHost.address, target.address", check: "requireHostAddress" },
  { id: "aws-log-group-retention", provider: "aws", target: "aws_cloudwatch_log_group.retention_in_days", rule: "IntInSlice(0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)", source: `${AWS} internal/service/logs/group.go (read in the source index at a 6.7+ version, not at the tag)`, inputs: "flowLogs.retentionInDays, aws.flowLogs.retentionInDays", check: "AwsNetwork flowLogSettings (src/aws/network.ts)" },
  { id: "aws-flow-log-aggregation", provider: "aws", target: "aws_flow_log.max_aggregation_interval", rule: "IntInSlice(60, 600)", source: `${AWS} internal/service/ec2/vpc_flow_log.go (read in the source index at a 6.36-era version, not at the tag)`, inputs: "flowLogs.maxAggregationInterval, aws.flowLogs.maxAggregationInterval", check: "AwsNetwork flowLogSettings (src/aws/network.ts)" },
  { id: "aws-flow-log-traffic-type", provider: "aws", target: "aws_flow_log.traffic_type", rule: "enum TrafficType: ACCEPT, REJECT, ALL", source: `${AWS} internal/service/ec2/vpc_flow_log.go (read in the source index at a 6.36-era version, not at the tag)`, inputs: "flowLogs.trafficType, aws.flowLogs.trafficType", check: "requireOneOf" },
  { id: "aws-log-group-kms-key", provider: "aws", target: "aws_cloudwatch_log_group.kms_key_id", rule: "a KMS key ARN (no provider validator; the API refuses other values)", source: "API: CloudWatch Logs CreateLogGroup kmsKeyId", inputs: "flowLogs.kmsKeyArn, aws.flowLogs.kmsKeyArn", check: "AwsNetwork flowLogSettings (src/aws/network.ts)" },
  // --- AWS: the EC2 API's rules
  { id: "aws-sg-rule-description", provider: "aws", target: "aws_vpc_security_group_ingress_rule.description", rule: "at most 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (the provider checks this set only on aws_security_group's inline rules)", source: "API: EC2 IpRange/Ipv6Range/ReferencedSecurityGroup Description", inputs: "RuledSecurityGroup ingress[]/egress[].description", check: "requireEc2Description" },
  { id: "aws-sg-rule-ports", provider: "aws", target: "aws_vpc_security_group_ingress_rule.from_port", rule: "tcp/udp ports 0-65535 (from <= to); ICMP type and code -1-255", source: "API: EC2 IpPermission FromPort/ToPort", inputs: "RuledSecurityGroup ingress[]/egress[].fromPort, toPort", check: "requireIntegerInRange" },
  { id: "aws-region", provider: "aws", target: "provider aws.region", rule: "a region AWS has", source: "API: AWS Regions (EC2 User Guide, Regions and Zones)", inputs: "region, aws.region", check: "requireAwsRegion (src/catalog/aws-regions.ts)" },
  { id: "aws-availability-zone", provider: "aws", target: "aws_subnet.availability_zone", rule: "a zone of the region", source: "API: AWS Availability Zones (EC2 User Guide, AZ IDs)", inputs: "availabilityZone, subnets[].availabilityZone, aws.availabilityZone", check: "requireAwsAvailabilityZone (src/catalog/aws-regions.ts)" },
  // --- random
  { id: "random-password-length", provider: "random", target: "random_password.length", rule: "AtLeast(1) and at least min_upper + min_lower + min_numeric + min_special", source: `${RANDOM} internal/provider/resource_password.go (read in the source index, not pinned to the tag)`, inputs: "erlang cookieLength", check: "requireIntegerInRange (cookieLength, 32-255)" },
] as ProviderRule[]).map((r) => Object.freeze(r)) as readonly ProviderRule[];

/** One row of the table in docs/validators.md. */
export function providerRuleRow(r: ProviderRule): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  return `| ${[r.id, r.provider, `\`${r.target}\``, r.rule, r.source, r.inputs, `\`${r.check}\``].map(cell).join(" | ")} |`;
}
