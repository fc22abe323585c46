/**
 * The article's claim, measured: Erlang distribution through the tunnel versus Erlang's own TLS.
 * One run, two hosts in network namespaces, the same volume of distribution messages for each case:
 *
 *   a) as the project deploys it: plain distribution on the tailnet address, the rendered files
 *      (launcher, vm.args, sys.config, units' commands), through a WireGuard tunnel run by
 *      wireguard-go, the userspace WireGuard Debian ships;
 *   b) TLS distribution (inet_tls_dist, TLS 1.3, certificates both ways) on a plain veth link;
 *   c) plain distribution on the plain link: the floor, no encryption at all.
 *
 * Throughput and CPU seconds per GB (both VMs, plus both wireguard-go daemons in case a), printed as
 * Markdown. `npm run bench` runs it; alone: `npm run bench:erlang`.
 * BENCH_ERLANG_MB sets the volume per case (default 512 MiB). Without root, wireguard-go, Erlang
 * (erlang-base, erlang-ssl) or openssl it prints why it skips.
 */
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { LabDaemon } from "../src/rehearsal/netns-lab";
import { ErlangLab, ErlangLabHost, LAB_USER, createErlangLab, erlangLabUnavailableReason, startEpmd, startNode, stopErlang } from "../src/systems/erlang-cluster/lab";

const MIB = 1024 * 1024;
const volume = Number(process.env.BENCH_ERLANG_MB ?? 512) * MIB;
const MSG = 64 * 1024;
const WINDOW = 16;
const DIST = { min: 9100, max: 9105 };

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly cpuSeconds: Record<string, number>;
  readonly load: string;
}

export function unavailableReason(): string | null {
  const lab = erlangLabUnavailableReason();
  if (lab) return lab;
  for (const [prog, args] of [["erlc", ["-help"]], ["openssl", ["version"]]] as const) {
    if (spawnSync(prog, [...args], { encoding: "utf8" }).error) return `${prog} not installed`;
  }
  const ssl = spawnSync("erl", ["-noshell", "-eval", "halt(case code:lib_dir(ssl) of {error, _} -> 1; _ -> 0 end)."], { encoding: "utf8", timeout: 20_000 });
  if (ssl.status !== 0) return "Erlang's ssl application is missing (Debian package erlang-ssl)";
  return null;
}

function run(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A private CA and one certificate per host (SAN DNS:<public name>), readable by the lab user only. */
function certificates(dir: string, hosts: readonly ErlangLabHost[]): void {
  mkdirSync(dir, { mode: 0o755 });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  run("openssl", ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=distbench CA"], dir);
  for (const h of hosts) {
    const n = h.publicName;
    writeFileSync(join(dir, `${n}.ext`), `subjectAltName=DNS:${n}\n`);
    run("openssl", ["req", ...ec, "-keyout", `${n}.key`, "-out", `${n}.csr`, "-subj", `/CN=${n}`], dir);
    run("openssl", ["x509", "-req", "-in", `${n}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${n}.pem`, "-days", "2", "-extfile", `${n}.ext`], dir);
    chownSync(join(dir, `${n}.key`), LAB_USER.uid, LAB_USER.gid);
    chmodSync(join(dir, `${n}.key`), 0o400);
    const side = [`{certfile, "${dir}/${n}.pem"}`, `{keyfile, "${dir}/${n}.key"}`, `{cacertfile, "${dir}/ca.pem"}`, "{verify, verify_peer}", "{versions, ['tlsv1.3']}"];
    writeFileSync(join(dir, `${n}.ssl_dist.conf`), `[{server, [${side.join(", ")}, {fail_if_no_peer_cert, true}]},\n {client, [${side.join(", ")}]}].\n`);
  }
  chmodSync(join(dir, "ca.key"), 0o400);
}

/** Waits for the sender to finish, reads its RESULT line. */
async function result(e: ErlangLab, sender: LabDaemon, id: string, title: string, load: string): Promise<CaseResult> {
  const done = await e.lab.exited(sender, Math.max(300_000, (volume / MIB) * 1000));
  const log = readFileSync(sender.log, "utf8");
  const line = log.split("\n").find((l) => l.startsWith("RESULT "));
  if (!done || !line) throw new Error(`case ${id}: no result (${done ? "sender exited" : "timed out"}); log:\n${log.slice(-2000)}`);
  const r = JSON.parse(line.slice("RESULT ".length)) as { bytes: number; seconds: number; cpu_seconds: Record<string, number> };
  return { id, title, bytes: r.bytes, seconds: r.seconds, cpuSeconds: r.cpu_seconds, load };
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];
const benchArgs = (peer: string, watch: string) => ["-run", "distbench", "main", peer, String(volume), String(MSG), String(WINDOW), watch];

export async function benchErlangDistribution(): Promise<CaseResult[]> {
  const e = await createErlangLab({ prefix: `ebn${process.pid % 100_000}`, hosts: 2, subnet: 9, cookie: randomBytes(24).toString("hex"), distPorts: DIST, syncTimeoutMs: 10_000 });
  const results: CaseResult[] = [];
  try {
    const ebin = join(e.lab.dir, "ebin");
    mkdirSync(ebin, { mode: 0o755 });
    run("erlc", ["-o", ebin, join(__dirname, "erlang", "distbench.erl")]);
    const [tx, rx] = e.hosts;

    // a) as deployed: tailnet epmd, the node unit's command, WireGuard underneath.
    for (const h of e.hosts) await startEpmd(e, h);
    let load = loadavg();
    startNode(e, rx, ["-pa", ebin]);
    const a = startNode(e, tx, ["-pa", ebin, ...benchArgs(rx.node, `wg_tx=${e.wireguard[0].pid},wg_rx=${e.wireguard[1].pid}`)]);
    results.push(await result(e, a, "a", "deployed shape: plain distribution over WireGuard (wireguard-go)", load));
    await stopErlang(e);

    // b) and c): on the public link, epmd bound to the public address, the VM started directly.
    const epmds = e.hosts.map((h) => e.lab.spawn(h.netns, `bench-epmd-${h.index}`, ["epmd"], { user: LAB_USER, env: { PATH: "/usr/bin:/bin", ERL_EPMD_ADDRESS: h.publicIp } }));
    await e.lab.waitFor(() => e.hosts.every((h) => /:4369/.test(e.lab.exec(h.netns, "ss", ["-ltnH", "src", h.publicIp]).stdout)), 10_000);
    const certs = join(e.lab.dir, "certs");
    certificates(certs, e.hosts);
    const direct = (h: ErlangLabHost, name: string, tls: boolean, extra: string[]) =>
      e.lab.spawn(
        h.netns,
        name,
        [
          "erl", "-sname", `bench@${h.publicName}`, "-start_epmd", "false", "-noinput", "-pa", ebin,
          "-kernel", "inet_dist_use_interface", `{${h.publicIp.replace(/\./g, ",")}}`,
          "-kernel", "inet_dist_listen_min", String(DIST.min), "-kernel", "inet_dist_listen_max", String(DIST.max),
          ...(tls ? ["-proto_dist", "inet_tls", "-ssl_dist_optfile", join(certs, `${h.publicName}.ssl_dist.conf`)] : []),
          ...extra,
        ],
        { user: LAB_USER, env: { PATH: "/usr/bin:/bin", HOME: h.paths.home, LANG: "C.UTF-8" }, cwd: h.paths.home },
      );
    for (const [id, tls, title] of [["b", true, "TLS distribution (inet_tls_dist, TLS 1.3) on the plain link"], ["c", false, "plain distribution on the plain link (no encryption: the floor)"]] as const) {
      load = loadavg();
      const receiver = direct(rx, `bench-${id}-rx`, tls, []);
      const sender = direct(tx, `bench-${id}-tx`, tls, benchArgs(`bench@${rx.publicName}`, "none"));
      try {
        results.push(await result(e, sender, id, title, load));
      } finally {
        await e.lab.stopAndWait(sender);
        await e.lab.stopAndWait(receiver);
      }
    }
    await Promise.all(epmds.map((d) => e.lab.stopAndWait(d)));
    return results;
  } finally {
    await stopErlang(e);
    await e.lab.destroy();
  }
}

export function markdown(results: readonly CaseResult[]): string {
  const gb = (r: CaseResult) => r.bytes / 1e9;
  const sum = (r: CaseResult, side: "tx" | "rx") => Object.entries(r.cpuSeconds).filter(([k]) => k.endsWith(`_${side}`)).reduce((s, [, v]) => s + v, 0);
  const floor = results.find((r) => r.id === "c");
  const lines = [
    `${(results[0]?.bytes ?? 0) / MIB} MiB per case, ${MSG / 1024} KiB messages, ${WINDOW} in flight; MB = 10^6 bytes, GB = 10^9 bytes; CPU = user+system seconds of both VMs (and both wireguard-go daemons in a).`,
    "",
    "| case | MB/s | CPU s per GB (sender + receiver) | CPU vs the floor | per process, CPU s | load before |",
    "|---|---:|---:|---:|---|---:|",
    ...results.map((r) => {
      const total = (sum(r, "tx") + sum(r, "rx")) / gb(r);
      const vsFloor = floor ? `${(total / ((sum(floor, "tx") + sum(floor, "rx")) / gb(floor))).toFixed(1)}×` : "—";
      const per = Object.entries(r.cpuSeconds).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
      return `| ${r.id}) ${r.title} | ${(r.bytes / 1e6 / r.seconds).toFixed(1)} | ${total.toFixed(2)} (${(sum(r, "tx") / gb(r)).toFixed(2)} + ${(sum(r, "rx") / gb(r)).toFixed(2)}) | ${vsFloor} | ${per} | ${r.load} |`;
    }),
  ];
  return lines.join("\n");
}

if (require.main === module) {
  const reason = unavailableReason();
  if (reason) {
    console.log(`SKIPPED Erlang distribution benchmark: ${reason} (needs root, wireguard-go, wireguard-tools, erlang-base, erlang-ssl, openssl)`);
  } else {
    benchErlangDistribution().then(
      (r) => console.log(markdown(r)),
      (err) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
  }
}
