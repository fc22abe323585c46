/**
 * How a synth-time validation error reaches the user: one line naming the field, the value and what
 * is allowed, no stack trace, printed once, exit status 1. Anything else is a bug and keeps its stack.
 */
import * as fs from "fs";
import { ValidationError } from "./index";

/**
 * The user-facing message of a validation error, or undefined when `e` is not one. Errors thrown
 * while cdktf resolves a Lazy value arrive with cdktf's "Resolution error: …" prefix and a creation
 * stack in `message`; the field and detail the error was made with are used instead.
 */
export function validationMessage(e: unknown): string | undefined {
  if (e instanceof ValidationError) return e.userMessage;
  // The same class from a second copy of this module (a bundle and the sources side by side).
  const o = e as { name?: unknown; field?: unknown; detail?: unknown } | null;
  if (o && typeof o === "object" && o.name === "ValidationError" && typeof o.field === "string" && typeof o.detail === "string") {
    return `${o.field}: ${o.detail}`;
  }
  return undefined;
}

export interface SynthIo {
  readonly stderr: (text: string) => void;
}

/**
 * Runs `synth`; a validation error is printed once, as `error: <field>: <detail>`, and gives exit
 * status 1. Other errors are rethrown untouched (node prints their stack).
 */
export function synthOrExplain(synth: () => void, io?: SynthIo): number {
  try {
    synth();
    return 0;
  } catch (e) {
    const message = validationMessage(e);
    if (message === undefined) throw e;
    (io?.stderr ?? userStderr())(`error: ${message}\n`);
    return 1;
  }
}

/** True when the core's CLI runs the app (cdktf and CDK Terrain's cdktn both set CDKTF_OUTDIR and CDKTF_CONTEXT_JSON). */
export function underCdktfCli(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CDKTF_OUTDIR && env.CDKTF_CONTEXT_JSON);
}

/**
 * Where the person running the command reads errors. Normally our stderr. The cdktf CLI (`cdktf
 * synth`, `diff`, `deploy`) pipes the app's stderr and prints it twice: as it arrives, and again in
 * its "cdktf encountered an error" summary. Under the CLI (it sets CDKTF_OUTDIR and
 * CDKTF_CONTEXT_JSON for the app) on Linux, the message goes instead to the stderr of the nearest
 * ancestor process that does not share our pipe, which is the CLI's own, when that is a terminal or
 * a pipe (a CI log). The CLI then shows only its summary frame, and the message appears once.
 * Elsewhere (no /proc, the CLI's stderr redirected to a file) it goes to our stderr, and the CLI
 * shows it twice.
 */
export function userStderr(env: NodeJS.ProcessEnv = process.env): (text: string) => void {
  const fallback = (text: string) => void process.stderr.write(text);
  if (!underCdktfCli(env)) return fallback;
  const fd = ancestorStderr(process.pid);
  if (fd === undefined) return fallback;
  return (text: string) => {
    try {
      fs.writeSync(fd, text);
    } catch {
      fallback(text);
    }
  };
}

/** An fd open on the stderr of the nearest ancestor whose stderr is not our pipe; undefined if none. */
export function ancestorStderr(pid: number, maxHops = 8): number | undefined {
  try {
    // A pipe or socket the CLI reads; anything else (a terminal, a file) is not captured.
    const ours = fs.readlinkSync(`/proc/${pid}/fd/2`);
    if (!/^(pipe|socket):/.test(ours)) return undefined;
    let current = pid;
    for (let hop = 0; hop < maxHops; hop++) {
      const stat = fs.readFileSync(`/proc/${current}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!Number.isInteger(ppid) || ppid <= 1) return undefined;
      if (fs.readlinkSync(`/proc/${ppid}/fd/2`) !== ours) {
        // Only a terminal or a pipe: both are streams. A regular file has an offset of its own in the
        // CLI, which would write over our line; then our stderr is used after all.
        const st = fs.statSync(`/proc/${ppid}/fd/2`);
        return st.isCharacterDevice() || st.isFIFO() ? fs.openSync(`/proc/${ppid}/fd/2`, "w") : undefined;
      }
      current = ppid;
    }
  } catch {
    // no /proc, a process gone, or a stderr that can't be opened (a socket): use our own

  }
  return undefined;
}
