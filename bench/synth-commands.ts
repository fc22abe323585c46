/**
 * The two ways to run the main job: `npm run synth` (compiled JS, no CLI) and `npx cdktf synth`
 * (the CLI, which runs the same app). Median wall time of several runs each, offline.
 */
import { fmt, median, runMeasured } from "./stats";

export function benchSynthCommands(runs = 5): string {
  const env = { ...process.env, CHECKPOINT_DISABLE: "1" };
  const rows = ["| command | wall time (median) | runs |", "|---|---:|---:|"];
  for (const [label, cmd, args] of [
    ["npm run synth", "npm", ["run", "--silent", "synth"]],
    ["npx cdktf synth", "npx", ["cdktf", "synth"]],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(runMeasured(cmd, [...args], env).wallMs);
    rows.push(`| \`${label}\` | ${fmt(median(times) / 1000, 2)} s | ${runs} |`);
  }
  return rows.join("\n");
}

if (require.main === module) console.log(benchSynthCommands(Number(process.env.BENCH_RUNS ?? 5)));
