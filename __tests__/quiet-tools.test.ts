/**
 * The tools a user runs first print no avoidable noise: npm has no unreviewed install script to
 * warn about (package.json's allowScripts covers every dependency that has one), and the core's CLI,
 * run through `npm run cdktf` (or `npm run cdktn` on CDK Terrain), makes no telemetry call, so no
 * checkpoint error line offline.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cliRunsHere, installedCore } from "../src/terraform/core";

const ROOT = path.join(__dirname, "..");

test("every dependency with an install script is reviewed in package.json's allowScripts", () => {
  const r = spawnSync("npm", ["install-scripts", "ls"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0 && /Unknown command|install-scripts/.test(r.stderr) && !/No packages/.test(r.stdout)) {
    console.warn(`SKIPPED install-script review check: this npm has no install-scripts command (${r.stderr.trim().split("\n")[0]})`);
    return;
  }
  expect(r.status).toBe(0);
  expect(r.stdout.trim()).toBe("No packages with unreviewed install scripts.");
  const allow = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).allowScripts;
  expect(Object.keys(allow).sort()).toEqual(["@cdktf/node-pty-prebuilt-multiarch", "@swc/core", "esbuild", "protobufjs"]);
});

const CLI = installedCore().spec.cli.bin;
const cliHere = cliRunsHere(installedCore().spec);
if (!cliHere.ok) console.warn(`SKIPPED npm run ${CLI} -- synth: ${cliHere.reason}`);

(cliHere.ok ? test : test.skip)(`npm run ${CLI} -- synth: no checkpoint line even without CHECKPOINT_DISABLE in the environment`, () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CHECKPOINT_DISABLE;
  delete env.TF_CLI_CONFIG_FILE;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "cli-quiet-"));
  try {
    const r = spawnSync("npm", ["run", "--silent", CLI, "--", "synth", "-o", out], { cwd: ROOT, encoding: "utf8", env, timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/checkpoint|ERROR/i);
    expect(r.stdout).toMatch(/Generated Terraform code for the stacks: /);
    expect(fs.existsSync(path.join(out, "stacks", "mesh", "cdk.tf.json"))).toBe(true);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 120_000);
