/**
 * `npm run bench`: every benchmark, one after the other, as Markdown. Figures in the README come
 * from this output. BENCH_RUNS sets the runs per figure (default 5); BENCH_ERLANG_MB the volume per
 * case of the Erlang distribution benchmark (default 512). The plan-by-node-count benchmark runs at
 * 14 and 100 nodes here; `npm run bench -- plan-scale` runs it alone at 14, 100, 300 and 1,000
 * (minutes of CPU; see bench/plan-scale.ts for its settings).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { benchSynth } from "./synth";
import { benchSynthCommands } from "./synth-commands";
import { benchPolicyCheck } from "./policy-check";
import { benchSynthRouters } from "./synth-router";

const root = path.resolve(__dirname, "..");
const planScale = (env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [path.join(root, "scripts", "run-ts.js"), path.join(root, "bench", "plan-scale.ts")], {
    stdio: "inherit",
    cwd: root,
    env: { ...process.env, ...env },
  }).status ?? 1;

const mode = process.argv[2];
if (mode === "plan-scale") {
  console.log(`## Offline plan by node count: the mesh beside the article's HCL\n`);
  process.exit(planScale({}));
} else if (mode !== undefined) {
  console.error(`bench: unknown mode ${JSON.stringify(mode)}; modes: plan-scale (or none for the default set)`);
  process.exit(2);
}

const runs = Number(process.env.BENCH_RUNS ?? 5);
console.log(`## Synthesis of the mesh stack by node count (median of ${runs})\n`);
console.log(benchSynth(runs));
console.log(`\n## The main job against the cost of loading cdktf (interleaved runs, medians of ${runs})\n`);
console.log(benchSynthCommands(runs));
console.log(`\n## Synthesis of the subnet router stacks (median of ${runs})\n`);
console.log(benchSynthRouters(runs));
console.log(`\n## Tailnet policy check over many files, one process (median of ${runs})\n`);
console.log(benchPolicyCheck(runs));
// Each offline plan in its own process (it measures the provider server's memory); the harness
// loads src/app.ts to synthesize.
let status = 0;
for (const stack of ["article", "subnet-router-linode", "subnet-router-aws", "site-to-site"]) {
  console.log(`\n## Offline plan of the ${stack} stack\n`);
  const plan = spawnSync(
    process.execPath,
    [path.join(root, "scripts", "run-ts.js"), path.join(root, "bench", "plan-offline.ts"), "--runs", String(runs), "--stack", stack],
    { stdio: "inherit", cwd: root },
  );
  status ||= plan.status ?? 1;
}
console.log(`\n## Offline plan by node count: the mesh beside the article's HCL (14 and 100 nodes; \`npm run bench -- plan-scale\` for 300 and 1,000)\n`);
status ||= planScale({ BENCH_PLAN_NODES: process.env.BENCH_PLAN_NODES ?? "14,100", BENCH_PLAN_RUNS: process.env.BENCH_PLAN_RUNS ?? String(runs) });
console.log(`\n## Erlang distribution: WireGuard tunnel vs TLS vs plain (one run)\n`);
// Needs root, wireguard-go, Erlang and openssl; prints why it skips otherwise.
const erlang = spawnSync(process.execPath, [path.join(root, "scripts", "run-ts.js"), path.join(root, "bench", "erlang-dist.ts")], { stdio: "inherit", cwd: root });
status ||= erlang.status ?? 1;
process.exit(status);
