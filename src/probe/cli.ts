/**
 * `npm run probe -- ...`: measure a deployed mesh (or a netns rehearsal of one) and print the
 * article's table, with path, fibre limit and efficiency. See docs/probe.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import { dirname, join } from "path";
import { parseArgs as nodeParseArgs, ParseArgsConfig } from "util";
import { didYouMean } from "../validation";
import { articleTokyoRun } from "./article-run";
import { findNode, parseInventory, parseProbeAccess, parseTerraformOutputs, ProbeAccess } from "./inventory";
import { preflight } from "./preflight";
import { buildReport, assertRun, renderCsv, renderJson, renderMarkdown, Report, ReportOptions } from "./report";
import { ProbeOptions, runProbe } from "./runner";
import { renderSvg } from "./svg";
import { NetnsTransport, spawnWithTimeout, SshTransport, Transport } from "./transport";
import { MeshNode, ProbeRun } from "./types";

export type Format = "md" | "csv" | "json" | "svg";
const FORMATS: readonly Format[] = ["md", "csv", "json", "svg"];
const EXT: Record<Format, string> = { md: "md", csv: "csv", json: "json", svg: "svg" };

export const USAGE = `Usage: npm run probe -- (--from <region|node> | --all-pairs) (--inventory <file> | --stack-dir <dir>) [options]
       npm run probe -- --replay <run.json> [--format ...]      re-render a saved JSON run
       npm run probe -- --article [--format ...]                the article's published Tokyo figures

Where the nodes come from:
  --inventory <file>        JSON (terraform output shape, {"nodes": ...} or an array) or lines of field=value
  --stack-dir <dir>         runs \`terraform output -json\` there and reads output "nodes"
What to measure:
  --from <region|node>      one source to every node (includes itself, like the article; --no-self to skip)
  --all-pairs               every ordered pair (itself excluded; --self to include)
  --concurrency <n>         --all-pairs only: most pairs at once (default N/2: a whole round of the
                            tournament, every node busy); a node is never in two pairs at once
How to reach the nodes:
  --transport ssh|netns     default ssh; netns runs \`ip netns exec <netns>\` (inventory field netns=)
  --ssh-user <user>         default: probe_access's user (meshprobe for the mesh), else root
  --ssh-key <path>          --ssh-port <n>
  --ssh-via public|tailnet  address to SSH to (default: the stack's probe_access output with
                            --stack-dir, e.g. tailnet for the mesh; else public_ipv4)
  --ssh-connect-timeout <s> default 10      --ssh-program <path>  ssh client (default ssh)
Probes:
  --ping-count <n> (5)  --ping-interval <s> (0.2)  --ping-wait <s> (2)  --tailscale-ping-count <n> (5)
  --iperf-duration <s> (10)  --iperf-omit <s> (1)  --iperf-parallel <n> (1)  --iperf-reverse
  --iperf-port <n> (5201)  --iperf-retries <n> (2)
  --iperf-server external|managed   external (default): iperf3 -s already runs on every node;
                            managed: start one per destination (bound to its tailnet IP) and stop it after
Output:
  --format md|csv|json|svg  comma-separated for several (default md)
  --out <file>              one format to a file     --out-dir <dir>   probe.<ext> per format
  --warn-factor <x> (3)     warn when RTT > x * fibre limit ...
  --warn-min-excess-ms <ms> (10)  ... and exceeds it by at least this much
  --strict                  exit 1 when any pair failed or warned
  --quiet                   no progress lines on stderr
`;

export class UsageError extends Error {}

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

export interface CliArgs {
  from?: string;
  allPairs: boolean;
  inventory?: string;
  stackDir?: string;
  replay?: string;
  article: boolean;
  transport: "ssh" | "netns";
  sshUser?: string;
  sshKey?: string;
  sshPort?: number;
  sshVia?: "public" | "tailnet";
  sshConnectTimeoutS?: number;
  sshProgram?: string;
  probe: ProbeOptions;
  formats: Format[];
  out?: string;
  outDir?: string;
  report: ReportOptions;
  strict: boolean;
  quiet: boolean;
  terraformBin: string;
  help: boolean;
}

function num(flag: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: expected ${integer ? "an integer" : "a number"}, got "${v}"`);
  }
  return n;
}

/** Every option, as node's util.parseArgs takes them (numbers are parsed and checked below). */
const OPTIONS = {
  help: { type: "boolean", short: "h" },
  from: { type: "string" },
  "all-pairs": { type: "boolean" },
  inventory: { type: "string" },
  "stack-dir": { type: "string" },
  replay: { type: "string" },
  article: { type: "boolean" },
  transport: { type: "string" },
  "ssh-user": { type: "string" },
  "ssh-key": { type: "string" },
  "ssh-port": { type: "string" },
  "ssh-via": { type: "string" },
  "ssh-program": { type: "string" },
  "ssh-connect-timeout": { type: "string" },
  "ping-count": { type: "string" },
  "ping-interval": { type: "string" },
  "ping-wait": { type: "string" },
  "tailscale-ping-count": { type: "string" },
  "iperf-duration": { type: "string" },
  "iperf-omit": { type: "string" },
  "iperf-parallel": { type: "string" },
  "iperf-reverse": { type: "boolean" },
  "iperf-port": { type: "string" },
  "iperf-retries": { type: "string" },
  "iperf-server": { type: "string" },
  concurrency: { type: "string" },
  self: { type: "boolean" },
  "no-self": { type: "boolean" },
  format: { type: "string" },
  out: { type: "string" },
  "out-dir": { type: "string" },
  "warn-factor": { type: "string" },
  "warn-min-excess-ms": { type: "string" },
  strict: { type: "boolean" },
  quiet: { type: "boolean" },
  "terraform-bin": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** util.parseArgs with its errors turned into one line that names the option (and a near miss). */
export function parseOptions<O extends ParseArgsOptionsConfig>(argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return nodeParseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (e) {
    const err = e as Error & { code?: string };
    const opt = /'(?:-\w, )?(--?[^' ]+)/.exec(err.message)?.[1] ?? "";
    switch (err.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
        const names = Object.keys(options).map((n) => `--${n}`);
        const hint = didYouMean(opt, names);
        throw new UsageError(`unknown option "${opt}"${hint ? ` (${hint.replace(/^Did/, "did")})` : ""} (see --help)`);
      }
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        throw new UsageError(`${opt} needs a value`);
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
        throw new UsageError(`unexpected argument ${JSON.stringify(/'([^']*)'/.exec(err.message)?.[1] ?? "")} (options start with --; see --help)`);
      default:
        throw new UsageError(err.message);
    }
  }
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const { values: v } = parseOptions(argv, OPTIONS);
  const oneOf = <T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined => {
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag}: expected ${allowed.join(" or ")}, got "${value}"`);
    return value as T;
  };
  const int = (name: keyof typeof OPTIONS) => (v[name] === undefined ? undefined : num(`--${name}`, v[name] as string, true));
  const real = (name: keyof typeof OPTIONS) => (v[name] === undefined ? undefined : num(`--${name}`, v[name] as string, false));
  const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
  let formats: Format[] = ["md"];
  if (v.format !== undefined) {
    const list = v.format.split(",").map((x) => x.trim()).filter(Boolean);
    for (const fmt of list) {
      if (!(FORMATS as readonly string[]).includes(fmt)) throw new UsageError(`--format: "${fmt}" is not one of ${FORMATS.join(", ")}`);
    }
    if (!list.length) throw new UsageError("--format: empty");
    formats = [...new Set(list)] as Format[];
  }
  if (v.self && v["no-self"]) throw new UsageError("--self and --no-self exclude each other");
  const a: CliArgs = {
    from: v.from,
    allPairs: v["all-pairs"] ?? false,
    inventory: v.inventory,
    stackDir: v["stack-dir"],
    replay: v.replay,
    article: v.article ?? false,
    transport: oneOf("--transport", v.transport, ["ssh", "netns"] as const) ?? "ssh",
    sshUser: v["ssh-user"],
    sshKey: v["ssh-key"],
    sshPort: int("ssh-port"),
    sshVia: oneOf("--ssh-via", v["ssh-via"], ["public", "tailnet"] as const),
    sshConnectTimeoutS: int("ssh-connect-timeout"),
    sshProgram: v["ssh-program"],
    probe: {},
    formats,
    out: v.out,
    outDir: v["out-dir"],
    report: {},
    strict: v.strict ?? false,
    quiet: v.quiet ?? false,
    terraformBin: v["terraform-bin"] ?? "terraform",
    help: v.help ?? false,
  };
  const probe = defined({
    concurrency: int("concurrency"),
    pingCount: int("ping-count"),
    pingIntervalS: real("ping-interval"),
    pingWaitS: int("ping-wait"),
    tailscalePingCount: int("tailscale-ping-count"),
    iperfDurationS: int("iperf-duration"),
    iperfOmitS: int("iperf-omit"),
    iperfParallel: int("iperf-parallel"),
    iperfReverse: v["iperf-reverse"] || undefined,
    iperfPort: int("iperf-port"),
    iperfRetries: int("iperf-retries"),
    iperfServer: oneOf("--iperf-server", v["iperf-server"], ["external", "managed"] as const),
    includeSelf: v.self ? true : v["no-self"] ? false : undefined,
  });
  const report = defined({ warnFactor: real("warn-factor"), warnMinExcessMs: real("warn-min-excess-ms") });
  a.probe = probe as ProbeOptions;
  a.report = report as ReportOptions;
  if (a.help) return a;
  const sources = [a.replay !== undefined, a.article, a.inventory !== undefined || a.stackDir !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new UsageError("give exactly one of --inventory/--stack-dir (measure), --replay <file>, or --article");
  if (a.inventory !== undefined && a.stackDir !== undefined) throw new UsageError("--inventory and --stack-dir exclude each other");
  if (a.inventory !== undefined || a.stackDir !== undefined) {
    if ((a.from !== undefined) === a.allPairs) throw new UsageError("give exactly one of --from <region|node> or --all-pairs");
  } else if (a.from !== undefined || a.allPairs) {
    throw new UsageError("--from/--all-pairs only apply when measuring (--inventory or --stack-dir)");
  }
  if (a.from !== undefined && a.probe.concurrency !== undefined) {
    // Every --from test starts on the one source node, so they run one after another.
    throw new UsageError("--concurrency: only applies to --all-pairs (with --from every test runs on the source node, one at a time)");
  }
  if (a.out !== undefined && a.outDir !== undefined) throw new UsageError("--out and --out-dir exclude each other");
  if (a.formats.length > 1 && a.out !== undefined) throw new UsageError("several formats need --out-dir, not --out");
  if (a.formats.length > 1 && a.outDir === undefined) throw new UsageError("several formats need --out-dir");
  return a;
}

export interface CliDeps {
  /** Replaces the transport chosen by --transport (tests). */
  readonly transport?: Transport;
  readonly stdout?: (s: string) => void;
  readonly stderr?: (s: string) => void;
}

async function loadNodes(a: CliArgs): Promise<{ nodes: MeshNode[]; access?: ProbeAccess }> {
  if (a.inventory !== undefined) return { nodes: parseInventory(readFileSync(a.inventory, "utf8")) };
  const res = await spawnWithTimeout(a.terraformBin, ["output", "-json"], { cwd: a.stackDir, timeoutMs: 120_000 });
  if (res.spawnError) throw new Error(`terraform output -json in ${a.stackDir}: ${res.spawnError}`);
  if (res.code !== 0) throw new Error(`terraform output -json in ${a.stackDir} failed (exit ${res.code}): ${res.stderr.trim()}`);
  return { nodes: parseTerraformOutputs(res.stdout), access: parseProbeAccess(res.stdout) };
}

/** SSH settings: flags first, then what the stack's probe_access output says, then public/root. */
export function sshSettings(a: CliArgs, access?: ProbeAccess): { via: "public" | "tailnet"; user: string } {
  return {
    via: a.sshVia ?? access?.sshVia ?? "public",
    user: a.sshUser ?? access?.sshUser ?? "root",
  };
}

function makeTransport(a: CliArgs, ssh: { via: "public" | "tailnet"; user: string }): Transport {
  if (a.transport === "netns") return new NetnsTransport();
  return new SshTransport({
    user: ssh.user,
    keyPath: a.sshKey,
    port: a.sshPort,
    via: ssh.via,
    connectTimeoutS: a.sshConnectTimeoutS,
    sshBinary: a.sshProgram,
  });
}

export function render(format: Format, run: ProbeRun, report: Report): string {
  switch (format) {
    case "md":
      return renderMarkdown(report);
    case "csv":
      return renderCsv(report);
    case "json":
      return renderJson(run, report);
    case "svg":
      return renderSvg(report);
  }
}

/** Runs the CLI; returns the exit code (0 ok, 1 --strict and something failed, 2 usage/setup error). */
export async function main(argv: readonly string[], deps: CliDeps = {}): Promise<number> {
  const out = deps.stdout ?? ((s: string) => process.stdout.write(s));
  const err = deps.stderr ?? ((s: string) => process.stderr.write(s));
  let a: CliArgs;
  try {
    a = parseArgs(argv);
  } catch (e) {
    err(`probe: ${(e as Error).message}\n`);
    return 2;
  }
  if (a.help) {
    out(USAGE);
    return 0;
  }
  let run: ProbeRun;
  try {
    if (a.article) run = articleTokyoRun();
    else if (a.replay !== undefined) run = assertRun(JSON.parse(readFileSync(a.replay, "utf8")));
    else {
      const { nodes, access } = await loadNodes(a);
      const plan = a.allPairs ? ({ mode: "all-pairs" } as const) : ({ mode: "from", source: findNode(nodes, a.from as string) } as const);
      const ssh = sshSettings(a, access);
      const transport = deps.transport ?? makeTransport(a, ssh);
      // One connection first: a cause all nodes share is reported once, with what to change.
      const problem = await preflight(transport, plan.mode === "from" ? plan.source : nodes[0], ssh);
      if (problem) {
        err(`probe: ${problem}\n`);
        return 2;
      }
      const log = a.quiet ? undefined : (line: string) => err(`${line}\n`);
      run = await runProbe({ nodes, transport, plan, options: { ...a.probe, log } });
    }
  } catch (e) {
    err(`probe: ${(e as Error).message}\n`);
    return 2;
  }
  let report: Report;
  try {
    report = buildReport(run, a.report);
  } catch (e) {
    err(`probe: ${(e as Error).message}\n`);
    return 2;
  }
  for (const format of a.formats) {
    const text = render(format, run, report);
    const target = a.out ?? (a.outDir !== undefined ? join(a.outDir, `probe.${EXT[format]}`) : undefined);
    if (target === undefined) out(text);
    else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
      if (!a.quiet) err(`wrote ${target}\n`);
    }
  }
  for (const w of report.warnings) err(`warning: ${w}\n`);
  const failed = report.rows.some((r) => r.errors.length > 0) || report.warnings.length > 0;
  return a.strict && failed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`probe: ${(e as Error).stack ?? e}\n`);
      process.exit(2);
    },
  );
}
