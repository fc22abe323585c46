/**
 * Wall time and peak memory of the offline plan of a stack (the article's by default; --stack picks
 * another of the app's): terraform process plus the
 * offline provider server (run as its own process so its memory is measured alone), median of N
 * runs (default 5), printed as a Markdown table.
 *
 *   node scripts/run-ts.js bench/plan-offline.ts [--runs 5] [--stack article] [--config <cdk.tf.json>]
 *
 * Each run: fresh server process and work dir; `terraform init`, `validate`, `plan -out`,
 * `show -json` timed one by one. Terraform's peak RSS comes from /usr/bin/time -v when present
 * (else /proc polling every 5 ms); the server's from VmHWM in /proc/<pid>/status after the run.
 */
import { execFileSync, spawn, ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { findTerraform, offlineEnv } from "../src/harness/runner";
import { appAvailable, stackConfigPath, synthesizeStacks } from "../src/harness/stacks";
import { prepareWorkDir, repoRoot } from "../src/harness/workdir";
import { median } from "./stats";

export interface Measured {
  ms: number;
  maxRssKb: number;
  code: number;
  /** User + system CPU time of the process (GNU time only; 0 without it). */
  cpuMs: number;
}

const TIME_BIN = "/usr/bin/time";

/** Reads VmHWM (peak resident set, kB) of a live process, 0 when unavailable. */
export function vmHwmKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function measure(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Measured> {
  const useTime = fs.existsSync(TIME_BIN);
  const cmd = useTime ? TIME_BIN : bin;
  const argv = useTime ? ["-v", bin, ...args] : args;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let polled = 0;
    const poll = useTime ? undefined : setInterval(() => (polled = Math.max(polled, vmHwmKb(child.pid!))), 5);
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (poll) clearInterval(poll);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const cpu = ["User", "System"].reduce((t, k) => t + Number(new RegExp(`${k} time \\(seconds\\): ([\\d.]+)`).exec(stderr)?.[1] ?? 0), 0);
      resolve({ ms, maxRssKb: m ? Number(m[1]) : polled, code: code ?? 1, cpuMs: cpu * 1000 });
    });
  });
}

/**
 * Transpiles the provider server alone (server.ts, schema.ts and what they import, nothing of the
 * app) to JS inside the repo (so node_modules resolve), with a small `serve.js` entry: a lean server
 * process whose memory is the server's own. (The harness CLI would also load cdktf and the bindings.)
 */
export function buildServer(root: string): string {
  const out = path.join(root, ".plan-work", "bench-build");
  const src = path.join(root, "src", "harness");
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, "utf8");
    const js = ts.transpileModule(text, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true },
    }).outputText;
    const target = path.join(out, path.relative(root, file)).replace(/\.ts$/, ".js");
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, js);
    for (const m of text.matchAll(/from "(\.\.?\/[^"]+)"/g)) visit(path.resolve(path.dirname(file), `${m[1]}.ts`));
  };
  visit(path.join(src, "server.ts"));
  visit(path.join(src, "schema.ts"));
  fs.copyFileSync(path.join(src, "tfplugin6.proto"), path.join(out, "src", "harness", "tfplugin6.proto"));
  const entry = path.join(out, "serve.js");
  fs.writeFileSync(
    entry,
    [
      '"use strict";',
      'const { startOfflineServer } = require("./src/harness/server");',
      'const { loadRecordedProviders } = require("./src/harness/schema");',
      "(async () => {",
      "  const server = await startOfflineServer({ providers: loadRecordedProviders({ dir: process.argv[2] }) });",
      "  console.log(`TF_REATTACH_PROVIDERS='${server.reattachJson}'`);",
      '  await new Promise((resolve) => { process.once("SIGINT", resolve); process.once("SIGTERM", resolve); });',
      "  await server.close();",
      "})();",
      "",
    ].join("\n"),
  );
  return entry;
}

export function startServer(entry: string, schemaDir: string): Promise<{ child: ChildProcess; reattach: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, schemaDir], { stdio: ["ignore", "pipe", "inherit"] });
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /^TF_REATTACH_PROVIDERS='(.*)'$/m.exec(buf);
      if (m) resolve({ child, reattach: m[1] });
    });
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`server exited early (${code})`)));
  });
}

export function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runs = Number(args[args.indexOf("--runs") + 1] ?? 5) || 5;
  const stack = args.includes("--stack") ? args[args.indexOf("--stack") + 1] : "article";
  const root = repoRoot(path.join(__dirname, "..", "src", "harness"));
  const terraform = findTerraform();
  if (!terraform) {
    console.error("terraform is not on PATH; nothing to measure");
    process.exit(2);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-plan-"));
  let configPath: string;
  let configNote: string;
  const ci = args.indexOf("--config");
  if (ci >= 0) {
    configPath = path.resolve(args[ci + 1]);
    configNote = "given config";
  } else if (appAvailable(root)) {
    const names = synthesizeStacks(path.join(tmp, "out"));
    if (!names.includes(stack)) throw new Error(`no stack "${stack}" in the app (${names.join(", ")})`);
    configPath = stackConfigPath(path.join(tmp, "out"), stack);
    configNote = `${stack} stack synthesized by src/app.ts`;
  } else {
    configPath = path.join(root, "__tests__", "fixtures", "harness", "stacks", "article", "cdk.tf.json");
    configNote = "fixture article config (src/app.ts missing)";
  }
  const schemaDir = path.join(root, "schemas");
  const serverJs = buildServer(root);

  const steps = ["init", "validate", "plan", "show"] as const;
  const wall: Record<string, number[]> = Object.fromEntries([...steps, "total"].map((s) => [s, []]));
  const rss: Record<string, number[]> = Object.fromEntries(steps.map((s) => [s, []]));
  const serverHwm: number[] = [];
  const combined: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const workDir = path.join(tmp, `run-${i}`);
      const prepared = prepareWorkDir({ configPath, workDir });
      const { child, reattach } = await startServer(serverJs, schemaDir);
      try {
        const env = offlineEnv(workDir, reattach);
        const argv: Record<(typeof steps)[number], string[]> = {
          init: ["init", "-input=false", "-no-color"],
          validate: ["validate", "-no-color"],
          plan: ["plan", "-input=false", "-no-color", "-out=tfplan", ...prepared.varArgs],
          show: ["show", "-json", "tfplan"],
        };
        let total = 0;
        let peakTf = 0;
        for (const s of steps) {
          const m = await measure(terraform, argv[s], workDir, env);
          if (m.code !== 0) throw new Error(`terraform ${s} failed in run ${i}`);
          wall[s].push(m.ms);
          rss[s].push(m.maxRssKb);
          total += m.ms;
          peakTf = Math.max(peakTf, m.maxRssKb);
        }
        wall.total.push(total);
        const hwm = vmHwmKb(child.pid!);
        serverHwm.push(hwm);
        combined.push(peakTf + hwm);
      } finally {
        await stopServer(child);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  // Version only; the user's CLI config is left out so terraform prints no warning about it.
  const versionJson = execFileSync(terraform, ["version", "-json"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CHECKPOINT_DISABLE: "1" },
    stdio: ["ignore", "pipe", "ignore"],
  }).toString();
  const version = (JSON.parse(versionJson) as { terraform_version: string }).terraform_version;
  const mib = (kb: number) => (kb / 1024).toFixed(1);
  const lines = [
    `Offline plan benchmark: ${configNote}; ${runs} runs; ${os.cpus().length} CPUs; terraform ${version}; memory via ${fs.existsSync(TIME_BIN) ? "/usr/bin/time -v" : "/proc polling"}`,
    "",
    "| step | wall median (ms) | wall min–max (ms) | terraform peak RSS median (MiB) |",
    "|---|---:|---:|---:|",
  ];
  for (const s of steps) {
    lines.push(
      `| terraform ${s} | ${median(wall[s]).toFixed(0)} | ${Math.min(...wall[s]).toFixed(0)}–${Math.max(...wall[s]).toFixed(0)} | ${mib(median(rss[s]))} |`,
    );
  }
  lines.push(`| all four | ${median(wall.total).toFixed(0)} | ${Math.min(...wall.total).toFixed(0)}–${Math.max(...wall.total).toFixed(0)} | |`);
  lines.push("");
  lines.push("| process | peak RSS median (MiB) |", "|---|---:|");
  lines.push(`| offline provider server (node, all providers) | ${mib(median(serverHwm))} |`);
  lines.push(`| terraform (largest step) + server | ${mib(median(combined))} |`);
  console.log(lines.join("\n"));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
