/**
 * A NAT in front of a lab tailnet node: a namespace between the node and the switch that forwards
 * and masquerades with nftables, as a home router or a cloud NAT gateway would.
 *
 *   node ns  eth0 100.115.93.<16k+2>/28 ── lan0 100.115.93.<16k+1>/28  NAT ns  eth0 <public> ── switch
 *
 * Two mappings (RFC 4787 terms):
 * - "endpoint-independent": plain `masquerade`. Linux NAT keeps the source port when the
 *   translated tuple is free (nf_nat_core.c get_unique_tuple returns early), so the node's UDP port
 *   maps to the same public port whatever the destination: STUN tells the truth, hole punching works.
 * - "symmetric": `masquerade random`. With NF_NAT_RANGE_PROTO_RANDOM the kernel skips that early
 *   return and draws a port for every new conntrack entry, i.e. for every destination address and
 *   port: the port STUN saw is not the one a peer sees, so hole punching between two such NATs fails.
 * Filtering is conntrack's in both: only replies to what went out come back in (port-restricted).
 * Unsolicited packets to the NAT itself are dropped in its input chain, as a router's firewall
 * does. Without that drop the kernel answers them (port unreachable) and keeps a conntrack entry
 * for each, which the peer's retries keep alive; the node's own later packet to that peer then
 * clashes with it and is given another port, so even the plain masquerade stopped being
 * endpoint-independent: in the first run without it, the pair behind two such NATs stayed on DERP.
 * Dropped before the entry is confirmed, the packet leaves no entry behind.
 *
 * Addresses: the LANs are in 100.115.93.0/24, inside the ChromeOS range tailscaled exempts from
 * its ts-input drop (see tailnet-lab.ts); the NAT's outside address is on the lab's switch. No
 * namespace gets a default route: the node routes only the switch's /24 through its NAT.
 */
import { readFileSync } from "fs";
import { TailnetLab, UNDERLAY_PREFIX } from "./tailnet-lab";

export type NatMapping = "endpoint-independent" | "symmetric";

/** The NAT namespace's nftables ruleset (pure): masquerade what leaves `wan`, randomly when symmetric. */
export function natRuleset(mapping: NatMapping, wan = "eth0"): string {
  return `table ip labnat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${wan}" masquerade${mapping === "symmetric" ? " random" : ""}
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "${wan}" ct state new drop
  }
}
`;
}

export interface LabNat {
  readonly ns: string;
  /** The NAT's address on the switch (what peers and the control server see). */
  readonly publicIp: string;
  /** The NAT's address on the node's LAN (the node's gateway). */
  readonly lanIp: string;
  readonly mapping: NatMapping;
}

/**
 * Returns an `attach` for TailnetLab.addNode: it makes the NAT namespace `nat<index>` (index 0-14),
 * plugs it into the switch at 100.115.92.<200+index>, links the node to it and routes the switch's
 * /24 through it. `out` receives the NAT's description.
 */
export function behindNat(lab: TailnetLab, index: number, mapping: NatMapping, out: (nat: LabNat) => void): (nodeNs: string) => string {
  if (!Number.isInteger(index) || index < 0 || index > 14) throw new Error(`NAT index ${index} must be 0-14`);
  return (nodeNs: string) => {
    const ns = lab.net.namespace(`nat${index}`);
    const publicIp = `${UNDERLAY_PREFIX}.${200 + index}`;
    lab.plug(ns, publicIp);
    const base = 16 * index;
    const lanIp = `100.115.93.${base + 1}`;
    const nodeIp = `100.115.93.${base + 2}`;
    lab.net.link({ ns, dev: "lan0" }, { ns: nodeNs, dev: "eth0" });
    lab.net.address(ns, "lan0", `${lanIp}/28`);
    lab.net.address(nodeNs, "eth0", `${nodeIp}/28`);
    lab.net.route(nodeNs, `${UNDERLAY_PREFIX}.0/24`, "eth0", lanIp);
    lab.net.must(ns, "sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    lab.net.must(ns, "nft", ["-f", "-"], { input: natRuleset(mapping) });
    out({ ns, publicIp, lanIp, mapping });
    return nodeIp;
  };
}

/**
 * The public ports a NAT gives one local UDP port towards two destinations (two ports of the
 * control namespace): equal for an endpoint-independent mapping, different for a symmetric one.
 * Node's own UDP sockets (process.execPath) on both ends; bounded (10 s).
 */
export async function observedNatPorts(lab: TailnetLab, nodeNs: string, localPort = 45000): Promise<{ local: number; seen: number[] }> {
  const ctlIp = `${UNDERLAY_PREFIX}.1`;
  const ports = [9101, 9102];
  const receiver = lab.net.spawn(
    lab.controlNs,
    `udp-echo-${nodeNs}`,
    [
      process.execPath,
      "-e",
      `const d=require("dgram");for(const p of ${JSON.stringify(ports)}){const s=d.createSocket("udp4");` +
        `s.on("message",(m,r)=>{console.log(p+" "+r.port);});s.bind(p,${JSON.stringify(ctlIp)},()=>console.log("bound "+p));}` +
        "setTimeout(()=>process.exit(0),10000);",
    ],
  );
  const log = () => {
    try {
      return readFileSync(receiver.log, "utf8");
    } catch {
      return "";
    }
  };
  try {
    if (!(await lab.net.waitFor(() => ports.every((p) => log().includes(`bound ${p}`)), 5000))) throw new Error(`UDP receiver did not start: ${log()}`);
    lab.net.must(
      nodeNs,
      process.execPath,
      [
        "-e",
        `const s=require("dgram").createSocket("udp4");s.bind(${localPort},()=>{let n=0;` +
          `for(const p of ${JSON.stringify(ports)})s.send("nat?",p,${JSON.stringify(ctlIp)},()=>{if(++n===${ports.length})setTimeout(()=>s.close(),300);});});`,
      ],
      { timeoutMs: 5000 },
    );
    const got = () => ports.map((p) => new RegExp(`^${p} (\\d+)$`, "m").exec(log())?.[1]);
    if (!(await lab.net.waitFor(() => got().every(Boolean), 3000))) throw new Error(`the NAT passed no probe to the control namespace: ${log()}`);
    return { local: localPort, seen: got().map(Number) };
  } finally {
    await lab.net.stopAndWait(receiver, 1000);
  }
}
