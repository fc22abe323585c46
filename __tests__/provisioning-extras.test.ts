/**
 * The bootstrap's extension point for systems (BootstrapExtras: extra packages, units masked before
 * install, service accounts, owned files, units started last): rendered text, validation, shellcheck,
 * and two runs in the stubbed sandbox of provisioning-idempotence (second run: 0 changes; a changed
 * file restarts the units; a secret file's content never reaches a command line or the output).
 */
import { spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { NodeBootstrapOptions, ProvisioningValidationError, renderNodeBootstrapScript } from "../src/tailnet/bootstrap";
import { TEST_AUTH_KEY, baseOptions, probe } from "./fixtures/provisioning/helpers";

const SECRET = "PLANTEDcookie0123456789abcdefABCDEF";
const UNIT = "[Unit]\nDescription=demo\n\n[Service]\nExecStart=/bin/true\n";

function extras(overrides: Partial<NodeBootstrapOptions> = {}): NodeBootstrapOptions {
  return baseOptions({
    advertiseTags: ["tag:erlang"],
    iperf3: false,
    extraPackages: ["erlang-base"],
    maskUnits: ["epmd.socket", "epmd.service"],
    systemUsers: [{ name: "erlang", home: "/var/lib/erlang-cluster" }],
    files: [
      { path: "/var/lib/erlang-cluster/.erlang.cookie", mode: "0400", owner: "erlang", content: SECRET },
      { path: "/etc/erlang-cluster/vm.args", mode: "644", content: "-name erlang@mesh-ap-northeast\n" },
      { path: "/etc/systemd/system/demo-epmd.service", mode: "644", content: UNIT },
      { path: "/etc/systemd/system/demo-node.service", mode: "644", content: UNIT },
    ],
    units: ["demo-epmd.service", "demo-node.service"],
    ...overrides,
  });
}

function fieldError(o: NodeBootstrapOptions): string {
  try {
    renderNodeBootstrapScript(o);
  } catch (e) {
    expect(e).toBeInstanceOf(ProvisioningValidationError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("BootstrapExtras: rendered text", () => {
  const script = renderNodeBootstrapScript(extras());
  const main = script.slice(script.indexOf("main() {"));

  test("steps run in order: masks before packages, extras after tailscale up", () => {
    const order = ["step_tailscale_repo", "step_masks", "step_packages", "step_tailscale_up", "step_iperf3", "step_extras"].map((s) => main.indexOf(`  ${s}\n`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(script).toContain("ensure_packages tailscale ethtool erlang-base");
    expect(script).toContain("  ensure_masked 'epmd.socket'\n  ensure_masked 'epmd.service'\n");
  });

  test("files are written with mode and owner from quoted heredocs; the secret sits alone in its heredoc", () => {
    const lines = script.split("\n");
    const i = lines.indexOf(SECRET);
    expect(i).toBeGreaterThan(0);
    expect(lines.filter((l) => l.includes(SECRET))).toHaveLength(1);
    expect(lines[i - 1]).toBe("  write_owned_file '/var/lib/erlang-cluster/.erlang.cookie' 400 'erlang:erlang' <<'MESH_FILE_EOF'");
    expect(lines[i + 1]).toBe("MESH_FILE_EOF");
    expect(script).toContain("  write_file '/etc/erlang-cluster/vm.args' 644 <<'MESH_FILE_EOF'\n-name erlang@mesh-ap-northeast\nMESH_FILE_EOF");
    expect(script).toContain('chown "$owner" "$tmp"');
  });

  test("units are enabled and started in order, restarted only when a file changed", () => {
    const step = script.slice(script.indexOf("step_extras() {"));
    expect(step.indexOf("ensure_active 'demo-epmd.service'")).toBeLessThan(step.indexOf("ensure_active 'demo-node.service'"));
    expect(step).toMatch(/if \[ "\$files_changed" -gt 0 \]; then\n    systemctl daemon-reload\n    if unit_active 'demo-epmd.service'; then\n      systemctl restart 'demo-epmd.service'/);
  });

  test("without extras the script is what it was: no new steps or helpers", () => {
    const plain = renderNodeBootstrapScript(baseOptions());
    for (const s of ["step_masks", "step_extras", "ensure_masked", "ensure_system_user", "write_owned_file"]) expect(plain).not.toContain(s);
    // The shared helpers' text is untouched by the extension (other systems' scripts keep their hash).
    expect(plain).toContain('write_file() {\n  local path=$1 mode=$2 tmp\n');
    const unowned = renderNodeBootstrapScript(extras({ files: [{ path: "/etc/x.conf", mode: "644", content: "x" }] }));
    expect(unowned).not.toContain("write_owned_file");
  });

  test("bad input names the field", () => {
    expect(fieldError(extras({ extraPackages: ["Erlang Base"] }))).toMatch(/^extraPackages\[0\]: "Erlang Base" is not a Debian package name/);
    expect(fieldError(extras({ extraPackages: ["erlang-base", "erlang-base=1:25"] }))).toMatch(/^extraPackages\[1\]: duplicate entry erlang-base/);
    expect(fieldError(extras({ maskUnits: ["epmd"] }))).toMatch(/^maskUnits\[0\]: "epmd" is not a systemd unit name/);
    expect(fieldError(extras({ units: ["epmd.socket"] }))).toMatch(/^units: epmd\.socket is also in maskUnits/);
    expect(fieldError(extras({ systemUsers: [{ name: "root", home: "/root" }] }))).toMatch(/^systemUsers\[0\]\.name: "root" is not an unprivileged user name/);
    expect(fieldError(extras({ systemUsers: [{ name: "erlang", home: "var/lib/x" }] }))).toMatch(/^systemUsers\[0\]\.home: "var\/lib\/x" is not an absolute path/);
    expect(fieldError(extras({ localUsers: ["erlang"] }))).toMatch(/^systemUsers: erlang is also in localUsers/);
    expect(fieldError(extras({ files: [{ path: "/etc/../x", mode: "644", content: "" }] }))).toMatch(/^files\[0\]\.path: /);
    expect(fieldError(extras({ files: [{ path: "/etc/x", mode: "u+rw", content: "" }] }))).toMatch(/^files\[0\]\.mode: "u\+rw" is not an octal mode/);
    expect(fieldError(extras({ files: [{ path: "/etc/x", mode: "644", owner: "a:b:c", content: "" }] }))).toMatch(/^files\[0\]\.owner: "a:b:c" is not "user" or "user:group"/);
    expect(fieldError(extras({ files: [{ path: "/etc/x", mode: "644", content: "" }, { path: "/etc/x", mode: "600", content: "" }] }))).toMatch(/^files\[1\]: duplicate entry \/etc\/x/);
  });
});

const shellcheckMissing = probe("shellcheck", ["--version"]);
if (shellcheckMissing) console.warn(`SKIPPED shellcheck of the bootstrap with extras: ${shellcheckMissing}`);
(shellcheckMissing ? test.skip : test)("shellcheck finds nothing in variants with extras", () => {
  const dir = mkdtempSync(join(tmpdir(), "extras-shellcheck-"));
  try {
    const variants = [extras(), extras({ maskUnits: [], units: [] }), extras({ files: [], systemUsers: [], extraPackages: [] }), extras({ files: [] })];
    const files = variants.map((o, i) => {
      const f = join(dir, `v${i}.sh`);
      writeFileSync(f, renderNodeBootstrapScript(o));
      return f;
    });
    const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--format=gcc", ...files], { encoding: "utf8" });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: "" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- Real runs in the stubbed sandbox (see provisioning-idempotence.test.ts for the sandbox itself).
const SANDBOX = join(__dirname, "fixtures", "provisioning", "sandbox.sh");
const sandboxMissing =
  (process.getuid && process.getuid() !== 0 ? "not running as root" : null) ??
  probe("unshare", ["--mount", "--uts", "--ipc", "--net", "--pid", "--fork", "--propagation", "private", "true"]);
if (sandboxMissing) console.warn(`SKIPPED bootstrap extras in the sandbox: ${sandboxMissing} (needs root and util-linux unshare)`);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    return !st ? [] : st.isDirectory() ? walk(p) : st.isFile() ? [p] : [];
  });
}

(sandboxMissing ? test.skip : test)("sandbox: extras converge, settle at 0 changes, restart on change, keep the secret off argv and output", () => {
  const work = mkdtempSync(join(tmpdir(), "extras-sandbox-"));
  try {
    const changedVmArgs = extras();
    (changedVmArgs.files as { content: string }[])[1].content = "-name erlang@mesh-ap-northeast\n-noinput\n";
    const scripts = [extras(), extras(), changedVmArgs].map((o, i) => {
      const f = join(work, `s${i + 1}.sh`);
      writeFileSync(f, renderNodeBootstrapScript(o), { mode: 0o700 });
      return f;
    });
    const out = join(work, "out");
    mkdirSync(out);
    const r = spawnSync("bash", [SANDBOX, out, ...scripts], { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(0);
    const runOut = (i: number) => readFileSync(join(out, `run${i}.out`), "utf8");
    const log = readFileSync(join(out, "calls.log"), "utf8").split("\n");
    const calls = (i: number) => log.slice(log.indexOf(`=== run ${i}`) + 1, log.indexOf(`=== run ${i + 1}`) < 0 ? undefined : log.indexOf(`=== run ${i + 1}`));
    for (const i of [1, 2, 3]) expect(readFileSync(join(out, `run${i}.rc`), "utf8").trim()).toBe("0");

    // Run 1: masked before the install, so the package's all-address epmd.socket never started.
    const c1 = calls(1);
    const mask = c1.indexOf("systemctl mask epmd.socket");
    const install = c1.findIndex((c) => / install .*erlang-base/.test(c));
    expect(mask).toBeGreaterThanOrEqual(0);
    expect(install).toBeGreaterThan(mask);
    expect(c1.filter((c) => c.startsWith("useradd"))).toEqual([
      "useradd --system --user-group --home-dir /var/lib/erlang-cluster --create-home --shell /usr/sbin/nologin --comment Managed by the node bootstrap erlang",
    ]);
    expect(c1.indexOf("systemctl start demo-epmd.service")).toBeLessThan(c1.indexOf("systemctl start demo-node.service"));
    expect(c1.indexOf("systemctl start demo-epmd.service")).toBeGreaterThan(c1.findIndex((c) => c.startsWith("tailscale up")));

    // Run 2: nothing to do.
    expect(runOut(2)).toMatch(/^bootstrap: 0 changes$/m);
    expect(calls(2).filter((c) => /^(useradd|apt-get|systemctl (mask|start|restart|enable|daemon-reload))/.test(c))).toEqual([]);

    // Run 3: one file changed → rewritten, units restarted, nothing else.
    expect(runOut(3)).toContain("changed: wrote /etc/erlang-cluster/vm.args");
    expect(runOut(3)).not.toContain("changed: wrote /var/lib/erlang-cluster/.erlang.cookie");
    expect(calls(3).filter((c) => /^systemctl (restart|daemon-reload)/.test(c))).toEqual([
      "systemctl daemon-reload",
      "systemctl restart demo-epmd.service",
      "systemctl restart demo-node.service",
    ]);
    expect(runOut(3)).toMatch(/^bootstrap: 3 changes$/m);

    // End state: the cookie 0400, owned by the service account, in its home; the package's socket masked.
    const fs = join(out, "fs");
    const cookie = join(fs, "var/lib/erlang-cluster/.erlang.cookie");
    expect(readFileSync(cookie, "utf8")).toBe(`${SECRET}\n`);
    const passwd = readFileSync(join(fs, "etc/passwd"), "utf8");
    const uid = Number(/^erlang:x:(\d+):(\d+)::\/var\/lib\/erlang-cluster:\/usr\/sbin\/nologin$/m.exec(passwd)![1]);
    expect(statSync(cookie).mode & 0o7777).toBe(0o400);
    expect([statSync(cookie).uid, statSync(cookie).gid]).toEqual([uid, uid]);
    expect(statSync(join(fs, "var/lib/erlang-cluster")).uid).toBe(uid);
    expect(readdirSync(join(fs, "var/lib/erlang-cluster"))).toEqual([".erlang.cookie"]); // no temp file left
    const state = join(out, "state", "units");
    expect(readdirSync(state).filter((f) => f.startsWith("epmd."))).toEqual([]);
    for (const u of ["demo-epmd.service", "demo-node.service"]) {
      expect(readdirSync(state)).toEqual(expect.arrayContaining([`${u}.enabled`, `${u}.active`]));
    }
    // The secret is in the file and nowhere else: not in any stub's argv, not in any output.
    for (const f of walk(out).filter((p) => p !== cookie)) expect({ f, leaked: readFileSync(f, "utf8").includes(SECRET) }).toEqual({ f, leaked: false });
    expect(readFileSync(join(out, "calls.log"), "utf8")).not.toContain(TEST_AUTH_KEY);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
