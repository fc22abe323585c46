/**
 * The network-namespace lab every rehearsal (and the benchmarks) runs in, on one machine:
 *
 * - NetnsLab: namespaces named from a per-run prefix, a bridge in a namespace of its own, veth
 *   links into it, addresses (100.64.0.0/10 or 169.254.0.0/16 only), /etc/netns/<ns>/hosts, a
 *   WireGuard mesh run by wireguard-go, daemons started and stopped by pid (optionally as another
 *   user), and a teardown that removes all of it, also after a failure. Nothing is created in the
 *   root namespace and no namespace has a route out.
 * - createLab/startIperfServers/destroyLab: the probe rehearsal's four hosts on one bridge.
 *
 * Needs root and iproute2 (and wireguard-go/wireguard-tools for wireguardMesh).
 */
import { ChildProcess, SpawnSyncReturns, spawn, spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

function sh(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, [...args], { encoding: "utf8", timeout: 10_000, input });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export function inCgnat(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number);
  return a === 100 && b >= 64 && b <= 127;
}

/** The only ranges a lab may use: the tailnet range and link-local. */
export function labAddressAllowed(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number);
  return inCgnat(ip) || (a === 169 && b === 254);
}

/** Why a lab cannot run here (not root, a program missing, namespaces refused), or null when it can. */
export function labUnavailableReason(programs: readonly (readonly [string, readonly string[]])[] = [["ip", ["-V"]], ["iperf3", ["--version"]], ["ping", ["-V"]]]): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root (network namespaces need root)";
  for (const [prog, args] of programs) {
    const r = spawnSync(prog, [...args], { encoding: "utf8", timeout: 5000 });
    if (r.error) return `${prog} not installed (${r.error.message})`;
  }
  const probe = `labchk${process.pid}`;
  const add = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8", timeout: 5000 });
  if (add.status !== 0) return `ip netns add failed: ${(add.stderr || "").trim()}`;
  spawnSync("ip", ["netns", "del", probe], { timeout: 5000 });
  return null;
}

function killPid(pid: number, signal: NodeJS.Signals = "SIGTERM"): void {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** True while `pid` runs (a zombie counts as gone). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `p` settles within `ms` (the timer is cleared either way, so nothing keeps Node alive). */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A process the lab started and will stop by its pid. */
export interface LabDaemon {
  readonly name: string;
  readonly netns: string;
  readonly pid: number;
  /** stdout and stderr, appended. */
  readonly log: string;
  readonly child: ChildProcess;
}

export interface SpawnOptions {
  /** The whole environment (nothing is inherited). @default { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Run as this uid/gid (through setpriv, which execs: the pid stays the daemon's). */
  readonly user?: { readonly uid: number; readonly gid: number };
}

export interface WireGuardHost {
  readonly netns: string;
  /** Address peers reach this host's UDP port on (its "public" address). */
  readonly endpoint: string;
  /** The tunnel address, with prefix length, e.g. "100.80.0.1/24". */
  readonly address: string;
}

export interface WireGuardMesh {
  /** Interface name per host, in the order given (unique across namespaces). */
  readonly interfaces: readonly string[];
  readonly daemons: readonly LabDaemon[];
}

const DEFAULT_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

const exited = (d: LabDaemon) => d.child.exitCode !== null || d.child.signalCode !== null;

export class NetnsLab {
  /**
   * A lab whose namespaces are `<prefix><name>`. The prefix must be unique per run (include
   * process.pid) and short: WireGuard interface names derive from it (15 characters at most).
   */
  static create(prefix: string): NetnsLab {
    if (!/^[a-z][a-z0-9]{0,10}$/.test(prefix)) throw new Error(`lab prefix "${prefix}" must be 1-11 lower-case letters/digits, starting with a letter`);
    return new NetnsLab(prefix, mkdtempSync(join(tmpdir(), `${prefix}-lab-`)));
  }

  private readonly namespaces: string[] = [];
  private readonly daemonList: LabDaemon[] = [];
  private readonly etcDirs: string[] = [];
  private readonly wgInterfaces: string[] = [];
  private wgCount = 0;
  private createdEtcNetns = false;

  private constructor(
    readonly prefix: string,
    /** Scratch directory for keys, logs and files the lab's processes read; removed by destroy(). */
    readonly dir: string,
  ) {}

  get daemons(): readonly LabDaemon[] {
    return this.daemonList;
  }

  /** Creates namespace `<prefix><name>` with loopback up; returns its name. */
  namespace(name: string): string {
    const ns = `${this.prefix}${name}`;
    sh("ip", ["netns", "add", ns]);
    this.namespaces.push(ns);
    sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    return ns;
  }

  /** A bridge inside `ns` (a switch of its own: the root namespace never sees it). */
  bridge(ns: string, name = "br0"): void {
    sh("ip", ["-n", ns, "link", "add", name, "type", "bridge"]);
    sh("ip", ["-n", ns, "link", "set", name, "up"]);
  }

  /** A veth pair: `ifname` in `ns`, its peer `peer` in `bridgeNs` on `bridge`; both ends up. */
  link(ns: string, ifname: string, bridgeNs: string, peer: string, bridge = "br0"): void {
    // Both ends are created directly inside the namespaces: the root namespace is never touched.
    sh("ip", ["-n", ns, "link", "add", ifname, "type", "veth", "peer", "name", peer, "netns", bridgeNs]);
    sh("ip", ["-n", bridgeNs, "link", "set", peer, "master", bridge]);
    sh("ip", ["-n", bridgeNs, "link", "set", peer, "up"]);
    sh("ip", ["-n", ns, "link", "set", ifname, "up"]);
  }

  /** Adds `cidr` (e.g. "100.81.0.1/24") to `dev` in `ns`; only 100.64.0.0/10 and 169.254.0.0/16. */
  address(ns: string, dev: string, cidr: string): void {
    if (!labAddressAllowed(cidr.split("/")[0])) throw new Error(`lab address ${cidr} is outside 100.64.0.0/10 and 169.254.0.0/16`);
    sh("ip", ["-n", ns, "addr", "add", cidr, "dev", dev]);
  }

  /** /etc/netns/<ns>/hosts, which `ip netns exec` shows its processes as /etc/hosts. */
  hosts(ns: string, entries: Readonly<Record<string, string>>): void {
    if (!existsSync("/etc/netns")) this.createdEtcNetns = true;
    const dir = `/etc/netns/${ns}`;
    mkdirSync(dir, { recursive: true });
    this.etcDirs.push(dir);
    const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost", ...Object.entries(entries).map(([name, ip]) => `${ip}\t${name}`)];
    writeFileSync(join(dir, "hosts"), `${lines.join("\n")}\n`);
  }

  /** Runs a command in `ns` and waits for it (bounded). */
  exec(ns: string, argv: readonly string[], options: SpawnOptions & { timeoutMs?: number; input?: string } = {}): SpawnSyncReturns<string> {
    return spawnSync("ip", ["netns", "exec", ns, ...this.asUser(argv, options.user)], {
      encoding: "utf8",
      timeout: options.timeoutMs ?? 10_000,
      env: options.env ?? { PATH: DEFAULT_PATH },
      cwd: options.cwd,
      input: options.input,
    });
  }

  /**
   * Starts a long-running process in `ns`. `ip netns exec` (and setpriv) exec the command, so the
   * pid is the daemon's own as long as the command itself runs in the foreground.
   */
  spawn(ns: string, name: string, argv: readonly string[], options: SpawnOptions = {}): LabDaemon {
    const log = join(this.dir, `${name}.log`);
    const fd = openSync(log, "a");
    try {
      const child = spawn("ip", ["netns", "exec", ns, ...this.asUser(argv, options.user)], {
        env: options.env ?? { PATH: DEFAULT_PATH },
        cwd: options.cwd,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
      child.unref();
      if (child.pid === undefined) throw new Error(`could not start ${name}: ${argv.join(" ")}`);
      const d: LabDaemon = { name, netns: ns, pid: child.pid, log, child };
      this.daemonList.push(d);
      return d;
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM, up to `graceMs` to exit, then SIGKILL. Resolves once the process is gone. */
  async stop(d: LabDaemon, graceMs = 10_000): Promise<void> {
    // An exited child is never signalled: its pid may belong to someone else by now.
    if (!exited(d)) {
      const gone = new Promise<void>((resolve) => d.child.once("exit", () => resolve()));
      killPid(d.pid, "SIGTERM");
      if (!(await within(gone, graceMs))) {
        killPid(d.pid, "SIGKILL");
        await within(gone, 2000);
      }
    }
    const i = this.daemonList.indexOf(d);
    if (i >= 0) this.daemonList.splice(i, 1);
  }

  /** Resolves when the daemon exits by itself (true), or after `timeoutMs` (false). */
  async exited(d: LabDaemon, timeoutMs: number): Promise<boolean> {
    if (exited(d)) return true;
    return within(new Promise<void>((resolve) => d.child.once("exit", () => resolve())), timeoutMs);
  }

  /** Polls `check` every 100 ms until it returns true or `timeoutMs` passes; returns whether it did. */
  async waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (check()) return true;
      if (Date.now() > end) return false;
      await sleep(100);
    }
  }

  /**
   * A full WireGuard mesh over the hosts' "public" addresses, run by wireguard-go (userspace, TUN):
   * one interface per host, UDP port 51821 + index (from 0), each peer allowed only its tunnel address.
   */
  async wireguardMesh(hosts: readonly WireGuardHost[]): Promise<WireGuardMesh> {
    const keys = hosts.map((_, i) => {
      const priv = sh("wg", ["genkey"]).trim();
      const file = join(this.dir, `wg${i + 1}.key`);
      writeFileSync(file, `${priv}\n`, { mode: 0o600 });
      return { file, pub: sh("wg", ["pubkey"], `${priv}\n`).trim() };
    });
    const interfaces: string[] = [];
    const daemons: LabDaemon[] = [];
    for (const h of hosts) {
      // wireguard-go's control sockets are global (/var/run/wireguard/<if>.sock): names must be unique.
      const ifname = `${this.prefix}w${++this.wgCount}`;
      if (ifname.length > 15) throw new Error(`interface name ${ifname} is longer than 15 characters`);
      this.wgInterfaces.push(ifname);
      interfaces.push(ifname);
      daemons.push(this.spawn(h.netns, `wireguard-${ifname}`, ["wireguard-go", "-f", ifname], { env: { PATH: DEFAULT_PATH, WG_PROCESS_FOREGROUND: "1" } }));
    }
    for (const [i, ifname] of interfaces.entries()) {
      const up = await this.waitFor(() => existsSync(`/var/run/wireguard/${ifname}.sock`), 5000);
      if (!up) throw new Error(`wireguard-go did not create ${ifname} (log: ${readFileSync(daemons[i].log, "utf8").slice(-500)})`);
    }
    hosts.forEach((h, i) => {
      const ifname = interfaces[i];
      const peers = hosts.flatMap((p, j) =>
        j === i ? [] : ["peer", keys[j].pub, "endpoint", `${p.endpoint}:${51821 + j}`, "allowed-ips", `${p.address.split("/")[0]}/32`],
      );
      sh("ip", ["netns", "exec", h.netns, "wg", "set", ifname, "listen-port", String(51821 + i), "private-key", keys[i].file, ...peers]);
      this.address(h.netns, ifname, h.address);
      sh("ip", ["-n", h.netns, "link", "set", ifname, "up"]);
    });
    return { interfaces, daemons };
  }

  /** Namespaces of this lab still present (the teardown assertion). */
  leftovers(): string[] {
    const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8", timeout: 5000 });
    const names = new Set((r.stdout || "").split("\n").map((l) => l.split(" ")[0]).filter(Boolean));
    return this.namespaces.filter((ns) => names.has(ns));
  }

  /**
   * Everything goes, also after a failure: our daemons by pid (TERM, then KILL), then any process
   * still inside our namespaces (`ip netns pids`, by pid: e.g. a daemon that forked), the
   * namespaces, /etc/netns entries, stale WireGuard sockets and the scratch directory.
   */
  async destroy(): Promise<void> {
    await Promise.all([...this.daemonList].map((d) => this.stop(d)));
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      let found = false;
      for (const ns of this.namespaces) {
        const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8", timeout: 5000 });
        for (const p of (pids.stdout || "").split(/\s+/).filter(Boolean)) {
          found = true;
          killPid(Number(p), signal);
        }
      }
      if (!found) break;
      await sleep(1000);
    }
    for (const ns of [...this.namespaces].reverse()) spawnSync("ip", ["netns", "del", ns], { timeout: 5000 });
    for (const d of this.etcDirs) rmSync(d, { recursive: true, force: true });
    // /etc/netns itself goes too when this lab made it and nothing else is in it.
    if (this.createdEtcNetns && existsSync("/etc/netns") && readdirSync("/etc/netns").length === 0) {
      try {
        rmdirSync("/etc/netns"); // fails, harmlessly, if another lab has just put something there
      } catch {
        /* not empty any more */
      }
    }
    for (const i of this.wgInterfaces) rmSync(`/var/run/wireguard/${i}.sock`, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }

  private asUser(argv: readonly string[], user?: { uid: number; gid: number }): string[] {
    return user ? ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", ...argv] : [...argv];
  }
}

// --- The probe rehearsal's lab: hosts on one bridge, iperf3 servers by pidfile.

export interface LabHostSpec {
  readonly key: string;
  readonly region: string;
}

export interface LabHost extends LabHostSpec {
  readonly netns: string;
  readonly ip: string;
}

export interface Lab {
  readonly prefix: string;
  readonly bridgeNs: string;
  readonly hosts: readonly LabHost[];
  /** Pidfiles of servers this lab started (killed by pid on destroy). */
  readonly pidfiles: string[];
}

export interface CreateLabProps {
  /** Unique per run, e.g. `prb${process.pid}`; namespace names derive from it. */
  readonly prefix: string;
  readonly hosts: readonly LabHostSpec[];
  /** First three octets; hosts get .1, .2, ... /24. Must lie in 100.64.0.0/10. */
  readonly subnet?: string;
}

export function createLab(props: CreateLabProps): Lab {
  const subnet = props.subnet ?? "100.64.77";
  if (!/^[a-z][a-z0-9]{0,9}$/.test(props.prefix)) throw new Error(`lab prefix "${props.prefix}" must be 1-10 lower-case letters/digits`);
  if (!inCgnat(`${subnet}.1`)) throw new Error(`lab subnet ${subnet}.0/24 is outside 100.64.0.0/10`);
  if (props.hosts.length < 1 || props.hosts.length > 50) throw new Error("lab needs 1..50 hosts");
  const lab: Lab = {
    prefix: props.prefix,
    bridgeNs: `${props.prefix}br`,
    hosts: props.hosts.map((h, i) => ({ ...h, netns: `${props.prefix}h${i + 1}`, ip: `${subnet}.${i + 1}` })),
    pidfiles: [],
  };
  try {
    sh("ip", ["netns", "add", lab.bridgeNs]);
    sh("ip", ["-n", lab.bridgeNs, "link", "add", "br0", "type", "bridge"]);
    sh("ip", ["-n", lab.bridgeNs, "link", "set", "br0", "up"]);
    lab.hosts.forEach((h, i) => {
      sh("ip", ["netns", "add", h.netns]);
      // Both ends are created directly inside the namespaces: the root namespace is never touched.
      sh("ip", ["-n", h.netns, "link", "add", "eth0", "type", "veth", "peer", "name", `v${i + 1}`, "netns", lab.bridgeNs]);
      sh("ip", ["-n", lab.bridgeNs, "link", "set", `v${i + 1}`, "master", "br0"]);
      sh("ip", ["-n", lab.bridgeNs, "link", "set", `v${i + 1}`, "up"]);
      sh("ip", ["-n", h.netns, "addr", "add", `${h.ip}/24`, "dev", "eth0"]);
      sh("ip", ["-n", h.netns, "link", "set", "eth0", "up"]);
      sh("ip", ["-n", h.netns, "link", "set", "lo", "up"]);
    });
  } catch (e) {
    destroyLab(lab);
    throw e;
  }
  return lab;
}

/** Starts `iperf3 -s` (daemon, bound to the host's address, pidfile) in every host namespace. */
export function startIperfServers(lab: Lab, port: number): void {
  for (const h of lab.hosts) {
    const pidfile = join(tmpdir(), `${lab.prefix}-${h.key}-${port}.iperf3.pid`);
    lab.pidfiles.push(pidfile);
    sh("ip", ["netns", "exec", h.netns, "iperf3", "-s", "-D", "-B", h.ip, "-p", String(port), "--pidfile", pidfile]);
  }
}

/**
 * Tears everything down, also after a failure: servers by the pids in our pidfiles, then any
 * process still inside our namespaces (`ip netns pids`, by pid), then the namespaces.
 */
export function destroyLab(lab: Lab, extraPidfiles: readonly string[] = []): void {
  for (const pf of [...lab.pidfiles, ...extraPidfiles]) {
    if (existsSync(pf)) {
      killPid(Number(readFileSync(pf, "utf8").trim()));
      rmSync(pf, { force: true });
    }
  }
  for (const ns of [...lab.hosts.map((h) => h.netns), lab.bridgeNs]) {
    const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8", timeout: 5000 });
    for (const p of (pids.stdout || "").split(/\s+/).filter(Boolean)) killPid(Number(p));
  }
  for (const ns of [...lab.hosts.map((h) => h.netns), lab.bridgeNs]) {
    spawnSync("ip", ["netns", "del", ns], { timeout: 5000 });
  }
}

/** Lists our namespaces still present (for the teardown assertion). */
export function leftoverNamespaces(lab: Lab): string[] {
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8", timeout: 5000 });
  const names = new Set((r.stdout || "").split("\n").map((l) => l.split(" ")[0]).filter(Boolean));
  return [...lab.hosts.map((h) => h.netns), lab.bridgeNs].filter((ns) => names.has(ns));
}

/** The inventory (line format) the CLI reads for this lab. */
export function labInventory(lab: Lab): string {
  return (
    lab.hosts
      .map((h) => `key=${h.key} label=rehearsal-${h.region} region=${h.region} tailnet_hostname=rehearsal-${h.region} tailnet_ip=${h.ip} netns=${h.netns}`)
      .join("\n") + "\n"
  );
}

/** What systemd would run for a rendered service unit (the subset the rehearsals' units use). */
export interface ServiceCommand {
  readonly argv: string[];
  readonly environment: Record<string, string>;
  readonly user?: string;
  readonly workingDirectory?: string;
}

/**
 * Reads ExecStart, Environment, User and WorkingDirectory from a unit's [Service] section, so a
 * rehearsal runs exactly the command the rendered unit gives systemd. Handles what the project's
 * units use (blank-separated words, `$$` for `$`) and refuses what it does not handle.
 */
export function serviceCommand(unit: string): ServiceCommand {
  let section = "";
  const out: { argv?: string[]; environment: Record<string, string>; user?: string; workingDirectory?: string } = { environment: {} };
  for (const raw of unit.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1];
      continue;
    }
    if (section !== "Service") continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (/["'\\%]/.test(value) || value.replace(/\$\$/g, "").includes("$")) {
      throw new Error(`serviceCommand: ${key}= uses quoting, escapes or specifiers it does not handle: ${value}`);
    }
    const words = value.replace(/\$\$/g, "$").split(/\s+/).filter(Boolean);
    if (key === "ExecStart") {
      if (out.argv) throw new Error("serviceCommand: more than one ExecStart");
      out.argv = words;
    } else if (key === "Environment") {
      for (const w of words) out.environment[w.slice(0, w.indexOf("="))] = w.slice(w.indexOf("=") + 1);
    } else if (key === "User") out.user = value;
    else if (key === "WorkingDirectory") out.workingDirectory = value;
  }
  if (!out.argv?.length) throw new Error("serviceCommand: no ExecStart in [Service]");
  return { ...out, argv: out.argv };
}
