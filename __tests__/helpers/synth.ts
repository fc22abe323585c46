import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildApp } from "../../src/app";

/** Synthesizes the whole app into a fresh temp dir; returns the dir. */
export function synthToTempDir(prefix = "synth-"): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  buildApp({ outdir }).synth();
  return outdir;
}

let cached: string | undefined;
/** Parsed cdk.tf.json of one stack, from one synthesis shared by the test file. */
export function synthesizedStack(stack: string): any {
  cached ??= synthToTempDir();
  return JSON.parse(fs.readFileSync(path.join(cached, "stacks", stack, "cdk.tf.json"), "utf8"));
}
