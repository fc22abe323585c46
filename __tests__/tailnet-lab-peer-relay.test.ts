/**
 * Peer relays through the real Tailscale (issue 22 item 4): headscale v0.29 (control, DERP, STUN)
 * and tailscaled v1.102.5 in network namespaces (src/rehearsal/tailnet-lab.ts), nodes behind
 * nftables NATs (src/rehearsal/lab-nat.ts).
 *
 * Nodes, all from the mesh stack's synthesized script (relays on in one region, us-ord):
 *   r      the peer relay: its key carries tag:mesh-relay, and the rendered step_peer_relay turns
 *          the relay server on (UDP 40000); on the switch
 *   a, b   on the switch; UDP between them dropped (dropUdp) and restored
 *   c, d   each behind its own endpoint-independent NAT (plain masquerade)
 *   e, f   each behind its own symmetric NAT (masquerade random)
 * headscale first loads the composed policy without the relay grant, then the composed policy as
 * `npm run policy` prints it (the grant `tag:mesh` → `tag:mesh-relay`, tailscale.com/cap/relay).
 *
 * Substitutions are the mesh rehearsal's (docs/lab.md), plus: the join runs the rendered
 * step_peer_relay after step_tailscale_up, as the bootstrap does; the first policy drops the relay
 * grant (to show DERP where no relay is granted).
 */
import { LabNat, behindNat, observedNatPorts } from "../src/rehearsal/lab-nat";
import { JoinResult, TailnetLab, TailnetLabNode, evaluateTemplate, tailnetLabUnavailable } from "../src/rehearsal/tailnet-lab";
import { findInStatus, parseTailscalePing, parseTailscaleStatus, pathFromStatusPeer } from "../src/probe/parse-tailscale";
import { renderMarkdown } from "../src/probe/report";
import { MeshNode, PathInfo } from "../src/probe/types";
import { probeFromFirst } from "./helpers/lab-probe";
import { composedAppPolicy } from "./helpers/lab-policy";
import { nodeScriptTemplate, synthMesh } from "./helpers/mesh";
import { groupBlocks } from "./helpers/groups";

const reason = tailnetLabUnavailable([["iperf3", ["--version"]], ["ping", ["-V"]]]);
if (reason) console.warn(`SKIPPED tailnet lab peer-relay rehearsal: ${reason}`);
const maybe = reason ? describe.skip : describe;

const RELAY_REGION = "us-ord";
const RELAY_CAP = "tailscale.com/cap/relay";
/** How long a pair that must stay relayed is watched (it never goes direct), and the waits. */
const HOLD_MS = Number(process.env.LAB_RELAY_HOLD_MS ?? 6000);
const WAIT_MS = 25_000;
/** Drop/restore cycles between the endpoint-independent NATs (hole punching timed again). */
const NAT_CYCLES = Number(process.env.LAB_NAT_CYCLES ?? 2);

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const secs = (ms: number) => (ms / 1000).toFixed(1);

maybe("peer relays through the lab tailnet (real tailscaled + headscale)", () => {
  const started = Date.now();
  const doc = synthMesh({ delivery: "remote-exec", adminCidrs: ["203.0.113.0/24"], peerRelays: { relays: { regions: [RELAY_REGION] } } });
  // One instance and one key resource per region (group); each node reads its own group's keys.
  const instances = groupBlocks(doc, "linode_instance", "node");
  const keyResource = groupBlocks(doc, "tailscale_tailnet_key", "node").us_ord;
  const templateOf = (region: string) => nodeScriptTemplate(doc, instances[region.replace(/-/g, "_")].provisioner[0]["remote-exec"].inline[2]);
  const regions = ["us-ord", "us-iad", "us-east", "fr-par", "eu-central", "ap-south", "ap-west"];
  const policy = composedAppPolicy();
  const withoutRelayGrant = { ...policy, grants: (policy.grants ?? []).filter((g) => !(g.app && RELAY_CAP in g.app)) };
  let lab: TailnetLab;
  const nodes: Record<string, TailnetLabNode> = {};
  const nats: Record<string, LabNat> = {};
  const joins: Record<string, JoinResult> = {};
  const scripts: Record<string, string> = {};
  const figures: string[] = [];

  const ip4 = (n: TailnetLabNode) => lab.status(n)!.Self.TailscaleIPs.find((x) => x.includes("."))!;
  /** The path from a to b as `tailscale status --json` shows it, read by the probe's parser. */
  const statusPath = (a: TailnetLabNode, b: TailnetLabNode): PathInfo | null => {
    const r = lab.cli(a, ["status", "--json"]);
    const st = parseTailscaleStatus(r.stdout, r.stderr).status;
    const peer = st && findInStatus(st, { ip: ip4(b) });
    return peer ? pathFromStatusPeer(peer) : null;
  };
  const kind = (a: TailnetLabNode, b: TailnetLabNode) => statusPath(a, b)?.kind ?? "none";
  /** `tailscale ping` a → b, n pings, read by the probe's parser: the pongs' paths and latencies. */
  const tsPing = (a: TailnetLabNode, b: TailnetLabNode, n = 5) => {
    const r = lab.cli(a, ["ping", "-c", String(n), "--timeout", "2s", ip4(b)], 5000 + n * 2500);
    return parseTailscalePing(r.stdout, r.stderr, r.status);
  };
  /** ICMP round trips a → b over the tailnet (15 at 0.1 s): the median, ms (iputils prints µs). */
  const icmpRtt = (a: TailnetLabNode, b: TailnetLabNode) => {
    const r = lab.net.exec(a.ns, "ping", ["-n", "-c", "15", "-i", "0.1", "-W", "2", ip4(b)], { timeoutMs: 15_000 });
    const times = [...r.stdout.matchAll(/ time=([\d.]+) ms/g)].map((m) => Number(m[1]));
    expect(times.length).toBeGreaterThanOrEqual(10);
    return median(times);
  };
  /** Traffic as an application makes it (ICMP over the tailnet, 5 a second), so tailscaled keeps the path active. */
  const traffic = (a: TailnetLabNode, b: TailnetLabNode) => lab.net.spawn(a.ns, `ping-${a.name}-${b.name}`, ["ping", "-n", "-i", "0.2", ip4(b)]);
  /** Waits until a → b is of `want` kind; ms taken, or null. */
  const timeTo = async (a: TailnetLabNode, b: TailnetLabNode, want: string, ms = WAIT_MS) => {
    const t0 = Date.now();
    return (await lab.net.waitFor(() => kind(a, b) === want, ms)) ? Date.now() - t0 : null;
  };
  /** Samples the path a → b for `ms`: how often each kind was seen. */
  const watch = async (a: TailnetLabNode, b: TailnetLabNode, ms = HOLD_MS) => {
    const seen: Record<string, number> = {};
    await lab.net.waitFor(() => {
      const k = kind(a, b);
      seen[k] = (seen[k] ?? 0) + 1;
      return false;
    }, ms);
    return seen;
  };
  const tally = (seen: Record<string, number>) => Object.entries(seen).map(([k, n]) => `${k} ×${n}`).join(", ");
  const relayEndpoint = () => new RegExp(`^${nodes.r.ip.replace(/\./g, "\\.")}:40000:vni:\\d+$`);

  beforeAll(async () => {
    lab = new TailnetLab({ prefix: `tr${process.pid % 1000}`, policy: withoutRelayGrant });
    await lab.start();
    const nat = (name: string, i: number, mapping: "endpoint-independent" | "symmetric") => behindNat(lab, i, mapping, (n) => (nats[name] = n));
    nodes.r = await lab.addNode("r");
    nodes.a = await lab.addNode("a");
    nodes.b = await lab.addNode("b");
    nodes.c = await lab.addNode("c", undefined, nat("c", 0, "endpoint-independent"));
    nodes.d = await lab.addNode("d", undefined, nat("d", 1, "endpoint-independent"));
    nodes.e = await lab.addNode("e", undefined, nat("e", 2, "symmetric"));
    nodes.f = await lab.addNode("f", undefined, nat("f", 3, "symmetric"));
    const names = Object.keys(nodes);
    // Every node runs its rendered join and then the rendered step_peer_relay, all at once.
    const results = await Promise.all(
      names.map((name, i) => {
        const region = regions[i];
        const tags = region === RELAY_REGION ? ["tag:mesh", "tag:mesh-relay"] : ["tag:mesh"];
        const key = lab.mintKey({ tags, expirySeconds: keyResource.expiry, reusable: keyResource.reusable, ephemeral: keyResource.ephemeral });
        scripts[name] = evaluateTemplate(templateOf(region), { "each.key": region, [`local.node_auth_keys_${region.replace(/-/g, "_")}[each.key]`]: key.key });
        return lab.join(nodes[name], scripts[name], 60_000, ["step_tailscale_up", "step_peer_relay"]);
      }),
    );
    names.forEach((n, i) => (joins[n] = results[i]));
    const ok = await lab.net.waitFor(() => names.every((n) => Object.values(lab.status(nodes[n])?.Peer ?? {}).filter((p) => p.Online).length >= names.length - 1), 30_000);
    if (!ok) throw new Error(`not every node sees every other: ${lab.controlLog()}`);
  }, 150_000);

  afterAll(() => {
    if (!lab) return;
    lab.destroy();
    expect(lab.net.leftovers()).toEqual([]);
    console.log(`tailnet lab peer relays (wall ${secs(Date.now() - started)} s):\n${figures.join("\n")}`);
  });

  test("every node joins from the rendered script; the relay node turns its relay server on, the others leave it off", async () => {
    // The lab mints each key with the tags the stack gives that node's key: its region's key
    // resource (one node per region) carries the relay tag only in the relay's region.
    const keys = groupBlocks(doc, "tailscale_tailnet_key", "node");
    for (const region of regions) {
      expect({ region, tags: keys[region.replace(/-/g, "_")].tags }).toEqual({ region, tags: region === RELAY_REGION ? ["tag:mesh", "tag:mesh-relay"] : ["tag:mesh"] });
    }
    for (const [name, j] of Object.entries(joins)) {
      expect({ name, status: j.status, tail: j.output.slice(-400) }).toMatchObject({ status: 0 });
      const relay = name === "r";
      expect(j.output.includes("bootstrap: changed: peer relay server on UDP 40000")).toBe(relay);
      expect(lab.advertisedTags(nodes[name])).toEqual(relay ? ["tag:mesh", "tag:mesh-relay"] : ["tag:mesh"]);
      expect(lab.status(nodes[name])!.Self.Tags).toEqual(relay ? ["tag:mesh", "tag:mesh-relay"] : ["tag:mesh"]);
      const prefs = JSON.parse(lab.cli(nodes[name], ["debug", "prefs"]).stdout);
      expect({ name, port: prefs.RelayServerPort ?? null }).toEqual({ name, port: relay ? 40000 : null });
    }
    // The same script again on the relay node: nothing to change.
    const again = await lab.join(nodes.r, scripts.r, 30_000, ["step_tailscale_up", "step_peer_relay"]);
    expect(again.status).toBe(0);
    expect(again.output).toMatch(/bootstrap: 0 changes/);
  });

  test("the NATs map as intended: the same public port to every destination (endpoint-independent), a new one per destination (symmetric)", async () => {
    for (const name of ["c", "e"]) {
      const { local, seen } = await observedNatPorts(lab, nodes[name].ns);
      figures.push(`  ${nats[name].mapping} NAT: local UDP ${local} seen by two ports of the control server as ${seen.join(", ")}`);
      if (nats[name].mapping === "symmetric") expect(seen[0]).not.toBe(seen[1]);
      else expect(seen).toEqual([local, local]);
    }
  });

  const eim: { before: string; toDirectMs: number | null; cycles: { toRelayMs: number; toDirectMs: number }[] } = { before: "", toDirectMs: null, cycles: [] };
  const rtt: Record<string, number> = {};

  test("no relay granted: endpoint-independent NATs end direct after hole punching; symmetric NATs stay on DERP", async () => {
    const { c, d, e, f } = nodes;
    // First traffic for both pairs starts now (tailscaled may have found the path already).
    eim.before = kind(c, d);
    const t1 = traffic(c, d);
    const t2 = traffic(e, f);
    try {
      eim.toDirectMs = await timeTo(c, d, "direct");
      expect(eim.toDirectMs).not.toBeNull();
      const ep = statusPath(c, d)!;
      expect(ep.endpoint).toBe(`${nats.d.publicIp}:41641`); // d's NAT's address, d's own port kept
      const seen = await watch(e, f);
      expect(Object.keys(seen)).toEqual(["relay"]); // DERP, never direct, never a peer relay (none granted)
      figures.push(`  symmetric NATs, no relay granted: path samples over ${secs(HOLD_MS)} s: ${tally(seen)}`);
      expect(statusPath(e, f)!.relay).toBe("lab");
      const p = tsPing(e, f);
      expect(p.pongs.length).toBeGreaterThan(0);
      expect(new Set(p.pongs.map((x) => x.via))).toEqual(new Set(["DERP(lab)"]));
      rtt.derp = icmpRtt(e, f);
      expect(kind(e, f)).toBe("relay");
      expect(tsPing(c, d).path?.kind).toBe("direct");
      rtt.direct = icmpRtt(c, d);
      expect(kind(c, d)).toBe("direct");
      // Hole punching again, timed: UDP between the two NATs dropped on the switch until the pair is
      // on DERP, then restored (the NATs' own mappings stay as they are).
      const [natC, natD] = [nats.c, nats.d].map((n) => ({ name: n.ns, ip: n.publicIp }) as TailnetLabNode);
      for (let i = 0; i < NAT_CYCLES; i++) {
        lab.dropUdp(natC, natD);
        try {
          const toRelayMs = await timeTo(c, d, "relay");
          expect(toRelayMs).not.toBeNull();
          lab.restoreUdp(natC, natD);
          const toDirectMs = await timeTo(c, d, "direct");
          expect(toDirectMs).not.toBeNull();
          eim.cycles.push({ toRelayMs: toRelayMs!, toDirectMs: toDirectMs! });
        } finally {
          lab.restoreUdp(natC, natD);
        }
      }
    } finally {
      await lab.net.stopAndWait(t1);
      await lab.net.stopAndWait(t2);
    }
    figures.push(
      `  endpoint-independent NATs: ${eim.before} before the first traffic, direct ${secs(eim.toDirectMs!)} s after it; ` +
        `UDP between the NATs dropped → DERP ${eim.cycles.map((x) => secs(x.toRelayMs)).join(", ")} s, restored → direct ${eim.cycles.map((x) => secs(x.toDirectMs)).join(", ")} s ` +
        `(median ${secs(median(eim.cycles.map((x) => x.toDirectMs)))})`,
    );
  }, 120_000);

  let derpProbe = "";
  test("the probe, before the grant: e → f through DERP, e → r direct", async () => {
    const run = await probeFrom(nodes.e, [nodes.f, nodes.r]);
    const rows = Object.fromEntries(run.report.rows.map((r) => [r.to, r]));
    derpProbe = run.markdown;
    expect(rows.f.path.kind).toBe("relay");
    expect(rows.f.path.relay).toBe("lab");
    expect(rows.r.path.kind).toBe("direct");
  }, 60_000);

  test("the relay granted (the composed policy loaded): the symmetric pair moves to the peer relay and stays relayed", async () => {
    const { e, f } = nodes;
    const t = traffic(e, f);
    try {
      lab.setPolicy(policy);
      const toRelayMs = await timeTo(e, f, "peer-relay");
      expect(toRelayMs).not.toBeNull();
      expect(statusPath(e, f)!.relay).toMatch(relayEndpoint());
      // Never direct. (On this shared machine a relay path has once lapsed to DERP for a moment
      // under load; it must be back on the relay at the end, and the samples are printed.)
      const seen = await watch(e, f);
      expect(seen.direct ?? 0).toBe(0);
      expect(seen["peer-relay"] ?? 0).toBeGreaterThan(0);
      expect(await timeTo(e, f, "peer-relay")).not.toBeNull();
      const p = tsPing(e, f);
      expect(p.path?.kind).toBe("peer-relay");
      expect(p.path?.relay).toMatch(relayEndpoint());
      rtt.peerRelay = icmpRtt(e, f);
      expect(kind(e, f)).toBe("peer-relay");
      figures.push(`  symmetric NATs: grant loaded → peer relay ${secs(toRelayMs!)} s; path samples over ${secs(HOLD_MS)} s: ${tally(seen)}`);
    } finally {
      await lab.net.stopAndWait(t);
    }
    figures.push(
      `  ICMP RTT over the tailnet, median of 15: direct (c–d, both behind NATs) ${rtt.direct.toFixed(3)} ms, ` +
        `peer relay (e–f) ${rtt.peerRelay.toFixed(3)} ms, DERP (e–f) ${rtt.derp.toFixed(3)} ms`,
    );
  }, 90_000);

  let relayProbe = "";
  test("UDP dropped between a and b: relayed through r, and the probe names r; UDP back: direct again", async () => {
    const { a, b } = nodes;
    // Dropped before a and b first talk: a client looks for relay paths at most every 30 s per
    // peer (magicsock.go discoverUDPRelayPathsInterval), so a drop on a path that was just direct
    // may take that long to reach the relay.
    lab.dropUdp(a, b);
    const t = traffic(a, b);
    try {
      const toRelayMs = await timeTo(a, b, "peer-relay");
      expect(toRelayMs).not.toBeNull();
      expect(statusPath(a, b)!.relay).toMatch(relayEndpoint());
      // r is in the inventory (the probe finds the relay's node there) and measured too. (Not c:
      // a first contact through a NAT goes through the relay until hole punching succeeds, and
      // `tailscale ping -c 3` may end before it does.)
      const run = await probeFrom(a, [b, nodes.r]);
      relayProbe = run.markdown;
      const rows = Object.fromEntries(run.report.rows.map((r) => [r.to, r]));
      expect(rows.b.path.kind).toBe("peer-relay");
      expect(rows.b.path.relayNode).toBe("r");
      expect(rows.r.path.kind).toBe("direct");
      lab.restoreUdp(a, b);
      const toDirectMs = await timeTo(a, b, "direct");
      expect(toDirectMs).not.toBeNull();
      figures.push(`  a–b, UDP dropped: first traffic → peer relay ${secs(toRelayMs!)} s; UDP restored → direct ${secs(toDirectMs!)} s`);
    } finally {
      lab.restoreUdp(a, b);
      await lab.net.stopAndWait(t);
    }
    console.log(`probe from e before the grant:\n${derpProbe}\nprobe from a, UDP a–b dropped:\n${relayProbe}`);
  }, 90_000);

  /** The probe's own runner and report from `src` (netns transport, the node's `tailscale` wrapper). */
  async function probeFrom(src: TailnetLabNode, dsts: TailnetLabNode[]) {
    const all = [src, ...dsts];
    const meshNodes: MeshNode[] = all.map((n) => ({
      key: n.name,
      label: lab.status(n)!.Self.HostName,
      region: regions[Object.keys(nodes).indexOf(n.name)],
      tailnetHostname: lab.status(n)!.Self.HostName,
      netns: n.ns,
      // What a relay endpoint is matched against: the node's address on the "internet".
      publicIpv4: nats[n.name]?.publicIp ?? n.ip,
    }));
    const report = await probeFromFirst(meshNodes, all, 5203);
    for (const row of report.rows) expect({ to: row.to, errors: row.errors }).toEqual({ to: row.to, errors: [] });
    return { report, markdown: renderMarkdown(report) };
  }

  test("no node tried to reach Tailscale's servers (no tailscale.com host, no bootstrap DNS in any log)", () => {
    expect(lab.tailscaleServerAttempts()).toEqual([]);
  });
});
