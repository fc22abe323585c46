/**
 * A standard scanner in the plan review: Checkov (Prisma Cloud's open-source policy checker, pinned
 * by scripts/install-checkov.sh into the tools cache) reads each stack's plan.json with its
 * `terraform_plan` framework, so it sees every resource instance with the values the plan resolved
 * (for_each and count expanded, variables substituted). Findings the project accepts on purpose are
 * listed with their reason in scanner-accepted.ts; the rest show in plan.md as not accepted.
 *
 * Offline by construction (settings read from checkov 3.3.30's source, see scanner-accepted.ts):
 * `--skip-download` (no guidelines, policies or run config from the Bridgecrew/Prisma platform),
 * no API key (its variables are dropped), `CKV_SKIP_PACKAGE_UPDATE_CHECK` (no PyPI version check
 * at start-up), `BC_SKIP_MAPPING`, secrets validation off (its default).
 */
import { spawn } from "child_process";
import { existsSync } from "fs";
import * as path from "path";
import { toolsCache } from "../tools/pinned";
import { AcceptedFinding, ACCEPTED_FINDINGS } from "./scanner-accepted";

export const CHECKOV_VERSION = "3.3.30";

/** Where scripts/install-checkov.sh puts the pinned virtualenv ($TOOLS_CACHE/checkov-<version>). */
export function checkovDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(toolsCache(env), `checkov-${CHECKOV_VERSION}`);
}

/** The pinned checkov program, or why it is missing. */
export function findCheckov(env: NodeJS.ProcessEnv = process.env): { path: string; version: string } | { missing: string } {
  const dir = checkovDir(env);
  const bin = path.join(dir, "bin", "checkov");
  if (!existsSync(path.join(dir, ".complete")) || !existsSync(bin)) {
    // No absolute path: the reason lands in plan.md.
    return { missing: `checkov ${CHECKOV_VERSION} is not installed in the tools cache ($TOOLS_CACHE or .tools/): run scripts/install-checkov.sh (needs python3 with venv, and PyPI)` };
  }
  return { path: bin, version: CHECKOV_VERSION };
}

/** The scanner's environment: no platform credentials or settings from the caller, no calls out. */
export function checkovEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (/^(BC_|PRISMA_|CKV_|CHECKOV_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, CKV_SKIP_PACKAGE_UPDATE_CHECK: "true", BC_SKIP_MAPPING: "TRUE" };
}

export interface ScanFinding {
  /** Checkov's check id, e.g. `CKV_LIN_2`. */
  readonly check: string;
  readonly name: string;
  /** Resource address as in the plan, e.g. `linode_instance.node["us-ord"]`. */
  readonly resource: string;
}

/** One plan file's result. */
export interface ScanResult {
  readonly tool: string;
  readonly passed: number;
  readonly failed: ScanFinding[];
}

interface CheckovCheck {
  check_id: string;
  check_name: string;
  resource: string;
  resource_address?: string | null;
  file_abs_path: string;
}

interface CheckovReport {
  check_type?: string;
  results?: { passed_checks?: CheckovCheck[]; failed_checks?: CheckovCheck[]; parsing_errors?: string[] };
  summary?: { parsing_errors?: number };
}

/** Splits checkov's JSON report (one object, or an array of them, or an empty-scan summary) by plan file. */
export function parseCheckovJson(stdout: string, files: readonly string[]): Map<string, ScanResult> {
  const parsed = JSON.parse(stdout) as CheckovReport | CheckovReport[];
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  const out = new Map<string, { passed: number; failed: ScanFinding[] }>(files.map((f) => [path.resolve(f), { passed: 0, failed: [] }]));
  const slot = (c: CheckovCheck) => {
    const s = out.get(path.resolve(c.file_abs_path));
    if (!s) throw new Error(`checkov reported on a file it was not given: ${c.file_abs_path}`);
    return s;
  };
  for (const r of reports) {
    const errs = r.results?.parsing_errors ?? [];
    if (errs.length) throw new Error(`checkov could not parse ${errs.join(", ")}`);
    for (const c of r.results?.passed_checks ?? []) slot(c).passed++;
    for (const c of r.results?.failed_checks ?? []) {
      slot(c).failed.push({ check: c.check_id, name: c.check_name, resource: c.resource_address || c.resource });
    }
  }
  const tool = `Checkov ${CHECKOV_VERSION}`;
  return new Map([...out].map(([f, s]) => [f, { tool, passed: s.passed, failed: s.failed.sort(byCheckThenResource) }]));
}

function byCheckThenResource(a: ScanFinding, b: ScanFinding): number {
  return a.check.localeCompare(b.check) || a.resource.localeCompare(b.resource);
}

export interface RunCheckovProps {
  /** The checkov program (default: the pinned one; throws with the reason when missing). */
  readonly checkov?: string;
  /** Run it under this command, e.g. `["unshare", "--net"]` to prove it needs no network. */
  readonly wrap?: readonly string[];
  readonly timeoutMs?: number;
}

/** Scans plan.json files (one checkov process for all of them), result per file (absolute path). */
export function runCheckov(planJsons: readonly string[], props: RunCheckovProps = {}): Promise<Map<string, ScanResult>> {
  let bin = props.checkov;
  if (!bin) {
    const found = findCheckov();
    if (!("path" in found)) return Promise.reject(new Error(found.missing));
    bin = found.path;
  }
  const args = [
    ...planJsons.flatMap((f) => ["-f", path.resolve(f)]),
    "--framework", "terraform_plan",
    "--skip-download",
    // Not --quiet: the passed checks are counted per file too.
    "--output", "json",
    "--compact",
    // A failed check is a finding for the review, not a failed command.
    "--soft-fail",
  ];
  const [cmd, ...pre] = props.wrap?.length ? [...props.wrap, bin] : [bin];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, ...args], { env: checkovEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), props.timeoutMs ?? 180_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      if (code !== 0) {
        reject(new Error(`checkov exited ${code}: ${Buffer.concat(err).toString("utf8").slice(-2000) || stdout.slice(-2000)}`));
        return;
      }
      try {
        resolve(parseCheckovJson(stdout, planJsons));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** A finding matched to the acceptance that covers it, if any. */
export interface ReviewedFinding extends ScanFinding {
  readonly accepted?: AcceptedFinding;
}

/** An accepted finding (check, stack, resource pattern) that the scan no longer reports. */
export interface StaleAcceptance {
  readonly check: string;
  readonly stack: string;
  readonly resource: string;
}

export interface ScanReview {
  readonly tool: string;
  readonly stack: string;
  readonly passed: number;
  readonly findings: ReviewedFinding[];
  readonly stale: StaleAcceptance[];
}

/** `linode_instance.node[*]` → a regex where `*` matches anything, the rest literally. */
function patternRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

export function acceptanceMatches(a: AcceptedFinding, stack: string, f: ScanFinding): boolean {
  return a.check === f.check && (a.where[stack] ?? []).some((r) => patternRegex(r).test(f.resource));
}

/**
 * Sorts a stack's findings into accepted and not, and names every acceptance for this stack (check,
 * resource pattern) that matched nothing: the finding it excused is gone, so the entry must go too.
 */
export function reviewScan(stack: string, result: ScanResult, accepted: readonly AcceptedFinding[] = ACCEPTED_FINDINGS): ScanReview {
  const findings = result.failed.map((f) => ({ ...f, accepted: accepted.find((a) => acceptanceMatches(a, stack, f)) }));
  const stale: StaleAcceptance[] = [];
  for (const a of accepted) {
    for (const r of a.where[stack] ?? []) {
      const re = patternRegex(r);
      if (!result.failed.some((f) => f.check === a.check && re.test(f.resource))) stale.push({ check: a.check, stack, resource: r });
    }
  }
  return { tool: result.tool, stack, passed: result.passed, findings, stale };
}

const MAX_ADDRESSES = 5;

function addresses(list: readonly ScanFinding[]): string {
  const shown = list.slice(0, MAX_ADDRESSES).map((f) => `\`${f.resource}\``);
  if (list.length > MAX_ADDRESSES) shown.push(`… and ${list.length - MAX_ADDRESSES} more`);
  return shown.join(", ");
}

function groupByCheck<T extends ScanFinding>(list: readonly T[]): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const f of list) m.set(f.check, [...(m.get(f.check) ?? []), f]);
  return [...m].sort(([a], [b]) => a.localeCompare(b));
}

/** The plan.md section: what the scanner found, accepted (with the reason) or not, and stale acceptances. */
export function renderScanMarkdown(review: ScanReview | { skipped: string }): string[] {
  if ("skipped" in review) return ["### Scanner", "", `Skipped: ${review.skipped}.`, ""];
  const open = review.findings.filter((f) => !f.accepted);
  const ok = review.findings.filter((f) => f.accepted);
  const lines = [`### Scanner: ${review.tool}`, ""];
  lines.push(
    `${review.passed} checks passed, ${review.findings.length} failed: **${open.length} not accepted**, ${ok.length} accepted on purpose (src/harness/scanner-accepted.ts).`,
    "",
  );
  if (open.length) {
    lines.push("Not accepted (fix the construct, or accept it with a reason):", "");
    for (const [check, fs] of groupByCheck(open)) lines.push(`- \`${check}\` ${fs[0].name} (${fs.length}): ${addresses(fs)}`);
    lines.push("");
  }
  if (ok.length) {
    lines.push("Accepted on purpose:", "");
    for (const [check, fs] of groupByCheck(ok)) lines.push(`- \`${check}\` ${fs[0].name} (${fs.length}): ${addresses(fs)}. Why: ${fs[0].accepted!.reason}`);
    lines.push("");
  }
  if (review.stale.length) {
    lines.push("Accepted but no longer reported (remove these entries from src/harness/scanner-accepted.ts):", "");
    for (const s of review.stale) lines.push(`- \`${s.check}\` on \`${s.resource}\``);
    lines.push("");
  }
  return lines;
}
