/**
 * Work directories for offline runs: a copy of a stack's synthesized `cdk.tf.json` with a local
 * backend inside the work dir, fake values for required variables, and an empty CLI config, so
 * `terraform` sees no user settings, no credentials and no network mirror.
 *
 * Layout of `<workDir>` (default `<repo>/.plan-work/<stack>/`, git-ignored):
 *   cdk.tf.json              rewritten copy of the synthesized stack (overwritten every run)
 *   offline.tfvars.json      fake values for required variables + caller overrides (0600, removed
 *                            when the session closes: --var values may be secrets)
 *   offline.terraformrc      empty CLI config (TF_CLI_CONFIG_FILE)
 *   terraform.tfstate        state of offline applies (kept across runs and re-synthesis)
 *   tfplan, plan.json, plan.md
 */
import * as fs from "fs";
import * as path from "path";

export interface TfJson {
  terraform?: {
    backend?: Record<string, unknown>;
    cloud?: unknown;
    required_providers?: Record<string, string | { source?: string; version?: string }>;
    [k: string]: unknown;
  };
  variable?: Record<string, { type?: string; default?: unknown; sensitive?: boolean; description?: string }>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  [k: string]: unknown;
}

export interface PrepareWorkDirProps {
  /** Synthesized Terraform JSON of the stack (`cdktf.out/stacks/<stack>/cdk.tf.json`). */
  readonly configPath: string;
  /** Directory to (re)write; created when missing. State files in it are left alone. */
  readonly workDir: string;
  /**
   * Drop `provisioner` and `connection` blocks. Needed for offline apply: remote-exec would try to
   * reach the placeholder addresses. Plans are unaffected (provisioners never appear in a plan).
   */
  readonly stripProvisioners?: boolean;
  /** Variable values to set in addition to the generated fakes (e.g. `{ regions: [...] }`). */
  readonly vars?: Readonly<Record<string, unknown>>;
  /**
   * Keep the stack's own remote backend (s3, pg) instead of a local state file in the work dir, so
   * offline applies go through that backend's state storage and locking (the pg lock test does).
   * A local backend is never kept: its path points outside the work dir. @default false
   */
  readonly keepBackend?: boolean;
}

export interface PreparedWorkDir {
  readonly workDir: string;
  readonly config: TfJson;
  /** Provider sources the config requires, e.g. `linode/linode`. */
  readonly providerSources: string[];
  /** Names of the variables that got fake values (values never returned, never printed). */
  readonly fakedVariables: string[];
  /** Arguments to pass to plan/apply (relative to the work dir). */
  readonly varArgs: string[];
}

export const WORK_CONFIG = "cdk.tf.json";
export const WORK_TFVARS = "offline.tfvars.json";
export const WORK_CLI_CONFIG = "offline.terraformrc";
export const WORK_STATE = "terraform.tfstate";

/** Source address of each required provider (`linode/linode`), sorted. */
export function requiredProviderSources(config: TfJson): string[] {
  const rp = config.terraform?.required_providers ?? {};
  return Object.entries(rp)
    .map(([local, v]) => (typeof v === "string" ? `hashicorp/${local}` : v.source ?? `hashicorp/${local}`))
    // A bare type ("null", as @cdktf/provider-null writes it) means hashicorp/<type> to Terraform.
    .map((s) => (s.includes("/") ? s : `hashicorp/${s}`))
    .map((s) => s.toLowerCase())
    .sort();
}

/** A fake value that satisfies a variable's declared type; obviously not a real secret. */
export function fakeValueFor(name: string, type: string | undefined): unknown {
  const t = (type ?? "string").replace(/\s+/g, "");
  if (t === "number") return 0;
  if (t === "bool") return false;
  if (/^(list|set|tuple)\(/.test(t)) {
    // Lists whose validations refuse an empty one: admin networks and SSH keys get one fake entry
    // (a documentation network, the offline key) so a required variable alone doesn't stop a plan.
    if (/(^|_)cidrs$/.test(name) && /string/.test(t)) return ["192.0.2.0/24"];
    if (/(^|_)public_keys$/.test(name) && /string/.test(t)) return [FAKE_PUBLIC_KEY.trim()];
    return [];
  }
  if (/^(map|object)\(/.test(t)) return {};
  return `offline-fake-${name.replace(/_/g, "-")}`;
}

/** A string default that names a file in the user's home (`~/.ssh/...pub`) cannot be read offline. */
function isHomePathDefault(v: unknown): v is string {
  return typeof v === "string" && (v.startsWith("~/") || /\.pub$/.test(v));
}

const FAKE_PUBLIC_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9mZmxpbmVGYWtlS2V5T25seUZvclBsYW5zMDAwMDAwMDA offline-fake-key\n";

/** Pure rewrite of the synthesized config for offline use. */
export function offlineConfig(src: TfJson, opts: { stripProvisioners?: boolean; keepBackend?: boolean } = {}): TfJson {
  const config = JSON.parse(JSON.stringify(src)) as TfJson;
  config.terraform = { ...(config.terraform ?? {}) };
  delete config.terraform.cloud;
  if (opts.keepBackend) {
    const kinds = Object.keys(config.terraform.backend ?? {});
    if (kinds.length !== 1 || kinds[0] === "local") {
      throw new Error(`keepBackend: the stack's backend is ${kinds.join(", ") || "none"}; only a remote backend (s3, pg) can be kept`);
    }
  } else {
    // State lives in the work dir, whatever backend the stack declares.
    config.terraform.backend = { local: { path: WORK_STATE } };
  }
  if (opts.stripProvisioners) {
    for (const byName of Object.values(config.resource ?? {})) {
      for (const res of Object.values(byName)) {
        delete res.provisioner;
        delete res.connection;
      }
    }
  }
  return config;
}

/** The path with symlinks resolved as far as it exists (the rest appended as given). */
function realish(p: string): string {
  const abs = path.resolve(p);
  let existing = abs;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  return path.join(fs.realpathSync(existing), path.relative(existing, abs));
}

const inside = (child: string, parent: string) => {
  const r = path.relative(parent, child);
  return r === "" || (!r.startsWith("..") && !path.isAbsolute(r));
};

/**
 * Why `workDir` can't be an offline work dir, or undefined. A work dir is rewritten every run, so it
 * must not be, or be inside, a directory whose files matter (`protectedDirs`: the synthesized
 * output, the stack's directory), and an existing directory must be empty or an earlier work dir:
 * --work-dir . (or ~) must not scatter files among the user's own.
 */
export function workDirProblem(workDir: string, protectedDirs: readonly string[]): string | undefined {
  const dir = realish(workDir);
  for (const p of protectedDirs) {
    const guarded = realish(p);
    if (inside(dir, guarded)) return `${workDir} is inside ${p}, whose files it would overwrite; choose a directory outside it (default .plan-work/<stack>)`;
  }
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) return `${workDir} exists and is not a directory`;
    const entries = fs.readdirSync(dir);
    if (entries.length > 0 && !entries.includes(WORK_CLI_CONFIG)) {
      return `${workDir} holds files of its own and is not an offline work dir (no ${WORK_CLI_CONFIG}); give a new or empty directory`;
    }
  }
  return undefined;
}

export function prepareWorkDir(props: PrepareWorkDirProps): PreparedWorkDir {
  if (!fs.existsSync(props.configPath)) {
    throw new Error(`configPath ${props.configPath} does not exist (synthesize the stack first)`);
  }
  // The copy is written as <workDir>/cdk.tf.json: never over the config it is made from. (The CLI
  // also refuses any work dir inside the synthesis output: workDirProblem.)
  if (realish(props.workDir) === realish(path.dirname(props.configPath))) {
    throw new Error(`workDir: ${props.workDir} is the directory of ${path.basename(props.configPath)}, which it would overwrite; choose another directory`);
  }
  const problem = workDirProblem(props.workDir, []);
  if (problem) throw new Error(`workDir: ${problem}`);
  const src = JSON.parse(fs.readFileSync(props.configPath, "utf8")) as TfJson;
  // Only its owner reads it: the tfvars and the plan file hold the variables' values.
  if (!fs.existsSync(props.workDir)) fs.mkdirSync(props.workDir, { recursive: true, mode: 0o700 });
  const config = offlineConfig(src, { stripProvisioners: props.stripProvisioners, keepBackend: props.keepBackend });
  fs.writeFileSync(path.join(props.workDir, WORK_CONFIG), JSON.stringify(config, null, 2) + "\n");
  fs.writeFileSync(path.join(props.workDir, WORK_CLI_CONFIG), "# empty: offline runs ignore the user's CLI config\n");

  const values: Record<string, unknown> = {};
  const faked: string[] = [];
  for (const [name, v] of Object.entries(config.variable ?? {})) {
    if (props.vars && name in props.vars) continue;
    if (!("default" in v) || v.default === null) {
      values[name] = fakeValueFor(name, v.type);
      faked.push(name);
    } else if (isHomePathDefault(v.default)) {
      const file = `offline-fake-${name}.pub`;
      fs.writeFileSync(path.join(props.workDir, file), FAKE_PUBLIC_KEY);
      values[name] = file;
      faked.push(name);
    }
  }
  for (const [name, v] of Object.entries(props.vars ?? {})) {
    if (!(name in (config.variable ?? {}))) throw new Error(`vars.${name}: the stack declares no variable ${name}`);
    values[name] = v;
  }
  writePrivate(path.join(props.workDir, WORK_TFVARS), JSON.stringify(values, null, 2) + "\n");
  return {
    workDir: props.workDir,
    config,
    providerSources: requiredProviderSources(config),
    fakedVariables: faked.sort(),
    varArgs: [`-var-file=${WORK_TFVARS}`],
  };
}

/**
 * Writes a file only its owner can read (0600), whatever was there before and whatever the umask:
 * variable values given with --var may be secrets. Sessions remove it when they close.
 */
export function writePrivate(file: string, data: string): void {
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, "wx", 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

/** Repository root: nearest ancestor of this file holding package.json. */
export function repoRoot(from = __dirname): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "src"))) return dir;
  }
  throw new Error(`no package.json above ${from}`);
}
