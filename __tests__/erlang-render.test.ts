/**
 * The Erlang cluster's rendered files as pure text (vm.args, sys.config, launcher, units, the file
 * list), validation that names the field, and the launcher run for real against stub `tailscale`,
 * `epmd` and `erl` programs that record what they were given. With Debian's erlang-base present,
 * sys.config is also read by Erlang itself.
 */
import { spawnSync } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import {
  DEFAULT_PATHS,
  EPMD_UNIT,
  ErlangRenderOptions,
  NODE_UNIT,
  erlangNodeFiles,
  renderEpmdUnit,
  renderLauncher,
  renderNodeUnit,
  renderSysConfig,
  renderVmArgs,
  RECONNECT_EVAL,
} from "../src/systems/erlang-cluster/render";
import { ValidationError } from "../src/validation";

const MEMBERS = ["erlang@erl-tokyo-1", "erlang@erl-tokyo-2", "app@vultr-tokyo-1"];
const base: ErlangRenderOptions = { node: "erlang@erl-tokyo-1", members: MEMBERS };
const COOKIE = "CookieForRenderTests0123456789abcdefghij";

function err(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error("no error");
}

describe("vm.args and sys.config", () => {
  test("vm.args names the node and its config, and holds no cookie", () => {
    expect(renderVmArgs(base).split("\n").filter((l) => !l.startsWith("##"))).toEqual([
      "-sname erlang@erl-tokyo-1",
      "-config /etc/erlang-cluster/sys.config",
      "-noinput",
      `-eval "${RECONNECT_EVAL}"`,
      "",
    ]);
    const args = renderVmArgs(base).split("\n").filter((l) => !l.startsWith("##"));
    expect(args.join("\n")).not.toMatch(/cookie/i);
  });

  test("short tailnet names run as -sname, names with the MagicDNS suffix as -name; never mixed", () => {
    const fq = { node: "erlang@erl-tokyo-1.tail1234.ts.net", members: ["erlang@erl-tokyo-1.tail1234.ts.net", "app@vultr-tokyo-1.tail1234.ts.net"] };
    expect(renderVmArgs(fq)).toContain("\n-name erlang@erl-tokyo-1.tail1234.ts.net\n");
    // OTP in long-name mode refuses to connect to a host without a dot ("Hostname ... is illegal").
    expect(err(() => renderVmArgs({ ...fq, members: [...fq.members, "erlang@erl-tokyo-2"] }))).toMatch(
      /^members\[2\]: erlang@erl-tokyo-2 is a short name but erlang@erl-tokyo-1\.tail1234\.ts\.net is fully qualified/,
    );
    expect(err(() => renderVmArgs({ ...base, members: [...MEMBERS, "x@y.tail1234.ts.net"] }))).toMatch(/^members\[3\]: x@y\.tail1234\.ts\.net is a fully qualified name but erlang@erl-tokyo-1 is short/);
  });

  test("sys.config lists every member for sync_nodes_optional, with the timeout", () => {
    const text = renderSysConfig({ ...base, syncTimeoutMs: 12_000 });
    expect(text).toContain("{sync_nodes_optional, ['erlang@erl-tokyo-1',\n                         'erlang@erl-tokyo-2',\n                         'app@vultr-tokyo-1']},");
    expect(text).toContain("{sync_nodes_timeout, 12000}");
    expect(renderSysConfig(base)).toContain("{sync_nodes_timeout, 30000}");
  });

  const erl = spawnSync("erl", ["-version"], { encoding: "utf8" });
  if (erl.error) console.warn(`SKIPPED reading sys.config with Erlang: erl not installed (Debian package erlang-base)`);
  (erl.error ? test.skip : test)("Erlang reads sys.config as the kernel settings it means", () => {
    const dir = mkdtempSync(join(tmpdir(), "erl-sysconfig-"));
    try {
      writeFileSync(join(dir, "sys.config"), renderSysConfig(base));
      const r = spawnSync("erl", ["-noshell", "-eval", `{ok, T} = file:consult("${dir}/sys.config"), io:format("~p~n", [T]), halt().`], { encoding: "utf8", timeout: 20_000, cwd: dir });
      expect(r.status).toBe(0);
      expect(r.stdout.replace(/\s+/g, "")).toBe(
        "[[{kernel,[{sync_nodes_optional,['erlang@erl-tokyo-1','erlang@erl-tokyo-2','app@vultr-tokyo-1']},{sync_nodes_timeout,30000}]}]]",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("units", () => {
  test("epmd: its own service through the launcher, unprivileged, after tailscaled, restarting", () => {
    const u = renderEpmdUnit(base);
    expect(u).toContain("ExecStart=/usr/local/lib/erlang-cluster/launch epmd\n");
    expect(u).toContain("DynamicUser=yes\n");
    expect(u).toContain("After=network-online.target tailscaled.service\n");
    expect(u).not.toContain("Requires=tailscaled"); // must outlive a tailscaled restart
    expect(u).toContain("Restart=always\n");
  });

  test("node: the default node as the service account, HOME holding the cookie, after epmd", () => {
    const u = renderNodeUnit(base);
    for (const line of [
      `Requires=${EPMD_UNIT}`,
      `After=${EPMD_UNIT} network-online.target tailscaled.service`,
      "User=erlang",
      "Environment=HOME=/var/lib/erlang-cluster",
      "WorkingDirectory=/var/lib/erlang-cluster",
      "ExecStart=/usr/local/lib/erlang-cluster/launch node",
      "KillSignal=SIGTERM",
      "Restart=on-failure",
    ]) expect(u.split("\n")).toContain(line);
    expect(u).not.toMatch(/cookie/i);
  });

  test("node: your release instead, same launcher and account", () => {
    const u = renderNodeUnit({ ...base, release: { command: ["/opt/app/bin/app", "foreground"] } });
    expect(u.split("\n")).toContain("ExecStart=/usr/local/lib/erlang-cluster/launch exec /opt/app/bin/app foreground");
    expect(u).toContain("Description=Erlang node erlang@erl-tokyo-1 (release /opt/app/bin/app)");
    expect(u.split("\n")).toContain("User=erlang");
  });
});

describe("erlangNodeFiles", () => {
  test("six files with their modes and owners; only the cookie file holds the cookie", () => {
    const files = erlangNodeFiles({ ...base, cookie: COOKIE });
    expect(files.map((f) => [f.path, f.mode, f.owner ?? "root"])).toEqual([
      ["/var/lib/erlang-cluster/.erlang.cookie", "0400", "erlang"],
      ["/etc/erlang-cluster/vm.args", "0644", "root"],
      ["/etc/erlang-cluster/sys.config", "0644", "root"],
      ["/usr/local/lib/erlang-cluster/launch", "0755", "root"],
      [`/etc/systemd/system/${EPMD_UNIT}`, "0644", "root"],
      [`/etc/systemd/system/${NODE_UNIT}`, "0644", "root"],
    ]);
    expect(files[0].content).toBe(COOKIE);
    for (const f of files.slice(1)) expect(f.content).not.toContain(COOKIE);
  });

  test("paths can be moved (the rehearsal does), and the text follows", () => {
    const paths = { configDir: "/tmp/lab/n1/etc", home: "/tmp/lab/n1/home", launcher: "/tmp/lab/n1/launch", unitDir: "/tmp/lab/n1/units" };
    const files = erlangNodeFiles({ ...base, cookie: COOKIE, paths });
    expect(files.map((f) => f.path)).toEqual([
      "/tmp/lab/n1/home/.erlang.cookie",
      "/tmp/lab/n1/etc/vm.args",
      "/tmp/lab/n1/etc/sys.config",
      "/tmp/lab/n1/launch",
      `/tmp/lab/n1/units/${EPMD_UNIT}`,
      `/tmp/lab/n1/units/${NODE_UNIT}`,
    ]);
    expect(files[1].content).toContain("-config /tmp/lab/n1/etc/sys.config");
    expect(files[5].content).toContain("ExecStart=/tmp/lab/n1/launch node");
    expect(JSON.stringify(files)).not.toContain(DEFAULT_PATHS.configDir);
  });
});

describe("validation names the field", () => {
  test.each<[Partial<ErlangRenderOptions> & { cookie?: string }, RegExp]>([
    [{ node: "erlang" }, /^node: "erlang" is not an Erlang node name/],
    [{ node: "erlang@Erl-Tokyo" }, /^node: .*lower-case DNS labels/],
    [{ node: "9x@erl-a" }, /^node: /],
    [{ members: [] }, /^members: must list at least one node name/],
    [{ members: ["erlang@a", "erlang@a"] }, /^members\[1\]: erlang@a is listed twice/],
    [{ members: ["erlang@a", "bad name@b"] }, /^members\[1\]: /],
    [{ distPorts: { min: 4300, max: 4400 } }, /^distPorts: the range must not include epmd's port 4369/],
    [{ distPorts: { min: 9100, max: 9000 } }, /^distPorts\.max: 9000 must be a whole number from 9100 to 10099/],
    [{ distPorts: { min: 80, max: 90 } }, /^distPorts\.min: 80 must be a whole number from 1024 to 65535/],
    [{ syncTimeoutMs: -1 }, /^syncTimeoutMs: /],
    [{ user: "root" }, /^user: "root" is not an unprivileged user name/],
    [{ release: { command: [] } }, /^release\.command: must be a non-empty argv list/],
    [{ release: { command: ["bin/app", "foreground"] } }, /^release\.command\[0\]: "bin\/app" is not an absolute path/],
    [{ release: { command: ["/opt/app/bin/app", "foreground; rm -rf /"] } }, /^release\.command\[1\]: .* must be plain/],
    [{ release: { command: ["/opt/app/bin/app", "$HOME"] } }, /^release\.command\[1\]: /],
    [{ paths: { home: "relative" } }, /^paths\.home: "relative" is not an absolute path/],
    [{ cookie: "short" }, /^cookie: must be 16-255 letters and digits/],
    [{ cookie: "has spaces in the cookie value" }, /^cookie: /],
  ])("%j", (o, pattern) => {
    expect(err(() => erlangNodeFiles({ ...base, cookie: COOKIE, ...o }))).toMatch(pattern);
  });
});

// --- The launcher, run for real against stubs that print what they were given.
describe("launcher", () => {
  let dir: string;
  const stubs = (addr: string) => ({
    tailscale: `#!/bin/sh\n[ "$1 $2" = "ip -4" ] && echo "${addr}"\n`,
    epmd: `#!/bin/sh\n[ "\${1:-}" = -names ] && exit 0\necho "epmd argv=$* ERL_EPMD_ADDRESS=$ERL_EPMD_ADDRESS"\n`,
    erl: `#!/bin/sh\necho "erl argv=$*"\necho "ERL_ZFLAGS=$ERL_ZFLAGS"\necho "ERL_EPMD_ADDRESS=$ERL_EPMD_ADDRESS"\n`,
    app: `#!/bin/sh\necho "app argv=$* node=$ERLANG_CLUSTER_NODE release=$RELEASE_NODE/$RELEASE_DISTRIBUTION"\necho "ERL_ZFLAGS=$ERL_ZFLAGS"\n`,
  });

  function setup(addr: string, cookieMode = 0o400, options: Partial<ErlangRenderOptions> = {}): { run: (...args: string[]) => ReturnType<typeof spawnSync> } {
    dir = mkdtempSync(join(tmpdir(), "erl-launch-"));
    const bin = join(dir, "bin");
    const paths = { configDir: join(dir, "etc"), home: join(dir, "home"), launcher: join(dir, "launch"), unitDir: join(dir, "units") };
    mkdirSync(bin);
    for (const [name, text] of Object.entries(stubs(addr))) writeFileSync(join(bin, name), text, { mode: 0o755 });
    for (const f of erlangNodeFiles({ ...base, cookie: COOKIE, paths, waitSeconds: 1, ...options })) {
      mkdirSync(join(f.path, ".."), { recursive: true });
      writeFileSync(f.path, `${f.content}\n`);
      chmodSync(f.path, parseInt(f.mode, 8));
    }
    chmodSync(join(dir, "home", ".erlang.cookie"), cookieMode);
    return {
      run: (...args: string[]) =>
        spawnSync(paths.launcher, args, {
          encoding: "utf8",
          timeout: 20_000,
          env: { PATH: `${bin}:/usr/bin:/bin`, HOME: paths.home },
        }),
    };
  }
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("bash -n and shellcheck accept it", () => {
    dir = mkdtempSync(join(tmpdir(), "erl-launch-"));
    const f = join(dir, "launch");
    writeFileSync(f, renderLauncher(base));
    expect(spawnSync("bash", ["-n", f]).status).toBe(0);
    const sc = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--format=gcc", f], { encoding: "utf8" });
    if (sc.error) console.warn("SKIPPED shellcheck of the launcher: shellcheck not installed");
    else expect({ status: sc.status, out: sc.stdout }).toEqual({ status: 0, out: "" });
  });

  test("epmd: bound to the tailnet address through ERL_EPMD_ADDRESS, in the foreground", () => {
    const r = setup("100.101.102.103").run("epmd");
    expect(r.stdout).toBe("epmd argv= ERL_EPMD_ADDRESS=100.101.102.103\n");
    expect(r.status).toBe(0);
  });

  test("node: erl with vm.args; ERL_ZFLAGS binds distribution to the address and port range", () => {
    const r = setup("100.64.0.7", 0o400, { distPorts: { min: 9200, max: 9203 } }).run("node", "-pa", "/x");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `erl argv=-args_file ${dir}/etc/vm.args -pa /x\n` +
        "ERL_ZFLAGS= -start_epmd false -kernel inet_dist_use_interface {100,64,0,7} -kernel inet_dist_listen_min 9200 -kernel inet_dist_listen_max 9203\n" +
        "ERL_EPMD_ADDRESS=100.64.0.7\n",
    );
  });

  test("exec: your release, with the node name for its scripts and the same binding", () => {
    const { run } = setup("100.127.255.254");
    const r = run("exec", join(dir, "bin", "app"), "foreground");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("app argv=foreground node=erlang@erl-tokyo-1 release=erlang@erl-tokyo-1/sname\n");
    expect(r.stdout).toContain("-kernel inet_dist_use_interface {100,127,255,254}");
  });

  test("refuses a cookie file others could read, or none at all", () => {
    const { run } = setup("100.64.0.7", 0o644);
    const r = run("node");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\.erlang\.cookie must be mode 0400/);
    rmSync(join(dir, "home", ".erlang.cookie"));
    expect(run("node").stderr).toMatch(/\.erlang\.cookie is missing or unreadable/);
  });

  test("waits for a tailnet address, then gives up; a non-tailnet address does not count", () => {
    const r = setup("192.0.2.10").run("epmd");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no tailnet IPv4 from 'tailscale ip -4' after 1s");
    expect(setup("100.128.0.1").run("epmd").status).toBe(1); // just outside 100.64.0.0/10
  });

  test("unknown mode: usage", () => {
    const r = setup("100.64.0.7").run("start");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("usage: launch epmd | node [ARGS...] | exec CMD [ARGS...] | remsh");
  });
});
