/**
 * Measures the probe's own all-pairs scheduler on a virtual clock: the real `runProbe` with a
 * stand-in transport whose commands take fixed virtual time, so a 100-node run (9,900 pairs,
 * ~38 h of pair-time) is timed in seconds and exactly. Used by the tests and `npm run bench:schedule`.
 */
import { LINODE_REGIONS } from "../catalog/regions";
import { allPairsRoundBound, runProbe } from "./runner";
import { MeshNode } from "./types";
import { TimedStandInTransport, VirtualClock } from "./virtual-clock";
import { RunResult } from "./transport";

export interface ScheduleSimOptions {
  readonly nodes: number;
  /** undefined: the probe's default. */
  readonly concurrency?: number;
  /** Virtual seconds of ICMP ping per pair. @default 2 */
  readonly pingS?: number;
  /** Virtual seconds of iperf3 per pair. @default 12 (ping + iperf3 = 14 s a pair) */
  readonly iperfS?: number;
  /** Per-pair jitter: pair i's iperf3 takes iperfS × (1 + jitter × u_i), u_i in [-1, 1], deterministic. @default 0 */
  readonly jitter?: number;
}

export interface ScheduleSimResult {
  readonly nodes: number;
  readonly concurrency: number;
  readonly pairs: number;
  /** Virtual makespan, seconds. */
  readonly makespanS: number;
  /** Makespan in mean pair-times. */
  readonly pairTimes: number;
  /** Lower bound in rounds (= pair-times when all pairs take the same time). */
  readonly boundRounds: number;
  /** pairTimes / boundRounds: 1.0 is the round bound exactly. */
  readonly ratioToRounds: number;
  /** Makespan / the busiest node's total test time (a bound whatever the durations). */
  readonly ratioToNodeWork: number;
  /** Most pairs measured at once. */
  readonly maxParallel: number;
  /** Times two tests overlapped on one node (must be 0). */
  readonly overlaps: number;
}

export const simNodes = (n: number): MeshNode[] =>
  Array.from({ length: n }, (_, i) => {
    const region = LINODE_REGIONS[i % LINODE_REGIONS.length].slug;
    return { key: `n${String(i).padStart(4, "0")}`, label: `n${i}`, region, tailnetIp: `100.64.${Math.floor(i / 250)}.${(i % 250) + 1}` };
  });

const ok = (stdout: string): RunResult => ({ code: 0, stdout, stderr: "" });
const PING_OUT = "5 packets transmitted, 5 received, 0% packet loss, time 800ms\nrtt min/avg/max/mdev = 1.000/1.000/1.000/0.000 ms\n";
const IPERF_OUT = JSON.stringify({ start: { test_start: { num_streams: 1, reverse: 0, duration: 10 } }, end: { sum_sent: { bits_per_second: 1e9, retransmits: 0 }, sum_received: { bits_per_second: 1e9, seconds: 10 } } });

/** A deterministic value in [-1, 1] per pair, so jittered runs are repeatable. */
function unit(a: string, b: string): number {
  let h = 2166136261;
  for (const c of `${a}>${b}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return (h / 0xffffffff) * 2 - 1;
}

export async function simulateAllPairs(o: ScheduleSimOptions): Promise<ScheduleSimResult> {
  const pingMs = (o.pingS ?? 2) * 1000;
  const iperfMs = (o.iperfS ?? 12) * 1000;
  const jitter = o.jitter ?? 0;
  const nodes = simNodes(o.nodes);
  const byIp = new Map(nodes.map((n) => [n.tailnetIp as string, n.key]));
  const clock = new VirtualClock();
  const work = new Map<string, number>(); // node -> busy ms
  const pairMs = (src: string, dst: string): number => pingMs + iperfMs * (1 + jitter * unit(src, dst));
  const transport = new TimedStandInTransport(
    clock,
    (node, argv) => {
      const dst = byIp.get(argv[argv.length - 1]) ?? byIp.get(argv[2]) ?? "";
      if (argv[0] === "ping") return pingMs;
      if (argv[0] === "iperf3") return pairMs(node.key, dst) - pingMs;
      return 0;
    },
    (_node, argv) => {
      if (argv[0] === "tailscale") return { code: 127, stdout: "", stderr: "sh: 1: tailscale: not found\n" };
      if (argv[0] === "ping") return ok(PING_OUT);
      return ok(IPERF_OUT);
    },
  );
  const run = await clock.run(() =>
    runProbe({ nodes, transport, plan: { mode: "all-pairs" }, options: { concurrency: o.concurrency, sleep: clock.sleep } }),
  );
  // Busy intervals per node from what actually ran: a pair spans its ping start to its iperf3 end.
  const spans = new Map<string, { start: number; end: number; a: string; b: string }>();
  for (const e of transport.log) {
    if (e.argv[0] !== "ping" && e.argv[0] !== "iperf3") continue;
    const dst = byIp.get(e.argv[0] === "ping" ? e.argv[e.argv.length - 1] : e.argv[2]) as string;
    const id = `${e.node}>${dst}`;
    const s = spans.get(id);
    if (!s) spans.set(id, { start: e.start, end: e.end, a: e.node, b: dst });
    else spans.set(id, { ...s, start: Math.min(s.start, e.start), end: Math.max(s.end, e.end) });
  }
  const perNode = new Map<string, Array<[number, number]>>();
  for (const s of spans.values()) {
    for (const k of [s.a, s.b]) {
      if (!perNode.has(k)) perNode.set(k, []);
      perNode.get(k)!.push([s.start, s.end]);
      work.set(k, (work.get(k) ?? 0) + (s.end - s.start));
    }
  }
  let overlaps = 0;
  for (const list of perNode.values()) {
    list.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < list.length; i++) if (list[i][0] < list[i - 1][1]) overlaps++;
  }
  const events = [...spans.values()].flatMap((s) => [[s.start, 1], [s.end, -1]] as Array<[number, number]>);
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let maxParallel = 0;
  for (const [, d] of events) maxParallel = Math.max(maxParallel, (now += d));
  const makespan = clock.now;
  const meanPair = [...spans.values()].reduce((t, s) => t + (s.end - s.start), 0) / Math.max(1, spans.size);
  const boundRounds = allPairsRoundBound(o.nodes);
  const maxWork = Math.max(...work.values());
  return {
    nodes: o.nodes,
    concurrency: run.settings?.concurrency ?? 0,
    pairs: run.pairs.length,
    makespanS: makespan / 1000,
    pairTimes: makespan / meanPair,
    boundRounds,
    ratioToRounds: makespan / meanPair / boundRounds,
    ratioToNodeWork: makespan / maxWork,
    maxParallel,
    overlaps,
  };
}
