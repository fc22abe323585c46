/**
 * The files an Erlang cluster node runs on, as pure functions of typed options: vm.args, sys.config,
 * the launcher that binds epmd and distribution to the tailnet address, the two systemd units, and
 * the cookie file. The construct feeds them to the node bootstrap; the rehearsal and the benchmark
 * run the very same text in network namespaces.
 *
 * Why a launcher: the node's tailnet address is only known once tailscaled has it, so it is looked
 * up at every start (`tailscale ip -4`) and handed to epmd (`ERL_EPMD_ADDRESS`) and to the VM
 * (`-kernel inet_dist_use_interface` in `ERL_ZFLAGS`, which comes last on erl's command line and so
 * wins over vm.args and sys.config). The same launcher runs the default node or your own release.
 */
import { BootstrapFile } from "../../tailnet/bootstrap/extras";
import { fail, requireIntegerInRange } from "../../validation";

/** Where things live on the node. The rehearsal points them into its lab directory. */
export interface ErlangPaths {
  /** vm.args and sys.config. @default "/etc/erlang-cluster" */
  readonly configDir: string;
  /** The service account's home: the cookie file, the VM's working directory. @default "/var/lib/erlang-cluster" */
  readonly home: string;
  /** The launcher script. @default "/usr/local/lib/erlang-cluster/launch" */
  readonly launcher: string;
  /** systemd unit files. @default "/etc/systemd/system" */
  readonly unitDir: string;
}

export const DEFAULT_PATHS: ErlangPaths = Object.freeze({
  configDir: "/etc/erlang-cluster",
  home: "/var/lib/erlang-cluster",
  launcher: "/usr/local/lib/erlang-cluster/launch",
  unitDir: "/etc/systemd/system",
});

export const EPMD_PORT = 4369;
export const EPMD_UNIT = "erlang-cluster-epmd.service";
export const NODE_UNIT = "erlang-cluster-node.service";
/** Units of Debian's erlang-base that would listen on every address; the bootstrap masks them. */
export const PACKAGED_EPMD_UNITS = ["epmd.socket", "epmd.service"] as const;

export interface ErlangRenderOptions {
  /** This node's full name, `name@host` (host: its tailnet name). */
  readonly node: string;
  /** Every member of the cluster, `name@host`; this node may be among them (a node skips itself). */
  readonly members: readonly string[];
  /** Distribution listen ports (inclusive). @default { min: 9100, max: 9105 } */
  readonly distPorts?: { readonly min: number; readonly max: number };
  /** How long a booting node waits for the listed members (ms); 0 = not at all. @default 30000 */
  readonly syncTimeoutMs?: number;
  /** Service account the node runs as. @default "erlang" */
  readonly user?: string;
  /**
   * Your own release instead of the default node: the command the launcher runs (e.g.
   * ["/opt/app/bin/app", "foreground"]), with the tailnet binding in ERL_ZFLAGS and the cookie in
   * $HOME/.erlang.cookie. @default the default node (`erl -args_file vm.args`)
   */
  readonly release?: { readonly command: readonly string[] };
  /** Longest wait at start for the tailnet address and for epmd, seconds. @default 60 */
  readonly waitSeconds?: number;
  readonly paths?: Partial<ErlangPaths>;
}

export interface ResolvedErlangRenderOptions {
  readonly node: string;
  /** "-sname" for short tailnet names (erlang@erl-tokyo-1), "-name" for fully qualified ones. */
  readonly nameFlag: "-sname" | "-name";
  readonly nodeName: string;
  readonly host: string;
  readonly members: readonly string[];
  readonly distPorts: { readonly min: number; readonly max: number };
  readonly syncTimeoutMs: number;
  readonly user: string;
  readonly release?: readonly string[];
  readonly waitSeconds: number;
  readonly paths: ErlangPaths;
}

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const NODE_NAME_RULE = "name@host: a name of letters, digits, '_' and '-' starting with a letter; a host of lower-case DNS labels (a tailnet name, optionally with its MagicDNS suffix)";

/** Splits and checks `name@host`; the host is one or more lower-case DNS labels. */
export function parseNodeName(field: string, value: unknown): { name: string; host: string } {
  const parts = typeof value === "string" ? value.split("@") : [];
  const [name, host] = parts;
  const ok =
    parts.length === 2 && NAME.test(name) && host.length <= 253 && host.split(".").every((l) => LABEL.test(l));
  if (!ok) fail(field, `${JSON.stringify(value)} is not an Erlang node name (${NODE_NAME_RULE})`);
  return { name, host };
}

function absolute(field: string, p: string): string {
  if (!/^(\/[A-Za-z0-9._@+-]+)+$/.test(p) || p.split("/").some((s) => s === "..")) fail(field, `${JSON.stringify(p)} is not an absolute path`);
  return p;
}

export function resolveErlangRenderOptions(o: ErlangRenderOptions): ResolvedErlangRenderOptions {
  const self = parseNodeName("node", o.node);
  const qualified = self.host.includes(".");
  if (!Array.isArray(o.members) || o.members.length === 0) fail("members", "must list at least one node name");
  const seen = new Set<string>();
  o.members.forEach((m, i) => {
    const { host } = parseNodeName(`members[${i}]`, m);
    if (seen.has(m)) fail(`members[${i}]`, `${m} is listed twice`);
    seen.add(m);
    // Erlang refuses connections between short-name (-sname) and long-name (-name) nodes.
    if (host.includes(".") !== qualified) {
      fail(`members[${i}]`, `${m} is ${qualified ? "a short" : "a fully qualified"} name but ${o.node} is ${qualified ? "fully qualified" : "short"}; every member must use the same kind (short tailnet names, or names with the MagicDNS suffix)`);
    }
  });
  const distPorts = o.distPorts ?? { min: 9100, max: 9105 };
  requireIntegerInRange("distPorts.min", distPorts.min, 1024, 65535);
  requireIntegerInRange("distPorts.max", distPorts.max, distPorts.min, Math.min(65535, distPorts.min + 999));
  if (distPorts.min <= EPMD_PORT && EPMD_PORT <= distPorts.max) fail("distPorts", `the range must not include epmd's port ${EPMD_PORT}`);
  const user = o.user ?? "erlang";
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user) || user === "root") fail("user", `${JSON.stringify(user)} is not an unprivileged user name`);
  let release: string[] | undefined;
  if (o.release !== undefined) {
    const cmd = o.release?.command;
    if (!Array.isArray(cmd) || cmd.length === 0) fail("release.command", "must be a non-empty argv list, e.g. [\"/opt/app/bin/app\", \"foreground\"]");
    absolute("release.command[0]", cmd[0]);
    cmd.forEach((a, i) => {
      // systemd's ExecStart splits on blanks and expands $ and %; keep arguments plain.
      if (typeof a !== "string" || !/^[A-Za-z0-9._@+=:,/-]+$/.test(a)) fail(`release.command[${i}]`, `${JSON.stringify(a)} must be plain: letters, digits and . _ @ + = : , / -`);
    });
    release = [...cmd];
  }
  const paths = { ...DEFAULT_PATHS, ...(o.paths ?? {}) };
  for (const [k, v] of Object.entries(paths)) absolute(`paths.${k}`, v);
  return {
    node: o.node,
    nameFlag: qualified ? "-name" : "-sname",
    nodeName: self.name,
    host: self.host,
    members: [...o.members],
    distPorts: { min: distPorts.min, max: distPorts.max },
    syncTimeoutMs: requireIntegerInRange("syncTimeoutMs", o.syncTimeoutMs ?? 30_000, 0, 3_600_000),
    user,
    release,
    waitSeconds: requireIntegerInRange("waitSeconds", o.waitSeconds ?? 60, 1, 3600),
    paths,
  };
}

export const vmArgsPath = (p: ErlangPaths): string => `${p.configDir}/vm.args`;
export const sysConfigPath = (p: ErlangPaths): string => `${p.configDir}/sys.config`;
export const cookiePath = (p: ErlangPaths): string => `${p.home}/.erlang.cookie`;

/** Connects to every member listed in sync_nodes_optional, every 5 s, forever (erl -eval text). */
export const RECONNECT_EVAL =
  "{ok, Ms} = application:get_env(kernel, sync_nodes_optional), " +
  "spawn(fun() -> (fun L() -> [net_kernel:connect_node(M) || M <- Ms, M =/= node()], timer:sleep(5000), L() end)() end)";

/** vm.args of the default node. No cookie here: the VM reads it from $HOME/.erlang.cookie. */
export function renderVmArgs(o: ErlangRenderOptions): string {
  const r = resolveErlangRenderOptions(o);
  return [
    "## Managed by the erlang-cluster bootstrap. Started by the launcher, which adds the tailnet address,",
    "## the distribution port range and -start_epmd false (ERL_ZFLAGS). The cookie is read from",
    "## $HOME/.erlang.cookie, never given here or on the command line.",
    `${r.nameFlag} ${r.node}`,
    `-config ${sysConfigPath(r.paths)}`,
    "-noinput",
    "## sync_nodes_optional only waits once, at boot: a member that starts later, or a tailnet slower",
    "## than the timeout, would stay apart. So the node keeps connecting to the members every 5 s (a",
    "## no-op for those already connected), and the cluster forms, and heals, by itself.",
    `-eval "${RECONNECT_EVAL}"`,
    "",
  ].join("\n");
}

/** sys.config of the default node: the cluster it forms by itself at boot. */
export function renderSysConfig(o: ErlangRenderOptions): string {
  const r = resolveErlangRenderOptions(o);
  const members = r.members.map((m) => `'${m}'`);
  return [
    "%% Managed by the erlang-cluster bootstrap.",
    "%% At boot the node connects to every member it can reach within sync_nodes_timeout (ms), then",
    "%% global keeps the mesh complete. This node may be in the list; it skips itself.",
    "[{kernel, [",
    `  {sync_nodes_optional, [${members.join(",\n                         ")}]},`,
    `  {sync_nodes_timeout, ${r.syncTimeoutMs}}`,
    "]}].",
    "",
  ].join("\n");
}

/**
 * The launcher: finds the tailnet IPv4 (waiting for it), then runs epmd bound to it, the default
 * node, your release (`exec CMD...`) or a remote shell (`remsh`), with distribution bound to it.
 */
export function renderLauncher(o: ErlangRenderOptions): string {
  const r = resolveErlangRenderOptions(o);
  return `#!/bin/bash
# Managed by the erlang-cluster bootstrap. Binds epmd and Erlang distribution to this machine's
# tailnet IPv4 only, found at each start (it is not known before tailscaled has it).
#   launch epmd              epmd in the foreground, listening on the tailnet address (+ loopback)
#   launch node [ARGS...]    the default node: erl -args_file ${vmArgsPath(r.paths)} ARGS...
#   launch exec CMD [ARGS...] your release, e.g. launch exec /opt/app/bin/app foreground
#   launch remsh             a remote shell into the local node (run it as ${r.user})
set -euo pipefail
readonly VM_ARGS=${q(vmArgsPath(r.paths))}
readonly DIST_MIN=${r.distPorts.min}
readonly DIST_MAX=${r.distPorts.max}
readonly WAIT=${r.waitSeconds}

die() {
  printf 'erlang-cluster launch: %s\\n' "$*" >&2
  exit 1
}

# A tailnet IPv4 (100.64.0.0/10) from tailscale, waiting up to WAIT seconds for tailscaled.
tailnet_ipv4() {
  local waited=0 addr a b d
  while true; do
    addr=$({ tailscale ip -4 2>/dev/null || true; } | head -n 1)
    IFS=. read -r a b _ d <<<"$addr" || true
    if [ "\${a:-}" = 100 ] && [ "\${b:-0}" -ge 64 ] 2>/dev/null && [ "\${b:-0}" -le 127 ] && [ -n "\${d:-}" ]; then
      printf '%s\\n' "$addr"
      return 0
    fi
    if [ "$waited" -ge "$WAIT" ]; then
      die "no tailnet IPv4 from 'tailscale ip -4' after \${WAIT}s (is tailscaled up and logged in?)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

# Without a readable, private cookie file the VM would make one up and stay alone: refuse instead.
check_cookie() {
  local f="\${HOME:?HOME must be set (the cookie is read from HOME/.erlang.cookie)}/.erlang.cookie"
  [ -r "$f" ] || die "$f is missing or unreadable"
  case $(stat -c %a "$f") in
    400 | 600) ;;
    *) die "$f must be mode 0400 (or 0600): the VM refuses a cookie others can read" ;;
  esac
}

# The local epmd answers (the node registers with it at start).
wait_for_epmd() {
  local waited=0
  until epmd -names >/dev/null 2>&1; do
    [ "$waited" -lt "$WAIT" ] || die "epmd is not answering after \${WAIT}s (systemctl status ${EPMD_UNIT})"
    sleep 1
    waited=$((waited + 1))
  done
}

# The node name given in vm.args (-sname or -name NAME@HOST), and which of the two flags it uses.
node_name() {
  awk '$1 == "-sname" || $1 == "-name" { print $2; exit }' "$VM_ARGS"
}
name_flag() {
  awk '$1 == "-sname" || $1 == "-name" { print $1; exit }' "$VM_ARGS"
}

# Distribution on the tailnet address and port range only; epmd is a service of its own. ERL_ZFLAGS
# comes last on the VM's command line, so these win over vm.args, sys.config and a release's flags.
dist_env() {
  local addr=$1
  export ERL_EPMD_ADDRESS="$addr"
  export ERL_ZFLAGS="\${ERL_ZFLAGS:-} -start_epmd false -kernel inet_dist_use_interface {\${addr//./,}} -kernel inet_dist_listen_min $DIST_MIN -kernel inet_dist_listen_max $DIST_MAX"
}

mode=\${1:-}
[ $# -gt 0 ] && shift
case $mode in
  epmd)
    ERL_EPMD_ADDRESS=$(tailnet_ipv4)
    export ERL_EPMD_ADDRESS
    exec epmd
    ;;
  node | exec | remsh)
    check_cookie
    addr=$(tailnet_ipv4)
    dist_env "$addr"
    wait_for_epmd
    node=$(node_name)
    [ -n "$node" ] || die "no -sname or -name in $VM_ARGS"
    case $mode in
      node) exec erl -args_file "$VM_ARGS" "$@" ;;
      exec)
        [ $# -gt 0 ] || die "usage: launch exec CMD [ARGS...]"
        # For the release's own scripts: mix releases read RELEASE_NODE/RELEASE_DISTRIBUTION.
        local_flag=$(name_flag)
        export ERLANG_CLUSTER_NODE="$node" RELEASE_NODE="$node" RELEASE_DISTRIBUTION="\${local_flag#-}"
        exec "$@"
        ;;
      remsh) exec erl "$(name_flag)" "remsh-$$@\${node#*@}" -hidden -dist_listen false -remsh "$node" ;;
    esac
    ;;
  *) die "usage: launch epmd | node [ARGS...] | exec CMD [ARGS...] | remsh" ;;
esac
`;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** epmd as a service of its own, bound to the tailnet address (the packaged epmd.socket listens everywhere). */
export function renderEpmdUnit(o: ErlangRenderOptions): string {
  const r = resolveErlangRenderOptions(o);
  return [
    "# Managed by the erlang-cluster bootstrap.",
    "[Unit]",
    "Description=Erlang port mapper (epmd) on this node's tailnet address only",
    "Documentation=man:epmd(1)",
    // Wants, not Requires: a tailscaled restart keeps the address, and epmd must outlive it, or the
    // running node would lose its registration.
    "Wants=network-online.target tailscaled.service",
    "After=network-online.target tailscaled.service",
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${r.paths.launcher} epmd`,
    "Restart=always",
    "RestartSec=5",
    "DynamicUser=yes",
    "NoNewPrivileges=yes",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** The node (default node or your release), as the service account, after epmd. */
export function renderNodeUnit(o: ErlangRenderOptions): string {
  const r = resolveErlangRenderOptions(o);
  const exec = r.release ? `${r.paths.launcher} exec ${r.release.join(" ")}` : `${r.paths.launcher} node`;
  return [
    "# Managed by the erlang-cluster bootstrap.",
    "[Unit]",
    `Description=Erlang node ${r.node}${r.release ? ` (release ${r.release[0]})` : ""}, distribution on the tailnet only`,
    `Requires=${EPMD_UNIT}`,
    `After=${EPMD_UNIT} network-online.target tailscaled.service`,
    "Wants=network-online.target tailscaled.service",
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `User=${r.user}`,
    `Group=${r.user}`,
    `Environment=HOME=${r.paths.home}`,
    `WorkingDirectory=${r.paths.home}`,
    `ExecStart=${exec}`,
    // The VM stops cleanly on SIGTERM (init:stop()).
    "KillSignal=SIGTERM",
    "TimeoutStopSec=30",
    "Restart=on-failure",
    "RestartSec=5",
    "NoNewPrivileges=yes",
    "PrivateTmp=yes",
    "ProtectSystem=full",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * Every file a node needs, for the bootstrap's `files` (and the rehearsal): the cookie (0400, the
 * service account's), vm.args, sys.config, the launcher and the two units.
 */
export function erlangNodeFiles(o: ErlangRenderOptions & { readonly cookie: string }): BootstrapFile[] {
  const r = resolveErlangRenderOptions(o);
  if (typeof o.cookie !== "string" || !/^[A-Za-z0-9]{16,255}$/.test(o.cookie)) fail("cookie", "must be 16-255 letters and digits");
  return [
    { path: cookiePath(r.paths), mode: "0400", owner: r.user, content: o.cookie },
    { path: vmArgsPath(r.paths), mode: "0644", content: renderVmArgs(o) },
    { path: sysConfigPath(r.paths), mode: "0644", content: renderSysConfig(o) },
    { path: r.paths.launcher, mode: "0755", content: renderLauncher(o) },
    { path: `${r.paths.unitDir}/${EPMD_UNIT}`, mode: "0644", content: renderEpmdUnit(o) },
    { path: `${r.paths.unitDir}/${NODE_UNIT}`, mode: "0644", content: renderNodeUnit(o) },
  ];
}
