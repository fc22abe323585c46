/**
 * One synthesis at a time per output directory. cdktf writes each stack's files in turn, so two
 * syntheses into one cdktf.out at once (say with different TAILNET_BACKEND settings) could leave
 * some stacks from one and some from the other. Each takes `<outdir>.lock` (a directory: creating
 * one is atomic) for the whole synthesis; the other waits. A lock whose process is gone is taken over.
 */
import * as fs from "fs";
import * as path from "path";
import { fail } from "../validation";

const PID_FILE = "pid";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `fn` holding the lock of `outdir`; waits up to `timeoutMs` for another synthesis to finish. */
export function withOutdirLock<T>(outdir: string, fn: () => T, timeoutMs = 120_000): T {
  const lock = `${path.resolve(outdir)}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const start = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, PID_FILE), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let pid: number | undefined;
    try {
      pid = Number(fs.readFileSync(path.join(lock, PID_FILE), "utf8")) || undefined;
    } catch {
      pid = undefined;
    }
    // Its owner is gone (killed mid-synthesis), or it never wrote its pid: take it over.
    let age = 0;
    try {
      age = Date.now() - fs.statSync(lock).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if ((pid !== undefined && !alive(pid)) || (pid === undefined && age > 10_000)) {
      fs.rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      fail("outdir", `${outdir} is being written by another synthesis (pid ${pid ?? "unknown"}) for over ${Math.round(timeoutMs / 1000)} s; wait for it, or remove ${path.basename(lock)} if no synthesis runs`);
    }
    sleep(50);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
