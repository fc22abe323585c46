/**
 * The core switch (README, "Two cores"):
 *
 *   npm run core                      which core is installed
 *   npm run core -- use cdktn         install CDK Terrain under the name cdktf (npm alias)
 *   npm run core -- use cdktf         back to the default: `npm ci` from the unchanged lock file
 *   npm run core -- compare <a> <b>   compare two cdktf.out folders, ignoring only the core's version
 *
 * `use cdktn` runs `npm install --no-save`, so package.json and package-lock.json stay as they
 * are and `npm ci` always installs the default. It needs `--legacy-peer-deps`: the prebuilt
 * providers declare a peer dependency on cdktf ^0.21.0, which the alias (version 0.24.0) does not
 * satisfy, although they run on it unchanged (the synthesized JSON is compared in CI).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { compareSynthDirs } from "./compare-synth";
import { CORE_IMPORT, CORES, CoreName } from "./core";

const ROOT = path.resolve(__dirname, "..", "..");

function installed(): string {
  // Read afresh from disk: an install in this process would leave require's cache stale.
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", CORE_IMPORT, "package.json"), "utf8"));
  return `${pkg.name} ${pkg.version}`;
}

function npm(args: string[]): void {
  process.stderr.write(`core: npm ${args.join(" ")}\n`);
  const r = spawnSync("npm", args, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) {
    process.stderr.write(`error: npm ${args[0]} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

function main(argv: string[]): void {
  const [command = "which", ...rest] = argv;
  if (command === "which") {
    process.stdout.write(`${installed()}\n`);
  } else if (command === "use") {
    const name = rest[0] as CoreName;
    if (!(name in CORES)) {
      process.stderr.write(`error: core: "${rest[0] ?? ""}" is not one of ${Object.keys(CORES).map((c) => `"${c}"`).join(", ")}\n`);
      process.exit(2);
    }
    if (name === "cdktf") {
      npm(["ci", "--no-audit", "--no-fund"]);
    } else {
      const p = CORES[name].packages;
      npm(["install", "--no-save", "--no-audit", "--no-fund", "--prefer-offline", "--legacy-peer-deps", p.cdktf, p.constructs, p.cli]);
    }
    process.stdout.write(`core: ${installed()} (${CORES[name].title}) is installed as "${CORE_IMPORT}"\n`);
  } else if (command === "compare" && rest.length === 2) {
    const [a, b] = rest;
    const r = compareSynthDirs(a, b);
    process.stdout.write(
      `compared ${r.stacks.length} stacks (${r.stacks.join(", ")}); core versions ignored: ${r.versions.a.join(",")} vs ${r.versions.b.join(",")}\n` +
        (r.formattingOnly.length > 0 ? `not byte-identical, equal when parsed (version aside): ${r.formattingOnly.join(", ")}\n` : ""),
    );
    if (r.stacks.length === 0) {
      process.stderr.write(`error: no stacks/<stack>/cdk.tf.json in ${a}\n`);
      process.exit(1);
    }
    if (r.differences.length > 0) {
      process.stderr.write(`error: ${r.differences.length} differences:\n${r.differences.map((d) => `  ${d}\n`).join("")}`);
      process.exit(1);
    }
    process.stdout.write("no other difference\n");
  } else {
    process.stderr.write("usage: npm run core -- [which | use <cdktf|cdktn> | compare <dirA> <dirB>]\n");
    process.exit(2);
  }
}

main(process.argv.slice(2));
