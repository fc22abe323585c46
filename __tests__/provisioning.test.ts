/**
 * Unit tests on the rendered provisioning text: flags, secret handling, repository lines, renderers,
 * and validation errors that name the offending field.
 */

import {
  AUTH_KEY_HEREDOC,
  NodeBootstrapOptions,
  ProvisioningValidationError,
  SUPPORTED_IMAGES,
  distroForImage,
  renderForwardingSysctl,
  renderIperf3Unit,
  renderNodeBootstrapScript,
  renderTuningSysctl,
  renderUdpGroScript,
  renderUdpGroUnit,
  tailscaleAptRepo,
  tailscaleUpFlags,
  resolveNodeBootstrapOptions,
} from "../src/tailnet/bootstrap";
import { TEST_AUTH_KEY, baseOptions } from "./fixtures/provisioning/helpers";

/** The line that runs `tailscale up` on the login path (with the key file). */
function upLines(script: string): string[] {
  return script.split("\n").filter((l) => /^\s*tailscale up /.test(l));
}

function expectFieldError(o: NodeBootstrapOptions, field: string, pattern?: RegExp): ProvisioningValidationError {
  let caught: unknown;
  try {
    renderNodeBootstrapScript(o);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ProvisioningValidationError);
  const err = caught as ProvisioningValidationError;
  expect(err.field).toBe(field);
  expect(err.message.startsWith(`${field}: `)).toBe(true);
  if (pattern) expect(err.message).toMatch(pattern);
  // A validation error must never echo the secret back (it ends up in CI logs).
  expect(err.message).not.toContain(TEST_AUTH_KEY);
  return err;
}

describe("renderNodeBootstrapScript: structure", () => {
  const script = renderNodeBootstrapScript(baseOptions());

  test("is a strict bash script without tracing and without curl|sh", () => {
    const lines = script.split("\n");
    expect(lines[0]).toBe("#!/bin/bash");
    expect(lines).toContain("set -euo pipefail");
    expect(script).not.toMatch(/set\s+-[a-z]*x/);
    expect(script).not.toMatch(/\|\s*(ba)?sh\b/);
    expect(script).not.toContain("install.sh");
  });

  test("ends by reporting the number of changes", () => {
    expect(script).toContain('log "$CHANGES changes"');
    expect(script.trimEnd().endsWith('main "$@"')).toBe(true);
  });

  test("is deterministic and free of local paths and Terraform template directives", () => {
    expect(renderNodeBootstrapScript(baseOptions())).toBe(script);
    expect(script).not.toContain(process.cwd());
    // The construct escapes "${" for Terraform; "%{" would be a template directive it does not escape.
    expect(script).not.toContain("%{");
  });

  test("waits for cloud-init (unless inside it) and for the apt locks, and retries apt", () => {
    expect(script).toContain('timeout "$WAIT_TIMEOUT" cloud-init status --wait');
    expect(script).toContain("under_cloud_init");
    expect(script).toContain("/var/lib/dpkg/lock-frontend");
    expect(script).toContain('-o DPkg::Lock::Timeout="$WAIT_TIMEOUT"');
    expect(script).toMatch(/retry apt_get update/);
    expect(script).toMatch(/retry apt_get install -y/);
    expect(script).toContain("readonly WAIT_TIMEOUT=600");
    expect(renderNodeBootstrapScript(baseOptions({ waitTimeoutSeconds: 120 }))).toContain("readonly WAIT_TIMEOUT=120");
  });

  test("sets the system hostname", () => {
    expect(script).toContain("readonly NODE_HOSTNAME='mesh-ap-northeast'");
    expect(script).toContain('hostnamectl set-hostname "$NODE_HOSTNAME"');
  });
});

describe("renderNodeBootstrapScript: the auth key", () => {
  const script = renderNodeBootstrapScript(baseOptions({ advertiseRoutes: ["10.0.0.0/16"], acceptRoutes: true }));
  const lines = script.split("\n");

  test("appears exactly once, alone inside the single-quoted heredoc", () => {
    const idx = lines.map((l, i) => (l.includes(TEST_AUTH_KEY) ? i : -1)).filter((i) => i >= 0);
    expect(idx).toHaveLength(1);
    const i = idx[0];
    expect(lines[i]).toBe(TEST_AUTH_KEY);
    expect(lines[i - 1]).toMatch(new RegExp(`cat >"\\$AUTH_KEY_FILE" <<'${AUTH_KEY_HEREDOC}'$`));
    expect(lines[i + 1]).toBe(AUTH_KEY_HEREDOC);
  });

  test("is written under umask 077 and passed to tailscale up as file:, never as a value", () => {
    const start = lines.findIndex((l) => l.startsWith("write_auth_key()"));
    const body = lines.slice(start, start + 12).join("\n");
    expect(body).toContain("umask 077");
    expect(body).toContain('chmod 700 "$(dirname "$AUTH_KEY_FILE")"');
    expect(script).toContain("readonly AUTH_KEY_FILE='/run/mesh-bootstrap/tailscale-authkey'");
    const ups = upLines(script);
    expect(ups).toHaveLength(2); // login path and settings-change path
    expect(ups.filter((l) => l.includes('--auth-key="file:$AUTH_KEY_FILE"'))).toHaveLength(1);
    for (const l of ups) {
      expect(l).not.toContain(TEST_AUTH_KEY);
      expect(l).not.toMatch(/--auth-?key[= ]+[^"f]/);
    }
  });

  test("is removed by an EXIT trap and after use", () => {
    expect(script).toContain("trap on_exit EXIT");
    const onExit = script.slice(script.indexOf("on_exit() {"), script.indexOf("trap on_exit EXIT"));
    expect(onExit).toContain('rm -f "$AUTH_KEY_FILE"');
    const up = script.slice(script.indexOf("step_tailscale_up() {"));
    expect(up.indexOf('rm -f "$AUTH_KEY_FILE"')).toBeGreaterThan(up.indexOf("--auth-key="));
  });

  test("is not used when tailscale is already Running", () => {
    const up = script.slice(script.indexOf("step_tailscale_up() {"));
    expect(up).toContain('if [ "$state" = Running ] && [ "$have" = "$want" ]; then');
    const runningBranch = up.slice(up.indexOf('if [ "$state" = Running ]; then'), up.indexOf("  else"));
    expect(runningBranch).toContain('tailscale up "${TS_UP_FLAGS[@]}"');
    expect(runningBranch).not.toContain("auth-key");
    expect(script).toContain("tailscale status --json");
  });
});

describe("tailscale up flags", () => {
  test("defaults: reset, hostname, tags, ssh; no routes", () => {
    const flags = tailscaleUpFlags(resolveNodeBootstrapOptions(baseOptions()));
    expect(flags).toEqual(["--reset", "--hostname=mesh-ap-northeast", "--advertise-tags=tag:mesh", "--ssh"]);
  });

  test("routes, accept-routes, several tags, no ssh, no tags", () => {
    const r = resolveNodeBootstrapOptions(
      baseOptions({
        advertiseTags: ["tag:mesh", "tag:router"],
        ssh: false,
        advertiseRoutes: ["10.0.0.0/16", "fd7a:115c:a1e0:ab12::/64"],
        acceptRoutes: true,
      }),
    );
    expect(tailscaleUpFlags(r)).toEqual([
      "--reset",
      "--hostname=mesh-ap-northeast",
      "--advertise-tags=tag:mesh,tag:router",
      "--advertise-routes=10.0.0.0/16,fd7a:115c:a1e0:ab12::/64",
      "--accept-routes",
    ]);
    expect(tailscaleUpFlags(resolveNodeBootstrapOptions(baseOptions({ advertiseTags: [] })))).not.toContainEqual(
      expect.stringContaining("--advertise-tags"),
    );
  });

  test("rendered into the script's flag array with the wait timeout", () => {
    const s = renderNodeBootstrapScript(baseOptions({ advertiseRoutes: ["192.168.10.0/24"], acceptRoutes: true }));
    expect(s).toContain(
      "readonly TS_UP_FLAGS=('--reset' '--hostname=mesh-ap-northeast' '--advertise-tags=tag:mesh' '--ssh' " +
        "'--advertise-routes=192.168.10.0/24' '--accept-routes')",
    );
    for (const l of upLines(s)) expect(l).toContain('--timeout="${WAIT_TIMEOUT}s"');
    expect(renderNodeBootstrapScript(baseOptions({ ssh: false }))).not.toContain("'--ssh'");
  });
});

describe("Tailscale apt repository", () => {
  test.each([
    ["ubuntu", "jammy", "stable"],
    ["ubuntu", "noble", "unstable"],
    ["debian", "bookworm", "stable"],
  ] as const)("%s/%s on %s", (id, codename, track) => {
    const s = renderNodeBootstrapScript(baseOptions({ distro: { id, codename }, tailscaleTrack: track }));
    expect(s).toContain(`readonly TS_KEYRING_URL='https://pkgs.tailscale.com/${track}/${id}/${codename}.noarmor.gpg'`);
    expect(s).toContain("readonly TS_KEYRING='/usr/share/keyrings/tailscale-archive-keyring.gpg'");
    const line =
      `deb [signed-by=/usr/share/keyrings/tailscale-archive-keyring.gpg] ` +
      `https://pkgs.tailscale.com/${track}/${id} ${codename} main`;
    expect(tailscaleAptRepo({ id, codename }, track).sourceLine).toBe(line);
    // The source line is written by the script itself (heredoc), never downloaded.
    const lines = s.split("\n");
    const i = lines.indexOf(line);
    expect(i).toBeGreaterThan(0);
    expect(lines[i - 1]).toContain("write_file '/etc/apt/sources.list.d/tailscale.list' 644");
    expect(s).not.toContain("tailscale-keyring.list");
  });

  test("version pin installs tailscale=VERSION and checks availability first", () => {
    const pinned = renderNodeBootstrapScript(baseOptions({ tailscaleVersion: "1.90.6" }));
    expect(pinned).toContain("readonly TS_VERSION='1.90.6'");
    expect(pinned).toContain('ensure_packages "tailscale=$TS_VERSION" iperf3 ethtool');
    expect(pinned).toContain('apt-cache show --no-all-versions "tailscale=$TS_VERSION"');
    const latest = renderNodeBootstrapScript(baseOptions());
    expect(latest).not.toContain("TS_VERSION");
    expect(latest).toContain("ensure_packages tailscale iperf3 ethtool");
  });
});

describe("optional features", () => {
  test("iperf3 off: no package, unit removed if an earlier run installed it", () => {
    const s = renderNodeBootstrapScript(baseOptions({ iperf3: false }));
    expect(s).toContain("ensure_packages tailscale ethtool");
    expect(s).not.toContain("ExecStart=/bin/sh");
    expect(s).toContain("disable_unit iperf3-tailnet.service \"/etc/systemd/system/iperf3-tailnet.service\"");
  });

  test("iperf3 port is carried into the unit", () => {
    const s = renderNodeBootstrapScript(baseOptions({ iperf3: { port: 5301 } }));
    expect(s).toContain("--port 5301'");
    expect(s).toContain(renderIperf3Unit({ port: 5301 }));
  });

  test("tuning on embeds the sysctl file, GRO helper and unit; off removes them", () => {
    const on = renderNodeBootstrapScript(baseOptions());
    expect(on).toContain(renderTuningSysctl());
    expect(on).toContain(renderUdpGroScript());
    expect(on).toContain(renderUdpGroUnit());
    expect(on).toContain('apply_sysctl_file "/etc/sysctl.d/90-mesh-tuning.conf"');
    const off = renderNodeBootstrapScript(baseOptions({ tuning: false }));
    expect(off).not.toContain("net.ipv4.tcp_congestion_control");
    expect(off).toContain('remove_file "/etc/sysctl.d/90-mesh-tuning.conf"');
    expect(off).toContain('remove_file "/usr/local/sbin/mesh-udp-gro"');
    expect(off).not.toMatch(/ensure_packages .*ethtool/);
  });

  test("routes turn on IP forwarding; none removes our forwarding file", () => {
    const on = renderNodeBootstrapScript(baseOptions({ advertiseRoutes: ["10.0.0.0/16"] }));
    expect(on).toContain(renderForwardingSysctl());
    expect(on).toContain('apply_sysctl_file "/etc/sysctl.d/90-mesh-forwarding.conf"');
    const off = renderNodeBootstrapScript(baseOptions());
    expect(off).not.toContain("net.ipv4.ip_forward");
    expect(off).toContain('remove_file "/etc/sysctl.d/90-mesh-forwarding.conf"');
  });
});

describe("smaller renderers", () => {
  test("tuning sysctl: BBR, fq and 64 MiB ceilings by default", () => {
    const t = renderTuningSysctl();
    expect(t).toMatch(/^net\.core\.default_qdisc = fq$/m);
    expect(t).toMatch(/^net\.ipv4\.tcp_congestion_control = bbr$/m);
    expect(t).toMatch(/^net\.core\.rmem_max = 67108864$/m);
    expect(t).toMatch(/^net\.core\.wmem_max = 67108864$/m);
    expect(t).toMatch(/^net\.ipv4\.tcp_rmem = 4096 131072 67108864$/m);
    expect(t).toMatch(/^net\.ipv4\.tcp_wmem = 4096 16384 67108864$/m);
    expect(renderTuningSysctl({ maxBufferBytes: 33554432 })).toMatch(/^net\.ipv4\.tcp_rmem = 4096 131072 33554432$/m);
    expect(() => renderTuningSysctl({ maxBufferBytes: 1000 })).toThrow(/tuning\.maxBufferBytes/);
  });

  test("forwarding sysctl: both address families", () => {
    expect(renderForwardingSysctl()).toMatch(/^net\.ipv4\.ip_forward = 1$/m);
    expect(renderForwardingSysctl()).toMatch(/^net\.ipv6\.conf\.all\.forwarding = 1$/m);
  });

  test("iperf3 unit: tailnet address resolved at start, tied to tailscaled, restarts", () => {
    const u = renderIperf3Unit();
    expect(u).toContain("Requires=tailscaled.service");
    expect(u).toMatch(/^After=tailscaled\.service/m);
    expect(u).toContain("Restart=on-failure");
    expect(u).toContain("StartLimitIntervalSec=0");
    // `$$` is systemd's escape for `$`, so the shell gets $(tailscale ip -4) at start time.
    expect(u).toContain("addr=$$(/usr/bin/tailscale ip -4 | head -n 1)");
    expect(u).toContain('exec /usr/bin/iperf3 --server --bind "$$addr" --port 5201');
    expect(u).toContain("DynamicUser=yes");
    expect(u).not.toContain("CAP_NET_BIND_SERVICE");
    expect(renderIperf3Unit({ port: 522 })).toContain("AmbientCapabilities=CAP_NET_BIND_SERVICE");
    expect(() => renderIperf3Unit({ port: 0 })).toThrow(/iperf3\.port/);
  });

  test("UDP GRO helper and unit", () => {
    const h = renderUdpGroScript();
    expect(h.startsWith("#!/bin/bash\n")).toBe(true);
    expect(h).toContain("ip -o -4 route show to default");
    expect(h).toContain("args+=(rx-udp-gro-forwarding on)");
    expect(h).toContain("args+=(rx-gro-list off)");
    expect(h).toContain('ethtool -K "$iface" "${args[@]}"');
    expect(h.trimEnd().endsWith("exit 0")).toBe(true);
    const u = renderUdpGroUnit();
    expect(u).toContain("Type=oneshot");
    expect(u).toContain("ExecStart=/usr/local/sbin/mesh-udp-gro");
    expect(u).toContain("After=network-online.target");
    expect(u).toContain("WantedBy=multi-user.target");
  });
});

describe("distroForImage", () => {
  test.each([
    ["linode/ubuntu22.04", "ubuntu", "jammy"],
    ["linode/ubuntu24.04", "ubuntu", "noble"],
    ["linode/debian11", "debian", "bullseye"],
    ["linode/debian12", "debian", "bookworm"],
    ["linode/debian13", "debian", "trixie"],
  ])("%s → %s/%s", (image, id, codename) => {
    expect(distroForImage(image)).toEqual({ id, codename });
  });

  test("unknown image names the field and lists the supported images", () => {
    for (const bad of ["linode/ubuntu20.04", "linode/centos7", "", "toString"]) {
      let err: unknown;
      try {
        distroForImage(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProvisioningValidationError);
      expect((err as ProvisioningValidationError).field).toBe("image");
      for (const supported of Object.keys(SUPPORTED_IMAGES)) expect((err as Error).message).toContain(supported);
    }
  });
});

describe("validation errors name the field", () => {
  test.each(["Mesh-Tokyo", "mesh_tokyo", "-mesh", "mesh-", "", "a".repeat(64), "mesh.tokyo"])(
    "hostname %j",
    (hostname) => {
      expectFieldError(baseOptions({ hostname }), "hostname", /RFC 1123/);
    },
  );

  test("63-character hostname is fine", () => {
    expect(() => renderNodeBootstrapScript(baseOptions({ hostname: `a${"-".repeat(61)}b` }))).not.toThrow();
  });

  test.each([
    [["mesh"], "advertiseTags[0]"],
    [["tag:mesh", "tag:Mesh"], "advertiseTags[1]"],
    [["tag:"], "advertiseTags[0]"],
    [["tag:1mesh"], "advertiseTags[0]"],
    [["tag:me sh"], "advertiseTags[0]"],
    [["tag:mesh", "tag:mesh"], "advertiseTags[1]"],
  ])("tags %j", (advertiseTags, field) => {
    expectFieldError(baseOptions({ advertiseTags }), field, /tag/);
  });

  test.each([
    ["tskey-auth-abc'; rm -rf /; echo '", /single quote/],
    ["tskey-auth-abc\nMESH_AUTHKEY_EOF", /newline/],
    ["tskey-auth-abc\r", /newline/],
    ["tskey auth", /whitespace/],
    ["", /non-empty/],
    [AUTH_KEY_HEREDOC, /delimiter/],
  ])("authKey %#", (authKey, pattern) => {
    const err = expectFieldError(baseOptions({ authKey }), "authKey", pattern);
    if (authKey.length > 3) expect(err.message).not.toContain(authKey);
  });

  test.each([
    [["10.0.0.1/16"], "advertiseRoutes[0]", /host bits.*"10\.0\.0\.0\/16"/],
    [["10.0.0.0/33"], "advertiseRoutes[0]", /1-32/],
    [["10.0.0.0"], "advertiseRoutes[0]", /not a CIDR/],
    [["10.0.0.0/16", "300.0.0.0/8"], "advertiseRoutes[1]", /valid IPv4 or IPv6/],
    [["0.0.0.0/0"], "advertiseRoutes[0]", /exit node/],
    [["fd00::1/64"], "advertiseRoutes[0]", /host bits/],
    [["010.0.0.0/8"], "advertiseRoutes[0]", /valid IPv4/],
    [["10.0.0.0/16", "10.0.0.0/16"], "advertiseRoutes[1]", /twice/],
  ])("routes %j", (advertiseRoutes, field, pattern) => {
    expectFieldError(baseOptions({ advertiseRoutes }), field, pattern);
  });

  test("valid IPv4 and IPv6 routes are accepted", () => {
    const s = renderNodeBootstrapScript(
      baseOptions({ advertiseRoutes: ["10.0.0.0/16", "192.168.1.7/32", "fd7a:115c:a1e0::/48", "::ffff:0:0/96"] }),
    );
    expect(s).toContain("--advertise-routes=10.0.0.0/16,192.168.1.7/32,fd7a:115c:a1e0::/48,::ffff:0:0/96");
  });

  test.each([0, 65536, 52.5, -1, NaN])("iperf3 port %p", (port) => {
    expectFieldError(baseOptions({ iperf3: { port } }), "iperf3.port", /1-65535/);
  });

  test.each(["v1.90.6", "1.90", "latest", "1.90.6;reboot", "1.90.6-1", " 1.90.6"])("tailscaleVersion %j", (v) => {
    expectFieldError(baseOptions({ tailscaleVersion: v }), "tailscaleVersion", /MAJOR\.MINOR\.PATCH/);
  });

  test("track, distro, timeout and booleans", () => {
    expectFieldError(baseOptions({ tailscaleTrack: "beta" as never }), "tailscaleTrack", /"stable", "unstable"/);
    expectFieldError(baseOptions({ distro: { id: "ubuntu", codename: "focal" } }), "distro.codename", /jammy, noble/);
    expectFieldError(baseOptions({ distro: { id: "centos" as never, codename: "7" } }), "distro.id");
    expectFieldError(baseOptions({ waitTimeoutSeconds: 5 }), "waitTimeoutSeconds", /from 10 to 86400/);
    expectFieldError(baseOptions({ ssh: "yes" as never }), "ssh");
    expectFieldError(baseOptions({ iperf3: null as never }), "iperf3");
  });
});
