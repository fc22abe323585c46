/**
 * scripts/run-ts.js keeps two caches to make the main job fast: transpiled JavaScript and V8
 * bytecode. A cache may only change how long a run takes, never what it does: these tests edit
 * (keeping the size and even the mtime), corrupt and truncate, rerun and compare. Each test has its
 * own cache directory (RUN_TS_CACHE_DIR) and its entry files under dist/ (so packages resolve from
 * the project's node_modules).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { synthToTempDir } from "./helpers/synth";

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

/** What the debug line says of the code cache: [modules, compiled afresh, corrupt entries]. */
function codeCache(stderr: string): [number, string[], number] {
  const m = /run-ts: code cache: (\d+) modules, (\d+) compiled afresh \((\d+) corrupt\): (.*)/.exec(stderr);
  if (!m) throw new Error(`no code cache line in: ${stderr}`);
  return [Number(m[1]), m[4].split(" ").filter(Boolean), Number(m[3])];
}

/** What the debug line says of the transpile cache: [transpiled, stale or corrupt entries]. */
function tsCache(stderr: string): [number, number] {
  const m = /run-ts: ts-cache: (\d+) transpiled \((\d+) stale or corrupt entries\)/.exec(stderr);
  if (!m) throw new Error(`no ts-cache line in: ${stderr}`);
  return [Number(m[1]), Number(m[2])];
}

/** A whole second, which utimes sets exactly (a Date would lose the sub-millisecond part). */
const PINNED_TIME = 1_700_000_000;

/** Writes a file with a fixed mtime, so a later rewrite can keep size and mtime exactly. */
function writePinned(file: string, text: string): void {
  fs.writeFileSync(file, text);
  fs.utimesSync(file, PINNED_TIME, PINNED_TIME);
}

/** Rewrites a file written by writePinned keeping its size and mtime: what `cp -p`, a checkout or a fast editor may leave. */
function rewriteKeepingStat(file: string, text: string): void {
  const before = fs.statSync(file);
  writePinned(file, text);
  const after = fs.statSync(file);
  expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
}

const cachedTs = (entry: string) => path.join(cache, "ts-cache", path.relative(ROOT, entry).replace(/\.ts$/, ".js"));
const codeCacheFiles = () => fs.readdirSync(path.join(cache, "code-cache")).map((f) => path.join(cache, "code-cache", f));

test("an edit that keeps the file's length runs the new code, not the old bytecode", () => {
  const entry = path.join(work, "entry.ts");
  fs.writeFileSync(entry, `const word: string = "aaaa";\nconsole.log(word);\n`);
  expect(run(entry).stdout).toBe("aaaa\n");
  const second = run(entry);
  expect(second.stdout).toBe("aaaa\n");
  // Nothing changed: every module came with its bytecode, and nothing was transpiled.
  expect(codeCache(second.stderr)[1]).toEqual([]);
  expect(tsCache(second.stderr)).toEqual([0, 0]);
  // Same length, so V8's own check (the source's length) would take the old bytecode.
  fs.writeFileSync(entry, `const word: string = "bbbb";\nconsole.log(word);\n`);
  const edited = run(entry);
  expect(edited.stdout).toBe("bbbb\n");
  expect(codeCache(edited.stderr)[1]).toEqual([path.relative(ROOT, entry)]);
  expect(run(entry).stdout).toBe("bbbb\n");
});

test.each([
  ["with the caches", {}],
  ["with RUN_TS_CACHES=0", { RUN_TS_CACHES: "0" }],
])("an edit that keeps the size and the mtime runs the new code, %s", (_label, env) => {
  const entry = path.join(work, "entry.ts");
  const dep = path.join(work, "dep.ts");
  fs.writeFileSync(entry, `import { word } from "./dep";\nconsole.log(word);\n`);
  writePinned(dep, `export const word = "left";\n`);
  expect(run(entry).stdout).toBe("left\n");
  expect(run(entry).stdout).toBe("left\n");
  rewriteKeepingStat(dep, `export const word = "rite";\n`);
  expect(run(entry, env).stdout).toBe("rite\n");
  // And the cache made before the edit is not taken back afterwards.
  expect(run(entry).stdout).toBe("rite\n");
});

// Each damages the cached JavaScript of dep.ts; the run must give the right output and repair it.
const TS_CACHE_DAMAGE: [string, (text: string) => string][] = [
  ["truncated to half", (t) => t.slice(0, Math.floor(t.length / 2))],
  ["cut after the header line", (t) => t.slice(0, t.indexOf("\n") + 1)],
  ["empty", () => ""],
  ["a byte of the body changed", (t) => t.replace('"left"', '"LEFT"')],
  ["the body replaced, header kept", (t) => `${t.slice(0, t.indexOf("\n") + 1)}throw new Error("poisoned");\n`],
  ["binary garbage", () => "\u0000\u00ff\u0001garbage"],
  ["a header without hashes", (t) => `// ts-cache\n${t.slice(t.indexOf("\n") + 1)}`],
  ["the old size-and-mtime header", () => `// ts-cache 28 1700000000000\nexports.word = "old";\n`],
];

test.each(TS_CACHE_DAMAGE)("a transpile cache entry %s is transpiled again, never used", (_label, damage) => {
  const entry = path.join(work, "entry.ts");
  const dep = path.join(work, "dep.ts");
  fs.writeFileSync(entry, `import { word } from "./dep";\nconsole.log(word);\n`);
  fs.writeFileSync(dep, `export const word = "left";\n`);
  expect(run(entry).stdout).toBe("left\n");
  const file = cachedTs(dep);
  fs.writeFileSync(file, damage(fs.readFileSync(file, "utf8")));
  const r = run(entry);
  expect(r.stdout).toBe("left\n");
  expect(tsCache(r.stderr)).toEqual([1, 1]);
  // Repaired: the next run transpiles nothing.
  expect(tsCache(run(entry).stderr)).toEqual([0, 0]);
});

// Each damages the bytecode file; the run must give the right output, never crash, and rewrite it.
const CODE_CACHE_DAMAGE: [string, (b: Buffer) => Buffer][] = [
  ["truncated to half", (b) => b.subarray(0, Math.floor(b.length / 2))],
  ["truncated inside the header", (b) => b.subarray(0, 10)],
  ["empty", () => Buffer.alloc(0)],
  ["three bytes", () => Buffer.from([1, 2, 3])],
  ["a header length past the end", (b) => Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0x7f]), b.subarray(4)])],
  ["the last kilobyte of bytecode flipped", (b) => Buffer.concat([b.subarray(0, b.length - 1024), Buffer.from(b.subarray(b.length - 1024).map((x) => x ^ 0xff))])],
  ["every byte after the header flipped", (b) => {
    const h = 4 + b.readUInt32LE(0);
    return Buffer.concat([b.subarray(0, h), Buffer.from(b.subarray(h).map((x) => x ^ 0x5a))]);
  }],
  ["a header that is not JSON", (b) => Buffer.concat([b.subarray(0, 4), Buffer.from("{".repeat(b.readUInt32LE(0))), b.subarray(4 + b.readUInt32LE(0))])],
  ["random bytes of the same length", (b) => Buffer.from(b.map((_, i) => (i * 7919) % 251))],
];

test.each(CODE_CACHE_DAMAGE)("a code cache file %s is compiled afresh, never used", (_label, damage) => {
  const entry = path.join(work, "entry.ts");
  fs.writeFileSync(entry, `import { Construct } from "constructs";\nconst word: string = "cccc";\nconsole.log(word, typeof Construct);\n`);
  expect(run(entry).stdout).toBe("cccc function\n");
  const [file] = codeCacheFiles();
  fs.writeFileSync(file, damage(fs.readFileSync(file)));
  const r = run(entry);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe("cccc function\n");
  // Rewritten: the run after uses it whole.
  const next = run(entry);
  expect(next.stdout).toBe("cccc function\n");
  expect(codeCache(next.stderr)[1]).toEqual([]);
});

test.each([
  ["the transpile cache directory is a file", (c: string) => fs.writeFileSync(path.join(c, "ts-cache"), "not a directory")],
  ["the code cache directory is a file", (c: string) => fs.writeFileSync(path.join(c, "code-cache"), "not a directory")],
  ["an entry's path is a directory", (c: string, dep: string) => fs.mkdirSync(path.join(c, "ts-cache", path.relative(ROOT, dep).replace(/\.ts$/, ".js")), { recursive: true })],
])("a cache that can't be read or written (%s) only costs time", (_label, spoil) => {
  const entry = path.join(work, "entry.ts");
  const dep = path.join(work, "dep.ts");
  fs.writeFileSync(entry, `import { word } from "./dep";\nconsole.log(word);\n`);
  fs.writeFileSync(dep, `export const word = "left";\n`);
  spoil(cache, dep);
  expect(run(entry).stdout).toBe("left\n");
  fs.writeFileSync(dep, `export const word = "rite";\n`);
  expect(run(entry).stdout).toBe("rite\n");
});

test("an edit inside an installed package is seen at once (no cache keyed on npm's lock file)", () => {
  const pkg = path.join(work, "node_modules", "fake-pkg");
  fs.mkdirSync(pkg, { recursive: true });
  fs.writeFileSync(path.join(pkg, "package.json"), `{"name":"fake-pkg","version":"1.0.0","main":"index.js"}\n`);
  writePinned(path.join(pkg, "index.js"), `exports.word = "pkg1";\n`);
  const entry = path.join(work, "entry.ts");
  fs.writeFileSync(entry, `import { word } from "fake-pkg";\nconsole.log(word);\n`);
  expect(run(entry).stdout).toBe("pkg1\n");
  expect(run(entry).stdout).toBe("pkg1\n");
  rewriteKeepingStat(path.join(pkg, "index.js"), `exports.word = "pkg2";\n`);
  expect(run(entry).stdout).toBe("pkg2\n");
});

test("parallel runs of edited sources never see each other's half-written entries", () => {
  const entry = path.join(work, "entry.ts");
  const dep = path.join(work, "dep.ts");
  fs.writeFileSync(entry, `import { word } from "./dep";\nconsole.log(word);\n`);
  const words = ["w1", "w2", "w3", "w4"];
  for (const w of words) {
    fs.writeFileSync(dep, `export const word = "${w}";\n`);
    // Two runs of the same source at once, racing on the same cache entries.
    const a = spawnRun(entry);
    const b = spawnRun(entry);
    expect([a.status, b.status]).toEqual([0, 0]);
    expect([a.stdout, b.stdout]).toEqual([`${w}\n`, `${w}\n`]);
  }
});

function spawnRun(entry: string) {
  return spawnSync(process.execPath, [path.join(ROOT, "scripts", "run-ts.js"), entry], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1", RUN_TS_CACHE_DIR: cache },
    timeout: 60_000,
  });
}

test.each([
  ["RUN_TS_CACHE", "0", "RUN_TS_CACHES"],
  ["RUN_TS_DEBG", "1", "RUN_TS_DEBUG"],
  ["RUN_TS_CACHEDIR", "/tmp", "RUN_TS_CACHE_DIR"],
])("a misspelt runner setting %s is refused with one line", (name, value, meant) => {
  const entry = path.join(work, "entry.ts");
  fs.writeFileSync(entry, `console.log("ran");\n`);
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "run-ts.js"), entry], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, RUN_TS_CACHE_DIR: cache, [name]: value },
  });
  expect(r.status).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(`error: ${name}: is not a setting of the runner. Did you mean ${meant}? Settings: RUN_TS_CACHES, RUN_TS_CACHE_DIR, RUN_TS_DEBUG.\n`);
});

test.each([["RUN_TS_CACHES", "off"], ["RUN_TS_CACHES", "false"], ["RUN_TS_DEBUG", "yes"]])("%s=%s is refused (only 0 or 1)", (name, value) => {
  const entry = path.join(work, "entry.ts");
  fs.writeFileSync(entry, `console.log("ran");\n`);
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "run-ts.js"), entry], { cwd: ROOT, encoding: "utf8", env: { ...process.env, RUN_TS_CACHE_DIR: cache, [name]: value } });
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(`error: ${name}: ${JSON.stringify(value)} is not one of "0", "1"\n`);
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
