/**
 * Every rendered variant of the bootstrap (and the helper it installs) passes `bash -n` and
 * `shellcheck` at its default (style) severity. Needs the Debian package `shellcheck`; without it the
 * shellcheck test is skipped with the reason printed.
 */

import { spawn, spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { NodeBootstrapOptions, renderNodeBootstrapScript, renderUdpGroScript } from "../src/tailnet/bootstrap";
import { baseOptions, probe } from "./fixtures/provisioning/helpers";

type Distro = NodeBootstrapOptions["distro"];
const DISTROS: Distro[] = [
  { id: "ubuntu", codename: "jammy" },
  { id: "ubuntu", codename: "noble" },
  { id: "debian", codename: "bookworm" },
];

/**
 * Each distro with every on/off combination of pin, ssh, iperf3, tuning and routes would be 96 files;
 * instead every toggle is seen both ways for every distro (the distro only changes URLs), plus the
 * all-on and all-off corners.
 */
function variants(): Array<[string, NodeBootstrapOptions]> {
  const out: Array<[string, NodeBootstrapOptions]> = [];
  const toggles: Array<Partial<NodeBootstrapOptions>> = [
    {},
    { tailscaleVersion: "1.90.6", ssh: false },
    { peerRelay: { port: 40000, hostnames: ["mesh-a", "mesh-b"], tags: ["tag:mesh-relay"] } },
    { iperf3: false, tuning: false, localUsers: ["meshprobe", "ops_2"] },
    { advertiseRoutes: ["10.0.0.0/16", "fd7a:115c:a1e0:ab12::/64"], acceptRoutes: true, iperf3: { port: 5301 } },
    {
      tailscaleVersion: "1.88.3",
      tailscaleTrack: "unstable",
      ssh: false,
      iperf3: false,
      tuning: false,
      advertiseTags: [],
      waitTimeoutSeconds: 30,
    },
    {
      tailscaleVersion: "1.90.6",
      advertiseTags: ["tag:mesh", "tag:router"],
      advertiseRoutes: ["192.168.0.0/24"],
      acceptRoutes: true,
      iperf3: { port: 80 },
    },
  ];
  for (const distro of DISTROS) {
    toggles.forEach((t, i) => out.push([`${distro.id}-${distro.codename}-${i}`, baseOptions({ distro, ...t })]));
  }
  return out;
}

function shellcheck(files: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("shellcheck", ["--shell=bash", "--severity=style", "--format=gcc", ...files]);
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}

describe("rendered scripts are valid bash", () => {
  let dir: string;
  const files: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "provisioning-shellcheck-"));
    for (const [name, o] of variants()) {
      const f = join(dir, `${name}.sh`);
      writeFileSync(f, renderNodeBootstrapScript(o));
      files.push(f);
    }
    const helper = join(dir, "mesh-udp-gro.sh");
    writeFileSync(helper, renderUdpGroScript());
    files.push(helper);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("bash -n accepts every variant", () => {
    expect(files.length).toBe(DISTROS.length * 7 + 1);
    for (const f of files) {
      const r = spawnSync("bash", ["-n", f], { encoding: "utf8" });
      expect({ file: f, status: r.status, stderr: r.stderr }).toEqual({ file: f, status: 0, stderr: "" });
    }
  });

  const missing = probe("shellcheck", ["--version"]);
  if (missing) {
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED shellcheck of rendered scripts: ${missing} (install the Debian package "shellcheck")`);
  }
  (missing ? test.skip : test)("shellcheck finds nothing in any variant", async () => {
    // Two processes (the machine has two cores), each checking half of the files.
    const half = Math.ceil(files.length / 2);
    const results = await Promise.all([files.slice(0, half), files.slice(half)].map(shellcheck));
    for (const r of results) expect(r).toEqual({ status: 0, output: "" });
  });

  (missing ? test.skip : test)("shellcheck does flag a broken variant (the check is live)", () => {
    const broken = join(dir, "broken.sh");
    const good = renderNodeBootstrapScript(baseOptions());
    const bad = good.replace('mv -f "$tmp" "$path"', "mv -f $tmp $path");
    expect(bad).not.toBe(good);
    writeFileSync(broken, bad);
    const r = spawnSync("shellcheck", ["--shell=bash", "--format=gcc", broken], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/SC2086/);
  });
});
