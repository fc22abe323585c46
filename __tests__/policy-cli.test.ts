/**
 * `npm run policy -- check`: the exact JSON-lines shape, the plain output, and the exit status for
 * accepted, rejected and unknown files, run the way users run it (a process through the runner).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { check } from "../src/tailnet/policy-cli";

const root = path.join(__dirname, "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-cli-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const good = write("good.hujson", '// ok\n{"tagOwners": {"tag:a": []}, "grants": [{"src": ["tag:a"], "dst": ["tag:a"], "ip": ["tcp:22"]},], "tests": [{"src": "tag:a", "accept": ["tag:a:22"]}]}\n');
const bad = write("bad.hujson", '{"grants": [{"src": ["*"], "dst": ["group:ops"], "ip": ["*"]}, {"src": "*", "dst": ["*"], "ip": ["tcp:70000"]}]}');
const unsure = write("unsure.hujson", '{"tagOwners": {"tag:a": []}, "grants": [{"src": ["autogroup:admin"], "dst": ["tag:a"], "ip": ["tcp:22"]}], "tests": [{"src": "alice@example.com", "accept": ["tag:a:22"]}]}');
const failing = write("failing.hujson", '{"tagOwners": {"tag:a": []}, "grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]}], "tests": [{"src": "tag:a", "deny": ["tag:a:22"]}]}');

function run(args: string[]): { status: number; out: string; err: string } {
  let out = "";
  let err = "";
  const status = check(args, (s) => (out += s), (s) => (err += s));
  return { status, out, err };
}

describe("policy check", () => {
  test("--json: exactly one object per file and line, in the documented shape", () => {
    const r = run(["--json", good, bad, unsure, failing, path.join(dir, "missing.hujson")]);
    expect(r.status).toBe(1);
    const lines = r.out.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { file: good, verdict: "accepted", errors: [], tests: [{ index: 0, result: "pass", why: "" }] },
      {
        file: bad,
        verdict: "rejected",
        errors: [
          { path: "grants[0].dst[0]", message: 'group "group:ops" is not defined' },
          { path: "grants[1].src", message: "must be a list of strings, not a string" },
          { path: "grants[1].ip[0]", message: "port 70000 is outside 1-65535" },
        ],
        tests: [],
      },
      { file: unsure, verdict: "unknown", errors: [], tests: [{ index: 0, result: "unknown", why: expect.stringMatching(/^tests\[0\]: accept tag:a:22: who holds the role autogroup:admin/) }] },
      { file: failing, verdict: "rejected", errors: [], tests: [{ index: 0, result: "fail", why: "tests[0]: tag:a reaches tag:a:22, allowed by grants[0]" }] },
      { file: path.join(dir, "missing.hujson"), verdict: "rejected", errors: [{ path: "", message: "cannot read the file: ENOENT" }], tests: [] },
    ]);
    for (const l of lines) expect(Object.keys(l)).toEqual(["file", "verdict", "errors", "tests"]);
  });

  test("plain: one line per problem with its path, then the verdict", () => {
    const r = run([bad]);
    expect(r.out).toBe(
      `${bad}: grants[0].dst[0]: group "group:ops" is not defined\n${bad}: grants[1].src: must be a list of strings, not a string\n${bad}: grants[1].ip[0]: port 70000 is outside 1-65535\n${bad}: rejected\n`,
    );
  });

  test("exit status: 0 all accepted, 3 none rejected but some unknown, 1 any rejected, 2 usage", () => {
    expect(run([good]).status).toBe(0);
    expect(run([good, unsure]).status).toBe(3);
    expect(run([good, unsure, failing]).status).toBe(1);
    expect(run([]).status).toBe(2);
    expect(run(["--jsn", good]).status).toBe(2);
  });

  test("the shipped base checks accepted, through npm's entry point", () => {
    const p = spawnSync(process.execPath, [path.join(root, "scripts", "run-ts.js"), path.join(root, "src", "tailnet", "policy-cli.ts"), "check", "--json", "tailnet-policy.hujson"], {
      cwd: root,
      encoding: "utf8",
    });
    expect({ status: p.status, out: JSON.parse(p.stdout), err: p.stderr }).toEqual({
      status: 0,
      out: { file: "tailnet-policy.hujson", verdict: "accepted", errors: [], tests: [] },
      err: "",
    });
  });
});

describe("what the app writes", () => {
  test("every policy the example app composes checks accepted, and its tests all pass", () => {
    const { buildApp } = require("../src/app") as typeof import("../src/app");
    const { TailnetPolicy } = require("../src/tailnet/tailnet-policy") as typeof import("../src/tailnet/tailnet-policy");
    const { checkPolicyText } = require("../src/tailnet/policy/check") as typeof import("../src/tailnet/policy/check");
    const app = buildApp({ outdir: fs.mkdtempSync(path.join(dir, "out-")), env: {} });
    const managed = app.node.findAll().filter((c): c is InstanceType<typeof TailnetPolicy> => c instanceof TailnetPolicy && c.mode === "managed");
    expect(managed.length).toBeGreaterThan(0);
    for (const p of managed) {
      const r = checkPolicyText(p.renderPolicy());
      expect({ policy: p.node.path, verdict: r.verdict, errors: r.errors, failing: r.tests.filter((t) => t.result !== "pass") }).toEqual({
        policy: p.node.path,
        verdict: "accepted",
        errors: [],
        failing: [],
      });
    }
  });
});
