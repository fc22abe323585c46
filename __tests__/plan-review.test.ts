/**
 * plan.md opens with what a reviewer must not miss, and carries Terraform's warnings: each flag on a
 * plan made for it (pure), then the real thing (terraform plans through the offline harness: the
 * article's count-indexed nodes migrating regions, a failing check block's warning). The CI
 * workflow that posts plan.md is checked by a real workflow validator.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findTerraform, withSession } from "../src/harness/runner";
import { stackConfigPath, synthesizeStacks } from "../src/harness/stacks";
import { diagnosticsFromJsonLines, PlanJson, renderPlanMarkdown, ResourceChangeJson, reviewFlags } from "../src/harness/summary";

const rc = (address: string, type: string, change: ResourceChangeJson["change"]): ResourceChangeJson => ({
  address,
  mode: "managed",
  type,
  name: address.split(".")[1].replace(/\[.*$/, ""),
  change,
});
const SECRET = "PSK-planted-4d2e";

const plan = (...changes: ResourceChangeJson[]): PlanJson => ({ terraform_version: "1.11.4", resource_changes: changes });

describe("review flags, one plan per flag", () => {
  test("a replacement names what forces it and the order", () => {
    const f = reviewFlags(plan(rc("linode_instance.node[\"us-ord\"]", "linode_instance", { actions: ["delete", "create"], before: { image: "a" }, after: { image: "b" }, replace_paths: [["image"]] })));
    expect(f).toEqual([{ kind: "replace", address: 'linode_instance.node["us-ord"]', text: "forced by image; destroyed first, then created" }]);
  });

  test("a deletion", () => {
    expect(reviewFlags(plan(rc("linode_firewall.mesh", "linode_firewall", { actions: ["delete"] })))).toEqual([
      { kind: "destroy", address: "linode_firewall.mesh", text: "destroyed" },
    ]);
  });

  test("an in-place region migration of a linode_instance (and not a relabel alone)", () => {
    const f = reviewFlags(
      plan(
        rc("linode_instance.vpn[4]", "linode_instance", { actions: ["update"], before: { region: "us-ord", label: "a" }, after: { region: "fr-par", label: "b" } }),
        rc("linode_instance.vpn[5]", "linode_instance", { actions: ["update"], before: { region: "fr-par", label: "a" }, after: { region: "fr-par", label: "b" } }),
      ),
    );
    expect(f).toEqual([
      { kind: "region-migration", address: "linode_instance.vpn[4]", text: 'migrates from "us-ord" to "fr-par" in place: the running node is moved (downtime), keeping its label and disks' },
    ]);
  });

  test("any change to the tailnet policy, creation included", () => {
    const f = reviewFlags(
      plan(
        rc("tailscale_acl.policy", "tailscale_acl", { actions: ["update"], before: { acl: "{}" }, after: { acl: "{ }" } }),
        rc("tailscale_acl.other", "tailscale_acl", { actions: ["create"], after: { acl: "{}" } }),
      ),
    );
    expect(f.map((x) => [x.kind, x.address])).toEqual([
      ["tailnet-policy", "tailscale_acl.other"],
      ["tailnet-policy", "tailscale_acl.policy"],
    ]);
    expect(f[0].text).toMatch(/writes the whole tailnet policy file/);
  });

  test("tailnet keys minted, replaced (also flagged as a replacement) and revoked", () => {
    const f = reviewFlags(
      plan(
        rc('tailscale_tailnet_key.node["a"]', "tailscale_tailnet_key", { actions: ["create"], after: {} }),
        rc('tailscale_tailnet_key.node["b"]', "tailscale_tailnet_key", { actions: ["create", "delete"], before: {}, after: {}, replace_paths: [["tags"]] }),
        rc('tailscale_tailnet_key.node["c"]', "tailscale_tailnet_key", { actions: ["delete"] }),
      ),
    );
    expect(f.map((x) => `${x.kind} ${x.address} ${x.text}`)).toEqual([
      'replace tailscale_tailnet_key.node["b"] forced by tags; the new one is created first',
      'destroy tailscale_tailnet_key.node["c"] destroyed',
      'tailnet-key tailscale_tailnet_key.node["a"] minted (the key is sensitive and kept in state)',
      'tailnet-key tailscale_tailnet_key.node["b"] replaced by a new key',
      'tailnet-key tailscale_tailnet_key.node["c"] revoked',
    ]);
  });

  test("an AWS VPN connection replaced, and tunnel options changed in place, without showing a PSK", () => {
    const f = reviewFlags(
      plan(
        rc("aws_vpn_connection.primary", "aws_vpn_connection", { actions: ["delete", "create"], before: {}, after: {}, replace_paths: [["customer_gateway_id"]] }),
        rc("aws_vpn_connection.backup", "aws_vpn_connection", {
          actions: ["update"],
          before: { tunnel1_preshared_key: "old", tags: {} },
          after: { tunnel1_preshared_key: SECRET, tags: { a: "b" } },
          before_sensitive: { tunnel1_preshared_key: true },
          after_sensitive: { tunnel1_preshared_key: true },
        }),
      ),
    );
    expect(f.filter((x) => x.kind === "vpn-connection").map((x) => `${x.address}: ${x.text}`)).toEqual([
      "aws_vpn_connection.backup: tunnel options change in place (tunnel1_preshared_key): AWS rebuilds those tunnel endpoints, which drops them for minutes",
      "aws_vpn_connection.primary: replaced: new tunnel outside addresses and pre-shared keys; the routers' IPsec and BGP settings must follow",
    ]);
    expect(JSON.stringify(f)).not.toContain(SECRET);
  });

  test("creates, plain updates, reads and no-ops raise nothing", () => {
    expect(
      reviewFlags(
        plan(
          rc("linode_instance.node[\"a\"]", "linode_instance", { actions: ["create"], after: { region: "us-east" } }),
          rc("linode_firewall.mesh", "linode_firewall", { actions: ["update"], before: { label: "a" }, after: { label: "b" } }),
          rc("random_string.p", "random_string", { actions: ["no-op"] }),
        ),
      ),
    ).toEqual([]);
  });
});

describe("plan.md", () => {
  const p = plan(
    rc("linode_instance.vpn[13]", "linode_instance", { actions: ["delete"] }),
    rc("linode_instance.vpn[4]", "linode_instance", { actions: ["update"], before: { region: "us-ord" }, after: { region: "fr-par" } }),
  );
  const warning = { severity: "warning" as const, summary: "Argument is deprecated", detail: "Use use_path_style instead.", address: "terraform.backend" };

  test("opens with Review first, before any count, and lists each flag under its heading", () => {
    const md = renderPlanMarkdown(p, { title: "t", diagnostics: [warning, { severity: "error", summary: "not carried" }] });
    const review = md.indexOf("### Review first");
    expect(review).toBeGreaterThan(0);
    expect(review).toBeLessThan(md.indexOf("**Plan:"));
    expect(md).toContain("- **Destroyed: 1**\n  - `linode_instance.vpn[13]`: destroyed");
    expect(md).toContain('- **Moved to another region in place: 1**\n  - `linode_instance.vpn[4]`: migrates from "us-ord" to "fr-par"');
    expect(md).toContain("- **Terraform warnings: 1** (listed below)");
    expect(md).toContain("### Terraform warnings\n\n- **Argument is deprecated** (`terraform.backend`)\n  > Use use_path_style instead.");
    expect(md).not.toContain("not carried");
  });

  test("says so when nothing needs attention", () => {
    const md = renderPlanMarkdown(plan(rc("linode_instance.node[\"a\"]", "linode_instance", { actions: ["create"], after: {} })), { title: "t" });
    expect(md).toMatch(/### Review first\n\nNothing that needs special attention/);
    expect(md).not.toContain("### Terraform warnings");
  });

  test("long lists are cut at ten per heading, with the rest counted", () => {
    const many = plan(...Array.from({ length: 14 }, (_, i) => rc(`linode_instance.vpn[${i}]`, "linode_instance", { actions: ["delete"] })));
    const md = renderPlanMarkdown(many, { title: "t" });
    expect(md).toContain("- **Destroyed: 14**");
    expect(md).toContain("  - … and 4 more (see By address)");
  });

  test("warnings come from terraform plan -json lines", () => {
    const lines = [
      JSON.stringify({ "@level": "info", type: "version", terraform: "1.11.4" }),
      JSON.stringify({ "@level": "warn", type: "diagnostic", diagnostic: { severity: "warning", summary: "Check block assertion failed", detail: "x", address: "check.c" } }),
      "not json",
      JSON.stringify({ type: "planned_change", change: {} }),
    ].join("\n");
    expect(diagnosticsFromJsonLines(lines)).toEqual([{ severity: "warning", summary: "Check block assertion failed", detail: "x", address: "check.c" }]);
  });
});

const TERRAFORM = findTerraform();
if (!TERRAFORM) console.warn("SKIPPED real plan review test: terraform is not on PATH");
(TERRAFORM ? describe : describe.skip)("plan.md from real terraform plans", () => {
  jest.setTimeout(120_000);
  const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "plan-review-"));
  afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

  test("the article's count indexing: removing us-ord flags nine region migrations and a deletion; a check warning is carried", async () => {
    const outdir = path.join(TMP, "out");
    synthesizeStacks(outdir);
    const configPath = stackConfigPath(outdir, "article");
    // A check block that fails at plan time: Terraform reports it as a warning, never an error.
    const withCheck = path.join(TMP, "article-check.tf.json");
    const doc = JSON.parse(fs.readFileSync(configPath, "utf8"));
    doc.check = { regions_listed: { assert: [{ condition: "${length(var.regions) > 13}", error_message: "fewer than 14 regions" }] } };
    fs.writeFileSync(withCheck, JSON.stringify(doc));
    const regions = doc.variable.regions.default as string[];
    await withSession({ configPath: withCheck, workDir: path.join(TMP, "work"), stripProvisioners: true }, async (s) => {
      await s.apply();
      s.reconfigure({ vars: { regions: regions.filter((r) => r !== "us-ord") } });
      const p = await s.plan();
      expect(p.diagnostics.filter((d) => d.severity === "warning").map((d) => d.summary)).toContain("Check block assertion failed");
      const md = p.markdown;
      expect(md.indexOf("### Review first")).toBeLessThan(md.indexOf("### By resource type"));
      expect(md).toContain("- **Destroyed: 1**\n  - `linode_instance.vpn[13]`: destroyed");
      expect(md).toContain("- **Moved to another region in place: 9**");
      expect(md).toContain('  - `linode_instance.vpn[4]`: migrates from "us-ord" to "fr-par" in place');
      expect(md).toMatch(/### Terraform warnings\n\n- \*\*Check block assertion failed\*\*[^\n]*\n  > fewer than 14 regions/);
      expect(fs.readFileSync(p.planMdPath, "utf8")).toBe(md);
    });
  });
});

describe("CI workflow", () => {
  const validator = path.join(__dirname, "..", "node_modules", ".bin", "action-validator");
  const workflow = path.join(__dirname, "..", ".github", "workflows", "plan-review.yml");

  test("plan-review.yml passes action-validator (GitHub's workflow schema)", () => {
    const r = spawnSync(validator, [workflow], { encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("the validator fails a broken copy (a misspelt key), so the check above can fail", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wf-"));
    try {
      const broken = path.join(dir, "plan-review.yml");
      fs.writeFileSync(broken, fs.readFileSync(workflow, "utf8").replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"));
      const r = spawnSync(validator, [broken], { encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/Additional property 'runs_on' is not allowed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the workflow plans every synthesized stack and type-checks", () => {
    const text = fs.readFileSync(workflow, "utf8");
    expect(text).toContain("for dir in cdktf.out/stacks/*/; do");
    expect(text).not.toMatch(/for stack in article mesh/);
    expect(text).toContain("npm run typecheck");
  });
});
