/**
 * The network-namespace lab the rehearsals (and the Erlang benchmark) run in, on one machine.
 *
 * - createLab/startIperfServers/destroyLab: the probe rehearsal's fixed topology, hosts on one
 *   bridge, 100.64.0.0/10 addresses, iperf3 servers by pidfile. There is no tailscaled here: path
 *   detection must (and does) report "unknown".
 * - NetnsLab: the general lab. Namespaces named from a per-run prefix, veth links between them, a
 *   bridge in a namespace of its own, addresses and routes (100.64.0.0/10 and 169.254.0.0/16 only),
 *   /etc/netns/<ns>/hosts, a WireGuard mesh run by wireguard-go, commands and daemons (optionally as
 *   another user), all tracked so destroy() removes everything, also after a failure.
 *
 * Nothing is ever created in the root namespace and no namespace has a route out. Needs root and
 * iproute2 (and wireguard-go/wireguard-tools for wireguardMesh).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

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

/** Why the rehearsal cannot run here, or null when it can. */
export function labUnavailableReason(): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root (network namespaces need root)";
  for (const [prog, args] of [["ip", ["-V"]], ["iperf3", ["--version"]], ["ping", ["-V"]]] as const) {
    const r = spawnSync(prog, [...args], { encoding: "utf8", timeout: 5000 });
    if (r.error) return `${prog} not installed (${r.error.message})`;
  }
  const probe = `prbchk${process.pid}`;
  const add = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8", timeout: 5000 });
  if (add.status !== 0) return `ip netns add failed: ${(add.stderr || "").trim()}`;
  spawnSync("ip", ["netns", "del", probe], { timeout: 5000 });
  return null;
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

function killPid(pid: number, signal: NodeJS.Signals = "SIGTERM"): void {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
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

// ---------------------------------------------------------------------------------------------
// A general lab: named namespaces, links between them, bridges, addresses, routes, hosts files,
// WireGuard, commands and daemons, all tracked so `destroy()` removes everything, also after a
// failure. The probe's createLab above is one fixed topology; rehearsals that need their own (a
// router between two networks, three hosts on a WireGuard mesh) build it from these.

/** Addresses rehearsals may use: CGNAT (the tailnet's range) and IPv4 link-local. */
export function inLabRange(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number);
  return inCgnat(ip) || (a === 169 && b === 254);
}

/** Why a rehearsal needing `tools` (program and version-flag pairs) can't run here, or null. */
export function labToolsUnavailable(tools: readonly (readonly [string, readonly string[]])[]): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root (network namespaces need root)";
  for (const [prog, args] of tools) {
    const r = spawnSync(prog, [...args], { encoding: "utf8", timeout: 5000 });
    if (r.error) return `${prog} not installed (${r.error.message})`;
  }
  const probe = `labchk${process.pid % 1_000_000}`;
  const add = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8", timeout: 5000 });
  if (add.status !== 0) return `ip netns add failed: ${(add.stderr || "").trim()}`;
  spawnSync("ip", ["netns", "del", probe], { timeout: 5000 });
  return null;
}

export interface ExecResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How a command or daemon runs inside its namespace. */
export interface RunOptions {
  readonly timeoutMs?: number;
  readonly input?: string;
  /** The whole environment (nothing inherited). @default the caller's environment */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Run as this uid/gid (through setpriv, which execs: a daemon's pid stays its own). */
  readonly user?: { readonly uid: number; readonly gid: number };
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
/** Blocks the thread (destroy() stays synchronous for callers that don't await). */
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

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

export class NetnsLab {
  /** Namespaces this lab created, in creation order. */
  readonly namespaces: string[] = [];
  private readonly tracked = new Map<number, LabDaemon>();
  private readonly etcDirs: string[] = [];
  private readonly wgInterfaces: string[] = [];
  private wgCount = 0;
  private createdEtcNetns = false;
  private scratch?: string;

  /**
   * `prefix`: unique per run (include process.pid), 1-8 lower-case letters/digits; namespaces
   * and WireGuard interfaces are named from it.
   */
  constructor(readonly prefix: string) {
    if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) throw new Error(`lab prefix "${prefix}" must be 1-8 lower-case letters/digits`);
  }

  /** Scratch directory for keys, logs and files the lab's processes read (made on first use); destroy() removes it. */
  get dir(): string {
    this.scratch ??= mkdtempSync(join(tmpdir(), `${this.prefix}-lab-`));
    return this.scratch;
  }

  /** Daemons started by spawn() and still tracked. */
  get daemons(): readonly LabDaemon[] {
    return [...this.tracked.values()];
  }

  /** Creates namespace `<prefix><name>` with loopback up; returns its name. */
  namespace(name: string): string {
    if (!/^[a-z0-9]{1,6}$/.test(name)) throw new Error(`namespace name "${name}" must be 1-6 lower-case letters/digits`);
    const ns = `${this.prefix}${name}`;
    sh("ip", ["netns", "add", ns]);
    this.namespaces.push(ns);
    sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    return ns;
  }

  /** A veth pair made inside `a.ns` with its peer moved straight into `b.ns`; both ends up. */
  link(a: { ns: string; dev: string }, b: { ns: string; dev: string }): void {
    sh("ip", ["-n", a.ns, "link", "add", a.dev, "type", "veth", "peer", "name", b.dev, "netns", b.ns]);
    sh("ip", ["-n", a.ns, "link", "set", a.dev, "up"]);
    sh("ip", ["-n", b.ns, "link", "set", b.dev, "up"]);
  }

  /** A bridge inside `ns` (a switch of its own: the root namespace never sees it). */
  bridge(ns: string, name = "br0"): void {
    sh("ip", ["-n", ns, "link", "add", name, "type", "bridge"]);
    sh("ip", ["-n", ns, "link", "set", name, "up"]);
  }

  /** Puts `dev` (in `ns`, e.g. a veth end made by link()) on the bridge `bridge` there. */
  attach(ns: string, dev: string, bridge = "br0"): void {
    sh("ip", ["-n", ns, "link", "set", dev, "master", bridge]);
  }

  /** Adds `address/prefix` to a device; refuses anything outside the lab ranges. */
  address(ns: string, dev: string, cidr: string): void {
    const ip = cidr.split("/")[0];
    if (!inLabRange(ip)) throw new Error(`lab address ${cidr} is outside 100.64.0.0/10 and 169.254.0.0/16`);
    sh("ip", ["-n", ns, "addr", "add", cidr, "dev", dev]);
  }

  /** `ip route add <destination> [via <gateway>] dev <dev> [onlink]` in `ns`. */
  route(ns: string, destination: string, dev: string, via?: string): void {
    for (const a of [destination.split("/")[0], ...(via ? [via] : [])]) {
      if (!inLabRange(a)) throw new Error(`lab route ${destination} via ${via ?? "-"} leaves 100.64.0.0/10 and 169.254.0.0/16`);
    }
    sh("ip", ["-n", ns, "route", "add", destination, ...(via ? ["via", via] : []), "dev", dev, ...(via ? ["onlink"] : [])]);
  }

  /** /etc/netns/<ns>/hosts, which `ip netns exec` shows the processes it starts as /etc/hosts. */
  hosts(ns: string, entries: Readonly<Record<string, string>>): void {
    if (!existsSync("/etc/netns")) this.createdEtcNetns = true;
    const dir = `/etc/netns/${ns}`;
    mkdirSync(dir, { recursive: true });
    this.etcDirs.push(dir);
    const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost", ...Object.entries(entries).map(([name, ip]) => `${ip}\t${name}`)];
    writeFileSync(join(dir, "hosts"), `${lines.join("\n")}\n`);
  }

  /** Runs a command inside `ns`, bounded in time; never throws on a non-zero exit. */
  exec(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): ExecResult {
    const r = spawnSync("ip", ["netns", "exec", ns, ...asUser([cmd, ...args], opts.user)], {
      encoding: "utf8",
      timeout: opts.timeoutMs ?? 10_000,
      input: opts.input,
      env: opts.env,
      cwd: opts.cwd,
    });
    return { status: r.error ? null : r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
  }

  /** Like exec, but a non-zero exit throws with the command's output. */
  must(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): string {
    const r = this.exec(ns, cmd, args, opts);
    if (r.status !== 0) throw new Error(`[${ns}] ${cmd} ${args.join(" ")}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /**
   * Starts a long-running program inside `ns`; `ip netns exec` (and setpriv) exec it, so the pid is
   * the program's own as long as it runs in the foreground. Output is appended to `<dir>/<name>.log`.
   */
  spawn(ns: string, name: string, argv: readonly string[], opts: RunOptions & { log?: string } = {}): LabDaemon {
    const log = opts.log ?? join(this.dir, `${name}.log`);
    const fd = openSync(log, "a");
    try {
      const child = spawn("ip", ["netns", "exec", ns, ...asUser(argv, opts.user)], {
        env: opts.env ?? { PATH: DEFAULT_PATH },
        cwd: opts.cwd,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
      child.unref();
      if (child.pid === undefined) throw new Error(`could not start ${name} in ${ns}: ${argv.join(" ")}`);
      const d: LabDaemon = { name, netns: ns, pid: child.pid, log, child };
      this.tracked.set(child.pid, d);
      return d;
    } finally {
      closeSync(fd);
    }
  }

  /** spawn() for callers that only need the pid (output appended to `logFile`). */
  daemon(ns: string, cmd: string, args: readonly string[], logFile: string): number {
    return this.spawn(ns, cmd, [cmd, ...args], { log: logFile, env: process.env as Record<string, string> }).pid;
  }

  /** Stops one daemon by its pid (SIGTERM), unless it has exited already. */
  stop(pid: number): void {
    const d = this.tracked.get(pid);
    if (!d || !exited(d)) killPid(pid);
    this.tracked.delete(pid);
  }

  /** SIGTERM, up to `graceMs` to exit, then SIGKILL; resolves once the process is gone. */
  async stopAndWait(d: LabDaemon, graceMs = 10_000): Promise<void> {
    // An exited child is never signalled: its pid may belong to someone else by now.
    if (!exited(d)) {
      const gone = new Promise<void>((resolve) => d.child.once("exit", () => resolve()));
      killPid(d.pid, "SIGTERM");
      if (!(await within(gone, graceMs))) {
        killPid(d.pid, "SIGKILL");
        await within(gone, 2000);
      }
    }
    this.tracked.delete(d.pid);
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
      this.must(h.netns, "wg", ["set", ifname, "listen-port", String(51821 + i), "private-key", keys[i].file, ...peers]);
      this.address(h.netns, ifname, h.address);
      sh("ip", ["-n", h.netns, "link", "set", ifname, "up"]);
    });
    return { interfaces, daemons };
  }

  /**
   * Everything goes, also after a failure: our daemons by pid (TERM, up to 10 s, then KILL), then
   * any process still inside our namespaces (`ip netns pids`, by pid: e.g. a daemon that forked),
   * the namespaces, /etc/netns entries, stale WireGuard sockets and the scratch directory.
   * Synchronous: callers may await it or not.
   */
  destroy(): void {
    const mine = [...this.tracked.values()].filter((d) => !exited(d));
    for (const d of mine) killPid(d.pid, "SIGTERM");
    for (let waited = 0; waited < 10_000 && mine.some((d) => pidAlive(d.pid)); waited += 100) sleepSync(100);
    for (const d of mine) if (pidAlive(d.pid)) killPid(d.pid, "SIGKILL");
    this.tracked.clear();
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
      sleepSync(1000);
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
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
  }

  /** Our namespaces still present (for the teardown assertion). */
  leftovers(): string[] {
    const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8", timeout: 5000 });
    const names = new Set((r.stdout || "").split("\n").map((l) => l.split(" ")[0]).filter(Boolean));
    return this.namespaces.filter((ns) => names.has(ns));
  }
}

function asUser(argv: readonly string[], user?: { uid: number; gid: number }): string[] {
  return user ? ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", ...argv] : [...argv];
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
