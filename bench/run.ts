/**
 * `npm run bench`: every benchmark, one after the other, as Markdown. Figures in the README come
 * from this output. BENCH_RUNS sets the runs per figure (default 5).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { benchSynth } from "./synth";
import { benchSynthCommands } from "./synth-commands";

const runs = Number(process.env.BENCH_RUNS ?? 5);
console.log(`## Synthesis of the mesh stack by node count (median of ${runs})\n`);
console.log(benchSynth(runs));
console.log(`\n## The main job against the cost of loading cdktf (interleaved runs, medians of ${runs})\n`);
console.log(benchSynthCommands(runs));
console.log(`\n## Offline plan of the article stack\n`);
// Its own process (it measures the provider server's memory); the harness loads src/app.ts.
const root = path.resolve(__dirname, "..");
const plan = spawnSync(
  process.execPath,
  [path.join(root, "scripts", "run-ts.js"), path.join(root, "bench", "plan-offline.ts"), "--runs", String(runs)],
  { stdio: "inherit", cwd: root },
);
process.exit(plan.status ?? 1);
