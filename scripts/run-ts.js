#!/usr/bin/env node
/**
 * Runs a TypeScript entry point fast. This is the main job's path (`npm run synth`, and cdktf.json's
 * "app", so `npx cdktf synth` too) and the other npm scripts'.
 *
 *   node scripts/run-ts.js <entry.ts> [args...]
 *
 * No type check here: that is `npm run typecheck`'s job, and CI runs it. Two caches, both under
 * dist/ (RUN_TS_CACHE_DIR moves them), both safe to delete, and neither may change a result: each
 * entry is keyed by the content it was made from (a hash, never a size or a time) and carries a
 * hash of itself, so a stale, truncated or corrupt entry is recompiled from the source, never used.
 * - Transpiled JavaScript (ts-cache/). Each .ts file is transpiled on its own by swc, in process,
 *   when it is first required. An entry is used only when it was made from a source with the same
 *   SHA-256 by the same transpiler and options; swc is not even loaded when nothing changed.
 * - V8 code cache (code-cache/). Compiling JavaScript is much of what loading a module costs, so
 *   every module the entry loads (the app's and node_modules') is compiled with the bytecode V8 made
 *   for it last time, checked against a hash of the module's source (V8 itself only compares the
 *   source's length) and a hash of the bytecode (V8 doesn't checksum it in release builds); V8
 *   rejects bytecode from another V8 or other flags.
 * (A bundle of the dependencies used to sit here too; it was keyed on npm's lock file, so an edit
 * inside node_modules went unseen, and making it safe meant reading every file it spared: removed.)
 *
 * SYNTH_DEBUG=1 is for an unexpected error: TypeScript line numbers in its stack (source maps), no
 * cache, and cdktf's token creation stacks kept (src/terraform/token-stacks.ts). Validation errors
 * print one line and no stack either way. RUN_TS_CACHES=0 turns both caches off (every file
 * transpiled and compiled afresh); RUN_TS_DEBUG=1 has them say what they did, at exit. Any other
 * RUN_TS_* variable is refused (a typo would otherwise be ignored).
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const Module = require("module");
const vm = require("vm");

const root = path.resolve(__dirname, "..");
const RUN_TS_ENV = ["RUN_TS_CACHES", "RUN_TS_CACHE_DIR", "RUN_TS_DEBUG"];
for (const name of Object.keys(process.env).filter((k) => k.startsWith("RUN_TS_")).sort()) {
  if (RUN_TS_ENV.includes(name)) continue;
  const { closest } = require("fastest-levenshtein");
  process.stderr.write(`error: ${name}: is not a setting of the runner. Did you mean ${closest(name, RUN_TS_ENV)}? Settings: ${RUN_TS_ENV.join(", ")}.\n`);
  process.exit(1);
}
for (const [name, allowed] of [["RUN_TS_CACHES", ["0", "1"]], ["RUN_TS_DEBUG", ["0", "1"]]]) {
  const v = process.env[name];
  if (v !== undefined && v !== "" && !allowed.includes(v)) {
    process.stderr.write(`error: ${name}: ${JSON.stringify(v)} is not one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}\n`);
    process.exit(1);
  }
}
const cacheRoot = path.resolve(process.env.RUN_TS_CACHE_DIR || path.join(root, "dist"));
const sourceMaps = process.env.SYNTH_DEBUG === "1";
const caches = !sourceMaps && process.env.RUN_TS_CACHES !== "0";
/** RUN_TS_DEBUG=1: each cache says what it did, on stderr at exit. */
const debug = process.env.RUN_TS_DEBUG === "1";
const shown = (file) => path.relative(root, file);
const sha256 = (data) => crypto.createHash("sha256").update(data).digest("base64url");

// ---- transpiling ----------------------------------------------------------------------------

const tsCacheDir = path.join(cacheRoot, "ts-cache");
let transform;

function transpile(source, filename) {
  transform ??= transformer();
  return transform(source, filename);
}

/**
 * swc, whose native binary loads in process (about 20 ms after an edit); esbuild, which starts its
 * binary as a child process (about 50 ms), only where swc has no binary for this platform. Both as
 * tsconfig.json's target (ES2020) means for tsc and ts-jest: class fields assigned in the
 * constructor, so a field only declared in a subclass doesn't reset what the base class set.
 */
function transformer() {
  let swc;
  try {
    swc = require("@swc/core");
  } catch {
    const esbuild = require("esbuild");
    return (source, filename) =>
      esbuild.transformSync(source, {
        loader: "ts",
        format: "cjs",
        platform: "node",
        target: "node20",
        sourcefile: filename,
        sourcemap: sourceMaps ? "inline" : false,
        tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
      }).code;
  }
  return (source, filename) =>
    swc.transformSync(source, {
      filename,
      swcrc: false,
      configFile: false,
      sourceMaps: sourceMaps ? "inline" : false,
      inlineSourcesContent: sourceMaps,
      module: { type: "commonjs" },
      jsc: {
        parser: { syntax: "typescript" },
        target: "es2020",
        transform: { useDefineForClassFields: false },
        keepClassNames: true,
      },
    }).code;
}

/** Writes under a private name, then renames: parallel runs never read a half-written file. */
function writeAtomically(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * What else decides the transpiled text besides the source: the transpilers' versions and the
 * options above (this file's own text). Read once, when the first .ts file is required.
 */
let transpilerKey;
function transpilerFingerprint() {
  if (transpilerKey !== undefined) return transpilerKey;
  const version = (pkg) => {
    try {
      return JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), "utf8")).version;
    } catch {
      return "none";
    }
  };
  transpilerKey = sha256(`${version("@swc/core")}\0${version("esbuild")}\0${transformer.toString()}\0${process.version}`);
  return transpilerKey;
}

/** The entry's header: `// ts-cache <key of the source> <hash of the body>`. */
const TS_CACHE_HEADER = /^\/\/ ts-cache ([A-Za-z0-9_-]+) ([A-Za-z0-9_-]+)\n/;

let transpiled = 0;
let rejected = 0;

function compiled(filename) {
  const source = fs.readFileSync(filename, "utf8");
  if (!caches) return transpile(source, filename);
  const key = sha256(`${transpilerFingerprint()}\0${source}`);
  const rel = path.relative(root, filename);
  const cached = path.join(tsCacheDir, rel.startsWith("..") ? path.join("_outside", filename) : rel).replace(/\.ts$/, ".js");
  let text;
  try {
    text = fs.readFileSync(cached, "utf8");
  } catch {
    // not cached yet
  }
  if (text !== undefined) {
    const m = TS_CACHE_HEADER.exec(text);
    // Used only when made from this very source and intact: anything else is transpiled again.
    if (m && m[1] === key && m[2] === sha256(text.slice(m[0].length))) return text;
    rejected++;
  }
  transpiled++;
  const body = transpile(source, filename);
  const code = `// ts-cache ${key} ${sha256(body)}\n${body}`;
  try {
    writeAtomically(cached, code);
  } catch {
    // A cache that can't be written only costs the next run time.
  }
  return code;
}

Module._extensions[".ts"] = (module, filename) => module._compile(compiled(filename), filename);

// ---- V8 code cache --------------------------------------------------------------------------

/**
 * One file per entry point, V8 version and set of flags: [4-byte header length][JSON header]
 * [bytecode...], the header listing [filename, source hash, bytecode hash, offset, length] per module.
 * Anything that doesn't parse, or an entry whose bytecode doesn't hash as listed, is compiled afresh.
 */
function installCodeCache(entry) {
  const name = cacheName(entry);
  // V8 rejects bytecode made under other flags: runs with other flags keep a cache of their own.
  const flags = crypto.createHash("sha1").update(`${process.execArgv.join(" ")}\0${process.env.NODE_OPTIONS ?? ""}`).digest("hex").slice(0, 8);
  const file = path.join(cacheRoot, "code-cache", `${name}.${process.versions.v8}.${process.arch}.${flags}.bin`);
  /** filename -> { hash, dataHash, data } as read; replaced for modules compiled afresh. */
  const entries = new Map();
  try {
    const buf = fs.readFileSync(file);
    const headerLength = buf.readUInt32LE(0);
    const data = buf.subarray(4 + headerLength);
    const header = JSON.parse(buf.toString("utf8", 4, 4 + headerLength));
    for (const [filename, hash, dataHash, offset, length] of header) {
      if (typeof filename !== "string" || !Number.isInteger(offset) || !Number.isInteger(length)) throw new Error("bad entry");
      entries.set(filename, { hash, dataHash, data: data.subarray(offset, offset + length) });
    }
  } catch {
    // no cache yet, or unreadable: everything compiles afresh and the file is written anew
    entries.clear();
  }
  /** Modules compiled without usable bytecode this run: their script, to ask V8 for it at exit. */
  const fresh = new Map();
  let modules = 0;
  let corrupt = 0;
  const dynamicImport = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;

  Module.prototype._compile = function compileWithCache(content, filename) {
    modules++;
    // V8 only compares a source's length with the bytecode's; the hash catches same-length edits.
    const hash = crypto.createHash("sha1").update(content).digest("base64");
    const known = entries.get(filename);
    let cachedData;
    if (known?.hash === hash) {
      // Bytecode is trusted only as written: a flipped or missing byte means compiling afresh.
      if (crypto.createHash("sha1").update(known.data).digest("base64") === known.dataHash) cachedData = known.data;
      else corrupt++;
    }
    // The same wrapper Node puts around a CommonJS module; a shebang line is a comment to it.
    const source = Module.wrap(content.startsWith("#!") ? `//${content}` : content);
    const script = new vm.Script(source, { filename, cachedData, importModuleDynamically: dynamicImport });
    if (cachedData === undefined || script.cachedDataRejected) fresh.set(filename, { hash, script });
    const wrapper = script.runInThisContext({ displayErrors: true });
    const mod = this;
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return wrapper.call(mod.exports, mod.exports, require, mod, filename, path.dirname(filename));
  };

  process.once("exit", () => {
    if (debug) {
      process.stderr.write(
        `run-ts: code cache: ${modules} modules, ${fresh.size} compiled afresh (${corrupt} corrupt): ${[...fresh.keys()].map(shown).join(" ")}\n`,
      );
    }
    if (fresh.size === 0) return;
    try {
      // Bytecode asked for after the run includes the functions that ran, not only the top level.
      for (const [filename, { hash, script }] of fresh) {
        const data = script.createCachedData();
        entries.set(filename, { hash, dataHash: crypto.createHash("sha1").update(data).digest("base64"), data });
      }
      const header = [];
      const parts = [];
      let offset = 0;
      for (const [filename, { hash, dataHash, data }] of entries) {
        header.push([filename, hash, dataHash, offset, data.length]);
        parts.push(data);
        offset += data.length;
      }
      const headerBytes = Buffer.from(JSON.stringify(header));
      const length = Buffer.alloc(4);
      length.writeUInt32LE(headerBytes.length);
      writeAtomically(file, Buffer.concat([length, headerBytes, ...parts]));
    } catch {
      // A cache that can't be written only costs the next run time.
    }
  });
}

/** The entry's path from the project root as a file name: each entry point has caches of its own. */
function cacheName(entry) {
  return path.relative(root, entry).replace(/[^A-Za-z0-9.-]+/g, "_");
}

// ---- running the entry ----------------------------------------------------------------------

const [entry, ...args] = process.argv.slice(2);
if (!entry || !entry.endsWith(".ts")) {
  process.stderr.write("usage: node scripts/run-ts.js <entry.ts> [args...]\n");
  process.exit(2);
}
// The entry runs as the main module (its `require.main === module` holds), with its own arguments.
const main = path.resolve(entry);
if (sourceMaps) process.setSourceMapsEnabled(true);
if (caches) installCodeCache(main);
if (debug) {
  process.once("exit", () => process.stderr.write(`run-ts: ts-cache: ${transpiled} transpiled (${rejected} stale or corrupt entries)\n`));
}
process.argv = [process.argv[0], main, ...args];
Module.runMain(main);
