/**
 * A throwaway PostgreSQL from Debian's packages for tests: its own data directory and a unix socket
 * in a temporary directory, no TCP listener, trust authentication for one role, stopped by the pid
 * in its postmaster.pid and removed afterwards. PostgreSQL refuses to run as root, so as root it runs
 * as the `postgres` system user the package creates (runuser); otherwise as the current user.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Postgres {
  readonly socketDir: string;
  readonly role: string;
  readonly database: string;
  /** libpq URL for the unix socket (no password: trust authentication). */
  readonly connStr: string;
  readonly pid: number;
  /** Runs SQL with psql; returns its unaligned, tuples-only output. */
  psql(sql: string): string;
  stop(): Promise<void>;
}

export type StartResult = { postgres: Postgres } | { skip: string };

function findBinDir(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (!fs.existsSync(base)) return undefined;
  const versions = fs
    .readdirSync(base)
    .filter((v) => fs.existsSync(path.join(base, v, "bin", "initdb")) && fs.existsSync(path.join(base, v, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0], "bin") : undefined;
}

function idOf(user: string, flag: "-u" | "-g"): number | undefined {
  const r = spawnSync("id", [flag, user], { encoding: "utf8" });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

/** Starts PostgreSQL, or says why it can't (the caller skips with that reason). */
export function startPostgres(label = "pgtest"): StartResult {
  const bin = findBinDir();
  if (!bin) return { skip: "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)" };
  const asRoot = process.getuid?.() === 0;
  let runAs: string[] = [];
  let uid: number | undefined;
  let gid: number | undefined;
  if (asRoot) {
    uid = idOf("postgres", "-u");
    gid = idOf("postgres", "-g");
    if (uid === undefined || gid === undefined) return { skip: "running as root and there is no 'postgres' user to run the server as" };
    if (spawnSync("runuser", ["--help"]).status !== 0) return { skip: "running as root and runuser (util-linux) is missing" };
    runAs = ["runuser", "-u", "postgres", "--"];
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${label}-${process.pid}-`));
  const data = path.join(dir, "data");
  const socketDir = path.join(dir, "sock");
  fs.mkdirSync(socketDir);
  if (asRoot) {
    for (const d of [dir, socketDir]) fs.chownSync(d, uid!, gid!);
  }
  const run = (cmd: string, args: string[]) => {
    const [exe, ...pre] = runAs.length ? [...runAs, cmd] : [cmd];
    const r = spawnSync(exe, [...pre, ...args], { encoding: "utf8", timeout: 60_000 });
    return r;
  };
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const init = run(path.join(bin, "initdb"), ["-D", data, "-U", "tfadmin", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  if (init.status !== 0) {
    cleanup();
    return { skip: `initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim().split("\n").slice(-2).join(" ")}` };
  }
  // No TCP at all; the socket lives in our directory; durability is not needed for a test.
  const opts = `-c listen_addresses='' -k ${socketDir} -c fsync=off -c full_page_writes=off`;
  const start = run(path.join(bin, "pg_ctl"), ["-D", data, "-l", path.join(dir, "server.log"), "-w", "-t", "30", "-o", opts, "start"]);
  const pidFile = path.join(data, "postmaster.pid");
  if (start.status !== 0 || !fs.existsSync(pidFile)) {
    const log = fs.existsSync(path.join(dir, "server.log")) ? fs.readFileSync(path.join(dir, "server.log"), "utf8") : "";
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]) : undefined;
    if (pid) stopPid(pid);
    cleanup();
    return { skip: `PostgreSQL did not start: ${(start.stderr + log).trim().split("\n").slice(-2).join(" ")}` };
  }
  const pid = Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]);
  const psqlBin = fs.existsSync(path.join(bin, "psql")) ? path.join(bin, "psql") : "psql";
  const psqlAt = (db: string, sql: string) =>
    execFileSync(psqlBin, ["-h", socketDir, "-U", "tfadmin", "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql], {
      encoding: "utf8",
      timeout: 30_000,
    }).trim();
  try {
    psqlAt("postgres", "CREATE DATABASE tfstate");
  } catch (e) {
    stopPid(pid);
    cleanup();
    return { skip: `could not create the test database: ${(e as Error).message.split("\n")[0]}` };
  }
  let stopped = false;
  return {
    postgres: {
      socketDir,
      role: "tfadmin",
      database: "tfstate",
      connStr: `postgres://tfadmin@/tfstate?host=${socketDir}&sslmode=disable`,
      pid,
      psql: (sql) => psqlAt("tfstate", sql),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await stopPidAsync(pid);
        cleanup();
      },
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGINT is PostgreSQL's fast shutdown; SIGKILL by the same pid if it has not gone in 10 s. */
async function stopPidAsync(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, "SIGKILL");
}

function stopPid(pid: number): void {
  if (!alive(pid)) return;
  process.kill(pid, "SIGINT");
  const until = Date.now() + 10_000;
  while (alive(pid) && Date.now() < until) spawnSync("sleep", ["0.1"]);
  if (alive(pid)) process.kill(pid, "SIGKILL");
}
