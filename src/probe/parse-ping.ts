/**
 * Parser for Linux iputils `ping -c N` output. Pure: text in, numbers out. A failure (100% loss,
 * no route, killed before the summary) yields an error and whatever the output really said, never a
 * made-up number.
 */
import { PingStats } from "./types";

export interface PingParse {
  /** The statistics block when ping printed one (also for 100% loss), else null. */
  readonly stats: PingStats | null;
  /** Why there is no usable RTT; null when the average RTT is known. */
  readonly error: string | null;
}

const EMPTY: PingStats = {
  transmitted: null,
  received: null,
  errors: null,
  lossPercent: null,
  minMs: null,
  avgMs: null,
  maxMs: null,
  mdevMs: null,
};

/** First non-empty line of a text, trimmed; used to quote a tool's own error message. */
export function firstLine(text: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t) return t;
  }
  return null;
}

/**
 * Parses `ping` stdout (and stderr for messages such as `ping: connect: Network is unreachable`).
 * Recognises the iputils summary lines
 * `3 packets transmitted, 3 received, 0% packet loss, time 408ms` (optionally with `+N duplicates`,
 * `+N errors`) and `rtt min/avg/max/mdev = 0.066/0.339/0.876/0.379 ms` (BusyBox says `round-trip`).
 */
export function parsePing(stdout: string, stderr = ""): PingParse {
  let stats: PingStats | null = null;
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received(.*?), ([\d.]+)% packet loss/.exec(stdout);
  if (counts) {
    const extra = counts[3] ?? "";
    const errs = /\+(\d+) errors/.exec(extra);
    stats = {
      ...EMPTY,
      transmitted: Number(counts[1]),
      received: Number(counts[2]),
      errors: errs ? Number(errs[1]) : 0,
      lossPercent: Number(counts[4]),
    };
  }
  const rtt = /(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = ([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/([\d.]+))? ms/.exec(
    stdout,
  );
  if (rtt && stats) {
    stats = {
      ...stats,
      minMs: Number(rtt[1]),
      avgMs: Number(rtt[2]),
      maxMs: Number(rtt[3]),
      mdevMs: rtt[4] !== undefined ? Number(rtt[4]) : null,
    };
  }
  if (stats && stats.avgMs !== null) return { stats, error: null };
  if (stats) {
    const unreachable = /Destination (?:Host|Net) Unreachable/.test(stdout) ? ", destination unreachable" : "";
    return {
      stats,
      error: `${stats.lossPercent ?? "?"}% packet loss (${stats.received ?? 0} of ${stats.transmitted ?? "?"} replies${unreachable})`,
    };
  }
  const msg = firstLine(stderr) ?? (stdout.trim() ? "ping printed no statistics (interrupted?)" : null);
  return { stats: null, error: msg ?? "ping produced no output" };
}
