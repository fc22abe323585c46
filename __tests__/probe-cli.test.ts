import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ARTICLE_TOKYO_MEASUREMENTS, articleTokyoRun } from "../src/probe/article-run";
import { main, parseArgs, USAGE } from "../src/probe/cli";
import { findNode, parseInventory, parseTerraformOutputs } from "../src/probe/inventory";
import { buildReport, renderMarkdown } from "../src/probe/report";
import { renderBarChartSvg } from "../src/probe/svg";
import { RunResult, Transport } from "../src/probe/transport";
import { MeshNode } from "../src/probe/types";

const fx = (name: string): string => readFileSync(join(__dirname, "fixtures", "probe", name), "utf8");
const root = join(__dirname, "..");

function capture(): { out: string[]; err: string[]; deps: { stdout: (s: string) => void; stderr: (s: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) } };
}

describe("inventory", () => {
  it("reads the line format", () => {
    const nodes = parseInventory(
      "# rehearsal\nkey=tokyo label=tailscale-multi-ap-northeast region=ap-northeast public_ipv4=203.0.113.10 tailnet_ip=100.96.140.130\n\nlabel=sg region=ap-south netns=prb1h2  # comment\n",
    );
    expect(nodes).toEqual([
      { key: "tokyo", label: "tailscale-multi-ap-northeast", region: "ap-northeast", tailnetHostname: "tailscale-multi-ap-northeast", publicIpv4: "203.0.113.10", tailnetIp: "100.96.140.130" },
      { key: "sg", label: "sg", region: "ap-south", tailnetHostname: "sg", netns: "prb1h2" },
    ]);
  });

  it("reads JSON: terraform output shape, nodes map, nodes array, bare array", () => {
    const value = { "ap-south": { label: "tailscale-multi-ap-south", region: "ap-south", public_ipv4: "203.0.113.21", tailnet_hostname: "tailscale-multi-ap-south" } };
    const tf = JSON.stringify({ nodes: { sensitive: false, type: ["map", ["object", {}]], value } });
    const expected: MeshNode[] = [{ key: "ap-south", label: "tailscale-multi-ap-south", region: "ap-south", publicIpv4: "203.0.113.21", tailnetHostname: "tailscale-multi-ap-south" }];
    expect(parseTerraformOutputs(tf)).toEqual(expected);
    expect(parseInventory(tf)).toEqual(expected);
    expect(parseInventory(JSON.stringify({ nodes: value }))).toEqual(expected);
    expect(parseInventory(JSON.stringify([{ key: "ap-south", ...value["ap-south"] }]))).toEqual(expected);
  });

  it("rejects bad inventories with the field at fault", () => {
    expect(() => parseInventory("key=a region=ap-south colour=blue")).toThrow('inventory line 1: unknown field "colour"');
    expect(() => parseInventory("key=a")).toThrow(/field "region" is required/);
    expect(() => parseInventory("key=a region=ap-south tailnet_ip=100.64.0.300")).toThrow(/tailnet_ip "100.64.0.300" is not an IPv4/);
    expect(() => parseInventory("key=a region=x\nkey=a region=y")).toThrow(/duplicate node key "a"/);
    expect(() => parseInventory("key=a region=AP South")).toThrow(/expected field=value/);
    expect(() => parseInventory("")).toThrow(/no nodes/);
    expect(() => parseTerraformOutputs('{"other": {"value": 1, "type": "number"}}')).toThrow(/no "nodes" output/);
  });

  it("finds --from by key, label, hostname or unique region", () => {
    const nodes = parseInventory("key=a label=tokyo-a region=ap-northeast\nkey=b region=ap-south\nkey=c region=ap-south");
    expect(findNode(nodes, "a").key).toBe("a");
    expect(findNode(nodes, "tokyo-a").key).toBe("a");
    expect(findNode(nodes, "ap-northeast").key).toBe("a");
    expect(() => findNode(nodes, "ap-south")).toThrow(/2 nodes in that region \(b, c\)/);
    expect(() => findNode(nodes, "eu-west")).toThrow(/no node with that key/);
  });
});

describe("argument parsing", () => {
  it("accepts the documented options", () => {
    const a = parseArgs([
      "--all-pairs", "--inventory", "inv.txt", "--concurrency", "3", "--ssh-user", "root", "--ssh-key", "k",
      "--ping-count", "4", "--iperf-duration", "5", "--iperf-omit", "2", "--iperf-parallel", "4", "--iperf-reverse",
      "--format", "md,svg", "--out-dir", "out", "--transport", "netns", "--warn-factor", "2.5",
    ]);
    expect(a.allPairs).toBe(true);
    expect(a.transport).toBe("netns");
    expect(a.formats).toEqual(["md", "svg"]);
    expect(a.probe).toEqual({ concurrency: 3, pingCount: 4, iperfDurationS: 5, iperfOmitS: 2, iperfParallel: 4, iperfReverse: true });
    expect(a.report).toEqual({ warnFactor: 2.5 });
  });

  it("explains what is wrong", () => {
    expect(() => parseArgs(["--from", "a", "--inventory", "x", "--concurrency", "3"])).toThrow(
      "--concurrency: only applies to --all-pairs (with --from every test runs on the source node, one at a time)",
    );
    expect(() => parseArgs(["--inventory", "x"])).toThrow("give exactly one of --from <region|node> or --all-pairs");
    expect(() => parseArgs(["--from", "a", "--all-pairs", "--inventory", "x"])).toThrow(/exactly one of --from/);
    expect(() => parseArgs(["--all-pairs"])).toThrow(/--inventory\/--stack-dir/);
    expect(() => parseArgs(["--article", "--format", "png"])).toThrow('--format: "png" is not one of md, csv, json, svg');
    expect(() => parseArgs(["--article", "--format", "md,svg"])).toThrow(/several formats need --out-dir/);
    expect(() => parseArgs(["--article", "--concurrency", "many"])).toThrow('--concurrency: expected an integer, got "many"');
    expect(() => parseArgs(["--article", "--bogus"])).toThrow(/unknown option "--bogus"/);
    expect(() => parseArgs(["--all-pairs", "--inventory"])).toThrow("--inventory needs a value");
  });

  it("exits 2 on usage errors and prints help on --help", async () => {
    const c = capture();
    expect(await main(["--nope"], c.deps)).toBe(2);
    expect(c.err.join("")).toMatch(/unknown option/);
    const h = capture();
    expect(await main(["--help"], h.deps)).toBe(0);
    expect(h.out.join("")).toBe(USAGE);
  });
});

describe("the article's recorded run", () => {
  it("keeps the published figures exactly", () => {
    expect(ARTICLE_TOKYO_MEASUREMENTS.map((m) => [m.slug, m.articleCity, m.pingMs, m.bandwidthMbps])).toEqual([
      ["ap-northeast", "Tokyo", 0.065, 23637],
      ["ap-south", "Mumbai", 76.26, 324],
      ["us-west", "San Francisco", 110.622, 218],
      ["ap-southeast", "Singapore", 109.671, 220],
      ["us-central", "Dallas", 142.021, 166],
      ["us-ord", "Chicago", 143.918, 164],
      ["ap-west", "Fremont", 142.604, 77],
      ["us-southeast", "Miami", 159.697, 147],
      ["us-iad", "Washington D.C.", 168.81, 136],
      ["us-east", "Newark", 172.316, 134],
      ["ca-central", "Montreal", 192.72, 117],
      ["eu-central", "Frankfurt", 245.05, 88],
      ["fr-par", "Paris", 245.196, 88],
      ["eu-west", "London", 247.916, 86],
    ]);
  });

  it("puts the real city beside the article's label and computes limits from the real place", () => {
    const report = buildReport(articleTokyoRun());
    const row = (slug: string) => report.rows.find((r) => r.to === slug)!;
    expect([row("ap-west").city, row("ap-west").articleCity]).toEqual(["Mumbai", "Fremont"]);
    expect([row("ap-south").city, row("ap-south").articleCity]).toEqual(["Singapore", "Mumbai"]);
    expect([row("ap-southeast").city, row("ap-southeast").articleCity]).toEqual(["Sydney", "Singapore"]);
    expect([row("us-southeast").city, row("ca-central").city]).toEqual(["Atlanta", "Toronto"]);
    // 76 ms fits Tokyo-Singapore (limit ~53 ms); Tokyo-Mumbai's limit (~67 ms) would leave almost no slack.
    expect(row("ap-south").fiberLimitMs!).toBeGreaterThan(50);
    expect(row("ap-south").fiberLimitMs!).toBeLessThan(56);
    expect(row("ap-west").fiberLimitMs!).toBeGreaterThan(row("ap-south").fiberLimitMs!);
    // No measured RTT is below its physical limit: the real locations are consistent.
    expect(report.rows.every((r) => r.fiberLimitMs === null || r.pingMs === null || r.pingMs >= r.fiberLimitMs)).toBe(true);
    expect(report.warnings).toEqual([]);
    expect(report.rows.map((r) => r.to).slice(0, 4)).toEqual(["ap-northeast", "ap-south", "ap-southeast", "us-west"]);
  });

  it("matches the committed chart and the table in docs/probe.md", () => {
    const report = buildReport(articleTokyoRun());
    expect(readFileSync(join(root, "docs", "img", "article-tokyo.svg"), "utf8")).toBe(renderBarChartSvg(report));
    expect(readFileSync(join(root, "docs", "probe.md"), "utf8")).toContain(renderMarkdown(report));
  });

  it("renders through the CLI, and a saved JSON run replays to the same table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "probe-cli-"));
    try {
      const c = capture();
      expect(await main(["--article", "--format", "md,json,csv,svg", "--out-dir", dir, "--quiet"], c.deps)).toBe(0);
      const md = readFileSync(join(dir, "probe.md"), "utf8");
      expect(md).toBe(renderMarkdown(buildReport(articleTokyoRun())));
      expect(md).toContain("| ap-south | Singapore | Mumbai | 100.127.131.55 | 76.260 | 324 |");
      const r = capture();
      expect(await main(["--replay", join(dir, "probe.json"), "--format", "md"], r.deps)).toBe(0);
      expect(r.out.join("")).toBe(md);
      writeFileSync(join(dir, "bad.json"), JSON.stringify({ schema: "other" }));
      const b = capture();
      expect(await main(["--replay", join(dir, "bad.json")], b.deps)).toBe(2);
      expect(b.err.join("")).toMatch(/schema must be "linode-tailnet-probe\/1"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("--stack-dir reads `terraform output -json`", () => {
  const hasTerraform = spawnSync("terraform", ["version"], { timeout: 20_000 }).status === 0;
  const maybe = hasTerraform ? it : it.skip;
  if (!hasTerraform) console.log("skipping --stack-dir test: terraform not on PATH");

  maybe("measures the nodes of the stack's `nodes` output", async () => {
    const dir = mkdtempSync(join(tmpdir(), "probe-stack-"));
    try {
      const value = {
        "ap-northeast": { label: "tailscale-multi-ap-northeast", region: "ap-northeast", public_ipv4: "203.0.113.10", tailnet_hostname: "tailscale-multi-ap-northeast" },
        "ap-south": { label: "tailscale-multi-ap-south", region: "ap-south", public_ipv4: "203.0.113.21", tailnet_hostname: "tailscale-multi-ap-south" },
      };
      // A local state with outputs is all `terraform output` needs: no providers, no network.
      writeFileSync(
        join(dir, "terraform.tfstate"),
        JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 1, lineage: "7f0e5a1d-0000-4000-8000-000000000001", outputs: { nodes: { value, type: ["map", ["object", { label: "string", region: "string", public_ipv4: "string", tailnet_hostname: "string" }]] } }, resources: [], check_results: null }),
      );
      const seen: string[] = [];
      const transport: Transport = {
        kind: "ssh",
        async run(node, argv): Promise<RunResult> {
          seen.push(`${node.key}: ${argv.join(" ")}`);
          if (argv[0] === "tailscale" && argv[1] === "status") return { code: 0, stdout: fx("tailscale-status.json"), stderr: "" };
          if (argv[0] === "tailscale") return { code: 0, stdout: fx("tailscale-ping-direct.txt"), stderr: "" };
          if (argv[0] === "ping") return { code: 0, stdout: fx("ping-ok.txt"), stderr: "" };
          return { code: 0, stdout: fx("iperf3-ok.json"), stderr: "" };
        },
      };
      const c = capture();
      const code = await main(["--stack-dir", dir, "--from", "ap-northeast", "--no-self", "--format", "json", "--quiet"], { ...c.deps, transport });
      expect(code).toBe(0);
      const doc = JSON.parse(c.out.join(""));
      expect(doc.pairs).toHaveLength(1);
      expect(doc.pairs[0]).toMatchObject({ from: "ap-northeast", to: "ap-south", tailnetIp: "100.127.131.55", path: { kind: "direct" } });
      expect(seen).toContain("ap-northeast: ping -n -c 5 -i 0.2 -W 2 100.127.131.55");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
