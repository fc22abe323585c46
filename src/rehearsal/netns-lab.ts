/**
 * A small stand-in for the mesh on one machine, for the rehearsal: one bridge namespace and one
 * namespace per host, joined by veth pairs, addresses in 100.64.0.0/10 (the tailnet range), no
 * default route, so nothing can leave. Nothing is created in the root namespace. Needs root and
 * iproute2. There is no tailscaled here: path detection must (and does) report "unknown".
 */
import { spawn, spawnSync } from "child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "fs";
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

function sh(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, [...args], { encoding: "utf8", timeout: 10_000 });
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

function killPid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) return;
  try {
    process.kill(pid, "SIGTERM");
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
// A general lab: named namespaces, links between them, addresses, routes, commands and daemons,
// all tracked so `destroy()` removes everything, also after a failure. The probe's createLab above
// is one fixed topology; rehearsals that need their own (a router between two networks, say) build
// it from these. Nothing is ever created in the root namespace.

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

export class NetnsLab {
  /** Namespaces this lab created, in creation order. */
  readonly namespaces: string[] = [];
  private readonly daemons = new Set<number>();

  /** `prefix`: unique per run (include process.pid), 1-8 lower-case letters/digits. */
  constructor(readonly prefix: string) {
    if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) throw new Error(`lab prefix "${prefix}" must be 1-8 lower-case letters/digits`);
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

  /**
   * A bridge (a switch: one L2 segment, multicast included, as a VLAN) inside `ns`, with STP and
   * the forwarding delay off so ports forward at once.
   */
  bridge(ns: string, dev: string): void {
    sh("ip", ["-n", ns, "link", "add", dev, "type", "bridge", "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0"]);
    sh("ip", ["-n", ns, "link", "set", dev, "up"]);
  }

  /** Plugs `host.dev` into a bridge: a veth pair whose bridge end (`port`) is enslaved to it. */
  plug(bridge: { ns: string; dev: string; port: string }, host: { ns: string; dev: string }): void {
    this.link({ ns: bridge.ns, dev: bridge.port }, host);
    sh("ip", ["-n", bridge.ns, "link", "set", bridge.port, "master", bridge.dev]);
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

  /** Runs a command inside `ns`, bounded in time; never throws on a non-zero exit. */
  exec(ns: string, cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): ExecResult {
    const r = spawnSync("ip", ["netns", "exec", ns, cmd, ...args], { encoding: "utf8", timeout: opts.timeoutMs ?? 10_000, input: opts.input });
    return { status: r.error ? null : r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
  }

  /** Like exec, but a non-zero exit throws with the command's output. */
  must(ns: string, cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): string {
    const r = this.exec(ns, cmd, args, opts);
    if (r.status !== 0) throw new Error(`[${ns}] ${cmd} ${args.join(" ")}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /**
   * Starts a long-running program inside `ns` (`ip netns exec` execs it, so the child's pid is the
   * program's), output appended to `logFile`; returns its pid, which destroy() stops. The program
   * must stay in the foreground (a daemon that forks would leave its real pid untracked).
   * `privateRun`: the program gets its own /run (a private mount namespace with this directory
   * bound over /run), for daemons whose pidfile or socket paths are compiled in.
   */
  daemon(ns: string, cmd: string, args: readonly string[], logFile: string, opts: { env?: NodeJS.ProcessEnv; privateRun?: string } = {}): number {
    const fd = openSync(logFile, "a");
    try {
      // unshare and sh both exec, so the pid stays the program's.
      const argv = opts.privateRun
        ? ["netns", "exec", ns, "unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind "$0" /run && exec "$@"', opts.privateRun, cmd, ...args]
        : ["netns", "exec", ns, cmd, ...args];
      const child = spawn("ip", argv, { stdio: ["ignore", fd, fd], detached: false, env: opts.env ? { ...process.env, ...opts.env } : undefined });
      if (!child.pid) throw new Error(`could not start ${cmd} in ${ns}`);
      child.unref();
      this.daemons.add(child.pid);
      return child.pid;
    } finally {
      closeSync(fd);
    }
  }

  /** Stops one daemon by its pid. */
  stop(pid: number): void {
    killPid(pid);
    this.daemons.delete(pid);
  }

  /** Pids of every process inside our namespaces. */
  private pidsInside(): number[] {
    return this.namespaces.flatMap((ns) => {
      const r = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8", timeout: 5000 });
      return (r.stdout || "").split(/\s+/).filter(Boolean).map(Number);
    });
  }

  /**
   * Daemons by pid, then anything still inside our namespaces (by pid); waits (bounded) for them to
   * exit, SIGKILLs what is left, then deletes the namespaces.
   */
  destroy(): void {
    for (const pid of this.daemons) killPid(pid);
    this.daemons.clear();
    for (const p of this.pidsInside()) killPid(p);
    const deadline = Date.now() + 3000;
    let left = this.pidsInside();
    while (left.length && Date.now() < deadline) {
      spawnSync("sleep", ["0.1"]);
      left = this.pidsInside();
    }
    for (const p of left) {
      if (Number.isInteger(p) && p > 1 && p !== process.pid) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }
    for (const ns of [...this.namespaces].reverse()) spawnSync("ip", ["netns", "del", ns], { timeout: 5000 });
  }

  /** Our namespaces still present (for the teardown assertion). */
  leftovers(): string[] {
    const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8", timeout: 5000 });
    const names = new Set((r.stdout || "").split("\n").map((l) => l.split(" ")[0]).filter(Boolean));
    return this.namespaces.filter((ns) => names.has(ns));
  }
}
