/**
 * Unit tests of the offline harness pieces that need no terraform binary: cty/msgpack encoding,
 * planning rules, placeholders, the plan review summary, work-dir preparation, CLI parsing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CtyType, fromMsgpack, fromStateJson, toMsgpack, UNKNOWN, isUnknown, CtyValue } from "../src/harness/cty";
import { fillUnknowns, planResource, PlanRules } from "../src/harness/planner";
import { blockType, loadRecordedProviders, providerSchemaResponse, RecordedProvider } from "../src/harness/schema";
import { OfflineProvider } from "../src/harness/server";
import { classifyActions, countPlan, PlanJson, renderPlanMarkdown } from "../src/harness/summary";
import { fakeValueFor, offlineConfig, prepareWorkDir } from "../src/harness/workdir";
import { offlineEnv } from "../src/harness/runner";
import { removeRegionFromForEach } from "../src/harness/churn";
import { parseArgs } from "../src/harness/cli";

const FIXTURES = path.join(__dirname, "fixtures", "harness");
const fixtureProviders = loadRecordedProviders({ dir: path.join(FIXTURES, "schemas") });
const byName = (ps: RecordedProvider[], n: string) => ps.find((p) => p.name === n)!;

describe("cty msgpack", () => {
  const type: CtyType = ["object", { a: "string", n: "number", l: ["list", "string"], d: "dynamic", m: ["map", "bool"] }];

  test("round-trips objects with unknowns and dynamic values", () => {
    const v: CtyValue = { a: "x", n: 1.5, l: ["p", UNKNOWN], d: { dynamicType: ["list", "number"], value: [1, 2] }, m: null };
    const back = fromMsgpack(toMsgpack(v, type), type) as Record<string, CtyValue>;
    expect(back.a).toBe("x");
    expect(back.n).toBe(1.5);
    expect((back.l as CtyValue[])[0]).toBe("p");
    expect(isUnknown((back.l as CtyValue[])[1])).toBe(true);
    expect(back.d).toEqual({ dynamicType: ["list", "number"], value: [1, 2] });
    expect(back.m).toBeNull();
  });

  test("encodes unknown as msgpack extension type 0 (fixext1 0xd4 0x00)", () => {
    const bytes = Buffer.from(toMsgpack(UNKNOWN, "string"));
    expect(bytes[0]).toBe(0xd4);
    expect(bytes[1]).toBe(0x00);
  });

  test("objects always carry every attribute, missing ones as null", () => {
    const back = fromMsgpack(toMsgpack({ a: "only" }, type), type) as Record<string, CtyValue>;
    expect(Object.keys(back).sort()).toEqual(["a", "d", "l", "m", "n"]);
  });

  test("state JSON drops attributes the schema no longer has", () => {
    const v = fromStateJson({ a: "x", gone: 1 }, type) as Record<string, CtyValue>;
    expect(v).not.toHaveProperty("gone");
    expect(v.n).toBeNull();
  });

  test("rejects attributes outside the type", () => {
    const other: CtyType = ["object", { zzz: "string" }];
    expect(() => fromMsgpack(toMsgpack({ zzz: "q" }, other), type)).toThrow(/unsupported attribute "zzz"/);
  });
});

describe("planning rules", () => {
  const linode = new OfflineProvider(byName(fixtureProviders, "linode"));
  const block = linode.resourceSchema("linode_instance").block;
  const type = blockType(block);
  const proposedCreate = fromStateJson(
    { region: "us-ord", label: "n1", image: "linode/ubuntu22.04", interface: [{ label: "a", purpose: null }] },
    type,
  );

  test("create: computed attributes with no value become unknown, id included", () => {
    const { planned, requiresReplace } = linode.plan("linode_instance", null, proposedCreate, proposedCreate);
    const p = planned as Record<string, CtyValue>;
    expect(isUnknown(p.id)).toBe(true);
    expect(isUnknown(p.ip_address)).toBe(true);
    expect(isUnknown(p.swap_size)).toBe(true); // optional+computed, null in config
    expect(p.image).toBe("linode/ubuntu22.04"); // non-computed stays as configured
    expect(p.type).toBeNull();
    // nested block: computed purpose unknown, configured label kept
    const iface = (p.interface as Record<string, CtyValue>[])[0];
    expect(isUnknown(iface.purpose)).toBe(true);
    expect(iface.label).toBe("a");
    expect(requiresReplace).toEqual([]);
  });

  const prior = fillUnknowns(linode.plan("linode_instance", null, proposedCreate, proposedCreate).planned, type, {
    typeName: "linode_instance",
    stableKey: "k",
  }) as Record<string, CtyValue>;

  test("update: prior values of computed attributes are kept, replacement-forcing changes reported", () => {
    const proposed = { ...prior, image: "linode/ubuntu24.04", label: "n2" };
    const { planned, requiresReplace } = linode.plan("linode_instance", prior, proposed, proposed);
    expect((planned as Record<string, CtyValue>).id).toBe(prior.id);
    expect(requiresReplace).toEqual([[{ attribute_name: "image" }]]);
  });

  test("update of a non-forcing attribute reports no replacement", () => {
    const proposed = { ...prior, label: "n2" };
    expect(linode.plan("linode_instance", prior, proposed, proposed).requiresReplace).toEqual([]);
  });

  test("nested forcing path is reported with the list index", () => {
    const iface = (prior.interface as Record<string, CtyValue>[]).map((i) => ({ ...i, purpose: "vlan" }));
    const proposed = { ...prior, interface: iface };
    expect(linode.plan("linode_instance", prior, proposed, proposed).requiresReplace).toEqual([
      [{ attribute_name: "interface" }, { element_key_int: 0 }, { attribute_name: "purpose" }],
    ]);
  });

  test("defaults and framework-style unknowns follow the recorded rules", () => {
    const random = new OfflineProvider(byName(fixtureProviders, "random"));
    const rblock = random.resourceSchema("random_string").block;
    const rtype = blockType(rblock);
    const rules: PlanRules = { defaults: { special: true }, useStateForUnknown: ["id", "result"], requiresReplace: ["length"] };
    const cfg = fromStateJson({ length: 8 }, rtype);
    const created = planResource(rblock, null, cfg, cfg, rules).planned as Record<string, CtyValue>;
    expect(created.special).toBe(true); // default, not unknown
    expect(isUnknown(created.upper)).toBe(true);
    const state = fillUnknowns(created, rtype, { typeName: "random_string", stableKey: "s" }) as Record<string, CtyValue>;
    const proposed = { ...state, keepers: { a: "1" } };
    const cfg2 = { ...(cfg as Record<string, CtyValue>), keepers: { a: "1" } };
    const upd = planResource(rblock, state, proposed, cfg2, rules).planned as Record<string, CtyValue>;
    expect(upd.result).toBe(state.result); // UseStateForUnknown
    expect(isUnknown(upd.upper)).toBe(true); // computed, null in config, no UseStateForUnknown
  });

  test("conditional replacement ignores null map entries and unknowns", () => {
    const random = new OfflineProvider(byName(fixtureProviders, "random"));
    const rblock = random.resourceSchema("random_string").block;
    const rules: PlanRules = { requiresReplaceConditional: ["keepers"] };
    const base = { id: "x", length: 8, keepers: null } as Record<string, CtyValue>;
    expect(planResource(rblock, base, { ...base, keepers: { a: null } }, base, rules).requiresReplace).toEqual([]);
    expect(planResource(rblock, base, { ...base, keepers: { a: "1" } }, base, rules).requiresReplace).toEqual([
      [{ attribute_name: "keepers" }],
    ]);
    expect(planResource(rblock, base, { ...base, keepers: UNKNOWN }, base, rules).requiresReplace).toEqual([]);
  });
});

describe("placeholders", () => {
  const type: CtyType = ["object", { id: "string", name: "string", ip_address: "string", ipv4: ["set", "string"], count: "number", tags: ["set", "string"] }];
  const planned = { id: UNKNOWN, name: UNKNOWN, ip_address: UNKNOWN, ipv4: UNKNOWN, count: UNKNOWN, tags: UNKNOWN } as CtyValue;

  test("are deterministic per type and key, and differ between keys", () => {
    const a = fillUnknowns(planned, type, { typeName: "t", stableKey: "one" }) as Record<string, CtyValue>;
    const a2 = fillUnknowns(planned, type, { typeName: "t", stableKey: "one" }) as Record<string, CtyValue>;
    const b = fillUnknowns(planned, type, { typeName: "t", stableKey: "two" }) as Record<string, CtyValue>;
    expect(a).toEqual(a2);
    expect(a.id).not.toEqual(b.id);
    expect(a.id).toMatch(/^[1-9][0-9]{8}$/); // numeric string: converts where a number is expected
    expect(a.name).toMatch(/^offline-[0-9a-f]{12}$/);
    expect(a.ip_address).toMatch(/^192\.0\.2\.\d+$/);
    expect((a.ipv4 as string[])[0]).toMatch(/^192\.0\.2\.\d+$/);
    expect(a.count).toBe(0);
    expect(a.tags).toEqual([]);
  });

  test("tailnet-flavoured addresses fall inside 100.64.0.0/10", () => {
    for (const key of ["a", "b", "c", "d", "e"]) {
      const v = fillUnknowns(planned, type, { typeName: "t", stableKey: key, addresses: "cgnat" }) as Record<string, CtyValue>;
      const [o1, o2] = String(v.ip_address).split(".").map(Number);
      expect(o1).toBe(100);
      expect(o2).toBeGreaterThanOrEqual(64);
      expect(o2).toBeLessThanOrEqual(127);
    }
  });
});

describe("schema loading", () => {
  test("takes the provider address from each file and builds protocol types as cty JSON", () => {
    expect(fixtureProviders.map((p) => p.address)).toEqual([
      "registry.terraform.io/linode/linode",
      "registry.terraform.io/hashicorp/random",
    ]);
    const resp = providerSchemaResponse(byName(fixtureProviders, "linode")) as {
      resource_schemas: Record<string, { block: { attributes: { name: string; type: Buffer }[] } }>;
    };
    const tags = resp.resource_schemas.linode_instance.block.attributes.find((a) => a.name === "tags")!;
    expect(JSON.parse(tags.type.toString())).toEqual(["set", "string"]);
  });

  test("loads every recorded schema in schemas/ when present", () => {
    const dir = path.join(__dirname, "..", "schemas");
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".json") && !f.endsWith(".meta.json")) : [];
    if (files.length === 0) {
      console.warn("schemas/ holds no recorded schema yet; skipping the real-schema load check");
      return;
    }
    const loaded = loadRecordedProviders({ dir });
    expect(loaded).toHaveLength(files.length);
    for (const p of loaded) expect(p.address).toMatch(/^registry\.terraform\.io\/[a-z0-9-]+\/[a-z0-9-]+$/);
  });
});

describe("plan review summary", () => {
  const SECRET = "PLANTED-SECRET-7f3a9c";
  const plan: PlanJson = {
    terraform_version: "1.11.4",
    resource_changes: [
      {
        address: "linode_instance.vpn[0]",
        mode: "managed",
        type: "linode_instance",
        name: "vpn",
        change: {
          actions: ["create"],
          after: { label: SECRET, region: "us-ord", root_pass: SECRET },
          after_unknown: { id: true },
          after_sensitive: { label: true, root_pass: true },
        },
      },
      {
        address: "linode_instance.vpn[1]",
        mode: "managed",
        type: "linode_instance",
        name: "vpn",
        change: {
          actions: ["delete", "create"],
          before: { image: "a", root_pass: SECRET, id: "1" },
          after: { image: "b", root_pass: SECRET },
          after_unknown: { id: true },
          before_sensitive: { root_pass: true },
          after_sensitive: { root_pass: true },
          replace_paths: [["image"]],
        },
      },
      { address: "random_string.p", mode: "managed", type: "random_string", name: "p", change: { actions: ["no-op"] } },
      { address: "linode_instance.vpn[2]", mode: "managed", type: "linode_instance", name: "vpn", change: { actions: ["delete"] } },
      { address: "linode_instance.vpn[3]", mode: "managed", type: "linode_instance", name: "vpn", change: { actions: ["update"], before: { label: "x" }, after: { label: "y" } } },
    ],
  };

  test("counts actions like Terraform (a replacement is one add and one destroy)", () => {
    const c = countPlan(plan);
    expect(c.total).toMatchObject({ create: 1, replace: 1, destroy: 1, update: 1, "no-op": 1 });
    expect(c.terraform).toEqual({ add: 2, change: 1, destroy: 2 });
    expect(c.byType.linode_instance.replace).toBe(1);
    expect(() => classifyActions(["bogus"])).toThrow(/unrecognised/);
  });

  test("masks sensitive values and names the forcing attribute", () => {
    const md = renderPlanMarkdown(plan, { title: "t", planJson: "plan.json" });
    expect(md).not.toContain(SECRET);
    expect(md).toContain("(sensitive value)");
    expect(md).toMatch(/image: `"a"` → `"b"` \(forces replacement\)/);
    expect(md).toContain("**Plan: 2 to add, 1 to change, 2 to destroy.**");
  });

  test("the secret would show without the sensitivity marks (the masking is what hides it)", () => {
    const unmarked = JSON.parse(JSON.stringify(plan).replace(/"(after|before)_sensitive":\{[^}]*\}/g, '"$1_sensitive":{}')) as PlanJson;
    expect(renderPlanMarkdown(unmarked, { title: "t" })).toContain(SECRET);
  });

  test("refuses absolute paths", () => {
    expect(() => renderPlanMarkdown(plan, { title: "t", planJson: "/tmp/plan.json" })).toThrow(/relative/);
  });
});

describe("work dir and environment", () => {
  test("fakes required variables, points home-path defaults at a fake key, forces a local backend", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-unit-"));
    try {
      const prepared = prepareWorkDir({
        configPath: path.join(FIXTURES, "stacks", "article", "cdk.tf.json"),
        workDir: dir,
        stripProvisioners: true,
        vars: { regions: ["us-ord"] },
      });
      expect(prepared.fakedVariables).toEqual(["linode_token", "public_ssh_key", "tailscale_auth_key"]);
      const tfvars = JSON.parse(fs.readFileSync(path.join(dir, "offline.tfvars.json"), "utf8"));
      expect(tfvars.linode_token).toBe("offline-fake-linode-token");
      expect(tfvars.regions).toEqual(["us-ord"]);
      expect(tfvars.public_ssh_key).toBe("offline-fake-public_ssh_key.pub");
      expect(fs.readFileSync(path.join(dir, tfvars.public_ssh_key), "utf8")).toMatch(/^ssh-ed25519 /);
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8"));
      expect(cfg.terraform.backend).toEqual({ local: { path: "terraform.tfstate" } });
      expect(cfg.resource.linode_instance.vpn.provisioner).toBeUndefined();
      expect(cfg.resource.linode_instance.vpn.connection).toBeUndefined();
      expect(prepared.providerSources).toEqual(["hashicorp/random", "linode/linode"]);
      expect(() => prepareWorkDir({ configPath: path.join(FIXTURES, "stacks", "article", "cdk.tf.json"), workDir: dir, vars: { nope: 1 } })).toThrow(
        /vars\.nope/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("offlineConfig keeps provisioners for plans", () => {
    const cfg = offlineConfig({ resource: { a: { b: { provisioner: [{}] } } }, terraform: { cloud: {} } });
    expect(cfg.resource!.a.b.provisioner).toBeDefined();
    expect(cfg.terraform!.cloud).toBeUndefined();
  });

  test("fake values match declared types", () => {
    expect(fakeValueFor("n", "number")).toBe(0);
    expect(fakeValueFor("l", "list(string)")).toEqual([]);
    expect(fakeValueFor("m", "map(string)")).toEqual({});
    expect(fakeValueFor("api_key", undefined)).toBe("offline-fake-api-key");
    // Lists that validations require non-empty get one plausible entry.
    expect(fakeValueFor("admin_cidrs", "list(string)")).toEqual(["192.0.2.0/24"]);
    expect(fakeValueFor("ssh_public_keys", "list(string)")).toEqual([expect.stringMatching(/^ssh-ed25519 AAAA\S+ offline-fake-key$/)]);
    expect(fakeValueFor("cidrs_extra", "list(string)")).toEqual([]);
  });

  test("offline environment drops user Terraform settings and provider credentials", () => {
    const env = offlineEnv("/w", "{}", { PATH: "/bin", TF_LOG: "TRACE", LINODE_TOKEN: "real", TAILSCALE_API_KEY: "real", TF_CLI_CONFIG_FILE: "/root/.terraformrc" });
    expect(env.LINODE_TOKEN).toBeUndefined();
    expect(env.TAILSCALE_API_KEY).toBeUndefined();
    expect(env.TF_LOG).toBeUndefined();
    expect(env.TF_CLI_CONFIG_FILE).toBe(path.join("/w", "offline.terraformrc"));
    expect(env.CHECKPOINT_DISABLE).toBe("1");
    expect(env.TF_IN_AUTOMATION).toBe("1");
    expect(env.PATH).toBe("/bin");
  });
});

describe("churn helpers and CLI parsing", () => {
  test("removeRegionFromForEach drops the region's entries from literal for_each maps", () => {
    const { config, removed } = removeRegionFromForEach(
      {
        resource: {
          linode_instance: { n: { for_each: { "us-ord": { region: "us-ord" }, "fr-par": { region: "fr-par" } } } },
          tailscale_tailnet_key: { k: { for_each: { "us-ord": {}, "fr-par": {} } } },
          linode_firewall: { f: { for_each: "${var.x}" } },
        },
      },
      "us-ord",
    );
    expect(removed).toBe(2);
    expect(Object.keys(config.resource!.linode_instance.n.for_each as object)).toEqual(["fr-par"]);
    expect(config.resource!.linode_firewall.f.for_each).toBe("${var.x}");
  });

  test("parseArgs reads commands, vars as JSON and rejects bad input", () => {
    const o = parseArgs(["churn", "article", "--remove", "us-ord", "--var", 'regions=["a"]', "--var", "x=plain"]);
    expect(o).toMatchObject({ command: "churn", stack: "article", remove: "us-ord", vars: { regions: ["a"], x: "plain" } });
    expect(() => parseArgs(["plan"])).toThrow(/needs a stack/);
    expect(() => parseArgs(["churn", "article"])).toThrow(/--remove/);
    expect(() => parseArgs(["plan", "../etc"])).toThrow(/stack must match/);
    expect(() => parseArgs(["plan", "a", "--bogus"])).toThrow(/unknown option/);
  });
});
