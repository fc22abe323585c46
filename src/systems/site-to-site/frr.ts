/**
 * FRRouting (zebra + bgpd) for a router: eBGP to AWS's inside address of each tunnel, iBGP to the
 * other router over the VLAN as the article has it (next-hop-self, soft-reconfiguration inbound),
 * the VLAN advertised. Both data planes use the same text.
 *
 * Filters make the eBGP sessions explicit (FRR refuses to exchange eBGP routes without a policy):
 * only the AWS VPC's block (and its subnets) is taken from AWS, only the VLAN is sent to it, so a
 * router never re-advertises to AWS what it learned from the other router.
 */
import { RouterPlan, SiteToSitePlan } from "./plan";
import { RouterValues } from "./values";

export const FRR_CONF_PATH = "/etc/frr/frr.conf";

export interface FrrOptions {
  /** Log to this file (the rehearsal's logs); @default syslog */
  readonly logFile?: string;
}

export function renderFrrConf(plan: SiteToSitePlan, router: RouterPlan, values: RouterValues, o: FrrOptions = {}): string {
  const peer = plan.routers.find((r) => r.key !== router.key)!;
  const b = plan.bgp;
  const neighbour = (addr: string, remoteAs: string | number, description: string) => [
    ` neighbor ${addr} remote-as ${remoteAs}`,
    ` neighbor ${addr} description ${description}`,
    ` neighbor ${addr} timers ${b.keepaliveSeconds} ${b.holdSeconds}`,
    ` neighbor ${addr} timers connect ${b.connectRetrySeconds}`,
  ];
  const aws = router.tunnels.map((t, n) => ({ t, v: values.tunnels[n] }));
  return [
    `! Managed by the site-to-site stack: ${router.name} (${router.state}), AS ${plan.customerAsn}.`,
    `hostname ${router.name}`,
    o.logFile ? `log file ${o.logFile} informational` : "log syslog informational",
    "log timestamp precision 3",
    "!",
    `ip prefix-list S2S-FROM-AWS seq 5 permit ${plan.aws.vpcCidr} le 32`,
    `ip prefix-list S2S-TO-AWS seq 5 permit ${plan.vlan.cidr}`,
    "!",
    "route-map S2S-FROM-AWS permit 10",
    " match ip address prefix-list S2S-FROM-AWS",
    "exit",
    "!",
    "route-map S2S-TO-AWS permit 10",
    " match ip address prefix-list S2S-TO-AWS",
    "exit",
    "!",
    `router bgp ${plan.customerAsn}`,
    ` bgp router-id ${router.vlanAddress}`,
    " bgp log-neighbor-changes",
    // A session whose tunnel went down (its interface with it) is reset at once, not after the hold time.
    " bgp fast-convergence",
    ...aws.flatMap(({ t, v }) => neighbour(v.vgwInsideAddress, v.bgpAsn, `aws-tunnel${t.index}`)),
    ...neighbour(peer.vlanAddress, plan.customerAsn, `ibgp-${peer.name}`),
    ` neighbor ${peer.vlanAddress} update-source ${router.vlanAddress}`,
    " !",
    " address-family ipv4 unicast",
    `  network ${plan.vlan.cidr}`,
    ...aws.flatMap(({ v }) => [
      `  neighbor ${v.vgwInsideAddress} soft-reconfiguration inbound`,
      `  neighbor ${v.vgwInsideAddress} route-map S2S-FROM-AWS in`,
      `  neighbor ${v.vgwInsideAddress} route-map S2S-TO-AWS out`,
    ]),
    `  neighbor ${peer.vlanAddress} next-hop-self`,
    `  neighbor ${peer.vlanAddress} soft-reconfiguration inbound`,
    " exit-address-family",
    "exit",
    "!",
    "",
  ].join("\n");
}
