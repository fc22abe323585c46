/**
 * Hand-written SVG charts of a report: a bar chart for one source (RTT with the fibre-limit mark,
 * bandwidth on a log scale) and a heatmap for all pairs. Deterministic: coordinates are rounded to
 * 0.1 px, no ids or dates that vary, so a committed chart can be compared byte for byte.
 */
import { DASH, fmtMbps, fmtMs, fmtPct, Report, ReportRow } from "./report";
import { PathKind } from "./types";

const FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";
const PATH_COLORS: Record<PathKind, string> = {
  direct: "#2b6cb0",
  relay: "#dd6b20",
  "peer-relay": "#b7791f",
  local: "#38a169",
  unknown: "#718096",
};
const PATH_NAMES: Record<PathKind, string> = {
  direct: "RTT, direct path",
  relay: "RTT, relayed (DERP)",
  "peer-relay": "RTT, peer relay",
  local: "RTT, same node",
  unknown: "RTT, path unknown",
};
const BW_COLOR = "#2f855a";
/** Heatmap frame of a pair relayed through a peer relay (DERP's is dashed orange). */
const PEER_RELAY_FRAME = "#6b46c1";
/** Mark of the fibre limit through the relay a relayed pair took. */
const RELAYED_LIMIT_COLOR = "#9b2c2c";
const LIMIT_COLOR = "#1a202c";
const ERROR_COLOR = "#c53030";

export function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
const f = (n: number): string => {
  const r = Math.round(n * 10) / 10;
  return Object.is(r, -0) ? "0" : String(r);
};

function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${f(x)}" y="${f(y)}"${attrs ? " " + attrs : ""}>${xmlEscape(s)}</text>`;
}

/** Smallest "round" number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k) >= v: axis ends and steps. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v * (1 - 1e-12)) return Number((m * p).toPrecision(12));
  return 10 * p;
}

/** Short path words for chart labels (the tables carry the endpoint). */
function shortPath(r: ReportRow): string {
  switch (r.path.kind) {
    case "relay":
      return `relay DERP(${r.path.relay ?? "?"})`;
    case "peer-relay":
      return r.relayedVia ? `peer relay ${r.relayedVia}` : "peer relay";
    case "unknown":
      return "path unknown";
    default:
      return r.path.kind;
  }
}

function settingsLine(r: Report): string {
  const s = r.settings;
  const parts: string[] = [];
  if (s) {
    parts.push(`ping -c ${s.pingCount}`, `iperf3 -t ${s.iperfDurationS} -O ${s.iperfOmitS} -P ${s.iperfParallel}${s.iperfReverse ? " -R" : ""}`);
  }
  parts.push(`transport: ${r.transport}`);
  return parts.join(" · ");
}

function legendItems(items: Array<{ kind: "rect" | "line" | "dash"; color: string; label: string }>, x: number, y: number): string[] {
  const out: string[] = [];
  let cx = x;
  for (const it of items) {
    if (it.kind === "rect") out.push(`<rect x="${f(cx)}" y="${f(y - 10)}" width="14" height="10" fill="${it.color}"/>`);
    else if (it.kind === "line") out.push(`<line x1="${f(cx + 7)}" y1="${f(y - 13)}" x2="${f(cx + 7)}" y2="${f(y + 2)}" stroke="${it.color}" stroke-width="2.5"/>`);
    else out.push(`<rect x="${f(cx)}" y="${f(y - 11)}" width="14" height="12" fill="none" stroke="${it.color}" stroke-width="2" stroke-dasharray="3 2"/>`);
    out.push(text(cx + 20, y, it.label, `font-size="12" fill="#2d3748"`));
    cx += 20 + it.label.length * 6.6 + 18;
  }
  return out;
}

/** Bar chart for a `from` report: one row per destination, best first. */
export function renderBarChartSvg(report: Report): string {
  const rows = report.rows;
  const W = 1000;
  const L = 280;
  const P1 = 410;
  const GAP = 60;
  const X1 = L + P1 + GAP;
  const P2 = W - X1 - 70;
  const TOP = 112;
  const RH = 32;
  const H = TOP + rows.length * RH + 56;

  const rttMax = niceCeil(
    Math.max(1e-9, ...rows.flatMap((r) => [r.pingMs ?? 0, r.fiberLimitMs ?? 0, r.relayedLimitMs ?? 0])) * 1.12,
  );
  const rttStep = niceCeil(rttMax / 6);
  const xr = (ms: number): number => L + (Math.min(ms, rttMax) / rttMax) * P1;

  const bws = rows.map((r) => r.bandwidthMbps).filter((v): v is number => v !== null && v > 0);
  const lo = bws.length ? 10 ** Math.floor(Math.log10(Math.min(...bws))) : 1;
  let hi = bws.length ? 10 ** Math.ceil(Math.log10(Math.max(...bws))) : 10;
  if (hi <= lo) hi = lo * 10;
  const xb = (v: number): number => X1 + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * P2;

  const out: string[] = chartHeader(report, W, H);
  const kinds = [...new Set(rows.map((r) => r.path.kind))].sort();
  out.push(
    ...legendItems(
      [
        ...kinds.map((k) => ({ kind: "rect" as const, color: PATH_COLORS[k], label: PATH_NAMES[k] })),
        { kind: "line", color: LIMIT_COLOR, label: "fibre limit (2/3 c, great circle, round trip)" },
        ...(rows.some((r) => r.relayedLimitMs !== null)
          ? [{ kind: "dash" as const, color: RELAYED_LIMIT_COLOR, label: "fibre limit through the relay taken" }]
          : []),
        { kind: "rect", color: BW_COLOR, label: "bandwidth (iperf3 receiver)" },
      ],
      20,
      72,
    ),
  );
  // Panel headings and axes.
  out.push(text(L, TOP - 10, "Round-trip time, ms (label: measured · fibre limit / measured)", `font-size="12" font-weight="bold" fill="#2d3748"`));
  out.push(text(X1, TOP - 10, "Bandwidth, Mbit/s (log scale)", `font-size="12" font-weight="bold" fill="#2d3748"`));
  const plotBottom = TOP + rows.length * RH;
  for (let t = 0; t <= rttMax + 1e-9; t += rttStep) {
    const x = xr(t);
    out.push(`<line x1="${f(x)}" y1="${TOP}" x2="${f(x)}" y2="${f(plotBottom)}" stroke="#e2e8f0"/>`);
    out.push(text(x, plotBottom + 16, String(Number(t.toPrecision(6))), `font-size="11" fill="#4a5568" text-anchor="middle"`));
  }
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const x = xb(d);
    out.push(`<line x1="${f(x)}" y1="${TOP}" x2="${f(x)}" y2="${f(plotBottom)}" stroke="#e2e8f0"/>`);
    out.push(text(x, plotBottom + 16, d >= 1 ? String(Math.round(d)) : String(Number(d.toPrecision(3))), `font-size="11" fill="#4a5568" text-anchor="middle"`));
  }
  out.push(`<line x1="${L}" y1="${f(plotBottom)}" x2="${L + P1}" y2="${f(plotBottom)}" stroke="#4a5568"/>`);
  out.push(`<line x1="${X1}" y1="${f(plotBottom)}" x2="${f(X1 + P2)}" y2="${f(plotBottom)}" stroke="#4a5568"/>`);
  out.push(text(L + P1 / 2, plotBottom + 36, "round-trip time (ms)", `font-size="12" fill="#2d3748" text-anchor="middle"`));
  out.push(text(X1 + P2 / 2, plotBottom + 36, "Mbit/s", `font-size="12" fill="#2d3748" text-anchor="middle"`));

  rows.forEach((r, i) => {
    const y = TOP + i * RH;
    const mid = y + RH / 2;
    if (i % 2 === 1) out.push(`<rect x="10" y="${f(y)}" width="${W - 20}" height="${RH}" fill="#f7fafc"/>`);
    out.push(text(20, mid - 2, r.label, `font-size="13" font-weight="bold" fill="#1a202c"`));
    const city = r.city ?? r.region;
    const norm = (x: string): string => x.toLowerCase().replace(/[^a-z]/g, "");
    const differs = r.articleCity !== null && norm(r.articleCity) !== norm(city);
    const where = differs ? `${city} (article: ${r.articleCity})` : city;
    const sub = `${where} · ${shortPath(r)}`;
    out.push(text(20, mid + 12, sub.length > 46 ? sub.slice(0, 45) + "…" : sub, `font-size="10.5" fill="#4a5568"`));
    if (r.pingMs !== null) {
      const w = Math.max(1, xr(r.pingMs) - L);
      out.push(`<rect x="${L}" y="${f(mid - 8)}" width="${f(w)}" height="16" fill="${PATH_COLORS[r.path.kind]}"/>`);
      const label = `${fmtMs(r.pingMs)} ms${r.efficiency !== null ? ` · ${fmtPct(r.efficiency)}` : ""}`;
      out.push(text(L + w + 6, mid + 4, label, `font-size="11" fill="#1a202c"`));
    } else {
      out.push(text(L + 4, mid + 4, `${DASH} no RTT${r.errors.length ? ": " + r.errors[0].slice(0, 48) : ""}`, `font-size="11" fill="${ERROR_COLOR}"`));
    }
    if (r.fiberLimitMs !== null && r.fiberLimitMs > 0) {
      const x = xr(r.fiberLimitMs);
      out.push(`<line x1="${f(x)}" y1="${f(mid - 12)}" x2="${f(x)}" y2="${f(mid + 12)}" stroke="${LIMIT_COLOR}" stroke-width="2.5"/>`);
    }
    if (r.relayedLimitMs !== null && r.relayedLimitMs > 0) {
      const x = xr(r.relayedLimitMs);
      out.push(`<line x1="${f(x)}" y1="${f(mid - 12)}" x2="${f(x)}" y2="${f(mid + 12)}" stroke="${RELAYED_LIMIT_COLOR}" stroke-width="2.5" stroke-dasharray="3 2"/>`);
    }
    if (r.bandwidthMbps !== null && r.bandwidthMbps > 0) {
      const w = Math.max(1, xb(r.bandwidthMbps) - X1);
      out.push(`<rect x="${X1}" y="${f(mid - 8)}" width="${f(w)}" height="16" fill="${BW_COLOR}"/>`);
      out.push(text(X1 + w + 6, mid + 4, fmtMbps(r.bandwidthMbps), `font-size="11" fill="#1a202c"`));
    } else {
      out.push(text(X1 + 4, mid + 4, `${DASH} no bandwidth`, `font-size="11" fill="${ERROR_COLOR}"`));
    }
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Green → yellow → red ramp, t in [0, 1]. */
export function rampColor(t: number): string {
  const stops: Array<[number, number, number]> = [
    [0x1a, 0x98, 0x50],
    [0xfe, 0xe0, 0x8b],
    [0xd7, 0x30, 0x27],
  ];
  const c = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(c));
  const u = c - i;
  const mix = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * u));
  return `#${mix.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

function darkText(hex: string): boolean {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 140;
}

/** Heatmap for an all-pairs report: rows = source, columns = destination, colour = RTT. */
export function renderHeatmapSvg(report: Report): string {
  const nodes = report.nodes;
  const n = nodes.length;
  const CW = 104;
  const CH = 48;
  const L = 210;
  const TOP = 230;
  const W = Math.max(720, L + n * CW + 40);
  const H = TOP + n * CH + 110;
  const cell = new Map<string, ReportRow>(report.rows.map((r) => [`${r.from}\u0000${r.to}`, r]));
  const pings = report.rows.map((r) => r.pingMs).filter((v): v is number => v !== null);
  const max = niceCeil(Math.max(1e-9, ...pings));

  const out: string[] = chartHeader(report, W, H);
  out.push(text(20, 66, "Cell: ICMP RTT (ms) / iperf3 bandwidth (Mbit/s); colour by RTT. Rows: source, columns: destination.", `font-size="12" fill="#4a5568"`));
  out.push(
    ...legendItems(
      [
        { kind: "dash", color: PATH_COLORS.relay, label: "relayed through DERP" },
        ...(report.rows.some((r) => r.path.kind === "peer-relay")
          ? [{ kind: "dash" as const, color: PEER_RELAY_FRAME, label: "relayed through a peer relay (dotted)" }]
          : []),
        { kind: "rect", color: "#edf2f7", label: "not measured / failed (—)" },
      ],
      20,
      90,
    ),
  );
  out.push(text(L + (n * CW) / 2, 122, "to (destination)", `font-size="13" font-weight="bold" fill="#2d3748" text-anchor="middle"`));
  out.push(text(20, TOP - 8, "from (source)", `font-size="13" font-weight="bold" fill="#2d3748"`));
  nodes.forEach((node, j) => {
    const x = L + j * CW + CW / 2;
    out.push(text(x, TOP - 10, node.label, `font-size="11" fill="#1a202c" transform="rotate(-35 ${f(x)} ${f(TOP - 10)})"`));
  });
  nodes.forEach((src, i) => {
    const y = TOP + i * CH;
    out.push(text(20, y + CH / 2 + 4, src.label, `font-size="12" font-weight="bold" fill="#1a202c"`));
    nodes.forEach((dst, j) => {
      const x = L + j * CW;
      const r = cell.get(`${src.key}\u0000${dst.key}`);
      const fill = r && r.pingMs !== null ? rampColor(r.pingMs / max) : "#edf2f7";
      out.push(`<rect x="${f(x)}" y="${f(y)}" width="${CW}" height="${CH}" fill="${fill}" stroke="#ffffff" stroke-width="2"/>`);
      if (r && r.path.kind === "relay") {
        out.push(`<rect x="${f(x + 3)}" y="${f(y + 3)}" width="${CW - 6}" height="${CH - 6}" fill="none" stroke="${PATH_COLORS.relay}" stroke-width="2.5" stroke-dasharray="5 3"/>`);
      } else if (r && r.path.kind === "peer-relay") {
        out.push(`<rect x="${f(x + 3)}" y="${f(y + 3)}" width="${CW - 6}" height="${CH - 6}" fill="none" stroke="${PEER_RELAY_FRAME}" stroke-width="2.5" stroke-dasharray="1.5 2.5"/>`);
      }
      const ink = darkText(fill) ? "#1a202c" : "#ffffff";
      if (!r) {
        out.push(text(x + CW / 2, y + CH / 2 + 4, DASH, `font-size="12" fill="#a0aec0" text-anchor="middle"`));
        return;
      }
      out.push(text(x + CW / 2, y + 20, r.pingMs === null ? DASH : `${fmtMs(r.pingMs)} ms`, `font-size="11.5" fill="${ink}" text-anchor="middle"`));
      out.push(text(x + CW / 2, y + 36, r.bandwidthMbps === null ? DASH : `${fmtMbps(r.bandwidthMbps)} Mbit/s`, `font-size="10.5" fill="${ink}" text-anchor="middle"`));
    });
  });
  // Colour scale.
  const gy = TOP + n * CH + 40;
  const gw = Math.min(400, n * CW);
  out.push(`<defs><linearGradient id="rtt-scale" x1="0" x2="1" y1="0" y2="0">`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) out.push(`<stop offset="${t}" stop-color="${rampColor(t)}"/>`);
  out.push(`</linearGradient></defs>`);
  out.push(`<rect x="${L}" y="${f(gy)}" width="${f(gw)}" height="14" fill="url(#rtt-scale)" stroke="#4a5568" stroke-width="0.5"/>`);
  for (const t of [0, 0.5, 1]) {
    out.push(text(L + t * gw, gy + 30, String(Number((t * max).toPrecision(6))), `font-size="11" fill="#4a5568" text-anchor="middle"`));
  }
  out.push(text(L + gw + 14, gy + 12, "ICMP RTT (ms)", `font-size="12" fill="#2d3748"`));
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** The chart that fits the report: a bar chart for one source, a heatmap for all pairs. */
export function renderSvg(report: Report): string {
  return report.mode === "all-pairs" ? renderHeatmapSvg(report) : renderBarChartSvg(report);
}

/** Opening tag, title, white background, heading and provenance line shared by both charts. */
function chartHeader(report: Report, W: number, H: number): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${FONT}>`,
    `<title>${xmlEscape(report.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    text(20, 28, report.title, `font-size="18" font-weight="bold" fill="#1a202c"`),
    text(20, 48, report.provenance ?? settingsLine(report), `font-size="12" fill="#4a5568"`),
  ];
}
