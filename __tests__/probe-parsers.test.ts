import { readFileSync } from "fs";
import { join } from "path";
import { parsePing } from "../src/probe/parse-ping";
import { parseIperf3 } from "../src/probe/parse-iperf3";
import {
  findInStatus,
  firstIpv4,
  parseGoDurationMs,
  parsePeerRelayEndpoint,
  parseTailscalePing,
  parseTailscaleStatus,
  pathFromStatusPeer,
  pathFromVia,
} from "../src/probe/parse-tailscale";

const fx = (name: string): string => readFileSync(join(__dirname, "fixtures", "probe", name), "utf8");

describe("parsePing (iputils, recorded)", () => {
  it("reads the summary of a good run", () => {
    const r = parsePing(fx("ping-ok.txt"));
    expect(r.error).toBeNull();
    expect(r.stats).toEqual({
      transmitted: 3,
      received: 3,
      errors: 0,
      lossPercent: 0,
      minMs: 0.066,
      avgMs: 0.339,
      maxMs: 0.876,
      mdevMs: 0.379,
    });
  });

  it("reports 100% loss without inventing an RTT", () => {
    const r = parsePing(fx("ping-loss.txt"));
    expect(r.stats).toMatchObject({ transmitted: 3, received: 0, lossPercent: 100, avgMs: null, minMs: null });
    expect(r.error).toBe("100% packet loss (0 of 3 replies)");
  });

  it("counts errors and names unreachable destinations", () => {
    const r = parsePing(fx("ping-unreach.txt"));
    expect(r.stats).toMatchObject({ transmitted: 5, received: 0, errors: 3, lossPercent: 100, avgMs: null });
    expect(r.error).toContain("destination unreachable");
  });

  it("quotes ping's own message when there is no summary", () => {
    const r = parsePing("", fx("ping-noroute.stderr"));
    expect(r.stats).toBeNull();
    expect(r.error).toBe("ping: connect: Network is unreachable");
  });

  it("says so when ping was killed before printing a summary", () => {
    expect(parsePing("").error).toBe("ping produced no output");
    const partial = fx("ping-ok.txt").split("\n").slice(0, 3).join("\n");
    expect(parsePing(partial)).toEqual({ stats: null, error: "ping printed no statistics (interrupted?)" });
  });
});

describe("parseIperf3 (iperf 3.12 -J, recorded)", () => {
  it("reads bandwidth, retransmits and sender RTT", () => {
    const r = parseIperf3(fx("iperf3-ok.json"));
    expect(r.error).toBeNull();
    expect(r.busy).toBe(false);
    expect(r.stats).toEqual({
      senderBps: 13440935102.559166,
      receiverBps: 13439996552.504971,
      retransmits: 2015,
      maxRttMs: 0.201,
      meanRttMs: 0.201,
      streams: 1,
      reverse: false,
      durationS: 1,
    });
  });

  it("sums parallel streams and takes the worst max_rtt", () => {
    const doc = JSON.parse(fx("iperf3-p2.json"));
    const r = parseIperf3(fx("iperf3-p2.json"));
    expect(r.stats?.streams).toBe(2);
    expect(r.stats?.receiverBps).toBe(doc.end.sum_received.bits_per_second);
    const maxes = doc.end.streams.map((s: { sender: { max_rtt: number } }) => s.sender.max_rtt / 1000);
    expect(r.stats?.maxRttMs).toBe(Math.max(...maxes));
    const means = doc.end.streams.map((s: { sender: { mean_rtt: number } }) => s.sender.mean_rtt / 1000);
    expect(r.stats?.meanRttMs).toBeCloseTo((means[0] + means[1]) / 2, 9);
  });

  it("does not read the zeros of a reverse (-R) run as an RTT", () => {
    const r = parseIperf3(fx("iperf3-p2-reverse.json"));
    expect(r.stats?.reverse).toBe(true);
    expect(r.stats?.maxRttMs).toBeNull();
    expect(r.stats?.meanRttMs).toBeNull();
    expect(r.stats?.receiverBps).toBeCloseTo(10106910561.333971, 3);
    expect(r.stats?.retransmits).toBe(2248);
  });

  it("recognises a busy server (retryable)", () => {
    const r = parseIperf3(fx("iperf3-busy.json"));
    expect(r).toEqual({ stats: null, error: "iperf3: the server is busy running a test. try again later", busy: true });
  });

  it("reports a refused connection", () => {
    const r = parseIperf3(fx("iperf3-refused.json"));
    expect(r.stats).toBeNull();
    expect(r.busy).toBe(false);
    expect(r.error).toBe("iperf3: unable to connect to server: Connection refused");
  });

  it("handles no output (killed on timeout) and garbage", () => {
    expect(parseIperf3("").error).toBe("iperf3 produced no output (killed or timed out)");
    expect(parseIperf3("", "iperf3: error - unable to connect\n").error).toBe("iperf3: iperf3: error - unable to connect");
    expect(parseIperf3("{ truncated").error).toMatch(/^iperf3 output is not JSON/);
  });
});

describe("tailscale status --json", () => {
  const parsed = parseTailscaleStatus(fx("tailscale-status.json"));
  const status = parsed.status!;

  it("reads self and every peer", () => {
    expect(parsed.error).toBeNull();
    expect(status.backendState).toBe("Running");
    expect(status.self?.hostName).toBe("tailscale-multi-ap-northeast");
    expect(status.peers.map((p) => p.hostName).sort()).toEqual([
      "tailscale-multi-ap-south",
      "tailscale-multi-ap-west",
      "tailscale-multi-eu-central",
      "tailscale-multi-us-west",
    ]);
    expect(status.peers.every((p) => p.key.startsWith("nodekey:"))).toBe(true);
  });

  it("finds peers by hostname, MagicDNS label or IP and picks the IPv4", () => {
    const bySouth = findInStatus(status, { hostName: "TAILSCALE-MULTI-AP-SOUTH" });
    expect(bySouth && firstIpv4(bySouth.tailscaleIps)).toBe("100.127.131.55");
    expect(findInStatus(status, { ip: "100.121.93.101" })?.hostName).toBe("tailscale-multi-us-west");
    expect(findInStatus(status, { hostName: "tailscale-multi-ap-northeast" })?.key).toBe("self");
    expect(findInStatus(status, { hostName: "nope" })).toBeNull();
  });

  it("classifies direct, relayed, idle and offline peers", () => {
    const get = (h: string) => findInStatus(status, { hostName: h })!;
    expect(pathFromStatusPeer(get("tailscale-multi-ap-south"))).toEqual({
      kind: "direct",
      endpoint: "203.0.113.21:41641",
      source: "tailscale status",
    });
    expect(pathFromStatusPeer(get("tailscale-multi-us-west"))).toEqual({ kind: "relay", relay: "sfo", source: "tailscale status" });
    expect(pathFromStatusPeer(get("tailscale-multi-eu-central"))).toMatchObject({ kind: "unknown", note: "idle, no current path (home DERP fra)" });
    const off = get("tailscale-multi-ap-west");
    expect(off.online).toBe(false);
    expect(pathFromStatusPeer(off)).toMatchObject({ kind: "unknown", note: "peer offline" });
  });

  it("flags a daemon that is not running", () => {
    const r = parseTailscaleStatus(fx("tailscale-status-needslogin.json"));
    expect(r.error).toBe("tailscale backend state is NeedsLogin, not Running");
    expect(r.status?.peers).toEqual([]);
  });

  it("explains empty or broken output", () => {
    expect(parseTailscaleStatus("", "failed to connect to local tailscaled; it doesn't appear to be running").error).toBe(
      "tailscale status: failed to connect to local tailscaled; it doesn't appear to be running",
    );
    expect(parseTailscaleStatus("<html>").error).toMatch(/not JSON/);
  });
});

describe("tailscale ping", () => {
  it("takes the last pong: direct after DERP", () => {
    const r = parseTailscalePing(fx("tailscale-ping-direct.txt"));
    expect(r.pongs).toHaveLength(3);
    expect(r.path).toEqual({ kind: "direct", endpoint: "203.0.113.21:41641", source: "tailscale ping" });
    expect(r.latencyMs).toBe(76);
    expect(r.error).toBeNull();
  });

  it("reports a relayed-only path as a finding, not a failure", () => {
    const r = parseTailscalePing(fx("tailscale-ping-relay.txt"), fx("tailscale-ping-relay.stderr"), 1);
    expect(r.path).toEqual({ kind: "relay", relay: "sfo", source: "tailscale ping" });
    expect(r.latencyMs).toBe(119);
    expect(r.error).toBeNull();
  });

  it("reports timeouts with no pong as an error", () => {
    const r = parseTailscalePing(fx("tailscale-ping-timeout.txt"), fx("tailscale-ping-timeout.stderr"), 1);
    expect(r.timeouts).toBe(3);
    expect(r.path).toBeNull();
    expect(r.latencyMs).toBeNull();
    expect(r.error).toBe("tailscale ping: no reply");
    expect(parseTailscalePing(fx("tailscale-ping-timeout.txt"), "", null).error).toBe("tailscale ping: no reply (3 timed out)");
  });

  it("recognises the node's own IP and unknown peers", () => {
    expect(parseTailscalePing(fx("tailscale-ping-local.txt")).path?.kind).toBe("local");
    expect(parseTailscalePing("", fx("tailscale-ping-nopeer.stderr"), 1).error).toBe("tailscale ping: no matching peer");
    expect(parseTailscalePing("", "", null).error).toBe("tailscale ping: tailscale ping produced no output");
  });

  it("parses IPv6 endpoints, peerapi ports and second-long latencies", () => {
    const r = parseTailscalePing(fx("tailscale-ping-v6-slow.txt"));
    expect(r.pongs[0]).toEqual({ host: "tailscale-multi-eu-central", ip: "100.108.43.103", via: "[2001:db8:77::2]:41641", latencyMs: 1204 });
    expect(r.path).toMatchObject({ kind: "direct", endpoint: "[2001:db8:77::2]:41641" });
  });

  it("reads a peer relay path: which relay endpoint, from ping and from status", () => {
    const r = parseTailscalePing(fx("tailscale-ping-peer-relay.txt"), fx("tailscale-ping-peer-relay.stderr"), 1);
    expect(r.path).toEqual({ kind: "peer-relay", relay: "198.51.100.77:40000:vni:7", source: "tailscale ping" });
    expect(r.latencyMs).toBe(104);
    expect(r.error).toBeNull(); // relayed only is a finding
    const v6 = parseTailscalePing(fx("tailscale-ping-peer-relay-v6.txt"));
    expect(v6.path).toMatchObject({ kind: "peer-relay", relay: "[2001:db8:77::9]:40000:vni:12" });
    expect(v6.latencyMs).toBe(1204);
    expect(parsePeerRelayEndpoint("198.51.100.77:40000:vni:7")).toEqual({ ip: "198.51.100.77", port: 40000, vni: 7 });
    expect(parsePeerRelayEndpoint("[2001:db8:77::9]:40000:vni:12")).toEqual({ ip: "2001:db8:77::9", port: 40000, vni: 12 });
    expect(parsePeerRelayEndpoint("DERP(tok)")).toBeNull();
    const st = parseTailscaleStatus(fx("tailscale-status-peer-relay.json")).status!;
    const usWest = findInStatus(st, { hostName: "tailscale-multi-us-west" })!;
    expect(pathFromStatusPeer(usWest)).toEqual({ kind: "peer-relay", relay: "198.51.100.77:40000:vni:7", source: "tailscale status" });
    expect(st.self?.addrs).toEqual(["172.104.101.20:41641", "[2400:8902::f03c:93ff:fe11:2222]:41641"]);
    // The three classes side by side, from the same status: direct, peer relay, DERP.
    const apSouth = findInStatus(st, { hostName: "tailscale-multi-ap-south" })!;
    expect(pathFromStatusPeer(apSouth).kind).toBe("direct");
  });

  it("parses Go durations and via forms", () => {
    expect(parseGoDurationMs("76ms")).toBe(76);
    expect(parseGoDurationMs("0s")).toBe(0);
    expect(parseGoDurationMs("1m2.5s")).toBe(62_500);
    expect(parseGoDurationMs("850µs")).toBeCloseTo(0.85, 9);
    expect(parseGoDurationMs("12 parsecs")).toBeNull();
    expect(pathFromVia("peer-relay(100.64.1.2:7777:vni:3)")).toMatchObject({ kind: "peer-relay", relay: "100.64.1.2:7777:vni:3" });
    expect(pathFromVia("TSMP")).toMatchObject({ kind: "unknown" });
  });
});
