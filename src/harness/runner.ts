/**
 * Runs the real `terraform` binary against the offline provider server: init, validate, plan,
 * show, apply, in a prepared work dir with a sealed environment.
 */
import { guardHint } from "../terraform/ungrouped-addresses";
import { redactPlanJson } from "./redact";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DataSourceFixtures, startOfflineServer, OfflineServer } from "./server";
import { loadRecordedProviders, normaliseAddress, RecordedProvider } from "./schema";
import { prepareWorkDir, PreparedWorkDir, TfJson, WORK_CLI_CONFIG, WORK_TFVARS } from "./workdir";
import { stackDataFixtures } from "./stacks";
import { diagnosticsFromJsonLines, PlanDiagnostic, renderPlanMarkdown, PlanJson } from "./summary";
import { EngineName, findEngine, PlanEngine, reattachFor } from "./engine";
import { findCheckov, renderScanMarkdown, reviewScan, runCheckov, ScanReview } from "./scanner";

export interface TerraformResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Stopped at the time limit (then `code` is 128 + 9). */
  readonly timedOut?: boolean;
  readonly timeoutMs?: number;
}

/** Time limit of a terraform command when nothing is said: the floor, plus this per resource instance. */
export const TIME_LIMIT_FLOOR_MS = 120_000;
export const TIME_LIMIT_PER_INSTANCE_MS = 250;

/**
 * How many resource instances a config declares, roughly: a for_each over a literal map or a local
 * map counts its entries, a literal count its number, a count expression the longest list among the
 * variables' values (the article's `count = length(var.regions)`), anything else one.
 */
export function estimateInstances(config: TfJson, vars: Readonly<Record<string, unknown>> = {}): number {
  const locals = (config.locals ?? {}) as Record<string, unknown>;
  const lists = [
    ...Object.values(config.variable ?? {}).map((v) => v.default),
    ...Object.values(vars),
  ].filter(Array.isArray) as unknown[][];
  const longest = Math.max(1, ...lists.map((l) => l.length));
  const size = (x: unknown): number => (x && typeof x === "object" ? Object.keys(x).length : 0);
  let n = 0;
  for (const section of [config.resource, config.data as TfJson["resource"]]) {
    for (const byName of Object.values(section ?? {})) {
      for (const block of Object.values(byName)) {
        const fe = block.for_each;
        const local = typeof fe === "string" ? /^\$\{local\.([A-Za-z0-9_-]+)\}$/.exec(fe) : null;
        if (fe && typeof fe === "object") n += size(fe);
        else if (local) n += Math.max(1, size(locals[local[1]]));
        else if (typeof block.count === "number") n += block.count;
        else if (fe !== undefined || block.count !== undefined) n += longest;
        else n += 1;
      }
    }
  }
  return n;
}

/** The default time limit for a config: generous, so a large plan is never cut off as a failure. */
export function defaultTimeLimitMs(config: TfJson, vars?: Readonly<Record<string, unknown>>): number {
  return TIME_LIMIT_FLOOR_MS + TIME_LIMIT_PER_INSTANCE_MS * estimateInstances(config, vars);
}

/**
 * Path of the plan engine's binary: terraform, or OpenTofu's tofu where $PLAN_ENGINE says so or
 * terraform is missing (see engine.ts); undefined when neither is there.
 */
export function findTerraform(envPath = process.env.PATH ?? ""): string | undefined {
  const e = findEngine(undefined, { ...process.env, PATH: envPath });
  return "path" in e ? e.path : undefined;
}

/** Environment for offline terraform: no user CLI config, no checkpoint calls, no real credentials. */
export function offlineEnv(workDir: string, reattachJson: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    // Drop Terraform settings and provider credentials that could change behaviour or leak.
    if (/^(TF_|TOFU_|LINODE_|TAILSCALE_)/.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    TF_CLI_CONFIG_FILE: path.join(workDir, WORK_CLI_CONFIG),
    TF_REATTACH_PROVIDERS: reattachJson,
    CHECKPOINT_DISABLE: "1",
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
  };
}

export interface RunTerraformProps {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly terraform?: string;
}

/** Spawns terraform asynchronously (the provider server runs on this process's event loop). */
export function runTerraform(args: readonly string[], props: RunTerraformProps): Promise<TerraformResult> {
  const bin = props.terraform ?? findTerraform() ?? "terraform";
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: props.cwd, env: props.env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timeoutMs = props.timeoutMs ?? TIME_LIMIT_FLOOR_MS;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        ...(timedOut ? { timedOut, timeoutMs } : {}),
      });
    });
  });
}

export interface OfflineSessionProps {
  /** Synthesized config of the stack (`cdktf.out/stacks/<stack>/cdk.tf.json`). */
  readonly configPath: string;
  readonly workDir: string;
  /** Directory of recorded schemas (default `<repo>/schemas`). */
  readonly schemaDir?: string;
  /** Serve these providers instead of loading `schemaDir` (tests serve weakened copies). */
  readonly providers?: readonly RecordedProvider[];
  readonly stripProvisioners?: boolean;
  readonly vars?: Readonly<Record<string, unknown>>;
  /** Stand-ins for what data sources read (see OfflineServerProps.dataSources). */
  readonly dataSources?: DataSourceFixtures;
  /** Keep the stack's remote backend (see PrepareWorkDirProps.keepBackend). */
  readonly keepBackend?: boolean;
  /** Extra environment for terraform, e.g. PG_CONN_STR for a kept pg backend. */
  readonly env?: Readonly<Record<string, string>>;
  /** Hold each resource's apply this long (see OfflineServerProps.applyDelayMs). */
  readonly applyDelayMs?: number;
  /** terraform or tofu. @default $PLAN_ENGINE, else the one present (findEngine) */
  readonly engine?: EngineName;
  /** Time limit of each terraform command. @default defaultTimeLimitMs(config): 120 s + 250 ms per resource instance */
  readonly timeoutMs?: number;
}

export interface ApplyOptions {
  /** How long to wait for the state lock (`-lock-timeout`), e.g. "60s". @default terraform's: fail at once */
  readonly lockTimeout?: string;
}

export interface ValidateResult {
  readonly valid: boolean;
  readonly errorCount: number;
  readonly diagnostics: { severity: string; summary: string; detail?: string }[];
  readonly raw: TerraformResult;
}

export interface PlanResult {
  readonly plan: PlanJson;
  /** Warnings (and errors) Terraform reported while planning; plan.md carries the warnings. */
  readonly diagnostics: PlanDiagnostic[];
  readonly planJsonPath: string;
  readonly planMdPath: string;
  readonly markdown: string;
  readonly raw: TerraformResult;
  /** The scanner's review of plan.json (when asked for), or why it was skipped. */
  readonly scan?: ScanReview | { skipped: string };
}

/** A prepared work dir plus a running provider server; call close() when done. */
export class OfflineSession {
  private initialised = false;

  private constructor(
    private props: OfflineSessionProps,
    private preparedDir: PreparedWorkDir,
    readonly server: OfflineServer,
    readonly env: NodeJS.ProcessEnv,
    readonly label: string,
    /** The binary that plans: Terraform or OpenTofu. */
    readonly engine: PlanEngine,
  ) {}

  get prepared(): PreparedWorkDir {
    return this.preparedDir;
  }

  /**
   * Rewrites the work dir's config and tfvars (new variable values, another synthesized config,
   * provisioners on/off); state and the initialised providers stay.
   */
  reconfigure(change: Partial<Pick<OfflineSessionProps, "configPath" | "vars" | "stripProvisioners">>): void {
    this.props = { ...this.props, ...change };
    const next = prepareWorkDir({
      configPath: this.props.configPath,
      workDir: this.props.workDir,
      stripProvisioners: this.props.stripProvisioners,
      vars: this.props.vars,
      keepBackend: this.props.keepBackend,
    });
    const served = new Set(Object.keys(this.server.reattach));
    const missing = next.providerSources.map(normaliseAddress).filter((a) => !served.has(a));
    if (missing.length > 0) throw new Error(`reconfigure: the new config needs unserved providers ${missing.join(", ")}`);
    this.preparedDir = next;
  }

  static async open(props: OfflineSessionProps): Promise<OfflineSession> {
    const engine = findEngine(props.engine);
    if (!("path" in engine)) throw new Error(`offline plan: ${engine.missing}`);
    const prepared = prepareWorkDir({
      configPath: props.configPath,
      workDir: props.workDir,
      stripProvisioners: props.stripProvisioners,
      vars: props.vars,
      keepBackend: props.keepBackend,
    });
    const providers = props.providers ?? loadRecordedProviders({ dir: props.schemaDir ?? "schemas" });
    const served = new Set(providers.map((p) => p.address));
    const missing = prepared.providerSources.map(normaliseAddress).filter((a) => !served.has(a));
    if (missing.length > 0) {
      throw new Error(
        `no recorded schema for ${missing.join(", ")}: add schemas/<name>.json (terraform providers schema -json) first`,
      );
    }
    // Without fixtures of its own, a session reads what the stack's data sources would find live
    // (stackDataFixtures: the policy fragment, the node a router stack looks up).
    const dataSources = props.dataSources ?? stackDataFixtures(props.configPath).fixtures;
    const server = await startOfflineServer({ providers, dataSources, applyDelayMs: props.applyDelayMs });
    const env = { ...offlineEnv(prepared.workDir, reattachFor(engine, server.reattach)), ...props.env };
    return new OfflineSession(props, prepared, server, env, path.basename(path.dirname(props.configPath)), engine);
  }

  get workDir(): string {
    return this.prepared.workDir;
  }

  /** The time limit of each terraform command of this session. */
  get timeoutMs(): number {
    return this.props.timeoutMs ?? defaultTimeLimitMs(this.prepared.config, this.props.vars);
  }

  tf(args: readonly string[], timeoutMs?: number): Promise<TerraformResult> {
    return runTerraform(args, { cwd: this.workDir, env: this.env, timeoutMs: timeoutMs ?? this.timeoutMs, terraform: this.engine.path });
  }

  private async must(args: readonly string[]): Promise<TerraformResult> {
    const r = await this.tf(args);
    if (r.timedOut) throw new Error(timedOutMessage(args, r));
    if (r.code !== 0) {
      const out = r.stderr || r.stdout;
      throw new Error(`${this.engine.name} ${args[0]} failed (exit ${r.code}):\n${out.length > 4000 ? `${out.slice(0, 4000)}… (truncated)` : out}`);
    }
    return r;
  }

  async init(): Promise<TerraformResult> {
    const r = await this.must(["init", "-input=false", "-no-color"]);
    this.initialised = true;
    return r;
  }

  private async ensureInit(): Promise<void> {
    if (!this.initialised) await this.init();
  }

  async validate(): Promise<ValidateResult> {
    await this.ensureInit();
    const raw = await this.tf(["validate", "-json", "-no-color"]);
    if (raw.timedOut) throw new Error(timedOutMessage(["validate"], raw));
    const parsed = JSON.parse(raw.stdout) as {
      valid: boolean;
      error_count: number;
      diagnostics: { severity: string; summary: string; detail?: string }[];
    };
    return { valid: parsed.valid, errorCount: parsed.error_count, diagnostics: parsed.diagnostics, raw };
  }

  /**
   * `terraform plan -json -out` (its machine-readable lines carry the warnings), then plan.json
   * (terraform show -json) and plan.md beside it. `raw` is the plan as terraform shows it to people.
   */
  async plan(opts: { title?: string; scan?: boolean | { env: NodeJS.ProcessEnv } } = {}): Promise<PlanResult> {
    await this.ensureInit();
    const planned = await this.tf(["plan", "-input=false", "-no-color", "-json", "-out=tfplan", ...this.prepared.varArgs]);
    const diagnostics = diagnosticsFromJsonLines(planned.stdout);
    if (planned.timedOut) throw new Error(timedOutMessage(["plan"], planned));
    if (planned.code !== 0) {
      const errors = diagnostics.filter((d) => d.severity === "error").map((d) => `Error: ${d.summary}${d.detail ? `\n${d.detail}` : ""}`);
      const text = errors.join("\n\n") || planned.stderr || planned.stdout;
      const hint = guardHint(this.prepared.config, text);
      throw new Error(`${this.engine.name} plan failed (exit ${planned.code}):\n${text}${hint ? `\n\n${hint}` : ""}`);
    }
    const raw = await this.must(["show", "-no-color", "tfplan"]);
    const shown = await this.must(["show", "-json", "tfplan"]);
    // Review copies never hold sensitive values (terraform prints them in clear in -json output).
    const plan = redactPlanJson(JSON.parse(shown.stdout)) as PlanJson;
    const planJsonPath = path.join(this.workDir, "plan.json");
    fs.writeFileSync(planJsonPath, JSON.stringify(plan, null, 2) + "\n");
    let markdown = renderPlanMarkdown(plan, { title: opts.title ?? `Offline plan: ${this.label}`, planJson: "plan.json", diagnostics, engine: this.engine.label });
    let scan: PlanResult["scan"];
    if (opts.scan) {
      // The scanner reads the redacted plan.json, the file a review publishes.
      const checkov = findCheckov(typeof opts.scan === "object" ? opts.scan.env : process.env);
      scan = "path" in checkov ? reviewScan(this.label, (await runCheckov([planJsonPath], { checkov: checkov.path })).get(path.resolve(planJsonPath))!) : { skipped: checkov.missing };
      markdown = `${markdown.replace(/\n*$/, "\n\n")}${renderScanMarkdown(scan).join("\n")}`;
    }
    const planMdPath = path.join(this.workDir, "plan.md");
    fs.writeFileSync(planMdPath, markdown);
    return { plan, diagnostics, planJsonPath, planMdPath, markdown, raw, scan };
  }

  /** Arguments of an offline apply, for callers that want the result even when it fails. */
  applyArgs(opts: ApplyOptions = {}): string[] {
    return [
      "apply",
      "-input=false",
      "-no-color",
      "-auto-approve",
      ...(opts.lockTimeout ? [`-lock-timeout=${opts.lockTimeout}`] : []),
      ...this.prepared.varArgs,
    ];
  }

  async apply(opts: ApplyOptions = {}): Promise<TerraformResult> {
    await this.ensureInit();
    return this.must(this.applyArgs(opts));
  }

  async close(): Promise<void> {
    // The variables' values (--var may carry secrets) don't outlive the session.
    fs.rmSync(path.join(this.workDir, WORK_TFVARS), { force: true });
    await this.server.close();
  }
}

function timedOutMessage(args: readonly string[], r: TerraformResult): string {
  return `terraform ${args[0]} stopped at its time limit of ${Math.round((r.timeoutMs ?? 0) / 1000)} s; give a longer one (--timeout <seconds>, or timeoutMs)`;
}

/** Opens a session, runs `fn`, always closes the server. */
export async function withSession<T>(props: OfflineSessionProps, fn: (s: OfflineSession) => Promise<T>): Promise<T> {
  const s = await OfflineSession.open(props);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}
