/**
 * Runs the probes. For each ordered pair (source → destination) it runs, on the source node:
 * `tailscale status --json` (once per source: online? tailnet IP? path?), `tailscale ping` (path and
 * latency), ICMP `ping`, and `iperf3 -c` against the destination's tailnet IP.
 *
 * While a pair is measured, both of its nodes are held exclusively: a ping that shares a link with
 * someone else's iperf3 measures queueing, not the path, and an iperf3 server serves one test at a
 * time. Disjoint pairs run in parallel up to `concurrency`.
 */
import { MeshNode, PairMeasurement, PathInfo, ProbeMode, ProbeRun, ProbeSettings, RUN_SCHEMA } from "./types";
import { RunResult, Transport } from "./transport";
import { parsePing } from "./parse-ping";
import { parseIperf3 } from "./parse-iperf3";
import {
  findInStatus,
  firstIpv4,
  isCommandMissing,
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
  /** Pairs measured at once (only disjoint pairs actually overlap). */
  readonly concurrency?: number;
  /** Also measure a node to its own tailnet IP (the article's first row). */
  readonly includeSelf?: boolean;
  readonly statusTimeoutMs?: number;
  /** Progress lines (stderr in the CLI). */
  readonly log?: (line: string) => void;
  /** For tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

type Resolved = Required<Omit<ProbeOptions, "log" | "sleep" | "includeSelf">> & {
  readonly includeSelf: boolean | undefined;
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
  concurrency: 4,
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
  positiveInt("concurrency", r.concurrency, 256);
  positiveInt("statusTimeoutMs", r.statusTimeoutMs, 600_000);
  if (r.iperfServer !== "external" && r.iperfServer !== "managed") {
    throw new Error(`iperfServer must be "external" or "managed", got "${String(r.iperfServer)}"`);
  }
  return {
    ...r,
    includeSelf: o.includeSelf,
    log: o.log ?? (() => undefined),
    sleep: o.sleep ?? ((ms) => new Promise((res) => setTimeout(res, ms))),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function settingsOf(r: Resolved): ProbeSettings {
  return {
    pingCount: r.pingCount,
    pingIntervalS: r.pingIntervalS,
    tailscalePingCount: r.tailscalePingCount,
    iperfDurationS: r.iperfDurationS,
    iperfOmitS: r.iperfOmitS,
    iperfParallel: r.iperfParallel,
    iperfReverse: r.iperfReverse,
    iperfPort: r.iperfPort,
    concurrency: r.concurrency,
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

// ---- scheduling helpers ----

/** Per-node mutexes, always taken in key order so two pairs can never deadlock. */
export class NodeLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async with<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const ordered = [...new Set(keys)].sort();
    const releases: Array<() => void> = [];
    for (const k of ordered) releases.push(await this.acquire(k));
    try {
      return await fn();
    } finally {
      for (const rel of releases.reverse()) rel();
    }
  }

  private acquire(key: string): Promise<() => void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((res) => (release = res));
    this.tails.set(key, prev.then(() => mine));
    return prev.then(() => release);
  }
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
  const self = includeSelf ?? false;
  const pairs: Array<[MeshNode, MeshNode]> = [];
  for (const a of nodes) for (const b of nodes) if (self || a.key !== b.key) pairs.push([a, b]);
  return scheduleDisjoint(pairs);
}

/**
 * Orders pairs in rounds of node-disjoint pairs (greedy), so that pairs taken next by the workers
 * can actually run side by side instead of queueing on a node lock.
 */
export function scheduleDisjoint<T extends { readonly key: string }>(pairs: ReadonlyArray<[T, T]>): Array<[T, T]> {
  const rest = [...pairs];
  const out: Array<[T, T]> = [];
  while (rest.length) {
    const busy = new Set<string>();
    for (let i = 0; i < rest.length; ) {
      const [a, b] = rest[i];
      if (!busy.has(a.key) && !busy.has(b.key)) {
        busy.add(a.key).add(b.key);
        out.push(rest[i]);
        rest.splice(i, 1);
      } else i++;
    }
  }
  return out;
}

class Prober {
  private readonly statuses = new Map<string, Promise<StatusOutcome>>();
  private readonly locks = new NodeLocks();
  private readonly t: ReturnType<typeof timeoutsFor>;
  private readonly serverErrors = new Map<string, string>();

  constructor(
    private readonly transport: Transport,
    private readonly r: Resolved,
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
    await mapLimit(dests, this.r.concurrency, async (node) => {
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
    await mapLimit(nodes, this.r.concurrency, async (node) => {
      const res = await this.transport.run(node, iperfServerStopArgv(iperfPidfile(node, this.r.iperfPort)), {
        timeoutMs: this.t.server,
      });
      if (res.code !== 0) this.r.log(`warning: could not stop iperf3 server on ${node.label}: ${(res.stderr || "").trim()}`);
    });
  }

  async pair(src: MeshNode, dst: MeshNode): Promise<PairMeasurement> {
    return this.locks.with([src.key, dst.key], () => this.measure(src, dst));
  }

  private async measure(src: MeshNode, dst: MeshNode): Promise<PairMeasurement> {
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
    return { ...base, path, tailscalePingMs, ping: pp.stats, iperf, errors };
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
  const prober = new Prober(props.transport, r);
  const pairs = pairsFor(props.nodes, props.plan, r.includeSelf);
  const dests = props.nodes.filter((n) => pairs.some(([, d]) => d.key === n.key));
  let started: MeshNode[] = [];
  let measured: PairMeasurement[];
  try {
    if (r.iperfServer === "managed") started = await prober.startServers(dests);
    measured = await mapLimit(pairs, r.concurrency, ([a, b]) => prober.pair(a, b));
  } finally {
    if (started.length) await prober.stopServers(started);
  }
  const mode: ProbeMode = props.plan.mode;
  return {
    schema: RUN_SCHEMA,
    mode,
    ...(props.plan.mode === "from" ? { source: props.plan.source.key } : {}),
    transport: props.transport.kind,
    settings: settingsOf(r),
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
