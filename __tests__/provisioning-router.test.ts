/**
 * The bootstrap's router options (SNAT off, exit node) and its Amazon Linux 2023 variant: flags,
 * forwarding, the dnf repository, validation, and shellcheck for every variant.
 */
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import {
  AMAZON_LINUX_2023,
  NodeBootstrapOptions,
  SYSCTL_FORWARDING_PATH,
  packageFormat,
  renderNodeBootstrapScript,
  resolveNodeBootstrapOptions,
  tailscaleRpmRepo,
  tailscaleUpFlags,
  validateDistro,
} from "../src/tailnet/bootstrap";
import { baseOptions, probe } from "./fixtures/provisioning/helpers";

const flags = (o: Partial<NodeBootstrapOptions>) => tailscaleUpFlags(resolveNodeBootstrapOptions(baseOptions(o)));
const al2023 = (o: Partial<NodeBootstrapOptions> = {}) => baseOptions({ distro: { ...AMAZON_LINUX_2023 }, ...o });

describe("router flags", () => {
  test("SNAT on is Tailscale's default and renders no flag; off renders --snat-subnet-routes=false", () => {
    expect(flags({ advertiseRoutes: ["10.0.0.0/16"] })).not.toContain("--snat-subnet-routes=false");
    expect(flags({ advertiseRoutes: ["10.0.0.0/16"], snatSubnetRoutes: false })).toEqual([
      "--reset",
      "--hostname=mesh-ap-northeast",
      "--advertise-tags=tag:mesh",
      "--ssh",
      "--advertise-routes=10.0.0.0/16",
      "--snat-subnet-routes=false",
    ]);
  });

  test("exit node: --advertise-exit-node, alone or with routes", () => {
    expect(flags({ advertiseExitNode: true })).toEqual(["--reset", "--hostname=mesh-ap-northeast", "--advertise-tags=tag:mesh", "--ssh", "--advertise-exit-node"]);
    expect(flags({ advertiseExitNode: true, advertiseRoutes: ["10.0.0.0/16"], acceptRoutes: true }).slice(-3)).toEqual([
      "--advertise-routes=10.0.0.0/16",
      "--advertise-exit-node",
      "--accept-routes",
    ]);
  });

  test("an exit node alone still turns forwarding on; neither routes nor exit node removes the file", () => {
    expect(renderNodeBootstrapScript(baseOptions({ advertiseExitNode: true }))).toContain(`apply_sysctl_file "${SYSCTL_FORWARDING_PATH}"`);
    expect(renderNodeBootstrapScript(baseOptions())).toContain(`remove_file "${SYSCTL_FORWARDING_PATH}"`);
  });

  test("combinations that can't work are refused, naming the field", () => {
    expect(() => flags({ snatSubnetRoutes: false })).toThrow(/^snatSubnetRoutes: false only changes how advertised routes are forwarded; give advertiseRoutes too/);
    expect(() => flags({ advertiseRoutes: ["10.0.0.0/16"], snatSubnetRoutes: false, advertiseExitNode: true })).toThrow(
      /^snatSubnetRoutes: false cannot be combined with advertiseExitNode: .*tailscale\/tailscale#18725/,
    );
    expect(() => flags({ advertiseExitNode: "yes" as any })).toThrow(/^advertiseExitNode: must be true or false/);
    expect(() => flags({ advertiseRoutes: ["10.0.0.0/16"], snatSubnetRoutes: 0 as any })).toThrow(/^snatSubnetRoutes: must be true or false/);
  });

  test("the script's header says what it does", () => {
    expect(renderNodeBootstrapScript(baseOptions({ advertiseRoutes: ["10.0.0.0/16"], snatSubnetRoutes: false }))).toMatch(/^# .*routes 10\.0\.0\.0\/16, no snat\)\.$/m);
    expect(renderNodeBootstrapScript(baseOptions({ advertiseExitNode: true }))).toMatch(/^# .*no routes, exit node\)\.$/m);
  });
});

describe("Amazon Linux 2023", () => {
  const script = renderNodeBootstrapScript(al2023({ tailscaleVersion: "1.90.6", advertiseRoutes: ["10.0.0.0/16"] }));

  test("is an rpm release with Tailscale's dnf repository", () => {
    expect(packageFormat(AMAZON_LINUX_2023)).toBe("rpm");
    expect(packageFormat({ id: "ubuntu", codename: "noble" })).toBe("deb");
    expect(validateDistro("distro", { id: "amzn", codename: "2023" })).toEqual({ id: "amzn", codename: "2023" });
    expect(() => validateDistro("distro", { id: "amzn", codename: "2" })).toThrow(/^distro\.codename: "2" is not a supported amzn release \(allowed: 2023\)/);
    expect(() => validateDistro("distro", { id: "centos", codename: "7" })).toThrow(/^distro\.id: "centos" is not supported \(allowed: "ubuntu", "debian", "amzn"\)/);
    expect(tailscaleRpmRepo({ ...AMAZON_LINUX_2023 }).content).toBe(
      [
        "[tailscale-stable]",
        "name=Tailscale stable",
        "baseurl=https://pkgs.tailscale.com/stable/amazon-linux/2023/$basearch",
        "enabled=1",
        "type=rpm",
        "repo_gpgcheck=1",
        "gpgcheck=1",
        "gpgkey=https://pkgs.tailscale.com/stable/amazon-linux/2023/repo.gpg",
        "",
      ].join("\n"),
    );
    expect(tailscaleRpmRepo({ ...AMAZON_LINUX_2023 }, "unstable").content).toContain("baseurl=https://pkgs.tailscale.com/unstable/amazon-linux/2023/$basearch");
    expect(() => tailscaleRpmRepo({ id: "debian", codename: "bookworm" })).toThrow(/not an rpm distribution/);
  });

  test("uses dnf and rpm, never apt, dpkg or the apt keyring", () => {
    expect(script).toContain("write_file '/etc/yum.repos.d/tailscale.repo' 644");
    expect(script).toContain('retry dnf -q -y install "${missing[@]}"');
    expect(script).toContain("rpm -q --qf '%{VERSION}\\n' \"$1\"");
    expect(script).toContain('ensure_packages "tailscale=$TS_VERSION" iperf3 ethtool');
    expect(script).toContain("dnf -q clean expire-cache");
    expect(script).not.toMatch(/apt-get|apt-cache|dpkg|APT_|TS_KEYRING|DPkg::Lock/);
  });

  test("the rest of the script is the shared one: key handling, hostname, forwarding, idempotence", () => {
    const deb = renderNodeBootstrapScript(baseOptions({ tailscaleVersion: "1.90.6", advertiseRoutes: ["10.0.0.0/16"] }));
    for (const fn of ["step_hostname()", "write_auth_key()", "step_tailscale_up()", "step_forwarding()", "step_tuning()", "sysctl_file_applied()"]) {
      const body = (s: string) => s.slice(s.indexOf(fn), s.indexOf("\n}\n", s.indexOf(fn)));
      expect({ fn, same: body(script) === body(deb) }).toEqual({ fn, same: true });
    }
  });
});

const unavailable = probe("shellcheck", ["--version"]);
if (unavailable) console.warn(`SKIPPED shellcheck of router and Amazon Linux scripts: ${unavailable} (apt-get install shellcheck)`);
(unavailable ? test.skip : test)("every router and Amazon Linux variant passes bash -n and shellcheck", () => {
  const variants: NodeBootstrapOptions[] = [
    al2023(),
    al2023({ tailscaleVersion: "1.90.6", iperf3: false, tuning: false, ssh: false, advertiseTags: [] }),
    al2023({ advertiseRoutes: ["10.0.0.0/16"], snatSubnetRoutes: false, localUsers: ["ops"] }),
    al2023({ advertiseExitNode: true, tailscaleTrack: "unstable", iperf3: { port: 5301 } }),
    baseOptions({ advertiseRoutes: ["10.20.0.0/24"], advertiseExitNode: true, iperf3: false }),
    baseOptions({ distro: { id: "debian", codename: "bookworm" }, advertiseRoutes: ["10.0.0.0/16"], snatSubnetRoutes: false }),
  ];
  const dir = mkdtempSync(join(tmpdir(), "provisioning-router-"));
  try {
    const files = variants.map((o, i) => {
      const f = join(dir, `v${i}.sh`);
      writeFileSync(f, renderNodeBootstrapScript(o));
      return f;
    });
    for (const f of files) expect({ f, bash: spawnSync("bash", ["-n", f], { encoding: "utf8" }).stderr }).toEqual({ f, bash: "" });
    const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--format=gcc", ...files], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
