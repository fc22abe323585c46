import { findRegion } from "../src/catalog/regions";
import { FIBER_SPEED_KM_S, fiberLimitBetween, fiberRttMs, haversineKm } from "../src/catalog/geo";
import { buildReport, renderCsv, renderJson, renderMarkdown } from "../src/probe/report";
import { niceCeil, rampColor, renderBarChartSvg, renderHeatmapSvg, renderSvg } from "../src/probe/svg";
import { IperfStats, PairMeasurement, PingStats, ProbeRun, RUN_SCHEMA } from "../src/probe/types";

describe("fibre limit", () => {
  it("uses 2/3 c and the haversine great circle", () => {
    expect(FIBER_SPEED_KM_S).toBeCloseTo(199_861.64, 2);
    // One degree of longitude on the equator: 2*pi*6371/360 km.
    expect(haversineKm({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 1 })).toBeCloseTo((2 * Math.PI * 6371) / 360, 6);
    // Antipodes: half the circumference.
    expect(haversineKm({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 180 })).toBeCloseTo(Math.PI * 6371, 6);
    expect(fiberRttMs(199_861.64)).toBeCloseTo(2000, 3);
    expect(() => fiberRttMs(-1)).toThrow(/distanceKm/);
    expect(() => haversineKm({ latitude: 91, longitude: 0 }, { latitude: 0, longitude: 0 })).toThrow(/a\.latitude/);
  });

  it("computes region pairs from catalog coordinates", () => {
    const tokyoSingapore = fiberLimitBetween("ap-northeast", "ap-south")!;
    const a = findRegion("ap-northeast")!;
    const b = findRegion("ap-south")!;
    expect(tokyoSingapore.distanceKm).toBeCloseTo(haversineKm(a, b), 9);
    expect(tokyoSingapore.distanceKm).toBeGreaterThan(5200);
    expect(tokyoSingapore.distanceKm).toBeLessThan(5400);
    expect(tokyoSingapore.rttMs).toBeCloseTo((2 * tokyoSingapore.distanceKm) / 199.86164, 6);
    expect(fiberLimitBetween("ap-northeast", "ap-northeast")).toEqual({ distanceKm: 0, rttMs: 0 });
    expect(fiberLimitBetween("ap-northeast", "mars-1")).toBeNull();
  });
});

const ping = (avgMs: number | null): PingStats => ({
  transmitted: 5, received: avgMs === null ? 0 : 5, errors: 0, lossPercent: avgMs === null ? 100 : 0,
  minMs: avgMs, avgMs, maxMs: avgMs, mdevMs: avgMs === null ? null : 0,
});
const iperf = (mbps: number | null): IperfStats | null =>
  mbps === null ? null : { senderBps: mbps * 1e6, receiverBps: mbps * 1e6, retransmits: 12, maxRttMs: null, meanRttMs: null, streams: 1, reverse: false, durationS: 10 };

function pair(to: string, avg: number | null, mbps: number | null, extra: Partial<PairMeasurement> = {}): PairMeasurement {
  return {
    from: "tok", to, tailnetIp: `100.64.0.${to.length}`, peerOnline: true,
    path: { kind: "direct", endpoint: "203.0.113.9:41641", source: "tailscale ping" },
    tailscalePingMs: avg === null ? null : Math.round(avg), ping: ping(avg), iperf: iperf(mbps), errors: [], ...extra,
  };
}

const run: ProbeRun = {
  schema: RUN_SCHEMA,
  mode: "from",
  source: "tok",
  transport: "ssh",
  settings: { pingCount: 5, pingIntervalS: 0.2, tailscalePingCount: 5, iperfDurationS: 10, iperfOmitS: 1, iperfParallel: 1, iperfReverse: false, iperfPort: 5201, concurrency: 4 },
  nodes: [
    { key: "tok", label: "tokyo-1", region: "ap-northeast" },
    { key: "sin", label: "singapore-1", region: "ap-south" },
    { key: "fra", label: "frankfurt-1", region: "eu-central" },
    { key: "lon", label: "london-1", region: "eu-west" },
    { key: "mum", label: "mumbai-1", region: "ap-west" },
  ],
  pairs: [
    pair("lon", 400, 40, { path: { kind: "relay", relay: "tok", source: "tailscale ping" } }),
    pair("sin", 76.26, 324),
    pair("tok", 0.065, 23637, { path: { kind: "local", source: "tailscale ping" } }),
    pair("mum", null, null, { errors: ["ping: 100% packet loss (0 of 5 replies)", "iperf3: unable to connect to server: Connection refused"] }),
    pair("fra", 245.05, 88),
  ],
};

describe("buildReport", () => {
  const report = buildReport(run);
  const row = (to: string) => report.rows.find((r) => r.to === to)!;

  it("sorts best first with failed rows last", () => {
    expect(report.rows.map((r) => r.to)).toEqual(["tok", "sin", "fra", "lon", "mum"]);
  });

  it("computes limit and efficiency per row", () => {
    const lim = fiberLimitBetween("ap-northeast", "ap-south")!;
    expect(row("sin").fiberLimitMs).toBeCloseTo(lim.rttMs, 9);
    expect(row("sin").efficiency).toBeCloseTo(lim.rttMs / 76.26, 9);
    expect(row("sin").city).toBe("Singapore");
    expect(row("tok").fiberLimitMs).toBe(0);
    expect(row("tok").efficiency).toBeNull(); // 0 / x says nothing
    expect(row("mum").pingMs).toBeNull();
    expect(row("mum").efficiency).toBeNull();
  });

  it("warns about relays, detours and failures, not about healthy paths", () => {
    expect(row("sin").warnings).toEqual([]);
    expect(row("fra").warnings).toEqual([]); // 2.6x: slow, but under the 3x threshold
    expect(row("lon").warnings).toHaveLength(2);
    expect(row("lon").warnings[0]).toMatch(/relayed \(relay DERP\(tok\)\)/);
    expect(row("lon").warnings[1]).toMatch(/RTT 400\.0 ms is 4\.2x the fibre limit 95\.7 ms \(threshold 3x\)/);
    expect(report.warnings).toContain("1 of 5 pairs had a failed probe (see the Error column)");
  });

  it("makes the threshold configurable", () => {
    const strict = buildReport(run, { warnFactor: 2.5 });
    expect(strict.rows.find((r) => r.to === "fra")!.warnings.join()).toMatch(/2\.6x the fibre limit/);
    expect(() => buildReport(run, { warnFactor: 0.5 })).toThrow(/warnFactor must be a number >= 1/);
  });

  it("flags an RTT below the physical limit (nodes not where their regions say)", () => {
    const fake = buildReport({ ...run, pairs: [pair("sin", 0.09, 15000)] });
    expect(fake.rows[0].warnings.join()).toMatch(/below the physical limit 53\.\d ms for ap-northeast -> ap-south/);
  });
});

describe("renderers", () => {
  const report = buildReport(run);

  it("renders the article's Markdown table with the extra columns and dashes for missing numbers", () => {
    const md = renderMarkdown(report);
    const lines = md.split("\n");
    expect(lines[0]).toBe("### Tailnet probe from tokyo-1 (ap-northeast, Tokyo)");
    // A relayed row (London via DERP tok) brings the "Limit via relay" column.
    expect(md).toContain("| Label | City | Tailnet IP | Ping (ms) | Bandwidth (Mbit/s) | Retr | Path | Fiber limit (ms) | Limit via relay (ms) | Efficiency | Error |");
    const sin = lines.find((l) => l.startsWith("| singapore-1 "))!;
    const lim = fiberLimitBetween("ap-northeast", "ap-south")!.rttMs;
    expect(sin).toBe(`| singapore-1 | Singapore | 100.64.0.3 | 76.260 | 324 | 12 | direct 203.0.113.9:41641 | ${lim.toFixed(1)} | — | ${Math.round((lim / 76.26) * 100)}% |  |`);
    // DERP(tok) sits at the source, so the path through it is as long as the direct one.
    const lon = lines.find((l) => l.startsWith("| london-1 "))!;
    const limLon = fiberLimitBetween("ap-northeast", "eu-west")!.rttMs.toFixed(1);
    expect(lon).toContain(`| relay DERP(tok) | ${limLon} | ${limLon} |`);
    const mum = lines.find((l) => l.startsWith("| mumbai-1 "))!;
    expect(mum).toContain("| — | — | — |");
    expect(mum).toContain("Connection refused");
    expect(md).toContain("**Warnings**");
  });

  it("renders CSV with raw numbers and empty cells for null", () => {
    const csv = renderCsv(report).trim().split("\n");
    expect(csv[0].split(",")).toContain("fiber_limit_ms");
    expect(csv).toHaveLength(6);
    const header = csv[0].split(",");
    const sin = csv.find((l) => l.startsWith("tok,tokyo-1,ap-northeast,sin,"))!.split(",");
    expect(sin[header.indexOf("ping_ms")]).toBe("76.26");
    expect(sin[header.indexOf("bandwidth_mbps")]).toBe("324");
    expect(sin[header.indexOf("path")]).toBe("direct");
    const mum = csv.find((l) => l.includes(",mum,"))!;
    expect(mum).toContain(",,"); // nulls
    expect(mum).toContain(",ping: 100% packet loss (0 of 5 replies); iperf3: unable to connect to server: Connection refused,");
    // Fields with commas are quoted.
    const lon = csv.find((l) => l.includes(",lon,"))!;
    expect(lon).toContain(',"tokyo-1 -> london-1: relayed (relay DERP(tok)), not direct;');
  });

  it("renders JSON that is the run plus the derived report", () => {
    const doc = JSON.parse(renderJson(run, report));
    expect(doc.schema).toBe(RUN_SCHEMA);
    expect(doc.pairs).toEqual(JSON.parse(JSON.stringify(run.pairs)));
    expect(doc.report.rows.map((r: { to: string }) => r.to)).toEqual(["tok", "sin", "fra", "lon", "mum"]);
  });

  it("draws a deterministic, labelled bar chart", () => {
    const svg = renderBarChartSvg(report);
    expect(renderBarChartSvg(buildReport(run))).toBe(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const s of ["76.260 ms", "324", "23637", "round-trip time (ms)", "Mbit/s", "fibre limit", "RTT, relayed (DERP)", "relay DERP(tok)", "no RTT"]) {
      expect(svg).toContain(s);
    }
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(renderSvg(report)).toBe(svg);
  });

  it("draws a heatmap for all pairs", () => {
    const all: ProbeRun = {
      ...run,
      mode: "all-pairs",
      source: undefined,
      nodes: run.nodes.slice(0, 3),
      pairs: [
        { ...pair("sin", 76.26, 324) },
        { ...pair("tok", 76.9, 310), from: "sin", path: { kind: "relay", relay: "sin", source: "tailscale ping" } },
        { ...pair("fra", 245.05, 88) },
      ],
    };
    const svg = renderHeatmapSvg(buildReport(all));
    expect(renderSvg(buildReport(all))).toBe(svg);
    for (const s of ["from (source)", "to (destination)", "76.260 ms", "324 Mbit/s", "ICMP RTT (ms)", 'stroke-dasharray="5 3"', "singapore-1"]) {
      expect(svg).toContain(s);
    }
    // 3x3 grid: 9 cells, 6 without a measurement drawn as dashes.
    expect(svg.match(/>—</g)?.length).toBe(6);
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it("has helpers that behave", () => {
    expect(niceCeil(277)).toBe(300);
    expect(niceCeil(0.07)).toBe(0.08);
    expect(niceCeil(50)).toBe(50);
    expect(rampColor(0)).toBe("#1a9850");
    expect(rampColor(1)).toBe("#d73027");
    expect(rampColor(0.5)).toBe("#fee08b");
  });
});
