/**
 * How a probe command reaches the node it must run on. Every measurement runs ON the source node
 * (that is where the tailnet path starts), so the transport is only the management channel:
 * SSH to a deployed node, or `ip netns exec` into a namespace for the local rehearsal.
 */
import { spawn } from "child_process";
import { MeshNode } from "./types";

export interface RunResult {
  /** Exit code; null when the process was killed or never started. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut?: boolean;
  /** Set when the program could not be started at all. */
  readonly spawnError?: string;
}

export interface RunOptions {
  readonly timeoutMs: number;
}

export interface Transport {
  readonly kind: "ssh" | "netns";
  run(node: MeshNode, argv: readonly string[], opts: RunOptions): Promise<RunResult>;
}

/** Output beyond this is dropped: iperf3 JSON for long runs is large, but not this large. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
/** Grace between SIGTERM and SIGKILL on timeout. */
const KILL_GRACE_MS = 1500;

export interface SpawnProps {
  readonly cwd?: string;
  readonly timeoutMs: number;
}

/** Spawns a program without a shell and collects its output; always settles, never throws. */
export function spawnWithTimeout(cmd: string, args: readonly string[], props: SpawnProps): Promise<RunResult> {
  if (!Number.isFinite(props.timeoutMs) || props.timeoutMs <= 0) {
    throw new Error(`spawnWithTimeout: timeoutMs must be > 0, got ${props.timeoutMs}`);
  }
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let settled = false;
    const child = spawn(cmd, [...args], { cwd: props.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const append = (which: "out" | "err", chunk: Buffer): void => {
      if (which === "out" && stdout.length < MAX_OUTPUT_BYTES) stdout += chunk.toString("utf8");
      if (which === "err" && stderr.length < MAX_OUTPUT_BYTES) stderr += chunk.toString("utf8");
    };
    child.stdout.on("data", (c: Buffer) => append("out", c));
    child.stderr.on("data", (c: Buffer) => append("err", c));
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    }, props.timeoutMs);
    const finish = (r: RunResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve(r);
    };
    child.on("error", (e) => finish({ code: null, stdout, stderr, spawnError: e.message }));
    child.on("close", (code) => finish({ code: timedOut ? null : code, stdout, stderr, ...(timedOut ? { timedOut } : {}) }));
  });
}

/** Quotes one argument for a POSIX shell (the remote side of `ssh` always goes through one). */
export function shellQuote(arg: string): string {
  if (arg !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export interface SshTransportProps {
  /** Remote user; the article logs in as root. */
  readonly user?: string;
  /** Private key file (`-i`). */
  readonly keyPath?: string;
  readonly port?: number;
  /** Seconds for the TCP connect (`ConnectTimeout`). */
  readonly connectTimeoutS?: number;
  /** `StrictHostKeyChecking`: fresh nodes have unknown keys, so `accept-new` by default. */
  readonly strictHostKeyChecking?: "yes" | "accept-new" | "no";
  /** Which address to SSH to: the public IPv4 (default) or the tailnet hostname (Tailscale SSH). */
  readonly via?: "public" | "tailnet";
  /** For tests: the ssh program. */
  readonly sshBinary?: string;
}

export class SshTransport implements Transport {
  readonly kind = "ssh" as const;
  private readonly props: Required<Omit<SshTransportProps, "keyPath" | "port">> & Pick<SshTransportProps, "keyPath" | "port">;

  constructor(props: SshTransportProps = {}) {
    const user = props.user ?? "root";
    if (!/^[a-z_][a-z0-9_.-]*$/i.test(user)) throw new Error(`ssh user "${user}" is not a valid user name`);
    const connectTimeoutS = props.connectTimeoutS ?? 10;
    if (!Number.isInteger(connectTimeoutS) || connectTimeoutS < 1) {
      throw new Error(`ssh connectTimeoutS must be a positive integer, got ${connectTimeoutS}`);
    }
    if (props.port !== undefined && (!Number.isInteger(props.port) || props.port < 1 || props.port > 65535)) {
      throw new Error(`ssh port must be 1-65535, got ${props.port}`);
    }
    this.props = {
      user,
      connectTimeoutS,
      strictHostKeyChecking: props.strictHostKeyChecking ?? "accept-new",
      via: props.via ?? "public",
      sshBinary: props.sshBinary ?? "ssh",
      keyPath: props.keyPath,
      port: props.port,
    };
  }

  /** The exact argv given to ssh (exposed so tests can check quoting without a server). */
  sshArgs(node: MeshNode, argv: readonly string[]): string[] {
    const host = this.props.via === "tailnet" ? node.tailnetHostname : node.publicIpv4;
    if (!host) {
      throw new Error(
        `node "${node.key}" has no ${this.props.via === "tailnet" ? "tailnet_hostname" : "public_ipv4"} to SSH to`,
      );
    }
    const args = [
      "-o", "BatchMode=yes",
      "-o", `ConnectTimeout=${this.props.connectTimeoutS}`,
      "-o", `StrictHostKeyChecking=${this.props.strictHostKeyChecking}`,
      "-o", "LogLevel=ERROR",
    ];
    if (this.props.keyPath) args.push("-i", this.props.keyPath);
    if (this.props.port) args.push("-p", String(this.props.port));
    args.push(`${this.props.user}@${host}`, "--", argv.map(shellQuote).join(" "));
    return args;
  }

  async run(node: MeshNode, argv: readonly string[], opts: RunOptions): Promise<RunResult> {
    let args: string[];
    try {
      args = this.sshArgs(node, argv);
    } catch (e) {
      return { code: null, stdout: "", stderr: "", spawnError: (e as Error).message };
    }
    return spawnWithTimeout(this.props.sshBinary, args, { timeoutMs: opts.timeoutMs });
  }
}

export interface NetnsTransportProps {
  /** The `ip` program (iproute2). */
  readonly ipBinary?: string;
}

/** Runs commands inside each node's network namespace: `ip netns exec <ns> <argv>`. */
export class NetnsTransport implements Transport {
  readonly kind = "netns" as const;
  private readonly ipBinary: string;

  constructor(props: NetnsTransportProps = {}) {
    this.ipBinary = props.ipBinary ?? "ip";
  }

  netnsArgs(node: MeshNode, argv: readonly string[]): string[] {
    if (!node.netns) throw new Error(`node "${node.key}" has no netns (inventory field netns=...)`);
    if (argv.length === 0) throw new Error("netns transport: empty argv");
    return ["netns", "exec", node.netns, ...argv];
  }

  async run(node: MeshNode, argv: readonly string[], opts: RunOptions): Promise<RunResult> {
    let args: string[];
    try {
      args = this.netnsArgs(node, argv);
    } catch (e) {
      return { code: null, stdout: "", stderr: "", spawnError: (e as Error).message };
    }
    return spawnWithTimeout(this.ipBinary, args, { timeoutMs: opts.timeoutMs });
  }
}
