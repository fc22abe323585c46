/**
 * Review summary of a plan (`terraform show -json` output) for a pull request. It opens with what a
 * reviewer must not miss (replacements, deletions, in-place region migrations, tailnet policy and
 * key changes, VPN connections replaced, Terraform's warnings), then counts per action, per resource
 * type and per address, with sensitive values masked. Pure functions.
 */

export type Action = "create" | "update" | "replace" | "destroy" | "read" | "no-op" | "forget";

export interface ResourceChangeJson {
  address: string;
  /** Where a moved block moved it from (Terraform 1.1+). */
  previous_address?: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  index?: string | number;
  provider_name?: string;
  change: {
    actions: string[];
    before?: unknown;
    after?: unknown;
    after_unknown?: unknown;
    before_sensitive?: unknown;
    after_sensitive?: unknown;
    replace_paths?: unknown[][];
  };
  action_reason?: string;
}

export interface PlanJson {
  format_version?: string;
  terraform_version?: string;
  resource_changes?: ResourceChangeJson[];
  output_changes?: Record<string, { actions: string[]; after_sensitive?: unknown; before_sensitive?: unknown; after?: unknown; after_unknown?: unknown }>;
  [k: string]: unknown;
}

/** Maps Terraform's action list to one review action. */
export function classifyActions(actions: readonly string[]): Action {
  const a = actions.join(",");
  switch (a) {
    case "create":
      return "create";
    case "update":
      return "update";
    case "delete,create":
    case "create,delete":
      return "replace";
    case "delete":
      return "destroy";
    case "read":
      return "read";
    case "no-op":
      return "no-op";
    case "forget":
      return "forget";
    default:
      throw new Error(`unrecognised plan actions [${a}]`);
  }
}

/** Diagnostics from the lines of `terraform plan -json` (Terraform's machine-readable UI). */
export function diagnosticsFromJsonLines(text: string): PlanDiagnostic[] {
  const out: PlanDiagnostic[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let msg: { type?: string; diagnostic?: { severity?: string; summary?: string; detail?: string; address?: string } };
    try {
      msg = JSON.parse(line);
    } catch {
      continue;
    }
    const d = msg.diagnostic;
    if (msg.type !== "diagnostic" || !d?.summary || (d.severity !== "warning" && d.severity !== "error")) continue;
    out.push({ severity: d.severity, summary: d.summary, ...(d.detail ? { detail: d.detail } : {}), ...(d.address ? { address: d.address } : {}) });
  }
  return out;
}

export interface ActionCounts {
  create: number;
  update: number;
  replace: number;
  destroy: number;
  read: number;
  "no-op": number;
  forget: number;
}

export function emptyCounts(): ActionCounts {
  return { create: 0, update: 0, replace: 0, destroy: 0, read: 0, "no-op": 0, forget: 0 };
}

export interface PlanCounts {
  readonly total: ActionCounts;
  readonly byType: Record<string, ActionCounts>;
  /** Address lists per action (managed resources only). */
  readonly addresses: Record<Action, string[]>;
  /** Terraform's own "Plan: X to add, Y to change, Z to destroy" figures. */
  readonly terraform: { add: number; change: number; destroy: number };
}

/** Counts managed-resource actions of a plan; data-source reads are counted under `read`. */
export function countPlan(plan: PlanJson): PlanCounts {
  const total = emptyCounts();
  const byType: Record<string, ActionCounts> = {};
  const addresses: Record<Action, string[]> = {
    create: [],
    update: [],
    replace: [],
    destroy: [],
    read: [],
    "no-op": [],
    forget: [],
  };
  for (const rc of plan.resource_changes ?? []) {
    const action = classifyActions(rc.change.actions);
    total[action]++;
    (byType[rc.type] ??= emptyCounts())[action]++;
    addresses[action].push(rc.address);
  }
  return {
    total,
    byType,
    addresses,
    terraform: {
      add: total.create + total.replace,
      change: total.update,
      destroy: total.destroy + total.replace,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// value rendering with masking

/** True when a sensitivity marker tree marks anything at or below this point. */
export function anySensitive(marker: unknown): boolean {
  if (marker === true) return true;
  if (Array.isArray(marker)) return marker.some(anySensitive);
  if (marker && typeof marker === "object") return Object.values(marker).some(anySensitive);
  return false;
}

function child(marker: unknown, key: string): unknown {
  return marker && typeof marker === "object" && !Array.isArray(marker) ? (marker as Record<string, unknown>)[key] : marker === true;
}

const MAX_VALUE = 60;

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function renderValue(v: unknown, sensitive: unknown, unknown: unknown): string {
  if (anySensitive(sensitive)) return "(sensitive value)";
  if (unknown === true) return "(known after apply)";
  if (v === null || v === undefined) return anySensitive(unknown) ? "(known after apply)" : "null";
  if (anySensitive(unknown)) return "(partly known after apply)";
  let s = JSON.stringify(v);
  if (s.length > MAX_VALUE) s = `${s.slice(0, MAX_VALUE - 1)}…`;
  return "`" + s.replace(/`/g, "'") + "`";
}

/** Attributes whose values identify a created object in a review (others are left out). */
const IDENTIFYING = ["label", "name", "hostname", "region", "type", "image", "length"];

function changeDetails(rc: ResourceChangeJson, action: Action): string {
  const c = rc.change;
  const before = (c.before ?? {}) as Record<string, unknown>;
  const after = (c.after ?? {}) as Record<string, unknown>;
  if (action === "create" || action === "read") {
    const parts: string[] = [];
    for (const k of IDENTIFYING) {
      if (!(k in after) && child(c.after_unknown, k) !== true) continue;
      if (after[k] === null && child(c.after_unknown, k) !== true) continue;
      parts.push(`${k}=${renderValue(after[k], child(c.after_sensitive, k), child(c.after_unknown, k))}`);
    }
    return parts.join(", ");
  }
  if (action === "update" || action === "replace") {
    const forcing = new Set((c.replace_paths ?? []).map((p) => String(p[0])));
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const parts: string[] = [];
    for (const k of keys) {
      const unk = child(c.after_unknown, k);
      const same = JSON.stringify(before[k] ?? null) === JSON.stringify(after[k] ?? null) && !anySensitive(unk) && unk !== true;
      if (same) continue;
      // Computed attributes becoming unknown on replacement are noise in a review, unless forcing.
      if (action === "replace" && unk === true && !forcing.has(k)) continue;
      const b = renderValue(before[k], child(c.before_sensitive, k), false);
      const a = renderValue(after[k], child(c.after_sensitive, k), unk);
      parts.push(`${k}: ${b} → ${a}${forcing.has(k) ? " (forces replacement)" : ""}`);
    }
    return parts.join("; ");
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// what a reviewer must not miss

export type ReviewFlagKind = "replace" | "destroy" | "region-migration" | "tailnet-policy" | "tailnet-key" | "vpn-connection";

export interface ReviewFlag {
  readonly kind: ReviewFlagKind;
  readonly address: string;
  /** One line saying what happens, without values Terraform marks sensitive. */
  readonly text: string;
}

/** A warning (or other diagnostic) Terraform printed while planning (`terraform plan -json`). */
export interface PlanDiagnostic {
  readonly severity: "warning" | "error";
  readonly summary: string;
  readonly detail?: string;
  /** Where in the configuration, when Terraform says. */
  readonly address?: string;
}

const KIND_TITLE: Record<ReviewFlagKind, string> = {
  replace: "Replaced (destroyed and created again)",
  destroy: "Destroyed",
  "region-migration": "Moved to another region in place",
  "tailnet-policy": "Tailnet policy file changes",
  "tailnet-key": "Tailnet auth keys change",
  "vpn-connection": "AWS VPN connections or their tunnels change",
};
const KIND_ORDER = Object.keys(KIND_TITLE) as ReviewFlagKind[];

const plainValue = (v: unknown, sensitive: unknown) => (anySensitive(sensitive) ? "(sensitive value)" : JSON.stringify(v));

/** What a reviewer must not miss in a plan, in a stable order (by kind, then address). */
export function reviewFlags(plan: PlanJson): ReviewFlag[] {
  const flags: ReviewFlag[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "managed") continue;
    const action = classifyActions(rc.change.actions);
    if (action === "no-op" || action === "read") continue;
    const c = rc.change;
    const before = (c.before ?? {}) as Record<string, unknown>;
    const after = (c.after ?? {}) as Record<string, unknown>;
    const add = (kind: ReviewFlagKind, text: string) => flags.push({ kind, address: rc.address, text });
    if (action === "replace") {
      const forcing = [...new Set((c.replace_paths ?? []).map((p) => String(p[0])))].sort();
      const order = c.actions[0] === "create" ? "the new one is created first" : "destroyed first, then created";
      add("replace", `${forcing.length ? `forced by ${forcing.join(", ")}` : "replacement requested"}; ${order}`);
    }
    if (action === "destroy") add("destroy", "destroyed");
    if (rc.type === "linode_instance" && action === "update" && "region" in after && before.region !== after.region) {
      const from = plainValue(before.region, child(c.before_sensitive, "region"));
      const to = child(c.after_unknown, "region") === true ? "(known after apply)" : plainValue(after.region, child(c.after_sensitive, "region"));
      add("region-migration", `migrates from ${from} to ${to} in place: the running node is moved (downtime), keeping its label and disks`);
    }
    if (rc.type === "tailscale_acl") {
      add("tailnet-policy", action === "create"
        ? "created: writes the whole tailnet policy file (every device's access follows it)"
        : `${action}: the tailnet policy file is rewritten (every device's access follows it)`);
    }
    if (rc.type === "tailscale_tailnet_key") {
      const what: Record<string, string> = {
        create: "minted (the key is sensitive and kept in state)",
        replace: "replaced by a new key",
        destroy: "revoked",
        update: "updated",
        forget: "forgotten (left in the tailnet, dropped from state)",
      };
      add("tailnet-key", what[action] ?? action);
    }
    if (rc.type === "aws_vpn_connection") {
      if (action === "replace" || action === "destroy") {
        add("vpn-connection", `${action === "replace" ? "replaced: new tunnel outside addresses and pre-shared keys" : "destroyed: both tunnels go down"}; the routers' IPsec and BGP settings must follow`);
      } else if (action === "update") {
        const tunnels = [...new Set([...Object.keys(before), ...Object.keys(after)])]
          .filter((k) => /^tunnel[12]_/.test(k) && JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null))
          .sort();
        if (tunnels.length) add("vpn-connection", `tunnel options change in place (${tunnels.join(", ")}): AWS rebuilds those tunnel endpoints, which drops them for minutes`);
      }
    }
  }
  return flags.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.address.localeCompare(b.address));
}

/** At most this many addresses per kind of flag; the rest are counted. */
const MAX_LISTED = 10;

function renderReviewFirst(flags: readonly ReviewFlag[], warnings: readonly PlanDiagnostic[]): string[] {
  const lines = ["### Review first", ""];
  if (flags.length === 0 && warnings.length === 0) {
    lines.push("Nothing that needs special attention: no replacement, deletion, region migration, tailnet policy or key change, VPN connection change, or Terraform warning.", "");
    return lines;
  }
  for (const kind of KIND_ORDER) {
    const of = flags.filter((f) => f.kind === kind);
    if (of.length === 0) continue;
    lines.push(`- **${KIND_TITLE[kind]}: ${of.length}**`);
    for (const f of of.slice(0, MAX_LISTED)) lines.push(`  - \`${cell(f.address)}\`: ${cell(f.text)}`);
    if (of.length > MAX_LISTED) lines.push(`  - … and ${of.length - MAX_LISTED} more (see By address)`);
  }
  if (warnings.length) lines.push(`- **Terraform warnings: ${warnings.length}** (listed below)`);
  lines.push("");
  return lines;
}

const MAX_DETAIL = 600;

function renderWarnings(warnings: readonly PlanDiagnostic[]): string[] {
  if (warnings.length === 0) return [];
  const lines = ["### Terraform warnings", ""];
  for (const w of warnings) {
    const where = w.address ? ` (\`${w.address}\`)` : "";
    lines.push(`- **${w.summary.replace(/\r?\n/g, " ")}**${where}`);
    if (w.detail) {
      const d = w.detail.length > MAX_DETAIL ? `${w.detail.slice(0, MAX_DETAIL - 1)}…` : w.detail;
      lines.push(...d.split(/\r?\n/).filter((l) => l.trim() !== "").map((l) => `  > ${l}`));
    }
  }
  lines.push("");
  return lines;
}

export interface RenderPlanProps {
  /** Heading of the summary. */
  readonly title: string;
  /** Relative path of the plan JSON the summary was made from (shown as a reference). */
  readonly planJson?: string;
  /** Diagnostics Terraform printed while planning; the warnings among them are carried. */
  readonly diagnostics?: readonly PlanDiagnostic[];
  /** Which engine planned, "Terraform" or "OpenTofu" (both write `terraform_version`). @default "Terraform" */
  readonly engine?: string;
}

const ORDER: Action[] = ["create", "update", "replace", "destroy", "read", "forget"];

/** Markdown review summary of a plan. Deterministic; no absolute paths; sensitive values masked. */
export function renderPlanMarkdown(plan: PlanJson, props: RenderPlanProps): string {
  if (props.planJson && (props.planJson.startsWith("/") || /^[A-Za-z]:[\\/]/.test(props.planJson))) {
    throw new Error(`planJson must be a relative path, got ${props.planJson}`);
  }
  const counts = countPlan(plan);
  const lines: string[] = [];
  lines.push(`## ${props.title}`, "");
  const src = [`${props.engine ?? "Terraform"} ${plan.terraform_version ?? "?"}`, "offline provider server (recorded schemas, no credentials)"];
  if (props.planJson) src.push(`from \`${props.planJson}\``);
  lines.push(src.join(" · "), "");
  const warnings = (props.diagnostics ?? []).filter((d) => d.severity === "warning");
  lines.push(...renderReviewFirst(reviewFlags(plan), warnings));
  const t = counts.terraform;
  lines.push(`**Plan: ${t.add} to add, ${t.change} to change, ${t.destroy} to destroy.** (Terraform's count: a replacement is one add and one destroy.)`, "");
  lines.push("| create | update in place | replace | destroy | unchanged | data reads |", "|---:|---:|---:|---:|---:|---:|");
  const c = counts.total;
  lines.push(`| ${c.create} | ${c.update} | ${c.replace} | ${c.destroy} | ${c["no-op"]} | ${c.read} |`, "");

  const types = Object.keys(counts.byType).sort();
  if (types.length > 0) {
    lines.push("### By resource type", "", "| type | create | update | replace | destroy | unchanged |", "|---|---:|---:|---:|---:|---:|");
    for (const ty of types) {
      const b = counts.byType[ty];
      lines.push(`| \`${ty}\` | ${b.create} | ${b.update} | ${b.replace} | ${b.destroy} | ${b["no-op"]} |`);
    }
    lines.push("");
  }

  const changed = (plan.resource_changes ?? []).filter((rc) => classifyActions(rc.change.actions) !== "no-op");
  if (changed.length > 0) {
    lines.push("### By address", "", "| address | action | details |", "|---|---|---|");
    const rank = (rc: ResourceChangeJson) => ORDER.indexOf(classifyActions(rc.change.actions));
    const sorted = [...changed].sort((a, b) => rank(a) - rank(b));
    for (const rc of sorted) {
      const action = classifyActions(rc.change.actions);
      lines.push(`| \`${cell(rc.address)}\` | ${action} | ${cell(changeDetails(rc, action))} |`);
    }
    lines.push("");
  } else {
    lines.push("No changes to managed resources.", "");
  }

  const outputs = Object.entries(plan.output_changes ?? {}).filter(([, o]) => o.actions.join(",") !== "no-op");
  if (outputs.length > 0) {
    lines.push("### Outputs", "", "| output | action | value |", "|---|---|---|");
    for (const [name, o] of outputs.sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`| \`${cell(name)}\` | ${o.actions.join(",")} | ${cell(renderValue(o.after, o.after_sensitive, o.after_unknown))} |`);
    }
    lines.push("");
  }
  lines.push(...renderWarnings(warnings));
  return lines.join("\n");
}
