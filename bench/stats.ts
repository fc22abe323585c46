/** Small helpers shared by the benchmarks. */
import { spawnSync } from "child_process";

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface ProcessRun {
  readonly wallMs: number;
  readonly maxRssMb: number | undefined;
  readonly stdout: string;
}

/**
 * Runs a command to completion and measures its wall time, and its peak resident memory through
 * GNU time when installed (the largest RSS among the process and its waited-for children).
 */
export function runMeasured(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ProcessRun {
  const haveGnuTime = spawnSync("/usr/bin/time", ["-f", "%M", "true"]).status === 0;
  const start = process.hrtime.bigint();
  const r = haveGnuTime
    ? spawnSync("/usr/bin/time", ["-f", "MAXRSS_KB=%M", cmd, ...args], { env, encoding: "utf8", maxBuffer: 1 << 26 })
    : spawnSync(cmd, args, { env, encoding: "utf8", maxBuffer: 1 << 26 });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  const m = /MAXRSS_KB=(\d+)/.exec(r.stderr ?? "");
  return { wallMs, maxRssMb: m ? Number(m[1]) / 1024 : undefined, stdout: r.stdout };
}

export const fmt = (n: number | undefined, digits = 0) => (n === undefined ? "n/a" : n.toFixed(digits));
