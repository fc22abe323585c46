/**
 * The one place that knows the core (src/terraform/core.ts), the snapshot serializer built on it,
 * and the comparison CI runs between the cores' outputs (src/terraform/compare-synth.ts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compareSynthDirs } from "../src/terraform/compare-synth";
import { CORE_IMPORT, CORES, CORE_VERSION_PLACEHOLDER, cliRunsHere, compareVersions, installedCore, normaliseCoreVersion, quietDeprecatedCoreCalls } from "../src/terraform/core";

import * as serializer from "./helpers/core-version-serializer";

const ROOT = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

test("the default core is what package.json installs", () => {
  const spec = (s: string) => s.slice(s.lastIndexOf("@") + 1);
  const d = CORES.cdktf.packages;
  expect(pkg.dependencies.cdktf).toBe(spec(d.cdktf));
  expect(pkg.dependencies.constructs).toBe(spec(d.constructs));
  expect(pkg.devDependencies["cdktf-cli"]).toBe(spec(d.cli));
  // The second core is never in package.json: `npm ci` installs the default.
  expect(JSON.stringify([pkg.dependencies, pkg.devDependencies])).not.toMatch(/cdktn/);
});

test("the installed core is found where Node resolves the import, with its version", () => {
  const core = installedCore();
  const manifest = JSON.parse(fs.readFileSync(path.join(core.dir, "package.json"), "utf8"));
  expect(manifest.name).toBe(core.spec.name);
  expect(core.version).toBe(manifest.version);
  expect(require.resolve(CORE_IMPORT).startsWith(core.dir + path.sep)).toBe(true);
  expect(require(CORE_IMPORT).App).toBeDefined();
});

test("only the installed core's own version is replaced, and nothing else", () => {
  const doc = { "//": { metadata: { backend: "local", stackName: "s", version: "9.9.9" }, outputs: {} }, resource: { a: 1 } };
  const out = normaliseCoreVersion(doc, "9.9.9");
  expect(out).toEqual({ ...doc, "//": { ...doc["//"], metadata: { ...doc["//"].metadata, version: CORE_VERSION_PLACEHOLDER } } });
  expect(doc["//"].metadata.version).toBe("9.9.9"); // the input is left alone
  expect(normaliseCoreVersion(doc, "9.9.8")).toBe(doc); // another version still shows
  expect(normaliseCoreVersion({ version: "9.9.9" }, "9.9.9")).toEqual({ version: "9.9.9" });
  expect(normaliseCoreVersion("text", "9.9.9")).toBe("text");
});

test("snapshots print the placeholder for the installed core's version only", () => {
  const v = installedCore().version;
  expect({ "//": { metadata: { version: v } } }).toMatchInlineSnapshot(`
{
  "//": {
    "metadata": {
      "version": "<core version>",
    },
  },
}
`);
  expect(serializer.test({ "//": { metadata: { version: v } } })).toBe(true);
  expect(serializer.test({ "//": { metadata: { version: `${v}-other` } } })).toBe(false);
});

test("the CLI's Node requirement", () => {
  expect(compareVersions("22.19.0", "22.19.0")).toBe(0);
  expect(compareVersions("22.9.1", "22.19.0")).toBeLessThan(0);
  expect(compareVersions("24.0.0", "22.19.0")).toBeGreaterThan(0);
  expect(cliRunsHere(CORES.cdktn, "20.20.2")).toEqual({ ok: false, reason: "the cdktn CLI needs Node >= 22.19.0; this is Node 20.20.2" });
  expect(cliRunsHere(CORES.cdktn, "22.19.0")).toEqual({ ok: true });
  expect(cliRunsHere(CORES.cdktf, "20.0.0")).toEqual({ ok: true });
  expect(cliRunsHere(CORES.cdktf, "22.23.5")).toEqual({ ok: true });
  expect(cliRunsHere(CORES.cdktf, "24.22.3")).toEqual({ ok: false, reason: expect.stringMatching(/^the cdktf CLI does not start on Node 24\.22\.3: .*node-pty/) });
  expect(cliRunsHere(CORES.cdktn, "24.22.3")).toEqual({ ok: true });
});

describe("comparing two synthesis outputs", () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "core-compare-"));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function out(name: string, version: string, stack: object, extra: Record<string, string> = {}): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(path.join(dir, "stacks", "s"), { recursive: true });
    fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ stacks: { s: {} }, version }, null, 2));
    fs.writeFileSync(path.join(dir, "stacks", "s", "cdk.tf.json"), JSON.stringify({ "//": { metadata: { stackName: "s", version } }, ...stack }, null, 2));
    for (const [f, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, f), text);
    return dir;
  }

  test("the core's version and formatting are ignored, and reported", () => {
    const a = out("a", "0.21.0", { resource: { x: { y: {} } } });
    const b = out("b", "0.24.0", {});
    fs.writeFileSync(path.join(b, "stacks", "s", "cdk.tf.json"), JSON.stringify({ "//": { metadata: { stackName: "s", version: "0.24.0" } }, resource: { x: { y: {} } } }));
    const r = compareSynthDirs(a, b);
    expect(r).toEqual({
      stacks: ["s"],
      versions: { a: ["0.21.0"], b: ["0.24.0"] },
      differences: [],
      formattingOnly: ["manifest.json", "stacks/s/cdk.tf.json"],
    });
  });

  test("any other difference is found, with its path", () => {
    const a = out("a", "0.21.0", { resource: { x: { y: { n: 1 } } } }, { "only-a.txt": "" });
    const b = out("b", "0.24.0", { resource: { x: { y: { n: 2 } } } });
    fs.writeFileSync(path.join(b, "stacks", "s", "cdk.tf.json"), JSON.stringify({ "//": { metadata: { stackName: "t", version: "0.24.0" } }, resource: { x: { y: { n: 2 } } } }));
    expect(compareSynthDirs(a, b).differences).toEqual([
      `only-a.txt: only in ${a}`,
      'stacks/s/cdk.tf.json."//"."metadata"."stackName": "s" vs "t"',
      'stacks/s/cdk.tf.json."resource"."x"."y"."n": 1 vs 2',
    ]);
  });
});

test("cdktf 0.21's util.isArray call prints no DeprecationWarning (Node 22+); another core is left alone", () => {
  const util = require("util") as { isArray: unknown };
  const before = util.isArray;
  try {
    quietDeprecatedCoreCalls();
    if (installedCore().spec.callsUtilIsArray) expect(util.isArray).toBe(Array.isArray);
    else expect(util.isArray).toBe(before);
  } finally {
    util.isArray = before;
  }
});
