/**
 * Parsers for `tailscale status --json` and `tailscale ping` output, and the rules that turn them
 * into a path (direct endpoint, DERP relay, peer relay, or unknown).
 *
 * In the status JSON, `Relay` is the peer's home DERP region, present whether or not traffic is
 * relayed; `CurAddr` is the UDP endpoint in use when the path is direct, empty otherwise. An idle
 * peer (`Active: false`) has no current path at all, which is why `tailscale ping` (which forces
 * path discovery) takes precedence.
 */
import { isIPv4 } from "net";
import { PathInfo } from "./types";
import { firstLine } from "./parse-ping";

export interface TailscalePeer {
  /** Map key in `Peer` (a `nodekey:...`), or `self`. */
  readonly key: string;
  readonly hostName: string;
  /** FQDN with the trailing dot, e.g. `tailscale-multi-ap-south.tail1234.ts.net.`. */
  readonly dnsName: string;
  readonly os: string;
  readonly tailscaleIps: readonly string[];
  readonly online: boolean;
  readonly active: boolean;
  readonly curAddr: string;
  readonly relay: string;
  /** Newer clients (1.86+): `<ip>:<port>:vni:<n>` when traffic goes through a peer relay. */
  readonly peerRelay: string;
  /** The node's own UDP endpoints (`ip:port`); tailscaled fills it for Self only. */
  readonly addrs: readonly string[];
  readonly rxBytes: number;
  readonly txBytes: number;
}

export interface TailscaleStatus {
  readonly version: string;
  readonly backendState: string;
  readonly self: TailscalePeer | null;
  readonly peers: readonly TailscalePeer[];
}

export interface StatusParse {
  readonly status: TailscaleStatus | null;
  readonly error: string | null;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const n = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

function peerFrom(key: string, p: Json): TailscalePeer {
  return {
    key,
    hostName: str(p.HostName),
    dnsName: str(p.DNSName),
    os: str(p.OS),
    tailscaleIps: Array.isArray(p.TailscaleIPs) ? p.TailscaleIPs.filter((x): x is string => typeof x === "string") : [],
    online: p.Online === true,
    active: p.Active === true,
    curAddr: str(p.CurAddr),
    relay: str(p.Relay),
    peerRelay: str(p.PeerRelay),
    addrs: Array.isArray(p.Addrs) ? p.Addrs.filter((x): x is string => typeof x === "string") : [],
    rxBytes: n(p.RxBytes),
    txBytes: n(p.TxBytes),
  };
}

/** The "no tailscale here" cases, so a report can say so instead of guessing a path. */
export function isCommandMissing(code: number | null, stderr: string): boolean {
  return code === 127 || /command not found|No such file or directory|not found/i.test(stderr);
}

export function parseTailscaleStatus(stdout: string, stderr = ""): StatusParse {
  const text = stdout.trim();
  if (!text) return { status: null, error: `tailscale status: ${firstLine(stderr) ?? "no output"}` };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { status: null, error: `tailscale status output is not JSON (${(e as Error).message})` };
  }
  if (!isObj(doc)) return { status: null, error: "tailscale status JSON is not an object" };
  const peers: TailscalePeer[] = [];
  if (isObj(doc.Peer)) {
    for (const key of Object.keys(doc.Peer).sort()) {
      const p = doc.Peer[key];
      if (isObj(p)) peers.push(peerFrom(key, p));
    }
  }
  const status: TailscaleStatus = {
    version: str(doc.Version),
    backendState: str(doc.BackendState),
    self: isObj(doc.Self) ? peerFrom("self", doc.Self) : null,
    peers,
  };
  const error =
    status.backendState && status.backendState !== "Running"
      ? `tailscale backend state is ${status.backendState}, not Running`
      : null;
  return { status, error };
}

export function firstIpv4(ips: readonly string[]): string | null {
  return ips.find((ip) => isIPv4(ip)) ?? null;
}

/** Finds a node in a status by tailnet hostname (case-insensitive), MagicDNS name, or tailnet IP. */
export function findInStatus(status: TailscaleStatus, query: { hostName?: string; ip?: string }): TailscalePeer | null {
  const all = status.self ? [status.self, ...status.peers] : [...status.peers];
  const host = query.hostName?.toLowerCase();
  for (const p of all) {
    if (query.ip && p.tailscaleIps.includes(query.ip)) return p;
    if (host && (p.hostName.toLowerCase() === host || p.dnsName.toLowerCase().split(".")[0] === host)) return p;
  }
  return null;
}

/** Path as `tailscale status` sees it; weaker evidence than a `tailscale ping`. */
export function pathFromStatusPeer(peer: TailscalePeer, isSelf = false): PathInfo {
  if (isSelf) return { kind: "local", source: "tailscale status" };
  if (peer.curAddr) return { kind: "direct", endpoint: peer.curAddr, source: "tailscale status" };
  if (peer.peerRelay) return { kind: "peer-relay", relay: peer.peerRelay, source: "tailscale status" };
  if (peer.active && peer.relay) return { kind: "relay", relay: peer.relay, source: "tailscale status" };
  return {
    kind: "unknown",
    source: "tailscale status",
    note: peer.online ? `idle, no current path${peer.relay ? ` (home DERP ${peer.relay})` : ""}` : "peer offline",
  };
}

export interface Pong {
  readonly host: string;
  readonly ip: string;
  readonly via: string;
  readonly latencyMs: number;
}

export interface TailscalePingParse {
  readonly pongs: readonly Pong[];
  readonly timeouts: number;
  /** The target is this node's own tailnet IP. */
  readonly local: boolean;
  /** Path of the last pong (`tailscale ping` stops at the first direct one). */
  readonly path: PathInfo | null;
  readonly latencyMs: number | null;
  readonly error: string | null;
}

const GO_UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, "µs": 0.001, "μs": 0.001, ns: 1e-6 };

/** Parses a Go `time.Duration` string (`76ms`, `1.204s`, `0s`, `1m2.5s`) into milliseconds. */
export function parseGoDurationMs(text: string): number | null {
  const t = text.trim();
  if (t === "0" || t === "0s") return 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|μs|ns|h|m|s)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * GO_UNITS[m[2]];
    pos = re.lastIndex;
  }
  return pos === t.length && pos > 0 ? total : null;
}

export interface PeerRelayEndpoint {
  readonly ip: string;
  readonly port: number;
  readonly vni: number | null;
}

/**
 * Splits a peer relay endpoint as the client prints it: `203.0.113.7:40000:vni:12` or
 * `[2001:db8::7]:40000:vni:12` (magicsock epAddr.String(): AddrPort, then `:vni:<n>`).
 */
export function parsePeerRelayEndpoint(text: string): PeerRelayEndpoint | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})(?::vni:(\d+))?$/.exec(text.trim());
  if (!m) return null;
  return { ip: m[1] ?? m[2], port: Number(m[3]), vni: m[4] === undefined ? null : Number(m[4]) };
}

/** Classifies the `via` part of a pong line. */
export function pathFromVia(via: string): PathInfo {
  const derp = /^DERP\(([^)]*)\)$/.exec(via);
  if (derp) return { kind: "relay", relay: derp[1], source: "tailscale ping" };
  const peerRelay = /^peer-relay\((.*)\)$/.exec(via);
  if (peerRelay) return { kind: "peer-relay", relay: peerRelay[1], source: "tailscale ping" };
  if (/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d+$/.test(via)) {
    return { kind: "direct", endpoint: via, source: "tailscale ping" };
  }
  return { kind: "unknown", source: "tailscale ping", note: `pong via ${via}` };
}

const PONG = /^pong from (\S+) \(([^,)\s]+)(?:, \d+)?\) via (\S+) in (\S+)$/;

/**
 * Parses `tailscale ping` output: lines `pong from <host> (<ip>[, <peerapi port>]) via <DERP(code)|
 * ip:port|peer-relay(..)> in <duration>`, `ping "<ip>" timed out`, or `<ip> is local Tailscale IP`;
 * errors (`direct connection not established`, `no reply`, `no matching peer`) come on stderr.
 */
export function parseTailscalePing(stdout: string, stderr = "", code: number | null = 0): TailscalePingParse {
  const pongs: Pong[] = [];
  let timeouts = 0;
  let local = false;
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    const m = PONG.exec(line);
    if (m) {
      const ms = parseGoDurationMs(m[4]);
      if (ms !== null) pongs.push({ host: m[1], ip: m[2], via: m[3], latencyMs: ms });
      continue;
    }
    if (/^ping ".*" timed out$/.test(line) || line === "timeout waiting for ping reply") timeouts++;
    if (/ is local Tailscale IP$/.test(line)) local = true;
  }
  const err = firstLine(stderr);
  if (local) return { pongs, timeouts, local, path: { kind: "local", source: "tailscale ping" }, latencyMs: null, error: null };
  if (pongs.length) {
    const last = pongs[pongs.length - 1];
    // Relayed only ("direct connection not established") is a finding, not a failure.
    return { pongs, timeouts, local, path: pathFromVia(last.via), latencyMs: last.latencyMs, error: null };
  }
  const error = err ?? (timeouts ? `no reply (${timeouts} timed out)` : code === 0 ? "no pong in output" : "tailscale ping produced no output");
  return { pongs, timeouts, local, path: null, latencyMs: null, error: `tailscale ping: ${error}` };
}
