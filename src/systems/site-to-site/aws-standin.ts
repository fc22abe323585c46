/**
 * REHEARSAL ONLY: the stand-in for AWS's side of one VPN connection, so the routers' rendered
 * files can be run against something. Nothing here is deployed: AWS runs its own endpoints.
 *
 * One stand-in per VPN connection (both tunnels of one router): libipsec picks an outbound SA by
 * the packet alone, so a stand-in holding tunnels to both routers would send return traffic to
 * whichever router's SA is newest, whatever BGP says; grouped per connection, the choice of router
 * is a routing decision, as at AWS. The stand-ins are responders (AWS's startup action "add"),
 * clear dead tunnels (AWS's DPD timeout action "clear"), and take the same proposal and keys the
 * routers are given. Their BGP speakers (AWS's ASN) advertise the VPC and share what they learn
 * over iBGP on the VPC segment, as AWS's VPN gateway does between connections.
 */
import { LIBIPSEC_DEVICE } from "./strongswan";
import { RouterPlan, SiteToSitePlan } from "./plan";
import { RouterValues } from "./values";

export interface StandInOptions {
  readonly updownPath: string;
}

/** swanctl.conf of the stand-in for `router`'s VPN connection (mirror image of the router's). */
export function renderStandInSwanctl(plan: SiteToSitePlan, router: RouterPlan, values: RouterValues, o: StandInOptions): string {
  const ip = plan.ipsec;
  const lines = [`# REHEARSAL stand-in for AWS: VPN connection of ${router.name}.`, "connections {"];
  router.tunnels.forEach((t, n) => {
    const v = values.tunnels[n];
    lines.push(
      `    cgw-tunnel${t.index} {`,
      "        version = 2",
      `        local_addrs = ${v.outsideAddress}`,
      `        remote_addrs = ${values.publicAddress}`,
      `        proposals = ${ip.proposal}`,
      `        dpd_delay = ${ip.dpdDelaySeconds}s`,
      "        mobike = no",
      "        encap = yes",
      "        local {",
      "            auth = psk",
      `            id = ${v.outsideAddress}`,
      "        }",
      "        remote {",
      "            auth = psk",
      `            id = ${values.publicAddress}`,
      "        }",
      "        children {",
      `            tunnel${t.index} {`,
      `                local_ts = ${v.insideCidr},${plan.aws.vpcCidr}`,
      `                remote_ts = ${v.insideCidr},${plan.vlan.cidr}`,
      `                esp_proposals = ${ip.proposal}`,
      "                dpd_action = clear",
      `                updown = ${o.updownPath} ${LIBIPSEC_DEVICE} ${t.ifId} ${v.vgwInsideAddress}/30`,
      "            }",
      "        }",
      "    }",
    );
  });
  lines.push("}", "secrets {");
  router.tunnels.forEach((t, n) => {
    const v = values.tunnels[n];
    lines.push(`    ike-cgw-tunnel${t.index} {`, `        id-1 = ${v.outsideAddress}`, `        id-2 = ${values.publicAddress}`, `        secret = "${v.presharedKey}"`, "    }");
  });
  lines.push("}", "");
  return lines.join("\n");
}

/** FRR of the stand-in's BGP speaker: AWS's ASN, eBGP to the router's two inside addresses, iBGP to the other stand-in. */
export function renderStandInFrr(
  plan: SiteToSitePlan,
  router: RouterPlan,
  values: RouterValues,
  o: { readonly vpcAddress: string; readonly peerVpcAddress: string; readonly logFile?: string },
): string {
  const b = plan.bgp;
  return [
    `! REHEARSAL stand-in for AWS's BGP speaker on the VPN connection of ${router.name}.`,
    `hostname aws-${router.key}`,
    o.logFile ? `log file ${o.logFile} informational` : "log syslog informational",
    "log timestamp precision 3",
    "!",
    `router bgp ${plan.amazonSideAsn}`,
    ` bgp router-id ${o.vpcAddress}`,
    " bgp log-neighbor-changes",
    " no bgp ebgp-requires-policy",
    " bgp fast-convergence",
    ...values.tunnels.flatMap((v) => {
      const a = v.cgwInsideAddress;
      return [` neighbor ${a} remote-as ${plan.customerAsn}`, ` neighbor ${a} timers ${b.keepaliveSeconds} ${b.holdSeconds}`, ` neighbor ${a} timers connect ${b.connectRetrySeconds}`];
    }),
    ` neighbor ${o.peerVpcAddress} remote-as ${plan.amazonSideAsn}`,
    ` neighbor ${o.peerVpcAddress} update-source ${o.vpcAddress}`,
    ` neighbor ${o.peerVpcAddress} timers 3 9`,
    ` neighbor ${o.peerVpcAddress} timers connect 5`,
    " !",
    " address-family ipv4 unicast",
    `  network ${plan.aws.vpcCidr}`,
    `  neighbor ${o.peerVpcAddress} next-hop-self`,
    " exit-address-family",
    "exit",
    "!",
    "",
  ].join("\n");
}
