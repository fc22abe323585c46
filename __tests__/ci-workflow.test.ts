/**
 * The GitHub workflow that runs CI on every supported Node: it is valid for GitHub, its matrix
 * names the Node versions package.json's engines field names, and it runs .ci/run (which runs
 * .ci/cores.sh, the second core's checks).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const workflow = path.join(ROOT, ".github", "workflows", "ci.yml");
const text = fs.readFileSync(workflow, "utf8");

test("ci.yml passes action-validator (GitHub's workflow schema)", () => {
  const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "action-validator"), [workflow], { encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});

test("the matrix is the Node versions package.json supports, and each leg runs .ci/run", () => {
  const engines: string = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).engines.node;
  const matrix = /^\s+node: \[([^\]]*)\]$/m.exec(text)?.[1].split(",").map((s) => s.trim());
  expect(matrix).toEqual(engines.split("||").map((s) => s.trim()));
  expect(text).toContain("node-version: ${{ matrix.node }}");
  expect(text).toMatch(/^\s+- run: .*\.ci\/run$/m);
  expect(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8")).toMatch(/^\.ci\/cores\.sh$/m);
});
