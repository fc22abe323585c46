/**
 * The mesh through the real Tailscale: headscale (control, DERP, STUN) and tailscaled on TUN in
 * network namespaces (src/rehearsal/tailnet-lab.ts). Each node runs the join step of the script
 * from the synthesized mesh stack (remote-exec delivery), with the Terraform expressions for its
 * hostname and key given lab values; headscale loads the composed policy `npm run policy` prints.
 *
 * Substituted by the lab, and only these (docs/lab.md lists them with the reasons):
 * - install: the pinned tailscaled/tailscale from scripts/tools.txt, not the apt repository; the
 *   hostname, sysctl, iperf3-unit and systemd steps of the script are not run (the iperf3 server
 *   runs the rendered unit's command, with the lab's `tailscale` for /usr/bin/tailscale);
 * - control: `--login-server=https://100.115.92.1 --accept-dns=false` added to `tailscale up`, and
 *   on the first login `--advertise-tags` recorded instead of sent (headscale refuses requested tags
 *   with a pre-auth key; the test compares them with the key's), the key file and settings stamp in
 *   the lab folder instead of /run, /var/lib;
 * - the key: minted by headscale with the properties of the stack's tailscale_tailnet_key (tags,
 *   single use, not ephemeral, pre-authorised, expiry);
 * - policy: autogroup:admin → a lab group with one lab user (headscale has no admin roles).
 *
 * LAB_BREAK=drop-advertise-tags removes `--advertise-tags=…` from the rendered script first, to show
 * what the rehearsal catches (see the README's figures section).
 */
import { existsSync, readFileSync } from "fs";
import { IPERF3_UNIT_PATH } from "../src/tailnet/bootstrap/systemd";
import {
  JoinResult,
  TailnetLab,
  TailnetLabNode,
  evaluateTemplate,
  renderedFile,
  tailnetLabUnavailable,
  unitShellCommand,
} from "../src/rehearsal/tailnet-lab";
import { parseTailscalePing } from "../src/probe/parse-tailscale";
import { renderMarkdown } from "../src/probe/report";
import { MeshNode } from "../src/probe/types";
import { composedAppPolicy, withoutAllowAll } from "./helpers/lab-policy";
import { probeFromFirst } from "./helpers/lab-probe";
import { nodeScriptTemplate, synthMesh } from "./helpers/mesh";
import { groupBlocks, groupedNodes } from "./helpers/groups";

const reason = tailnetLabUnavailable([["iperf3", ["--version"]], ["nc", ["-h"]]]);
if (reason) console.warn(`SKIPPED tailnet lab mesh rehearsal: ${reason}`);
const maybe = reason ? describe.skip : describe;
const BREAK = process.env.LAB_BREAK ?? "";
/** Drop/restore cycles for the path figures (medians). */
const PATH_CYCLES = Number(process.env.LAB_PATH_CYCLES ?? 3);

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

maybe("mesh through the lab tailnet (real tailscaled + headscale)", () => {
  const started = Date.now();
  const resolvBefore = readFileSync("/etc/resolv.conf", "utf8");
  const varLibBefore = existsSync("/var/lib/tailscale");
  const doc = synthMesh({ delivery: "remote-exec", adminCidrs: ["203.0.113.0/24"] });
  // One instance and one key resource per region (group); each node reads its own group's keys.
  const instances = groupBlocks(doc, "linode_instance", "node");
  const keys = groupBlocks(doc, "tailscale_tailnet_key", "node");
  const groupOf = Object.fromEntries(groupedNodes(doc, "node").map((n) => [n.name, n.group]));
  const keyResource = keys[groupOf["us-ord"]];
  // The script is one local; each node's copy is that text with its hostname and key put in.
  const hostnameOf = (name: string) => evaluateTemplate(instances[groupOf[name]].label, { "each.key": name });
  const forEach = Object.fromEntries(Object.keys(groupOf).map((name) => [name, { hostname: hostnameOf(name) }]));
  const scriptFor = (name: string, key: string) => {
    const g = groupOf[name];
    const template = nodeScriptTemplate(doc, instances[g].provisioner[0]["remote-exec"].inline[2]);
    return evaluateTemplate(template, { "each.key": name, [`local.node_auth_keys_${g}[each.key]`]: key });
  };
  // Four of the mesh's own nodes (the first four of its for_each map).
  const picked = Object.entries(forEach).slice(0, 4);
  const policy = composedAppPolicy();
  // Made in beforeAll: a skipped describe still runs its body, and the lab needs the programs.
  let lab!: TailnetLab;
  const nodes: TailnetLabNode[] = [];
  const joins: JoinResult[] = [];
  let admin: TailnetLabNode;
  let allSeeAllMs = -1;

  beforeAll(async () => {
    lab = new TailnetLab({ prefix: `tm${process.pid % 1000}`, policy });
    await lab.start();
    // All four tailscaled start together, then the four rendered joins run together, as on apply.
    for (const [i] of picked.entries()) nodes.push(await lab.addNode(`n${i + 1}`));
    const adminId = String(lab.headscaleJson<{ id: string; name: string }[]>(["users", "list"]).find((u) => u.name === "lab-admin")!.id);
    const scripts = picked.map(([name]) => {
      // The stack's managed key: tailscale_tailnet_key's properties, minted by headscale.
      const key = lab.mintKey({ tags: keys[groupOf[name]].tags, expirySeconds: keyResource.expiry, reusable: keyResource.reusable, ephemeral: keyResource.ephemeral });
      let s = scriptFor(name, key.key);
      if (BREAK === "drop-advertise-tags") s = s.replace(/ '--advertise-tags=[^']*'/, "");
      return s;
    });
    joins.push(...(await Promise.all(nodes.map((n, i) => lab.join(n, scripts[i])))));
    const t0 = Date.now();
    const seen = await lab.net.waitFor(
      () => nodes.every((n) => Object.values(lab.status(n)?.Peer ?? {}).filter((p) => p.Online).length >= nodes.length - 1),
      30_000,
    );
    allSeeAllMs = seen ? Date.now() - t0 : -1;
    // An admin's own device (user-owned, no tags), as a person's laptop joins: by hand.
    admin = await lab.addNode("adm");
    const userKey = lab.headscaleJson<{ key: string }>(["preauthkeys", "create", "--user", adminId, "--expiration", "10m"]).key;
    const up = lab.cli(admin, ["up", `--auth-key=${userKey}`, "--hostname=admin-laptop", "--timeout=30s"], 40_000);
    if (up.status !== 0) throw new Error(`admin device did not join: ${up.stderr}`);
  }, 150_000);

  afterAll(() => {
    if (!lab) return;
    lab.destroy();
    expect(lab.net.leftovers()).toEqual([]);
    const joinMs = joins.map((j) => j.joinMs ?? NaN);
    console.log(
      `tailnet lab mesh: join (tailscaled start → Running) per node ${joinMs.map((m) => (m / 1000).toFixed(2)).join(", ")} s (median ${(median(joinMs) / 1000).toFixed(2)}); ` +
        `all see all ${(allSeeAllMs / 1000).toFixed(2)} s after the last join; wall ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });

  test("every node joins from its rendered script with its hostname and tag", () => {
    for (const [i, j] of joins.entries()) {
      expect({ node: picked[i][0], status: j.status, tail: j.output.slice(-300) }).toMatchObject({ status: 0 });
      expect(j.output).toMatch(/bootstrap: changed: tailscale up .*--hostname=/);
      const self = lab.status(nodes[i])!.Self;
      expect(self.HostName).toBe(picked[i][1].hostname);
      expect(self.Tags ?? []).toEqual(["tag:mesh"]);
      // The rendered `tailscale up` asked for the tag its key carries (the lab records it: docs/lab.md).
      expect({ node: picked[i][0], advertised: lab.advertisedTags(nodes[i]) }).toEqual({ node: picked[i][0], advertised: keys[groupOf[picked[i][0]]].tags });
    }
    // headscale agrees: the devices are tagged (owned by the tag, not a user) and named as rendered.
    const hs = lab.headscaleNodes();
    for (const [, v] of picked) {
      const n = hs.find((x) => x.given_name === v.hostname);
      expect(n?.tags).toEqual(["tag:mesh"]);
    }
  });

  test("the key was spent: the rendered key file is gone and a single-use key can't join twice", () => {
    for (const j of joins) expect(j.output).not.toMatch(/tskey|hskey/);
    const keys = lab.headscaleJson<{ used?: boolean; reusable?: boolean; acl_tags?: string[] }[]>(["preauthkeys", "list"]);
    const meshKeys = keys.filter((k) => (k.acl_tags ?? []).includes("tag:mesh"));
    expect(meshKeys).toHaveLength(nodes.length);
    // (headscale's JSON leaves false fields out)
    for (const k of meshKeys) expect({ used: k.used ?? false, reusable: k.reusable ?? false }).toEqual({ used: true, reusable: false });
  });

  test("tailscale status --json on each node lists all the others, online", () => {
    expect(allSeeAllMs).toBeGreaterThanOrEqual(0);
    const names = picked.map(([, v]) => v.hostname);
    for (const [i, n] of nodes.entries()) {
      const peers = Object.values(lab.status(n)!.Peer ?? {});
      const meshPeers = peers.filter((p) => names.includes(p.HostName));
      expect(meshPeers.map((p) => p.HostName).sort()).toEqual(names.filter((_, j) => j !== i).sort());
      for (const p of meshPeers) expect(p.Online).toBe(true);
    }
  });

  const tsIp = (n: TailnetLabNode) => lab.status(n)!.Self.TailscaleIPs.find((a) => a.includes("."))!;
  const tcpOpen = (from: TailnetLabNode, ip: string, port: number) =>
    lab.net.exec(from.ns, "nc", ["-z", "-w", "2", ip, String(port)], { timeoutMs: 5000 }).status === 0;

  test("iperf3, run as the rendered unit says, answers on the tailnet address from tag:mesh only as the policy grants", async () => {
    const script = scriptFor(picked[0][0], "unused");
    const unit = renderedFile(script, IPERF3_UNIT_PATH);
    const cmd = unitShellCommand(unit, { "/usr/bin/tailscale": `${nodes[0].binDir}/tailscale` });
    const server = lab.net.spawn(nodes[0].ns, "iperf3-n1", ["/bin/sh", "-c", cmd], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
    const ip = tsIp(nodes[0]);
    expect(await lab.net.waitFor(() => lab.net.exec(nodes[0].ns, "ss", ["-Htln", `sport = :5201`]).stdout.includes(`${ip}:5201`), 10_000)).toBe(true);
    // Bound to the tailnet address only: the underlay address refuses.
    expect(tcpOpen(nodes[1], nodes[0].ip, 5201)).toBe(false);
    const r = lab.net.exec(nodes[1].ns, "iperf3", ["-c", ip, "-p", "5201", "-t", "1", "-J", "--connect-timeout", "3000"], { timeoutMs: 15_000 });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).end.sum_received.bits_per_second).toBeGreaterThan(0);
    // With the base's allow-all still there, the admin's laptop reaches it too.
    expect(tcpOpen(admin, ip, 5201)).toBe(true);

    // Lock the tailnet down: the composed policy without the base's allow-all, loaded live.
    lab.setPolicy(withoutAllowAll(policy));
    const refused = await lab.net.waitFor(() => !tcpOpen(admin, ip, 5201), 15_000);
    if (!refused) console.log(lab.controlLog());
    expect(refused).toBe(true); // not granted to admins: refused
    expect(tcpOpen(admin, ip, 22)).toBe(true); // granted to admins (Tailscale SSH)
    expect(tcpOpen(nodes[2], ip, 5201)).toBe(true); // tag:mesh → tag:mesh, every port
    await lab.net.stopAndWait(server);
  }, 60_000);

  /** The path `tailscale ping` reports from a to b, read by the probe's own parser. */
  const pathKind = (a: TailnetLabNode, b: TailnetLabNode): string => {
    const r = lab.cli(a, ["ping", "-c", "1", "--timeout", "2s", tsIp(b)], 8000);
    return parseTailscalePing(r.stdout, r.stderr, r.status).path?.kind ?? "none";
  };
  const paths: { toRelayMs: number; toDirectMs: number }[] = [];

  /** The path in `tailscale status --json` (no probing of its own): direct while CurAddr is set. */
  const statusPath = (a: TailnetLabNode, b: TailnetLabNode): string => {
    const ip = tsIp(b);
    const peer = Object.values(lab.status(a)?.Peer ?? {}).find((p) => p.TailscaleIPs.includes(ip));
    return peer?.CurAddr ? "direct" : peer?.Relay ? "relay" : "none";
  };

  test("paths: direct by default; UDP dropped → relayed through the lab's DERP; restored → direct again", async () => {
    const [a, b] = [nodes[0], nodes[1]];
    expect(await lab.net.waitFor(() => pathKind(a, b) === "direct", 15_000)).toBe(true);
    // Traffic as an application makes it (ICMP over the tailnet, 5 a second); the path is read from
    // `tailscale status`, so the timing is tailscaled's own, not forced by `tailscale ping`.
    const traffic = lab.net.spawn(a.ns, "ping-traffic", ["ping", "-n", "-i", "0.2", tsIp(b)]);
    try {
      for (let cycle = 0; cycle < PATH_CYCLES; cycle++) {
        lab.dropUdp(a, b);
        let t0 = Date.now();
        expect(await lab.net.waitFor(() => statusPath(a, b) === "relay", 30_000)).toBe(true);
        const toRelayMs = Date.now() - t0;
        expect(pathKind(a, b)).toBe("relay"); // and `tailscale ping`, read by the probe's parser, agrees
        lab.restoreUdp(a, b);
        t0 = Date.now();
        expect(await lab.net.waitFor(() => statusPath(a, b) === "direct", 30_000)).toBe(true);
        paths.push({ toRelayMs, toDirectMs: Date.now() - t0 });
      }
    } finally {
      await lab.net.stopAndWait(traffic);
    }
    console.log(
      `tailnet lab paths: direct → relayed after UDP drop ${paths.map((p) => (p.toRelayMs / 1000).toFixed(1)).join(", ")} s (median ${(median(paths.map((p) => p.toRelayMs)) / 1000).toFixed(1)}); ` +
        `relayed → direct after restore ${paths.map((p) => (p.toDirectMs / 1000).toFixed(1)).join(", ")} s (median ${(median(paths.map((p) => p.toDirectMs)) / 1000).toFixed(1)})`,
    );
  }, 200_000);

  test("the probe, run against the lab, reads real tailscale status/ping and iperf3 and prints its table", async () => {
    const meshNodes: MeshNode[] = picked.map(([key, v], i) => ({ key, label: v.hostname, region: key, tailnetHostname: v.hostname, netns: nodes[i].ns }));
    // One pair relayed: UDP between the source and the second node dropped.
    lab.dropUdp(nodes[0], nodes[1]);
    try {
      await lab.net.waitFor(() => pathKind(nodes[0], nodes[1]) === "relay", 30_000);
      // The probe runs `tailscale` by name on each node; there that name is the node's lab binary.
      const report = await probeFromFirst(meshNodes, nodes, 5202);
      console.log(`tailnet lab probe from ${picked[0][0]}:\n${renderMarkdown(report)}`);
      const rows = Object.fromEntries(report.rows.map((r) => [r.to, r]));
      for (const [key] of picked.slice(1)) {
        expect({ key, errors: rows[key].errors }).toEqual({ key, errors: [] });
        expect(rows[key].tailnetIp).toMatch(/^100\./);
        expect(rows[key].pingMs).not.toBeNull();
        expect(rows[key].bandwidthMbps).toBeGreaterThan(0);
      }
      expect(rows[picked[1][0]].path.kind).toBe("relay");
      expect(rows[picked[2][0]].path.kind).toBe("direct");
      expect(rows[picked[3][0]].path.kind).toBe("direct");
    } finally {
      lab.restoreUdp(nodes[0], nodes[1]);
    }
  }, 90_000);

  const replaced: { name: string; joinMs: number | null }[] = [];

  test("replacement: a new machine under the same hostname comes back as <name>-1 unless the old device is deleted first", async () => {
    const [key, v] = picked[3];
    const node = nodes[3];
    const script = () => {
      const k = lab.mintKey({ tags: keys[groupOf[key]].tags, expirySeconds: keyResource.expiry });
      return scriptFor(key, k.key);
    };
    const devices = () => lab.headscaleNodes().filter((n) => n.name === v.hostname || n.given_name.startsWith(v.hostname));
    // 1. As at the pinned provider: destroying tailscale_device_authorization deletes nothing, so the
    //    old device (offline, tagged: it never expires) keeps the name.
    await lab.replaceNode(node.name);
    let j = await lab.join(node, script());
    expect(j.status).toBe(0);
    let self = lab.status(node)!.Self;
    const label = (dns: string) => dns.split(".")[0];
    replaced.push({ name: label(self.DNSName), joinMs: j.joinMs });
    expect(self.HostName).toBe(v.hostname);
    expect(replaced[0].name).toBe(`${v.hostname}-1`);
    expect(devices().map((d) => d.given_name).sort()).toEqual([v.hostname, `${v.hostname}-1`]);
    // 2. The remedy as the README described it: the device deleted before the new machine joins
    //    (the lab deletes with headscale's CLI, as the API's DELETE /device would).
    for (const d of devices()) lab.headscaleMust(["nodes", "delete", "--identifier", String(d.id)]);
    await lab.replaceNode(node.name);
    j = await lab.join(node, script());
    expect(j.status).toBe(0);
    self = lab.status(node)!.Self;
    replaced.push({ name: label(self.DNSName), joinMs: j.joinMs });
    expect(replaced[1].name).toBe(v.hostname);
    // The other nodes see the replacement under that name.
    expect(await lab.net.waitFor(() => Object.values(lab.status(nodes[0])?.Peer ?? {}).some((p) => p.DNSName.split(".")[0] === v.hostname && p.Online), 15_000)).toBe(true);
    console.log(`tailnet lab replacement of ${key}: without deletion → ${replaced[0].name}; old device deleted first → ${replaced[1].name}; joins ${replaced.map((r) => ((r.joinMs ?? NaN) / 1000).toFixed(2)).join(", ")} s`);
  }, 90_000);

  test("the lab never touched the machine: its resolver, /var/lib/tailscale", () => {
    expect(readFileSync("/etc/resolv.conf", "utf8")).toBe(resolvBefore);
    expect(existsSync("/var/lib/tailscale")).toBe(varLibBefore);
  });

  test("no node tried to reach Tailscale's servers (no tailscale.com host, no bootstrap DNS in any log)", () => {
    expect(lab.tailscaleServerAttempts()).toEqual([]);
  });
});
