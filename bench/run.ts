/**
 * `npm run bench`: every benchmark, one after the other, as Markdown. Figures in the README come
 * from this output. BENCH_RUNS sets the runs per figure (default 5); BENCH_ERLANG_MB the volume per
 * case of the Erlang distribution benchmark (default 512).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { benchSynth } from "./synth";
import { benchSynthCommands } from "./synth-commands";

const runs = Number(process.env.BENCH_RUNS ?? 5);
console.log(`## Synthesis of the mesh stack by node count (median of ${runs})\n`);
console.log(benchSynth(runs));
console.log(`\n## The main job, both ways (median of ${runs})\n`);
console.log(benchSynthCommands(runs));
console.log(`\n## Offline plan of the article stack\n`);
// Runs from the TypeScript sources: the harness loads src/app.ts to synthesize.
const root = path.resolve(__dirname, "..", "..");
const plan = spawnSync(
  process.execPath,
  ["-r", "ts-node/register/transpile-only", path.join(root, "bench", "plan-offline.ts"), "--runs", String(runs)],
  { stdio: "inherit", cwd: root },
);
console.log(`\n## Erlang distribution: WireGuard tunnel vs TLS vs plain (one run)\n`);
// Needs root, wireguard-go, Erlang and openssl; prints why it skips otherwise.
const erlang = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(root, "bench", "erlang-dist.ts")], {
  stdio: "inherit",
  cwd: root,
});
process.exit((plan.status ?? 1) || (erlang.status ?? 1));
