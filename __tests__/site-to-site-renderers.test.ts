/**
 * The site-to-site renderers as pure functions: what each daemon's file says for the default plan,
 * what differs between the production (route-based XFRM) and rehearsal (kernel-libipsec) data
 * planes and nothing else, the derived timers, and the scripts through shellcheck.
 */
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parseNetworkd, renderClientNetworkd, renderClientUserData } from "../src/systems/site-to-site/client";
import { renderFrrConf } from "../src/systems/site-to-site/frr";
import { renderKeepalivedConf, VRRP_PASSWORD_LENGTH } from "../src/systems/site-to-site/keepalived";
import { planSiteToSite } from "../src/systems/site-to-site/plan";
import { renderApplyScript, renderRouterFiles, renderRouterSysctl, stagedPath } from "../src/systems/site-to-site/router-files";
import { renderCharonOptions, renderSwanctlConf, renderUpdownScript, swanctlLoadProblem } from "../src/systems/site-to-site/strongswan";
import { RouterValues } from "../src/systems/site-to-site/values";

const plan = planSiteToSite();
const [r1, r2] = plan.routers;
const values: RouterValues = {
  publicAddress: "198.51.100.11",
  tunnels: [
    { outsideAddress: "203.0.113.1", presharedKey: "PskOne_123", insideCidr: "169.254.10.0/30", cgwInsideAddress: "169.254.10.2", vgwInsideAddress: "169.254.10.1", bgpAsn: "64512" },
    { outsideAddress: "203.0.113.2", presharedKey: "PskTwo.456", insideCidr: "169.254.11.0/30", cgwInsideAddress: "169.254.11.2", vgwInsideAddress: "169.254.11.1", bgpAsn: "64512" },
  ],
};

/** Lines of a, not in b (order kept). */
const minus = (a: string, b: string) => {
  const other = new Set(b.split("\n"));
  return a.split("\n").filter((l) => !other.has(l));
};

describe("the plan's derived values", () => {
  test("the article's addresses, roles and ASNs by default", () => {
    expect([r1.vlanAddress, r2.vlanAddress, plan.virtualIp]).toEqual(["10.0.1.2", "10.0.1.3", "10.0.1.200"]);
    expect([r1.state, r1.priority, r1.vrrpInstance, r2.state, r2.priority, r2.vrrpInstance]).toEqual(["MASTER", 100, "Instance1", "BACKUP", 99, "Instance2"]);
    expect([plan.customerAsn, plan.amazonSideAsn, plan.virtualRouterId]).toEqual([65000, 64512, 10]);
    expect([plan.aws.vpcCidr, plan.vlan.cidr]).toEqual(["10.0.0.0/24", "10.0.1.0/24"]);
    expect(r1.tunnels.map((t) => [t.insideCidr, t.vgwInsideAddress, t.cgwInsideAddress, t.interfaceName, t.ifId])).toEqual([
      ["169.254.10.0/30", "169.254.10.1", "169.254.10.2", "xfrm1", 1],
      ["169.254.11.0/30", "169.254.11.1", "169.254.11.2", "xfrm2", 2],
    ]);
  });

  test("the routers rekey a minute before AWS's earliest rekey, and declare a dead tunnel before AWS does", () => {
    // AWS: lifetime - margin x (1 + fuzz) = 28800 - 1080 and 3600 - 1080.
    expect([plan.ipsec.ikeRekeySeconds, plan.ipsec.childRekeySeconds]).toEqual([27660, 2460]);
    // 10 s without traffic, then 2 + 3 + 4.5 + 6.75 s of retransmissions.
    expect(plan.ipsec.routerDeadAfterSeconds).toBe(26.25);
    expect(plan.ipsec.routerDeadAfterSeconds).toBeLessThan(plan.ipsec.awsDpdTimeoutSeconds);
    const tight = planSiteToSite({ ipsec: { rekeyMarginSeconds: 900, rekeyFuzzPercent: 0, childLifetimeSeconds: 2400 } });
    expect(tight.ipsec.childRekeySeconds).toBe(2400 - 900 - 60);
  });

  test("a router's priority decides its role, whichever comes first", () => {
    const p = planSiteToSite({ routers: [{ priority: 50 }, { priority: 150 }] });
    expect(p.routers.map((r) => r.state)).toEqual(["BACKUP", "MASTER"]);
  });
});

describe("strongSwan", () => {
  const prod = renderSwanctlConf(plan, r1, values, { dataplane: "xfrm" });
  const lab = renderSwanctlConf(plan, r1, values, { dataplane: "libipsec" });

  test("both tunnels with AWS's outside addresses and PSKs, the proposal AWS is told to accept, rekey and DPD below AWS's", () => {
    for (const [i, t] of values.tunnels.entries()) {
      expect(prod).toContain(`    aws-tunnel${i + 1} {\n        version = 2\n        local_addrs = 198.51.100.11\n        remote_addrs = ${t.outsideAddress}\n`);
      expect(prod).toContain(`        id-1 = 198.51.100.11\n        id-2 = ${t.outsideAddress}\n        secret = "${t.presharedKey}"\n`);
    }
    expect(prod.match(/ proposals = aes128-sha256-modp2048$/gm)).toHaveLength(2);
    expect(prod.match(/esp_proposals = aes128-sha256-modp2048$/gm)).toHaveLength(2);
    expect(prod.match(/^ {8}rekey_time = 27660s$/gm)).toHaveLength(2);
    expect(prod.match(/^ {16}rekey_time = 2460s$/gm)).toHaveLength(2);
    for (const line of ["dpd_delay = 10s", "keyingtries = 0", "mobike = no", "encap = yes", "dpd_action = restart", "close_action = start", "start_action = start"]) {
      expect(prod.match(new RegExp(`^ +${line}$`, "gm"))).toHaveLength(2);
    }
  });

  test("route-based in production: 0.0.0.0/0 selectors and one if_id per tunnel; the updown script gets the XFRM interface and the inside address", () => {
    expect(prod.match(/local_ts = 0\.0\.0\.0\/0\n {16}remote_ts = 0\.0\.0\.0\/0/g)).toHaveLength(2);
    expect(prod).toContain("if_id_in = 1\n                if_id_out = 1\n");
    expect(prod).toContain("if_id_in = 2\n                if_id_out = 2\n");
    expect(prod).toContain("updown = /etc/swanctl/s2s-updown.sh xfrm1 1 169.254.10.2/30");
    expect(prod).toContain("updown = /etc/swanctl/s2s-updown.sh xfrm2 2 169.254.11.2/30");
  });

  test("the rehearsal's data plane differs in exactly the selector, if_id and updown lines", () => {
    expect(minus(prod, lab)).toEqual([
      "# Data plane: route-based, one XFRM interface per tunnel.",
      "                local_ts = 0.0.0.0/0",
      "                remote_ts = 0.0.0.0/0",
      "                if_id_in = 1",
      "                if_id_out = 1",
      "                updown = /etc/swanctl/s2s-updown.sh xfrm1 1 169.254.10.2/30",
      "                local_ts = 0.0.0.0/0",
      "                remote_ts = 0.0.0.0/0",
      "                if_id_in = 2",
      "                if_id_out = 2",
      "                updown = /etc/swanctl/s2s-updown.sh xfrm2 2 169.254.11.2/30",
    ]);
    expect(minus(lab, prod)).toEqual([
      "# Data plane: REHEARSAL: kernel-libipsec (userspace ESP over ipsec0), policy-based.",
      "                local_ts = 169.254.10.0/30,10.0.1.0/24",
      "                remote_ts = 169.254.10.0/30,10.0.0.0/24",
      "                updown = /etc/swanctl/s2s-updown.sh ipsec0 1 169.254.10.2/30",
      "                local_ts = 169.254.11.0/30,10.0.1.0/24",
      "                remote_ts = 169.254.11.0/30,10.0.0.0/24",
      "                updown = /etc/swanctl/s2s-updown.sh ipsec0 2 169.254.11.2/30",
    ]);
  });

  test("charon options: install_routes off and the DPD retransmissions; the rehearsal adds only the libipsec plugin list and table-220 mark", () => {
    const p = renderCharonOptions(plan, { dataplane: "xfrm" });
    const l = renderCharonOptions(plan, { dataplane: "libipsec" });
    expect(p).toMatch(/^ {4}install_routes = no$/m);
    expect(p).toContain("    retransmit_timeout = 2\n    retransmit_base = 1.5\n    retransmit_tries = 3\n");
    expect(p).toContain("declared dead 16.25 s after the first unanswered probe");
    expect(minus(p, l)).toEqual([]);
    expect(minus(l, p).filter((x) => !x.trim().startsWith("#"))).toEqual([
      "    load = random nonce aes sha1 sha2 hmac gmp kdf kernel-libipsec kernel-netlink socket-default vici updown",
      "    plugins {",
      "        kernel-netlink {",
      "            fwmark = 0x220",
      "        }",
      "    }",
    ]);
  });

  test("the updown scripts differ only in what up and down do to the interface", () => {
    const p = renderUpdownScript({ dataplane: "xfrm", publicInterface: "eth0" });
    expect(p).toContain('ip link show dev "$IFACE" >/dev/null 2>&1 || ip link add "$IFACE" type xfrm dev eth0 if_id "$IFID"');
    expect(p).toContain('    ip link set dev "$IFACE" down\n');
    expect(p).toContain('if [ "$owner" -gt "${PLUTO_UNIQUEID:-0}" ]; then');
    const l = renderUpdownScript({ dataplane: "libipsec", publicInterface: "eth0" });
    expect(minus(p, l).map((x) => x.trim())).toEqual([
      'ip link show dev "$IFACE" >/dev/null 2>&1 || ip link add "$IFACE" type xfrm dev eth0 if_id "$IFID"',
      'ip link set dev "$IFACE" up',
      'ip link set dev "$IFACE" down',
    ]);
    expect(() => renderUpdownScript({ dataplane: "xfrm", publicInterface: "eth0; reboot" })).toThrow(/not an interface name/);
  });

  test("swanctl's output decides whether a load worked (it exits 0 either way)", () => {
    const ok = "loaded ike secret 'ike-aws-tunnel1'\nloaded ike secret 'ike-aws-tunnel2'\nno authorities found, 0 unloaded\nno pools found, 0 unloaded\nloaded connection 'aws-tunnel1'\nloaded connection 'aws-tunnel2'\nsuccessfully loaded 2 connections, 0 unloaded\n";
    expect(swanctlLoadProblem(ok)).toBeNull();
    expect(swanctlLoadProblem("/etc/swanctl/conf.d/s2s.conf:3: syntax error, unexpected }, expecting NAME\nloading '/etc/swanctl/swanctl.conf' failed\n")).toMatch(/syntax error/);
    expect(swanctlLoadProblem(ok.replace("successfully loaded 2 connections, 0 unloaded", "loading connection 'aws-tunnel2' failed: invalid value"))).toMatch(/failed/);
    expect(swanctlLoadProblem(ok.replace(/loaded ike secret.*\n/g, ""))).toBe("no pre-shared key was loaded");
    expect(swanctlLoadProblem("")).toMatch(/no 'successfully loaded/);
  });
});

describe("FRR", () => {
  const f1 = renderFrrConf(plan, r1, values);

  test("eBGP to AWS's inside address of each tunnel with AWS's timers; iBGP over the VLAN as the article; the VLAN advertised", () => {
    for (const t of values.tunnels) {
      expect(f1).toContain(` neighbor ${t.vgwInsideAddress} remote-as 64512\n neighbor ${t.vgwInsideAddress} description aws-tunnel`);
      expect(f1).toContain(` neighbor ${t.vgwInsideAddress} timers 10 30\n neighbor ${t.vgwInsideAddress} timers connect 10\n`);
      expect(f1).toContain(`  neighbor ${t.vgwInsideAddress} soft-reconfiguration inbound\n  neighbor ${t.vgwInsideAddress} route-map S2S-FROM-AWS in\n  neighbor ${t.vgwInsideAddress} route-map S2S-TO-AWS out\n`);
    }
    expect(f1).toContain("router bgp 65000\n bgp router-id 10.0.1.2\n");
    expect(f1).toContain(" neighbor 10.0.1.3 remote-as 65000\n");
    expect(f1).toContain(" neighbor 10.0.1.3 update-source 10.0.1.2\n");
    expect(f1).toContain("  neighbor 10.0.1.3 next-hop-self\n  neighbor 10.0.1.3 soft-reconfiguration inbound\n");
    expect(f1).toContain("  network 10.0.1.0/24\n");
    expect(f1).toContain("ip prefix-list S2S-FROM-AWS seq 5 permit 10.0.0.0/24 le 32\nip prefix-list S2S-TO-AWS seq 5 permit 10.0.1.0/24\n");
    expect(f1).toContain(" bgp fast-convergence\n");
    expect(f1).toContain("log syslog informational\n");
    expect(f1).not.toMatch(/ebgp-requires-policy/);
    // The second router peers with the first.
    expect(renderFrrConf(plan, r2, values)).toContain(" neighbor 10.0.1.2 remote-as 65000\n neighbor 10.0.1.2 description ibgp-s2s-router-1\n");
  });

  test("the rehearsal's only change is where FRR logs", () => {
    expect(minus(f1, renderFrrConf(plan, r1, values, { logFile: "/var/run/frr/x/frr.log" }))).toEqual(["log syslog informational"]);
  });
});

describe("keepalived", () => {
  test("the article's block, with the generated password", () => {
    expect(renderKeepalivedConf(plan, r1, { vrrpPassword: "Ab3dEf7h" })).toBe(
      [
        "# Managed by the site-to-site stack: s2s-router-1, MASTER of the VLAN gateway 10.0.1.200.",
        "global_defs {",
        "    router_id s2s-router-1",
        "}",
        "vrrp_instance Instance1 {",
        "    state MASTER",
        "    interface eth1",
        "    virtual_router_id 10",
        "    priority 100",
        "    advert_int 1",
        "    authentication {",
        "        auth_type PASS",
        "        auth_pass Ab3dEf7h",
        "    }",
        "    virtual_ipaddress {",
        "        10.0.1.200",
        "    }",
        "}",
        "",
      ].join("\n"),
    );
    expect(renderKeepalivedConf(plan, r2, { vrrpPassword: "x" })).toMatch(/vrrp_instance Instance2 \{\n {4}state BACKUP\n[\s\S]*priority 99\n/);
    expect(VRRP_PASSWORD_LENGTH).toBe(8);
  });
});

describe("the client", () => {
  test("its networkd file: the VLAN address and the article's route through the virtual IP", () => {
    const text = renderClientNetworkd(plan, plan.clients[0]);
    expect(text).toContain("[Match]\nName=eth1\n\n[Network]\nAddress=10.0.1.10/24\n\n[Route]\nDestination=10.0.0.0/24\nGateway=10.0.1.200\n");
    expect(parseNetworkd(text)).toEqual({ addresses: ["10.0.1.10/24"], routes: [{ destination: "10.0.0.0/24", gateway: "10.0.1.200" }] });
    expect(() => parseNetworkd("[Route]\nDestination=10.0.0.0/24\n")).toThrow(/needs Destination= and Gateway=/);
  });

  test("its user data writes that file byte for byte and reconfigures the interface", () => {
    const script = renderClientUserData(plan, plan.clients[0]);
    const m = /<<'S2S_NETWORKD_EOF'\n([\s\S]*?)\nS2S_NETWORKD_EOF/.exec(script);
    expect(m![1] + "\n").toBe(renderClientNetworkd(plan, plan.clients[0]));
    expect(script).toContain("mv \"$tmp\" '/etc/systemd/network/05-eth1.network'");
    expect(script).toContain("networkctl reconfigure eth1");
  });
});

describe("the router's files and the apply script", () => {
  const files = renderRouterFiles(plan, r1, values, { vrrpPassword: "Ab3dEf7h" }, { dataplane: "xfrm" });

  test("six files in install order; only swanctl.conf and keepalived.conf hold secrets, both root-only", () => {
    expect(files.map((f) => [f.name, f.path, f.mode, f.owner, f.sensitive])).toEqual([
      ["sysctl", "/etc/sysctl.d/90-s2s-router.conf", "0644", "root", false],
      ["updown", "/etc/swanctl/s2s-updown.sh", "0755", "root", false],
      ["charon", "/etc/strongswan.d/charon-s2s.conf", "0644", "root", false],
      ["swanctl", "/etc/swanctl/conf.d/s2s.conf", "0600", "root", true],
      ["frr", "/etc/frr/frr.conf", "0640", "frr", false],
      ["keepalived", "/etc/keepalived/keepalived.conf", "0600", "root", true],
    ]);
    for (const f of files) {
      const holds = f.content.includes("PskOne_123") || f.content.includes("Ab3dEf7h");
      expect({ name: f.name, holds }).toEqual({ name: f.name, holds: f.sensitive });
    }
    expect(renderRouterSysctl()).toContain("net.ipv4.ip_forward = 1\n");
  });

  test("the apply script checks keepalived and FRR files before installing anything, and checks swanctl's output", () => {
    const s = renderApplyScript(plan, r1);
    const at = (x: string) => {
      const i = s.indexOf(x);
      expect({ x, found: i >= 0 }).toEqual({ x, found: true });
      return i;
    };
    expect(at(`keepalived -t -f ${stagedPath("keepalived")}`)).toBeLessThan(at("install_file() {"));
    expect(at(`vtysh -C -f ${stagedPath("frr")}`)).toBeLessThan(at("install_file() {"));
    expect(at("out=$(swanctl --load-all 2>&1)")).toBeLessThan(at("systemctl reload frr"));
    at("grep -Eqi 'error|failed|invalid|unable|no such|not found'");
    at("grep -Eq 'successfully loaded [0-9]+ connections?, 0 unloaded'");
    at("trap 'rm -f /var/lib/s2s/staged/*' EXIT");
    expect(s).not.toContain("Ab3dEf7h");
  });
});

const shellcheckMissing = spawnSync("shellcheck", ["--version"]).error;
if (shellcheckMissing) console.warn("SKIPPED site-to-site shellcheck: shellcheck is not installed (Debian: shellcheck)");
(shellcheckMissing ? test.skip : test)("every rendered script passes bash -n / sh -n and shellcheck", () => {
  const dir = mkdtempSync(join(tmpdir(), "s2s-shellcheck-"));
  try {
    const scripts: [string, string, "sh" | "bash"][] = [
      ["updown-xfrm.sh", renderUpdownScript({ dataplane: "xfrm", publicInterface: "eth0" }), "sh"],
      ["updown-libipsec.sh", renderUpdownScript({ dataplane: "libipsec", publicInterface: "eth0" }), "sh"],
      ["apply.sh", renderApplyScript(plan, r1), "bash"],
      ["client.sh", renderClientUserData(plan, plan.clients[0]), "bash"],
    ];
    for (const [name, text, shell] of scripts) {
      const f = join(dir, name);
      writeFileSync(f, text);
      const syntax = spawnSync(shell, ["-n", f], { encoding: "utf8" });
      expect({ name, status: syntax.status, err: syntax.stderr }).toEqual({ name, status: 0, err: "" });
      const sc = spawnSync("shellcheck", [`--shell=${shell}`, "--severity=style", "--format=gcc", f], { encoding: "utf8" });
      expect({ name, status: sc.status, out: sc.stdout }).toEqual({ name, status: 0, out: "" });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
