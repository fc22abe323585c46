/**
 * The site-to-site stack through the real terraform and the recorded AWS, Linode, random and null
 * schemas: it validates and plans; the plan shows AWS's tunnel attributes flowing into the routers'
 * configuration (the delivery's file contents and triggers reference the VPN connections, unknown
 * until AWS has created them, and Terraform marks the secret-bearing ones sensitive); applied, it
 * plans no changes, and neither AWS's pre-shared keys nor the VRRP password appear in any plan
 * output; a changed router option re-runs only the delivery; a changed tunnel option updates the
 * VPN connection in place and the review flags it.
 */
import { App } from "cdktf";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findTerraform, withSession } from "../src/harness/runner";
import { synthesizeStacks } from "../src/harness/stacks";
import { SiteToSiteStack, SiteToSiteStackProps } from "../src/systems/site-to-site/site-to-site-stack";

jest.setTimeout(240_000);
const TERRAFORM = findTerraform();
if (!TERRAFORM) console.warn("SKIPPED site-to-site offline plans: terraform is not on PATH (install Terraform 1.11)");
const describeTf = TERRAFORM ? describe : describe.skip;
const SCHEMAS = path.join(__dirname, "..", "schemas");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "s2s-offline-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

let n = 0;
function synth(props: SiteToSiteStackProps): string {
  const outdir = path.join(TMP, `out-${++n}`);
  const app = new App({ outdir });
  new SiteToSiteStack(app, "s2s", props);
  app.synth();
  return path.join(outdir, "stacks", "s2s", "cdk.tf.json");
}
const VARS = { admin_cidrs: ["203.0.113.0/24"], ssh_public_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlantedPublicKeyOnlyForTests offline"] };

/** Every reference an expression tree in plan.json's configuration section names. */
function references(node: unknown): string[] {
  const out = new Set<string>();
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === "object") {
      for (const [k, v] of Object.entries(x)) {
        if (k === "references" && Array.isArray(v)) v.forEach((r) => out.add(String(r)));
        else walk(v);
      }
    }
  };
  walk(node);
  return [...out].sort();
}

describeTf("site-to-site, planned offline", () => {
  const appOut = path.join(TMP, "app");
  beforeAll(() => synthesizeStacks(appOut));

  test("the app's stack validates and plans against the recorded schemas (admin networks and SSH keys faked by the harness)", async () => {
    const configPath = path.join(appOut, "stacks", "site-to-site", "cdk.tf.json");
    await withSession({ configPath, workDir: path.join(TMP, "w-app"), schemaDir: SCHEMAS }, async (s) => {
      const v = await s.validate();
      expect(v.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      // No deprecated attribute is read (linode_instance.ip_address is; ipv4 is used instead).
      expect(v.diagnostics.filter((d) => d.severity === "warning").map((d) => d.summary)).toEqual([]);
      const p = await s.plan();
      const changes = (p.plan.resource_changes ?? []).filter((c) => c.mode !== "data");
      expect(changes.filter((c) => c.change.actions.join() !== "create")).toEqual([]);
      expect([...new Set(changes.map((c) => c.type))].sort()).toEqual([
        "aws_cloudwatch_log_group", "aws_customer_gateway", "aws_default_security_group", "aws_flow_log", "aws_iam_role", "aws_iam_role_policy",
        "aws_instance", "aws_route_table", "aws_route_table_association", "aws_security_group", "aws_subnet", "aws_vpc",
        "aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule", "aws_vpn_connection", "aws_vpn_gateway", "aws_vpn_gateway_attachment",
        "aws_vpn_gateway_route_propagation", "linode_firewall", "linode_instance", "null_resource", "random_password",
      ]);
    });
  });

  test("AWS's tunnel attributes flow into the routers' configuration: referenced, unknown until AWS creates them, secret where they carry keys", async () => {
    await withSession({ configPath: synth({}), workDir: path.join(TMP, "w-flow"), schemaDir: SCHEMAS, vars: VARS }, async (s) => {
      const p = await s.plan();
      const conf = (p.plan as any).configuration.root_module.resources as any[];
      for (const key of ["router_1", "router_2"]) {
        const d = conf.find((x) => x.address === `null_resource.${key}_config`);
        const triggerRefs = references(d.expressions.triggers);
        const provRefs = references(d.provisioners);
        for (const t of [1, 2]) {
          for (const attr of ["address", "preshared_key", "cgw_inside_address", "vgw_inside_address", "bgp_asn"]) {
            expect(triggerRefs).toContain(`aws_vpn_connection.${key}.tunnel${t}_${attr}`);
            expect(provRefs).toContain(`aws_vpn_connection.${key}.tunnel${t}_${attr}`);
          }
        }
        expect(provRefs).toContain("random_password.vrrp.result");
        expect(provRefs).toContain(`linode_instance.${key}.ipv4`);
        // Each router's files name its own VPN connection only.
        const other = key === "router_1" ? "router_2" : "router_1";
        expect(provRefs.filter((r) => r.startsWith(`aws_vpn_connection.${other}`))).toEqual([]);

        const rc = (p.plan.resource_changes ?? []).find((c) => c.address === `null_resource.${key}_config`)!;
        expect((rc.change as any).after_unknown.triggers).toEqual({ instance: true, swanctl: true, frr: true, keepalived: true });
        expect((rc.change as any).after_sensitive.triggers).toEqual({ swanctl: true, keepalived: true });
        // Files without AWS values are known now, their hashes shown.
        expect(Object.keys((rc.change.after as any).triggers).sort()).toEqual(["apply", "charon", "sysctl", "updown"]);
      }
      // The customer gateways take the routers' addresses, the connections the plan's inside /30s.
      const cgw = conf.find((x) => x.address === "aws_customer_gateway.router_1");
      expect(references(cgw.expressions.ip_address)).toContain("linode_instance.router_1.ipv4");
      const vpn = (p.plan.resource_changes ?? []).find((c) => c.address === "aws_vpn_connection.router_2")!;
      expect(vpn.change.after).toMatchObject({ tunnel1_inside_cidr: "169.254.12.0/30", tunnel2_inside_cidr: "169.254.13.0/30", tunnel1_startup_action: "add" });
    });
  });

  test("applied: no changes; AWS's keys and the VRRP password never appear in plans; a router option re-runs only the delivery; a tunnel option updates the connection in place", async () => {
    const base: SiteToSiteStackProps = { adminCidrs: ["203.0.113.0/24"] };
    const first = synth(base);
    await withSession({ configPath: first, workDir: path.join(TMP, "w-apply"), schemaDir: SCHEMAS, stripProvisioners: true, vars: { ssh_public_keys: VARS.ssh_public_keys } }, async (s) => {
      await s.apply();
      const state = JSON.parse(fs.readFileSync(path.join(TMP, "w-apply", "terraform.tfstate"), "utf8"));
      const attrs = (type: string, name: string) => state.resources.find((x: any) => x.type === type && x.name === name).instances[0].attributes;
      const secrets = [
        ...["router_1", "router_2"].flatMap((k) => [attrs("aws_vpn_connection", k).tunnel1_preshared_key, attrs("aws_vpn_connection", k).tunnel2_preshared_key]),
        attrs("random_password", "vrrp").result,
      ];
      expect(secrets.every((x) => typeof x === "string" && x.length >= 8)).toBe(true);
      const leaks = (text: string) => secrets.filter((x) => text.includes(x));

      const again = await s.plan();
      expect((again.plan.resource_changes ?? []).filter((c) => c.mode !== "data" && c.change.actions.join() !== "no-op").map((c) => c.address)).toEqual([]);

      // A router-only option: the swanctl.conf changes, so both deliveries run again; nothing else moves.
      s.reconfigure({ configPath: synth({ ...base, ipsec: { dpdDelaySeconds: 8 } }) });
      const p1 = await s.plan();
      const acted1 = Object.fromEntries((p1.plan.resource_changes ?? []).filter((c) => c.change.actions.join() !== "no-op").map((c) => [c.address, c.change.actions.join("+")]));
      expect(acted1).toEqual({ "null_resource.router_1_config": "delete+create", "null_resource.router_2_config": "delete+create" });
      for (const text of [p1.raw.stdout, p1.raw.stderr, p1.markdown, fs.readFileSync(p1.planJsonPath, "utf8")]) expect(leaks(text)).toEqual([]);

      // An AWS tunnel option: the connections update in place (the review says so) and the routers follow.
      s.reconfigure({ configPath: synth({ ...base, ipsec: { rekeyMarginSeconds: 600 } }) });
      const p2 = await s.plan();
      const acted2 = Object.fromEntries((p2.plan.resource_changes ?? []).filter((c) => c.change.actions.join() !== "no-op").map((c) => [c.address, c.change.actions.join("+")]));
      expect(acted2).toEqual({
        "aws_vpn_connection.router_1": "update",
        "aws_vpn_connection.router_2": "update",
        "null_resource.router_1_config": "delete+create",
        "null_resource.router_2_config": "delete+create",
      });
      expect(p2.markdown).toMatch(/aws_vpn_connection\.router_1/);
      expect(p2.markdown).toMatch(/tunnel options/i);
      for (const text of [p2.raw.stdout, p2.raw.stderr, p2.markdown, fs.readFileSync(p2.planJsonPath, "utf8")]) expect(leaks(text)).toEqual([]);
    });
  });
});
