/**
 * scripts/run-ts.js keeps three caches to make the main job fast: transpiled JavaScript, V8
 * bytecode and a bundle of the packages the app requires. A cache may only change how long a run
 * takes, never what it does: these tests edit, rerun and compare. Each test has its own cache
 * directory (RUN_TS_CACHE_DIR) and its entry files under dist/ (so packages resolve from the
 * project's node_modules).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { synthToTempDir } from "./helpers/synth";
import { installedCore } from "../src/terraform/core";

const ROOT = path.join(__dirname, "..");
let work: string;
let cache: string;

beforeEach(() => {
  fs.mkdirSync(path.join(ROOT, "dist"), { recursive: true });
  work = fs.mkdtempSync(path.join(ROOT, "dist", "run-ts-test-"));
  cache = fs.mkdtempSync(path.join(os.tmpdir(), "run-ts-cache-"));
});
afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(cache, { recursive: true, force: true });
});

function run(entry: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "run-ts.js"), entry], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1", RUN_TS_CACHE_DIR: cache, RUN_TS_DEBUG: "1", ...env },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`run-ts ${entry} exited ${r.status}: ${r.stderr}`);
  return r;
}

/** What the debug line says of the code cache: [modules, compiled afresh]. */
function codeCache(stderr: string): [number, string[]] {
  const m = /run-ts: code cache: (\d+) modules, (\d+) compiled afresh: (.*)/.exec(stderr);
  if (!m) throw new Error(`no code cache line in: ${stderr}`);
  return [Number(m[1]), m[3].split(" ").filter(Boolean)];
}

function served(stderr: string): string[] {
  const m = /run-ts: bundle served (.*); to add: (.*)/.exec(stderr);
  if (!m) throw new Error(`no bundle line in: ${stderr}`);
  return m[1] === "nothing" ? [] : m[1].split(" ");
}

test("an edit that keeps the file's length runs the new code, not the old bytecode", () => {
  const entry = path.join(work, "entry.ts");
  fs.writeFileSync(entry, `const word: string = "aaaa";\nconsole.log(word);\n`);
  expect(run(entry).stdout).toBe("aaaa\n");
  const second = run(entry);
  expect(second.stdout).toBe("aaaa\n");
  // Nothing changed: every module came with its bytecode.
  expect(codeCache(second.stderr)[1]).toEqual([]);
  // Same length, so V8's own check (the source's length) would take the old bytecode.
  fs.writeFileSync(entry, `const word: string = "bbbb";\nconsole.log(word);\n`);
  const edited = run(entry);
  expect(edited.stdout).toBe("bbbb\n");
  expect(codeCache(edited.stderr)[1]).toEqual([path.relative(ROOT, entry)]);
  expect(run(entry).stdout).toBe("bbbb\n");
});

test("packages are served from the bundle after the first run, as the same instances Node would load", () => {
  const entry = path.join(work, "entry.ts");
  fs.writeFileSync(
    entry,
    [
      `import { App, TerraformStack, TerraformResource } from "cdktf";`,
      `import { Resource } from "@cdktf/provider-null/lib/resource";`,
      `import { parse } from "jsonc-parser";`,
      // A package loaded by path, so from node_modules: its own require("cdktf") must still get
      // the cdktf the app has, or its resources would not be the app's TerraformResources.
      `const byPath = require(require.resolve("@cdktf/provider-null/lib/resource"));`,
      `const stack = new TerraformStack(new App({ outdir: ${JSON.stringify(path.join(work, "out"))} }), "s");`,
      `console.log(JSON.stringify({`,
      `  sameClass: new Resource(stack, "a") instanceof TerraformResource,`,
      `  byPathSameClass: new byPath.Resource(stack, "b") instanceof TerraformResource,`,
      `  jsonc: parse("{ /* c */ \\"a\\": 1, }").a,`,
      `  coreFilesLoaded: Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(path.join(installedCore().dir, "lib") + path.sep)})).length,`,
      `}));`,
      "",
    ].join("\n"),
  );
  const first = JSON.parse(run(entry).stdout);
  expect(first).toMatchObject({ sameClass: true, byPathSameClass: true, jsonc: 1 });
  expect(first.coreFilesLoaded).toBeGreaterThan(50);
  const manifest = JSON.parse(fs.readFileSync(path.join(cache, "deps", `${path.relative(ROOT, entry).replace(/[^A-Za-z0-9.-]+/g, "_")}.json`), "utf8"));
  expect(Object.keys(manifest.specifiers).sort()).toEqual(["@cdktf/provider-null/lib/resource", "cdktf"]);
  // jsonc-parser's UMD build hands `require` to a factory, which a bundler can't follow: it was
  // tried, failed to load from the bundle, and stays with Node.
  expect(manifest.failed).toEqual(["jsonc-parser"]);

  const second = run(entry);
  const again = JSON.parse(second.stdout);
  expect(again).toEqual({ sameClass: true, byPathSameClass: true, jsonc: 1, coreFilesLoaded: 0 });
  expect(served(second.stderr)).toEqual(["@cdktf/provider-null/lib/resource", "cdktf"]);
});

test("a new import joins the bundle on the next run", () => {
  const entry = path.join(work, "entry.ts");
  fs.writeFileSync(entry, `import { Construct } from "constructs";\nconsole.log(typeof Construct);\n`);
  run(entry);
  expect(served(run(entry).stderr)).toEqual(["constructs"]);
  fs.writeFileSync(entry, `import { Construct } from "constructs";\nimport { distance } from "fastest-levenshtein";\nconsole.log(typeof Construct, distance("ab", "b"));\n`);
  const added = run(entry);
  expect(added.stdout).toBe("function 1\n");
  expect(added.stderr).toMatch(/to add: fastest-levenshtein/);
  const next = run(entry);
  expect(next.stdout).toBe("function 1\n");
  expect(served(next.stderr)).toEqual(["constructs", "fastest-levenshtein"]);
});

test("synthesis gives the same bytes with the caches, without them, in debug mode and compiled by tsc", () => {
  const synth = (label: string, env: NodeJS.ProcessEnv) => {
    const out = path.join(work, label);
    run(path.join(ROOT, "main.ts"), { CDKTF_OUTDIR: out, ...env });
    return out;
  };
  const read = (dir: string) =>
    Object.fromEntries(
      fs
        .readdirSync(path.join(dir, "stacks"))
        .sort()
        .map((s) => [s, fs.readFileSync(path.join(dir, "stacks", s, "cdk.tf.json"), "utf8")]),
    );
  const cold = read(synth("cold", {}));
  expect(Object.keys(cold)).toHaveLength(6);
  expect(read(synth("warm", {}))).toEqual(cold);
  expect(read(synth("nocache", { RUN_TS_CACHES: "0" }))).toEqual(cold);
  expect(read(synth("debug", { SYNTH_DEBUG: "1" }))).toEqual(cold);
  // And the same as compiled by TypeScript itself (ts-jest), in this process.
  const inProcess = synthToTempDir("run-ts-tsc-");
  try {
    expect(read(inProcess)).toEqual(cold);
  } finally {
    fs.rmSync(inProcess, { recursive: true, force: true });
  }
}, 60_000);

test("the core's token creation stacks are skipped unless SYNTH_DEBUG=1", () => {
  // Fresh modules: the synthesis above has already turned them off in this file's core.
  jest.isolateModules(() => {
    const { Lazy } = require("cdktf") as typeof import("cdktf");
    const { skipTokenCreationStacks } = require("../src/terraform/token-stacks") as typeof import("../src/terraform/token-stacks");
    const stackOf = () => (Lazy.anyValue({ produce: () => 1 }) as unknown as { creationStack: string[] }).creationStack;
    expect(skipTokenCreationStacks({ SYNTH_DEBUG: "1" })).toBe(false);
    expect(stackOf().length).toBeGreaterThan(0);
    expect(skipTokenCreationStacks({})).toBe(true);
    expect(stackOf()).toEqual([]);
  });
});
