/**
 * The command lines parse with node's util.parseArgs: --help prints the usage and exits 0; a bad
 * option, a missing value or an unknown command prints one line naming it (with the near miss) and
 * exits 2. Through npm as a user runs them, and through main() for the details.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { main as harnessMain, parseArgs as harnessArgs, USAGE as HARNESS_USAGE } from "../src/harness/cli";
import { main as probeMain, parseArgs as probeArgs, USAGE as PROBE_USAGE } from "../src/probe/cli";

const ROOT = path.join(__dirname, "..");

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, o: (t: string) => void out.push(t), e: (t: string) => void err.push(t) };
}

describe("harness CLI (plan:offline, apply:offline, churn:offline)", () => {
  test("--help and -h print the usage, listing every option", async () => {
    for (const flag of ["--help", "-h"]) {
      const c = capture();
      expect(await harnessMain([flag], c.o, c.e)).toBe(0);
      expect(c.out.join("")).toBe(HARNESS_USAGE);
    }
    for (const opt of ["--config", "--no-synth", "--outdir", "--schemas", "--work-dir", "--var", "--remove", "--reset", "--quiet", "--socket-dir"]) {
      expect(HARNESS_USAGE).toContain(opt);
    }
  });

  test.each([
    [["plan", "article", "--work-dr", "x"], 'unknown option --work-dr (did you mean "--work-dir"?)'],
    [["plan", "article", "--var"], "--var needs a value"],
    [["plna", "article"], 'unknown command "plna"; commands: plan, apply, validate, churn, serve. Did you mean "plan"?'],
    [[], "a command is needed: plan, apply, validate, churn, serve"],
    [["plan", "a", "b"], 'unexpected argument "b"'],
    [["churn", "article"], "churn needs --remove <region>"],
    [["plan", "article", "--var", "novalue"], "--var expects name=value, got an argument without a name and '=' (value not shown)"],
  ])("%j is refused in one line, exit 2", async (argv, message) => {
    const c = capture();
    expect(await harnessMain(argv, c.o, c.e)).toBe(2);
    expect(c.err.join("")).toBe(`plan:offline: ${message} (see --help)\n`);
    expect(c.out).toEqual([]);
  });

  test("options parse as before: repeated --var as JSON or text, --no-synth, defaults", () => {
    const o = harnessArgs(["apply", "mesh", "--var", 'regions=["a"]', "--var", "x=plain", "--no-synth", "--quiet"]);
    expect(o).toMatchObject({ command: "apply", stack: "mesh", synth: false, quiet: true, outdir: "cdktf.out", schemas: "schemas", reset: false });
    expect(o.vars).toEqual({ regions: ["a"], x: "plain" });
  });

  test("through npm, as a user runs it", () => {
    const help = spawnSync("npm", ["run", "--silent", "plan:offline", "--", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(HARNESS_USAGE);
    const bad = spawnSync("npm", ["run", "--silent", "plan:offline", "--", "article", "--bogus"], { cwd: ROOT, encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("plan:offline: unknown option --bogus (see --help)\n");
  });
});

describe("probe CLI", () => {
  test("--help prints the usage with --ssh-program and every probe option", async () => {
    const c = capture();
    expect(await probeMain(["--help"], { stdout: c.o, stderr: c.e })).toBe(0);
    expect(c.out.join("")).toBe(PROBE_USAGE);
    for (const opt of ["--ssh-program", "--ssh-via", "--stack-dir", "--iperf-server", "--warn-min-excess-ms", "--no-self"]) expect(PROBE_USAGE).toContain(opt);
  });

  test.each([
    [["--article", "--stak-dir", "x"], 'unknown option "--stak-dir" (did you mean "--stack-dir"?) (see --help)'],
    [["--article", "--ping-count"], "--ping-count needs a value"],
    [["--article", "extra"], 'unexpected argument "extra" (options start with --; see --help)'],
    [["--article", "--ssh-via", "vpn"], '--ssh-via: expected public or tailnet, got "vpn"'],
    [["--article", "--self", "--no-self"], "--self and --no-self exclude each other"],
  ])("%j is refused in one line, exit 2", async (argv, message) => {
    const c = capture();
    expect(await probeMain(argv, { stdout: c.o, stderr: c.e })).toBe(2);
    expect(c.err.join("")).toBe(`probe: ${message}\n`);
  });

  test("values become typed options", () => {
    const a = probeArgs(["--stack-dir", "d", "--all-pairs", "--no-self", "--ping-interval", "0.5", "--ssh-program", "/bin/ssh", "--iperf-server", "managed", "--ssh-port", "2222"]);
    expect(a).toMatchObject({ stackDir: "d", allPairs: true, sshProgram: "/bin/ssh", sshPort: 2222 });
    expect(a.probe).toEqual({ includeSelf: false, pingIntervalS: 0.5, iperfServer: "managed" });
  });

  test("through npm, as a user runs it", () => {
    const help = spawnSync("npm", ["run", "--silent", "probe", "--", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(PROBE_USAGE);
  });
});
