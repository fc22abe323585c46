/**
 * Offline plan tooling. Run with `npx ts-node --transpile-only src/harness/cli.ts <command> ...`.
 *
 *   plan <stack>      synthesize, init, validate, plan → .plan-work/<stack>/plan.json + plan.md
 *   apply <stack>     offline apply (state in .plan-work/<stack>/terraform.tfstate), then plan again
 *   validate <stack>  synthesize, init, validate
 *   churn <stack> --remove <region>   apply, drop one region, plan; prints the counts
 *   serve             start the provider server alone and print TF_REATTACH_PROVIDERS
 *
 * Options: --config <cdk.tf.json> (skip synthesis), --no-synth (reuse cdktf.out), --outdir <dir>
 * (synthesis output, default cdktf.out), --schemas <dir> (default schemas), --work-dir <dir>
 * (default .plan-work/<stack>), --var name=value (value parsed as JSON when it parses), --reset
 * (delete the work dir's state first), --socket-dir <dir> (serve only).
 */
import * as fs from "fs";
import * as path from "path";
import { measureChurn, renderChurnMarkdown } from "./churn";
import { findTerraform, OfflineSession } from "./runner";
import { loadRecordedProviders } from "./schema";
import { startOfflineServer } from "./server";
import { stackConfigPath, stackDataFixtures, synthesizeStacks } from "./stacks";
import { countPlan } from "./summary";
import { repoRoot, WORK_STATE } from "./workdir";

export interface CliOptions {
  command: string;
  stack?: string;
  config?: string;
  synth: boolean;
  outdir: string;
  schemas: string;
  workDir?: string;
  vars: Record<string, unknown>;
  remove?: string;
  reset: boolean;
  /** Leave out terraform's own plan output (the summary lines stay). */
  quiet: boolean;
  socketDir?: string;
}

const USAGE = "usage: cli.ts <plan|apply|validate|churn|serve> [stack] [--config f] [--no-synth] [--outdir d] [--schemas d] [--work-dir d] [--var k=v] [--remove region] [--reset] [--quiet]";

/** Parses argv (without node and script); throws with the usage line on bad input. */
export function parseArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = { command: "", synth: true, outdir: "cdktf.out", schemas: "schemas", vars: {}, reset: false, quiet: false };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    switch (a) {
      case "--config":
        opts.config = value();
        break;
      case "--no-synth":
        opts.synth = false;
        break;
      case "--quiet":
        opts.quiet = true;
        break;
      case "--outdir":
        opts.outdir = value();
        break;
      case "--schemas":
        opts.schemas = value();
        break;
      case "--work-dir":
        opts.workDir = value();
        break;
      case "--remove":
        opts.remove = value();
        break;
      case "--reset":
        opts.reset = true;
        break;
      case "--socket-dir":
        opts.socketDir = value();
        break;
      case "--var": {
        const kv = value();
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new Error(`--var expects name=value, got ${kv}`);
        const raw = kv.slice(eq + 1);
        let parsed: unknown = raw;
        try {
          parsed = JSON.parse(raw);
        } catch {
          // plain string
        }
        opts.vars[kv.slice(0, eq)] = parsed;
        break;
      }
      default:
        if (a.startsWith("--")) throw new Error(`unknown option ${a}\n${USAGE}`);
        positional.push(a);
    }
  }
  opts.command = positional[0] ?? "";
  opts.stack = positional[1];
  if (!["plan", "apply", "validate", "churn", "serve"].includes(opts.command)) throw new Error(USAGE);
  if (opts.command !== "serve" && !opts.stack) throw new Error(`${opts.command} needs a stack name\n${USAGE}`);
  if (opts.stack && !/^[A-Za-z0-9_-]+$/.test(opts.stack)) throw new Error(`stack must match [A-Za-z0-9_-]+, got ${opts.stack}`);
  if (opts.command === "churn" && !opts.remove) throw new Error(`churn needs --remove <region>\n${USAGE}`);
  return opts;
}

function rel(root: string, p: string): string {
  const r = path.relative(root, p);
  return r.startsWith("..") ? p : r || ".";
}

/** Resolves the stack's synthesized config, synthesizing the app first unless told not to. */
function configFor(root: string, opts: CliOptions): string {
  if (opts.config) return path.resolve(root, opts.config);
  const outdir = path.resolve(root, opts.outdir);
  if (opts.synth) {
    const names = synthesizeStacks(outdir);
    if (!names.includes(opts.stack!)) throw new Error(`unknown stack ${opts.stack}; the app defines ${names.join(", ")}`);
  }
  return stackConfigPath(outdir, opts.stack!);
}

function printDiagnostics(diags: { severity: string; summary: string; detail?: string }[]): void {
  for (const d of diags) console.error(`${d.severity}: ${d.summary}${d.detail ? ` — ${d.detail}` : ""}`);
}

export async function main(argv: readonly string[]): Promise<number> {
  const opts = parseArgs(argv);
  const root = repoRoot();
  const schemaDir = path.resolve(root, opts.schemas);

  if (opts.command === "serve") {
    const server = await startOfflineServer({ providers: loadRecordedProviders({ dir: schemaDir }), socketDir: opts.socketDir });
    // One line a shell can eval; the sockets live until this process gets SIGINT/SIGTERM.
    console.log(`TF_REATTACH_PROVIDERS='${server.reattachJson}'`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await server.close();
    return 0;
  }

  if (!findTerraform()) {
    console.error("terraform is not on PATH; install Terraform 1.11 to run offline plans");
    return 2;
  }
  const configPath = configFor(root, opts);

  if (opts.command === "churn") {
    const report = await measureChurn(opts.stack!, { removeRegion: opts.remove!, configPath, schemaDir });
    process.stdout.write(renderChurnMarkdown([report]));
    const a = report.counts.addresses;
    console.log(`\nreplaced: ${a.replace.join(", ") || "none"}\nupdated: ${a.update.join(", ") || "none"}\ndestroyed: ${a.destroy.join(", ") || "none"}`);
    return 0;
  }

  const workDir = path.resolve(root, opts.workDir ?? path.join(".plan-work", opts.stack!));
  if (opts.reset) {
    for (const f of [WORK_STATE, `${WORK_STATE}.backup`]) fs.rmSync(path.join(workDir, f), { force: true });
  }
  const data = stackDataFixtures(configPath);
  for (const n of data.notes) console.log(`offline: ${n}`);
  const session = await OfflineSession.open({
    configPath,
    workDir,
    schemaDir,
    vars: opts.vars,
    dataSources: data.fixtures,
    // remote-exec must never try to reach the placeholder addresses.
    stripProvisioners: opts.command === "apply",
  });
  try {
    await session.init();
    const v = await session.validate();
    printDiagnostics(v.diagnostics.filter((d) => d.severity === "error"));
    if (!v.valid) {
      console.error(`validate: ${opts.stack} is not valid (${v.errorCount} errors)`);
      return 1;
    }
    console.log(`validate: ${opts.stack} is valid`);
    if (opts.command === "validate") return 0;
    if (opts.command === "apply") {
      await session.apply();
      console.log(`apply: offline state in ${rel(root, path.join(workDir, WORK_STATE))}`);
    }
    const p = await session.plan({ title: opts.command === "apply" ? `Offline plan after apply: ${opts.stack}` : undefined });
    const t = countPlan(p.plan).terraform;
    // The plan exactly as terraform prints it (sensitive values already masked by terraform).
    if (!opts.quiet) process.stdout.write(p.raw.stdout.endsWith("\n") ? p.raw.stdout : `${p.raw.stdout}\n`);
    for (const w of p.diagnostics.filter((d) => d.severity === "warning")) console.error(`warning: ${w.summary}${w.detail ? ` — ${w.detail.split("\n")[0]}` : ""}`);
    console.log(`plan: ${t.add} to add, ${t.change} to change, ${t.destroy} to destroy`);
    console.log(`wrote ${rel(root, p.planJsonPath)} and ${rel(root, p.planMdPath)}`);
    return 0;
  } finally {
    await session.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      // Messages only (stack traces of synth errors can be very long).
      const msg = err instanceof Error ? err.message : String(err);
      console.error(msg.length > 4000 ? `${msg.slice(0, 4000)}… (truncated)` : msg);
      process.exit(1);
    },
  );
}
