/**
 * Renders the bash script that turns a fresh Linode (Ubuntu/Debian) into a production mesh node:
 * Tailscale from its signed apt repository, `tailscale up` with the auth key read from a root-only
 * file, an iperf3 server on the tailnet address, and kernel tuning for long fat paths.
 *
 * The script is idempotent and says so: every step compares before it changes anything, and the
 * last line is `bootstrap: N changes` (0 on a re-run of an unchanged configuration).
 */

import { Distro, TailscaleTrack, packageFormat, tailscaleAptRepo, tailscaleRpmRepo, validateDistro } from "./distro";
import { renderDnfLibrary, renderDnfPinCheck } from "./dnf";
import { BootstrapExtras, ResolvedBootstrapExtras, hasExtras, resolveBootstrapExtras } from "./extras";
import {
  SYSCTL_FORWARDING_PATH,
  SYSCTL_TUNING_PATH,
  renderForwardingSysctl,
  renderTuningSysctl,
} from "./sysctl";
import {
  IPERF3_UNIT_NAME,
  IPERF3_UNIT_PATH,
  UDP_GRO_HELPER_PATH,
  UDP_GRO_UNIT_NAME,
  UDP_GRO_UNIT_PATH,
  renderIperf3Unit,
  renderUdpGroScript,
  renderUdpGroUnit,
} from "./systemd";
import {
  ProvisioningValidationError,
  validateAuthKey,
  validateCidrs,
  validateHostname,
  validateIntegerRange,
  validateOneOf,
  validatePort,
  validateTags,
  validateLocalUsers,
  validateTailscaleVersion,
} from "./validate";

/** Base options, plus the system-specific additions of BootstrapExtras (see ./extras). */
export interface NodeBootstrapOptions extends BootstrapExtras {
  /** Tailnet hostname and system hostname (RFC 1123 label, lower case). */
  hostname: string;
  /** ACL tags to request, e.g. ["tag:mesh"]; may be empty. */
  advertiseTags: string[];
  /** Release of the image, e.g. { id: "ubuntu", codename: "jammy" } (see distroForImage). */
  distro: Distro;
  /** Tailscale auth key; only ever written to a root-only file, never put on a command line. */
  authKey: string;
  /** Pin, e.g. "1.90.6" → `apt-get install tailscale=1.90.6`; default: latest when first installed. */
  tailscaleVersion?: string;
  /** Package track; default "stable". */
  tailscaleTrack?: TailscaleTrack;
  /** Tailscale SSH (`--ssh`); default true. */
  ssh?: boolean;
  /** iperf3 server on the tailnet IPv4; default { port: 5201 }; false to leave it out (and remove ours). */
  iperf3?: { port?: number } | false;
  /** BBR/fq/buffer sysctls and UDP GRO forwarding; default true. */
  tuning?: boolean;
  /** Subnet routes to advertise (CIDRs); enables IP forwarding when non-empty. Default none. */
  advertiseRoutes?: string[];
  /** `--accept-routes`; default false. */
  acceptRoutes?: boolean;
  /**
   * Masquerade traffic forwarded to the advertised routes as this node (Tailscale's default, true).
   * false renders `--snat-subnet-routes=false`: hosts behind the router then see tailnet addresses
   * and need a route back to 100.64.0.0/10 through it. Only meaningful with advertiseRoutes.
   */
  snatSubnetRoutes?: boolean;
  /** `--advertise-exit-node`; enables IP forwarding too. Default false. */
  advertiseExitNode?: boolean;
  /** Upper bound for waiting on cloud-init, the dpkg/apt locks and `tailscale up`; default 600. */
  waitTimeoutSeconds?: number;
  /** Unprivileged local users to create (locked password, no sudo), e.g. for Tailscale SSH; default none. */
  localUsers?: string[];
  /**
   * Peer relays (Tailscale 1.86+): the nodes whose hostname is in `hostnames` run a relay server on
   * UDP `port` (`tailscale set --relay-server-port`) and advertise `tags` besides advertiseTags; the
   * others turn the relay server off. The script is the same for every node; each node decides by
   * its own hostname. Default: none (nothing about relays is rendered).
   */
  peerRelay?: { port: number; hostnames: string[]; tags: string[] };
}

/** Oldest Tailscale that can serve and use peer relays (tailcfg capability version 121, 2025-07-19). */
export const PEER_RELAY_MIN_VERSION = "1.86.0";

/** Options after validation and defaults. */
export interface ResolvedNodeBootstrapOptions {
  hostname: string;
  advertiseTags: string[];
  distro: Distro;
  authKey: string;
  tailscaleVersion: string | undefined;
  tailscaleTrack: TailscaleTrack;
  ssh: boolean;
  iperf3Port: number | undefined;
  tuning: boolean;
  advertiseRoutes: string[];
  acceptRoutes: boolean;
  snatSubnetRoutes: boolean;
  advertiseExitNode: boolean;
  waitTimeoutSeconds: number;
  localUsers: string[];
  peerRelay: { port: number; hostnames: string[]; tags: string[] } | undefined;
  extras: ResolvedBootstrapExtras;
}

/** Heredoc delimiters used by the script; rendered content must never contain them as a line. */
export const AUTH_KEY_HEREDOC = "MESH_AUTHKEY_EOF";
export const FILE_HEREDOC = "MESH_FILE_EOF";

/** Where the key lives while `tailscale up` runs (tmpfs, root-only directory, removed by a trap). */
export const AUTH_KEY_PATH = "/run/mesh-bootstrap/tailscale-authkey";
/** Non-secret record of the settings last applied with `tailscale up`. */
export const TAILSCALE_UP_STAMP_PATH = "/var/lib/mesh-bootstrap/tailscale-up.args";

function optionalBoolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ProvisioningValidationError(field, "must be true or false");
  return value;
}

export function resolveNodeBootstrapOptions(o: NodeBootstrapOptions): ResolvedNodeBootstrapOptions {
  if (!o || typeof o !== "object") throw new ProvisioningValidationError("options", "must be an object");
  const iperf3 = o.iperf3 === undefined ? {} : o.iperf3;
  if (iperf3 !== false && (typeof iperf3 !== "object" || iperf3 === null)) {
    throw new ProvisioningValidationError("iperf3", "must be false or an object like { port: 5201 }");
  }
  const extras = resolveBootstrapExtras(o);
  const localUsers = validateLocalUsers("localUsers", o.localUsers ?? []);
  const both = extras.systemUsers.find((u) => localUsers.includes(u.name));
  if (both) throw new ProvisioningValidationError("systemUsers", `${both.name} is also in localUsers; give the service its own account`);
  const advertiseRoutes = validateCidrs("advertiseRoutes", o.advertiseRoutes ?? []);
  const snatSubnetRoutes = optionalBoolean("snatSubnetRoutes", o.snatSubnetRoutes, true);
  const advertiseExitNode = optionalBoolean("advertiseExitNode", o.advertiseExitNode, false);
  if (!snatSubnetRoutes && advertiseRoutes.length === 0) {
    throw new ProvisioningValidationError("snatSubnetRoutes", "false only changes how advertised routes are forwarded; give advertiseRoutes too, or leave it unset");
  }
  if (!snatSubnetRoutes && advertiseExitNode) {
    // tailscale/tailscale#18725: the flag also turns off masquerading of exit-node traffic, which
    // then leaves with tailnet source addresses and is dropped upstream.
    throw new ProvisioningValidationError(
      "snatSubnetRoutes",
      "false cannot be combined with advertiseExitNode: Tailscale then stops masquerading exit-node traffic too (tailscale/tailscale#18725); use separate nodes for the two roles",
    );
  }
  return {
    hostname: validateHostname("hostname", o.hostname),
    advertiseTags: validateTags("advertiseTags", o.advertiseTags),
    distro: validateDistro("distro", o.distro),
    authKey: validateAuthKey("authKey", o.authKey, AUTH_KEY_HEREDOC),
    tailscaleVersion:
      o.tailscaleVersion === undefined ? undefined : validateTailscaleVersion("tailscaleVersion", o.tailscaleVersion),
    tailscaleTrack: validateOneOf("tailscaleTrack", o.tailscaleTrack ?? "stable", ["stable", "unstable"] as const),
    ssh: optionalBoolean("ssh", o.ssh, true),
    iperf3Port: iperf3 === false ? undefined : validatePort("iperf3.port", iperf3.port ?? 5201),
    tuning: optionalBoolean("tuning", o.tuning, true),
    advertiseRoutes,
    acceptRoutes: optionalBoolean("acceptRoutes", o.acceptRoutes, false),
    snatSubnetRoutes,
    advertiseExitNode,
    waitTimeoutSeconds: validateIntegerRange("waitTimeoutSeconds", o.waitTimeoutSeconds ?? 600, 10, 86400),
    localUsers,
    peerRelay: resolvePeerRelay(o),
    extras,
  };
}

/** `--advertise-tags=<tags>` plus the relay tags on relay nodes, as one double-quoted bash word. */
function relayTagsFlag(flag: string, relayTags: readonly string[]): string {
  const base = flag.slice("--advertise-tags=".length).split(",");
  const extra = relayTags.filter((t) => !base.includes(t));
  // Tags are validated (tag:[A-Za-z0-9-]+): nothing in them is special inside double quotes.
  return `"${flag}$(if [ "$PEER_RELAY" -eq 1 ]; then printf '%s' '${extra.map((t) => `,${t}`).join("")}'; fi)"`;
}

/** True when version a >= b (MAJOR.MINOR.PATCH). */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0);
  return true;
}

function resolvePeerRelay(o: NodeBootstrapOptions): ResolvedNodeBootstrapOptions["peerRelay"] {
  const pr = o.peerRelay;
  if (pr === undefined) return undefined;
  if (typeof pr !== "object" || pr === null) throw new ProvisioningValidationError("peerRelay", "must be an object like { port: 40000, hostnames: [...], tags: [...] }");
  const port = validatePort("peerRelay.port", pr.port);
  if (!Array.isArray(pr.hostnames) || pr.hostnames.length === 0) {
    throw new ProvisioningValidationError("peerRelay.hostnames", "must name at least one relay node");
  }
  const hostnames = pr.hostnames.map((h, i) => validateHostname(`peerRelay.hostnames[${i}]`, h));
  const tags = validateTags("peerRelay.tags", pr.tags ?? []);
  if (validateTags("advertiseTags", o.advertiseTags).length === 0) {
    throw new ProvisioningValidationError("advertiseTags", "peer relays need the nodes' own tags (the relay tag is added to them)");
  }
  if (o.tailscaleVersion !== undefined && !versionAtLeast(o.tailscaleVersion, PEER_RELAY_MIN_VERSION)) {
    throw new ProvisioningValidationError(
      "tailscaleVersion",
      `${JSON.stringify(o.tailscaleVersion)} is too old for peer relays (allowed: ${PEER_RELAY_MIN_VERSION} or later, or no pin)`,
    );
  }
  return { port, hostnames, tags };
}

/** Single-quotes a value for bash. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Flags for `tailscale up`, without the auth key and the wait timeout. `--reset` makes the list the
 * complete desired settings, so a changed option never trips "flags must be the complete set".
 */
export function tailscaleUpFlags(r: ResolvedNodeBootstrapOptions, extraTags: readonly string[] = []): string[] {
  const flags = ["--reset", `--hostname=${r.hostname}`];
  const tags = [...r.advertiseTags, ...extraTags.filter((t) => !r.advertiseTags.includes(t))];
  if (tags.length > 0) flags.push(`--advertise-tags=${tags.join(",")}`);
  if (r.ssh) flags.push("--ssh");
  if (r.advertiseRoutes.length > 0) flags.push(`--advertise-routes=${r.advertiseRoutes.join(",")}`);
  if (!r.snatSubnetRoutes) flags.push("--snat-subnet-routes=false");
  if (r.advertiseExitNode) flags.push("--advertise-exit-node");
  if (r.acceptRoutes) flags.push("--accept-routes");
  return flags;
}

/**
 * `write_file PATH MODE` (or `write_owned_file PATH MODE OWNER`) fed by a quoted heredoc: content is
 * written byte for byte, no expansion, and never appears on a command line.
 */
function writeFileBlock(path: string, mode: string, content: string, owner = ""): string {
  const body = content.endsWith("\n") ? content : `${content}\n`;
  if (body.split("\n").includes(FILE_HEREDOC)) {
    throw new Error(`internal: content for ${path} contains the heredoc delimiter ${FILE_HEREDOC}`);
  }
  const call = owner ? `write_owned_file ${shQuote(path)} ${mode} ${shQuote(owner)}` : `write_file ${shQuote(path)} ${mode}`;
  return `${call} <<'${FILE_HEREDOC}'\n${body}${FILE_HEREDOC}`;
}

/** Shared helpers: logging, change counting, compare-then-write, waits and retries. */
function renderLibrary(r: ResolvedNodeBootstrapOptions): string {
  return `log() { printf 'bootstrap: %s\\n' "$*"; }
warn() { printf 'bootstrap: warning: %s\\n' "$*" >&2; }
die() {
  printf 'bootstrap: error: %s\\n' "$*" >&2
  exit 1
}
changed() {
  CHANGES=$((CHANGES + 1))
  log "changed: $*"
}

on_exit() {
  local rc=$?
  rm -f "$AUTH_KEY_FILE"
  # Terraform's remote-exec leaves its uploaded copy (which holds the key) in /tmp; remove it.
  case $0 in
    /tmp/terraform_*.sh) rm -f -- "$0" ;;
  esac
  if [ "$rc" -ne 0 ]; then
    printf 'bootstrap: failed (exit %s) after %s changes\\n' "$rc" "$CHANGES" >&2
  fi
}
trap on_exit EXIT

# write_file PATH MODE <content: replaces PATH only when its content or mode differ (WROTE=1 then).
write_file() {
  local path=$1 mode=$2 tmp
  WROTE=0
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$path.bootstrap.XXXXXX")
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a "$path")" = "$mode" ]; then
    rm -f "$tmp"
    return 0
  fi
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  WROTE=1
  changed "wrote $path"
}

# remove_file PATH: deletes a file an earlier configuration installed.
remove_file() {
  if [ -e "$1" ]; then
    rm -f "$1"
    changed "removed $1"
  fi
}

# retry CMD...: up to 5 attempts, backing off 5, 10, 20, 40 s.
retry() {
  local attempt=1 delay=5
  while true; do
    if "$@"; then
      return 0
    fi
    if [ "$attempt" -ge 5 ]; then
      warn "giving up on '$*' after $attempt attempts"
      return 1
    fi
    warn "attempt $attempt of '$*' failed; retrying in \${delay}s"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
  done
}

# True when an ancestor process is cloud-init: waiting for cloud-init from inside it would deadlock.
under_cloud_init() {
  local pid=$PPID comm cmdline
  while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    case $comm in
      cloud-init*) return 0 ;;
    esac
    cmdline=$(tr '\\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || cmdline=""
    case $cmdline in
      */cloud-init\\ *) return 0 ;;
    esac
    pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 1
  done
  return 1
}

wait_for_cloud_init() {
  if ! command -v cloud-init >/dev/null 2>&1; then
    log "cloud-init not installed; not waiting for it"
    return 0
  fi
  case $0 in
    /var/lib/cloud/*)
      log "running as cloud-init user data; not waiting for cloud-init"
      return 0
      ;;
  esac
  if under_cloud_init; then
    log "running under cloud-init; not waiting for cloud-init"
    return 0
  fi
  log "waiting up to \${WAIT_TIMEOUT}s for cloud-init to finish"
  local rc=0
  timeout "$WAIT_TIMEOUT" cloud-init status --wait >/dev/null || rc=$?
  case $rc in
    0) ;;
    124) warn "cloud-init still running after \${WAIT_TIMEOUT}s; continuing" ;;
    *) warn "cloud-init status --wait exited $rc; continuing" ;;
  esac
}

${packageFormat(r.distro) === "rpm" ? renderDnfLibrary() : `APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)

# True while another process holds an apt/dpkg lock (typically unattended-upgrades on first boot).
apt_busy() {
  if command -v fuser >/dev/null 2>&1; then
    fuser "\${APT_LOCKS[@]}" >/dev/null 2>&1
  else
    pgrep -x 'apt|apt-get|aptitude|dpkg|unattended-upgr' >/dev/null 2>&1
  fi
}

wait_for_apt_locks() {
  local waited=0
  while apt_busy; do
    if [ "$waited" -ge "$WAIT_TIMEOUT" ]; then
      warn "apt/dpkg lock still held after \${WAIT_TIMEOUT}s; trying anyway"
      return 0
    fi
    if [ "$waited" -eq 0 ]; then
      log "waiting for another apt/dpkg process to release its lock"
    fi
    sleep 5
    waited=$((waited + 5))
  done
  return 0
}

apt_get() {
  wait_for_apt_locks
  apt-get -q -o DPkg::Lock::Timeout="$WAIT_TIMEOUT" \\
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

apt_update_once() {
  if [ "$APT_UPDATED" -eq 1 ]; then
    return 0
  fi
  retry apt_get update || die "apt-get update failed"
  APT_UPDATED=1
}

# pkg_version NAME: installed version, or nothing.
# shellcheck disable=SC2016 # the format is dpkg-query's, not the shell's
pkg_version() {
  { dpkg-query -W -f='\${Status} \${Version}\\n' "$1" 2>/dev/null || true; } |
    awk '$1 == "install" && $3 == "installed" { print $4 }'
}

# ensure_packages NAME[=VERSION]...: installs only what is missing or at another version.
ensure_packages() {
  local spec name want have
  local missing=()
  for spec in "$@"; do
    name=\${spec%%=*}
    want=""
    if [ "$name" != "$spec" ]; then
      want=\${spec#*=}
    fi
    have=$(pkg_version "$name")
    if [ -z "$have" ] || { [ -n "$want" ] && [ "$have" != "$want" ]; }; then
      missing+=("$spec")
    fi
  done
  if [ "\${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  apt_update_once
  retry apt_get install -y --no-install-recommends --allow-downgrades "\${missing[@]}" ||
    die "apt-get install \${missing[*]} failed"
  changed "installed \${missing[*]}"
}`}

unit_enabled() { systemctl is-enabled --quiet "$1" 2>/dev/null; }
unit_active() { systemctl is-active --quiet "$1" 2>/dev/null; }

ensure_enabled() {
  if ! unit_enabled "$1"; then
    systemctl enable "$1"
    changed "enabled $1"
  fi
}

ensure_active() {
  if ! unit_active "$1"; then
    systemctl start "$1"
    changed "started $1"
  fi
}

# disable_unit NAME [FILE]: stops and disables a unit, and removes its file when given.
disable_unit() {
  if unit_enabled "$1"; then
    systemctl disable "$1"
    changed "disabled $1"
  fi
  if unit_active "$1"; then
    systemctl stop "$1"
    changed "stopped $1"
  fi
  if [ -n "\${2:-}" ] && [ -e "$2" ]; then
    rm -f "$2"
    systemctl daemon-reload
    changed "removed $2"
  fi
}

# words KEY=VALUE normalisation: collapses runs of blanks so "4096\\t131072" equals "4096 131072".
squash() {
  local -a w
  read -r -a w <<<"$1" || true
  printf '%s' "\${w[*]}"
}

# sysctl_file_applied FILE: true when every key in FILE already has its value in the running kernel.
sysctl_file_applied() {
  local key value current
  while IFS='=' read -r key value; do
    key=$(squash "$key")
    case $key in
      '' | '#'* | ';'*) continue ;;
    esac
    current=$(sysctl -n "$key" 2>/dev/null) || return 1
    [ "$(squash "$current")" = "$(squash "$value")" ] || return 1
  done <"$1"
  return 0
}

apply_sysctl_file() {
  if sysctl_file_applied "$1"; then
    return 0
  fi
  sysctl -q -p "$1" >/dev/null 2>&1 || true
  if sysctl_file_applied "$1"; then
    changed "applied $1"
  else
    warn "the kernel did not take every setting in $1 (see: sysctl -p $1)"
  fi
}`;
}

function renderHostnameStep(): string {
  return `step_hostname() {
  local current=""
  if [ -r /etc/hostname ]; then
    current=$(tr -d '[:space:]' </etc/hostname)
  fi
  if [ "$current" != "$NODE_HOSTNAME" ]; then
    if ! { command -v hostnamectl >/dev/null 2>&1 && hostnamectl set-hostname "$NODE_HOSTNAME"; }; then
      printf '%s\\n' "$NODE_HOSTNAME" >/etc/hostname
      hostname "$NODE_HOSTNAME" || true
    fi
    changed "hostname $current -> $NODE_HOSTNAME"
  fi

  # Resolve our own name locally (sudo and some daemons complain otherwise).
  local hosts=/etc/hosts
  [ -f "$hosts" ] || hosts=/dev/null
  if ! awk -v h="$NODE_HOSTNAME" '
      !/^[[:space:]]*#/ { for (i = 2; i <= NF; i++) { if ($i ~ /^#/) break; if ($i == h) found = 1 } }
      END { exit found ? 0 : 1 }' "$hosts"; then
    local updated
    updated=$(awk -v h="$NODE_HOSTNAME" '
      !done && /^127\\.0\\.1\\.1[[:space:]]/ { print "127.0.1.1 " h; done = 1; next }
      { print }
      END { if (!done) print "127.0.1.1 " h }' "$hosts")
    write_file /etc/hosts 644 <<<"$updated"
  fi

  # cloud-init would put the Linode label back on later boots unless told to keep our name.
  if [ -d /etc/cloud/cloud.cfg.d ]; then
    ${writeFileBlock("/etc/cloud/cloud.cfg.d/99-mesh-preserve-hostname.cfg", "644", "# Managed by the mesh node bootstrap.\npreserve_hostname: true\n")}
  fi
}`;
}

function renderTailscaleRepoStep(r: ResolvedNodeBootstrapOptions): string {
  if (packageFormat(r.distro) === "rpm") {
    const rpmRepo = tailscaleRpmRepo(r.distro, r.tailscaleTrack);
    return `step_tailscale_repo() {
  ${writeFileBlock(rpmRepo.repoPath, "644", rpmRepo.content)}
  if [ "$WROTE" -eq 1 ]; then
    # A changed definition (another track) must not be served from metadata cached for the old one.
    dnf -q clean expire-cache
  fi
}`;
  }
  const repo = tailscaleAptRepo(r.distro, r.tailscaleTrack);
  return `step_tailscale_repo() {
  ensure_packages ca-certificates curl
  if [ ! -s "$TS_KEYRING" ]; then
    local tmp first
    tmp=$(mktemp)
    if ! curl -fsSL --retry 5 --retry-delay 3 --connect-timeout 20 -o "$tmp" "$TS_KEYRING_URL"; then
      rm -f "$tmp"
      die "could not download $TS_KEYRING_URL"
    fi
    # A binary OpenPGP public key starts with a public-key packet tag; anything else (an HTML error
    # page, an armored key) would make apt reject the repository later with a vaguer message.
    first=$(od -An -tx1 -N1 "$tmp" | tr -d ' \\n')
    case $first in
      98 | 99 | 9a | c6) ;;
      *)
        rm -f "$tmp"
        die "$TS_KEYRING_URL did not return a binary OpenPGP keyring"
        ;;
    esac
    mkdir -p "$(dirname "$TS_KEYRING")"
    install -m 0644 "$tmp" "$TS_KEYRING"
    rm -f "$tmp"
    changed "installed $TS_KEYRING"
  fi
  ${writeFileBlock(repo.listPath, "644", `${repo.sourceLine}\n`)}
  if [ "$WROTE" -eq 1 ]; then
    APT_UPDATED=0
  fi
}`;
}

function renderPackagesStep(r: ResolvedNodeBootstrapOptions): string {
  const specs = [r.tailscaleVersion ? `"tailscale=$TS_VERSION"` : "tailscale"];
  if (r.iperf3Port !== undefined) specs.push("iperf3");
  if (r.tuning) specs.push("ethtool");
  // Validated package names: nothing in them the shell would read specially.
  specs.push(...r.extras.extraPackages);
  const pinCheck = r.tailscaleVersion && packageFormat(r.distro) === "rpm"
    ? renderDnfPinCheck()
    : r.tailscaleVersion
    ? `
  # Fail with a clear message when the pinned version is not (or no longer) in the repository.
  if [ "$(pkg_version tailscale)" != "$TS_VERSION" ]; then
    apt_update_once
    apt-cache show --no-all-versions "tailscale=$TS_VERSION" >/dev/null 2>&1 ||
      die "tailscale $TS_VERSION is not available from $TS_KEYRING_URL's repository"
  fi`
    : "";
  return `step_packages() {${pinCheck}
  ensure_packages ${specs.join(" ")}
  ensure_enabled tailscaled.service
  ensure_active tailscaled.service
}`;
}

function renderTuningStep(r: ResolvedNodeBootstrapOptions): string {
  if (!r.tuning) {
    return `step_tuning() {
  # Tuning is off: remove what an earlier run installed (live values stay until reboot).
  remove_file "${SYSCTL_TUNING_PATH}"
  disable_unit ${UDP_GRO_UNIT_NAME} "${UDP_GRO_UNIT_PATH}"
  remove_file "${UDP_GRO_HELPER_PATH}"
}`;
  }
  return `step_tuning() {
  ${writeFileBlock(SYSCTL_TUNING_PATH, "644", renderTuningSysctl())}
  apply_sysctl_file "${SYSCTL_TUNING_PATH}"

  ${writeFileBlock(UDP_GRO_HELPER_PATH, "755", renderUdpGroScript())}
  ${writeFileBlock(UDP_GRO_UNIT_PATH, "644", renderUdpGroUnit())}
  if [ "$WROTE" -eq 1 ]; then
    systemctl daemon-reload
  fi
  ensure_enabled ${UDP_GRO_UNIT_NAME}
  # Apply now as well; the unit repeats it on every boot.
  local result
  result=$("${UDP_GRO_HELPER_PATH}") || result="mesh-udp-gro: skipped (helper failed)"
  case $result in
    "mesh-udp-gro: changed"*) changed "$result" ;;
    *) log "$result" ;;
  esac
}`;
}

function renderForwardingStep(r: ResolvedNodeBootstrapOptions): string {
  if (r.advertiseRoutes.length === 0 && !r.advertiseExitNode) {
    return `step_forwarding() {
  remove_file "${SYSCTL_FORWARDING_PATH}"
}`;
  }
  return `step_forwarding() {
  ${writeFileBlock(SYSCTL_FORWARDING_PATH, "644", renderForwardingSysctl())}
  apply_sysctl_file "${SYSCTL_FORWARDING_PATH}"
}`;
}

function renderTailscaleUpStep(r: ResolvedNodeBootstrapOptions): string {
  if (r.authKey.split("\n").includes(AUTH_KEY_HEREDOC)) throw new Error("internal: key contains delimiter");
  return `# BackendState from tailscale status, or nothing when tailscaled does not answer.
backend_state() {
  { tailscale status --json 2>/dev/null || true; } |
    sed -n '/"BackendState"/ { s/.*"BackendState"[[:space:]]*:[[:space:]]*"\\([A-Za-z]*\\)".*/\\1/p; q; }'
}

# Waits up to 30 s while tailscaled is still starting, then prints its state.
settled_backend_state() {
  local state waited=0
  while true; do
    state=$(backend_state)
    case $state in
      "" | NoState | Starting) ;;
      *) break ;;
    esac
    if [ "$waited" -ge 30 ]; then
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  printf '%s\\n' "$state"
}

# The key goes to a root-only file on tmpfs through a quoted heredoc, so it is never on a command
# line (ps, audit logs) nor in the environment; on_exit deletes the file whatever happens.
write_auth_key() {
  mkdir -p "$(dirname "$AUTH_KEY_FILE")"
  chmod 700 "$(dirname "$AUTH_KEY_FILE")"
  (
    umask 077
    cat >"$AUTH_KEY_FILE" <<'${AUTH_KEY_HEREDOC}'
${r.authKey}
${AUTH_KEY_HEREDOC}
  )
}

step_tailscale_up() {
  local want have="" state
  want=$(printf '%s\\n' "\${TS_UP_FLAGS[@]}")
  if [ -f "$TS_UP_STAMP" ]; then
    have=$(cat "$TS_UP_STAMP")
  fi
  state=$(settled_backend_state)
  if [ "$state" = Running ] && [ "$have" = "$want" ]; then
    log "tailscale is Running with these settings; not running tailscale up"
    return 0
  fi
  if [ "$state" = Running ]; then
    # Logged in already: change settings without the key (it may be single-use and spent).
    log "tailscale is Running; applying changed settings"
    tailscale up "\${TS_UP_FLAGS[@]}" --timeout="\${WAIT_TIMEOUT}s"
  else
    log "tailscale is \${state:-not answering}; logging in"
    write_auth_key
    tailscale up "\${TS_UP_FLAGS[@]}" --auth-key="file:$AUTH_KEY_FILE" --timeout="\${WAIT_TIMEOUT}s"
    rm -f "$AUTH_KEY_FILE"
  fi
  mkdir -p "$(dirname "$TS_UP_STAMP")"
  printf '%s\\n' "$want" >"$TS_UP_STAMP"
  changed "tailscale up $(printf '%s ' "\${TS_UP_FLAGS[@]}")"
  log "tailnet IPv4: $(tailscale ip -4 2>/dev/null | head -n 1 || true)"
}`;
}

function renderUsersStep(r: ResolvedNodeBootstrapOptions): string {
  if (r.localUsers.length === 0) return "";
  return `# ensure_user NAME: an unprivileged login (locked password, no sudo) for Tailscale SSH.
ensure_user() {
  if ! id -u "$1" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash --comment "Managed by the mesh node bootstrap" "$1"
    changed "created user $1"
  fi
}

step_users() {
${r.localUsers.map((u) => `  ensure_user ${shQuote(u)}`).join("\n")}
}

`;
}

function renderIperf3Step(r: ResolvedNodeBootstrapOptions): string {
  if (r.iperf3Port === undefined) {
    return `step_iperf3() {
  disable_unit ${IPERF3_UNIT_NAME} "${IPERF3_UNIT_PATH}"
}`;
  }
  return `step_iperf3() {
  ${writeFileBlock(IPERF3_UNIT_PATH, "644", renderIperf3Unit({ port: r.iperf3Port }))}
  if [ "$WROTE" -eq 1 ]; then
    systemctl daemon-reload
    if unit_active ${IPERF3_UNIT_NAME}; then
      systemctl restart ${IPERF3_UNIT_NAME}
      changed "restarted ${IPERF3_UNIT_NAME}"
    fi
  fi
  ensure_enabled ${IPERF3_UNIT_NAME}
  ensure_active ${IPERF3_UNIT_NAME}
  # The package's own unit would listen on every address; keep it off.
  if unit_enabled iperf3.service || unit_active iperf3.service; then
    disable_unit iperf3.service
  fi
}`;
}

/**
 * The relay server is a preference of tailscaled (`tailscale set --relay-server-port`, an empty
 * value turns it off; tailscale/tailscale cmd/tailscale/cli/set.go). It runs after `tailscale up`:
 * `up` has no such flag, and a login's `up` sends complete prefs. Compared first through
 * `tailscale debug prefs` (ipn.Prefs.RelayServerPort).
 */
function renderPeerRelayStep(): string {
  return `step_peer_relay() {
  local want="" have version
  if [ "$PEER_RELAY" -eq 1 ]; then
    want=$PEER_RELAY_PORT
    # sed, not head: head closes the pipe early, and pipefail would fail on the writer's SIGPIPE.
    version=$({ tailscale version 2>/dev/null || true; } | sed -n 1p)
    if [ "$(printf '%s\\n%s\\n' "$PEER_RELAY_MIN_VERSION\" "$version" | sort -V | sed -n 1p)" != "$PEER_RELAY_MIN_VERSION" ]; then
      die "tailscale $version cannot serve as a peer relay (needs $PEER_RELAY_MIN_VERSION or later)"
    fi
  fi
  have=$({ tailscale debug prefs 2>/dev/null || true; } |
    sed -n '/"RelayServerPort"/ { s/.*"RelayServerPort"[[:space:]]*:[[:space:]]*\\([0-9]*\\).*/\\1/p; q; }')
  if [ "$have" = "$want" ]; then
    return 0
  fi
  tailscale set --relay-server-port="$want"
  if [ -n "$want" ]; then
    changed "peer relay server on UDP $want"
  else
    changed "peer relay server off"
  fi
}`;
}

/** Masks units a system never wants started (before packages whose postinst would start them). */
function renderMaskStep(r: ResolvedNodeBootstrapOptions): string {
  if (r.extras.maskUnits.length === 0) return "";
  return `# ensure_masked UNIT: links the unit to /dev/null (it can't be started, even by a package), stops it.
ensure_masked() {
  if [ "$(readlink "/etc/systemd/system/$1" 2>/dev/null || true)" != /dev/null ]; then
    systemctl mask "$1"
    changed "masked $1"
  fi
  if unit_active "$1"; then
    systemctl stop "$1"
    changed "stopped $1"
  fi
}

step_masks() {
${r.extras.maskUnits.map((u) => `  ensure_masked ${shQuote(u)}`).join("\n")}
}

`;
}

/** The system's own accounts, files and units, after the node is on the tailnet. */
function renderExtrasStep(r: ResolvedNodeBootstrapOptions): string {
  const x = r.extras;
  if (x.systemUsers.length + x.files.length + x.units.length === 0) return "";
  const users = x.systemUsers.length
    ? `# ensure_system_user NAME HOME: a service account (no password, no login shell) owning HOME.
ensure_system_user() {
  if ! id -u "$1" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$2" --create-home --shell /usr/sbin/nologin \\
      --comment "Managed by the node bootstrap" "$1"
    changed "created system user $1"
  fi
  if [ ! -d "$2" ]; then
    install -d -m 750 -o "$1" -g "$1" "$2"
    changed "created $2"
  fi
}

`
    : "";
  // Only rendered when a file has an owner, so scripts without one keep their text (and hash).
  const owned = x.files.some((f) => f.owner)
    ? `# write_owned_file PATH MODE USER:GROUP <content: write_file that also compares and sets the owner.
# The temporary file is private (mktemp) until it has its mode and owner and is renamed into place.
write_owned_file() {
  local path=$1 mode=$2 owner=$3 tmp
  WROTE=0
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$path.bootstrap.XXXXXX")
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path" && [ "$(stat -c %a "$path")" = "$mode" ] &&
    [ "$(stat -c %U:%G "$path")" = "$owner" ]; then
    rm -f "$tmp"
    return 0
  fi
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$path"
  WROTE=1
  changed "wrote $path"
}

`
    : "";
  const body: string[] = [];
  for (const u of x.systemUsers) body.push(`  ensure_system_user ${shQuote(u.name)} ${shQuote(u.home)}`);
  if (x.files.length) body.push("  local files_changed=0");
  for (const f of x.files) {
    body.push(`  ${writeFileBlock(f.path, f.mode, f.content, f.owner)}`);
    body.push('  files_changed=$((files_changed + WROTE))');
  }
  if (x.files.length && x.units.length) {
    body.push(`  if [ "$files_changed" -gt 0 ]; then
    systemctl daemon-reload
${x.units.map((u) => `    if unit_active ${shQuote(u)}; then
      systemctl restart ${shQuote(u)}
      changed "restarted ${u}"
    fi`).join("\n")}
  fi`);
  }
  for (const u of x.units) body.push(`  ensure_enabled ${shQuote(u)}\n  ensure_active ${shQuote(u)}`);
  return `${users}${owned}step_extras() {
${body.join("\n")}
}

`;
}

/** Renders the complete bootstrap script (plain bash; the caller handles Terraform escaping). */
export function renderNodeBootstrapScript(o: NodeBootstrapOptions): string {
  const r = resolveNodeBootstrapOptions(o);
  const repo = tailscaleAptRepo(r.distro, r.tailscaleTrack);
  const upFlags = tailscaleUpFlags(r);
  const vars = [
    `readonly NODE_HOSTNAME=${shQuote(r.hostname)}`,
    `readonly WAIT_TIMEOUT=${r.waitTimeoutSeconds}`,
    ...(packageFormat(r.distro) === "deb"
      ? [`readonly TS_KEYRING=${shQuote(repo.keyringPath)}`, `readonly TS_KEYRING_URL=${shQuote(repo.keyringUrl)}`]
      : []),
    ...(r.tailscaleVersion ? [`readonly TS_VERSION=${shQuote(r.tailscaleVersion)}`] : []),
    ...(r.peerRelay
      ? [
          // One-line `readonly` assignments, like every other setting: the same script serves every
          // node, and each node finds out from its own hostname whether it relays.
          "# Peer relays: the nodes named here relay for peers that can't reach each other directly.",
          `readonly PEER_RELAY_HOSTNAMES=(${r.peerRelay.hostnames.map(shQuote).join(" ")})`,
          "# shellcheck disable=SC2155 # a case statement: no failure to mask",
          'readonly PEER_RELAY=$(case " ${PEER_RELAY_HOSTNAMES[*]} " in *" $NODE_HOSTNAME "*) echo 1 ;; *) echo 0 ;; esac)',
          `readonly PEER_RELAY_PORT=${r.peerRelay.port}`,
          `readonly PEER_RELAY_MIN_VERSION=${PEER_RELAY_MIN_VERSION}`,
          `readonly TS_UP_FLAGS=(${upFlags.map((flag) => (flag.startsWith("--advertise-tags=") ? relayTagsFlag(flag, r.peerRelay!.tags) : shQuote(flag))).join(" ")})`,
        ]
      : [`readonly TS_UP_FLAGS=(${upFlags.map(shQuote).join(" ")})`]),
    `readonly TS_UP_STAMP=${shQuote(TAILSCALE_UP_STAMP_PATH)}`,
    `readonly AUTH_KEY_FILE=${shQuote(AUTH_KEY_PATH)}`,
  ];
  const features = [
    `${r.distro.id}/${r.distro.codename}`,
    `tailscale ${r.tailscaleTrack}${r.tailscaleVersion ? ` ${r.tailscaleVersion}` : ""}`,
    r.ssh ? "ssh" : "no ssh",
    r.iperf3Port !== undefined ? `iperf3 :${r.iperf3Port}` : "no iperf3",
    r.tuning ? "tuning" : "no tuning",
    r.advertiseRoutes.length > 0 ? `routes ${r.advertiseRoutes.join(",")}` : "no routes",
    ...(r.advertiseRoutes.length > 0 && !r.snatSubnetRoutes ? ["no snat"] : []),
    ...(r.advertiseExitNode ? ["exit node"] : []),
    ...(r.localUsers.length ? [`users ${r.localUsers.join(",")}`] : []),
    ...(r.peerRelay ? [`peer relay udp ${r.peerRelay.port} on ${r.peerRelay.hostnames.length}`] : []),
    ...(r.extras.extraPackages.length ? [`packages ${r.extras.extraPackages.join(",")}`] : []),
    ...(hasExtras(r.extras) ? [`${r.extras.files.length} files, units ${r.extras.units.join(",") || "none"}`] : []),
  ].join(", ");

  const parts = [
    "#!/bin/bash",
    `# Mesh node bootstrap for ${r.hostname} (${features}).`,
    "# Rendered by src/tailnet/bootstrap/node-bootstrap.ts. Safe to re-run: each step compares before it",
    "# changes anything, and the last line reports how many changes this run made.",
    'if [ -z "${BASH_VERSION:-}" ]; then exec /bin/bash "$0" "$@"; fi',
    "set -euo pipefail",
    "# Terraform uploads remote-exec scripts world-readable (0777); this one holds the auth key.",
    '# (A caller may already have deleted it, which is fine too.)',
    'case $0 in /tmp/terraform_*.sh) chmod 700 -- "$0" 2>/dev/null || true ;; esac',
    "umask 022",
    "export DEBIAN_FRONTEND=noninteractive",
    "# Ubuntu's needrestart apt hook can prompt (or restart sshd mid-provisioning); keep it out of it.",
    "export NEEDRESTART_SUSPEND=1",
    "export LC_ALL=C",
    "",
    ...vars,
    "CHANGES=0",
    "WROTE=0",
    ...(packageFormat(r.distro) === "deb" ? ["APT_UPDATED=0"] : []),
    "",
    renderLibrary(r),
    "",
    renderHostnameStep(),
    "",
    renderTailscaleRepoStep(r),
    "",
    renderMaskStep(r) + renderPackagesStep(r),
    "",
    renderTuningStep(r),
    "",
    renderForwardingStep(r),
    "",
    renderTailscaleUpStep(r),
    "",
    renderUsersStep(r) + renderIperf3Step(r),
    "",
    ...(r.peerRelay ? [renderPeerRelayStep(), ""] : []),
    ...(renderExtrasStep(r) ? [renderExtrasStep(r).trimEnd(), ""] : []),
    `main() {
  if [ "$(id -u)" -ne 0 ]; then
    die "must run as root"
  fi
  wait_for_cloud_init
  step_hostname
  step_tailscale_repo${r.extras.maskUnits.length ? "\n  step_masks" : ""}
  step_packages
  step_tuning
  step_forwarding
  step_tailscale_up${r.localUsers.length ? "\n  step_users" : ""}
  step_iperf3${r.peerRelay ? "\n  step_peer_relay" : ""}${renderExtrasStep(r) ? "\n  step_extras" : ""}
  log "$CHANGES changes"
}

main "$@"`,
    "",
  ];
  return parts.join("\n");
}
