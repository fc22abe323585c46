/**
 * Runs rendered bootstrap scripts for real, twice or more, in a throwaway root (private mount, UTS,
 * IPC, network and PID namespaces; tmpfs root with /usr read-only) where the network- and
 * system-dependent commands are stubs that record their argv and emulate state
 * (__tests__/fixtures/provisioning/). The first run must report changes, the second exactly 0, and
 * the recorded calls show what was (not) done again. Needs root and util-linux `unshare`; skipped
 * with the reason printed otherwise.
 */

import { createHash } from "crypto";
import { spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import {
  NodeBootstrapOptions,
  renderIperf3Unit,
  renderNodeBootstrapScript,
  renderTuningSysctl,
  renderUdpGroScript,
  tailscaleAptRepo,
  tailscaleRpmRepo,
  AMAZON_LINUX_2023,
  SYSCTL_FORWARDING_PATH,
  renderForwardingSysctl,
} from "../src/tailnet/bootstrap";
import { TEST_AUTH_KEY, baseOptions, probe } from "./fixtures/provisioning/helpers";

const SANDBOX = join(__dirname, "fixtures", "provisioning", "sandbox.sh");

interface Run {
  rc: number;
  out: string;
  /** N from the final `bootstrap: N changes` line, or null when the run did not get there. */
  changes: number | null;
  /** Stub calls recorded during this run, one argv per line. */
  calls: string[];
}

interface Sandbox {
  runs: Run[];
  /** Copy of the sandbox's /etc, /var, /run and /usr/{local,keyrings} after the last run. */
  fs: string;
  /** Copy of the stubs' emulated state (packages, units, sysctls, ethtool features). */
  state: string;
  /** Everything the sandbox produced, for the key-leak scan. */
  outdir: string;
}

const work = mkdtempSync(join(tmpdir(), "provisioning-sandbox-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let counter = 0;
/** Each entry is rendered from options, or used as is when it is already script text. */
function runSandbox(scripts: Array<NodeBootstrapOptions | string>, env: Record<string, string> = {}): Sandbox {
  const dir = join(work, `case-${++counter}`);
  const outdir = join(dir, "out");
  mkdirSync(outdir, { recursive: true });
  const files = scripts.map((o, i) => {
    const f = join(dir, `bootstrap-${i + 1}.sh`);
    writeFileSync(f, typeof o === "string" ? o : renderNodeBootstrapScript(o), { mode: 0o700 });
    return f;
  });
  const r = spawnSync("bash", [SANDBOX, outdir, ...files], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 50_000,
  });
  if (r.status !== 0) throw new Error(`sandbox failed (${r.status}): ${r.stderr}`);
  const log = readFileSync(join(outdir, "calls.log"), "utf8").split("\n");
  const runs: Run[] = files.map((_, i) => {
    const out = readFileSync(join(outdir, `run${i + 1}.out`), "utf8");
    const m = /^bootstrap: (\d+) changes$/m.exec(out);
    const start = log.indexOf(`=== run ${i + 1}`);
    const end = log.indexOf(`=== run ${i + 2}`);
    return {
      rc: Number(readFileSync(join(outdir, `run${i + 1}.rc`), "utf8").trim()),
      out,
      changes: m ? Number(m[1]) : null,
      calls: log.slice(start + 1, end < 0 ? undefined : end).filter((l) => l !== ""),
    };
  });
  return { runs, fs: join(outdir, "fs"), state: join(outdir, "state"), outdir };
}

/** All regular files under dir, recursively. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return [];
    return st.isDirectory() ? walk(p) : st.isFile() ? [p] : [];
  });
}

const calledWith = (run: Run, prefix: string) => run.calls.filter((c) => c.startsWith(prefix));
const read = (p: string) => readFileSync(p, "utf8");
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

const unavailable =
  (process.getuid && process.getuid() !== 0 ? "not running as root" : null) ??
  probe("unshare", ["--mount", "--uts", "--ipc", "--net", "--pid", "--fork", "--propagation", "private", "true"]) ??
  probe("chroot", ["--version"]);
if (unavailable) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED provisioning idempotence sandbox: ${unavailable} (needs root and util-linux unshare)`);
}
const sandboxTest = unavailable ? test.skip : test;

describe("bootstrap idempotence in a stubbed sandbox", () => {
  sandboxTest("fresh jammy node, pinned, routes: first run changes, second run changes nothing", () => {
    const o = baseOptions({ tailscaleVersion: "1.90.6", advertiseRoutes: ["10.0.0.0/16"], acceptRoutes: true, localUsers: ["meshprobe"] });
    const sb = runSandbox([o, o], { SANDBOX_CLOUD_CFG_DIR: "1" });
    const [first, second] = sb.runs;

    expect(first.rc).toBe(0);
    expect(second.rc).toBe(0);
    expect(first.changes).toBeGreaterThanOrEqual(10);
    expect(second.changes).toBe(0);
    expect(second.out).not.toContain("changed:");

    // First run: waited for cloud-init, added the signed repo before updating, installed the pin.
    expect(first.calls[0]).toBe("cloud-init status --wait");
    expect(calledWith(first, "curl")).toEqual([
      expect.stringMatching(/ https:\/\/pkgs\.tailscale\.com\/stable\/ubuntu\/jammy\.noarmor\.gpg$/),
    ]);
    expect(calledWith(first, "apt-cache show --no-all-versions tailscale=1.90.6")).toHaveLength(1);
    const installs = first.calls.filter((c) => c.startsWith("apt-get") && / install /.test(c));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/ install -y --no-install-recommends --allow-downgrades tailscale=1\.90\.6 iperf3 ethtool$/);
    expect(installs[0]).toContain("-o DPkg::Lock::Timeout=600");
    const ups = calledWith(first, "tailscale up");
    expect(ups).toEqual([
      "tailscale up --reset --hostname=mesh-ap-northeast --advertise-tags=tag:mesh --ssh " +
        "--advertise-routes=10.0.0.0/16 --accept-routes --auth-key=file:/run/mesh-bootstrap/tailscale-authkey --timeout=600s",
    ]);
    // The stub saw the key file root-only, in a root-only directory, with exactly our key in it.
    expect(calledWith(first, "authkey-file")).toEqual([
      `authkey-file mode=600 owner=0 dirmode=700 sha256=${sha256(TEST_AUTH_KEY)}`,
    ]);

    // The probe's login exists once, unprivileged.
    expect(calledWith(first, "useradd")).toEqual(["useradd --create-home --shell /bin/bash --comment Managed by the mesh node bootstrap meshprobe"]);
    expect(read(join(sb.fs, "etc/passwd"))).toMatch(/^meshprobe:x:1001:1001:/m);

    // Second run: only looks. No download, no apt update/install, no tailscale up, no writes.
    for (const verb of ["useradd", "curl", "apt-get", "apt-cache", "tailscale up", "hostnamectl", "ethtool -K", "systemctl enable", "systemctl start", "systemctl restart", "systemctl daemon-reload", "sysctl -q -p"]) {
      expect({ verb, calls: calledWith(second, verb) }).toEqual({ verb, calls: [] });
    }
    expect(calledWith(second, "tailscale status --json")).toHaveLength(1);
    expect(second.out).toContain("tailscale is Running with these settings; not running tailscale up");

    // The key is gone from disk and never appeared in argv, output or any file the sandbox left.
    expect(existsSync(join(sb.fs, "run", "mesh-bootstrap", "tailscale-authkey"))).toBe(false);
    for (const f of walk(sb.outdir)) expect({ f, leaked: read(f).includes(TEST_AUTH_KEY) }).toEqual({ f, leaked: false });

    // The end state is what the renderers describe.
    const fs = sb.fs;
    expect(read(join(fs, "etc/hostname"))).toBe("mesh-ap-northeast\n");
    expect(read(join(fs, "etc/hosts"))).toMatch(/^127\.0\.1\.1 mesh-ap-northeast$/m);
    expect(read(join(fs, "etc/hosts"))).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    expect(read(join(fs, "etc/cloud/cloud.cfg.d/99-mesh-preserve-hostname.cfg"))).toContain("preserve_hostname: true");
    expect(read(join(fs, "etc/apt/sources.list.d/tailscale.list"))).toBe(
      `${tailscaleAptRepo({ id: "ubuntu", codename: "jammy" }).sourceLine}\n`,
    );
    expect(statSync(join(fs, "usr/keyrings/tailscale-archive-keyring.gpg")).size).toBeGreaterThan(0);
    expect(read(join(fs, "etc/sysctl.d/90-mesh-tuning.conf"))).toBe(renderTuningSysctl());
    expect(read(join(fs, "etc/systemd/system/iperf3-tailnet.service"))).toBe(renderIperf3Unit());
    expect(read(join(fs, "usr/local/sbin/mesh-udp-gro"))).toBe(renderUdpGroScript());
    expect(statSync(join(fs, "usr/local/sbin/mesh-udp-gro")).mode & 0o777).toBe(0o755);
    expect(read(join(fs, "var/lib/mesh-bootstrap/tailscale-up.args"))).not.toContain("auth-key");
    const st = sb.state;
    expect(read(join(st, "dpkg/tailscale")).trim()).toBe("1.90.6");
    expect(read(join(st, "sysctl/net.ipv4.tcp_congestion_control")).trim()).toBe("bbr");
    expect(read(join(st, "sysctl/net.core.default_qdisc")).trim()).toBe("fq");
    expect(read(join(st, "sysctl/net.ipv4.tcp_rmem")).trim()).toBe("4096\t131072\t67108864");
    expect(read(join(st, "sysctl/net.ipv4.ip_forward")).trim()).toBe("1");
    expect(read(join(st, "ethtool/rx-udp-gro-forwarding")).trim()).toBe("on");
    for (const u of ["tailscaled.service", "iperf3-tailnet.service", "mesh-udp-gro.service"]) {
      expect(existsSync(join(st, `units/${u}.enabled`))).toBe(true);
    }
    expect(existsSync(join(st, "units/iperf3-tailnet.service.active"))).toBe(true);
    expect(existsSync(join(st, "units/iperf3.service.enabled"))).toBe(false);
  });

  sandboxTest("via remote-exec, apt lock held, first update/install failing: waits, retries, settles", () => {
    const o = baseOptions();
    const sb = runSandbox([o, o], {
      SANDBOX_AS_TERRAFORM: "1",
      SANDBOX_APT_BUSY_POLLS: "2",
      SANDBOX_APT_INSTALL_FAILURES: "1",
      SANDBOX_APT_UPDATE_FAILURES: "1",
    });
    const [first, second] = sb.runs;
    expect(first.rc).toBe(0);
    expect(first.out).toContain("waiting for another apt/dpkg process to release its lock");
    expect(first.out).toMatch(/attempt 1 of 'apt_get update' failed; retrying in 5s/);
    expect(first.out).toMatch(/attempt 1 of 'apt_get install .*' failed; retrying in 5s/);
    // Two polls of a held lock (5 s each), then a 5 s backoff for update and for install.
    expect(calledWith(first, "sleep")).toEqual(["sleep 5", "sleep 5", "sleep 5", "sleep 5"]);
    expect(first.calls.filter((c) => c.startsWith("apt-get") && / install /.test(c))).toHaveLength(2);
    expect(first.calls.filter((c) => c.startsWith("apt-get") && / update$/.test(c))).toHaveLength(2);
    expect(first.changes).toBeGreaterThan(0);
    expect(second.rc).toBe(0);
    expect(second.changes).toBe(0);
    expect(calledWith(second, "apt-get")).toEqual([]);
    expect(calledWith(second, "sleep")).toEqual([]);
    // Run as remote-exec would: the uploaded copy (which holds the key) is private while it runs
    // and deleted afterwards.
    expect(calledWith(first, "terraform-script")).toEqual(["terraform-script /tmp/terraform_1001.sh mode=700"]);
    expect(read(join(sb.outdir, "run1-after", "tmp.txt"))).not.toContain("terraform_");
    expect(read(join(sb.outdir, "run2-after", "tmp.txt"))).not.toContain("terraform_");
  });

  sandboxTest("remote-exec inline with the caller deleting the upload first (as TailscaleNodes does)", () => {
    // TailscaleNodes sends inline ["#!/bin/bash", 'rm -f -- "$0"', script]; bash keeps reading the
    // deleted file, and the script's own chmod/cleanup of $0 must not trip over it.
    const text = `#!/bin/bash\nrm -f -- "$0"\n${renderNodeBootstrapScript(baseOptions())}`;
    const sb = runSandbox([text, text], { SANDBOX_AS_TERRAFORM: "1" });
    const [first, second] = sb.runs;
    expect(first.rc).toBe(0);
    expect(first.changes).toBeGreaterThan(0);
    expect(calledWith(first, "terraform-script")).toEqual([]);
    expect(calledWith(first, "tailscale up")).toHaveLength(1);
    expect(second.rc).toBe(0);
    expect(second.changes).toBe(0);
  });

  sandboxTest("bookworm as cloud-init user data, minimal features: no self-wait, idempotent", () => {
    const o = baseOptions({
      distro: { id: "debian", codename: "bookworm" },
      ssh: false,
      iperf3: false,
      tuning: false,
      advertiseTags: [],
    });
    const sb = runSandbox([o, o], { SANDBOX_VIA: "cloud-init" });
    const [first, second] = sb.runs;
    expect(first.rc).toBe(0);
    expect(first.out).toContain("running under cloud-init; not waiting for cloud-init");
    expect(calledWith(first, "cloud-init status")).toEqual([]);
    expect(calledWith(first, "curl")[0]).toMatch(/https:\/\/pkgs\.tailscale\.com\/stable\/debian\/bookworm\.noarmor\.gpg$/);
    expect(calledWith(first, "tailscale up")).toEqual([
      "tailscale up --reset --hostname=mesh-ap-northeast --auth-key=file:/run/mesh-bootstrap/tailscale-authkey --timeout=600s",
    ]);
    // Unpinned: the repository's newest version, no availability probe.
    expect(read(join(sb.state, "dpkg/tailscale")).trim()).toBe("1.90.6");
    expect(calledWith(first, "apt-cache")).toEqual([]);
    expect(first.calls.find((c) => / install /.test(c))).toMatch(/ install -y --no-install-recommends --allow-downgrades tailscale$/);
    expect(calledWith(first, "ethtool")).toEqual([]);
    expect(existsSync(join(sb.fs, "etc/systemd/system/iperf3-tailnet.service"))).toBe(false);
    expect(existsSync(join(sb.fs, "etc/sysctl.d/90-mesh-tuning.conf"))).toBe(false);
    expect(second.rc).toBe(0);
    expect(second.changes).toBe(0);
    expect(calledWith(second, "tailscale up")).toEqual([]);
  });

  sandboxTest("changed options converge: settings re-applied without the key, removed features cleaned up", () => {
    const a = baseOptions();
    const b = baseOptions({ iperf3: { port: 5301 }, tuning: false, advertiseRoutes: ["10.1.0.0/16"] });
    const sb = runSandbox([a, a, b, b]);
    const [r1, r2, r3, r4] = sb.runs;
    expect([r1.rc, r2.rc, r3.rc, r4.rc]).toEqual([0, 0, 0, 0]);
    expect(r1.changes).toBeGreaterThan(0);
    expect(r2.changes).toBe(0);
    expect(r3.changes).toBeGreaterThan(0);
    expect(r4.changes).toBe(0);

    expect(r3.out).toContain("tailscale is Running; applying changed settings");
    expect(calledWith(r3, "tailscale up")).toEqual([
      "tailscale up --reset --hostname=mesh-ap-northeast --advertise-tags=tag:mesh --ssh " +
        "--advertise-routes=10.1.0.0/16 --timeout=600s",
    ]);
    expect(calledWith(r3, "authkey-file")).toEqual([]);
    expect(r3.out).toContain("changed: wrote /etc/systemd/system/iperf3-tailnet.service");
    expect(calledWith(r3, "systemctl restart iperf3-tailnet.service")).toHaveLength(1);
    expect(r3.out).toContain("changed: removed /etc/sysctl.d/90-mesh-tuning.conf");
    expect(r3.out).toContain("changed: disabled mesh-udp-gro.service");
    expect(r3.out).toContain("changed: removed /usr/local/sbin/mesh-udp-gro");
    expect(r3.out).toContain("changed: applied /etc/sysctl.d/90-mesh-forwarding.conf");
    expect(calledWith(r3, "apt-get")).toEqual([]); // nothing new to install
    expect(read(join(sb.fs, "etc/systemd/system/iperf3-tailnet.service"))).toBe(renderIperf3Unit({ port: 5301 }));
    expect(calledWith(r4, "tailscale up")).toEqual([]);
  });

  sandboxTest("a kernel without BBR: warns, does not count it, still 0 changes on re-run", () => {
    const o = baseOptions();
    const sb = runSandbox([o, o], { SANDBOX_NO_SYSCTL: "net.ipv4.tcp_congestion_control" });
    const [first, second] = sb.runs;
    expect(first.rc).toBe(0);
    expect(first.out).toContain("warning: the kernel did not take every setting in /etc/sysctl.d/90-mesh-tuning.conf");
    expect(first.out).not.toContain("changed: applied /etc/sysctl.d/90-mesh-tuning.conf");
    expect(second.rc).toBe(0);
    expect(second.changes).toBe(0);
  });

  sandboxTest("failures stop the script, say so, and leave no key behind", () => {
    const unavailablePin = runSandbox([baseOptions({ tailscaleVersion: "1.2.3" })]);
    expect(unavailablePin.runs[0].rc).toBe(1);
    expect(unavailablePin.runs[0].out).toContain("error: tailscale 1.2.3 is not available");
    expect(unavailablePin.runs[0].out).toMatch(/^bootstrap: failed \(exit 1\) after \d+ changes$/m);
    expect(unavailablePin.runs[0].changes).toBeNull();

    const badKey = runSandbox([baseOptions(), baseOptions()], { SANDBOX_TAILSCALE_UP_FAILURES: "1" });
    const [failed, retried] = badKey.runs;
    expect(failed.rc).not.toBe(0);
    expect(calledWith(failed, "authkey-file")).toHaveLength(1);
    expect(failed.out).toMatch(/bootstrap: failed \(exit \d+\)/);
    // Re-running after the failure logs in (the stamp was not written) and then settles.
    expect(retried.rc).toBe(0);
    expect(calledWith(retried, "tailscale up")).toHaveLength(1);
    expect(existsSync(join(badKey.outdir, "run1-after", "run", "mesh-bootstrap"))).toBe(true);
    expect(existsSync(join(badKey.outdir, "run1-after", "run", "mesh-bootstrap", "tailscale-authkey"))).toBe(false);
    expect(existsSync(join(badKey.fs, "run", "mesh-bootstrap", "tailscale-authkey"))).toBe(false);
    for (const f of walk(badKey.outdir)) expect(read(f).includes(TEST_AUTH_KEY)).toBe(false);
  });
});

describe("Amazon Linux 2023 (a subnet router on EC2): dnf instead of apt, same script otherwise", () => {
  sandboxTest("as cloud-init user data, SNAT off, dnf failing once: repo written, installs, forwards, settles at 0", () => {
    const o = baseOptions({
      hostname: "vpc-subnet-router",
      advertiseTags: ["tag:aws-subnet-router"],
      distro: { ...AMAZON_LINUX_2023 },
      tailscaleVersion: "1.90.6",
      iperf3: false,
      advertiseRoutes: ["10.0.0.0/16"],
      snatSubnetRoutes: false,
    });
    const sb = runSandbox([o, o], { SANDBOX_VIA: "cloud-init", SANDBOX_CLOUD_CFG_DIR: "1", SANDBOX_DNF_INSTALL_FAILURES: "1" });
    const [first, second] = sb.runs;
    expect(first.rc).toBe(0);
    expect(first.changes).toBeGreaterThanOrEqual(8);
    // No apt anywhere; Tailscale's dnf repository written by the script (not downloaded), then installed.
    for (const verb of ["apt-get", "apt-cache", "dpkg-query", "curl", "fuser"]) expect({ verb, calls: calledWith(first, verb) }).toEqual({ verb, calls: [] });
    expect(read(join(sb.fs, "etc/yum.repos.d/tailscale.repo"))).toBe(tailscaleRpmRepo({ ...AMAZON_LINUX_2023 }).content);
    expect(calledWith(first, "dnf -q clean expire-cache")).toHaveLength(1);
    expect(calledWith(first, "dnf -q list --showduplicates tailscale-1.90.6")).toHaveLength(1);
    const installs = calledWith(first, "dnf -q -y install");
    expect(installs).toEqual(["dnf -q -y install tailscale-1.90.6 ethtool", "dnf -q -y install tailscale-1.90.6 ethtool"]);
    expect(first.out).toMatch(/attempt 1 of 'dnf -q -y install tailscale-1\.90\.6 ethtool' failed; retrying in 5s/);
    expect(read(join(sb.state, "rpm/tailscale")).trim()).toBe("1.90.6");
    // The rpm doesn't start tailscaled; the script enables and starts it.
    expect(calledWith(first, "systemctl enable tailscaled.service")).toHaveLength(1);
    expect(calledWith(first, "tailscale up")).toEqual([
      "tailscale up --reset --hostname=vpc-subnet-router --advertise-tags=tag:aws-subnet-router --ssh " +
        "--advertise-routes=10.0.0.0/16 --snat-subnet-routes=false --auth-key=file:/run/mesh-bootstrap/tailscale-authkey --timeout=600s",
    ]);
    // Forwarding: persisted where the boot reads it, applied now with sysctl -p.
    expect(read(join(sb.fs, SYSCTL_FORWARDING_PATH.slice(1)))).toBe(renderForwardingSysctl());
    expect(calledWith(first, `sysctl -q -p ${SYSCTL_FORWARDING_PATH}`)).toHaveLength(1);
    expect(read(join(sb.state, "sysctl/net.ipv4.ip_forward")).trim()).toBe("1");
    expect(read(join(sb.state, "sysctl/net.ipv6.conf.all.forwarding")).trim()).toBe("1");

    expect(second.rc).toBe(0);
    expect(second.changes).toBe(0);
    for (const verb of ["dnf", "tailscale up", "sysctl -q -p", "systemctl enable"]) expect({ verb, calls: calledWith(second, verb) }).toEqual({ verb, calls: [] });
    for (const f of walk(sb.outdir)) expect({ f, leaked: read(f).includes(TEST_AUTH_KEY) }).toEqual({ f, leaked: false });
  });

  sandboxTest("a pin the repository lacks stops with a clear message", () => {
    const sb = runSandbox([baseOptions({ distro: { ...AMAZON_LINUX_2023 }, tailscaleVersion: "1.2.3" })]);
    expect(sb.runs[0].rc).toBe(1);
    expect(sb.runs[0].out).toContain("error: tailscale 1.2.3 is not available from Tailscale's dnf repository");
  });
});

describe("peer relay step in a stubbed sandbox", () => {
  const relay = { port: 40000, hostnames: ["mesh-ap-northeast", "mesh-us-ord"], tags: ["tag:mesh-relay"] };

  sandboxTest("a relay node turns the relay server on once, with the relay tag; a second run changes nothing", () => {
    const o = baseOptions({ peerRelay: relay }); // hostname mesh-ap-northeast: a relay
    const [first, second] = runSandbox([o, o]).runs;
    expect(first.rc).toBe(0);
    expect(calledWith(first, "tailscale up")[0]).toContain("--advertise-tags=tag:mesh,tag:mesh-relay");
    expect(calledWith(first, "tailscale set")).toEqual(["tailscale set --relay-server-port=40000"]);
    expect(first.out).toContain("changed: peer relay server on UDP 40000");
    expect(second.rc).toBe(0);
    expect(second.changes).toBe(0);
    expect(calledWith(second, "tailscale set")).toEqual([]);
  });

  sandboxTest("another node keeps the relay off and never calls tailscale set", () => {
    const o = baseOptions({ hostname: "mesh-eu-west", peerRelay: relay });
    const [first, second] = runSandbox([o, o]).runs;
    expect(first.rc).toBe(0);
    expect(calledWith(first, "tailscale up")[0]).toContain("--advertise-tags=tag:mesh ");
    expect(calledWith(first, "tailscale set")).toEqual([]);
    expect(second.changes).toBe(0);
  });

  sandboxTest("a client older than 1.86 stops the relay with a clear message", () => {
    const o = baseOptions({ peerRelay: relay });
    const [run] = runSandbox([o], { SANDBOX_TAILSCALE_VERSION: "1.84.3" }).runs;
    expect(run.rc).not.toBe(0);
    expect(run.out).toContain("tailscale 1.84.3 cannot serve as a peer relay (needs 1.86.0 or later)");
    expect(calledWith(run, "tailscale set")).toEqual([]);
  });
});
