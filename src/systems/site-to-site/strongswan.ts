/**
 * strongSwan for the routers: swanctl.conf (the router's two tunnels to its AWS VPN connection),
 * the charon options drop-in, and the updown script that brings a tunnel's interface up and down.
 *
 * Two data planes, one renderer:
 * - "xfrm" (production): route-based. Each tunnel is an XFRM interface (xfrm1, xfrm2) selected by
 *   its if_id; traffic selectors are 0.0.0.0/0 on both sides, as AWS's route-based VPN expects, and
 *   BGP decides what goes where. The updown script creates the interface with the tunnel's inside
 *   address and sets it up or down with the tunnel.
 * - "libipsec" (the rehearsal's): this machine's kernel has no XFRM states or interfaces, so charon
 *   runs ESP in userspace (kernel-libipsec) over one TUN device, ipsec0, policy-based only. Each
 *   tunnel's selectors are narrowed to its inside /30 plus VLAN <-> VPC, so each BGP session is
 *   pinned to its own tunnel; the updown script moves the inside address between ipsec0 and lo
 *   instead of setting an interface down (see docs/site-to-site.md for why each line differs).
 * Everything else (proposals, PSKs, identities, DPD, rekey times, start/close actions, UDP
 * encapsulation) is the same text in both.
 */
import { RouterPlan, SiteToSitePlan } from "./plan";
import { RouterValues } from "./values";

export type Dataplane = "xfrm" | "libipsec";

/** Where the router keeps each file (production). */
export const SWANCTL_CONF_PATH = "/etc/swanctl/conf.d/s2s.conf";
export const CHARON_OPTIONS_PATH = "/etc/strongswan.d/charon-s2s.conf";
export const UPDOWN_PATH = "/etc/swanctl/s2s-updown.sh";
/** The TUN device kernel-libipsec creates (rehearsal). */
export const LIBIPSEC_DEVICE = "ipsec0";

export interface SwanctlOptions {
  readonly dataplane: Dataplane;
  /** Absolute path of the updown script as the router sees it. @default UPDOWN_PATH */
  readonly updownPath?: string;
}

const CHILD = (i: number) => `tunnel${i}`;
const CONN = (i: number) => `aws-tunnel${i}`;

/** The router's swanctl.conf: one IKE connection per tunnel, each with one CHILD_SA, and their PSKs. */
export function renderSwanctlConf(plan: SiteToSitePlan, router: RouterPlan, values: RouterValues, o: SwanctlOptions): string {
  const ip = plan.ipsec;
  const updown = o.updownPath ?? UPDOWN_PATH;
  const lines: string[] = [
    `# Managed by the site-to-site stack: ${router.name}, AWS VPN connection ${router.key} (two tunnels).`,
    `# Data plane: ${o.dataplane === "xfrm" ? "route-based, one XFRM interface per tunnel" : "REHEARSAL: kernel-libipsec (userspace ESP over ipsec0), policy-based"}.`,
    "connections {",
  ];
  router.tunnels.forEach((t, n) => {
    const v = values.tunnels[n];
    const dev = o.dataplane === "xfrm" ? t.interfaceName : LIBIPSEC_DEVICE;
    lines.push(
      `    ${CONN(t.index)} {`,
      "        version = 2",
      `        local_addrs = ${values.publicAddress}`,
      `        remote_addrs = ${v.outsideAddress}`,
      `        proposals = ${ip.proposal}`,
      // Rekey before AWS does (see planIpsec); charon subtracts up to 10 % at random.
      `        rekey_time = ${ip.ikeRekeySeconds}s`,
      `        dpd_delay = ${ip.dpdDelaySeconds}s`,
      // Keep retrying after failures: the tunnel must come back on its own.
      "        keyingtries = 0",
      "        mobike = no",
      // ESP in UDP 4500: Linode's Cloud Firewall can't pass raw ESP (IP protocol 50).
      "        encap = yes",
      "        local {",
      "            auth = psk",
      `            id = ${values.publicAddress}`,
      "        }",
      "        remote {",
      "            auth = psk",
      `            id = ${v.outsideAddress}`,
      "        }",
      "        children {",
      `            ${CHILD(t.index)} {`,
      ...(o.dataplane === "xfrm"
        ? [
            "                local_ts = 0.0.0.0/0",
            "                remote_ts = 0.0.0.0/0",
            `                if_id_in = ${t.ifId}`,
            `                if_id_out = ${t.ifId}`,
          ]
        : [
            // REHEARSAL: this tunnel's inside /30 (its BGP session) and the data between the clouds.
            `                local_ts = ${v.insideCidr},${plan.vlan.cidr}`,
            `                remote_ts = ${v.insideCidr},${plan.aws.vpcCidr}`,
          ]),
      `                esp_proposals = ${ip.proposal}`,
      `                rekey_time = ${ip.childRekeySeconds}s`,
      "                dpd_action = restart",
      "                close_action = start",
      "                start_action = start",
      `                updown = ${updown} ${dev} ${t.ifId} ${v.cgwInsideAddress}/30`,
      "            }",
      "        }",
      "    }",
    );
  });
  lines.push("}", "secrets {");
  router.tunnels.forEach((t, n) => {
    const v = values.tunnels[n];
    lines.push(
      `    ike-${CONN(t.index)} {`,
      `        id-1 = ${values.publicAddress}`,
      `        id-2 = ${v.outsideAddress}`,
      `        secret = "${v.presharedKey}"`,
      "    }",
    );
  });
  lines.push("}", "");
  return lines.join("\n");
}

export interface CharonOptions {
  readonly dataplane: Dataplane;
}

/** A strongswan.d drop-in with the charon options the tunnels rely on. */
export function renderCharonOptions(plan: SiteToSitePlan, o: CharonOptions): string {
  const r = plan.ipsec.retransmit;
  return [
    "# Managed by the site-to-site stack.",
    "charon {",
    ...(o.dataplane === "libipsec"
      ? [
          // REHEARSAL: userspace ESP; kernel-libipsec must come before kernel-netlink.
          "    load = random nonce aes sha1 sha2 hmac gmp kdf kernel-libipsec kernel-netlink socket-default vici updown",
        ]
      : []),
    "    # Routes come from BGP over the tunnels' interfaces; a charon route for 0.0.0.0/0 would take everything.",
    "    install_routes = no",
    `    # DPD: a silent peer is declared dead ${Math.round((plan.ipsec.routerDeadAfterSeconds - plan.ipsec.dpdDelaySeconds) * 100) / 100} s after the first unanswered probe.`,
    `    retransmit_timeout = ${r.timeout}`,
    `    retransmit_base = ${r.base}`,
    `    retransmit_tries = ${r.tries}`,
    ...(o.dataplane === "libipsec"
      ? [
          "    plugins {",
          "        kernel-netlink {",
          "            # REHEARSAL: kernel-libipsec writes its own routes to table 220 whatever install_routes says;",
          "            # its rule then only matches this mark, which nothing sets, so BGP's routes decide.",
          "            fwmark = 0x220",
          "        }",
          "    }",
        ]
      : []),
    "}",
    "",
  ].join("\n");
}

export interface UpdownOptions {
  readonly dataplane: Dataplane;
  /** The router's public interface, parent of the XFRM interfaces. */
  readonly publicInterface: string;
}

/**
 * The updown script charon runs per tunnel: `<script> <interface> <if_id> <inside address/30>`.
 * up-client brings the tunnel's interface (and so its connected /30, the BGP neighbour) up;
 * down-client takes it down, so zebra drops the routes through it at once (nexthop tracking) and
 * `bgp fast-convergence` resets the session, instead of waiting out the 30 s hold timer.
 *
 * Race guard: a tunnel re-established at once (peer DELETE and close_action=start) can run the new
 * CHILD_SA's up-client before the old one's down-client. up-client records the IKE_SA's unique id
 * (which only grows within one charon); a down-client from an older IKE_SA is ignored.
 */
export function renderUpdownScript(o: UpdownOptions): string {
  if (!/^[a-z][a-z0-9]{0,14}$/.test(o.publicInterface)) throw new Error(`publicInterface ${JSON.stringify(o.publicInterface)} is not an interface name`);
  const up =
    o.dataplane === "xfrm"
      ? [
          `    ip link show dev "$IFACE" >/dev/null 2>&1 || ip link add "$IFACE" type xfrm dev ${o.publicInterface} if_id "$IFID"`,
          '    ip addr replace "$INSIDE" dev "$IFACE"',
          '    ip link set dev "$IFACE" up',
        ]
      : [
          "    # REHEARSAL: one shared TUN device; the tunnel's address moves back from lo.",
          '    ip addr del "$ADDR/32" dev lo 2>/dev/null',
          '    ip addr replace "$INSIDE" dev "$IFACE"',
        ];
  const down =
    o.dataplane === "xfrm"
      ? ['    ip link set dev "$IFACE" down']
      : [
          "    # REHEARSAL: park the address on lo: the connected /30 goes (as with the interface down),",
          "    # and kernel-libipsec still finds a local address inside the selectors when the tunnel returns.",
          '    ip addr del "$INSIDE" dev "$IFACE" 2>/dev/null',
          '    ip addr replace "$ADDR/32" dev lo',
        ];
  return [
    "#!/bin/sh",
    "# Managed by the site-to-site stack. strongSwan updown for one tunnel:",
    "#   s2s-updown.sh <interface> <if_id> <inside address/prefix>",
    "set -u",
    'IFACE="$1"',
    'IFID="$2"',
    'INSIDE="$3"',
    'ADDR="${INSIDE%/*}"',
    'OWNER="/run/s2s-updown-$ADDR.owner"',
    'note() { echo "$(date +%T) ${PLUTO_VERB:-?} ike#${PLUTO_UNIQUEID:-?} $IFACE if_id $IFID $INSIDE $*" >> /run/s2s-updown.log; }',
    'case "${PLUTO_VERB:-}" in',
    "  up-client)",
    '    echo "${PLUTO_UNIQUEID:-0}" > "$OWNER"',
    ...up,
    "    note",
    "    ;;",
    "  down-client)",
    '    owner=$(cat "$OWNER" 2>/dev/null || echo 0)',
    '    case "$owner" in *[!0-9]*|"") owner=0 ;; esac',
    '    if [ "$owner" -gt "${PLUTO_UNIQUEID:-0}" ]; then',
    '      note "ignored: the address belongs to ike#$owner"',
    "      exit 0",
    "    fi",
    ...down,
    "    note",
    "    ;;",
    "esac",
    "exit 0",
    "",
  ].join("\n");
}

/**
 * Why a `swanctl --load-all` failed, from its output, or null when it loaded every connection and
 * secret. swanctl exits 0 on a syntax error, so its output is what tells.
 */
export function swanctlLoadProblem(output: string): string | null {
  const bad = output.split("\n").find((l) => /error|failed|invalid|unable|no such|not found/i.test(l));
  if (bad) return bad.trim();
  if (!/successfully loaded \d+ connections?, 0 unloaded/.test(output)) return "no 'successfully loaded N connections' line";
  if (!/loaded ike secret/.test(output)) return "no pre-shared key was loaded";
  return null;
}

/** The same rule as swanctlLoadProblem, for the router's shell (grep -E patterns). */
export const SWANCTL_LOAD_ERROR_PATTERN = "error|failed|invalid|unable|no such|not found";
export const SWANCTL_LOAD_OK_PATTERN = "successfully loaded [0-9]+ connections?, 0 unloaded";
