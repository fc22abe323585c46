/**
 * A small stand-in for the mesh on one machine, for the rehearsal: one bridge namespace and one
 * namespace per host, joined by veth pairs, addresses in 100.64.0.0/10 (the tailnet range), no
 * default route, so nothing can leave. Nothing is created in the root namespace. Needs root and
 * iproute2. There is no tailscaled here: path detection must (and does) report "unknown".
 */
import { spawnSync } from "child_process";
import { existsSync, readFileSync, rmSync } from "fs";
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
