/**
 * Both router stacks through the real terraform and the recorded AWS, Linode, Tailscale and null
 * schemas: they validate and plan; an applied stack plans no changes (no drift between the policy's
 * route approval and anything else); and a change that replaces the router runs in the order that
 * keeps its name: the old device is deleted from the tailnet, then the old instance destroyed, then
 * a new key and instance created, then the new device looked up and owned.
 */
import { App } from "cdktf";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findTerraform, withSession } from "../src/harness/runner";
import { synthesizeStacks } from "../src/harness/stacks";
import { AwsSubnetRouterStack, AwsSubnetRouterStackProps } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack, LinodeSubnetRouterStackProps } from "../src/systems/subnet-router/linode-subnet-router-stack";

jest.setTimeout(240_000);
const TERRAFORM = findTerraform();
if (!TERRAFORM) console.warn("SKIPPED subnet router offline plans: terraform is not on PATH (install Terraform 1.11)");
const describeTf = TERRAFORM ? describe : describe.skip;
const SCHEMAS = path.join(__dirname, "..", "schemas");
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "subnet-router-offline-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

let n = 0;
function synth(build: (app: App) => void, stack: string): string {
  const outdir = path.join(TMP, `out-${++n}`);
  const app = new App({ outdir });
  build(app);
  app.synth();
  return path.join(outdir, "stacks", stack, "cdk.tf.json");
}
const aws = (props: AwsSubnetRouterStackProps) => synth((app) => new AwsSubnetRouterStack(app, "r", props), "r");
const linode = (props: LinodeSubnetRouterStackProps) => synth((app) => new LinodeSubnetRouterStack(app, "r", props), "r");

/** `address: verb` lines of an apply, in order (reads, creates, destroys). */
function steps(applyOutput: string): string[] {
  return applyOutput
    .split("\n")
    .map((l) => /^(\S+): (Destroying|Creating|Reading|Modifying)\.\.\./.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[2].toLowerCase()} ${m[1]}`);
}

describeTf("subnet routers, planned offline", () => {
  const appOut = path.join(TMP, "app");
  beforeAll(() => synthesizeStacks(appOut));

  test.each(["subnet-router-linode", "subnet-router-aws"])("%s (the app's) validates and plans against the recorded schemas", async (stack) => {
    const configPath = path.join(appOut, "stacks", stack, "cdk.tf.json");
    await withSession({ configPath, workDir: path.join(TMP, `w-${stack}`), schemaDir: SCHEMAS }, async (s) => {
      const v = await s.validate();
      expect(v.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const p = await s.plan();
      const changes = p.plan.resource_changes ?? [];
      expect(changes.filter((c) => c.change.actions.join() !== "create" && c.mode !== "data")).toEqual([]);
      const types = [...new Set(changes.filter((c) => c.mode !== "data").map((c) => c.type))].sort();
      expect(types).toEqual(
        stack === "subnet-router-aws"
          ? [
              "aws_cloudwatch_log_group", "aws_default_security_group", "aws_flow_log",
              "aws_iam_instance_profile", "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_instance", "aws_internet_gateway", "aws_route",
              "aws_route_table", "aws_route_table_association", "aws_security_group", "aws_subnet", "aws_vpc", "aws_vpc_security_group_egress_rule",
              "aws_vpc_security_group_ingress_rule", "null_resource", "tailscale_device_authorization", "tailscale_tailnet_key",
            ]
          : ["linode_firewall", "linode_instance", "linode_vpc", "linode_vpc_subnet", "null_resource", "tailscale_device_authorization", "tailscale_tailnet_key"],
      );
      // The device is looked up after the instance exists, not at plan time (it doesn't exist yet).
      const read = changes.find((c) => c.address === "data.tailscale_device.router")!;
      expect(read.change.actions).toEqual(["read"]);
      // The user data holds the key: the plan never shows it.
      const router = changes.find((c) => c.address === (stack === "subnet-router-aws" ? "aws_instance.router" : "linode_instance.router"))!;
      expect(JSON.stringify(router.change.after_sensitive)).toMatch(stack === "subnet-router-aws" ? /"user_data_base64":true/ : /"user_data":true/);
    });
  });

  test("SNAT off plans the return routes to the router's interface and the open source/dest check", async () => {
    const configPath = aws({ snatSubnetRoutes: false });
    await withSession({ configPath, workDir: path.join(TMP, "w-snat-off"), schemaDir: SCHEMAS }, async (s) => {
      const p = await s.plan();
      const changes = p.plan.resource_changes ?? [];
      const routes = changes.filter((c) => c.type === "aws_route" && (c.change.after as any).destination_cidr_block === "100.64.0.0/10");
      expect(routes.map((c) => c.address).sort()).toEqual(["aws_route.vpc_private_tailnet", "aws_route.vpc_public_tailnet"]);
      expect((changes.find((c) => c.address === "aws_instance.router")!.change.after as any).source_dest_check).toBe(false);
    });
  });

  test.each([
    ["AWS", () => aws({ target: true }), () => aws({ target: true, advertiseRoutes: ["10.0.2.0/24"] }), "aws_instance.router"],
    ["Linode", () => linode({ target: true }), () => linode({ target: true, tailscaleVersion: "1.90.6" }), "linode_instance.router"],
  ])("%s: applied, it plans no changes; a new script replaces the router keeping its name", async (_platform, before, after, instance) => {
    const first = before();
    const second = after();
    await withSession({ configPath: first, workDir: path.join(TMP, `w-replace-${instance}`), schemaDir: SCHEMAS, stripProvisioners: true }, async (s) => {
      await s.apply();
      const again = await s.plan();
      expect((again.plan.resource_changes ?? []).filter((c) => c.mode !== "data" && c.change.actions.join() !== "no-op").map((c) => c.address)).toEqual([]);

      s.reconfigure({ configPath: second });
      const p = await s.plan();
      const acted = Object.fromEntries((p.plan.resource_changes ?? []).filter((c) => c.change.actions.join() !== "no-op").map((c) => [c.address, c.change.actions.join("+")]));
      expect(acted).toMatchObject({
        "null_resource.router_revision": "delete+create",
        "tailscale_tailnet_key.router": "delete+create",
        [instance]: "delete+create",
        "tailscale_device_authorization.router": "delete+create",
        "data.tailscale_device.router": "read",
      });
      // Nothing else is replaced: the network, the firewall/groups and the target stay.
      expect(Object.entries(acted).filter(([, a]) => a === "delete+create").map(([k]) => k).sort()).toEqual(
        ["null_resource.router_revision", "tailscale_device_authorization.router", "tailscale_tailnet_key.router", instance].sort(),
      );

      const order = steps((await s.apply()).stdout);
      const at = (step: string) => {
        const i = order.indexOf(step);
        expect({ step, found: i >= 0 }).toEqual({ step, found: true });
        return i;
      };
      // Old device deleted before the old router goes, and before the new one can join.
      expect(at("destroying tailscale_device_authorization.router")).toBeLessThan(at(`destroying ${instance}`));
      expect(at(`destroying ${instance}`)).toBeLessThan(at(`creating ${instance}`));
      // A fresh key for the new router, minted before it boots.
      expect(at("destroying tailscale_tailnet_key.router")).toBeLessThan(at("creating tailscale_tailnet_key.router"));
      expect(at("creating tailscale_tailnet_key.router")).toBeLessThan(at(`creating ${instance}`));
      // The new device is looked up once the new router exists, then owned.
      expect(at(`creating ${instance}`)).toBeLessThan(at("reading data.tailscale_device.router"));
      expect(at("reading data.tailscale_device.router")).toBeLessThan(at("creating tailscale_device_authorization.router"));
    });
  });

  test("terraform destroy removes the device from the tailnet before the router", async () => {
    await withSession({ configPath: aws({}), workDir: path.join(TMP, "w-destroy"), schemaDir: SCHEMAS, stripProvisioners: true }, async (s) => {
      await s.apply();
      const r = await s.tf(["destroy", "-auto-approve", "-input=false", "-no-color", ...s.prepared.varArgs]);
      expect(r.code).toBe(0);
      const order = steps(r.stdout);
      expect(order.indexOf("destroying tailscale_device_authorization.router")).toBeGreaterThanOrEqual(0);
      expect(order.indexOf("destroying tailscale_device_authorization.router")).toBeLessThan(order.indexOf("destroying aws_instance.router"));
    });
  });
});
