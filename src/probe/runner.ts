/**
 * Runs the probes. For each ordered pair (source → destination) it runs, on the source node:
 * `tailscale status --json` (once per source: online? tailnet IP? path?), `tailscale ping` (path and
 * latency), ICMP `ping`, and `iperf3 -c` against the destination's tailnet IP.
 *
 * A node takes part in one pair at a time: a ping that shares a link with someone else's iperf3
 * measures queueing, not the path, and an iperf3 server serves one test at a time. All pairs run in
 * node-disjoint rounds (a round-robin tournament, both directions), every node busy in every round.
 */
import { MeshNode, PairMeasurement, PathInfo, ProbeMode, ProbeRun, ProbeSettings, RUN_SCHEMA } from "./types";
import { RunResult, Transport } from "./transport";
import { parsePing } from "./parse-ping";
import { parseIperf3 } from "./parse-iperf3";
import {
  findInStatus,
  firstIpv4,
  isCommandMissing,
  parsePeerRelayEndpoint,
  parseTailscalePing,
  parseTailscaleStatus,
  pathFromStatusPeer,
  TailscalePeer,
  TailscaleStatus,
} from "./parse-tailscale";

export interface ProbeOptions {
  /** ICMP echo requests per pair (`ping -c`). */
  readonly pingCount?: number;
  /** Seconds between echo requests (`ping -i`); below 0.2 needs root on older iputils. */
  readonly pingIntervalS?: number;
  /** Seconds to wait for each reply (`ping -W`). */
  readonly pingWaitS?: number;
  /** Disco pings at most (`tailscale ping -c`); it stops at the first direct pong. */
  readonly tailscalePingCount?: number;
  /** Per-pong timeout of `tailscale ping --timeout`, seconds. */
  readonly tailscalePingTimeoutS?: number;
  /** `iperf3 -t`. */
  readonly iperfDurationS?: number;
  /** `iperf3 -O`: seconds of TCP slow start left out of the average. */
  readonly iperfOmitS?: number;
  /** `iperf3 -P`. */
  readonly iperfParallel?: number;
  /** `iperf3 -R`: measure destination → source instead. */
  readonly iperfReverse?: boolean;
  readonly iperfPort?: number;
  /** Retries when the server answers "busy" (someone else's test). */
  readonly iperfRetries?: number;
  readonly iperfRetryDelayMs?: number;
  /**
   * `external`: an `iperf3 -s` already listens on every destination. `managed`: the probe starts
   * one per destination (daemon, bound to the tailnet IP, pidfile) and stops it by its pid after.
   */
  readonly iperfServer?: "external" | "managed";
  /**
   * Most pairs measured at once (pairs never share a node). @default all-pairs: ⌊N/2⌋, a whole
   * round; --from: 1 (every pair starts on the source node)
   */
  readonly concurrency?: number;
  /** Also measure a node to its own tailnet IP (the article's first row). */
  readonly includeSelf?: boolean;
  readonly statusTimeoutMs?: number;
  /** Progress lines (stderr in the CLI). */
  readonly log?: (line: string) => void;
  /** For tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

type Resolved = Required<Omit<ProbeOptions, "log" | "sleep" | "includeSelf" | "concurrency">> & {
  readonly includeSelf: boolean | undefined;
  /** undefined: the default for the plan (see defaultConcurrency). */
  readonly concurrency: number | undefined;
  readonly log: (line: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
};

export const PROBE_DEFAULTS = {
  pingCount: 5,
  pingIntervalS: 0.2,
  pingWaitS: 2,
  tailscalePingCount: 5,
  tailscalePingTimeoutS: 5,
  // iperf3's own default length; -O 1 keeps the first second of slow start out of the mean.
  iperfDurationS: 10,
  iperfOmitS: 1,
  iperfParallel: 1,
  iperfReverse: false,
  iperfPort: 5201,
  iperfRetries: 2,
  iperfRetryDelayMs: 2000,
  iperfServer: "external" as const,
  statusTimeoutMs: 15_000,
};

function positiveInt(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${name} must be an integer in 1..${max}, got ${v}`);
  return v;
}
function nonNegative(name: string, v: number, max: number): number {
  if (!Number.isFinite(v) || v < 0 || v > max) throw new Error(`${name} must be a number in 0..${max}, got ${v}`);
  return v;
}

/** Half of the largest mesh the stacks accept (2,000 nodes): one whole round. */
export const MAX_CONCURRENCY = 1000;
/** Management sessions used at once to start or stop managed iperf3 servers. */
const SERVER_SESSIONS = 8;

export function resolveOptions(o: ProbeOptions = {}): Resolved {
  const r = { ...PROBE_DEFAULTS, ...stripUndefined(o) };
  positiveInt("pingCount", r.pingCount, 1000);
  nonNegative("pingIntervalS", r.pingIntervalS, 60);
  if (r.pingIntervalS < 0.002) throw new Error(`pingIntervalS must be >= 0.002 s, got ${r.pingIntervalS}`);
  positiveInt("pingWaitS", r.pingWaitS, 60);
  positiveInt("tailscalePingCount", r.tailscalePingCount, 100);
  positiveInt("tailscalePingTimeoutS", r.tailscalePingTimeoutS, 60);
  positiveInt("iperfDurationS", r.iperfDurationS, 3600);
  if (!Number.isInteger(r.iperfOmitS)) throw new Error(`iperfOmitS must be an integer, got ${r.iperfOmitS}`);
  nonNegative("iperfOmitS", r.iperfOmitS, 600);
  positiveInt("iperfParallel", r.iperfParallel, 128);
  positiveInt("iperfPort", r.iperfPort, 65535);
  if (!Number.isInteger(r.iperfRetries)) throw new Error(`iperfRetries must be an integer, got ${r.iperfRetries}`);
  nonNegative("iperfRetries", r.iperfRetries, 20);
  nonNegative("iperfRetryDelayMs", r.iperfRetryDelayMs, 600_000);
  if (r.concurrency !== undefined) positiveInt("concurrency", r.concurrency, MAX_CONCURRENCY);
  positiveInt("statusTimeoutMs", r.statusTimeoutMs, 600_000);
  if (r.iperfServer !== "external" && r.iperfServer !== "managed") {
    throw new Error(`iperfServer must be "external" or "managed", got "${String(r.iperfServer)}"`);
  }
  return {
    ...r,
    includeSelf: o.includeSelf,
    concurrency: r.concurrency,
    log: o.log ?? (() => undefined),
    sleep: o.sleep ?? ((ms) => new Promise((res) => setTimeout(res, ms))),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function settingsOf(r: Resolved, concurrency: number): ProbeSettings {
  return {
    pingCount: r.pingCount,
    pingIntervalS: r.pingIntervalS,
    tailscalePingCount: r.tailscalePingCount,
    iperfDurationS: r.iperfDurationS,
    iperfOmitS: r.iperfOmitS,
    iperfParallel: r.iperfParallel,
    iperfReverse: r.iperfReverse,
    iperfPort: r.iperfPort,
    concurrency,
  };
}

// ---- command lines (pure, so tests can pin them) ----

export function tailscaleStatusArgv(): string[] {
  return ["tailscale", "status", "--json"];
}
export function tailscalePingArgv(ip: string, r: Pick<Resolved, "tailscalePingCount" | "tailscalePingTimeoutS">): string[] {
  return ["tailscale", "ping", "-c", String(r.tailscalePingCount), "--timeout", `${r.tailscalePingTimeoutS}s`, ip];
}
export function pingArgv(ip: string, r: Pick<Resolved, "pingCount" | "pingIntervalS" | "pingWaitS">): string[] {
  return ["ping", "-n", "-c", String(r.pingCount), "-i", String(r.pingIntervalS), "-W", String(r.pingWaitS), ip];
}
export function iperfClientArgv(
  ip: string,
  r: Pick<Resolved, "iperfPort" | "iperfDurationS" | "iperfOmitS" | "iperfParallel" | "iperfReverse">,
): string[] {
  const argv = ["iperf3", "-c", ip, "-p", String(r.iperfPort), "-J", "-t", String(r.iperfDurationS)];
  argv.push("-O", String(r.iperfOmitS), "-P", String(r.iperfParallel), "--connect-timeout", "5000");
  if (r.iperfReverse) argv.push("-R");
  return argv;
}
/** Unique per prober process, node and port: parallel runs (or netns hosts sharing /tmp) never collide. */
export function iperfPidfile(node: MeshNode, port: number, runId: number = process.pid): string {
  return `/tmp/tailnet-probe-iperf3-${runId}-${node.key}-${port}.pid`;
}
export function iperfServerStartArgv(bindIp: string, port: number, pidfile: string): string[] {
  return ["iperf3", "-s", "-D", "-B", bindIp, "-p", String(port), "--pidfile", pidfile];
}
/** Stops exactly the server we started: the pid in our pidfile, nothing matched by name. */
export function iperfServerStopArgv(pidfile: string): string[] {
  return ["sh", "-c", 'if [ -f "$1" ]; then kill "$(cat "$1")"; fi; rm -f "$1"', "sh", pidfile];
}

// ---- timeouts: every probe has one ----

export function timeoutsFor(r: Resolved): Record<"status" | "tsping" | "ping" | "iperf" | "server", number> {
  return {
    status: r.statusTimeoutMs,
    tsping: (r.tailscalePingCount * (r.tailscalePingTimeoutS + 1) + 10) * 1000,
    ping: (r.pingCount * r.pingIntervalS + r.pingWaitS + 10) * 1000,
    iperf: (r.iperfDurationS + r.iperfOmitS + 25) * 1000,
    server: 15_000,
  };
}

/** Why a run failed, in the tool's words where possible. */
export function describeFailure(tool: string, r: RunResult, parsed: string | null, timeoutMs: number): string {
  if (r.spawnError) return `${tool}: could not run (${r.spawnError})`;
  if (r.timedOut) return `${tool}: timed out after ${Math.round(timeoutMs / 1000)} s (killed)`;
  return parsed ?? `${tool}: exit code ${r.code}`;
}

// ---- scheduling ----

/**
 * Every unordered pair of `nodes` once, in rounds of node-disjoint pairs: the circle method of a
 * round-robin tournament (one node fixed, the others rotate). N even: N-1 rounds of N/2 pairs;
 * N odd: N rounds of (N-1)/2 pairs (one node sits out each round). The first element of each pair
 * alternates with the round, so each node starts about half of its tests.
 */
export function tournamentRounds<T>(nodes: readonly T[]): Array<Array<[T, T]>> {
  const ring: Array<T | null> = [...nodes];
  if (ring.length % 2 === 1) ring.push(null);
  const n = ring.length;
  const rounds: Array<Array<[T, T]>> = [];
  for (let r = 0; r < n - 1; r++) {
    const round: Array<[T, T]> = [];
    for (let i = 0; i < n / 2; i++) {
      const a = ring[i];
      const b = ring[n - 1 - i];
      if (a === null || b === null) continue;
      round.push(i === 0 && r % 2 === 1 ? [b, a] : [a, b]);
    }
    rounds.push(round);
    // Rotate every position but the first one step clockwise.
    ring.splice(1, 0, ring.pop() as T | null);
  }
  return rounds;
}

/**
 * Every ordered pair in node-disjoint rounds: the tournament's rounds one way (a -> b), then the
 * same rounds the other way (b -> a), so each ordered pair is its own test measured from its own
 * source (iperf3 one direction per test, as the article did). 2(N-1) rounds for even N, 2N for
 * odd N: the fewest possible when a node takes part in one test at a time. Self pairs (a -> a)
 * touch one node each and go in one last round.
 */
export function allPairsRounds<T>(nodes: readonly T[], includeSelf = false): Array<Array<[T, T]>> {
  const there = tournamentRounds(nodes);
  const back = there.map((round) => round.map(([a, b]) => [b, a] as [T, T]));
  const rounds = [...there, ...back].filter((r) => r.length > 0);
  if (includeSelf) rounds.push(nodes.map((n) => [n, n] as [T, T]));
  return rounds;
}

/** Rounds a schedule needs at least: 2(N-1) for even N, 2N for odd N (+1 with self pairs). */
export function allPairsRoundBound(n: number, includeSelf = false): number {
  if (n < 2) return includeSelf && n === 1 ? 1 : 0;
  return (n % 2 === 0 ? 2 * (n - 1) : 2 * n) + (includeSelf ? 1 : 0);
}

/**
 * Runs `pairs` so that no node is ever in two at once and at most `limit` run together. A pair
 * starts only when both of its nodes are free (nobody holds one node while waiting for the other),
 * and free slots go to the earliest pair in list order that can start: with the list in tournament
 * rounds and equal durations this is exactly the round schedule; with unequal durations it never
 * idles a free pair waiting for a round to end. Results keep the list's order.
 */
export async function runDisjoint<T extends { readonly key: string }, R>(
  pairs: ReadonlyArray<readonly [T, T]>,
  limit: number,
  fn: (a: T, b: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(pairs.length);
  const pending: number[] = pairs.map((_, i) => i);
  const busy = new Set<string>();
  let running = 0;
  return new Promise<R[]>((resolve, reject) => {
    let failed = false;
    let dispatchQueued = false;
    const dispatch = (): void => {
      dispatchQueued = false;
      if (failed) return;
      for (let j = 0; j < pending.length && running < limit; ) {
        const i = pending[j];
        const [a, b] = pairs[i];
        if (busy.has(a.key) || busy.has(b.key)) {
          j++;
          continue;
        }
        pending.splice(j, 1);
        busy.add(a.key).add(b.key);
        running++;
        fn(a, b).then(
          (res) => {
            out[i] = res;
            busy.delete(a.key);
            busy.delete(b.key);
            running--;
            if (pending.length === 0 && running === 0) resolve(out);
            else if (!dispatchQueued) {
              // Let every pair finishing at the same moment free its nodes first, so the next
              // round starts whole instead of a later round's pair grabbing the first free nodes.
              dispatchQueued = true;
              setImmediate(dispatch);
            }
          },
          (err) => {
            failed = true;
            reject(err);
          },
        );
      }
    };
    if (pending.length === 0) resolve(out);
    else dispatch();
  });
}

/** Maps with at most `limit` promises in flight; keeps input order in the result. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---- the probe ----

interface StatusOutcome {
  readonly status: TailscaleStatus | null;
  readonly error: string | null;
  /** No tailscale binary on the node (the rehearsal): path must stay unknown. */
  readonly missing: boolean;
}

export type ProbePlan = { readonly mode: "from"; readonly source: MeshNode } | { readonly mode: "all-pairs" };

export function pairsFor(nodes: readonly MeshNode[], plan: ProbePlan, includeSelf?: boolean): Array<[MeshNode, MeshNode]> {
  if (plan.mode === "from") {
    const self = includeSelf ?? true; // the article's table starts with Tokyo → Tokyo
    return nodes.filter((n) => self || n.key !== plan.source.key).map((n) => [plan.source, n]);
  }
  return allPairsRounds(nodes, includeSelf ?? false).flat();
}

/**
 * Pairs measured at once when `--concurrency` is not given: every node busy (a round of N/2
 * disjoint pairs) for all pairs; one for `--from`, whose pairs all share the source anyway.
 */
export function defaultConcurrency(nodeCount: number, plan: ProbePlan): number {
  return plan.mode === "from" ? 1 : Math.max(1, Math.floor(nodeCount / 2));
}

class Prober {
  private readonly statuses = new Map<string, Promise<StatusOutcome>>();
  private readonly t: ReturnType<typeof timeoutsFor>;
  private readonly serverErrors = new Map<string, string>();

  constructor(
    private readonly transport: Transport,
    private readonly r: Resolved,
    private readonly nodes: readonly MeshNode[] = [],
  ) {
    this.t = timeoutsFor(r);
  }

  status(node: MeshNode): Promise<StatusOutcome> {
    let p = this.statuses.get(node.key);
    if (!p) {
      p = this.transport.run(node, tailscaleStatusArgv(), { timeoutMs: this.t.status }).then((res) => {
        if (res.spawnError || res.timedOut) {
          return { status: null, error: describeFailure("tailscale status", res, null, this.t.status), missing: false };
        }
        if (res.code !== 0 && isCommandMissing(res.code, res.stderr)) {
          return { status: null, error: "tailscale is not installed on the source node", missing: true };
        }
        const parsed = parseTailscaleStatus(res.stdout, res.stderr);
        return { status: parsed.status, error: parsed.error, missing: false };
      });
      this.statuses.set(node.key, p);
    }
    return p;
  }

  /** Tailnet IPv4 a node answers on: inventory first, else its own `tailscale status`. */
  async ownTailnetIp(node: MeshNode): Promise<string | null> {
    if (node.tailnetIp) return node.tailnetIp;
    const st = await this.status(node);
    return st.status?.self ? firstIpv4(st.status.self.tailscaleIps) : null;
  }

  async startServers(dests: readonly MeshNode[]): Promise<MeshNode[]> {
    const started: MeshNode[] = [];
    await mapLimit(dests, SERVER_SESSIONS, async (node) => {
      const ip = await this.ownTailnetIp(node);
      if (!ip) {
        this.serverErrors.set(node.key, "iperf3 server not started: tailnet IP of the destination unknown");
        return;
      }
      const pidfile = iperfPidfile(node, this.r.iperfPort);
      const res = await this.transport.run(node, iperfServerStartArgv(ip, this.r.iperfPort, pidfile), {
        timeoutMs: this.t.server,
      });
      if (res.code === 0) started.push(node);
      else {
        const why = describeFailure("iperf3 -s", res, `iperf3 -s: ${(res.stderr || res.stdout).trim() || `exit ${res.code}`}`, this.t.server);
        this.serverErrors.set(node.key, `iperf3 server not started (${why})`);
      }
    });
    // `iperf3 -D` forks before it listens; give the daemons a moment.
    if (started.length) await this.r.sleep(500);
    return started;
  }

  async stopServers(nodes: readonly MeshNode[]): Promise<void> {
    await mapLimit(nodes, SERVER_SESSIONS, async (node) => {
      const res = await this.transport.run(node, iperfServerStopArgv(iperfPidfile(node, this.r.iperfPort)), {
        timeoutMs: this.t.server,
      });
      if (res.code !== 0) this.r.log(`warning: could not stop iperf3 server on ${node.label}: ${(res.stderr || "").trim()}`);
    });
  }

  async measure(src: MeshNode, dst: MeshNode): Promise<PairMeasurement> {
    const errors: string[] = [];
    const isSelf = src.key === dst.key;
    const st = await this.status(src);
    let peer: TailscalePeer | null = null;
    if (st.status) {
      peer = isSelf ? st.status.self : findInStatus(st.status, { hostName: dst.tailnetHostname, ip: dst.tailnetIp });
      if (st.error) errors.push(st.error);
      if (!peer) errors.push(`tailscale status on ${src.label}: no peer "${dst.tailnetHostname ?? dst.label}"`);
    } else if (st.error && !st.missing) {
      errors.push(st.error);
    }
    let path: PathInfo;
    if (st.missing) path = { kind: "unknown", source: "none", note: "no tailscale on the source node" };
    else if (peer) path = pathFromStatusPeer(peer, isSelf);
    else path = { kind: "unknown", source: "none", note: st.status ? "peer not in tailscale status" : "tailscale status failed" };

    const ip = dst.tailnetIp ?? (peer ? firstIpv4(peer.tailscaleIps) : null);
    const peerOnline = isSelf ? (st.status ? true : null) : peer ? peer.online : null;
    const base = { from: src.key, to: dst.key, tailnetIp: ip, peerOnline };
    if (!ip) {
      errors.push("tailnet IP unknown (no tailnet_ip in the inventory and not found in tailscale status)");
      return { ...base, path, tailscalePingMs: null, ping: null, iperf: null, errors };
    }
    if (peerOnline === false) {
      errors.push(`peer offline according to tailscale status on ${src.label}; not measured`);
      return { ...base, path, tailscalePingMs: null, ping: null, iperf: null, errors };
    }
    this.r.log(`probe ${src.label} -> ${dst.label} (${ip})`);

    let tailscalePingMs: number | null = null;
    if (st.status) {
      const res = await this.transport.run(src, tailscalePingArgv(ip, this.r), { timeoutMs: this.t.tsping });
      const p = parseTailscalePing(res.stdout, res.stderr, res.code);
      if (p.path) path = p.path;
      tailscalePingMs = p.latencyMs;
      if (p.error || res.timedOut || res.spawnError) errors.push(describeFailure("tailscale ping", res, p.error, this.t.tsping));
    }

    const pingRes = await this.transport.run(src, pingArgv(ip, this.r), { timeoutMs: this.t.ping });
    const pp = parsePing(pingRes.stdout, pingRes.stderr);
    if (pp.error || pingRes.timedOut || pingRes.spawnError) {
      errors.push(describeFailure("ping", pingRes, pp.error ? `ping: ${pp.error}` : null, this.t.ping));
    }

    const serverError = this.serverErrors.get(dst.key);
    if (serverError) errors.push(serverError);
    let iperf = null;
    for (let attempt = 0; attempt <= this.r.iperfRetries; attempt++) {
      const res = await this.transport.run(src, iperfClientArgv(ip, this.r), { timeoutMs: this.t.iperf });
      const ip3 = parseIperf3(res.stdout, res.stderr);
      if (ip3.busy && attempt < this.r.iperfRetries) {
        this.r.log(`iperf3 server on ${dst.label} busy; retry ${attempt + 1}/${this.r.iperfRetries}`);
        await this.r.sleep(this.r.iperfRetryDelayMs);
        continue;
      }
      iperf = ip3.stats;
      if (ip3.error || res.timedOut || res.spawnError) {
        const msg = describeFailure("iperf3", res, ip3.error, this.t.iperf);
        errors.push(ip3.busy ? `${msg} (after ${attempt + 1} attempts)` : msg);
      }
      break;
    }
    return { ...base, path: await this.withRelayNode(path), tailscalePingMs, ping: pp.stats, iperf, errors };
  }

  /**
   * Which mesh node a peer relay endpoint belongs to: the relay's UDP endpoint is its public
   * address, so match the inventory's public IPv4, else the `Self.Addrs` endpoints of the statuses
   * already fetched. Left unset when neither knows it.
   */
  private async withRelayNode(path: PathInfo): Promise<PathInfo> {
    if (path.kind !== "peer-relay" || !path.relay || path.relayNode) return path;
    const ep = parsePeerRelayEndpoint(path.relay);
    if (!ep) return path;
    let node = this.nodes.find((n) => n.publicIpv4 === ep.ip);
    if (!node) {
      for (const n of this.nodes) {
        const st = this.statuses.has(n.key) ? await this.statuses.get(n.key)! : null;
        const addrs = st?.status?.self?.addrs ?? [];
        if (addrs.some((a) => parsePeerRelayEndpoint(a)?.ip === ep.ip) || st?.status?.self?.tailscaleIps.includes(ep.ip)) {
          node = n;
          break;
        }
      }
    }
    return node ? { ...path, relayNode: node.key } : path;
  }
}

export interface RunProbeProps {
  readonly nodes: readonly MeshNode[];
  readonly transport: Transport;
  readonly plan: ProbePlan;
  readonly options?: ProbeOptions;
}

/** Measures every pair of the plan; failures land in their rows, the run always completes. */
export async function runProbe(props: RunProbeProps): Promise<ProbeRun> {
  const r = resolveOptions(props.options);
  const prober = new Prober(props.transport, r, props.nodes);
  const pairs = pairsFor(props.nodes, props.plan, r.includeSelf);
  const concurrency = r.concurrency ?? defaultConcurrency(props.nodes.length, props.plan);
  const dests = props.nodes.filter((n) => pairs.some(([, d]) => d.key === n.key));
  let started: MeshNode[] = [];
  let measured: PairMeasurement[];
  try {
    if (r.iperfServer === "managed") started = await prober.startServers(dests);
    measured = await runDisjoint(pairs, concurrency, (a, b) => prober.measure(a, b));
  } finally {
    if (started.length) await prober.stopServers(started);
  }
  const mode: ProbeMode = props.plan.mode;
  return {
    schema: RUN_SCHEMA,
    mode,
    ...(props.plan.mode === "from" ? { source: props.plan.source.key } : {}),
    transport: props.transport.kind,
    settings: settingsOf(r, concurrency),
    nodes: props.nodes.map((n) => summarizeNode(n, measured)),
    pairs: measured,
  };
}

/** What a run keeps of a node: no public address, no namespace (artefacts get shared). */
export function summarizeNode(n: MeshNode, pairs: readonly PairMeasurement[]): MeshNode {
  const ip = n.tailnetIp ?? pairs.find((p) => p.to === n.key && p.tailnetIp)?.tailnetIp ?? undefined;
  return {
    key: n.key,
    label: n.label,
    region: n.region,
    ...(n.tailnetHostname ? { tailnetHostname: n.tailnetHostname } : {}),
    ...(ip ? { tailnetIp: ip } : {}),
    ...(n.articleCity ? { articleCity: n.articleCity } : {}),
  };
}
