/**
 * Checkov findings the project accepts on purpose, each with its reason: the one place they are
 * listed. Stacks are the example app's (src/app.ts); addresses are the plan's, where `*` matches
 * anything. An entry whose check no longer fires on a listed stack and resource is reported
 * as stale (plan.md and __tests__/scanner.test.ts), so the list can't outlive the findings.
 *
 * What each check inspects, read at checkov 3.3.30 (PyPI sdist, checkov/terraform/checks/):
 * CKV_LIN_2 resource/linode/authorized_keys.py (`authorized_keys` set), CKV_LIN_6
 * resource/linode/firewall_outbound_policy.py (`outbound_policy` == DROP), CKV_AWS_88
 * resource/aws/EC2PublicIP.py (`associate_public_ip_address` not true), CKV_AWS_126
 * resource/aws/EC2DetailedMonitoringEnabled.py (`monitoring` true), CKV_AWS_135
 * resource/aws/EC2EBSOptimized.py (`ebs_optimized` true), CKV2_AWS_41
 * graph_checks/aws/EC2InstanceHasIAMRoleAttached.json (`iam_instance_profile` exists).
 *
 * CKV_AWS_158 resource/aws/CloudWatchLogGroupKMSKey.py (`kms_key_id` set).
 *
 * Fixed rather than accepted: CKV2_AWS_11 (VPC flow logs) and CKV2_AWS_12 (the VPC's default security
 * group restricts all traffic), both by src/aws/network.ts (graph_checks/aws/VPCHasFlowLog.json,
 * VPCHasRestrictedSG.json).
 */
export interface AcceptedFinding {
  /** Checkov check id. */
  readonly check: string;
  /** Stack → plan addresses; `*` matches anything (e.g. every key of a for_each). */
  readonly where: Readonly<Record<string, readonly string[]>>;
  readonly reason: string;
}

export const ACCEPTED_FINDINGS: readonly AcceptedFinding[] = [
  {
    check: "CKV_LIN_2",
    where: {
      mesh: ["linode_instance.node_*[*]"],
      "erlang-cluster": ["linode_instance.erlang_*[*]"],
      "site-to-site": ["linode_instance.client_client_1"],
      "subnet-router-linode": ["linode_instance.router", "linode_instance.target"],
    },
    reason:
      "these nodes boot from cloud-init (Linode Metadata) and have no SSH key and no port 22 open: administrators use Tailscale SSH, checked by the tailnet policy, and a key would add a second way in (with remote-exec delivery the key is set and the check passes)",
  },
  {
    check: "CKV_LIN_6",
    where: {
      mesh: ["linode_firewall.mesh"],
      "erlang-cluster": ["linode_firewall.erlang"],
      "site-to-site": ["linode_firewall.clients", "linode_firewall.routers"],
      "subnet-router-linode": ["linode_firewall.router"],
    },
    reason:
      "a tailnet node connects out to the coordination server, DERP relays and STUN (addresses that change), package mirrors, and peers' WireGuard ports chosen by NAT traversal; Cloud Firewall rules are by address and port, so an outbound DROP policy would need an allow-list that can't be written in advance (inbound is DROP)",
  },
  {
    check: "CKV_AWS_88",
    where: { "subnet-router-aws": ["aws_instance.router"] },
    reason:
      "the subnet router needs a public address so peers reach it directly on UDP 41641 rather than through a DERP relay (the article opens that port for this); its security group admits only that port, no SSH (shell through SSM)",
  },
  {
    check: "CKV_AWS_126",
    where: { "subnet-router-aws": ["aws_instance.router", "aws_instance.target"], "site-to-site": ["aws_instance.test_host"] },
    reason: "detailed (1-minute) CloudWatch monitoring is billed per instance; basic 5-minute monitoring stays on, and the probe measures the network itself",
  },
  {
    check: "CKV_AWS_135",
    where: { "subnet-router-aws": ["aws_instance.router", "aws_instance.target"], "site-to-site": ["aws_instance.test_host"] },
    reason:
      "the default t3.micro, like every Nitro type, is EBS-optimized whatever the argument says; setting `ebs_optimized = true` would make apply fail for the types without the option (t2) that `instanceType` allows",
  },
  {
    check: "CKV2_AWS_41",
    where: { "subnet-router-aws": ["aws_instance.target"], "site-to-site": ["aws_instance.test_host"] },
    reason: "the private target and the VPN test host call no AWS API: without an instance profile they hold no AWS credentials at all (the router has one, for SSM only)",
  },
  {
    check: "CKV_AWS_158",
    where: { "subnet-router-aws": ["aws_cloudwatch_log_group.vpc_flow_logs"], "site-to-site": ["aws_cloudwatch_log_group.vpc_flow_logs"] },
    reason:
      "CloudWatch Logs encrypts every log group at rest with keys it manages; a customer-managed KMS key costs a monthly fee plus requests, needs a key policy that lets the logs service use it, and is only scheduled for deletion (7-30 days) on destroy. Whose key and which policy is the user's decision: `flowLogs.kmsKeyArn` takes one, and with it the check passes",
  },
];
