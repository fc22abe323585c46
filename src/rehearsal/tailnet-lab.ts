/**
 * A lab tailnet: the real control server (headscale, with its embedded DERP and STUN) and real
 * Tailscale nodes (tailscaled on TUN), each in a network namespace the lab creates, on one bridge.
 *
 *   <prefix>sw   the "internet": a bridge, nothing else
 *   <prefix>ctl  headscale on https://100.115.92.1 (self-signed TLS), DERP on the same port, STUN
 *                on UDP 3478
 *   <prefix><n>  one per node: tailscaled with its own state dir and socket, tailscale0 on TUN
 *
 * The underlay is 100.115.92.0/24, inside the ChromeOS VM range 100.115.92.0/23 that Tailscale
 * carves out of 100.64.0.0/10 (tsaddr.ChromeOSVMRange): elsewhere in 100.64.0.0/10 tailscaled drops
 * packets that don't arrive on tailscale0 (its ts-input chain), which would cut nodes off from the
 * control server and each other; and a link-local underlay (169.254.0.0/16) counts as no network at
 * all (netmon's isUsableV4), so tailscaled never logs in. headscale's prefixes are set explicitly
 * to 100.64.0.0/16 (and fd7a:115c:a1e0::/48), apart from the underlay.
 *
 * Nothing can reach Tailscale's servers: no namespace has a route out, the DERP map is the embedded
 * region only (no default regions, no map URL), tailscaled runs with --no-logs-no-support and
 * TS_NO_LOGS_NO_SUPPORT, the login server is the lab's (by address: see CONTROL_URL), and
 * headscale's update check and logtail are off; tailscaleServerAttempts() lets a test check that no
 * node tried anyway. Nodes take no DNS from the tailnet (--accept-dns=false) and each node
 * namespace sees its own /etc/hosts and /etc/resolv.conf (/etc/netns/<ns>/).
 *
 * Joining runs the node's rendered bootstrap: its `tailscale up` step with the rendered flags, the
 * key written and removed as rendered; see bootstrapJoinScript for what the lab substitutes.
 * Everything the lab starts is stopped by pid in destroy(), also after a failure.
 */
import { spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { findPinnedProgram } from "../tools/pinned";
import { LabDaemon, NetnsLab, labToolsUnavailable } from "./netns-lab";

export const CONTROL_HOSTNAME = "control.lab";
/** The underlay: the control server is .1, nodes from .10 on (see the header for why this range). */
export const UNDERLAY_PREFIX = "100.115.92";
export const CONTROL_IP = `${UNDERLAY_PREFIX}.1`;
export const TAILNET_V4 = "100.64.0.0/16";
/**
 * The login server, by address: a name would need a DNS lookup, and tailscaled races the system
 * resolver with its bootstrap DNS, which asks Tailscale's own DERP servers (it can't reach them from
 * here, but it must not even try).
 */
export const CONTROL_URL = `https://${CONTROL_IP}`;
export const TAILNET_V6 = "fd7a:115c:a1e0::/48";
/** The lab's stand-in for `autogroup:admin` (headscale has no admin roles). */
export const LAB_ADMIN_USER = "lab-admin";
export const LAB_ADMIN_GROUP = "group:lab-admins";

/** Where the pinned programs are, or why the lab can't run here (null when it can). */
export interface TailnetLabPrograms {
  readonly tailscaled: string;
  readonly tailscale: string;
  readonly headscale: string;
  readonly versions: { readonly tailscale: string; readonly headscale: string };
}

export function findTailnetLabPrograms(env: NodeJS.ProcessEnv = process.env): TailnetLabPrograms | { missing: string } {
  const tsd = findPinnedProgram("tailscale", "tailscaled", env);
  if ("missing" in tsd) return tsd;
  const ts = findPinnedProgram("tailscale", "tailscale", env);
  if ("missing" in ts) return ts;
  const hs = findPinnedProgram("headscale", "headscale", env);
  if ("missing" in hs) return hs;
  return { tailscaled: tsd.path, tailscale: ts.path, headscale: hs.path, versions: { tailscale: tsd.version, headscale: hs.version } };
}

/** Why the lab tailnet can't run here, or null. Tests print it when they skip. */
export function tailnetLabUnavailable(extra: readonly (readonly [string, readonly string[]])[] = []): string | null {
  const programs = findTailnetLabPrograms();
  if ("missing" in programs) return programs.missing;
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (tailscaled needs TUN)";
  return labToolsUnavailable([["ip", ["-V"]], ["nft", ["--version"]], ["openssl", ["version"]], ...extra]);
}

// ---------------------------------------------------------------------------------------------
// Pure parts: headscale's configuration, the policy as headscale gets it, the join script.

export interface HeadscaleConfigProps {
  /** Folder for headscale's keys, database and socket. */
  readonly dir: string;
  readonly policyPath: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * headscale's configuration (JSON, which its YAML reader takes as is). The embedded DERP region is
 * the only one: no map URLs, no paths, no updates; DNS is not pushed (tailscaled keeps its hands
 * off resolv.conf); logtail off; the tailnet prefixes explicit.
 */
export function headscaleConfig(p: HeadscaleConfigProps): Record<string, unknown> {
  return {
    server_url: CONTROL_URL,
    listen_addr: `${CONTROL_IP}:443`,
    metrics_listen_addr: "127.0.0.1:9090",
    grpc_listen_addr: "127.0.0.1:50443",
    grpc_allow_insecure: false,
    noise: { private_key_path: join(p.dir, "noise_private.key") },
    prefixes: { v4: TAILNET_V4, v6: TAILNET_V6, allocation: "sequential" },
    derp: {
      server: {
        enabled: true,
        region_id: 900,
        region_code: "lab",
        region_name: "Lab embedded DERP",
        verify_clients: true,
        stun_listen_addr: `${CONTROL_IP}:3478`,
        private_key_path: join(p.dir, "derp_server_private.key"),
        automatically_add_embedded_derp_region: true,
        ipv4: CONTROL_IP,
      },
      urls: [],
      paths: [],
      auto_update_enabled: false,
    },
    disable_check_updates: true,
    node: { expiry: 0 },
    database: { type: "sqlite", sqlite: { path: join(p.dir, "db.sqlite"), write_ahead_log: true } },
    tls_cert_path: p.certPath,
    tls_key_path: p.keyPath,
    log: { level: "info", format: "text" },
    policy: { mode: "file", path: p.policyPath },
    // No MagicDNS, no nameservers; the base domain becomes a search domain, which the nodes don't
    // take (the lab's `tailscale up` adds --accept-dns=false).
    dns: { magic_dns: false, override_local_dns: false, base_domain: "tailnet.lab", nameservers: { global: [], split: {} }, search_domains: [], extra_records: [] },
    unix_socket: join(p.dir, "headscale.sock"),
    unix_socket_permission: "0770",
    logtail: { enabled: false },
    taildrop: { enabled: false },
  };
}

/** One change the lab made to the composed policy, said plainly for the README's list. */
export interface PolicySubstitution {
  readonly what: string;
  readonly why: string;
}

/**
 * The composed policy as headscale gets it. Headscale has no admin roles, so `autogroup:admin`
 * becomes a lab group holding one lab user (LAB_ADMIN_USER); with `tagsWithDevices`, tests that
 * name a tag without a device are left out. Everything else is passed unchanged; what headscale
 * can't read makes it refuse the file, and the rehearsal fails saying so.
 */
export function labPolicy(
  policy: Record<string, unknown>,
  tagsWithDevices?: ReadonlySet<string>,
): { policy: Record<string, unknown>; substitutions: PolicySubstitution[] } {
  const substitutions: PolicySubstitution[] = [];
  let out: Record<string, unknown> = policy;
  if (tagsWithDevices && Array.isArray(policy.tests)) {
    // headscale evaluates a test against the devices there are: a tag with none "resolved to no IP
    // addresses" fails the test, and a failing test makes headscale refuse the reload.
    const named = (t: { src: string; accept?: string[]; deny?: string[] }) =>
      [t.src, ...(t.accept ?? []), ...(t.deny ?? [])].filter((x) => x.startsWith("tag:")).map((x) => x.split(":").slice(0, 2).join(":"));
    const tests = (policy.tests as { src: string; accept?: string[]; deny?: string[] }[]).filter((t) => named(t).every((tag) => tagsWithDevices.has(tag)));
    if (tests.length !== policy.tests.length) {
      out = { ...policy, tests };
      substitutions.push({
        what: `${policy.tests.length - tests.length} of ${policy.tests.length} policy tests left out (their tags have no device in the lab)`,
        why: "headscale evaluates tests against existing devices and refuses a policy whose test names a tag without one",
      });
    }
  }
  const text = JSON.stringify(out);
  if (text.includes('"autogroup:admin"')) {
    out = JSON.parse(text.split('"autogroup:admin"').join(JSON.stringify(LAB_ADMIN_GROUP)));
    const groups = { ...((out.groups as Record<string, string[]>) ?? {}) };
    if (groups[LAB_ADMIN_GROUP]) throw new Error(`the policy already has ${LAB_ADMIN_GROUP}`);
    groups[LAB_ADMIN_GROUP] = [`${LAB_ADMIN_USER}@`];
    out.groups = groups;
    substitutions.push({
      what: `autogroup:admin → ${LAB_ADMIN_GROUP} (user ${LAB_ADMIN_USER}@)`,
      why: "headscale has no admin roles; its policy engine rejects autogroup:admin",
    });
  }
  return { policy: out, substitutions };
}

/** What the lab puts in place of the rendered script's parts that a namespace can't or mustn't run. */
export interface JoinSubstitutions {
  /** The node's `tailscale` wrapper folder (first on PATH). */
  readonly binDir: string;
  /** Replaces AUTH_KEY_PATH (/run/mesh-bootstrap/...) inside the lab folder. */
  readonly authKeyFile: string;
  /** Replaces TAILSCALE_UP_STAMP_PATH (/var/lib/mesh-bootstrap/...). */
  readonly upStampFile: string;
}

/** Shell functions of the rendered script the join step runs, in order. */
export const JOIN_FUNCTIONS = ["log", "warn", "die", "changed", "on_exit", "backend_state", "settled_backend_state", "write_auth_key", "step_tailscale_up"] as const;

/** Cuts `name() { ... }` (one line, or closing brace at column 0) out of a rendered script. */
export function shellFunction(script: string, name: string): string {
  const oneLine = new RegExp(`^${name}\\(\\) \\{ .*; \\}$`, "m").exec(script);
  if (oneLine) return `${oneLine[0]}\n`;
  const start = script.search(new RegExp(`^${name}\\(\\) \\{$`, "m"));
  if (start < 0) throw new Error(`the rendered script has no function ${name}()`);
  const end = script.indexOf("\n}\n", start);
  if (end < 0) throw new Error(`function ${name}() in the rendered script has no closing brace`);
  return script.slice(start, end + 2);
}

/**
 * The join step of a rendered node bootstrap, as the lab runs it: the script's own variables
 * (TS_UP_FLAGS, WAIT_TIMEOUT, ...) and functions, byte for byte, then `step_tailscale_up`.
 * Substituted: the key file and the settings stamp live in the lab folder (not /run, /var/lib);
 * `tailscale` is the node's wrapper (its socket; `--login-server` added to `up`). The install,
 * hostname, sysctl, iperf3 and systemd steps are not run here (the rehearsals run what they need
 * of them separately and say so). `steps`: the rendered steps to run, in order (e.g. also
 * step_peer_relay, which the bootstrap runs after step_tailscale_up).
 */
export function bootstrapJoinScript(rendered: string, sub: JoinSubstitutions, steps: readonly string[] = ["step_tailscale_up"]): string {
  const vars = rendered.split("\n").filter((l) => /^readonly [A-Z_]+=/.test(l));
  const replaced = vars.map((l) =>
    l.startsWith("readonly AUTH_KEY_FILE=") ? `readonly AUTH_KEY_FILE='${sub.authKeyFile}'` : l.startsWith("readonly TS_UP_STAMP=") ? `readonly TS_UP_STAMP='${sub.upStampFile}'` : l,
  );
  for (const v of ["TS_UP_FLAGS", "AUTH_KEY_FILE", "TS_UP_STAMP", "WAIT_TIMEOUT"]) {
    if (!replaced.some((l) => l.startsWith(`readonly ${v}=`))) throw new Error(`the rendered script sets no ${v}`);
  }
  return [
    "#!/bin/bash",
    "# The join step of a rendered node bootstrap, run in a lab namespace (src/rehearsal/tailnet-lab.ts).",
    "set -euo pipefail",
    "umask 022",
    "export LC_ALL=C",
    `export PATH='${sub.binDir}':/usr/sbin:/usr/bin:/sbin:/bin`,
    ...replaced,
    "CHANGES=0",
    "",
    ...[...new Set([...JOIN_FUNCTIONS, ...steps])].map((f) => shellFunction(rendered, f)),
    "trap on_exit EXIT",
    ...steps,
    'log "$CHANGES changes"',
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// The lab.

export interface TailnetLabNode {
  readonly name: string;
  readonly ns: string;
  /** Underlay address (100.115.92.x). */
  readonly ip: string;
  readonly socket: string;
  readonly stateDir: string;
  /** Folder with this node's `tailscale` wrapper (socket and login server). */
  readonly binDir: string;
  daemon: LabDaemon;
  /** When tailscaled was (last) started, ms since the epoch. */
  startedAt: number;
}

export interface MintedKey {
  readonly key: string;
  readonly tags: readonly string[];
  readonly reusable: boolean;
  readonly ephemeral: boolean;
  readonly expiration: string;
}

export interface JoinResult {
  readonly status: number | null;
  readonly output: string;
  /** tailscaled start → BackendState Running, ms (null when it never got there). */
  readonly joinMs: number | null;
}

export interface TailnetLabProps {
  /** Unique per run, 1-5 lower-case letters/digits (namespaces are named from it). */
  readonly prefix: string;
  /** The tailnet policy headscale loads (an object; labPolicy() adapts it). */
  readonly policy: Record<string, unknown>;
}

export class TailnetLab {
  readonly net: NetnsLab;
  readonly programs: TailnetLabPrograms;
  readonly nodes = new Map<string, TailnetLabNode>();
  readonly switchNs: string;
  readonly controlNs: string;
  readonly policySubstitutions: PolicySubstitution[];
  private headscaleDaemon?: LabDaemon;
  private nextHost = 10;
  private nextPort = 0;
  private readonly configPath: string;
  private readonly policyPath: string;
  readonly caPath: string;

  constructor(readonly props: TailnetLabProps) {
    if (!/^[a-z][a-z0-9]{0,4}$/.test(props.prefix)) throw new Error(`tailnet lab prefix "${props.prefix}" must be 1-5 lower-case letters/digits`);
    const programs = findTailnetLabPrograms();
    if ("missing" in programs) throw new Error(programs.missing);
    this.programs = programs;
    this.net = new NetnsLab(props.prefix);
    const adapted = labPolicy(props.policy);
    this.policySubstitutions = adapted.substitutions;
    const dir = join(this.net.dir, "control");
    mkdirSync(dir, { recursive: true });
    this.caPath = join(dir, "tls.crt");
    const keyPath = join(dir, "tls.key");
    const policyPath = join(dir, "policy.hujson");
    this.policyPath = policyPath;
    writeFileSync(policyPath, `${JSON.stringify(adapted.policy, null, 2)}\n`);
    this.configPath = join(dir, "config.yaml");
    writeFileSync(this.configPath, `${JSON.stringify(headscaleConfig({ dir, policyPath, certPath: this.caPath, keyPath }), null, 2)}\n`);
    this.switchNs = this.net.namespace("sw");
    this.controlNs = this.net.namespace("ctl");
    this.net.bridge(this.switchNs);
    this.plug(this.controlNs, CONTROL_IP);
    // One self-signed certificate, trusted by the nodes as their only extra root (SSL_CERT_FILE).
    const ssl = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", `/CN=${CONTROL_HOSTNAME}`,
        "-addext", `subjectAltName=DNS:${CONTROL_HOSTNAME},IP:${CONTROL_IP}`, "-keyout", keyPath, "-out", this.caPath],
      { encoding: "utf8", timeout: 10_000 },
    );
    if (ssl.status !== 0) throw new Error(`openssl: ${ssl.stderr}`);
  }

  /** Puts `ns` on the switch with `ip`/24 (a NAT namespace would sit between instead). */
  plug(ns: string, ip: string): void {
    const port = `p${++this.nextPort}`;
    this.net.link({ ns: this.switchNs, dev: port }, { ns, dev: "eth0" });
    this.net.attach(this.switchNs, port);
    this.net.address(ns, "eth0", `${ip}/24`);
  }

  /** Runs headscale and waits until it answers; creates the lab admin user. */
  async start(timeoutMs = 30_000): Promise<void> {
    this.headscaleDaemon = this.net.spawn(this.controlNs, "headscale", [this.programs.headscale, "-c", this.configPath, "serve"], {
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: this.net.dir },
    });
    const ok = await this.net.waitFor(() => this.headscale(["users", "list", "-o", "json"]).status === 0, timeoutMs);
    if (!ok) throw new Error(`headscale did not answer in ${timeoutMs} ms: ${this.logTail(this.headscaleDaemon.log)}`);
    this.headscaleMust(["users", "create", LAB_ADMIN_USER]);
  }

  /**
   * Replaces the tailnet policy and has headscale reload it (SIGHUP, as `systemctl reload headscale`
   * does). Adapted as at start, and tests naming a tag without a device are left out (see labPolicy).
   */
  setPolicy(policy: Record<string, unknown>): PolicySubstitution[] {
    const tags = new Set(this.headscaleNodes().flatMap((n) => n.tags ?? []));
    const adapted = labPolicy(policy, tags);
    writeFileSync(this.policyPath, `${JSON.stringify(adapted.policy, null, 2)}\n`);
    if (!this.headscaleDaemon) throw new Error("headscale is not running");
    process.kill(this.headscaleDaemon.pid, "SIGHUP");
    return adapted.substitutions;
  }

  /** headscale's own CLI (over its unix socket), in the control namespace. */
  headscale(args: readonly string[], timeoutMs = 15_000) {
    return this.net.exec(this.controlNs, this.programs.headscale, ["-c", this.configPath, "--force", ...args], { timeoutMs, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: this.net.dir } });
  }

  headscaleMust(args: readonly string[]): string {
    const r = this.headscale(args);
    if (r.status !== 0) throw new Error(`headscale ${args.join(" ")}: exit ${r.status}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /** headscale's JSON output (its CLI prints log lines first sometimes: take from the first bracket). */
  headscaleJson<T>(args: readonly string[]): T {
    const out = this.headscaleMust([...args, "-o", "json"]);
    const i = out.search(/^[[{]/m);
    return JSON.parse(i < 0 ? out : out.slice(i)) as T;
  }

  /**
   * A pre-auth key with the properties Terraform's tailscale_tailnet_key gives the project's keys:
   * tagged, single use (not reusable), not ephemeral, pre-authorised (every headscale key is), and
   * an expiry (headscale counts it from now, as Tailscale does).
   */
  mintKey(o: { tags: readonly string[]; expirySeconds?: number; reusable?: boolean; ephemeral?: boolean }): MintedKey {
    const expiration = `${Math.round((o.expirySeconds ?? 3600) / 60)}m`;
    const args = ["preauthkeys", "create", "--expiration", expiration];
    if (o.tags.length) args.push("--tags", o.tags.join(","));
    if (o.reusable) args.push("--reusable");
    if (o.ephemeral) args.push("--ephemeral");
    const k = this.headscaleJson<{ key: string }>(args);
    if (!k.key) throw new Error("headscale printed no key");
    return { key: k.key, tags: [...o.tags], reusable: !!o.reusable, ephemeral: !!o.ephemeral, expiration };
  }

  /**
   * A node namespace on the switch running tailscaled (not logged in yet). `setup` runs in between
   * (e.g. a router's second interface): a link appearing later makes tailscaled drop its control
   * connection mid-login.
   */
  async addNode(name: string, setup?: (ns: string) => void, attach?: (ns: string) => string): Promise<TailnetLabNode> {
    if (this.nodes.has(name)) throw new Error(`node ${name} exists`);
    const ns = this.net.namespace(name);
    // `attach` connects the namespace some other way (e.g. behind a NAT, src/rehearsal/lab-nat.ts)
    // and returns the node's own address.
    let ip: string;
    if (attach) ip = attach(ns);
    else {
      ip = `${UNDERLAY_PREFIX}.${this.nextHost++}`;
      this.plug(ns, ip);
    }
    this.net.hosts(ns, { [CONTROL_HOSTNAME]: CONTROL_IP });
    writeFileSync(`/etc/netns/${ns}/resolv.conf`, "# lab namespace: no resolver\n");
    const dir = join(this.net.dir, name);
    const binDir = join(dir, "bin");
    mkdirSync(binDir, { recursive: true });
    const node: TailnetLabNode = { name, ns, ip, socket: join(dir, "tailscaled.sock"), stateDir: join(dir, "state"), binDir, daemon: undefined as unknown as LabDaemon, startedAt: 0 };
    // The wrapper the rendered script (and the probe) runs as `tailscale`.
    writeFileSync(
      join(binDir, "tailscale"),
      [
        "#!/bin/bash",
        "# Lab substitutions: this node's tailscaled socket; the lab's control server and no DNS from",
        "# the tailnet (tailscaled would rewrite resolv.conf) for `up`; and, on",
        "# an `up` with an auth key, --advertise-tags recorded in advertised-tags instead of sent:",
        "# headscale 0.29 refuses any requested tag on a pre-auth-key registration (the key's tags",
        "# apply), where Tailscale accepts the tags its key may carry.",
        'if [ "${1:-}" = up ]; then',
        "  shift",
        "  args=() tags='' key=0",
        '  for a in "$@"; do',
        '    case $a in',
        "      --advertise-tags=*) tags=${a#--advertise-tags=} ;;",
        '      --auth-key=*) key=1; args+=("$a") ;;',
        '      *) args+=("$a") ;;',
        "    esac",
        "  done",
        `  if [ "$key" = 1 ]; then printf '%s\\n' "$tags" > '${join(dir, "advertised-tags")}'; elif [ -n "$tags" ]; then args+=("--advertise-tags=$tags"); fi`,
        `  set -- up --login-server=${CONTROL_URL} --accept-dns=false "\${args[@]}"`,
        "fi",
        `exec '${this.programs.tailscale}' --socket='${node.socket}' "$@"`,
        "",
      ].join("\n"),
    );
    chmodSync(join(binDir, "tailscale"), 0o755);
    setup?.(ns);
    this.nodes.set(name, node);
    this.startTailscaled(node);
    const up = await this.net.waitFor(() => existsSync(node.socket), 15_000);
    if (!up) throw new Error(`tailscaled in ${ns} made no socket: ${this.logTail(node.daemon.log)}`);
    return node;
  }

  private startTailscaled(node: TailnetLabNode): void {
    mkdirSync(node.stateDir, { recursive: true });
    node.startedAt = Date.now();
    node.daemon = this.net.spawn(
      node.ns,
      `tailscaled-${node.name}`,
      [this.programs.tailscaled, "--tun=tailscale0", `--statedir=${node.stateDir}`, `--socket=${node.socket}`, "--port=41641", "--no-logs-no-support"],
      // TS_LOGS_DIR: its log config would otherwise go to the machine's /var/lib/tailscale.
      { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", HOME: join(node.stateDir, ".."), TS_NO_LOGS_NO_SUPPORT: "true", TS_LOGS_DIR: node.stateDir, SSL_CERT_FILE: this.caPath } },
    );
  }

  /**
   * A node replaced under the same name: tailscaled stopped, its state wiped (a new machine), started
   * again. The old device stays in headscale until something deletes it.
   */
  async replaceNode(name: string): Promise<TailnetLabNode> {
    const node = this.node(name);
    await this.net.stopAndWait(node.daemon);
    spawnSync("rm", ["-rf", node.stateDir]);
    this.startTailscaled(node);
    const up = await this.net.waitFor(() => this.cli(node, ["version"]).status === 0, 15_000);
    if (!up) throw new Error(`tailscaled in ${node.ns} did not come back: ${this.logTail(node.daemon.log)}`);
    return node;
  }

  node(name: string): TailnetLabNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /**
   * The tags the rendered `tailscale up` asked for on its last login with a key (what
   * --advertise-tags said; the wrapper records them, see addNode), or null when it never logged in.
   */
  advertisedTags(node: TailnetLabNode): string[] | null {
    const f = join(this.net.dir, node.name, "advertised-tags");
    if (!existsSync(f)) return null;
    return readFileSync(f, "utf8").trim().split(",").filter(Boolean);
  }

  /** `tailscale <args>` on a node (through its wrapper). */
  cli(node: TailnetLabNode, args: readonly string[], timeoutMs = 15_000) {
    return this.net.exec(node.ns, join(node.binDir, "tailscale"), args, { timeoutMs, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  }

  /** `tailscale status --json`, parsed (null when tailscaled does not answer). */
  status(node: TailnetLabNode): TailscaleStatus | null {
    const r = this.cli(node, ["status", "--json"]);
    if (!r.stdout.trim().startsWith("{")) return null;
    return JSON.parse(r.stdout) as TailscaleStatus;
  }

  /**
   * Runs the join step of `rendered` (a node bootstrap from the project's renderer) on `node`; the
   * key goes in exactly as rendered. Resolves when the script exits or `timeoutMs` passes.
   */
  async join(node: TailnetLabNode, rendered: string, timeoutMs = 60_000, steps?: readonly string[]): Promise<JoinResult> {
    const dir = join(this.net.dir, node.name);
    const script = bootstrapJoinScript(rendered, { binDir: node.binDir, authKeyFile: join(dir, "run", "tailscale-authkey"), upStampFile: join(dir, "tailscale-up.args") }, steps);
    const file = join(dir, "join.sh");
    writeFileSync(file, script, { mode: 0o700 });
    const d = this.net.spawn(node.ns, `join-${node.name}`, ["/bin/bash", file], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }, log: join(dir, `join-${Date.now()}.log`) });
    let running: number | null = null;
    const end = Date.now() + timeoutMs;
    const exitedBy = this.net.exited(d, timeoutMs);
    while (Date.now() < end && running === null) {
      if (this.status(node)?.BackendState === "Running") running = Date.now();
      else await new Promise((r) => setTimeout(r, 100));
      if (d.child.exitCode !== null && running === null && this.status(node)?.BackendState !== "Running") break;
    }
    const done = await exitedBy;
    if (!done) await this.net.stopAndWait(d, 1000);
    return { status: done ? d.child.exitCode : null, output: readFileSync(d.log, "utf8"), joinMs: running === null ? null : running - node.startedAt };
  }

  /**
   * Drops UDP between two nodes' underlay addresses, both ways, on the switch (an nftables bridge
   * table in the switch namespace): silently, as a firewall on the path would. (A drop in a node's
   * own OUTPUT chain would fail its sends at once with EPERM, which tailscaled notices at once.)
   */
  dropUdp(a: TailnetLabNode, b: TailnetLabNode): void {
    const rules = `table bridge ${dropTable(a, b)} {
  chain forward { type filter hook forward priority -10; ip saddr ${a.ip} ip daddr ${b.ip} meta l4proto udp drop; ip saddr ${b.ip} ip daddr ${a.ip} meta l4proto udp drop; }
}
`;
    const r = this.net.exec(this.switchNs, "nft", ["-f", "-"], { input: rules });
    if (r.status !== 0) throw new Error(`nft in ${this.switchNs}: ${r.stderr}`);
  }

  /** Undoes dropUdp(a, b). */
  restoreUdp(a: TailnetLabNode, b: TailnetLabNode): void {
    this.net.exec(this.switchNs, "nft", ["delete", "table", "bridge", dropTable(a, b)]);
  }

  /** headscale's view of the nodes. */
  headscaleNodes(): HeadscaleNode[] {
    return this.headscaleJson<HeadscaleNode[]>(["nodes", "list"]) ?? [];
  }

  /**
   * Lines of any tailscaled log that name a Tailscale-run host or bootstrap DNS (there must be none:
   * nothing in the lab may even try to reach Tailscale's servers).
   */
  tailscaleServerAttempts(): string[] {
    return [...this.nodes.values()].flatMap((n) => {
      try {
        return readFileSync(n.daemon.log, "utf8").split("\n").filter((l) => /tailscale\.(com|io)\b|bootstrapDNS/.test(l));
      } catch {
        return [];
      }
    });
  }

  /** The end of headscale's log (for failure messages). */
  controlLog(chars = 3000): string {
    return this.headscaleDaemon ? this.logTail(this.headscaleDaemon.log, chars) : "(headscale not started)";
  }

  logTail(file: string, chars = 1500): string {
    try {
      return readFileSync(file, "utf8").slice(-chars);
    } catch {
      return "(no log)";
    }
  }

  /** Everything the lab started, by pid; namespaces and files. */
  destroy(): void {
    this.net.destroy();
  }
}

const dropTable = (a: TailnetLabNode, b: TailnetLabNode) => `labdrop_${[a.name, b.name].sort().join("_")}`;

/** The parts of `tailscale status --json` the rehearsals read. */
export interface TailscalePeerStatus {
  readonly HostName: string;
  readonly DNSName: string;
  readonly TailscaleIPs: readonly string[];
  readonly Tags?: readonly string[];
  readonly Online?: boolean;
  readonly CurAddr?: string;
  readonly Relay?: string;
  readonly PrimaryRoutes?: readonly string[];
  readonly AllowedIPs?: readonly string[];
}
export interface TailscaleStatus {
  readonly BackendState: string;
  readonly Self: TailscalePeerStatus;
  readonly Peer?: Record<string, TailscalePeerStatus>;
}

/** The parts of `headscale nodes list -o json` the rehearsals read. */
export interface HeadscaleNode {
  readonly id: string | number;
  readonly name: string;
  readonly given_name: string;
  readonly tags?: string[];
  readonly ip_addresses?: string[];
  readonly online?: boolean;
  readonly approved_routes?: string[];
  readonly available_routes?: string[];
  readonly subnet_routes?: string[];
}

/**
 * What Terraform makes of a template string from the synthesized JSON, for the few expressions a
 * rehearsal gives values to (e.g. `each.value.hostname`, the key): `$${` → `${`, `%%{` → `%{`, each
 * `${expr}` replaced by its value. Any other expression or directive throws: the script must not
 * reach a namespace half-evaluated.
 */
export function evaluateTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\$\$\{|%%\{|\$\{([^}]*)\}|%\{/g, (m, expr: string | undefined) => {
    if (m === "$${") return "${";
    if (m === "%%{") return "%{";
    if (m === "%{") throw new Error("template directive %{ in the script: not handled by the lab");
    const key = (expr ?? "").trim();
    if (!(key in values)) throw new Error(`template expression \${${key}} has no lab value`);
    return values[key];
  });
}

/** A file the rendered bootstrap writes with write_file (its content, byte for byte). */
export function renderedFile(script: string, path: string): string {
  const quoted = path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const m = new RegExp(`write_(?:owned_)?file '${quoted}' [0-7]+(?: '[^']*')? <<'MESH_FILE_EOF'\\n([\\s\\S]*?)MESH_FILE_EOF`).exec(script);
  if (!m) throw new Error(`the rendered script writes no ${path}`);
  return m[1];
}

/**
 * The shell command of a rendered unit's `ExecStart=/bin/sh -c '...'` (systemd's `$$` undone), with
 * absolute program paths swapped as `programs` says (the lab's tailscale wrapper for /usr/bin/tailscale).
 */
export function unitShellCommand(unit: string, programs: Readonly<Record<string, string>> = {}): string {
  const line = unit.split("\n").find((l) => l.startsWith("ExecStart="));
  const m = line && /^ExecStart=\/bin\/sh -c '(.*)'$/.exec(line);
  if (!m) throw new Error(`the unit's ExecStart is not /bin/sh -c '...': ${line}`);
  let cmd = m[1].replace(/\$\$/g, "$");
  for (const [from, to] of Object.entries(programs)) {
    if (!cmd.includes(from)) throw new Error(`the unit's command does not run ${from}`);
    cmd = cmd.split(from).join(to);
  }
  return cmd;
}
