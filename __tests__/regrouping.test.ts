/**
 * Per-node resources grouped by region (#21): what a state from the old layout (one for_each
 * resource per kind over every node, __tests__/fixtures/ungrouped/, synthesized at 4ea5071) meets.
 * Offline, through the real terraform: apply the old JSON, then plan the new one with the default
 * guard (stops, nothing changed), with "move" (every object moves, nothing is created, replaced
 * or destroyed), apply that, and plan again without moved blocks (no change at all).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Testing, TerraformStack } from "cdktf";
import { buildApp } from "../src/app";
import { findTerraform, withSession } from "../src/harness/runner";
import { MeshStack } from "../src/systems/mesh/mesh-stack";
import { ErlangClusterStack } from "../src/systems/erlang-cluster/erlang-cluster-stack";
import { PerNodeSecret, requireNodeSecret, Secret } from "../src/terraform/secret";
import { guardHint, RegroupedResource, ungroupedAddressesFromEnv, ungroupedGuards, UngroupedAddresses } from "../src/terraform/regrouping";

const FIXTURES = path.join(__dirname, "fixtures", "ungrouped");
const SCHEMA_DIR = path.join(__dirname, "..", "schemas");

/** The same nodes as the fixtures, synthesized now with `mode`. */
function synthNow(outdir: string, mode?: UngroupedAddresses): { mesh: string; erlang: string } {
  const app = new App({ outdir });
  const mesh = new MeshStack(app, "mesh", {
    nodes: [{ name: "us-ord-1", region: "us-ord" }, { name: "us-ord-2", region: "us-ord" }, { name: "fr-par-1", region: "fr-par" }],
    rootPassword: true,
    ungroupedAddresses: mode,
  });
  new ErlangClusterStack(app, "erlang-cluster", {
    tailnetPolicy: mesh.tailnetPolicy,
    nodes: [{ name: "jp-1", region: "ap-northeast" }, { name: "jp-2", region: "ap-northeast" }, { name: "fr-1", region: "fr-par" }],
    ungroupedAddresses: mode,
  });
  app.synth();
  return { mesh: path.join(outdir, "stacks", "mesh", "cdk.tf.json"), erlang: path.join(outdir, "stacks", "erlang-cluster", "cdk.tf.json") };
}

describe("the old addresses, at synthesis", () => {
  const doc = (mode?: UngroupedAddresses) => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "s");
    new RegroupedResource(stack, "r", { type: "linode_instance", oldName: "node", moves: [{ key: "a", toName: "node_x" }, { key: "b", toName: "node_y" }], mode, guardArguments: { region: "us-ord" } });
    return JSON.parse(Testing.synth(stack));
  };

  test("guard (default): one inert resource at the old address, for_each over nothing, prevent_destroy", () => {
    const d = doc();
    const { "//": _meta, ...guard } = d.resource.linode_instance.node;
    expect(guard).toEqual({ for_each: {}, lifecycle: { prevent_destroy: true }, region: "us-ord" });
    expect(d.moved).toBeUndefined();
    expect(ungroupedGuards(d)).toEqual(["linode_instance.node"]);
  });

  test("move: a moved block per node from the old address to its group's; off: nothing", () => {
    const d = doc("move");
    expect(d.resource).toBeUndefined();
    expect(d.moved).toEqual([
      { from: 'linode_instance.node["a"]', to: 'linode_instance.node_x["a"]' },
      { from: 'linode_instance.node["b"]', to: 'linode_instance.node_y["b"]' },
    ]);
    const off = doc("off");
    expect(off.resource).toBeUndefined();
    expect(off.moved).toBeUndefined();
  });

  test("a bad mode fails naming the field; the app reads it from TAILNET_UNGROUPED_ADDRESSES", () => {
    expect(() => doc("moove" as UngroupedAddresses)).toThrow(/^ungroupedAddresses: "moove" is not one of "guard", "move", "off"\. Did you mean "move"\?/);
    expect(ungroupedAddressesFromEnv({})).toBeUndefined();
    expect(ungroupedAddressesFromEnv({ TAILNET_UNGROUPED_ADDRESSES: "move" })).toBe("move");
    expect(() => ungroupedAddressesFromEnv({ TAILNET_UNGROUPED_ADDRESSES: "yes" })).toThrow(/^TAILNET_UNGROUPED_ADDRESSES: "yes" is not one of/);
  });

  test("a plan stopped by a guard is explained; other failures are not", () => {
    const d = doc();
    expect(guardHint(d, 'Resource linode_instance.node["us-ord"] has lifecycle.prevent_destroy set')).toMatch(/^linode_instance\.node: the state holds nodes at the addresses of the layout with one resource for all nodes; nothing was changed\. Synthesize once with TAILNET_UNGROUPED_ADDRESSES=move/);
    expect(guardHint(d, 'Resource linode_instance.other["x"] has lifecycle.prevent_destroy set')).toBeUndefined();
  });

  test("npm run synth with TAILNET_UNGROUPED_ADDRESSES=move: the app's mesh and Erlang stacks move every node and key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "regroup-app-"));
    try {
      buildApp({ outdir: dir, env: { TAILNET_UNGROUPED_ADDRESSES: "move" } }).synth();
      const read = (stack: string) => JSON.parse(fs.readFileSync(path.join(dir, "stacks", stack, "cdk.tf.json"), "utf8"));
      const mesh = read("mesh");
      // The app's mesh: 14 regions, one node each: 14 instances and 14 keys move; no guard.
      expect(mesh.moved).toHaveLength(28);
      expect(mesh.moved).toContainEqual({ from: 'linode_instance.node["us-ord"]', to: 'linode_instance.node_us_ord["us-ord"]' });
      expect(mesh.moved).toContainEqual({ from: 'tailscale_tailnet_key.node["us-ord"]', to: 'tailscale_tailnet_key.node_us_ord["us-ord"]' });
      expect(ungroupedGuards(mesh)).toEqual([]);
      expect(read("erlang-cluster").moved).toHaveLength(6);
      // The other stacks have no per-node resources: nothing to move.
      for (const stack of ["article", "subnet-router-linode", "subnet-router-aws", "site-to-site"]) expect(read(stack).moved).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("moved blocks are only there when asked for: the app's stacks have guards and no moved block", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "regroup-synth-"));
    try {
      const files = synthNow(dir);
      const mesh = JSON.parse(fs.readFileSync(files.mesh, "utf8"));
      expect(mesh.moved).toBeUndefined();
      expect(ungroupedGuards(mesh).sort()).toEqual(["linode_instance.node", "random_password.node_root", "tailscale_tailnet_key.node"]);
      const erl = JSON.parse(fs.readFileSync(files.erlang, "utf8"));
      expect(ungroupedGuards(erl).sort()).toEqual(["linode_instance.erlang", "tailscale_tailnet_key.erlang"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const TERRAFORM = findTerraform();
if (!TERRAFORM) console.warn("SKIPPED regrouping migration: terraform is not on PATH (install Terraform 1.11)");
(TERRAFORM ? describe : describe.skip)("a state from the old layout, through the real terraform", () => {
  jest.setTimeout(240_000);
  const cases = [
    { stack: "mesh", fixture: "mesh.tf.json", kinds: ["linode_instance.node", "random_password.node_root", "tailscale_tailnet_key.node"], nodes: ["fr-par-1", "us-ord-1", "us-ord-2"], group: (n: string) => n.replace(/-\d+$/, "").replace(/-/g, "_") },
    { stack: "erlang", fixture: "erlang-cluster.tf.json", kinds: ["linode_instance.erlang", "tailscale_tailnet_key.erlang"], nodes: ["fr-1", "jp-1", "jp-2"], group: (n: string) => (n.startsWith("jp") ? "ap_northeast" : "fr_par") },
  ] as const;

  test.each(cases)("$stack: guard stops the plan, move moves every node and changes nothing, then no change", async ({ stack, fixture, kinds, nodes, group }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `regroup-${stack}-`));
    try {
      const guarded = synthNow(path.join(dir, "guard"));
      const moving = synthNow(path.join(dir, "move"), "move");
      const pick = (f: { mesh: string; erlang: string }) => (stack === "mesh" ? f.mesh : f.erlang);
      await withSession({ configPath: path.join(FIXTURES, fixture), workDir: path.join(dir, "work"), schemaDir: SCHEMA_DIR, stripProvisioners: true }, async (s) => {
        await s.apply();
        const statePath = path.join(s.workDir, "terraform.tfstate");
        const before = fs.readFileSync(statePath, "utf8");
        const addresses = (state: string) =>
          (JSON.parse(state).resources as { type: string; name: string; instances: { index_key?: string }[] }[])
            .flatMap((r) => r.instances.map((i) => `${r.type}.${r.name}${i.index_key === undefined ? "" : `[${JSON.stringify(i.index_key)}]`}`))
            .sort();
        const old = kinds.flatMap((k) => nodes.map((n) => `${k}[${JSON.stringify(n)}]`));
        expect(addresses(before)).toEqual(expect.arrayContaining(old));

        // The default: the guards stop the plan before anything is destroyed, and say what to do.
        s.reconfigure({ configPath: pick(guarded) });
        await expect(s.plan()).rejects.toThrow(/Instance cannot be destroyed[\s\S]*has lifecycle\.prevent_destroy set[\s\S]*TAILNET_UNGROUPED_ADDRESSES=move/);
        expect(fs.readFileSync(statePath, "utf8")).toBe(before);

        // "move": every object of every kind moves to its group's resource; nothing else happens.
        s.reconfigure({ configPath: pick(moving) });
        const moved = await s.plan();
        const changes = moved.plan.resource_changes ?? [];
        expect(changes.filter((rc) => !rc.change.actions.every((a) => a === "no-op"))).toEqual([]);
        const moves = changes.filter((rc) => rc.previous_address).map((rc) => [rc.previous_address, rc.address]);
        const expected = kinds.flatMap((k) => nodes.map((n) => [`${k}[${JSON.stringify(n)}]`, `${k}_${group(n)}[${JSON.stringify(n)}]`]));
        expect(moves.sort()).toEqual(expected.sort());
        await s.apply();
        const after = fs.readFileSync(statePath, "utf8");
        expect(addresses(after)).toEqual(addresses(before).map((a) => expected.find(([from]) => from === a)?.[1] ?? a).sort());

        // Back to the default (guards, no moved blocks): nothing to do.
        s.reconfigure({ configPath: pick(guarded) });
        const again = await s.plan();
        expect((again.plan.resource_changes ?? []).filter((rc) => !rc.change.actions.every((a) => a === "no-op"))).toEqual([]);
        // The guards hold no instance, so they never stop a destroy of the stack itself.
        const destroy = await s.tf(["plan", "-destroy", "-input=false", "-no-color", ...s.prepared.varArgs]);
        expect({ code: destroy.code, err: destroy.stderr.slice(0, 500) }).toEqual({ code: 0, err: "" });
        expect(destroy.stdout).toMatch(new RegExp(`Plan: 0 to add, 0 to change, ${addresses(after).length} to destroy`));
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("per-node secrets, one per group", () => {
  const groups = [{ id: "us_ord" }, { id: "fr_par" }];
  const make = () => {
    const stack = new TerraformStack(Testing.app(), "s");
    return {
      stack,
      secret: PerNodeSecret.fromEachAttribute(stack, "pw", groups, { type: "random_password", name: (g) => `node_root_${g}` }, "result", (g) => `node_root_passwords_${g}`, "rootPassword"),
    };
  };

  test("each group reads its own map, built once from its own resource", () => {
    const { stack, secret } = make();
    expect(requireNodeSecret("rootPassword", secret, "us_ord")).toBe("${local.node_root_passwords_us_ord[each.key]}");
    expect(requireNodeSecret("rootPassword", secret, "fr_par")).toBe("${local.node_root_passwords_fr_par[each.key]}");
    const doc = JSON.parse(Testing.synth(stack));
    expect(doc.locals).toEqual({
      node_root_passwords_us_ord: "${{ for k, v in random_password.node_root_us_ord : k => v.result }}",
      node_root_passwords_fr_par: "${{ for k, v in random_password.node_root_fr_par : k => v.result }}",
    });
    // A plain Secret stands for the same value in every group.
    const plain = Secret.fromReference("${random_password.one.result}");
    expect(requireNodeSecret("rootPassword", plain, "us_ord")).toBe("${random_password.one.result}");
  });

  test("a group it does not cover, a literal, or a forged one fails naming the field, without the value", () => {
    const { secret } = make();
    expect(() => requireNodeSecret("rootPassword", secret, "ap_west")).toThrow(/^rootPassword: has no value for node group "ap_west" \(it covers: us_ord, fr_par\)/);
    expect(() => requireNodeSecret("rootPassword", "hunter2hunter2", "us_ord")).toThrow(/^rootPassword: is literal text, not a Secret/);
    const brand = Symbol.for("linode-tailnet-cdktf.PerNodeSecret");
    const forged = { [brand]: true, forGroup: () => "${local.anything_i_like}" };
    expect(() => requireNodeSecret("rootPassword", forged, "us_ord")).toThrow(/^rootPassword: is literal text, not a Secret/);
    expect(() => requireNodeSecret("rootPassword", { [brand]: true }, "us_ord")).toThrow(/^rootPassword: is undefined, not a Secret/);
    for (const bad of [forged, "hunter2hunter2"]) {
      try {
        requireNodeSecret("rootPassword", bad, "us_ord");
      } catch (e) {
        expect(String(e)).not.toContain("hunter2");
        expect(String(e)).not.toContain("anything_i_like");
      }
    }
  });
});
