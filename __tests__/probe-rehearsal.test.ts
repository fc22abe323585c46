/**
 * Rehearsal of the probe on this machine: the same CLI code path (`main`) with the netns transport,
 * against four hosts in network namespaces this test creates (addresses 100.64.77.1-4/24 on a
 * bridge in its own namespace, no default route), each running a real `iperf3 -s`. Real ping and
 * iperf3 numbers; no tailscaled exists here, so the path must come out "unknown".
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { main } from "../src/probe/cli";
import { createLab, destroyLab, Lab, labInventory, labUnavailableReason, leftoverNamespaces, startIperfServers } from "../src/rehearsal/netns-lab";
import { fmtMbps, fmtMs } from "../src/probe/report";
import { iperfPidfile } from "../src/probe/runner";
import { ProbeRun } from "../src/probe/types";

const reason = labUnavailableReason();
if (reason) console.log(`skipping probe rehearsal: ${reason}`);
const maybe = reason ? describe.skip : describe;

const HOSTS = [
  { key: "tokyo", region: "ap-northeast" },
  { key: "fremont", region: "us-west" },
  { key: "frankfurt", region: "eu-central" },
  { key: "singapore", region: "ap-south" },
];
const MANAGED_PORT = 5202;

interface Saved {
  run: ProbeRun & { report: { rows: Array<{ to: string; from: string; pingMs: number | null; bandwidthMbps: number | null; fiberLimitMs: number | null }>; warnings: string[] } };
}

maybe("probe rehearsal in network namespaces", () => {
  const started = Date.now();
  let lab: Lab | undefined;
  let dir = "";
  let inventory = "";
  let ghostInventory = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "probe-rehearsal-"));
    lab = createLab({ prefix: `prb${process.pid % 10_000_000}`, hosts: HOSTS, subnet: "100.64.77" });
    startIperfServers(lab, 5201);
    inventory = join(dir, "inventory.txt");
    writeFileSync(inventory, labInventory(lab));
    // Plus a node nobody answers for (its address is unused on the bridge): a real failure row.
    ghostInventory = join(dir, "inventory-ghost.txt");
    writeFileSync(
      ghostInventory,
      labInventory(lab) + `key=ghost label=rehearsal-ghost region=eu-west tailnet_ip=100.64.77.99 netns=${lab.hosts[0].netns}\n`,
    );
  });

  afterAll(() => {
    if (lab) {
      const managed = lab.hosts.map((h) => iperfPidfile({ key: h.key, label: h.key, region: h.region }, MANAGED_PORT));
      destroyLab(lab, managed);
      expect(leftoverNamespaces(lab)).toEqual([]);
    }
    rmSync(dir, { recursive: true, force: true });
    const seconds = (Date.now() - started) / 1000;
    console.log(`probe rehearsal wall time: ${seconds.toFixed(1)} s`);
  });

  const common = ["--inventory", "", "--transport", "netns", "--ping-count", "3", "--ping-interval", "0.2", "--ping-wait", "1", "--iperf-duration", "1", "--iperf-omit", "0"];
  const args = (...more: string[]): string[] => {
    const a = [...common, ...more];
    a[1] = inventory;
    return a;
  };
  const ghostArgs = (...more: string[]): string[] => {
    const a = args(...more);
    a[1] = ghostInventory;
    return a;
  };

  it("--from Tokyo: the article's table with real measured numbers in every format", async () => {
    const out = join(dir, "from");
    const err: string[] = [];
    const code = await main(ghostArgs("--from", "ap-northeast", "--format", "md,csv,json,svg", "--out-dir", out), {
      stdout: () => undefined,
      stderr: (s) => void err.push(s),
    });
    expect(code).toBe(0);
    const all = JSON.parse(readFileSync(join(out, "probe.json"), "utf8")) as Saved["run"];
    expect(all.transport).toBe("netns");
    expect(all.pairs).toHaveLength(5); // Tokyo to itself, the three others and the ghost
    // The unreachable node is a row with errors and no numbers; the run went on.
    const ghost = all.pairs.find((p) => p.to === "ghost")!;
    expect(ghost.ping?.received).toBe(0);
    expect(ghost.ping?.avgMs).toBeNull();
    expect(ghost.iperf).toBeNull();
    expect(ghost.errors[0]).toMatch(/^ping: 100% packet loss \(0 of 3 replies/);
    expect(ghost.errors[1]).toMatch(/^iperf3: /);
    const ghostLine = readFileSync(join(out, "probe.md"), "utf8").split("\n").find((l) => l.startsWith("| rehearsal-ghost "))!;
    expect(ghostLine).toContain("| 100.64.77.99 | — | — | — |");
    expect(all.report.rows[all.report.rows.length - 1].to).toBe("ghost"); // failed rows sort last
    expect(err.join("")).toContain("warning: 1 of 5 pairs had a failed probe");
    const saved = { ...all, pairs: all.pairs.filter((p) => p.to !== "ghost"), report: { ...all.report, rows: all.report.rows.filter((r) => r.to !== "ghost") } };
    for (const p of saved.pairs) {
      expect(p.errors).toEqual([]);
      expect(p.ping?.received).toBe(3);
      expect(p.ping?.avgMs).toBeGreaterThan(0);
      expect(p.ping?.avgMs).toBeLessThan(50); // veth on one machine
      expect(p.iperf?.receiverBps).toBeGreaterThan(1e6);
      expect(p.path).toEqual({ kind: "unknown", source: "none", note: "no tailscale on the source node" });
    }
    const md = readFileSync(join(out, "probe.md"), "utf8");
    const csv = readFileSync(join(out, "probe.csv"), "utf8");
    const svg = readFileSync(join(out, "probe.svg"), "utf8");
    for (const row of saved.report.rows) {
      expect(md).toContain(`| ${fmtMs(row.pingMs)} | ${fmtMbps(row.bandwidthMbps)} |`);
      expect(csv).toContain(`,${Number(row.pingMs!.toFixed(6))},`);
      expect(svg).toContain(`${fmtMs(row.pingMs)} ms`);
      expect(svg).toContain(`>${fmtMbps(row.bandwidthMbps)}<`);
    }
    expect(md).toContain("unknown (no tailscale on the source node)");
    expect(md).toContain("| rehearsal-ap-south | Singapore | 100.64.77.4 |");
    // Fibre limits come from the catalog regions; a local veth beats them, and the report says so.
    const sg = saved.report.rows.find((r) => r.to === "singapore")!;
    expect(sg.fiberLimitMs).toBeGreaterThan(50);
    expect(all.report.warnings.filter((w) => /below the physical limit/.test(w))).toHaveLength(3);
    const ping = saved.report.rows.map((r) => r.pingMs!);
    const bw = saved.report.rows.map((r) => r.bandwidthMbps!);
    console.log(`rehearsal --from: ping ${Math.min(...ping).toFixed(3)}-${Math.max(...ping).toFixed(3)} ms, bandwidth ${Math.min(...bw).toFixed(0)}-${Math.max(...bw).toFixed(0)} Mbit/s`);
    console.log(md);
  });

  it("--all-pairs with iperf3 servers started and stopped by the probe: heatmap", async () => {
    const out = join(dir, "all");
    const code = await main(
      args("--all-pairs", "--iperf-server", "managed", "--iperf-port", String(MANAGED_PORT), "--concurrency", "2", "--format", "json,svg,md", "--out-dir", out, "--quiet"),
      { stdout: () => undefined, stderr: () => undefined },
    );
    expect(code).toBe(0);
    const saved = JSON.parse(readFileSync(join(out, "probe.json"), "utf8")) as Saved["run"];
    expect(saved.pairs).toHaveLength(12);
    expect(new Set(saved.pairs.map((p) => `${p.from}>${p.to}`)).size).toBe(12);
    for (const p of saved.pairs) {
      expect(p.errors).toEqual([]);
      expect(p.ping?.avgMs).toBeGreaterThan(0);
      expect(p.iperf?.receiverBps).toBeGreaterThan(1e6);
    }
    const svg = readFileSync(join(out, "probe.svg"), "utf8");
    expect(svg).toContain("from (source)");
    for (const r of saved.report.rows) expect(svg).toContain(`${fmtMs(r.pingMs)} ms`);
    // The probe stopped the servers it started: their pidfiles are gone.
    for (const h of lab!.hosts) {
      expect(() => readFileSync(iperfPidfile({ key: h.key, label: h.key, region: h.region }, MANAGED_PORT))).toThrow();
    }
    const ping = saved.report.rows.map((r) => r.pingMs!);
    const bw = saved.report.rows.map((r) => r.bandwidthMbps!);
    console.log(`rehearsal --all-pairs: ping ${Math.min(...ping).toFixed(3)}-${Math.max(...ping).toFixed(3)} ms, bandwidth ${Math.min(...bw).toFixed(0)}-${Math.max(...bw).toFixed(0)} Mbit/s`);
  });

  it("stays within its time budget", () => {
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
