/**
 * What keeps large plans linear and never cut off: the node map, script and keys as locals (checked
 * on a synthesized 100-node mesh), and the harness's time limit, which grows with the plan.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "../src/harness/cli";
import { defaultTimeLimitMs, estimateInstances, findTerraform, OfflineSession, TIME_LIMIT_FLOOR_MS } from "../src/harness/runner";
import { nodesFromRegions } from "../src/linode/tailscale-nodes";
import { LINODE_REGIONS } from "../src/catalog/regions";
import { synthMesh } from "./helpers/mesh";
import { groupBlocks } from "./helpers/groups";

const hundred = LINODE_REGIONS.slice(0, 20).map((r) => r.slug);

describe("a 100-node mesh reads every per-node value through a local", () => {
  const doc = synthMesh({ nodes: nodesFromRegions(hundred, 5) });
  const nodes = groupBlocks(doc, "linode_instance", "node");
  const keys = groupBlocks(doc, "tailscale_tailnet_key", "node");

  test("one resource per region and kind, for_each over the region's local map; no literal map, no per-node reference to a whole resource", () => {
    const groups = hundred.map((r) => r.replace(/-/g, "_")).sort();
    expect(Object.keys(nodes).sort()).toEqual(groups);
    expect(Object.keys(keys).sort()).toEqual(groups);
    for (const g of groups) {
      // A map of strings, five nodes: Terraform 1.11 walks the whole for_each value once per instance.
      expect(Object.keys(doc.locals[`node_${g}`])).toHaveLength(5);
      expect(Object.values(doc.locals[`node_${g}`]).every((r) => typeof r === "string")).toBe(true);
      for (const r of [nodes[g], keys[g]]) expect(r.for_each).toBe(`\${local.node_${g}}`);
      // A node reads its own region's keys only, so its dependencies do not grow with the mesh.
      const refs = JSON.stringify(nodes[g]).match(/(?:local|tailscale_tailnet_key)\.[a-z0-9_]+/g) ?? [];
      expect([...new Set(refs)].sort()).toEqual(["local.node_bootstrap", `local.node_auth_keys_${g}`, `local.node_${g}`].sort());
      expect(doc.locals[`node_auth_keys_${g}`]).toBe(`\${{ for k, v in tailscale_tailnet_key.node_${g} : k => v.key }}`);
    }
    const text = JSON.stringify(doc.resource);
    // Terraform 1.11 builds the whole resource for each `<resource>[each.key]` (hashicorp/terraform#26355).
    expect(text).not.toMatch(/tailscale_tailnet_key\.node[a-z0-9_]*\[each\.key\]/);
    // The script appears once, in its local, not once per node or inside the instance's config.
    expect(text).not.toContain("#!/bin/bash\\n");
    expect(doc.locals.node_bootstrap.startsWith("#!/bin/bash\n")).toBe(true);
  });

  test("the time limit grows with the instances: 100 nodes and 100 keys", () => {
    expect(estimateInstances(doc)).toBe(1 + 100 + 100 + 1); // acl, nodes, keys, firewall
    expect(defaultTimeLimitMs(doc)).toBe(TIME_LIMIT_FLOOR_MS + 250 * 202);
  });
});

test("count over a list variable counts the longest list; a literal count its number", () => {
  const config = {
    variable: { regions: { default: ["a", "b", "c"] } },
    resource: { linode_instance: { vpn: { count: "${length(var.regions)}" }, one: { count: 2 } }, random_string: { password: {} } },
  };
  expect(estimateInstances(config)).toBe(3 + 2 + 1);
  expect(estimateInstances(config, { regions: Array(1000).fill("x") })).toBe(1000 + 2 + 1);
});

test("--timeout sets the limit in seconds and refuses nonsense", () => {
  expect(parseArgs(["plan", "mesh", "--timeout", "900"]).timeoutMs).toBe(900_000);
  expect(parseArgs(["plan", "mesh"]).timeoutMs).toBeUndefined();
  expect(() => parseArgs(["plan", "mesh", "--timeout", "soon"])).toThrow(/--timeout expects a number of seconds above 0, got soon/);
});

const terraform = findTerraform();
if (!terraform) console.warn("plan-scale.test: terraform not on PATH; the time-limit test is skipped");
(terraform ? test : test.skip)("a command stopped at its time limit says so and how to raise it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-scale-"));
  const configPath = path.join(dir, "cdk.tf.json");
  fs.writeFileSync(configPath, JSON.stringify({ resource: { random_string: { a: { length: 8 } } } }));
  const session = await OfflineSession.open({ configPath, workDir: path.join(dir, "work"), timeoutMs: 1 });
  try {
    expect(session.timeoutMs).toBe(1);
    await expect(session.init()).rejects.toThrow(/terraform init stopped at its time limit of 0 s; give a longer one \(--timeout <seconds>, or timeoutMs\)/);
  } finally {
    await session.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);

describe("a region with many nodes split into groups of its own (NodeSpec.group)", () => {
  const nodes = Array.from({ length: 6 }, (_, i) => ({ name: `us-ord-${i + 1}`, region: "us-ord", group: i < 3 ? "us-ord-a" : "us-ord-b" }));
  const doc = synthMesh({ nodes: [...nodes, { name: "fr-par-1", region: "fr-par" }] });

  test("each group has its own resources and local; the nodes keep their region", () => {
    expect(Object.keys(groupBlocks(doc, "linode_instance", "node")).sort()).toEqual(["fr_par", "us_ord_a", "us_ord_b"]);
    expect(Object.keys(groupBlocks(doc, "tailscale_tailnet_key", "node")).sort()).toEqual(["fr_par", "us_ord_a", "us_ord_b"]);
    expect(doc.locals.node_us_ord_a).toEqual({ "us-ord-1": "us-ord", "us-ord-2": "us-ord", "us-ord-3": "us-ord" });
    expect(doc.locals.node_us_ord_b).toEqual({ "us-ord-4": "us-ord", "us-ord-5": "us-ord", "us-ord-6": "us-ord" });
    expect(groupBlocks(doc, "linode_instance", "node").us_ord_b.region).toBe("${each.value}");
  });

  test("a group name that is not one fails naming the node's field", () => {
    for (const group of ["US-ORD", "us_ord", "1a", "a-", "", "x".repeat(32)]) {
      expect(() => synthMesh({ nodes: [{ name: "us-ord-1", region: "us-ord", group }] })).toThrow(/^nodes\[0\]\.group: .* is not a group name: a lower-case letter/);
    }
  });
});
