/**
 * `npm run bench` is not part of the test run (it takes minutes), but its parts must keep working:
 * each synthesis benchmark runs once here and must print its table.
 */
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const run = (script: string) =>
  spawnSync(process.execPath, [path.join(ROOT, "scripts", "run-ts.js"), path.join(ROOT, "bench", script)], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, BENCH_RUNS: "1", CHECKPOINT_DISABLE: "1" },
    timeout: 90_000,
  });

test.each([
  ["synth.ts", /^\| 1000 \| \d+ ms \| \d+ ms \|/m],
  ["synth-router.ts", /^\| `subnet-router-aws` \| \d+ ms \| \d+ ms \|/m],
])("bench/%s runs and prints its table", (script, row) => {
  const r = run(script);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(row);
}, 90_000);

// The plan-by-node-count benchmark, once at 14 nodes with terraform (needs terraform on PATH).
const haveTerraform = (process.env.PATH ?? "").split(path.delimiter).some((d) => d && require("fs").existsSync(path.join(d, "terraform")));
if (!haveTerraform) console.warn("bench-smoke: terraform not on PATH; bench/plan-scale.ts is not run");
(haveTerraform ? test : test.skip)("bench/plan-scale.ts plans the mesh beside the article's HCL and prints the ratios", () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "run-ts.js"), path.join(ROOT, "bench", "plan-scale.ts")], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, BENCH_PLAN_NODES: "14", BENCH_PLAN_RUNS: "1", BENCH_PLAN_ENGINES: "terraform", CHECKPOINT_DISABLE: "1" },
    timeout: 120_000,
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^\| terraform \| 14 \| [\d.]+ s \| [\d.]+ s \| \d+ MiB \| [\d.]+ s \| [\d.]+ s \| \d+ MiB \| [\d.]+× \| [\d.]+× \| [\d.]+× \|/m);
}, 120_000);

test("growth exponent: the slope of log time on log N", () => {
  const { growthExponent } = require("../bench/plan-scale") as typeof import("../bench/plan-scale");
  expect(growthExponent([[100, 1], [1000, 10]])).toBeCloseTo(1);
  expect(growthExponent([[100, 1], [300, 9], [1000, 100]])).toBeCloseTo(2);
});
