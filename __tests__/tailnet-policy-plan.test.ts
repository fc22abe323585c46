/**
 * The composed tailnet policy through the real terraform and the recorded tailscale schema: the
 * managed policy plans as the `tailscale_acl` the app writes; an external-mode stack plans its
 * precondition against the tailnet's current policy (served offline by the harness) and refuses,
 * with the message that says what to add, when a tag is not owned.
 */
import { App } from "cdktf";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findTerraform, withSession } from "../src/harness/runner";
import { stackDataFixtures } from "../src/harness/stacks";
import { MeshStack } from "../src/systems/mesh/mesh-stack";

jest.setTimeout(120_000);
const TERRAFORM = findTerraform();
if (!TERRAFORM) console.warn("terraform is not on PATH: skipping the tailnet policy plan tests (install Terraform 1.11)");
const describeTf = TERRAFORM ? describe : describe.skip;
const SCHEMAS = path.join(__dirname, "..", "schemas");

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "policy-plan-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

function synth(name: string, build: (app: App) => MeshStack): { config: string; stack: MeshStack } {
  const outdir = path.join(TMP, name);
  const app = new App({ outdir });
  const stack = build(app);
  app.synth();
  return { config: path.join(outdir, "stacks", stack.node.id, "cdk.tf.json"), stack };
}

describeTf("tailnet policy, planned offline", () => {
  test("managed: the tailscale_acl the plan creates holds the composed policy, valid for the recorded schema", async () => {
    const { config, stack } = synth("managed", (app) => new MeshStack(app, "mesh"));
    await withSession({ configPath: config, workDir: path.join(TMP, "w-managed"), schemaDir: SCHEMAS }, async (s) => {
      const v = await s.validate();
      expect(v.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      const p = await s.plan();
      const acl = (p.plan.resource_changes ?? []).find((rc) => rc.address === "tailscale_acl.mesh")!;
      expect(acl.change.actions).toEqual(["create"]);
      expect((acl.change.after as { acl: string }).acl).toBe(stack.mesh.policy!.renderPolicy());
      const key = (p.plan.resource_changes ?? []).find((rc) => rc.type === "tailscale_tailnet_key")!;
      expect(key.change.actions).toEqual(["create"]);
    });
  });

  describe("external: the policy is kept elsewhere", () => {
    const { config } = synth("external", (app) => new MeshStack(app, "mesh", { tailnetPolicy: { mode: "external" } }));

    test("with the fragment merged into the tailnet's policy, keys plan", async () => {
      const data = stackDataFixtures(config);
      expect(data.notes).toEqual([expect.stringContaining("tailnet-policy.fragment.hujson")]);
      await withSession({ configPath: config, workDir: path.join(TMP, "w-ext-ok"), schemaDir: SCHEMAS, dataSources: data.fixtures }, async (s) => {
        const p = await s.plan();
        expect((p.plan.resource_changes ?? []).filter((rc) => rc.type === "tailscale_tailnet_key")).toHaveLength(14);
        expect((p.plan.resource_changes ?? []).some((rc) => rc.type === "tailscale_acl")).toBe(false);
      });
    });

    test("with a policy that does not own tag:mesh, the plan stops once and says what to add", async () => {
      const policy = { tagOwners: { "tag:other": ["autogroup:admin"] } };
      await withSession(
        { configPath: config, workDir: path.join(TMP, "w-ext-missing"), schemaDir: SCHEMAS, dataSources: { tailscale_acl: { json: JSON.stringify(policy) } } },
        async (s) => {
          await s.init();
          const r = await s.tf(["plan", "-input=false", "-no-color", ...s.prepared.varArgs]);
          expect(r.code).not.toBe(0);
          const text = r.stderr.replace(/[\s│]+/g, " ");
          // One error for the stack, not one per key.
          expect(text.match(/Resource postcondition failed/g)).toHaveLength(1);
          expect(text).toContain("The tailnet policy does not own tag:mesh, which mesh/mesh/keys mints auth keys for.");
          expect(text).toContain("stacks/mesh/tailnet-policy.fragment.hujson");
        },
      );
    });
  });
});
