/**
 * Synthesis of each subnet-router stack (plus a one-node mesh that owns the policy): wall time of
 * the whole process, time inside app.synth(), peak RSS and the size of the router's cdk.tf.json.
 */
import * as path from "path";
import { fmt, median, runMeasured } from "./stats";

export function benchSynthRouters(runs = 5): string {
  // Through the project's TypeScript runner, like every npm script (there is no compiled build).
  const runner = path.join(__dirname, "..", "scripts", "run-ts.js");
  const script = path.join(__dirname, "synth-router-once.ts");
  const rows = ["| stack | process wall time (median) | in-process synth (median) | peak RSS (median) | cdk.tf.json |", "|---|---:|---:|---:|---:|"];
  for (const stack of ["subnet-router-linode", "subnet-router-aws"]) {
    const wall: number[] = [];
    const synth: number[] = [];
    const rss: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const r = runMeasured(process.execPath, [runner, script, stack]);
      const out = JSON.parse(r.stdout.trim());
      wall.push(r.wallMs);
      synth.push(out.synthMs);
      if (r.maxRssMb !== undefined) rss.push(r.maxRssMb);
      bytes = out.bytes;
    }
    rows.push(`| \`${stack}\` | ${fmt(median(wall))} ms | ${fmt(median(synth))} ms | ${rss.length ? fmt(median(rss)) + " MB" : "n/a"} | ${fmt(bytes / 1024)} KiB |`);
  }
  return rows.join("\n");
}

if (require.main === module) console.log(benchSynthRouters(Number(process.env.BENCH_RUNS ?? 5)));
