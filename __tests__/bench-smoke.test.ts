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
