/**
 * The README's probe command against the default mesh, as a user runs it:
 *   npm run probe -- --stack-dir <the mesh's terraform dir> --from ap-northeast
 * The stack dir is real: the app's mesh stack, applied by the offline harness, so `terraform output`
 * returns the stack's own `nodes` and `probe_access`. The network is a stand-in ssh that behaves
 * like a tailnet with the mesh's policy: only the probe user, over the tailnet hostname, gets in;
 * public addresses time out (firewall DROP); root asks for a browser check.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { main } from "../src/probe/cli";
import { findTerraform, withSession } from "../src/harness/runner";
import { stackConfigPath, synthesizeStacks } from "../src/harness/stacks";

jest.setTimeout(120_000);
const TERRAFORM = findTerraform();
if (!TERRAFORM) console.warn("probe-default-mesh: terraform not on PATH; skipped (install Terraform 1.11)");
const describeTf = TERRAFORM ? describe : describe.skip;

const FIX = join(__dirname, "fixtures", "probe");
const TMP = mkdtempSync(join(tmpdir(), "probe-mesh-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** The stand-in: logs each call; lets in only meshprobe@<hostname>, then runs the command with fake tools. */
const FAKE_SSH = `#!/bin/bash
. "$(dirname "$0")/fake.env"
printf '%s\\n' "$*" >>"$FAKE_LOG"
target=""; prev=""
for a in "$@"; do
  case $prev in -o|-i|-p) ;; *) case $a in *@*) target=$a ;; esac ;; esac
  prev=$a; last=$a
done
user=\${target%@*}; host=\${target#*@}
case $host in
  [0-9]*) sleep 0.2; echo "ssh: connect to host $host port 22: Connection timed out" >&2; exit 255 ;;
esac
case $user in
  meshprobe) ;;
  root) echo "# Tailscale SSH requires an additional check." >&2
        echo "# To authenticate, visit: https://login.tailscale.com/a/1a2b3c4d5e" >&2; exit 255 ;;
  *) echo "$user@$host: Permission denied (tailscale)." >&2; exit 255 ;;
esac
PATH="$FAKE_BIN:$PATH" exec sh -c "$last"
`;

const TOOLS: Record<string, string> = {
  tailscale: `#!/bin/bash
. "$(dirname "$0")/../fake.env"
case $1 in
  status) cat "$FAKE_STATUS" ;;
  ping) ip=\${!#}; echo "pong from peer ($ip) via 192.0.2.1:41641 in 3ms" ;;
  *) exit 2 ;;
esac`,
  ping: `#!/bin/bash
ip=\${!#}
echo "PING $ip ($ip) 56(84) bytes of data."
for i in 1 2 3 4 5; do echo "64 bytes from $ip: icmp_seq=$i ttl=64 time=1.2$i ms"; done
echo; echo "--- $ip ping statistics ---"
echo "5 packets transmitted, 5 received, 0% packet loss, time 801ms"
echo "rtt min/avg/max/mdev = 1.21/1.23/1.25/0.02 ms"`,
  iperf3: `#!/bin/bash
. "$(dirname "$0")/../fake.env"
cat "$FAKE_IPERF"`,
  true: "#!/bin/sh\nexit 0",
};

describeTf("the README's probe command against the default mesh (stand-in ssh)", () => {
  let stackDir = "";
  let nodes: { key: string; label: string }[] = [];
  const LOG = join(TMP, "ssh.log");

  beforeAll(async () => {
    const outdir = join(TMP, "synth");
    synthesizeStacks(outdir);
    stackDir = join(TMP, "mesh");
    await withSession({ configPath: stackConfigPath(outdir, "mesh"), workDir: stackDir, schemaDir: join(__dirname, "..", "schemas"), stripProvisioners: true }, async (s) => {
      await s.apply();
    });
    // `terraform output` in that dir reads the state the offline apply wrote.
    const out = JSON.parse(require("child_process").execFileSync(TERRAFORM!, ["output", "-json"], { cwd: stackDir, env: { ...process.env, TF_CLI_CONFIG_FILE: "" } }).toString());
    nodes = Object.entries<any>(out.nodes.value).map(([key, v]) => ({ key, label: v.label }));
    const bin = join(TMP, "bin");
    mkdirSync(bin);
    for (const [name, text] of Object.entries(TOOLS)) {
      writeFileSync(join(bin, name), text);
      chmodSync(join(bin, name), 0o755);
    }
    writeFileSync(join(TMP, "ssh"), FAKE_SSH);
    chmodSync(join(TMP, "ssh"), 0o755);
    const peer = (n: { label: string }, i: number) => ({
      HostName: n.label, DNSName: `${n.label}.tail0000.ts.net.`, TailscaleIPs: [`100.64.0.${i + 1}`], CurAddr: `192.0.2.${i + 1}:41641`,
      Relay: "tok", Online: true, Active: true, OS: "linux",
    });
    const status = {
      BackendState: "Running",
      Self: peer(nodes.find((n) => n.key === "ap-northeast")!, nodes.findIndex((n) => n.key === "ap-northeast")),
      Peer: Object.fromEntries(nodes.filter((n) => n.key !== "ap-northeast").map((n) => [`k-${n.key}`, peer(n, nodes.indexOf(n))])),
    };
    writeFileSync(join(TMP, "status.json"), JSON.stringify(status));
    // Child processes don't see jest's process.env, so the stand-ins read their settings from a file.
    const settings = { FAKE_LOG: LOG, FAKE_BIN: bin, FAKE_STATUS: join(TMP, "status.json"), FAKE_IPERF: join(FIX, "iperf3-ok.json") };
    writeFileSync(join(TMP, "fake.env"), Object.entries(settings).map(([k, v]) => `${k}='${v}'`).join("\n") + "\n");
  });

  const run = async (extra: string[]) => {
    writeFileSync(LOG, "");
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["--stack-dir", stackDir, "--from", "ap-northeast", "--ssh-program", join(TMP, "ssh"), "--quiet", "--iperf-duration", "1", ...extra], {
      stdout: (s) => void out.push(s),
      stderr: (s) => void err.push(s),
    });
    const calls = readFileSync(LOG, "utf8").split("\n").filter(Boolean);
    return { code, out: out.join(""), err: err.join(""), calls };
  };

  test("as written: over the tailnet as the probe user, every node measured", async () => {
    const r = await run([]);
    // The stand-in's 1.2 ms is below what the distances allow, which the report rightly flags; no failure.
    expect(r.err).not.toMatch(/^probe:|failed probe/m);
    expect(r.code).toBe(0);
    expect(r.calls.every((c) => c.includes("meshprobe@mesh-ap-northeast"))).toBe(true);
    const rows = r.out.split("\n").filter((l) => /^\| mesh-/.test(l));
    expect(rows).toHaveLength(14);
    for (const row of rows) expect(row).toMatch(/\| 1\.23\d* \|/);
  });

  test("over public addresses: one message saying what to change, not 14 timeouts", async () => {
    const r = await run(["--ssh-via", "public"]);
    expect(r.code).toBe(2);
    expect(r.calls).toHaveLength(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/^probe: cannot SSH to ap-northeast as meshprobe@\S+ \(public address\): no answer on port 22\. Nodes created with cloud-init delivery accept no SSH/);
  });

  test("as root (a check rule): one message pointing at the probe user", async () => {
    const r = await run(["--ssh-user", "root"]);
    expect(r.code).toBe(2);
    expect(r.calls).toHaveLength(1);
    expect(r.err).toMatch(/Tailscale SSH asks for a browser check for root .*\(--ssh-user meshprobe: the mesh's policy accepts it without a check\)/);
  });

  test("a user the policy does not know: one message about the policy", async () => {
    const r = await run(["--ssh-user", "alice"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/refused by the tailnet policy\..*npm run policy -- mesh/);
  });
});
