/**
 * An Erlang cluster in the namespace lab, for the rehearsal and the benchmark: N hosts on a bridge
 * ("public" addresses), a WireGuard mesh between them run by wireguard-go (the "tailnet"), tailnet
 * names in /etc/netns/<ns>/hosts, and on every host exactly the files erlangNodeFiles() renders for
 * the stack, with only their directories moved into the lab. epmd and the node are started with the
 * command lines the rendered units give systemd, as an unprivileged user standing in for the
 * units' `User=erlang` and `DynamicUser=yes`.
 *
 * The one stand-in: there is no tailscaled here, so `tailscale ip -4` (what the launcher asks) is
 * answered by a two-line stub that prints the host's WireGuard address.
 */
import { spawnSync } from "child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { dirname, join } from "path";
import { LabDaemon, NetnsLab, labToolsUnavailable, pidAlive, serviceCommand } from "../../rehearsal/netns-lab";
import { CONTROL_HOSTNAME, CONTROL_IP, JoinResult, TailnetLab, TailnetLabNode } from "../../rehearsal/tailnet-lab";
import { EPMD_UNIT, ErlangPaths, NODE_UNIT, erlangNodeFiles } from "./render";

/** Why an Erlang lab cannot run here, or null. */
export function erlangLabUnavailableReason(): string | null {
  const base = labToolsUnavailable([
    ["ip", ["-V"]],
    ["wireguard-go", ["--version"]],
    ["wg", ["--version"]],
    ["erl", ["-version"]],
    ["epmd", ["-names"]], // exits non-zero when no epmd runs, but proves the binary is there
    ["setpriv", ["--version"]],
  ]);
  if (base) return base;
  if (!existsSync("/dev/net/tun")) return "no /dev/net/tun (wireguard-go needs TUN)";
  const nobody = spawnSync("getent", ["passwd", String(LAB_USER.uid)], { encoding: "utf8" });
  if (nobody.status !== 0) return `no user with uid ${LAB_USER.uid} (the lab runs Erlang as ${LAB_USER.name})`;
  return null;
}

/** The unprivileged account the lab runs Erlang as (the units' User=erlang / DynamicUser). */
export const LAB_USER = { uid: 65534, gid: 65534, name: "nobody" } as const;

export interface ErlangLabHost {
  readonly index: number;
  readonly netns: string;
  /** Tailnet name, as MagicDNS would give it (resolved through /etc/netns/<ns>/hosts). */
  readonly host: string;
  /** Its name on the "public" side (for the benchmark's plain and TLS cases). */
  readonly publicName: string;
  readonly node: string;
  readonly tailnetIp: string;
  readonly publicIp: string;
  readonly wgInterface: string;
  readonly dir: string;
  readonly paths: ErlangPaths;
  /** bin directory first on the services' PATH (holds the `tailscale` stand-in). */
  readonly bin: string;
  epmd?: LabDaemon;
  beam?: LabDaemon;
}

export interface ErlangLab {
  readonly lab: NetnsLab;
  readonly hosts: ErlangLabHost[];
  readonly members: readonly string[];
  readonly cookie: string;
  readonly wireguard: readonly LabDaemon[];
}

export interface CreateErlangLabProps {
  /** Unique per run, e.g. `erl${process.pid}`. */
  readonly prefix: string;
  readonly hosts?: number;
  /** Third octet of the lab's /24s: tailnet 100.80.<n>.0/24, public 100.81.<n>.0/24. @default 0 */
  readonly subnet?: number;
  readonly nodeName?: string;
  readonly cookie: string;
  readonly syncTimeoutMs?: number;
  readonly distPorts?: { min: number; max: number };
}

/** Builds the network and writes every host's rendered files; starts nothing Erlang yet. */
export async function createErlangLab(props: CreateErlangLabProps): Promise<ErlangLab> {
  const lab = new NetnsLab(props.prefix);
  try {
    const n = props.hosts ?? 3;
    const sub = props.subnet ?? 0;
    const nodeName = props.nodeName ?? "erlang";
    const bridgeNs = lab.namespace("br");
    lab.bridge(bridgeNs);
    const base = Array.from({ length: n }, (_, i) => {
      const netns = lab.namespace(`n${i + 1}`);
      lab.link({ ns: netns, dev: "pub" }, { ns: bridgeNs, dev: `p${i + 1}` });
      lab.attach(bridgeNs, `p${i + 1}`);
      const publicIp = `100.81.${sub}.${i + 1}`;
      lab.address(netns, "pub", `${publicIp}/24`);
      return { index: i + 1, netns, publicIp, tailnetIp: `100.80.${sub}.${i + 1}`, host: `erl-lab-${i + 1}`, publicName: `pub-${i + 1}` };
    });
    const mesh = await lab.wireguardMesh(base.map((h) => ({ netns: h.netns, endpoint: h.publicIp, address: `${h.tailnetIp}/24` })));
    const names: Record<string, string> = {};
    for (const h of base) {
      names[h.host] = h.tailnetIp;
      names[h.publicName] = h.publicIp;
    }
    for (const h of base) lab.hosts(h.netns, names);

    const hosts = writeHostFiles(lab, props, base, nodeName, (i) => mesh.interfaces[i], (bin, i) =>
      // Stands in for `tailscale ip -4`: the host's WireGuard address, read from the interface.
      writeRendered(
        join(bin, "tailscale"),
        `#!/bin/sh\n# lab stand-in: tailscale ip -4 → the WireGuard interface's address\n[ "$1 $2" = "ip -4" ] || exit 2\nip -4 -o addr show dev ${mesh.interfaces[i]} | awk '{ split($4, a, "/"); print a[1] }'\n`,
        "0755",
      ),
    );
    return { lab, hosts, members: hosts.map((h) => h.node), cookie: props.cookie, wireguard: mesh.daemons };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

interface BaseHost {
  readonly index: number;
  readonly netns: string;
  readonly publicIp: string;
  readonly tailnetIp: string;
  readonly host: string;
  readonly publicName: string;
}

/** Writes every host's rendered files (directories moved into the lab) and its `tailscale`. */
function writeHostFiles(
  lab: NetnsLab,
  props: CreateErlangLabProps,
  base: readonly BaseHost[],
  nodeName: string,
  iface: (i: number) => string,
  writeTailscale: (bin: string, i: number) => void,
): ErlangLabHost[] {
  // The lab directory must be traversable by the unprivileged user; each host's home is its own.
  chmodSync(lab.dir, 0o711);
  const members = base.map((h) => `${nodeName}@${h.host}`);
  return base.map((h, i) => {
    const dir = join(lab.dir, `host${h.index}`);
    const paths: ErlangPaths = { configDir: join(dir, "etc"), home: join(dir, "home"), launcher: join(dir, "bin", "launch"), unitDir: join(dir, "units") };
    const bin = join(dir, "bin");
    for (const d of [dir, paths.configDir, paths.unitDir, bin]) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
    }
    mkdirSync(paths.home, { mode: 0o700 });
    chownSync(paths.home, LAB_USER.uid, LAB_USER.gid);
    const files = erlangNodeFiles({
      node: members[i],
      members,
      cookie: props.cookie,
      syncTimeoutMs: props.syncTimeoutMs,
      distPorts: props.distPorts,
      paths,
    });
    for (const f of files) writeRendered(f.path, f.content, f.mode, f.owner);
    writeTailscale(bin, i);
    return { ...h, node: members[i], wgInterface: iface(i), dir, paths, bin };
  });
}

/**
 * The same cluster on the lab tailnet (src/rehearsal/tailnet-lab.ts): each host is a lab node that
 * joined with `joinScript(hostname)` (a rendered bootstrap), its tailnet address is the one
 * headscale gave it, and `tailscale ip -4` is the real client (through the node's wrapper). Names
 * resolve to tailnet addresses through /etc/netns/<ns>/hosts, standing in for MagicDNS.
 */
export async function createErlangLabOnTailnet(
  tailnet: TailnetLab,
  props: Omit<CreateErlangLabProps, "prefix" | "subnet"> & { readonly joinScript: (hostname: string) => string },
): Promise<ErlangLab & { readonly joins: readonly JoinResult[] }> {
  const n = props.hosts ?? 3;
  const nodeName = props.nodeName ?? "erlang";
  const nodes: TailnetLabNode[] = [];
  for (let i = 1; i <= n; i++) nodes.push(await tailnet.addNode(`e${i}`));
  const joins = await Promise.all(nodes.map((node, i) => tailnet.join(node, props.joinScript(`erl-lab-${i + 1}`))));
  joins.forEach((j, i) => {
    if (j.status !== 0) throw new Error(`erl-lab-${i + 1} did not join: ${j.output.slice(-600)}`);
  });
  const base: BaseHost[] = nodes.map((node, i) => {
    const ip = tailnet.status(node)?.Self.TailscaleIPs.find((a) => a.includes("."));
    if (!ip) throw new Error(`erl-lab-${i + 1} has no tailnet IPv4`);
    return { index: i + 1, netns: node.ns, publicIp: node.ip, tailnetIp: ip, host: `erl-lab-${i + 1}`, publicName: `pub-${i + 1}` };
  });
  const names: Record<string, string> = { [CONTROL_HOSTNAME]: CONTROL_IP };
  for (const h of base) {
    names[h.host] = h.tailnetIp;
    names[h.publicName] = h.publicIp;
  }
  for (const h of base) tailnet.net.hosts(h.netns, names);
  // The service account runs `tailscale ip -4`: a copy of the CLI it may execute (the cache may sit
  // in root's home), talking to the node's tailscaled.
  const hosts = writeHostFiles(tailnet.net, { ...props, prefix: tailnet.props.prefix }, base, nodeName, () => "tailscale0", (bin, i) => {
    copyFileSync(tailnet.programs.tailscale, join(bin, "tailscale.bin"));
    chmodSync(join(bin, "tailscale.bin"), 0o755);
    writeRendered(join(bin, "tailscale"), `#!/bin/sh\nexec '${join(bin, "tailscale.bin")}' --socket='${nodes[i].socket}' "$@"\n`, "0755");
  });
  return { lab: tailnet.net, hosts, members: hosts.map((h) => h.node), cookie: props.cookie, wireguard: [], joins };
}

/** Writes a rendered file as the bootstrap would (a newline added when missing); the service account is LAB_USER. */
function writeRendered(path: string, content: string, mode: string, owner?: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content.endsWith("\n") ? content : `${content}\n`, { mode: 0o600 });
  if (owner) chownSync(path, LAB_USER.uid, LAB_USER.gid);
  chmodSync(path, parseInt(mode, 8));
}

/** The environment systemd would give the unit, with the lab's bin first on PATH. */
function unitEnv(h: ErlangLabHost, env: Record<string, string>, user?: string): Record<string, string> {
  return {
    PATH: `${h.bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
    LANG: "C.UTF-8",
    ...(user ? { USER: LAB_USER.name, LOGNAME: LAB_USER.name } : {}),
    ...env,
  };
}

/** Starts epmd with the rendered epmd unit's command; resolves once it listens on the tailnet address. */
export async function startEpmd(e: ErlangLab, h: ErlangLabHost): Promise<LabDaemon> {
  const unit = readUnit(h, EPMD_UNIT);
  const cmd = serviceCommand(unit);
  h.epmd = e.lab.spawn(h.netns, `epmd-${h.index}`, cmd.argv, { env: unitEnv(h, cmd.environment), user: LAB_USER, cwd: "/" });
  const ok = await e.lab.waitFor(() => listeners(e, h).some((l) => l.local === `${h.tailnetIp}:4369`), 10_000);
  if (!ok) throw new Error(`epmd on host ${h.index} is not listening on ${h.tailnetIp}:4369 (log ${h.epmd.log})`);
  return h.epmd;
}

/** Starts the node with the rendered node unit's command (plus `extraArgs` for erl, e.g. a code path). */
export function startNode(e: ErlangLab, h: ErlangLabHost, extraArgs: readonly string[] = []): LabDaemon {
  const cmd = serviceCommand(readUnit(h, NODE_UNIT));
  h.beam = e.lab.spawn(h.netns, `node-${h.index}`, [...cmd.argv, ...extraArgs], {
    env: unitEnv(h, cmd.environment, cmd.user),
    user: LAB_USER,
    cwd: cmd.workingDirectory,
  });
  return h.beam;
}

function readUnit(h: ErlangLabHost, name: string): string {
  return readFileSync(join(h.paths.unitDir, name), "utf8");
}

export interface Listener {
  readonly local: string;
  readonly process: string;
}

/** TCP listeners in the host's namespace (`ss -ltnpH`). */
export function listeners(e: ErlangLab, h: ErlangLabHost): Listener[] {
  const r = e.lab.exec(h.netns, "ss", ["-ltnpH"]);
  return (r.stdout || "")
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return { local: f[3], process: /users:\(\("([^"]+)"/.exec(l)?.[1] ?? "" };
    });
}

/**
 * Runs Erlang `code` in a short-lived hidden node on host `h` (no listener, no epmd registration),
 * as the service account with HOME `home` (whose .erlang.cookie it uses: nothing on its command
 * line). `code` must end by halting. Returns stdout.
 */
export function probeEval(e: ErlangLab, h: ErlangLabHost, code: string, home = h.paths.home, timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
  const r = e.lab.exec(
    h.netns,
    "erl",
    [h.host.includes(".") ? "-name" : "-sname", `probe${process.pid}x${h.index}@${h.host}`, "-hidden", "-dist_listen", "false", "-start_epmd", "false", "-noshell", "-eval", code],
    { env: unitEnv(h, { HOME: home }, "erlang"), user: LAB_USER, cwd: home, timeoutMs },
  );
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Stops every Erlang daemon of the lab (nodes first, then epmd), by pid. */
export async function stopErlang(e: ErlangLab): Promise<void> {
  await Promise.all(e.hosts.filter((h) => h.beam && pidAlive(h.beam.pid)).map((h) => e.lab.stopAndWait(h.beam!)));
  await Promise.all(e.hosts.filter((h) => h.epmd && pidAlive(h.epmd.pid)).map((h) => e.lab.stopAndWait(h.epmd!)));
}
