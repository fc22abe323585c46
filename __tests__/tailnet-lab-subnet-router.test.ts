/**
 * The Linode subnet router through the real Tailscale (src/rehearsal/tailnet-lab.ts): the router runs
 * the join step of its rendered script (renderRouterScript, what the stack embeds) and applies the
 * forwarding file that script writes, with `sysctl -p`; headscale loads the composed policy (the
 * base, tailnet-policy.hujson, plus the router's contribution, composed as at synth). The route must
 * be approved by the policy's autoApprovers alone: nothing here approves it by hand.
 *
 * Addresses come from the stack's own options under the rehearsal's address rules: the "VPC" is
 * 100.115.93.0/24 (Tailscale drops link-local destinations, so 169.254.0.0/16 can't be used, and
 * one nftables rule lets its replies past tailscaled's drop of 100.64.0.0/10 sources on tailscale0).
 * Substitutions are those of the lab (docs/lab.md); the client is an admin's own device, which
 * accepts routes by hand (`tailscale up --accept-routes`, as the README says).
 *
 * LAB_BREAK=drop-auto-approver removes the router's route from autoApprovers first, to show what
 * the rehearsal catches.
 */
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { TailnetLab, TailnetLabNode, renderedFile, tailnetLabUnavailable } from "../src/rehearsal/tailnet-lab";
import { SYSCTL_FORWARDING_PATH } from "../src/tailnet/bootstrap";
import { composePolicy } from "../src/tailnet/policy/compose";
import { PolicyBase } from "../src/tailnet/policy/base";
import { planLinodeSubnetRouter } from "../src/systems/subnet-router/plan";
import { subnetRouterPolicy } from "../src/systems/subnet-router/router-policy";
import { renderRouterScript } from "../src/systems/subnet-router/router-script";
import { probeServerCommand } from "../src/systems/subnet-router/target-probe";
import { prefixLength } from "../src/validation";

const reason = tailnetLabUnavailable([["nc", ["-h"]], ["/usr/bin/python3", ["--version"]], ["sysctl", ["--version"]]]);
if (reason) console.warn(`SKIPPED tailnet lab subnet router rehearsal: ${reason}`);
const maybe = reason ? describe.skip : describe;
const BREAK = process.env.LAB_BREAK ?? "";
/** A route the router may advertise by hand, which no autoApprover covers. */
const UNAPPROVED = "100.115.94.0/24";

maybe("Linode subnet router through the lab tailnet (real tailscaled + headscale)", () => {
  const started = Date.now();
  const plan = planLinodeSubnetRouter(
    { subnets: [{ name: "lab", cidr: "100.115.93.0/24" }], routerAddress: "100.115.93.2", target: { address: "100.115.93.10", port: 8080 } },
    "rehearsal",
  );
  const target = plan.target!;
  const routerPolicy = subnetRouterPolicy(plan, {}, "tag:linode-subnet-router");
  const composed = composePolicy(PolicyBase.fromFile(join(__dirname, "..", "tailnet-policy.hujson")), [
    { source: "subnet-router-linode/subnet-router", ...routerPolicy.contribution },
  ]).value as Record<string, unknown> & { autoApprovers?: { routes?: Record<string, string[]> } };
  if (BREAK === "drop-auto-approver") {
    for (const r of plan.advertiseRoutes) delete composed.autoApprovers!.routes![r];
  }
  // Made in beforeAll: a skipped describe still runs its body, and the lab needs the programs.
  let lab!: TailnetLab;
  let router: TailnetLabNode;
  let client: TailnetLabNode;
  let hostNs = "";
  let probeLog = "";
  let script = "";
  let joinOutput = "";

  const routerNode = () => lab.headscaleNodes().find((n) => n.given_name === plan.hostname);

  beforeAll(async () => {
    lab = new TailnetLab({ prefix: `ts${process.pid % 1000}`, policy: composed });
    await lab.start();
    // The private network: the router's second interface and the target host.
    hostNs = lab.net.namespace("hst");
    router = await lab.addNode("rtr", (ns) => {
      lab.net.link({ ns, dev: "eth1" }, { ns: hostNs, dev: "eth0" });
      lab.net.address(ns, "eth1", `${plan.routerAddress}/${prefixLength(plan.routerSubnet)}`);
    });
    client = await lab.addNode("cli");
    lab.net.address(hostNs, "eth0", `${target.address}/${prefixLength(target.subnet)}`);
    const www = join(lab.net.dir, "www");
    mkdirSync(www);
    writeFileSync(join(www, "index.html"), "subnet-router target lab\n");
    probeLog = join(lab.net.dir, "probe.log");
    const [python, ...args] = probeServerCommand(target.port!, www);
    lab.net.spawn(hostNs, "probe", [python, ...args], { log: probeLog });

    const key = lab.mintKey({ tags: [routerPolicy.tag], expirySeconds: 3600 });
    script = renderRouterScript(plan, { tag: routerPolicy.tag, authKey: key.key });
    // What the script writes to /etc/sysctl.d, applied the way boot does, in the router's namespace.
    const sysctlFile = join(lab.net.dir, "90-mesh-forwarding.conf");
    writeFileSync(sysctlFile, renderedFile(script, SYSCTL_FORWARDING_PATH));
    lab.net.must(router.ns, "sysctl", ["-p", sysctlFile]);
    // Substitution: the lab's private network must lie in 100.64.0.0/10 (169.254.0.0/16, the other
    // allowed range, is dropped by Tailscale's packet filter as link-local), and tailscaled drops
    // forwarded packets from 100.64.0.0/10 leaving on tailscale0 (its ts-forward chain): the
    // private host's replies. One rule ahead of that one lets the lab network's replies through.
    const allowLan = async () => {
      const ok = await lab.net.waitFor(() => lab.net.exec(router.ns, "nft", ["list", "chain", "ip", "filter", "ts-forward"]).status === 0, 20_000);
      if (!ok) throw new Error("tailscaled made no ts-forward chain");
      lab.net.must(router.ns, "nft", ["insert", "rule", "ip", "filter", "ts-forward", "oifname", "tailscale0*", "ip", "saddr", plan.routerSubnet, "accept"]);
    };
    const j = await lab.join(router, script);
    joinOutput = j.output;
    if (j.status !== 0) throw new Error(`router did not join: ${j.output.slice(-800)}\n${lab.controlLog(2500)}\n${lab.logTail(router.daemon.log, 2500)}`);
    await allowLan();

    const users = lab.headscaleJson<{ id: string; name: string }[]>(["users", "list"]);
    const userKey = lab.headscaleJson<{ key: string }>(["preauthkeys", "create", "--user", String(users.find((u) => u.name === "lab-admin")!.id), "--expiration", "10m"]).key;
    const up = lab.cli(client, ["up", `--auth-key=${userKey}`, "--hostname=admin-laptop", "--accept-routes", "--timeout=30s"], 40_000);
    if (up.status !== 0) throw new Error(`client did not join: ${up.stderr}`);
  }, 120_000);

  afterAll(() => {
    if (!lab) return;
    lab.destroy();
    expect(lab.net.leftovers()).toEqual([]);
    console.log(`tailnet lab subnet router: wall ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test("the router joins with its tag, advertising the rendered routes", () => {
    expect(joinOutput).toContain(`--advertise-routes=${plan.advertiseRoutes.join(",")}`);
    const n = routerNode();
    expect(n?.tags).toEqual([routerPolicy.tag]);
    expect(n?.available_routes ?? []).toEqual(expect.arrayContaining([...plan.advertiseRoutes]));
  });

  test("the policy's autoApprovers alone approve the route; the client gets it", async () => {
    const approved = await lab.net.waitFor(() => plan.advertiseRoutes.every((r) => (routerNode()?.approved_routes ?? []).includes(r)), 10_000);
    expect({ approved: routerNode()?.approved_routes ?? [], expected: plan.advertiseRoutes }).toMatchObject({ approved: expect.arrayContaining([...plan.advertiseRoutes]) });
    expect(approved).toBe(true);
    const seen = await lab.net.waitFor(() => {
      const peer = Object.values(lab.status(client)?.Peer ?? {}).find((p) => p.HostName === plan.hostname);
      return plan.advertiseRoutes.every((r) => (peer?.PrimaryRoutes ?? []).includes(r));
    }, 15_000);
    expect(seen).toBe(true);
  });

  test("the client reaches the private host through the router (ping, TCP); with SNAT the host sees the router", async () => {
    const pingOk = await lab.net.waitFor(() => lab.net.exec(client.ns, "ping", ["-n", "-c", "1", "-W", "1", target.address!], { timeoutMs: 4000 }).status === 0, 15_000);
    if (!pingOk) {
      lab.net.exec(client.ns, "ping", ["-n", "-c", "3", "-W", "1", target.address!], { timeoutMs: 5000 });
      console.log("router links", lab.net.exec(router.ns, "ip", ["-s", "link"]).stdout, "router nft", lab.net.exec(router.ns, "nft", ["list", "ruleset"]).stdout, "fwd", lab.net.exec(router.ns, "sysctl", ["net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.eth1.rp_filter"]).stdout);
      console.log(lab.logTail(router.daemon.log, 1500));
      for (const [ns, args] of [[client.ns, ["route", "show", "table", "all"]], [router.ns, ["route", "show", "table", "all"]], [client.ns, ["route", "get", target.address!]]] as const) {
        console.log(ns, args.join(" "), lab.net.exec(ns, "ip", [...args]).stdout);
      }
      console.log(lab.logTail(client.daemon.log, 2000));
    }
    expect(pingOk).toBe(true);
    const r = lab.net.exec(client.ns, "nc", ["-N", "-w", "3", target.address!, String(target.port)], { input: "GET / HTTP/1.0\r\n\r\n", timeoutMs: 8000 });
    expect(r.stdout).toContain("subnet-router target lab");
    expect(plan.snatSubnetRoutes).toBe(true);
    const sources = readFileSync(probeLog, "utf8").split("\n").filter((l) => /"GET \/ HTTP\/1\.0" 200/.test(l)).map((l) => l.split(" ")[0]);
    expect(new Set(sources)).toEqual(new Set([plan.routerAddress]));
  }, 40_000);

  test("a route outside autoApprovers stays unapproved", async () => {
    const r = lab.cli(router, ["set", `--advertise-routes=${[...plan.advertiseRoutes, UNAPPROVED].join(",")}`]);
    expect(r.status).toBe(0);
    expect(await lab.net.waitFor(() => (routerNode()?.available_routes ?? []).includes(UNAPPROVED), 10_000)).toBe(true);
    // Give headscale the time an approval would take (it approves on the same update).
    await new Promise((res) => setTimeout(res, 1500));
    expect(routerNode()?.approved_routes ?? []).not.toContain(UNAPPROVED);
    expect(routerNode()?.approved_routes ?? []).toEqual(expect.arrayContaining([...plan.advertiseRoutes]));
  }, 30_000);

  test("no node tried to reach Tailscale's servers (no tailscale.com host, no bootstrap DNS in any log)", () => {
    expect(lab.tailscaleServerAttempts()).toEqual([]);
  });
});
