/**
 * The fast synth path: scripts/run-ts.js transpiles only what changed, and nothing imports a whole
 * provider binding (a provider's index re-exports every resource, so importing it would load them
 * all, whatever stacks the app has).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const CACHE = path.join(ROOT, "dist", "ts-cache");

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : e.name.endsWith(".ts") ? [full] : [];
  });
}

test("no source imports a provider's index: only the resource files in use are loaded", () => {
  const offenders: string[] = [];
  for (const file of [path.join(ROOT, "main.ts"), ...sources(path.join(ROOT, "src")), ...sources(path.join(ROOT, "bench"))]) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/from\s+"([^"]+)"/g)) {
      const spec = m[1];
      if (/\.gen\/providers\/[^/]+(\/index)?$/.test(spec) || /^@cdktf\/provider-[a-z0-9-]+$/.test(spec)) {
        offenders.push(`${path.relative(ROOT, file)}: ${spec}`);
      }
    }
  }
  expect(offenders).toEqual([]);
});

test("after an edit, only the edited file is transpiled again; a touch alone transpiles nothing", () => {
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1" };
  const run = () => spawnSync(process.execPath, ["scripts/run-ts.js", "main.ts"], { cwd: ROOT, env, encoding: "utf8" });
  expect(run().status).toBe(0);
  const cached = (rel: string) => path.join(CACHE, rel.replace(/\.ts$/, ".js"));
  const watched = ["src/app.ts", "src/validation/index.ts", "src/systems/mesh/mesh-stack.ts", ".gen/providers/linode/instance/index.ts"];
  const mtimes = () => Object.fromEntries(watched.map((f) => [f, fs.statSync(cached(f)).mtimeMs]));
  const before = mtimes();
  const app = path.join(ROOT, "src/app.ts");
  const original = fs.readFileSync(app, "utf8");
  // Keyed by content: a new mtime with the same text is no reason to transpile.
  const later = new Date(Date.now() + 1000);
  fs.utimesSync(app, later, later);
  expect(run().status).toBe(0);
  expect(mtimes()).toEqual(before);
  try {
    fs.writeFileSync(app, `${original}// fast-synth edit\n`);
    expect(run().status).toBe(0);
  } finally {
    fs.writeFileSync(app, original);
  }
  const after = mtimes();
  expect(after["src/app.ts"]).toBeGreaterThan(before["src/app.ts"]);
  for (const f of watched.slice(1)) expect(after[f]).toBe(before[f]);
  // The cached text names the source it was made from (a SHA-256 with the transpiler's) and its own hash.
  expect(fs.readFileSync(cached("src/app.ts"), "utf8").split("\n")[0]).toMatch(/^\/\/ ts-cache [A-Za-z0-9_-]{43} [A-Za-z0-9_-]{43}$/);
});
