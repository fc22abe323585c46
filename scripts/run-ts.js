#!/usr/bin/env node
/**
 * Runs a TypeScript entry point fast. This is the main job's path (`npm run synth`, and cdktf.json's
 * "app", so `npx cdktf synth` too) and the other npm scripts'.
 *
 *   node scripts/run-ts.js <entry.ts> [args...]
 *
 * Each .ts file is transpiled on its own by esbuild (types stripped, no type check: that is
 * `npm run typecheck`'s job, and CI runs it) when it is first required, and the JavaScript is kept
 * in dist/ts-cache/ keyed by the source's size and modification time. After an edit only the edited
 * file is transpiled again, and esbuild is not even started when nothing changed. Only the files
 * the entry requires are read: imports name a binding's resource file (never a provider's index,
 * which re-exports every resource), so only the bindings in use are loaded.
 *
 * SYNTH_SOURCE_MAPS=1 gives TypeScript line numbers in the stack of an unexpected error (off by
 * default: it costs time on every run; validation errors print one line and no stack anyway).
 */
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");

const root = path.resolve(__dirname, "..");
const cacheDir = path.join(root, "dist", "ts-cache");
const sourceMaps = process.env.SYNTH_SOURCE_MAPS === "1";

let esbuild;
function transpile(source, filename) {
  esbuild ??= require("esbuild");
  return esbuild.transformSync(source, {
    loader: "ts",
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcefile: filename,
    sourcemap: sourceMaps ? "inline" : false,
  }).code;
}

function compiled(filename) {
  const stat = fs.statSync(filename);
  // The key says which source the cached text was made from; anything else means transpile again.
  const key = `// ts-cache ${stat.size} ${stat.mtimeMs}\n`;
  if (sourceMaps) return transpile(fs.readFileSync(filename, "utf8"), filename);
  const rel = path.relative(root, filename);
  const cached = path.join(cacheDir, rel.startsWith("..") ? path.join("_outside", filename) : rel).replace(/\.ts$/, ".js");
  try {
    const text = fs.readFileSync(cached, "utf8");
    if (text.startsWith(key)) return text;
  } catch {
    // not cached yet
  }
  const code = key + transpile(fs.readFileSync(filename, "utf8"), filename);
  // Written under a private name, then renamed: parallel runs never read a half-written file.
  fs.mkdirSync(path.dirname(cached), { recursive: true });
  const tmp = `${cached}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, cached);
  return code;
}

Module._extensions[".ts"] = (module, filename) => module._compile(compiled(filename), filename);

const [entry, ...args] = process.argv.slice(2);
if (!entry || !entry.endsWith(".ts")) {
  process.stderr.write("usage: node scripts/run-ts.js <entry.ts> [args...]\n");
  process.exit(2);
}
if (sourceMaps) process.setSourceMapsEnabled(true);
// The entry runs as the main module (its `require.main === module` holds), with its own arguments.
const main = path.resolve(entry);
process.argv = [process.argv[0], main, ...args];
Module.runMain(main);
