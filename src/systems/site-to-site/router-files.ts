/**
 * Everything a router runs, as files, and the script that installs them: the delivery step uploads
 * each file to a staging path, then runs the apply script, which installs the packages, checks each
 * file with its own daemon before anything is installed or reloaded, and reloads only what changed.
 */
import { CHARON_OPTIONS_PATH, Dataplane, renderCharonOptions, renderSwanctlConf, renderUpdownScript, SWANCTL_CONF_PATH, SWANCTL_LOAD_ERROR_PATTERN, SWANCTL_LOAD_OK_PATTERN, UPDOWN_PATH } from "./strongswan";
import { FRR_CONF_PATH, renderFrrConf } from "./frr";
import { KEEPALIVED_CONF_PATH, renderKeepalivedConf } from "./keepalived";
import { RouterPlan, SiteToSitePlan } from "./plan";
import { RouterSecrets, RouterValues } from "./values";

export type RouterFileName = "sysctl" | "updown" | "charon" | "swanctl" | "frr" | "keepalived";

export interface RouterFile {
  readonly name: RouterFileName;
  readonly path: string;
  readonly mode: "0600" | "0640" | "0644" | "0755";
  readonly owner: "root" | "frr";
  readonly content: string;
  /** Holds a secret (a pre-shared key, the VRRP password). */
  readonly sensitive: boolean;
}

export const SYSCTL_PATH = "/etc/sysctl.d/90-s2s-router.conf";
/** Where the delivery uploads the files (a root-only directory it makes first) before the apply script installs them. */
export const STAGING_DIR = "/var/lib/s2s/staged";
export function stagedPath(name: RouterFileName): string {
  return `${STAGING_DIR}/${name}`;
}

/** The packages a router needs (production, XFRM). frr-pythontools gives `systemctl reload frr`. */
export const ROUTER_PACKAGES = ["charon-systemd", "strongswan-swanctl", "libstrongswan-standard-plugins", "frr", "frr-pythontools", "keepalived"] as const;

export function renderRouterSysctl(): string {
  return [
    "# Managed by the site-to-site stack: this router forwards between the VLAN and the tunnels.",
    "net.ipv4.ip_forward = 1",
    // Loose reverse-path filtering: replies may come back through the other tunnel (ECMP at AWS).
    "net.ipv4.conf.all.rp_filter = 2",
    "net.ipv4.conf.default.rp_filter = 2",
    "",
  ].join("\n");
}

export interface RouterFilesOptions {
  readonly dataplane: Dataplane;
  /** The updown script's path on the router. @default UPDOWN_PATH */
  readonly updownPath?: string;
  readonly frrLogFile?: string;
}

/** The router's files in install order. */
export function renderRouterFiles(plan: SiteToSitePlan, router: RouterPlan, values: RouterValues, secrets: RouterSecrets, o: RouterFilesOptions): RouterFile[] {
  return [
    { name: "sysctl", path: SYSCTL_PATH, mode: "0644", owner: "root", content: renderRouterSysctl(), sensitive: false },
    { name: "updown", path: UPDOWN_PATH, mode: "0755", owner: "root", content: renderUpdownScript({ dataplane: o.dataplane, publicInterface: plan.interfaces.public }), sensitive: false },
    { name: "charon", path: CHARON_OPTIONS_PATH, mode: "0644", owner: "root", content: renderCharonOptions(plan, { dataplane: o.dataplane }), sensitive: false },
    { name: "swanctl", path: SWANCTL_CONF_PATH, mode: "0600", owner: "root", content: renderSwanctlConf(plan, router, values, { dataplane: o.dataplane, updownPath: o.updownPath }), sensitive: true },
    { name: "frr", path: FRR_CONF_PATH, mode: "0640", owner: "frr", content: renderFrrConf(plan, router, values, { logFile: o.frrLogFile }), sensitive: false },
    { name: "keepalived", path: KEEPALIVED_CONF_PATH, mode: "0600", owner: "root", content: renderKeepalivedConf(plan, router, secrets), sensitive: true },
  ];
}

/**
 * The script the delivery runs on a router after uploading the files (no secret in it: the files
 * are read from their staging paths). Idempotent: unchanged files are left alone and their daemons
 * not reloaded. A file its daemon rejects stops the script (non-zero exit, so the apply fails)
 * before anything is installed; swanctl has no dry run, so a rejected swanctl.conf is rolled back.
 */
export function renderApplyScript(plan: SiteToSitePlan, router: RouterPlan): string {
  const f = (n: RouterFileName) => ({ staged: stagedPath(n) });
  const paths = { sysctl: SYSCTL_PATH, updown: UPDOWN_PATH, charon: CHARON_OPTIONS_PATH, swanctl: SWANCTL_CONF_PATH, frr: FRR_CONF_PATH, keepalived: KEEPALIVED_CONF_PATH };
  return [
    "#!/bin/bash",
    `# Managed by the site-to-site stack: configures ${router.name} from the files staged in ${STAGING_DIR}.`,
    "set -euo pipefail",
    "log() { echo \"s2s-apply: $*\"; }",
    "# The staged files hold secrets: gone when this script ends, whatever happens.",
    `trap 'rm -f ${STAGING_DIR}/*' EXIT`,
    "",
    "# First boot must be over (it may still be upgrading packages).",
    "if command -v cloud-init >/dev/null 2>&1; then timeout 900 cloud-init status --wait >/dev/null 2>&1 || true; fi",
    "",
    "missing=()",
    `for p in ${ROUTER_PACKAGES.join(" ")}; do`,
    "  dpkg-query -W -f='${Status}' \"$p\" 2>/dev/null | grep -q 'install ok installed' || missing+=(\"$p\")",
    "done",
    'if [ "${#missing[@]}" -gt 0 ]; then',
    '  log "installing ${missing[*]}"',
    "  export DEBIAN_FRONTEND=noninteractive",
    "  apt-get -o DPkg::Lock::Timeout=600 -q update",
    '  apt-get -o DPkg::Lock::Timeout=600 -q -y install --no-install-recommends "${missing[@]}"',
    "fi",
    "frr_restart=0",
    "if grep -q '^bgpd=no' /etc/frr/daemons; then sed -i 's/^bgpd=no/bgpd=yes/' /etc/frr/daemons; frr_restart=1; fi",
    "",
    "# Every daemon checks its own file before anything is installed.",
    `keepalived -t -f ${f("keepalived").staged} || { log "keepalived rejects its configuration"; exit 1; }`,
    `vtysh -C -f ${f("frr").staged} || { log "FRR rejects its configuration"; exit 1; }`,
    "",
    "# install_file <staged> <path> <mode> <owner>: installs when different; exit status 0 = changed.",
    "previous=()",
    "install_file() {",
    '  if [ -f "$2" ] && cmp -s "$1" "$2"; then return 1; fi',
    '  if [ -f "$2" ]; then cp -p "$2" "$2.s2s-previous"; previous+=("$2.s2s-previous"); fi',
    '  install -m "$3" -o "$4" -g "$4" "$1" "$2"',
    '  log "installed $2"',
    "}",
    "",
    `if install_file ${f("sysctl").staged} ${paths.sysctl} 0644 root; then sysctl -q -p ${paths.sysctl}; fi`,
    `install_file ${f("updown").staged} ${paths.updown} 0755 root || true`,
    "charon_restart=0",
    `if install_file ${f("charon").staged} ${paths.charon} 0644 root; then charon_restart=1; fi`,
    "swanctl_changed=0",
    `if install_file ${f("swanctl").staged} ${paths.swanctl} 0600 root; then swanctl_changed=1; fi`,
    "systemctl enable --quiet strongswan",
    'if [ "$charon_restart" = 1 ] || ! systemctl is-active --quiet strongswan; then systemctl restart strongswan; swanctl_changed=1; fi',
    'if [ "$swanctl_changed" = 1 ]; then',
    "  # swanctl exits 0 on a syntax error: its output tells.",
    "  out=$(swanctl --load-all 2>&1) || true",
    '  echo "$out"',
    `  if echo "$out" | grep -Eqi '${SWANCTL_LOAD_ERROR_PATTERN}' || ! echo "$out" | grep -Eq '${SWANCTL_LOAD_OK_PATTERN}'; then`,
    '    log "swanctl rejects its configuration; restoring the previous one"',
    `    if [ -f ${paths.swanctl}.s2s-previous ]; then mv ${paths.swanctl}.s2s-previous ${paths.swanctl}; else rm -f ${paths.swanctl}; fi`,
    "    swanctl --load-all >/dev/null 2>&1 || true",
    "    exit 1",
    "  fi",
    "fi",
    "",
    "systemctl enable --quiet frr",
    `if install_file ${f("frr").staged} ${paths.frr} 0640 frr || [ "$frr_restart" = 1 ] || ! systemctl is-active --quiet frr; then`,
    '  if [ "$frr_restart" = 1 ] || ! systemctl is-active --quiet frr; then systemctl restart frr; else systemctl reload frr; fi',
    "fi",
    "",
    "systemctl enable --quiet keepalived",
    `if install_file ${f("keepalived").staged} ${paths.keepalived} 0600 root || ! systemctl is-active --quiet keepalived; then`,
    "  if systemctl is-active --quiet keepalived; then systemctl reload keepalived; else systemctl restart keepalived; fi",
    "fi",
    '[ "${#previous[@]}" -eq 0 ] || rm -f "${previous[@]}"',
    "",
    "# Report (the tunnels may still be negotiating; nothing here fails the apply).",
    "for _ in $(seq 30); do",
    "  [ \"$(swanctl --list-sas 2>/dev/null | grep -c INSTALLED)\" -ge 2 ] && break",
    "  sleep 2",
    "done",
    "swanctl --list-sas 2>/dev/null | grep -E 'ESTABLISHED|INSTALLED' || log 'no tunnel up yet'",
    "vtysh -c 'show bgp summary' 2>/dev/null || true",
    `ip -brief addr show dev ${plan.interfaces.vlan} || true`,
    'log "done"',
    "",
  ].join("\n");
}
