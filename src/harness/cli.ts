/**
 * Offline plan tooling: `npm run plan:offline -- <stack>` (and apply:offline, churn:offline), or
 * `node scripts/run-ts.js src/harness/cli.ts <command> ...`. Commands and options: USAGE below.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs as nodeParseArgs, ParseArgsConfig } from "util";
import { didYouMean, sentences } from "../validation";
import { measureChurn, renderChurnMarkdown } from "./churn";
import { ENGINE_ENV, ENGINES, EngineName, findEngine, isEngineName, reattachFor } from "./engine";
import { OfflineSession, PlanResult } from "./runner";
import { loadRecordedProviders } from "./schema";
import { startOfflineServer } from "./server";
import { stackConfigPath, stackDataFixtures, synthesizeStacks } from "./stacks";
import { countPlan } from "./summary";
import { repoRoot, WORK_STATE, workDirProblem } from "./workdir";

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
  /** Run the scanner (Checkov) over plan.json; plan.md carries its findings. */
  scan: boolean;
  /** terraform or tofu; undefined: $PLAN_ENGINE, else the one present. */
  engine?: EngineName;
  /** Time limit of each terraform command, ms. @default the session's, which grows with the plan */
  timeoutMs?: number;
  help: boolean;
}

export const USAGE = `Usage: npm run plan:offline -- <stack> [options]      (also apply:offline, churn:offline)
       node scripts/run-ts.js src/harness/cli.ts <plan|apply|validate|churn|serve> [stack] [options]

Commands:
  plan <stack>        synthesize, init, validate, plan -> .plan-work/<stack>/plan.json and plan.md
  apply <stack>       offline apply (state in .plan-work/<stack>/terraform.tfstate), then plan again
  validate <stack>    synthesize, init, validate
  churn <stack> --remove <region>   apply, drop one region, plan; prints the counts
  serve               start the provider server alone and print TF_REATTACH_PROVIDERS

Options:
  --config <file>     a synthesized cdk.tf.json to use (skips synthesis)
  --no-synth          reuse what is in --outdir instead of synthesizing
  --outdir <dir>      synthesis output (default cdktf.out)
  --schemas <dir>     recorded provider schemas (default schemas)
  --work-dir <dir>    work directory (default .plan-work/<stack>)
  --var <name=value>  a variable value (parsed as JSON when it parses); repeatable
  --remove <region>   churn: the region to drop
  --reset             delete the work dir's offline state first
  --quiet             leave out terraform's own plan output (the summary lines stay)
  --socket-dir <dir>  serve: where the provider sockets go
  --no-scan           leave out the scanner (Checkov over plan.json, findings in plan.md)
  --engine <name>     terraform or tofu (OpenTofu); default $PLAN_ENGINE, else terraform when
                      on PATH, else tofu (on PATH or built by scripts/build-tools.sh opentofu);
                      serve: --engine tofu lists the providers for OpenTofu too
  --timeout <seconds> time limit of each terraform command (default 120 s + 0.25 s per resource instance)
  -h, --help          this text
`;

class UsageError extends Error {}

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  config: { type: "string" },
  "no-synth": { type: "boolean" },
  outdir: { type: "string" },
  schemas: { type: "string" },
  "work-dir": { type: "string" },
  var: { type: "string", multiple: true },
  remove: { type: "string" },
  reset: { type: "boolean" },
  quiet: { type: "boolean" },
  "socket-dir": { type: "string" },
  engine: { type: "string" },
  "no-scan": { type: "boolean" },
  timeout: { type: "string" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

const COMMANDS = ["plan", "apply", "validate", "churn", "serve"] as const;

/** Parses argv (without node and script) with node's util.parseArgs; throws a one-line reason on bad input. */
export function parseArgs(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = nodeParseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const opt = /'(?:-\w, )?(--?[^' ]+)/.exec(err.message)?.[1] ?? "";
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const hint = didYouMean(opt, Object.keys(OPTIONS).map((n) => `--${n}`));
      throw new UsageError(`unknown option ${opt}${hint ? ` (${hint.replace(/^Did/, "did")})` : ""}`);
    }
    if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") throw new UsageError(`${opt} needs a value`);
    throw new UsageError(err.message);
  }
  const v = parsed.values;
  const vars: Record<string, unknown> = {};
  for (const kv of v.var ?? []) {
    const eq = kv.indexOf("=");
    // The value may be a secret typed in the wrong shape: never echoed.
    if (eq <= 0) throw new UsageError(`--var expects name=value, got an argument without a name and '=' (value not shown)`);
    const raw = kv.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // plain string
    }
    vars[kv.slice(0, eq)] = value;
  }
  const [command = "", stack, ...extra] = parsed.positionals;
  const opts: CliOptions = {
    command,
    stack,
    config: v.config,
    synth: !v["no-synth"],
    outdir: v.outdir ?? "cdktf.out",
    schemas: v.schemas ?? "schemas",
    workDir: v["work-dir"],
    vars,
    remove: v.remove,
    reset: v.reset ?? false,
    quiet: v.quiet ?? false,
    socketDir: v["socket-dir"],
    scan: !v["no-scan"],
    help: v.help ?? false,
  };
  if (v.timeout !== undefined) {
    const seconds = Number(v.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout expects a number of seconds above 0, got ${v.timeout}`);
    opts.timeoutMs = seconds * 1000;
  }
  if (opts.help) return opts;
  if (v.engine !== undefined) {
    if (!isEngineName(v.engine)) throw new UsageError(sentences(`--engine must be one of ${ENGINES.join(", ")}, got ${JSON.stringify(v.engine)}.`, didYouMean(v.engine, ENGINES)));
    opts.engine = v.engine;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(command ? sentences(`unknown command ${JSON.stringify(command)}; commands: ${COMMANDS.join(", ")}.`, didYouMean(command, COMMANDS)) : `a command is needed: ${COMMANDS.join(", ")}`);
  }
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (command !== "serve" && !stack) throw new UsageError(`${command} needs a stack name`);
  if (stack && !/^[A-Za-z0-9_-]+$/.test(stack)) throw new UsageError(`stack must match [A-Za-z0-9_-]+, got ${stack}`);
  if (command === "churn" && !opts.remove) throw new UsageError("churn needs --remove <region>");
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

function printScan(scan: NonNullable<PlanResult["scan"]>): void {
  if ("skipped" in scan) {
    console.log(`scan: skipped: ${scan.skipped}`);
    return;
  }
  const open = scan.findings.filter((f) => !f.accepted);
  console.log(`scan: ${scan.tool}: ${scan.passed} passed, ${open.length} findings not accepted, ${scan.findings.length - open.length} accepted on purpose`);
  for (const f of open) console.log(`scan: not accepted: ${f.check} ${f.resource}: ${f.name}`);
  for (const s of scan.stale) console.log(`scan: stale acceptance: ${s.check} on ${s.resource} no longer fires (src/harness/scanner-accepted.ts)`);
}

export async function main(argv: readonly string[], out = (t: string) => void process.stdout.write(t), err = (t: string) => void process.stderr.write(t)): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`plan:offline: ${e.message} (see --help)\n`);
    return 2;
  }
  if (opts.help) {
    out(USAGE);
    return 0;
  }
  const root = repoRoot();
  const schemaDir = path.resolve(root, opts.schemas);

  if (opts.command === "serve") {
    const server = await startOfflineServer({ providers: loadRecordedProviders({ dir: schemaDir }), socketDir: opts.socketDir });
    // One line a shell can eval; the sockets live until this process gets SIGINT/SIGTERM. With
    // --engine tofu the providers are also listed under OpenTofu's default registry host.
    const reattach = opts.engine === "tofu" ? reattachFor({ defaultRegistry: "registry.opentofu.org" }, server.reattach) : server.reattachJson;
    console.log(`TF_REATTACH_PROVIDERS='${reattach}'`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await server.close();
    return 0;
  }

  // Before anything is synthesized or written: a work dir inside the output would overwrite it.
  if (opts.command !== "churn") {
    const workDir = path.resolve(root, opts.workDir ?? path.join(".plan-work", opts.stack!));
    // The output asked for, the default one (npm run synth writes there whatever --outdir says here),
    // and the directory of a --config.
    const guarded = [...new Set([path.resolve(root, opts.outdir), path.resolve(root, "cdktf.out")])];
    if (opts.config) guarded.push(path.dirname(path.resolve(root, opts.config)));
    const problem = workDirProblem(workDir, guarded);
    if (problem) {
      err(`plan:offline: --work-dir: ${problem.split(`${root}${path.sep}`).join("")}\n`);
      return 2;
    }
  }

  const engine = findEngine(opts.engine);
  if (!("path" in engine)) {
    console.error(`plan:offline: ${engine.missing} (install Terraform 1.11, or build OpenTofu; ${ENGINE_ENV} or --engine picks one)`);
    return 2;
  }
  const configPath = configFor(root, opts);

  if (opts.command === "churn") {
    const report = await measureChurn(opts.stack!, { removeRegion: opts.remove!, configPath, schemaDir, engine: engine.name, timeoutMs: opts.timeoutMs });
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
    engine: engine.name,
    timeoutMs: opts.timeoutMs,
    // remote-exec must never try to reach the placeholder addresses.
    stripProvisioners: opts.command === "apply",
  });
  try {
    console.log(`engine: ${engine.label} (${engine.path})`);
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
    const p = await session.plan({ title: opts.command === "apply" ? `Offline plan after apply: ${opts.stack}` : undefined, scan: opts.scan });
    const t = countPlan(p.plan).terraform;
    // The plan exactly as terraform prints it (sensitive values already masked by terraform).
    if (!opts.quiet) process.stdout.write(p.raw.stdout.endsWith("\n") ? p.raw.stdout : `${p.raw.stdout}\n`);
    for (const w of p.diagnostics.filter((d) => d.severity === "warning")) console.error(`warning: ${w.summary}${w.detail ? ` — ${w.detail.split("\n")[0]}` : ""}`);
    console.log(`plan: ${t.add} to add, ${t.change} to change, ${t.destroy} to destroy`);
    if (p.scan) printScan(p.scan);
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
