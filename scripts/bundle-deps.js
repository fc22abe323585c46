#!/usr/bin/env node
/**
 * Bundles the packages an entry point requires into one CommonJS file, for scripts/run-ts.js.
 *
 *   node scripts/bundle-deps.js <out.js> '{"<specifier>": "<the file it resolves to>", ...}'
 *
 * The bundle exports one function per specifier (`require("cdktf")` becomes `bundle["cdktf"]()`),
 * made from the very file the app's require resolved to, so a package is only evaluated when the
 * app asks for it. Loading a package through Node resolves,
 * stats and reads each of its files (cdktf alone is hundreds): most of what loading it costs.
 *
 * Every bundled file keeps its own `__filename` and `__dirname`, so a package that reads files next
 * to itself or runs itself as a script (cdktf archives assets that way) behaves as installed.
 * Native addons stay outside (esbuild can't bundle them). A package is left out when it doesn't
 * load from the bundle: the bundle is loaded here, each specifier asked for, and those that throw
 * (a UMD module hands `require` to a factory, which esbuild can't follow) are bundled without.
 * Run by scripts/run-ts.js, in a process of its own, when the installed packages or the packages
 * the app requires change. Prints the specifiers left out as a JSON array; exit 1 if it failed.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const esbuild = require("esbuild");

const [out, json] = process.argv.slice(2);
const files = json ? JSON.parse(json) : {};
const requested = Object.keys(files).sort();
if (!out || requested.length === 0) {
  process.stderr.write(`usage: node scripts/bundle-deps.js <out.js> '{"<specifier>": "<file>", ...}'\n`);
  process.exit(2);
}

const root = path.resolve(__dirname, "..");

/** Gives each bundled module the path it has on disk, where it uses one. */
const ownPaths = {
  name: "own-paths",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
      const source = fs.readFileSync(args.path, "utf8");
      if (!/\b__(dirname|filename)\b/.test(source)) return undefined;
      const prelude = `var __filename = ${JSON.stringify(args.path)}, __dirname = ${JSON.stringify(path.dirname(args.path))};`;
      // On the first line, so the module's own line numbers stay as they are on disk.
      return { contents: `${prelude}${source.startsWith("#!") ? `//${source}` : source}`, loader: "js" };
    });
  },
};

async function bundle(specifiers, file) {
  const entry = specifiers.map((s) => `exports[${JSON.stringify(s)}] = () => require(${JSON.stringify(files[s])});`).join("\n");
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: root, sourcefile: "deps-entry.js", loader: "js" },
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: file,
    write: false,
    external: ["*.node"],
    logLevel: "silent",
    plugins: [ownPaths],
  });
  fs.writeFileSync(file, result.outputFiles[0].contents);
}

/** The specifiers that fail to load from the bundle at `file` (each in a fresh module cache). */
function unloadable(specifiers, file) {
  const bad = [];
  for (const s of specifiers) {
    delete require.cache[file];
    try {
      require(file)[s]();
    } catch {
      bad.push(s);
    }
  }
  return bad;
}

async function main() {
  // Next to the final file, so relative paths resolve from the same place while it is checked.
  const tmp = `${out}.${process.pid}.tmp.js`;
  let specifiers = [...requested];
  const left = [];
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    for (let round = 0; specifiers.length > 0; round++) {
      await bundle(specifiers, tmp);
      const bad = unloadable(specifiers, tmp);
      if (bad.length === 0) break;
      if (round === 2) throw new Error(`still failing after leaving out ${left.join(", ")}: ${bad.join(", ")}`);
      left.push(...bad);
      specifiers = specifiers.filter((s) => !bad.includes(s));
    }
    if (specifiers.length === 0) throw new Error("no package loads from a bundle");
    // Renamed into place: a parallel run never reads a half-written bundle.
    fs.renameSync(tmp, out);
    process.stdout.write(`${JSON.stringify(left)}\n`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bundle-deps: ${err.message.split("\n")[0]}\n`);
  process.exit(1);
});
