/**
 * Turns a run into the article's table, plus what the article could not show: the path each pair
 * takes, the fibre-limit RTT between the two regions, and how close the measurement comes to it.
 * Pure and deterministic: the same run always renders the same bytes.
 */
import { findRegion } from "../catalog/regions";
import { fiberLimitBetween, fiberRttMs, haversineKm } from "../catalog/geo";
import { findDerpCity } from "../catalog/derp";
import { MeshNode, PathInfo, ProbeRun, ProbeSettings, RUN_SCHEMA } from "./types";

export interface ReportOptions {
  /** Warn when the measured RTT exceeds this multiple of the fibre limit. */
  readonly warnFactor?: number;
  /**
   * ...and exceeds it by at least this many ms. Same-city pairs have a limit near 0 ms, so any
   * real RTT is "many times" the limit; an absolute floor keeps them out of the warnings.
   */
  readonly warnMinExcessMs?: number;
}

export const REPORT_DEFAULTS = {
  // Good long-haul paths run at 1.3-2x the great-circle fibre RTT (cables detour, routers queue);
  // beyond 3x the traffic is most likely taking a detour, e.g. through a relay on another continent.
  warnFactor: 3,
  warnMinExcessMs: 10,
};

export interface ReportRow {
  readonly from: string;
  readonly fromLabel: string;
  readonly fromRegion: string;
  readonly to: string;
  readonly label: string;
  readonly region: string;
  /** Real city of the region, from the catalog. */
  readonly city: string | null;
  /** Only for the recorded article run: what the article printed. */
  readonly articleCity: string | null;
  readonly tailnetIp: string | null;
  readonly pingMs: number | null;
  readonly pingMinMs: number | null;
  readonly pingMaxMs: number | null;
  readonly lossPercent: number | null;
  readonly tailscalePingMs: number | null;
  readonly bandwidthMbps: number | null;
  readonly senderMbps: number | null;
  readonly retransmits: number | null;
  readonly iperfMeanRttMs: number | null;
  readonly iperfMaxRttMs: number | null;
  readonly path: PathInfo;
  readonly pathText: string;
  readonly distanceKm: number | null;
  readonly fiberLimitMs: number | null;
  /** fibre limit / measured RTT: 1.0 would be light in a straight fibre. */
  readonly efficiency: number | null;
  /** Relayed pairs: where the relay is (peer relay node label, or DERP city). */
  readonly relayedVia: string | null;
  /**
   * Relayed pairs: the fibre limit of the path taken, source → relay → destination and back
   * (a DERP region at its city; a peer relay at its node's region). Null when the relay's place
   * is unknown.
   */
  readonly relayedLimitMs: number | null;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

export interface Report {
  readonly title: string;
  readonly mode: ProbeRun["mode"];
  readonly source: MeshNode | null;
  readonly transport: ProbeRun["transport"];
  readonly provenance: string | null;
  readonly settings: ProbeSettings | null;
  readonly nodes: readonly MeshNode[];
  readonly rows: readonly ReportRow[];
  readonly warnings: readonly string[];
  readonly options: Required<ReportOptions>;
}

export function pathText(p: PathInfo, nodeLabel: (key: string) => string = (k) => k): string {
  switch (p.kind) {
    case "direct":
      return p.endpoint ? `direct ${p.endpoint}` : "direct";
    case "relay":
      return `relay DERP(${p.relay ?? "?"})`;
    case "peer-relay":
      if (p.relayNode) return `peer relay ${nodeLabel(p.relayNode)}${p.relay ? ` (${p.relay})` : ""}`;
      return `peer relay ${p.relay ?? "?"}`;
    case "local":
      return "local";
    default:
      return p.note ? `unknown (${p.note})` : "unknown";
  }
}

const cityOf = (slug: string): string | null => findRegion(slug)?.city ?? null;

function resolveReportOptions(o: ReportOptions): Required<ReportOptions> {
  const r = { ...REPORT_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
  if (!Number.isFinite(r.warnFactor) || r.warnFactor < 1) throw new Error(`warnFactor must be a number >= 1, got ${r.warnFactor}`);
  if (!Number.isFinite(r.warnMinExcessMs) || r.warnMinExcessMs < 0) {
    throw new Error(`warnMinExcessMs must be a number >= 0, got ${r.warnMinExcessMs}`);
  }
  return r;
}

/** Checks a parsed JSON document is a run this code can render (for `--replay`). */
export function assertRun(doc: unknown): ProbeRun {
  const d = doc as Partial<ProbeRun> | null;
  if (!d || typeof d !== "object") throw new Error("replay: not a JSON object");
  if (d.schema !== RUN_SCHEMA) throw new Error(`replay: schema must be "${RUN_SCHEMA}", got ${JSON.stringify(d.schema)}`);
  if (d.mode !== "from" && d.mode !== "all-pairs") throw new Error(`replay: mode must be "from" or "all-pairs"`);
  if (!Array.isArray(d.nodes) || !Array.isArray(d.pairs)) throw new Error("replay: nodes and pairs must be arrays");
  return d as ProbeRun;
}

/** Ping ascending (best first); failed rows last; ties by bandwidth, then label. */
function compareRows(a: ReportRow, b: ReportRow): number {
  if (a.pingMs !== b.pingMs) {
    if (a.pingMs === null) return 1;
    if (b.pingMs === null) return -1;
    return a.pingMs - b.pingMs;
  }
  const bwA = a.bandwidthMbps ?? -1;
  const bwB = b.bandwidthMbps ?? -1;
  if (bwA !== bwB) return bwB - bwA;
  return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
}

export function buildReport(run: ProbeRun, options: ReportOptions = {}): Report {
  const opts = resolveReportOptions(options);
  const byKey = new Map(run.nodes.map((n) => [n.key, n]));
  const node = (key: string): MeshNode => byKey.get(key) ?? { key, label: key, region: "" };
  const warnings: string[] = [];
  const label = (key: string): string => node(key).label;
  const rows: ReportRow[] = run.pairs.map((p) => {
    const src = node(p.from);
    const dst = node(p.to);
    const relayed = relayedLimit(p.path, src, dst, node);
    const limit = src.region && dst.region ? fiberLimitBetween(src.region, dst.region) : null;
    const pingMs = p.ping?.avgMs ?? null;
    const efficiency =
      limit && pingMs !== null && pingMs > 0 && limit.rttMs > 0 ? limit.rttMs / pingMs : null;
    const rowWarnings: string[] = [];
    const pair = `${src.label} -> ${dst.label}`;
    if (p.path.kind === "relay" || p.path.kind === "peer-relay") {
      const detour =
        relayed.limitMs !== null && limit
          ? `; fibre limit via ${relayed.via} ${relayed.limitMs.toFixed(1)} ms against ${limit.rttMs.toFixed(1)} ms direct`
          : "";
      rowWarnings.push(
        `${pair}: relayed (${pathText(p.path, label)}), not direct; UDP between the nodes is blocked or NAT traversal failed${detour}`,
      );
    }
    if (limit && pingMs !== null && pingMs > opts.warnFactor * limit.rttMs && pingMs - limit.rttMs >= opts.warnMinExcessMs) {
      rowWarnings.push(
        `${pair}: RTT ${pingMs.toFixed(1)} ms is ${(pingMs / limit.rttMs).toFixed(1)}x the fibre limit ` +
          `${limit.rttMs.toFixed(1)} ms (threshold ${opts.warnFactor}x)`,
      );
    }
    if (limit && limit.rttMs > 0 && pingMs !== null && pingMs < limit.rttMs) {
      // Faster than light in fibre: the nodes are not where their regions say (or this is a
      // rehearsal on one machine). The numbers are reported, but not as a path between regions.
      rowWarnings.push(
        `${pair}: RTT ${pingMs.toFixed(3)} ms is below the physical limit ${limit.rttMs.toFixed(1)} ms for ` +
          `${src.region} -> ${dst.region}; the nodes are not in those regions (local rehearsal?)`,
      );
    }
    if (!limit && src.region && dst.region) {
      rowWarnings.push(`${pair}: region ${findRegion(src.region) ? dst.region : src.region} not in the catalog; no fibre limit`);
    }
    warnings.push(...rowWarnings);
    const mbps = (bps: number | null | undefined): number | null => (bps === null || bps === undefined ? null : bps / 1e6);
    return {
      from: src.key,
      fromLabel: src.label,
      fromRegion: src.region,
      to: dst.key,
      label: dst.label,
      region: dst.region,
      city: cityOf(dst.region),
      articleCity: dst.articleCity ?? null,
      tailnetIp: p.tailnetIp ?? dst.tailnetIp ?? null,
      pingMs,
      pingMinMs: p.ping?.minMs ?? null,
      pingMaxMs: p.ping?.maxMs ?? null,
      lossPercent: p.ping?.lossPercent ?? null,
      tailscalePingMs: p.tailscalePingMs,
      bandwidthMbps: mbps(p.iperf?.receiverBps),
      senderMbps: mbps(p.iperf?.senderBps),
      retransmits: p.iperf?.retransmits ?? null,
      iperfMeanRttMs: p.iperf?.meanRttMs ?? null,
      iperfMaxRttMs: p.iperf?.maxRttMs ?? null,
      path: p.path,
      pathText: pathText(p.path, label),
      distanceKm: limit ? limit.distanceKm : null,
      fiberLimitMs: limit ? limit.rttMs : null,
      efficiency,
      relayedVia: relayed.via,
      relayedLimitMs: relayed.limitMs,
      errors: [...p.errors],
      warnings: rowWarnings,
    };
  });
  const failed = rows.filter((r) => r.errors.length > 0).length;
  if (failed) warnings.push(`${failed} of ${rows.length} pairs had a failed probe (see the Error column)`);

  const fromOrder = new Map(run.nodes.map((n, i) => [n.key, i]));
  rows.sort((a, b) => (fromOrder.get(a.from) ?? 0) - (fromOrder.get(b.from) ?? 0) || compareRows(a, b));
  const source = run.mode === "from" && run.source ? node(run.source) : null;
  const where = source ? [source.label !== source.region ? source.region : null, cityOf(source.region)].filter(Boolean) : [];
  const title = source
    ? `Tailnet probe from ${source.label}${where.length ? ` (${where.join(", ")})` : ""}`
    : `Tailnet probe, all pairs (${run.nodes.length} nodes)`;
  return {
    title,
    mode: run.mode,
    source,
    transport: run.transport,
    provenance: run.provenance ?? null,
    settings: run.settings,
    nodes: run.nodes,
    rows,
    warnings,
    options: opts,
  };
}

/**
 * The fibre limit of the relayed path actually taken: source → relay → destination, there and back.
 * A peer relay sits in its node's region; a DERP region at its city (Tailscale's public list).
 */
export function relayedLimit(
  path: PathInfo,
  src: MeshNode,
  dst: MeshNode,
  node: (key: string) => MeshNode,
): { via: string | null; limitMs: number | null } {
  const a = findRegion(src.region);
  const b = findRegion(dst.region);
  if (path.kind === "peer-relay") {
    if (!path.relayNode) return { via: null, limitMs: null };
    const r = node(path.relayNode);
    const legA = fiberLimitBetween(src.region, r.region);
    const legB = fiberLimitBetween(r.region, dst.region);
    return { via: r.label, limitMs: legA && legB ? legA.rttMs + legB.rttMs : null };
  }
  if (path.kind === "relay") {
    const city = path.relay ? findDerpCity(path.relay) : undefined;
    if (!city) return { via: path.relay ? `DERP(${path.relay})` : null, limitMs: null };
    const via = `DERP(${city.code}) ${city.city}`;
    if (!a || !b) return { via, limitMs: null };
    return { via, limitMs: fiberRttMs(haversineKm(a, city) + haversineKm(city, b)) };
  }
  return { via: null, limitMs: null };
}

// ---- number formatting (fixed, so output is byte-stable) ----

export const DASH = "—";

export function fmtMs(v: number | null): string {
  return v === null ? DASH : v.toFixed(3);
}
export function fmtMbps(v: number | null): string {
  if (v === null) return DASH;
  if (v >= 10) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1);
  return v.toFixed(2);
}
export function fmtLimit(v: number | null): string {
  return v === null ? DASH : v.toFixed(1);
}
export function fmtPct(v: number | null): string {
  return v === null ? DASH : `${Math.round(v * 100)}%`;
}
function fmtInt(v: number | null): string {
  return v === null ? DASH : String(Math.round(v));
}

const mdCell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");

export function renderMarkdown(report: Report): string {
  const hasArticle = report.rows.some((r) => r.articleCity !== null);
  const allPairs = report.mode === "all-pairs";
  // Only runs with relayed pairs get the column, so direct-only tables keep their shape.
  const anyRelayed = report.rows.some((r) => r.path.kind === "relay" || r.path.kind === "peer-relay");
  const head = [
    ...(allPairs ? ["From"] : []),
    "Label",
    "City",
    ...(hasArticle ? ["Article's label"] : []),
    "Tailnet IP",
    "Ping (ms)",
    "Bandwidth (Mbit/s)",
    "Retr",
    "Path",
    "Fiber limit (ms)",
    ...(anyRelayed ? ["Limit via relay (ms)"] : []),
    "Efficiency",
    "Error",
  ];
  const lines: string[] = [`### ${report.title}`, ""];
  if (report.provenance) lines.push(report.provenance, "");
  lines.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
  for (const r of report.rows) {
    const cells = [
      ...(allPairs ? [r.fromLabel] : []),
      r.label,
      r.city ?? DASH,
      ...(hasArticle ? [r.articleCity ?? DASH] : []),
      r.tailnetIp ?? DASH,
      fmtMs(r.pingMs),
      fmtMbps(r.bandwidthMbps),
      fmtInt(r.retransmits),
      r.pathText,
      fmtLimit(r.fiberLimitMs),
      ...(anyRelayed ? [fmtLimit(r.relayedLimitMs)] : []),
      fmtPct(r.efficiency),
      r.errors.length ? r.errors.join("; ") : "",
    ];
    lines.push(`| ${cells.map(mdCell).join(" | ")} |`);
  }
  lines.push(
    "",
    `Sorted best first by ICMP ping (average). Bandwidth: iperf3 receiver rate. Fiber limit: great-circle ` +
      `distance between the regions, there and back, at 2/3 c (~199,862 km/s); efficiency = limit / measured.` +
      (anyRelayed ? " Limit via relay: the same through the relay the pair took (source → relay → destination)." : ""),
  );
  if (report.warnings.length) {
    lines.push("", "**Warnings**", "", ...report.warnings.map((w) => `- ${mdCell(w)}`));
  }
  return lines.join("\n") + "\n";
}

const CSV_COLUMNS = [
  "from", "from_label", "from_region", "to", "label", "region", "city", "article_city", "tailnet_ip",
  "ping_ms", "ping_min_ms", "ping_max_ms", "loss_percent", "tailscale_ping_ms", "bandwidth_mbps",
  "sender_mbps", "retransmits", "iperf_mean_rtt_ms", "iperf_max_rtt_ms", "path", "path_endpoint",
  "path_relay", "distance_km", "fiber_limit_ms", "efficiency", "errors", "warnings", "relay_node",
  "relayed_via", "relayed_fiber_limit_ms",
] as const;

function csvField(v: string | number | null): string {
  if (v === null) return "";
  const s = typeof v === "number" ? String(Number(v.toFixed(6))) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(report: Report): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const r of report.rows) {
    const values: Array<string | number | null> = [
      r.from, r.fromLabel, r.fromRegion, r.to, r.label, r.region, r.city, r.articleCity, r.tailnetIp,
      r.pingMs, r.pingMinMs, r.pingMaxMs, r.lossPercent, r.tailscalePingMs, r.bandwidthMbps,
      r.senderMbps, r.retransmits, r.iperfMeanRttMs, r.iperfMaxRttMs, r.path.kind, r.path.endpoint ?? null,
      r.path.relay ?? null, r.distanceKm, r.fiberLimitMs, r.efficiency,
      r.errors.length ? r.errors.join("; ") : null, r.warnings.length ? r.warnings.join("; ") : null,
      r.path.relayNode ?? null, r.relayedVia, r.relayedLimitMs,
    ];
    lines.push(values.map(csvField).join(","));
  }
  return lines.join("\n") + "\n";
}

/** The run (replayable) plus the derived rows and warnings. */
export function renderJson(run: ProbeRun, report: Report): string {
  return (
    JSON.stringify(
      {
        ...run,
        report: { title: report.title, options: report.options, rows: report.rows, warnings: report.warnings },
      },
      null,
      2,
    ) + "\n"
  );
}
