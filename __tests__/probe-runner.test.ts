import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import {
  iperfClientArgv,
  iperfPidfile,
  allPairsRoundBound,
  allPairsRounds,
  mapLimit,
  pairsFor,
  pingArgv,
  resolveOptions,
  runProbe,
  runDisjoint,
  tournamentRounds,
  tailscalePingArgv,
} from "../src/probe/runner";
import { NetnsTransport, RunResult, shellQuote, spawnWithTimeout, SshTransport, Transport } from "../src/probe/transport";
import { MeshNode } from "../src/probe/types";
import { VirtualClock } from "../src/probe/virtual-clock";
import { simulateAllPairs } from "../src/probe/schedule-sim";
import { buildReport, fmtLimit, renderCsv, renderMarkdown } from "../src/probe/report";
import { renderSvg } from "../src/probe/svg";
import { fiberLimitBetween, fiberRttMs, haversineKm } from "../src/catalog/geo";
import { findDerpCity } from "../src/catalog/derp";
import { findRegion } from "../src/catalog/regions";
import { findInStatus, parseTailscalePing, parseTailscaleStatus, pathFromStatusPeer, pathFromVia } from "../src/probe/parse-tailscale";

const fx = (name: string): string => readFileSync(join(__dirname, "fixtures", "probe", name), "utf8");
const ok = (stdout: string, stderr = ""): RunResult => ({ code: 0, stdout, stderr });

interface Call {
  node: string;
  argv: string[];
}

/** A transport that answers from recorded outputs and remembers what it was asked to run. */
class FakeTransport implements Transport {
  readonly kind = "ssh" as const;
  readonly calls: Call[] = [];
  constructor(private readonly answer: (node: MeshNode, argv: string[]) => RunResult | Promise<RunResult>) {}
  async run(node: MeshNode, argv: readonly string[]): Promise<RunResult> {
    this.calls.push({ node: node.key, argv: [...argv] });
    return this.answer(node, [...argv]);
  }
}

const mesh: MeshNode[] = [
  { key: "ap-northeast", label: "tailscale-multi-ap-northeast", region: "ap-northeast", publicIpv4: "203.0.113.10", tailnetHostname: "tailscale-multi-ap-northeast" },
  { key: "ap-south", label: "tailscale-multi-ap-south", region: "ap-south", publicIpv4: "203.0.113.21", tailnetHostname: "tailscale-multi-ap-south" },
  { key: "us-west", label: "tailscale-multi-us-west", region: "us-west", publicIpv4: "198.51.100.45", tailnetHostname: "tailscale-multi-us-west" },
  { key: "eu-central", label: "tailscale-multi-eu-central", region: "eu-central", publicIpv4: "192.0.2.77", tailnetHostname: "tailscale-multi-eu-central" },
  { key: "ap-west", label: "tailscale-multi-ap-west", region: "ap-west", publicIpv4: "192.0.2.90", tailnetHostname: "tailscale-multi-ap-west" },
];

const noSleep = async (): Promise<void> => undefined;

describe("runProbe --from with a scripted mesh (recorded tool outputs)", () => {
  let busyLeft = 1;
  const sleeps: number[] = [];
  const transport = new FakeTransport((_node, argv) => {
    const ip = argv[argv.length - 1];
    if (argv[0] === "tailscale" && argv[1] === "status") return ok(fx("tailscale-status.json"));
    if (argv[0] === "tailscale" && argv[1] === "ping") {
      if (ip === "100.96.140.130") return ok(fx("tailscale-ping-local.txt"));
      if (ip === "100.127.131.55") return ok(fx("tailscale-ping-direct.txt"));
      if (ip === "100.121.93.101") return { code: 1, stdout: fx("tailscale-ping-relay.txt"), stderr: fx("tailscale-ping-relay.stderr") };
      return ok(fx("tailscale-ping-v6-slow.txt"));
    }
    if (argv[0] === "ping") return ok(fx("ping-ok.txt"));
    if (argv[0] === "iperf3") {
      if (argv[2] === "100.108.43.103" && busyLeft > 0) {
        busyLeft--;
        return ok(fx("iperf3-busy.json"));
      }
      return ok(fx("iperf3-ok.json"));
    }
    throw new Error(`unexpected ${argv.join(" ")}`);
  });
  let run: Awaited<ReturnType<typeof runProbe>>;

  beforeAll(async () => {
    run = await runProbe({
      nodes: mesh,
      transport,
      plan: { mode: "from", source: mesh[0] },
      options: { iperfDurationS: 3, iperfOmitS: 1, sleep: async (ms) => void sleeps.push(ms) },
    });
  });

  const pair = (to: string) => run.pairs.find((p) => p.to === to)!;

  it("runs every command on the source node", () => {
    expect(new Set(transport.calls.map((c) => c.node))).toEqual(new Set(["ap-northeast"]));
    expect(transport.calls.filter((c) => c.argv[1] === "status")).toHaveLength(1); // cached per source
  });

  it("resolves tailnet IPs from tailscale status and measures to them", () => {
    expect(pair("ap-south").tailnetIp).toBe("100.127.131.55");
    expect(transport.calls).toContainEqual({ node: "ap-northeast", argv: pingArgv("100.127.131.55", resolveOptions({})) });
    expect(transport.calls).toContainEqual({
      node: "ap-northeast",
      argv: ["iperf3", "-c", "100.127.131.55", "-p", "5201", "-J", "-t", "3", "-O", "1", "-P", "1", "--connect-timeout", "5000"],
    });
  });

  it("detects direct, relayed and local paths", () => {
    expect(pair("ap-south").path).toEqual({ kind: "direct", endpoint: "203.0.113.21:41641", source: "tailscale ping" });
    expect(pair("us-west").path).toEqual({ kind: "relay", relay: "sfo", source: "tailscale ping" });
    expect(pair("ap-northeast").path.kind).toBe("local");
    expect(pair("ap-south").tailscalePingMs).toBe(76);
  });

  it("does not measure an offline peer and says why", () => {
    const p = pair("ap-west");
    expect(p.peerOnline).toBe(false);
    expect(p.ping).toBeNull();
    expect(p.iperf).toBeNull();
    expect(p.errors.join()).toMatch(/peer offline/);
    expect(transport.calls.some((c) => c.argv.includes("100.81.195.92"))).toBe(false);
  });

  it("retries a busy iperf3 server and then reports its numbers", () => {
    const calls = transport.calls.filter((c) => c.argv[0] === "iperf3" && c.argv[2] === "100.108.43.103");
    expect(calls).toHaveLength(2);
    expect(sleeps).toEqual([2000]);
    expect(pair("eu-central").iperf?.receiverBps).toBe(13439996552.504971);
    expect(pair("eu-central").errors).toEqual([]);
  });

  it("records the settings and strips public addresses from the run", () => {
    expect(run.settings).toMatchObject({ iperfDurationS: 3, iperfOmitS: 1, pingCount: 5 });
    expect(JSON.stringify(run)).not.toContain("203.0.113.10");
    expect(run.nodes.find((n) => n.key === "ap-south")?.tailnetIp).toBe("100.127.131.55");
  });
});

describe("runProbe failure handling", () => {
  const two = mesh.slice(0, 2).map((n, i) => ({ ...n, tailnetIp: `100.64.0.${i + 1}` }));

  it("gives up on a server that stays busy, keeping the row", async () => {
    const t = new FakeTransport((_n, argv) => {
      if (argv[0] === "tailscale") return { code: 127, stdout: "", stderr: "sh: 1: tailscale: not found\n" };
      if (argv[0] === "ping") return ok(fx("ping-ok.txt"));
      return ok(fx("iperf3-busy.json"));
    });
    const run = await runProbe({ nodes: two, transport: t, plan: { mode: "from", source: two[0] }, options: { includeSelf: false, iperfRetries: 2, sleep: noSleep } });
    expect(run.pairs).toHaveLength(1);
    const p = run.pairs[0];
    expect(p.iperf).toBeNull();
    expect(p.ping?.avgMs).toBe(0.339);
    expect(p.errors).toEqual(["iperf3: the server is busy running a test. try again later (after 3 attempts)"]);
    expect(p.path).toEqual({ kind: "unknown", source: "none", note: "no tailscale on the source node" });
    expect(t.calls.filter((c) => c.argv[0] === "iperf3")).toHaveLength(3);
    expect(t.calls.some((c) => c.argv[1] === "ping")).toBe(false); // no tailscale ping without tailscale
  });

  it("reports timeouts, 100% loss and unreachable nodes without numbers", async () => {
    const t = new FakeTransport((_n, argv) => {
      if (argv[0] === "tailscale") return { code: null, stdout: "", stderr: "", timedOut: true };
      if (argv[0] === "ping") return { code: 1, stdout: fx("ping-loss.txt"), stderr: "" };
      return { code: null, stdout: "", stderr: "", timedOut: true };
    });
    const run = await runProbe({
      nodes: two,
      transport: t,
      plan: { mode: "from", source: two[0] },
      options: { includeSelf: false, iperfDurationS: 2, iperfOmitS: 0, statusTimeoutMs: 4000 },
    });
    const p = run.pairs[0];
    expect(p.ping?.lossPercent).toBe(100);
    expect(p.ping?.avgMs).toBeNull();
    expect(p.iperf).toBeNull();
    expect(p.errors).toEqual([
      "tailscale status: timed out after 4 s (killed)",
      "ping: 100% packet loss (0 of 3 replies)",
      "iperf3: timed out after 27 s (killed)",
    ]);
  });

  it("survives a node it cannot reach at all", async () => {
    const t = new FakeTransport(() => ({ code: 255, stdout: "", stderr: "ssh: connect to host 203.0.113.10 port 22: Connection timed out\n" }));
    const run = await runProbe({ nodes: two, transport: t, plan: { mode: "all-pairs" }, options: { sleep: noSleep } });
    expect(run.pairs).toHaveLength(2);
    for (const p of run.pairs) {
      expect(p.ping).toBeNull();
      expect(p.iperf).toBeNull();
      expect(p.errors.length).toBeGreaterThanOrEqual(2);
      expect(p.errors.join("\n")).toContain("Connection timed out");
    }
  });

  it("needs a tailnet IP from somewhere", async () => {
    const nodes = mesh.slice(0, 2);
    const t = new FakeTransport(() => ({ code: 127, stdout: "", stderr: "tailscale: command not found" }));
    const run = await runProbe({ nodes, transport: t, plan: { mode: "from", source: nodes[0] }, options: { includeSelf: false } });
    expect(run.pairs[0].errors).toEqual(["tailnet IP unknown (no tailnet_ip in the inventory and not found in tailscale status)"]);
    expect(t.calls).toHaveLength(1);
  });
});

describe("all-pairs scheduling", () => {
  const nodes: MeshNode[] = ["a", "b", "c", "d", "e"].map((k, i) => ({ key: k, label: k, region: "us-east", tailnetIp: `100.64.1.${i + 1}` }));

  it("lists every ordered pair once, self excluded unless asked", () => {
    const pairs = pairsFor(nodes, { mode: "all-pairs" });
    expect(pairs).toHaveLength(20);
    expect(new Set(pairs.map(([x, y]) => x.key + y.key)).size).toBe(20);
    expect(pairsFor(nodes, { mode: "all-pairs" }, true)).toHaveLength(25);
    expect(pairsFor(nodes, { mode: "from", source: nodes[1] })).toHaveLength(5);
    expect(pairsFor(nodes, { mode: "from", source: nodes[1] }, false)).toHaveLength(4);
  });

  it.each([2, 3, 4, 5, 6, 7, 14, 15])("splits every ordered pair of %i nodes into the fewest node-disjoint rounds", (n) => {
    const ns = Array.from({ length: n }, (_, i) => ({ key: `k${i}` }));
    const rounds = allPairsRounds(ns);
    expect(rounds).toHaveLength(allPairsRoundBound(n));
    expect(allPairsRoundBound(n)).toBe(n % 2 === 0 ? 2 * (n - 1) : 2 * n);
    const seen = new Set<string>();
    for (const round of rounds) {
      const inRound = round.flatMap(([a, b]) => [a.key, b.key]);
      expect(new Set(inRound).size).toBe(inRound.length); // disjoint
      expect(round).toHaveLength(Math.floor(n / 2)); // every node busy (one sits out when n is odd)
      for (const [a, b] of round) seen.add(`${a.key}>${b.key}`);
    }
    expect(seen.size).toBe(n * (n - 1));
    // Each unordered pair once in the tournament; each node starts about half of its tests.
    expect(tournamentRounds(ns).flat()).toHaveLength((n * (n - 1)) / 2);
    const starts = ns.map((x) => tournamentRounds(ns).flat().filter(([a]) => a.key === x.key).length);
    expect(Math.max(...starts) - Math.min(...starts)).toBeLessThanOrEqual(2);
  });

  it("puts self pairs in one extra round", () => {
    const rounds = allPairsRounds(nodes, true);
    expect(rounds).toHaveLength(allPairsRoundBound(5, true));
    expect(rounds[rounds.length - 1].every(([a, b]) => a === b)).toBe(true);
  });

  it("runDisjoint never holds a node while waiting for another, and respects the limit", async () => {
    const clock = new VirtualClock();
    const ns = Array.from({ length: 6 }, (_, i) => ({ key: `k${i}` }));
    const busy = new Set<string>();
    let inFlight = 0;
    let maxInFlight = 0;
    const pairs = allPairsRounds(ns).flat();
    const out = await clock.run(() =>
      runDisjoint(pairs, 2, async (a, b) => {
        expect(busy.has(a.key) || busy.has(b.key)).toBe(false);
        busy.add(a.key).add(b.key);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await clock.sleep(10_000);
        busy.delete(a.key);
        busy.delete(b.key);
        inFlight--;
        return `${a.key}>${b.key}`;
      }),
    );
    expect(out).toEqual(pairs.map(([a, b]) => `${a.key}>${b.key}`)); // list order kept
    expect(maxInFlight).toBe(2);
    expect(clock.now).toBe((30 / 2) * 10_000); // 30 pairs, 2 at a time, never idle
  });

  it("never puts a node in two pairs at once, but does run disjoint pairs together", async () => {
    const byIp = new Map(nodes.map((n) => [n.tailnetIp!, n.key]));
    const active = new Map<string, string>(); // node -> pair id
    let maxParallel = 0;
    let violations = 0;
    const pairsNow = new Set<string>();
    const t = new FakeTransport(async (node, argv) => {
      // `tailscale status` names no destination: it only occupies its source.
      const dstIp = argv.find((a) => byIp.has(a));
      const dst = dstIp ? byIp.get(dstIp)! : node.key;
      const id = `${node.key}>${dst}`;
      for (const k of [node.key, dst]) {
        if (active.has(k) && active.get(k) !== id) violations++;
        active.set(k, id);
      }
      pairsNow.add(id);
      maxParallel = Math.max(maxParallel, pairsNow.size);
      await new Promise((r) => setTimeout(r, 5));
      pairsNow.delete(id);
      active.delete(node.key);
      active.delete(dst);
      if (argv[0] === "tailscale") return { code: 127, stdout: "", stderr: "not found" };
      if (argv[0] === "ping") return ok(fx("ping-ok.txt"));
      return ok(fx("iperf3-ok.json"));
    });
    const run = await runProbe({ nodes, transport: t, plan: { mode: "all-pairs" }, options: { concurrency: 4 } });
    expect(run.pairs).toHaveLength(20);
    expect(run.settings?.concurrency).toBe(4);
    expect(violations).toBe(0);
    expect(maxParallel).toBeGreaterThanOrEqual(2);
    expect(run.pairs.every((p) => p.iperf?.receiverBps === 13439996552.504971)).toBe(true);
  });

  it("mapLimit keeps order and the bound", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (v) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, v));
      inFlight--;
      return v * 10;
    });
    expect(out).toEqual([50, 10, 30, 20, 40]);
    expect(peak).toBe(2);
  });
});

describe("managed iperf3 servers", () => {
  const nodes = mesh.slice(0, 3).map((n, i) => ({ ...n, tailnetIp: `100.64.2.${i + 1}` }));

  it("starts a server per destination before measuring and stops it by pidfile after", async () => {
    const t = new FakeTransport((node, argv) => {
      if (argv[0] === "iperf3" && argv[1] === "-s") return node.key === "us-west" ? { code: 1, stdout: "", stderr: "iperf3: error - unable to start listener for connections: Address already in use\n" } : ok("");
      if (argv[0] === "sh") return ok("");
      if (argv[0] === "tailscale") return { code: 127, stdout: "", stderr: "not found" };
      if (argv[0] === "ping") return ok(fx("ping-ok.txt"));
      return ok(fx("iperf3-ok.json"));
    });
    const run = await runProbe({
      nodes,
      transport: t,
      plan: { mode: "from", source: nodes[0] },
      options: { iperfServer: "managed", iperfPort: 5333, sleep: noSleep },
    });
    const kinds = t.calls.map((c) => (c.argv[1] === "-s" ? "start" : c.argv[0] === "sh" ? "stop" : c.argv[0] === "iperf3" ? "client" : "other"));
    const lastStart = kinds.lastIndexOf("start");
    const firstClient = kinds.indexOf("client");
    const lastClient = kinds.lastIndexOf("client");
    const firstStop = kinds.indexOf("stop");
    expect(lastStart).toBeLessThan(firstClient);
    expect(lastClient).toBeLessThan(firstStop);
    const starts = t.calls.filter((c) => c.argv[1] === "-s");
    expect(starts).toContainEqual({
      node: "ap-south",
      argv: ["iperf3", "-s", "-D", "-B", "100.64.2.2", "-p", "5333", "--pidfile", iperfPidfile(nodes[1], 5333)],
    });
    // Stopped only where started, by the pid in our own pidfile.
    const stops = t.calls.filter((c) => c.argv[0] === "sh");
    expect(stops.map((c) => c.node).sort()).toEqual(["ap-northeast", "ap-south"]);
    expect(stops[0].argv[stops[0].argv.length - 1]).toMatch(/^\/tmp\/tailnet-probe-iperf3-\d+-[a-z-]+-5333\.pid$/);
    const usWest = run.pairs.find((p) => p.to === "us-west")!;
    expect(usWest.errors.join()).toMatch(/iperf3 server not started .*Address already in use/);
  });
});

describe("transports", () => {
  const node: MeshNode = { key: "n1", label: "n1", region: "us-east", publicIpv4: "203.0.113.7", tailnetHostname: "tailscale-multi-us-east", netns: "prbx1" };

  it("quotes for the remote shell", () => {
    expect(shellQuote("100.64.0.1")).toBe("100.64.0.1");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("$(rm -rf /)")).toBe("'$(rm -rf /)'");
  });

  it("builds a batch-mode ssh command line", () => {
    const t = new SshTransport({ user: "root", keyPath: "/keys/id_ed25519", connectTimeoutS: 7 });
    expect(t.sshArgs(node, ["ping", "-c", "3", "100.64.0.2"])).toEqual([
      "-o", "BatchMode=yes", "-o", "ConnectTimeout=7", "-o", "StrictHostKeyChecking=accept-new", "-o", "LogLevel=ERROR",
      "-i", "/keys/id_ed25519", "root@203.0.113.7", "--", "ping -c 3 100.64.0.2",
    ]);
    expect(new SshTransport({ via: "tailnet" }).sshArgs(node, ["true"])).toContain("root@tailscale-multi-us-east");
    expect(() => new SshTransport({ user: "root; rm" })).toThrow(/ssh user/);
    expect(() => new SshTransport().sshArgs({ ...node, publicIpv4: undefined }, ["true"])).toThrow(/no public_ipv4/);
  });

  it("round-trips argv through a remote shell", async () => {
    const dir = mkdtempSync(join(tmpdir(), "probe-ssh-"));
    try {
      // Stand-in for ssh: runs its last argument through sh, as sshd does with the command string.
      const fake = join(dir, "fake-ssh");
      writeFileSync(fake, '#!/bin/sh\nfor last; do :; done\nexec sh -c "$last"\n');
      chmodSync(fake, 0o755);
      const t = new SshTransport({ sshBinary: fake });
      const argv = ["printf", "%s\\n", "a b", "it's", "$HOME", "x;y", "*"];
      const r = await t.run(node, argv, { timeoutMs: 5000 });
      expect(r.code).toBe(0);
      expect(r.stdout.split("\n").slice(0, -1)).toEqual(["a b", "it's", "$HOME", "x;y", "*"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("builds ip netns exec command lines", async () => {
    expect(new NetnsTransport().netnsArgs(node, ["ping", "-c", "1", "100.64.0.2"])).toEqual(["netns", "exec", "prbx1", "ping", "-c", "1", "100.64.0.2"]);
    const r = await new NetnsTransport().run({ ...node, netns: undefined }, ["true"], { timeoutMs: 1000 });
    expect(r.spawnError).toMatch(/no netns/);
  });

  it("kills a command at its timeout", async () => {
    const t0 = Date.now();
    const r = await spawnWithTimeout("sleep", ["5"], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBeNull();
    expect(Date.now() - t0).toBeLessThan(3000);
    const missing = await spawnWithTimeout("/nonexistent/tool", [], { timeoutMs: 1000 });
    expect(missing.spawnError).toMatch(/ENOENT/);
  });

  it("pins the probe command lines", () => {
    const r = resolveOptions({ pingCount: 3, pingIntervalS: 0.5, tailscalePingCount: 4, iperfReverse: true, iperfParallel: 2 });
    expect(pingArgv("100.64.0.9", r)).toEqual(["ping", "-n", "-c", "3", "-i", "0.5", "-W", "2", "100.64.0.9"]);
    expect(tailscalePingArgv("100.64.0.9", r)).toEqual(["tailscale", "ping", "-c", "4", "--timeout", "5s", "100.64.0.9"]);
    expect(iperfClientArgv("100.64.0.9", r)).toEqual([
      "iperf3", "-c", "100.64.0.9", "-p", "5201", "-J", "-t", "10", "-O", "1", "-P", "2", "--connect-timeout", "5000", "-R",
    ]);
  });

  it("rejects bad options with the field name", () => {
    expect(() => resolveOptions({ concurrency: 0 })).toThrow(/concurrency must be an integer in 1\.\.1000/);
    expect(() => resolveOptions({ iperfOmitS: -1 })).toThrow(/iperfOmitS/);
    expect(() => resolveOptions({ pingIntervalS: 0.0001 })).toThrow(/pingIntervalS/);
    expect(() => resolveOptions({ iperfServer: "maybe" as never })).toThrow(/iperfServer/);
  });
});

describe("all-pairs makespan on a virtual clock (the real runProbe, a stand-in transport, 14 s per pair)", () => {
  // Figures for the README come from `npm run bench:schedule`; these pin the properties.
  it.each([14, 15, 45])("%i nodes: the default is within 10 %% of the round bound, no node in two tests at once", async (n) => {
    const r = await simulateAllPairs({ nodes: n });
    expect(r.pairs).toBe(n * (n - 1));
    expect(r.overlaps).toBe(0);
    expect(r.concurrency).toBe(Math.floor(n / 2));
    expect(r.maxParallel).toBe(Math.floor(n / 2));
    expect(r.pairTimes).toBeLessThanOrEqual(1.1 * r.boundRounds);
    expect(r.pairTimes).toBeGreaterThanOrEqual(r.boundRounds - 1e-9); // no schedule beats the bound
  });

  it("100 nodes: 9,900 pairs within 10 % of 198 rounds", async () => {
    const r = await simulateAllPairs({ nodes: 100 });
    expect(r.boundRounds).toBe(198);
    expect(r.overlaps).toBe(0);
    expect(r.pairTimes).toBeLessThanOrEqual(1.1 * 198);
  }, 60_000);

  it("never gets slower when the concurrency limit grows", async () => {
    const limits = [1, 2, 4, 7, 8, 50, 256];
    const times: number[] = [];
    for (const c of limits) times.push((await simulateAllPairs({ nodes: 14, concurrency: c })).pairTimes);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThanOrEqual(times[i - 1] + 1e-9);
    expect(times[0]).toBeCloseTo(182, 6); // one at a time: every pair in turn
    expect(times[times.length - 1]).toBeCloseTo(26, 6); // 2(N-1)
  });

  it("stays near the busiest node's work when pairs take unequal time", async () => {
    const r = await simulateAllPairs({ nodes: 14, jitter: 0.3 });
    expect(r.overlaps).toBe(0);
    expect(r.ratioToNodeWork).toBeLessThanOrEqual(1.25);
  });
});

describe("three path classes in one run: direct, peer relay (which node), DERP (which region)", () => {
  // us-ord relays; its public address is the relay endpoint the client prints.
  const nodes: MeshNode[] = [
    mesh[0],
    mesh[1],
    mesh[2],
    mesh[3],
    { key: "us-ord", label: "tailscale-multi-us-ord", region: "us-ord", publicIpv4: "198.51.100.77", tailnetHostname: "tailscale-multi-us-ord", tailnetIp: "100.111.41.138" },
  ];
  const t = new FakeTransport((_n, argv) => {
    const ip = argv[argv.length - 1];
    if (argv[0] === "tailscale" && argv[1] === "status") return ok(fx("tailscale-status-peer-relay.json"));
    if (argv[0] === "tailscale" && argv[1] === "ping") {
      if (ip === "100.127.131.55") return ok(fx("tailscale-ping-direct.txt"));
      if (ip === "100.121.93.101") return { code: 1, stdout: fx("tailscale-ping-peer-relay.txt"), stderr: fx("tailscale-ping-peer-relay.stderr") };
      if (ip === "100.108.43.103") return { code: 1, stdout: "pong from tailscale-multi-eu-central (100.108.43.103) via DERP(fra) in 241ms\n", stderr: "direct connection not established\n" };
      return ok(fx("tailscale-ping-local.txt"));
    }
    if (argv[0] === "ping") return ok(fx("ping-ok.txt"));
    return ok(fx("iperf3-ok.json"));
  });
  let report: ReturnType<typeof buildReport>;
  let run: Awaited<ReturnType<typeof runProbe>>;
  beforeAll(async () => {
    run = await runProbe({ nodes, transport: t, plan: { mode: "from", source: nodes[0] }, options: { includeSelf: false, sleep: noSleep } });
    report = buildReport(run);
  });
  const row = (to: string) => report.rows.find((r) => r.to === to)!;

  it("names the relay node from its endpoint, and keeps the public address out of the node list", () => {
    expect(run.pairs.find((p) => p.to === "us-west")!.path).toEqual({
      kind: "peer-relay", relay: "198.51.100.77:40000:vni:7", relayNode: "us-ord", source: "tailscale ping",
    });
    expect(row("ap-south").path.kind).toBe("direct");
    expect(row("eu-central").path).toMatchObject({ kind: "relay", relay: "fra" });
    expect(row("us-west").pathText).toBe("peer relay tailscale-multi-us-ord (198.51.100.77:40000:vni:7)");
    expect(JSON.stringify(run.nodes)).not.toContain("198.51.100.77");
  });

  it("gives relayed pairs the fibre limit of the path taken beside the direct one", () => {
    const viaOrd = fiberLimitBetween("ap-northeast", "us-ord")!.rttMs + fiberLimitBetween("us-ord", "us-west")!.rttMs;
    expect(row("us-west").relayedLimitMs).toBeCloseTo(viaOrd, 9);
    expect(row("us-west").relayedVia).toBe("tailscale-multi-us-ord");
    expect(row("us-west").relayedLimitMs!).toBeGreaterThan(row("us-west").fiberLimitMs! * 1.5); // the detour a relay costs
    const fra = findDerpCity("fra")!;
    const tokyo = findRegion("ap-northeast")!;
    const frankfurt = findRegion("eu-central")!;
    expect(row("eu-central").relayedLimitMs).toBeCloseTo(fiberRttMs(haversineKm(tokyo, fra) + haversineKm(fra, frankfurt)), 9);
    expect(row("eu-central").relayedVia).toBe("DERP(fra) Frankfurt");
    expect(row("ap-south").relayedLimitMs).toBeNull();
    expect(report.warnings.join("\n")).toMatch(/fibre limit via tailscale-multi-us-ord \d+\.\d ms against \d+\.\d ms direct/);
  });

  it("shows the classes in every format", () => {
    const md = renderMarkdown(report);
    expect(md).toContain("| Limit via relay (ms) |");
    expect(md).toContain(fmtLimit(row("us-west").relayedLimitMs));
    const csv = renderCsv(report).split("\n");
    expect(csv[0].endsWith("relay_node,relayed_via,relayed_fiber_limit_ms")).toBe(true);
    expect(csv.find((l) => l.startsWith("ap-northeast,") && l.includes(",us-west,"))).toContain(",us-ord,tailscale-multi-us-ord,");
    const svg = renderSvg(report);
    for (const legend of ["RTT, direct path", "RTT, relayed (DERP)", "RTT, peer relay", "fibre limit through the relay taken"]) expect(svg).toContain(legend);
    expect(svg).toContain("peer relay tailscale-multi-us-ord");
  });
});

describe("real client output from the lab (tailscale v1.102.5, headscale v0.29.0): the three classes", () => {
  const lab = (name: string): string => readFileSync(join(__dirname, "fixtures", "probe", "lab", name), "utf8");
  // The lab's three nodes, given catalog regions so the limits can be computed; public_ipv4 is their underlay address.
  const nodes: MeshNode[] = [
    { key: "a", label: "mesh-a", region: "ap-northeast", publicIpv4: "100.115.92.10", tailnetHostname: "mesh-a" },
    { key: "b", label: "mesh-b", region: "eu-west", publicIpv4: "100.115.92.11", tailnetHostname: "mesh-b" },
    { key: "r", label: "mesh-r", region: "ap-west", publicIpv4: "100.115.92.12", tailnetHostname: "mesh-r" },
  ];

  it("parses each class from what the client printed", () => {
    expect(parseTailscalePing(lab("tailscale-ping-direct.txt")).path).toEqual({ kind: "direct", endpoint: "100.115.92.11:41641", source: "tailscale ping" });
    const relayed = parseTailscalePing(lab("tailscale-ping-peer-relay.txt"), lab("tailscale-ping-peer-relay.stderr"), 1);
    expect(relayed.pongs.map((p) => pathFromVia(p.via).kind)).toEqual([...Array(8).fill("relay"), "peer-relay", "peer-relay"]);
    expect(relayed.pongs[0].via).toBe("DERP(lab)");
    expect(relayed.path).toEqual({ kind: "peer-relay", relay: "100.115.92.12:40000:vni:1", source: "tailscale ping" });
    expect(relayed.error).toBeNull();
    const st = parseTailscaleStatus(lab("tailscale-status-peer-relay.json")).status!;
    expect(pathFromStatusPeer(findInStatus(st, { hostName: "mesh-b" })!)).toEqual({ kind: "peer-relay", relay: "100.115.92.12:40000:vni:1", source: "tailscale status" });
    const direct = parseTailscaleStatus(lab("tailscale-status-direct.json")).status!;
    expect(pathFromStatusPeer(findInStatus(direct, { hostName: "mesh-b" })!)).toEqual({ kind: "direct", endpoint: "100.115.92.11:41641", source: "tailscale status" });
    expect(parseTailscaleStatus(lab("tailscale-status-relay-node.json")).status!.self!.addrs).toContain("100.115.92.12:41641");
  });

  it("reports the relayed pair through mesh-r, with the limit through it", async () => {
    const t = new FakeTransport((_n, argv) => {
      if (argv[0] === "tailscale" && argv[1] === "status") return ok(lab("tailscale-status-peer-relay.json"));
      if (argv[0] === "tailscale" && argv[1] === "ping") {
        return argv[argv.length - 1] === "100.64.0.2"
          ? { code: 1, stdout: lab("tailscale-ping-peer-relay.txt"), stderr: lab("tailscale-ping-peer-relay.stderr") }
          : ok(lab("tailscale-ping-direct.txt"));
      }
      if (argv[0] === "ping") return ok(fx("ping-ok.txt"));
      return ok(fx("iperf3-ok.json"));
    });
    const run = await runProbe({ nodes, transport: t, plan: { mode: "from", source: nodes[0] }, options: { includeSelf: false, sleep: noSleep } });
    const report = buildReport(run);
    const b = report.rows.find((r) => r.to === "b")!;
    expect(b.path).toMatchObject({ kind: "peer-relay", relayNode: "r" });
    expect(b.pathText).toBe("peer relay mesh-r (100.115.92.12:40000:vni:1)");
    expect(b.relayedLimitMs).toBeCloseTo(fiberLimitBetween("ap-northeast", "ap-west")!.rttMs + fiberLimitBetween("ap-west", "eu-west")!.rttMs, 9);
  });

  it("the rendered relay step ran against the real client: on once, then nothing to do", () => {
    expect(lab("relay-step-relay-node.out")).toBe("bootstrap: changed: peer relay server on UDP 40000\nbootstrap: 1 changes\n");
    expect(lab("relay-step-other-node.out")).toBe("bootstrap: 0 changes\n");
  });
});
