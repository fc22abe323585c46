/**
 * Parser for `iperf3 -c <host> -J` (iperf 3.x JSON). iperf3 reports its own failures inside the JSON
 * (`"error": "..."`) and, in 3.12, may still exit 0, so the exit code alone proves nothing.
 */
import { IperfStats } from "./types";
import { firstLine } from "./parse-ping";

export interface IperfParse {
  readonly stats: IperfStats | null;
  readonly error: string | null;
  /** The server was running someone else's test: worth a retry later. */
  readonly busy: boolean;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function isServerBusyError(message: string): boolean {
  return /server is busy/i.test(message);
}

/** Parses iperf3 JSON stdout; `stderr` is only used to explain an empty stdout. */
export function parseIperf3(stdout: string, stderr = ""): IperfParse {
  const text = stdout.trim();
  if (!text) {
    const why = firstLine(stderr);
    return { stats: null, error: why ? `iperf3: ${why}` : "iperf3 produced no output (killed or timed out)", busy: false };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { stats: null, error: `iperf3 output is not JSON (${(e as Error).message})`, busy: false };
  }
  if (!isObj(doc)) return { stats: null, error: "iperf3 JSON is not an object", busy: false };
  if (typeof doc.error === "string" && doc.error) {
    return { stats: null, error: `iperf3: ${doc.error}`, busy: isServerBusyError(doc.error) };
  }
  const end = isObj(doc.end) ? doc.end : null;
  const sent = end && isObj(end.sum_sent) ? end.sum_sent : null;
  const received = end && isObj(end.sum_received) ? end.sum_received : null;
  if (!sent && !received) {
    return { stats: null, error: "iperf3 JSON has no end.sum_sent/sum_received (UDP or aborted test?)", busy: false };
  }
  const start = isObj(doc.start) ? doc.start : {};
  const testStart = isObj(start.test_start) ? start.test_start : {};

  // Kernel TCP RTT is only known on the sending side; with -R the client is the receiver and
  // iperf3 writes zeros there, which must not be read as a 0 ms RTT.
  const maxRtts: number[] = [];
  const meanRtts: number[] = [];
  const streams = end && Array.isArray(end.streams) ? end.streams : [];
  for (const s of streams) {
    const snd = isObj(s) && isObj(s.sender) ? s.sender : null;
    if (!snd || snd.sender !== true) continue;
    const mx = num(snd.max_rtt);
    const mean = num(snd.mean_rtt);
    if (mx !== null) maxRtts.push(mx / 1000);
    if (mean !== null) meanRtts.push(mean / 1000);
  }
  const stats: IperfStats = {
    senderBps: sent ? num(sent.bits_per_second) : null,
    receiverBps: received ? num(received.bits_per_second) : null,
    retransmits: sent ? num(sent.retransmits) : null,
    maxRttMs: maxRtts.length ? Math.max(...maxRtts) : null,
    meanRttMs: meanRtts.length ? meanRtts.reduce((a, b) => a + b, 0) / meanRtts.length : null,
    streams: num(testStart.num_streams) ?? (streams.length || null),
    reverse: num(testStart.reverse) === 1,
    durationS: num(testStart.duration),
  };
  const error = stats.receiverBps === null ? "iperf3 JSON has no receiver bits_per_second" : null;
  return { stats, error, busy: false };
}
