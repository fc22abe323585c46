/**
 * The site-to-site VPN on one machine, for the rehearsal: network namespaces for the two routers,
 * a client, two stand-ins for AWS's ends of the VPN connections and a host in the "VPC"; bridges
 * for the internet, the Linode VLAN and the VPC. The routers run exactly what renderRouterFiles
 * produces for the plan (its "libipsec" data plane: see strongswan.ts), checked as the delivery
 * checks them; the client's address and route come from its rendered networkd file.
 *
 * Lab steps that stand in for something production does elsewhere, said plainly:
 * - the routers' VLAN and public addresses are set with `ip addr` (Linode's Network Helper does it);
 * - the inside addresses start parked on lo (kernel-libipsec needs a local address in the
 *   selectors before a tunnel comes up; production's updown creates the XFRM interface instead);
 * - each charon gets a private /run (its pidfile and socket paths are compiled in), and is started
 *   with STRONGSWAN_CONF pointing at a wrapper that includes the rendered drop-in and adds file
 *   logging; swanctl loads the rendered swanctl.conf with --file;
 * - zebra and bgpd start empty in the foreground, each namespace with its own FRR pathspace (-N),
 *   and the rendered frr.conf is applied with `vtysh -f` (production: /etc/frr/frr.conf and
 *   `systemctl reload frr`);
 * - keepalived runs in the foreground with its own pidfiles (production: its systemd unit);
 * - the client's networkd file is applied with `ip` (no systemd-networkd in a namespace).
 * Nothing is created in the root namespace; addresses are in 100.64.0.0/10 and 169.254.0.0/16.
 */
import { randomBytes } from "crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { NetnsLab } from "../../rehearsal/netns-lab";
import { renderStandInFrr, renderStandInSwanctl } from "./aws-standin";
import { parseNetworkd, renderClientNetworkd } from "./client";
import { VRRP_PASSWORD_LENGTH } from "./keepalived";
import { SiteToSitePlan } from "./plan";
import { RouterFile, renderRouterFiles } from "./router-files";
import { renderCharonOptions, renderUpdownScript, swanctlLoadProblem } from "./strongswan";
import { RouterSecrets, RouterValues } from "./values";
import { spawnSync } from "child_process";

/** The lab's "internet" (public addresses) and its members. */
export const LAB_INTERNET = {
  prefix: 24,
  routers: ["100.72.100.11", "100.72.100.12"],
  /** AWS's tunnel outside addresses, two per VPN connection. */
  tunnels: [
    ["100.72.100.101", "100.72.100.102"],
    ["100.72.100.103", "100.72.100.104"],
  ],
} as const;

const CHARON = "/usr/lib/ipsec/charon";
const FRR_DIR = "/usr/lib/frr";
const FRR_RUN = "/var/run/frr";

/** Programs the lab runs; their absence is a reason to skip. */
export const LAB_TOOLS: readonly (readonly [string, readonly string[]])[] = [
  ["ip", ["-V"]],
  ["ping", ["-V"]],
  ["nft", ["--version"]],
  ["unshare", ["--version"]],
  [CHARON, ["--version"]],
  ["swanctl", ["--help"]],
  [`${FRR_DIR}/zebra`, ["--version"]],
  [`${FRR_DIR}/bgpd`, ["--version"]],
  ["vtysh", ["--help"]],
  ["keepalived", ["--version"]],
];

/** Why the lab can't run here beyond missing programs (plugins, users), or null. */
export function labPrerequisiteProblem(): string | null {
  if (!existsSync("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so")) return "strongSwan's kernel-libipsec plugin is missing (Debian: libcharon-extra-plugins)";
  if (spawnSync("id", ["frr"]).status !== 0) return "no frr user (Debian: frr)";
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun (kernel-libipsec needs TUN)";
  return null;
}

/** A pre-shared key as AWS makes them: 32 of [A-Za-z0-9._], not starting with 0. */
export function labPresharedKey(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
  const b = randomBytes(31);
  return "P" + [...b].map((x) => alphabet[x % alphabet.length]).join("");
}

/** A VRRP password as random_password makes it (letters and digits). */
export function labVrrpPassword(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(VRRP_PASSWORD_LENGTH)].map((x) => alphabet[x % 62]).join("");
}

/** What AWS would have assigned, for the lab: outside addresses, fresh keys, the plan's inside /30s. */
export function labRouterValues(plan: SiteToSitePlan, i: 0 | 1): RouterValues {
  const router = plan.routers[i];
  return {
    publicAddress: LAB_INTERNET.routers[i],
    tunnels: router.tunnels.map((t, n) => ({
      outsideAddress: LAB_INTERNET.tunnels[i][n],
      presharedKey: labPresharedKey(),
      insideCidr: t.insideCidr,
      cgwInsideAddress: t.cgwInsideAddress,
      vgwInsideAddress: t.vgwInsideAddress,
      bgpAsn: String(plan.amazonSideAsn),
    })) as unknown as RouterValues["tunnels"],
  };
}

interface Node {
  readonly name: string;
  readonly ns: string;
  readonly dir: string;
}

export interface CharonNode extends Node {
  readonly conf: string;
  readonly swanctlConf: string;
  readonly run: string;
}

export class SiteToSiteLab {
  readonly lab: NetnsLab;
  readonly values: readonly [RouterValues, RouterValues];
  readonly secrets: RouterSecrets;
  /** The files each router runs (libipsec data plane), as rendered. */
  readonly routerFiles: readonly [RouterFile[], RouterFile[]];
  readonly sw: string;
  readonly routers: readonly [CharonNode, CharonNode];
  readonly standIns: readonly [CharonNode, CharonNode];
  readonly client: Node;
  readonly vpcHost: Node & { readonly address: string };
  /** The stand-ins' addresses on the VPC segment. */
  readonly standInVpcAddresses: readonly [string, string];
  private readonly frrDirs: string[] = [];

  constructor(
    readonly plan: SiteToSitePlan,
    readonly prefix: string,
    readonly dir: string,
  ) {
    this.lab = new NetnsLab(prefix);
    this.values = [labRouterValues(plan, 0), labRouterValues(plan, 1)];
    this.secrets = { vrrpPassword: labVrrpPassword() };
    const node = (name: string): Node => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true, mode: 0o700 });
      return { name, ns: `${prefix}${name}`, dir: d };
    };
    const charonNode = (name: string): CharonNode => {
      const n = node(name);
      return { ...n, conf: join(n.dir, "strongswan.conf"), swanctlConf: join(n.dir, "swanctl", "swanctl.conf"), run: join(n.dir, "run") };
    };
    this.sw = `${prefix}sw`;
    this.routers = [charonNode("r1"), charonNode("r2")];
    this.standIns = [charonNode("awsa"), charonNode("awsb")];
    this.client = node("cl");
    const vpc = plan.aws.vpcCidr;
    const base = vpc.split("/")[0].split(".").map(Number);
    const at = (n: number) => `${base[0]}.${base[1]}.${base[2]}.${base[3] + n}`;
    this.vpcHost = { ...node("vpc"), address: at(10) };
    this.standInVpcAddresses = [at(2), at(3)];
    this.routerFiles = [0, 1].map((i) =>
      renderRouterFiles(plan, plan.routers[i], this.values[i], this.secrets, {
        dataplane: "libipsec",
        updownPath: join(this.routers[i].dir, "s2s-updown.sh"),
        frrLogFile: join(FRR_RUN, this.routers[i].ns, "frr.log"),
      }),
    ) as unknown as [RouterFile[], RouterFile[]];
  }

  file(i: 0 | 1, name: RouterFile["name"]): string {
    return this.routerFiles[i].find((f) => f.name === name)!.content;
  }

  // ------------------------------------------------------------------------------ topology

  build(): void {
    const l = this.lab;
    const sw = l.namespace("sw");
    for (const br of ["inet", "vlan", "vpc"]) l.bridge(sw, br);
    const nsOf = (n: Node) => l.namespace(n.name);
    for (const n of [...this.routers, ...this.standIns, this.client, this.vpcHost]) nsOf(n);
    const plan = this.plan;
    const vlanLen = Number(plan.vlan.cidr.split("/")[1]);
    const vpcLen = Number(plan.aws.vpcCidr.split("/")[1]);
    let port = 0;
    // A veth pair per host interface, its switch end on the bridge (a segment: the VLAN passes multicast, so VRRP).
    const plug = (bridge: string, n: Node, dev: string) => {
      const p = `p${++port}`;
      l.link({ ns: sw, dev: p }, { ns: n.ns, dev });
      l.attach(sw, p, bridge);
    };
    for (const n of [...this.routers, ...this.standIns, this.client, this.vpcHost]) {
      // Lab hygiene: no IPv6 chatter; no redirects between the lab's hosts.
      l.must(n.ns, "sysctl", ["-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0"]);
    }
    this.routers.forEach((r, i) => {
      plug("inet", r, this.plan.interfaces.public);
      plug("vlan", r, this.plan.interfaces.vlan);
      l.address(r.ns, plan.interfaces.public, `${LAB_INTERNET.routers[i]}/${LAB_INTERNET.prefix}`);
      l.address(r.ns, plan.interfaces.vlan, `${plan.routers[i].vlanAddress}/${vlanLen}`);
    });
    this.standIns.forEach((a, i) => {
      plug("inet", a, "eth0");
      plug("vpc", a, "vpc0");
      for (const t of LAB_INTERNET.tunnels[i]) l.address(a.ns, "eth0", `${t}/${LAB_INTERNET.prefix}`);
      l.address(a.ns, "vpc0", `${this.standInVpcAddresses[i]}/${vpcLen}`);
      l.must(a.ns, "sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"]);
    });
    plug("vlan", this.client, plan.interfaces.vlan);
    plug("vpc", this.vpcHost, "eth0");
    l.address(this.vpcHost.ns, "eth0", `${this.vpcHost.address}/${vpcLen}`);
    // The VPC's route table: the VLAN through the VPN gateway (route propagation); here the stand-in of the first connection.
    l.route(this.vpcHost.ns, plan.vlan.cidr, "eth0", this.standInVpcAddresses[0]);
    // The client: its rendered networkd file, applied with ip.
    const nd = parseNetworkd(renderClientNetworkd(plan, plan.clients[0]));
    for (const a of nd.addresses) l.address(this.client.ns, plan.interfaces.vlan, a);
    for (const r of nd.routes) l.route(this.client.ns, r.destination, plan.interfaces.vlan, r.gateway);
    // The routers' rendered sysctl file, as the delivery applies it.
    this.routers.forEach((r, i) => {
      const f = join(r.dir, "90-s2s-router.conf");
      writeFileSync(f, this.file(i as 0 | 1, "sysctl"));
      l.must(r.ns, "sysctl", ["-q", "-p", f]);
    });
  }

  // ------------------------------------------------------------------------------ strongSwan

  private writeCharonFiles(n: CharonNode, charonOptions: string, swanctl: string, updown: string): void {
    mkdirSync(n.run, { recursive: true, mode: 0o700 });
    // swanctl --file looks for credential directories next to the file.
    for (const d of ["x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12"]) {
      mkdirSync(join(n.dir, "swanctl", d), { recursive: true });
    }
    const dropIn = join(n.dir, "charon-s2s.conf");
    writeFileSync(dropIn, charonOptions);
    writeFileSync(n.swanctlConf, swanctl, { mode: 0o600 });
    const updownPath = join(n.dir, "s2s-updown.sh");
    writeFileSync(updownPath, updown);
    chmodSync(updownPath, 0o755);
    writeFileSync(
      n.conf,
      [
        "# Rehearsal wrapper (Debian's /etc/strongswan.conf includes strongswan.d/*.conf the same way):",
        "# the rendered drop-in, then logging to a file and swanctl's own plugins.",
        `include ${dropIn}`,
        "charon {",
        "    filelog {",
        "        lab {",
        `            path = ${join(n.dir, "charon.log")}`,
        "            time_format = %H:%M:%S",
        "            ike_name = yes",
        "            flush_line = yes",
        "            default = 1",
        "        }",
        "    }",
        "    syslog {",
        "        daemon {",
        "            default = -1",
        "        }",
        "    }",
        "}",
        "swanctl {",
        "    load = random nonce aes sha1 sha2 hmac gmp pem pkcs1 x509 pubkey",
        "}",
        "",
      ].join("\n"),
    );
  }

  /** Starts the four charons and waits for their control sockets. */
  startCharons(): void {
    this.routers.forEach((r, i) => {
      const files = this.routerFiles[i];
      const get = (name: RouterFile["name"]) => files.find((f) => f.name === name)!.content;
      this.writeCharonFiles(r, get("charon"), get("swanctl"), get("updown"));
    });
    this.standIns.forEach((a, i) => {
      const router = this.plan.routers[i];
      this.writeCharonFiles(
        a,
        renderCharonOptions(this.plan, { dataplane: "libipsec" }),
        renderStandInSwanctl(this.plan, router, this.values[i], { updownPath: join(a.dir, "s2s-updown.sh") }),
        renderUpdownScript({ dataplane: "libipsec", publicInterface: "eth0" }),
      );
    });
    for (const n of this.charons()) {
      // A private /run (its own mount namespace, n.run bound over /run): charon's pidfile and socket
      // paths are compiled in. unshare and sh both exec, so the pid stays charon's.
      this.lab.spawn(n.ns, `charon-${n.name}`, ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind "$0" /run && exec "$@"', n.run, CHARON], {
        log: join(n.dir, "charon.out"),
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", STRONGSWAN_CONF: n.conf },
      });
    }
    for (const n of this.charons()) {
      if (!waitSync(() => existsSync(join(n.run, "charon.vici")), 10_000)) {
        throw new Error(`charon in ${n.ns} did not open its socket: ${tail(join(n.dir, "charon.log"))}${tail(join(n.dir, "charon.out"))}`);
      }
    }
    // Inside addresses parked on lo until each tunnel's updown moves them onto ipsec0.
    this.routers.forEach((r, i) => this.plan.routers[i].tunnels.forEach((t) => this.lab.must(r.ns, "ip", ["addr", "replace", `${t.cgwInsideAddress}/32`, "dev", "lo"])));
    this.standIns.forEach((a, i) => this.plan.routers[i].tunnels.forEach((t) => this.lab.must(a.ns, "ip", ["addr", "replace", `${t.vgwInsideAddress}/32`, "dev", "lo"])));
  }

  charons(): CharonNode[] {
    return [...this.standIns, ...this.routers];
  }

  swanctl(n: CharonNode, args: readonly string[]): string {
    const [cmd, ...rest] = args;
    const r = spawnSync("swanctl", [cmd, "--uri", `unix://${join(n.run, "charon.vici")}`, ...rest], {
      encoding: "utf8",
      timeout: 10_000,
      env: { ...process.env, STRONGSWAN_CONF: n.conf },
    });
    return (r.stdout ?? "") + (r.stderr ?? "");
  }

  /** `swanctl --load-all` of the node's swanctl.conf; throws with the output when it is rejected. */
  loadSwanctl(n: CharonNode): string {
    const out = this.swanctl(n, ["--load-all", "--file", n.swanctlConf]);
    const problem = swanctlLoadProblem(out);
    if (problem) throw new Error(`swanctl --load-all in ${n.ns}: ${problem}\n${out}`);
    return out;
  }

  /** CHILD_SAs installed on a node, by child name. */
  installedChildren(n: CharonNode): string[] {
    return this.swanctl(n, ["--list-sas"])
      .split("\n")
      .map((l) => /^\s+(\S+): #\d+, reqid \d+, INSTALLED/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => m[1]);
  }

  /** Outbound ESP bytes per CHILD_SA of a node. */
  outBytes(n: CharonNode): Record<string, number> {
    const out: Record<string, number> = {};
    let child = "";
    for (const l of this.swanctl(n, ["--list-sas"]).split("\n")) {
      const c = /^\s+(\S+): #\d+, reqid/.exec(l);
      if (c) child = c[1];
      const o = /^\s+out\s+\S+,\s+(\d+) bytes/.exec(l);
      if (o && child) out[child] = (out[child] ?? 0) + Number(o[1]);
    }
    return out;
  }

  // ------------------------------------------------------------------------------ FRR

  private frrNodes(): Node[] {
    return [...this.routers, ...this.standIns];
  }

  /** Starts zebra and bgpd (empty) in each BGP namespace. */
  startFrr(): void {
    const start = (n: Node, daemon: string, d: string) =>
      this.lab.daemon(n.ns, `${FRR_DIR}/${daemon}`, ["-N", n.ns, "-P", "0", "-i", join(d, `${daemon}.pid`), "-f", "/dev/null"], join(n.dir, `${daemon}.out`));
    const ready = (d: string, files: string[], n: Node, what: string) => {
      if (!waitSync(() => files.every((f) => existsSync(join(d, f))), 10_000)) {
        throw new Error(`${what} in ${n.ns} did not start: ${tail(join(n.dir, "zebra.out"))}${tail(join(n.dir, "bgpd.out"))}`);
      }
    };
    for (const n of this.frrNodes()) {
      const d = join(FRR_RUN, n.ns);
      mkdirSync(d, { recursive: true });
      spawnSync("chown", ["frr:frr", d]);
      this.frrDirs.push(d);
      start(n, "zebra", d);
    }
    // bgpd only once zebra listens: a bgpd that finds no zebra retries ~10 s later, and its routes
    // stay out of the kernel until then.
    for (const n of this.frrNodes()) ready(join(FRR_RUN, n.ns), ["zebra.vty", "zserv.api"], n, "zebra");
    for (const n of this.frrNodes()) start(n, "bgpd", join(FRR_RUN, n.ns));
    for (const n of this.frrNodes()) ready(join(FRR_RUN, n.ns), ["bgpd.vty"], n, "bgpd");
  }

  /** `vtysh -C` (the delivery's check), then the file applied with `vtysh -f`. */
  applyFrr(): void {
    this.frrNodes().forEach((n, k) => {
      const i = (k % 2) as 0 | 1;
      const isRouter = k < 2;
      const text = isRouter
        ? this.file(i, "frr")
        : renderStandInFrr(this.plan, this.plan.routers[i], this.values[i], {
            vpcAddress: this.standInVpcAddresses[i],
            peerVpcAddress: this.standInVpcAddresses[1 - i],
            logFile: join(FRR_RUN, n.ns, "frr.log"),
          });
      const f = join(n.dir, "frr.conf");
      writeFileSync(f, text);
      for (const args of [["-C", "-f", f], ["-f", f]]) {
        const r = spawnSync("vtysh", ["-N", n.ns, ...args], { encoding: "utf8", timeout: 20_000 });
        const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n").filter((l) => l.trim() && !/vtysh\.conf/.test(l));
        if (r.status !== 0 || out.length) throw new Error(`vtysh -N ${n.ns} ${args.join(" ")}: exit ${r.status}: ${out.join("\n")}`);
      }
    });
  }

  vtysh(n: Node, command: string): string {
    const r = spawnSync("vtysh", ["-N", n.ns, "-c", command], { encoding: "utf8", timeout: 10_000 });
    return r.stdout ?? "";
  }

  /** BGP peers of a node and their states. */
  bgpStates(n: Node): Record<string, string> {
    try {
      const d = JSON.parse(this.vtysh(n, "show bgp ipv4 unicast summary json"));
      return Object.fromEntries(Object.entries<any>(d.peers ?? {}).map(([k, v]) => [k, String(v.state)]));
    } catch {
      return {};
    }
  }

  /** Selected route's protocol and active nexthops ("ip@dev") for a prefix. */
  route(n: Node, prefix: string): { protocol: string; nexthops: string[] } | null {
    try {
      const d = JSON.parse(this.vtysh(n, `show ip route ${prefix} json`));
      for (const routes of Object.values<any[]>(d)) {
        for (const r of routes) {
          if (!r.selected) continue;
          return {
            protocol: String(r.protocol),
            nexthops: (r.nexthops ?? []).filter((h: any) => h.active).map((h: any) => `${h.ip ?? ""}@${h.interfaceName ?? "?"}`),
          };
        }
      }
    } catch {
      /* not yet */
    }
    return null;
  }

  // ------------------------------------------------------------------------------ keepalived

  /** keepalived -t (the delivery's check) inside the router's namespace, then keepalived itself. */
  startKeepalived(): void {
    this.routers.forEach((r, i) => {
      const f = join(r.dir, "keepalived.conf");
      writeFileSync(f, this.file(i as 0 | 1, "keepalived"), { mode: 0o600 });
      const t = this.lab.exec(r.ns, "keepalived", ["-t", "-f", f]);
      if (t.status !== 0) throw new Error(`keepalived -t in ${r.ns}: exit ${t.status}: ${t.stderr}${t.stdout}`);
      this.lab.daemon(
        r.ns,
        "keepalived",
        ["-P", "-n", "-l", "-D", "-G", "-f", f, "-p", join(r.dir, "keepalived.pid"), "-r", join(r.dir, "keepalived-vrrp.pid"), "-c", join(r.dir, "keepalived-checkers.pid")],
        join(r.dir, "keepalived.log"),
      );
    });
  }

  hasVip(i: 0 | 1): boolean {
    const r = this.lab.exec(this.routers[i].ns, "ip", ["-4", "-o", "addr", "show", "dev", this.plan.interfaces.vlan]);
    return r.stdout.includes(` ${this.plan.virtualIp}/`);
  }

  // ------------------------------------------------------------------------------ health

  /** Everything up: 2 CHILD_SAs per router and stand-in, every BGP session Established, the VIP on the MASTER only. */
  health(): { ok: boolean; detail: string } {
    const sas = this.charons().map((n) => `${n.name}:${this.installedChildren(n).length}`);
    const bgp = this.frrNodes().map((n) => `${n.name}[${Object.entries(this.bgpStates(n)).map(([k, v]) => `${k}=${v}`).join(" ")}]`);
    const masterIndex = this.plan.routers[0].state === "MASTER" ? 0 : 1;
    const vip = [this.hasVip(0), this.hasVip(1)];
    // Routes learnt by BGP in the kernel's view (zebra): the VPC on both routers, the VLAN on both stand-ins.
    const routes = [
      ...this.routers.map((r) => this.route(r, this.plan.aws.vpcCidr)?.protocol ?? "none"),
      ...this.standIns.map((a) => this.route(a, this.plan.vlan.cidr)?.protocol ?? "none"),
    ];
    const ok =
      routes.every((p) => p === "bgp") &&
      this.charons().every((n) => this.installedChildren(n).length >= 2) &&
      this.frrNodes().every((n) => {
        const s = Object.values(this.bgpStates(n));
        return s.length === 3 && s.every((x) => x === "Established");
      }) &&
      vip[masterIndex] &&
      !vip[1 - masterIndex];
    return { ok, detail: `SAs ${sas.join(" ")}; BGP ${bgp.join(" ")}; routes ${routes.join(",")}; VIP r1=${vip[0]} r2=${vip[1]}` };
  }

  ping(count = 3): boolean {
    return this.lab.exec(this.client.ns, "ping", ["-n", "-c", String(count), "-i", "0.2", "-W", "1", this.vpcHost.address], { timeoutMs: 10_000 }).status === 0;
  }

  /** A 10-per-second ping from the client to the VPC host, its output (with timestamps) in `file`. */
  startPing(file: string): number {
    return this.lab.daemon(this.client.ns, "ping", ["-D", "-n", "-i", "0.1", "-W", "1", this.vpcHost.address], file);
  }

  destroy(): void {
    this.lab.destroy();
    for (const d of this.frrDirs) {
      const log = join(d, "frr.log");
      const name = d.split("/").pop()!.slice(this.prefix.length);
      if (existsSync(log) && existsSync(join(this.dir, name))) writeFileSync(join(this.dir, name, "frr.log"), readFileSync(log));
      rmSync(d, { recursive: true, force: true });
    }
  }
}

/** Polls `cond` every 50 ms for up to `ms`; true once it holds. */
export function waitSync(cond: () => boolean, ms: number): boolean {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    spawnSync("sleep", ["0.05"]);
  }
}

function tail(file: string, lines = 8): string {
  if (!existsSync(file)) return "";
  return `\n${file}:\n${readFileSync(file, "utf8").split("\n").slice(-lines).join("\n")}`;
}

// ------------------------------------------------------------------------------ ping analysis

export interface PingReply {
  readonly at: number;
  readonly seq: number;
}

/** Replies from `ping -D` output: epoch seconds and icmp_seq. */
export function parsePingReplies(text: string): PingReply[] {
  const out: PingReply[] = [];
  for (const l of text.split("\n")) {
    const m = /^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)/.exec(l);
    if (m) out.push({ at: Number(m[1]), seq: Number(m[2]) });
  }
  return out;
}

/**
 * From an event (epoch seconds) to the first reply after the longest silence that follows it:
 * how many echo requests went unanswered, and how long the path was silent.
 */
export function outageAfter(replies: readonly PingReply[], event: number, until = Infinity): { lost: number; gapSeconds: number; recoveredAt: number | null } {
  let lost = 0;
  let gap = 0;
  let recoveredAt: number | null = null;
  for (let k = 1; k < replies.length; k++) {
    const a = replies[k - 1];
    const b = replies[k];
    if (b.at <= event || a.at >= until) continue;
    if (b.seq > a.seq + 1) {
      lost += b.seq - a.seq - 1;
      if (b.at - a.at > gap) {
        gap = b.at - a.at;
        recoveredAt = b.at;
      }
    }
  }
  return { lost, gapSeconds: Math.round(gap * 100) / 100, recoveredAt };
}
