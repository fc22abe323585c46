/**
 * Terraform and OpenTofu side by side: wall time of init + validate + plan + show -json of every
 * stack of the app against the offline provider server, and the engine's peak RSS (largest step,
 * /usr/bin/time -v), median of N runs (default 3). Runs interleave engine and stack so load on the
 * machine hits both alike. Engines missing here are named and left out.
 *
 *   node scripts/run-ts.js bench/plan-engines.ts [--runs 3] [--stack mesh ...]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { availableEngines, ENGINES, locateEngine, PlanEngine } from "../src/harness/engine";
import { OfflineSession, runTerraform } from "../src/harness/runner";
import { stackConfigPath, stackDataFixtures, synthesizeStacks } from "../src/harness/stacks";
import { median } from "./stats";

const TIME_BIN = "/usr/bin/time";

interface Sample {
  ms: number;
  peakKb: number;
}

async function planOnce(engine: PlanEngine, configPath: string, workDir: string): Promise<Sample & { version: string }> {
  const session = await OfflineSession.open({ configPath, workDir, engine: engine.name, dataSources: stackDataFixtures(configPath).fixtures });
  try {
    const steps = [
      ["init", "-input=false", "-no-color"],
      ["validate", "-no-color"],
      ["plan", "-input=false", "-no-color", "-out=tfplan", ...session.prepared.varArgs],
      ["show", "-json", "tfplan"],
    ];
    let ms = 0;
    let peakKb = 0;
    let version = "?";
    for (const args of steps) {
      const t0 = process.hrtime.bigint();
      const r = await runTerraform(["-v", engine.path, ...args], { cwd: session.workDir, env: session.env, terraform: TIME_BIN });
      ms += Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.code !== 0) throw new Error(`${engine.name} ${args[0]} failed: ${r.stderr.slice(-500)}`);
      peakKb = Math.max(peakKb, Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? 0));
      if (args[0] === "show") version = (JSON.parse(r.stdout) as { terraform_version?: string }).terraform_version ?? "?";
    }
    return { ms, peakKb, version };
  } finally {
    await session.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runs = Number(args[args.indexOf("--runs") + 1] ?? 3) || 3;
  if (!fs.existsSync(TIME_BIN)) throw new Error(`${TIME_BIN} is needed for peak RSS`);
  const engines = availableEngines();
  for (const n of ENGINES) {
    const e = locateEngine(n);
    if ("missing" in e) console.error(`left out: ${e.missing}`);
  }
  if (!engines.length) throw new Error("no plan engine here");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-engines-"));
  try {
    const all = synthesizeStacks(path.join(tmp, "out"));
    const picked = args.flatMap((a, i) => (args[i - 1] === "--stack" ? [a] : []));
    const stacks = picked.length ? picked : all;
    const samples = new Map<string, Sample[]>();
    const versions = new Map<string, string>();
    for (let i = 0; i < runs; i++) {
      for (const stack of stacks) {
        for (const engine of i % 2 ? [...engines].reverse() : engines) {
          const s = await planOnce(engine, stackConfigPath(path.join(tmp, "out"), stack), path.join(tmp, `${engine.name}-${stack}-${i}`));
          versions.set(engine.name, s.version);
          const key = `${stack}\t${engine.name}`;
          samples.set(key, [...(samples.get(key) ?? []), s]);
        }
      }
    }
    const mib = (kb: number) => (kb / 1024).toFixed(0);
    const head = engines.map((e) => `${e.label} ${versions.get(e.name)}`);
    console.log(`Offline plan (init + validate + plan + show -json) per stack; median of ${runs} runs; ${os.cpus().length} CPUs; load ${os.loadavg()[0].toFixed(1)} at the end\n`);
    console.log(`| stack | ${head.map((h) => `${h} wall (ms)`).join(" | ")} | ${head.map((h) => `${h} peak RSS (MiB)`).join(" | ")} |${engines.length === 2 ? " tofu / terraform wall |" : ""}`);
    console.log(`|---|${engines.map(() => "---:").join("|")}|${engines.map(() => "---:").join("|")}|${engines.length === 2 ? "---:|" : ""}`);
    for (const stack of stacks) {
      const per = engines.map((e) => samples.get(`${stack}\t${e.name}`)!);
      const wall = per.map((s) => median(s.map((x) => x.ms)));
      const rss = per.map((s) => median(s.map((x) => x.peakKb)));
      const ratio = engines.length === 2 ? ` ${(wall[1] / wall[0]).toFixed(2)} |` : "";
      console.log(`| ${stack} | ${wall.map((w) => w.toFixed(0)).join(" | ")} | ${rss.map(mib).join(" | ")} |${ratio}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
