/**
 * Rehearsal of the HA site-to-site VPN with the real daemons (strongSwan's charon with
 * kernel-libipsec, FRR's zebra and bgpd, keepalived) in network namespaces this test creates: two
 * routers, a client and a VLAN bridge on the "Linode" side; two stand-ins for AWS's ends of the VPN
 * connections and a host on the "AWS" side. The routers run the files the stack's renderers produce
 * (their rehearsal data plane), checked first as the delivery checks them; the plan is the stack's
 * own, with its default timers, and only its addresses chosen inside the lab ranges.
 *
 * It shows: every tunnel up and the BGP sessions inside them; the VIP on the MASTER; the client
 * reaching the host through the VIP; then (a) the MASTER's VLAN link taken down and (b) one tunnel
 * black-holed, each time measuring how long the client's pings (every 0.1 s) went unanswered, and
 * everything back afterwards. The figures are printed (and quoted in the README).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { labToolsUnavailable } from "../src/rehearsal/netns-lab";
import { planSiteToSite } from "../src/systems/site-to-site/plan";
import { LAB_INTERNET, LAB_TOOLS, SiteToSiteLab, labPrerequisiteProblem, outageAfter, parsePingReplies, waitSync } from "../src/systems/site-to-site/rehearsal";
import { renderRouterFiles } from "../src/systems/site-to-site/router-files";
import { LIBIPSEC_DEVICE, swanctlLoadProblem } from "../src/systems/site-to-site/strongswan";

const reason = labToolsUnavailable(LAB_TOOLS) ?? labPrerequisiteProblem();
if (reason) console.warn(`SKIPPED site-to-site rehearsal: ${reason}`);
const maybe = reason ? describe.skip : describe;

jest.setTimeout(120_000);

/** The stack's defaults, addresses moved into the ranges a rehearsal may use. */
const plan = planSiteToSite({ vlan: { cidr: "100.72.1.0/24" }, aws: { vpcCidr: "100.72.0.0/24" } });

maybe("site-to-site rehearsal with strongSwan, FRR and keepalived", () => {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "s2s-rehearsal-"));
  const lab = new SiteToSiteLab(plan, `s2s${process.pid % 100000}`, dir);
  const figures: string[] = [];
  const r1 = lab.routers[0];
  const [awsa] = lab.standIns;
  const now = () => Date.now() / 1000;
  const sleep = (s: number) => waitSync(() => false, s * 1000);
  const healthy = (ms: number) => {
    const ok = waitSync(() => lab.health().ok && lab.ping(1), ms);
    return { ok, detail: lab.health().detail };
  };

  beforeAll(() => {
    lab.build();
    lab.startCharons();
    for (const n of lab.standIns) lab.loadSwanctl(n);
    for (const n of lab.routers) lab.loadSwanctl(n);
    lab.startFrr();
    lab.applyFrr();
    lab.startKeepalived();
  });

  afterAll(() => {
    const t = Date.now();
    lab.destroy();
    expect(lab.lab.leftovers()).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
    figures.push(`teardown ${((Date.now() - t) / 1000).toFixed(1)} s`);
    console.log(`site-to-site rehearsal (${((Date.now() - started) / 1000).toFixed(1)} s wall time):\n  ${figures.join("\n  ")}`);
  });

  test("the routers run the rendered files: the same renderer, the plan's values, the lab's keys", () => {
    lab.routers.forEach((r, i) => {
      const again = renderRouterFiles(plan, plan.routers[i], lab.values[i], lab.secrets, {
        dataplane: "libipsec",
        updownPath: join(r.dir, "s2s-updown.sh"),
        frrLogFile: lab.routerFiles[i].find((f) => f.name === "frr")!.content.match(/log file (\S+)/)![1],
      });
      expect(lab.routerFiles[i]).toEqual(again);
      expect(readFileSync(r.swanctlConf, "utf8")).toBe(again.find((f) => f.name === "swanctl")!.content);
      expect(readFileSync(join(r.dir, "frr.conf"), "utf8")).toBe(again.find((f) => f.name === "frr")!.content);
      expect(readFileSync(join(r.dir, "keepalived.conf"), "utf8")).toBe(again.find((f) => f.name === "keepalived")!.content);
      expect(readFileSync(join(r.dir, "s2s-updown.sh"), "utf8")).toBe(again.find((f) => f.name === "updown")!.content);
      // The lab's strongswan.conf only wraps the rendered drop-in.
      expect(readFileSync(r.conf, "utf8")).toContain(`include ${join(r.dir, "charon-s2s.conf")}`);
      expect(readFileSync(join(r.dir, "charon-s2s.conf"), "utf8")).toBe(again.find((f) => f.name === "charon")!.content);
    });
  });

  test("the delivery's checks reject broken files: keepalived -t, vtysh -C, swanctl's output", () => {
    const bad = join(dir, "bad");
    require("fs").mkdirSync(bad, { recursive: true });
    // A 9-character PASS password would be truncated: keepalived -t fails.
    const kf = join(bad, "keepalived.conf");
    writeFileSync(kf, lab.file(0, "keepalived").replace(/auth_pass (\S+)/, "auth_pass $1X"));
    expect(lab.lab.exec(r1.ns, "keepalived", ["-t", "-f", kf]).status).not.toBe(0);
    const ff = join(bad, "frr.conf");
    writeFileSync(ff, lab.file(0, "frr").replace("timers connect", "timerz connect"));
    expect(lab.lab.exec(r1.ns, "vtysh", ["-N", r1.ns, "-C", "-f", ff]).status).not.toBe(0);
    // swanctl exits 0 on a syntax error; the output check catches it (file parsed before anything is sent).
    const sf = join(awsa.dir, "swanctl", "broken.conf");
    writeFileSync(sf, readFileSync(awsa.swanctlConf, "utf8").replace("connections {", "connections {{"));
    const out = lab.swanctl(awsa, ["--load-all", "--file", sf]);
    expect(swanctlLoadProblem(out)).not.toBeNull();
    expect(swanctlLoadProblem(lab.swanctl(awsa, ["--load-all", "--file", awsa.swanctlConf]))).toBeNull();
  });

  test("all tunnels up, four eBGP sessions and the iBGP session Established inside them, the VIP on the MASTER, the client reaching the AWS host", () => {
    const t0 = Date.now();
    const h = healthy(45_000);
    expect(h).toEqual({ ok: true, detail: expect.any(String) });
    figures.push(`start: tunnels, BGP, VRRP and the first reply ${((Date.now() - started) / 1000).toFixed(1)} s after the lab began (${((Date.now() - t0) / 1000).toFixed(1)} s after the daemons)`);
    lab.routers.forEach((r, i) => {
      const states = lab.bgpStates(r);
      const peer = plan.routers[1 - i].vlanAddress;
      expect(states).toEqual(Object.fromEntries([...plan.routers[i].tunnels.map((t) => [t.vgwInsideAddress, "Established"]), [peer, "Established"]]));
      // Each eBGP neighbour is reachable only through the tunnels' device: the session rides inside an SA.
      for (const t of plan.routers[i].tunnels) {
        expect(lab.lab.must(r.ns, "ip", ["-4", "route", "get", t.vgwInsideAddress])).toContain(`dev ${LIBIPSEC_DEVICE}`);
      }
      // The VPC is learnt from AWS's inside addresses, over both tunnels.
      expect(lab.route(r, plan.aws.vpcCidr)).toEqual({ protocol: "bgp", nexthops: plan.routers[i].tunnels.map((t) => `${t.vgwInsideAddress}@${LIBIPSEC_DEVICE}`).sort() });
    });
    expect([lab.hasVip(0), lab.hasVip(1)]).toEqual([true, false]);
    expect(lab.ping(5)).toBe(true);
  });

  test("(a) the MASTER's VLAN link goes down: the BACKUP takes the VIP and the client gets through; back up, the MASTER takes it back", () => {
    const file = join(dir, "ping-vrrp.txt");
    const pid = lab.startPing(file);
    sleep(1.5);
    const ev = now();
    lab.lab.must(r1.ns, "ip", ["link", "set", plan.interfaces.vlan, "down"]);
    expect(waitSync(() => lab.hasVip(1), 10_000)).toBe(true);
    const tMaster = now() - ev;
    expect(waitSync(() => outageAfter(parsePingReplies(readFileSync(file, "utf8")), ev).recoveredAt !== null, 15_000)).toBe(true);
    sleep(2);
    const ev2 = now();
    lab.lab.must(r1.ns, "ip", ["link", "set", plan.interfaces.vlan, "up"]);
    expect(waitSync(() => lab.hasVip(0) && !lab.hasVip(1), 15_000)).toBe(true);
    const tBack = now() - ev2;
    sleep(2.5);
    lab.lab.stop(pid);
    const replies = parsePingReplies(readFileSync(file, "utf8"));
    const down = outageAfter(replies, ev, ev2);
    const back = outageAfter(replies, ev2);
    const recovered = down.recoveredAt! - ev;
    figures.push(
      `(a) MASTER link down: BACKUP holds the VIP after ${tMaster.toFixed(2)} s; client's pings answered again after ${recovered.toFixed(2)} s, ${down.lost} lost (0.1 s apart, longest silence ${down.gapSeconds} s); link up: MASTER again after ${tBack.toFixed(2)} s, ${back.lost} lost`,
    );
    expect(down.lost).toBeGreaterThan(0);
    expect(recovered).toBeLessThan(10);
    expect(back.lost).toBeLessThan(5);
    // Everything returns: the MASTER's iBGP session comes back, the VIP is where it was.
    const t = Date.now();
    expect(healthy(45_000)).toEqual({ ok: true, detail: expect.any(String) });
    figures.push(`(a) all sessions Established again ${((Date.now() - t) / 1000 + 2.5 + tBack).toFixed(1)} s after the link came back`);
  });

  test("(b) one tunnel goes silent (its AWS endpoint black-holed): DPD and BGP move the traffic to the other tunnel; unblocked, everything returns", () => {
    const file = join(dir, "ping-tunnel.txt");
    const pid = lab.startPing(file);
    sleep(1);
    // The tunnel carrying the MASTER's outbound data (libipsec sends on the newest of identical policies).
    const before = lab.outBytes(r1);
    sleep(0.8);
    const after = lab.outBytes(r1);
    const busy = plan.routers[0].tunnels.reduce((a, b) => ((after[`tunnel${b.index}`] ?? 0) - (before[`tunnel${b.index}`] ?? 0) > (after[`tunnel${a.index}`] ?? 0) - (before[`tunnel${a.index}`] ?? 0) ? b : a));
    const endpoint = LAB_INTERNET.tunnels[0][busy.index - 1];
    const ev = now();
    lab.lab.must(awsa.ns, "nft", ["-f", "-"], {
      input: [
        "table inet s2s_blackhole {",
        `  chain in { type filter hook input priority 0; ip saddr ${LAB_INTERNET.routers[0]} ip daddr ${endpoint} drop; }`,
        `  chain out { type filter hook output priority 0; ip saddr ${endpoint} ip daddr ${LAB_INTERNET.routers[0]} drop; }`,
        "}",
        "",
      ].join("\n"),
    });
    const limit = (plan.ipsec.routerDeadAfterSeconds + 10) * 1000;
    let saGone = NaN;
    let routeMoved = NaN;
    let sessionDown = NaN;
    waitSync(() => {
      const t = now() - ev;
      if (isNaN(saGone) && !lab.installedChildren(r1).includes(`tunnel${busy.index}`)) saGone = t;
      if (isNaN(routeMoved) && !(lab.route(r1, plan.aws.vpcCidr)?.nexthops ?? []).some((h) => h.startsWith(`${busy.vgwInsideAddress}@`))) routeMoved = t;
      if (isNaN(sessionDown) && lab.bgpStates(r1)[busy.vgwInsideAddress] !== "Established") sessionDown = t;
      return !isNaN(saGone) && !isNaN(routeMoved) && !isNaN(sessionDown) && outageAfter(parsePingReplies(readFileSync(file, "utf8")), ev).recoveredAt !== null;
    }, limit);
    const ev2 = now();
    lab.lab.must(awsa.ns, "nft", ["delete", "table", "inet", "s2s_blackhole"]);
    const t = Date.now();
    const back = healthy(45_000);
    const tBack = (Date.now() - t) / 1000;
    lab.lab.stop(pid);
    const replies = parsePingReplies(readFileSync(file, "utf8"));
    const down = outageAfter(replies, ev, ev2);
    const restore = outageAfter(replies, ev2);
    const recovered = down.recoveredAt === null ? NaN : down.recoveredAt - ev;
    figures.push(
      `(b) tunnel ${busy.index} of the MASTER black-holed: its SA cleared by DPD after ${saGone.toFixed(2)} s, BGP route through it gone after ${routeMoved.toFixed(2)} s, session down after ${sessionDown.toFixed(2)} s; client's pings answered again after ${recovered.toFixed(2)} s, ${down.lost} lost (longest silence ${down.gapSeconds} s); unblocked: all back after ${tBack.toFixed(1)} s, ${restore.lost} lost`,
    );
    expect(back).toEqual({ ok: true, detail: expect.any(String) });
    expect(recovered).toBeLessThan(plan.ipsec.routerDeadAfterSeconds + 5);
    expect(saGone).toBeLessThan(plan.ipsec.routerDeadAfterSeconds + 2);
    expect(routeMoved).toBeLessThan(plan.ipsec.routerDeadAfterSeconds + 2);
    expect(restore.lost).toBeLessThan(5);
  });

  test("stays within its time budget", () => {
    expect(Date.now() - started).toBeLessThan(90_000);
  });
});
