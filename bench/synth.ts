/**
 * Synthesis of the mesh stack at 14, 100 and 1,000 nodes: wall time of the whole process (what a
 * user waits for), time inside app.synth(), and peak RSS. Goal: 1,000 nodes under 5 s and 500 MB.
 */
import * as path from "path";
import { fmt, median, runMeasured } from "./stats";

export function benchSynth(runs = 5): string {
  const runner = path.join(__dirname, "..", "scripts", "run-ts.js");
  const script = path.join(__dirname, "synth-once.ts");
  const rows: string[] = [
    "| nodes | process wall time (median) | in-process synth (median) | peak RSS (median) | cdk.tf.json |",
    "|---:|---:|---:|---:|---:|",
  ];
  for (const n of [14, 100, 1000]) {
    const wall: number[] = [];
    const synth: number[] = [];
    const rss: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const r = runMeasured(process.execPath, [runner, script, String(n)]);
      const out = JSON.parse(r.stdout.trim());
      wall.push(r.wallMs);
      synth.push(out.synthMs);
      if (r.maxRssMb !== undefined) rss.push(r.maxRssMb);
      bytes = out.bytes;
    }
    rows.push(
      `| ${n} | ${fmt(median(wall))} ms | ${fmt(median(synth))} ms | ${rss.length ? fmt(median(rss)) + " MB" : "n/a"} | ${fmt(bytes / 1024)} KiB |`,
    );
  }
  return rows.join("\n");
}

if (require.main === module) console.log(benchSynth(Number(process.env.BENCH_RUNS ?? 5)));
