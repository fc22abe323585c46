#!/usr/bin/env node
/**
 * Runs a TypeScript entry point fast. This is the main job's path (`npm run synth`, and cdktf.json's
 * "app", so `npx cdktf synth` too) and the other npm scripts'.
 *
 *   node scripts/run-ts.js <entry.ts> [args...]
 *
 * No type check here: that is `npm run typecheck`'s job, and CI runs it. Three caches, all under
 * dist/ (RUN_TS_CACHE_DIR moves them), all safe to delete:
 * - Transpiled JavaScript (ts-cache/). Each .ts file is transpiled on its own by swc, in process,
 *   when it is first required, and kept keyed by the source's size and modification time. After an
 *   edit only the edited file is transpiled again; swc is not even loaded when nothing changed.
 * - V8 code cache (code-cache/). Compiling JavaScript is much of what loading a module costs, so
 *   every module the entry loads is compiled with the bytecode V8 made for it last time. Each entry
 *   is checked against a hash of the module's source (V8 only checks its length); V8 itself
 *   rejects bytecode from another V8 or other flags. A module whose source changed is compiled
 *   afresh and its bytecode written back at exit.
 * - Dependency bundle (deps/). Node resolves, stats and reads every file of a package it loads
 *   (cdktf alone is hundreds); the packages the app requires are served from one file instead.
 *   See installDepsBundle.
 *
 * Only the files the entry requires are read: imports name a binding's resource file (never a
 * provider's index, which re-exports every resource), so only the bindings in use are loaded.
 *
 * SYNTH_DEBUG=1 is for an unexpected error: TypeScript line numbers in its stack (source maps),
 * neither code cache nor bundle, and cdktf's token creation stacks kept (src/terraform/token-stacks.ts).
 * Validation errors print one line and no stack either way. RUN_TS_CACHES=0 turns only the code
 * cache and the dependency bundle off; RUN_TS_DEBUG=1 has them say what they did, at exit.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const Module = require("module");
const vm = require("vm");
const { spawnSync } = require("child_process");

const root = path.resolve(__dirname, "..");
const cacheRoot = path.resolve(process.env.RUN_TS_CACHE_DIR || path.join(root, "dist"));
const sourceMaps = process.env.SYNTH_DEBUG === "1";
/** RUN_TS_DEBUG=1: each cache says what it did, on stderr at exit. */
const debug = process.env.RUN_TS_DEBUG === "1";
const shown = (file) => path.relative(root, file);

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

function compiled(filename) {
  if (sourceMaps) return transpile(fs.readFileSync(filename, "utf8"), filename);
  const stat = fs.statSync(filename);
  // The key says which source the cached text was made from; anything else means transpile again.
  const key = `// ts-cache ${stat.size} ${stat.mtimeMs}\n`;
  const rel = path.relative(root, filename);
  const cached = path.join(tsCacheDir, rel.startsWith("..") ? path.join("_outside", filename) : rel).replace(/\.ts$/, ".js");
  try {
    const text = fs.readFileSync(cached, "utf8");
    if (text.startsWith(key)) return text;
  } catch {
    // not cached yet
  }
  const code = key + transpile(fs.readFileSync(filename, "utf8"), filename);
  writeAtomically(cached, code);
  return code;
}

Module._extensions[".ts"] = (module, filename) => module._compile(compiled(filename), filename);

// ---- V8 code cache --------------------------------------------------------------------------

/**
 * One file per entry point, V8 version and set of flags: [4-byte header length][JSON header]
 * [bytecode...], the header listing [filename, source hash, offset, length] per module.
 */
function installCodeCache(entry) {
  const name = cacheName(entry);
  // V8 rejects bytecode made under other flags: runs with other flags keep a cache of their own.
  const flags = crypto.createHash("sha1").update(`${process.execArgv.join(" ")}\0${process.env.NODE_OPTIONS ?? ""}`).digest("hex").slice(0, 8);
  const file = path.join(cacheRoot, "code-cache", `${name}.${process.versions.v8}.${process.arch}.${flags}.bin`);
  /** filename -> { hash, data } as read; replaced for modules compiled afresh. */
  const entries = new Map();
  try {
    const buf = fs.readFileSync(file);
    const headerLength = buf.readUInt32LE(0);
    const data = buf.subarray(4 + headerLength);
    for (const [filename, hash, offset, length] of JSON.parse(buf.toString("utf8", 4, 4 + headerLength))) {
      entries.set(filename, { hash, data: data.subarray(offset, offset + length) });
    }
  } catch {
    // no cache yet, or unreadable: everything compiles afresh and the file is written anew
  }
  /** Modules compiled without usable bytecode this run: their script, to ask V8 for it at exit. */
  const fresh = new Map();
  let compiled = 0;
  const dynamicImport = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;

  Module.prototype._compile = function compileWithCache(content, filename) {
    // V8 only compares a source's length with the bytecode's; the hash catches same-length edits.
    compiled++;
    const hash = crypto.createHash("sha1").update(content).digest("base64");
    const known = entries.get(filename);
    const cachedData = known?.hash === hash ? known.data : undefined;
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
    if (debug) process.stderr.write(`run-ts: code cache: ${compiled} modules, ${fresh.size} compiled afresh: ${[...fresh.keys()].map(shown).join(" ")}\n`);
    if (fresh.size === 0) return;
    try {
      // Bytecode asked for after the run includes the functions that ran, not only the top level.
      for (const [filename, { hash, script }] of fresh) entries.set(filename, { hash, data: script.createCachedData() });
      const header = [];
      const parts = [];
      let offset = 0;
      for (const [filename, { hash, data }] of entries) {
        header.push([filename, hash, offset, data.length]);
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

// ---- dependency bundle ----------------------------------------------------------------------

/**
 * Serves the packages the app requires (cdktf, constructs, the prebuilt providers...) from one
 * bundle per entry point, dist/deps/<entry>.js, made by scripts/bundle-deps.js. Which packages
 * go in is learnt from the app: a package a .ts file asks for that isn't in the bundle is loaded
 * from node_modules as usual and added when the run ends, as is everything when the installed
 * packages change (node_modules/.package-lock.json, which npm rewrites on every install).
 * A request is only served from the bundle when Node would resolve it to the very file that was
 * bundled, whoever asks: a package loaded from node_modules gets the bundle's cdktf, not a second one.
 */
function installDepsBundle(entry) {
  const name = cacheName(entry);
  const bundleFile = path.join(cacheRoot, "deps", `${name}.js`);
  const manifestFile = path.join(cacheRoot, "deps", `${name}.json`);
  let installed;
  try {
    const stat = fs.statSync(path.join(root, "node_modules", ".package-lock.json"));
    installed = `${stat.size} ${stat.mtimeMs}`;
  } catch {
    return; // not installed by npm: nothing to key a bundle on
  }
  /** specifier -> the file Node resolves it to, for what the bundle holds. */
  let bundled = {};
  /** What failed to bundle with these packages installed: not tried again until they change. */
  let failed = [];
  try {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
    if (manifest.installed === installed) {
      if (fs.existsSync(bundleFile)) bundled = manifest.specifiers;
      failed = manifest.failed ?? [];
    }
  } catch {
    // no bundle yet
  }
  /** Packages the app asked for that the bundle lacks: specifier -> resolved file. */
  const wanted = new Map();
  const served = new Set();
  let bundle;
  const load = Module._load;
  Module._load = function loadFromBundle(request, parent, isMain) {
    const fromApp = parent?.filename?.endsWith(".ts") === true;
    if (!isMain && (fromApp || Object.hasOwn(bundled, request)) && isPackage(request)) {
      let resolved;
      try {
        resolved = Module._resolveFilename(request, parent, false);
      } catch {
        return load.apply(this, arguments); // Node's own error
      }
      if (bundled[request] === resolved) {
        bundle ??= load(bundleFile, null, false);
        // A bundle another run has just replaced may lack it: then it loads as usual.
        if (typeof bundle[request] === "function") {
          served.add(request);
          return bundle[request]();
        }
      }
      // Only installed packages: the app's own files must stay editable, and addons can't be bundled.
      const installedPackage = resolved.includes(`${path.sep}node_modules${path.sep}`) && !resolved.endsWith(".node");
      if (fromApp && installedPackage && !failed.includes(request)) wanted.set(request, resolved);
    }
    return load.apply(this, arguments);
  };
  process.once("exit", () => {
    if (debug) process.stderr.write(`run-ts: bundle served ${[...served].sort().join(" ") || "nothing"}; to add: ${[...wanted.keys()].sort().join(" ") || "nothing"}\n`);
    try {
      if (wanted.size > 0) rebuild();
    } catch (err) {
      // A bundle that can't be made only costs the next run time; the run's own result stands.
      process.stderr.write(`run-ts: dependency bundle not updated: ${err.message}\n`);
    }
  });
  function rebuild() {
    const specifiers = { ...bundled, ...Object.fromEntries(wanted) };
    const r = spawnSync(process.execPath, [path.join(__dirname, "bundle-deps.js"), bundleFile, JSON.stringify(specifiers)], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
    });
    if (r.status === 0) {
      // Packages that don't load from a bundle keep loading from node_modules, not tried again
      // until the installed packages change.
      const left = JSON.parse(r.stdout);
      for (const s of left) delete specifiers[s];
      writeAtomically(manifestFile, `${JSON.stringify({ installed, specifiers, failed: [...failed, ...left] }, null, 1)}\n`);
    } else {
      // It only costs speed. Said once: not tried again until the installed packages change.
      const why = (r.stderr || r.error?.message || "").trim();
      process.stderr.write(`run-ts: could not bundle ${[...wanted.keys()].join(", ")} (${why}); they load from node_modules\n`);
      writeAtomically(manifestFile, `${JSON.stringify({ installed, specifiers: bundled, failed: [...failed, ...wanted.keys()] }, null, 1)}\n`);
    }
  }
}

/** The entry's path from the project root as a file name: each entry point has caches of its own. */
function cacheName(entry) {
  return path.relative(root, entry).replace(/[^A-Za-z0-9.-]+/g, "_");
}

/** A package name, possibly with a path inside it: not relative, not absolute, not Node's own. */
function isPackage(request) {
  return !request.startsWith(".") && !path.isAbsolute(request) && !Module.isBuiltin(request);
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
else if (process.env.RUN_TS_CACHES !== "0") {
  installCodeCache(main);
  installDepsBundle(main);
}
process.argv = [process.argv[0], main, ...args];
Module.runMain(main);
