/**
 * A bad input stops synthesis with ONE line, as a user sees it: the field, the value, what is
 * allowed (sorted), a "did you mean" for a near miss; no stack trace; printed once; exit status 1.
 * Each error class runs through the fast synth path (scripts/run-ts.js, as `npm run synth` does);
 * `npm run synth` and the core's CLI (`npx cdktf synth`, or `npx cdktn synth` on CDK Terrain)
 * themselves run with a bad setting from the environment, and the CLI also with an error raised
 * inside a Lazy value.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { findTerraform, withSession } from "../src/harness/runner";
import { MeshStack } from "../src/systems/mesh/mesh-stack";
import { ValidationError } from "../src/validation";
import { synthOrExplain, validationMessage } from "../src/validation/report";
import { cliRunsHere, installedCore } from "../src/terraform/core";

const ROOT = path.join(__dirname, "..");
const FIXTURE = "__tests__/fixtures/synth-errors/app.ts";
const ENV: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1" };
delete ENV.TF_CLI_CONFIG_FILE;

function runFixture(which: string) {
  return spawnSync(process.execPath, ["scripts/run-ts.js", FIXTURE, which], { cwd: ROOT, encoding: "utf8", env: ENV });
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at |Resolution error|Object creation stack|node:internal/m);
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe("each class of error, through the fast synth path", () => {
  test.each([
    ["region", /^error: regions\[1\]: unknown Linode region "ap-northeest"\. Did you mean "ap-northeast" \(Tokyo 2, JP\)\? Valid regions: ap-northeast, ap-south, ap-southeast, ap-west, au-mel, br-gru, /],
    ["plan", /^error: instanceType: "g6-standrd-2" is not a Linode plan ID\. Did you mean "g6-standard-2"\? Plans: g1-gpu-rtx6000-1, /],
    ["enum", /^error: delivery: "cloudinit" is not one of "cloud-init", "remote-exec"\. Did you mean "cloud-init"\?$/],
    ["ignored", /^error: adminCidrs: \["203\.0\.113\.0\/24"\] only applies when delivery is "remote-exec"; delivery is "cloud-init", which ignores it/],
    ["anywhere", /^error: adminCidrs\[0\]: "0\.0\.0\.0\/0" opens SSH to the whole internet; .* set allowSshFromAnywhere: true/],
    ["label", /^error: nodes\[0\] label \(namePrefix \+ name\): "mesh-n{46}" \(51 characters\) is not a valid Linode instance label \(3-50 characters/],
    ["lazy", /^error: policy\.grants\[0\]\.dst: "tag:nope" is not owned by anyone$/],
  ])("%s: one line, no stack, exit 1", (which, expected) => {
    const r = runFixture(which);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    noStack(r.stderr);
  });

  test("a bug (not a validation error) keeps its stack, so it can be found", () => {
    const r = runFixture("bug");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(r.stderr).toMatch(/^\s+at /m);
  });
});

describe("the reporter", () => {
  test("unwraps an error cdktf rewrote while resolving a Lazy value", () => {
    const e = new ValidationError("f", "bad");
    e.message = `Resolution error: Resolution error: ${e.message}.\nObject creation stack:\n  at x`;
    expect(validationMessage(e)).toBe("f: bad");
    const err: string[] = [];
    expect(synthOrExplain(() => { throw e; }, { stderr: (t) => void err.push(t) })).toBe(1);
    expect(err).toEqual(["error: f: bad\n"]);
    expect(() => synthOrExplain(() => { throw new RangeError("bug"); }, { stderr: () => undefined })).toThrow(RangeError);
  });
});

const CLI = installedCore().spec.cli.bin;
const cliHere = cliRunsHere(installedCore().spec);
if (!cliHere.ok) console.warn(`SKIPPED npx ${CLI} synth tests: ${cliHere.reason}`);
const cliTest = cliHere.ok ? test : test.skip;

describe(`npm run synth and npx ${CLI} synth`, () => {
  jest.setTimeout(120_000);
  const MESSAGE = 'error: TAILNET_BACKEND: "s4" is not one of "local", "pg", "s3". Did you mean "s3"?';

  test("npm run synth: the message once on stderr, exit 1", () => {
    const r = spawnSync("npm", ["run", "--silent", "synth"], { cwd: ROOT, encoding: "utf8", env: { ...ENV, TAILNET_BACKEND: "s4" } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`${MESSAGE}\n`);
    expect(r.stdout).toBe("");
  });

  cliTest(`npx ${CLI} synth (cdktf.json's app): the message once in everything printed, no stack, exit 1`, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "cli-err-"));
    try {
      // Both streams into one pipe, as a terminal or a CI log shows them.
      const r = spawnSync("bash", ["-o", "pipefail", "-c", `npx ${CLI} synth -o "${out}" 2>&1 | cat`], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...ENV, TAILNET_BACKEND: "s4" },
      });
      expect(r.status).toBe(1);
      expect(count(r.stdout, 'TAILNET_BACKEND: "s4"')).toBe(1);
      expect(r.stdout).toContain(MESSAGE);
      expect(r.stdout).toContain(`${CLI} encountered an error while synthesizing`);
      noStack(r.stdout);
      // No telemetry attempt, so no checkpoint error line either.
      expect(r.stdout).not.toMatch(/checkpoint/i);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  cliTest(`npx ${CLI} synth with an error raised inside a Lazy value: once, unwrapped`, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "cli-lazy-"));
    try {
      const r = spawnSync("bash", ["-o", "pipefail", "-c", `npx ${CLI} synth -a "node scripts/run-ts.js ${FIXTURE} lazy" -o "${out}" 2>&1 | cat`], {
        cwd: ROOT,
        encoding: "utf8",
        env: ENV,
      });
      expect(r.status).toBe(1);
      expect(count(r.stdout, "policy.grants[0].dst")).toBe(1);
      noStack(r.stdout);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("SSH from anywhere at plan time", () => {
  const run = findTerraform() ? test : test.skip;
  if (!findTerraform()) console.warn("SKIPPED admin_cidrs plan-time check: terraform is not on PATH");
  jest.setTimeout(120_000);

  run("admin_cidrs = [\"0.0.0.0/0\"] given at plan time fails the variable's validation, naming the opt-in", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ssh-anywhere-"));
    try {
      const app = new App({ outdir: path.join(tmp, "out") });
      new MeshStack(app, "mesh", { regions: ["us-east"], delivery: "remote-exec", adminCidrs: ["203.0.113.0/24"] });
      app.synth();
      const configPath = path.join(tmp, "out", "stacks", "mesh", "cdk.tf.json");
      await withSession({ configPath, workDir: path.join(tmp, "work"), vars: { admin_cidrs: ["0.0.0.0/0"], ssh_public_keys: ["ssh-ed25519 AAAA test"] } }, async (s) => {
        await expect(s.plan()).rejects.toThrow(/admin_cidrs must not open SSH to the whole internet \(a \/0 network\); set allowSshFromAnywhere/);
        s.reconfigure({ vars: { admin_cidrs: ["198.51.100.0/24"], ssh_public_keys: ["ssh-ed25519 AAAA test"] } });
        await expect(s.plan()).resolves.toBeDefined();
      });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
