/**
 * Checks the recorded hashicorp/random, hashicorp/null and tailscale/tailscale schemas:
 * structure (terraform's `providers schema -json` shape), transcribed facts, the meta files,
 * agreement with the prebuilt @cdktf/provider-random / provider-null bindings, and that
 * @cdktf/provider-generator can turn the tailscale schema into bindings.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Attribute, Block, ProviderEntry, Schema, SchemaFile } from "./helpers/schema-json";

interface Meta {
  source: string;
  version: string;
  source_ref: string;
  provider_address: string;
  requires_replace: Record<string, string[]>;
  requires_replace_conditional: Record<string, Record<string, string>>;
  use_state_for_unknown: Record<string, string[]>;
  defaults: Record<string, Record<string, unknown>>;
  other_plan_modifiers: Record<string, Record<string, string>>;
  notes: string[];
}

const ROOT = path.join(__dirname, "..");
const NAMES = ["random", "null", "tailscale", "aws"] as const;
type Name = (typeof NAMES)[number];

function readText(rel: string): string {
  return fs.readFileSync(path.join(ROOT, rel), "utf8");
}

const files = {} as Record<Name, { raw: string; doc: SchemaFile; meta: Meta; entry: ProviderEntry }>;
for (const name of NAMES) {
  const raw = readText(`schemas/${name}.json`);
  const doc = JSON.parse(raw) as SchemaFile;
  const meta = JSON.parse(readText(`schemas/${name}.meta.json`)) as Meta;
  files[name] = { raw, doc, meta, entry: doc.provider_schemas[meta.provider_address] };
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) out[k] = sortKeysDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** Returns a list of problems with a Terraform JSON type expression (empty when valid). */
function typeProblems(t: unknown, where: string): string[] {
  if (typeof t === "string") {
    return ["string", "number", "bool", "dynamic"].includes(t) ? [] : [`${where}: unknown primitive ${t}`];
  }
  if (!Array.isArray(t) || t.length !== 2) return [`${where}: malformed type ${JSON.stringify(t)}`];
  const [kind, arg] = t as [unknown, unknown];
  if (kind === "list" || kind === "set" || kind === "map") return typeProblems(arg, `${where}<${kind}>`);
  if (kind === "object") {
    if (arg === null || typeof arg !== "object" || Array.isArray(arg)) return [`${where}: object without attribute map`];
    return Object.entries(arg as Record<string, unknown>).flatMap(([k, v]) => typeProblems(v, `${where}.${k}`));
  }
  if (kind === "tuple") {
    if (!Array.isArray(arg)) return [`${where}: tuple without element list`];
    return arg.flatMap((v, i) => typeProblems(v, `${where}[${i}]`));
  }
  return [`${where}: unknown collection kind ${String(kind)}`];
}

const ATTR_KEYS = new Set(["type", "nested_type", "description", "description_kind", "required", "optional", "computed",
  "sensitive", "deprecated", "write_only"]);
const FLAG_KEYS = ["required", "optional", "computed", "sensitive", "deprecated", "write_only"] as const;

function attributeProblems(a: Attribute, where: string): string[] {
  const p: string[] = [];
  for (const k of Object.keys(a)) if (!ATTR_KEYS.has(k)) p.push(`${where}: unexpected key ${k}`);
  // terraform prints only true flags
  for (const f of FLAG_KEYS) if (f in a && a[f] !== true) p.push(`${where}: flag ${f} present but not true`);
  if ((a.type === undefined) === (a.nested_type === undefined)) p.push(`${where}: needs exactly one of type/nested_type`);
  if (a.type !== undefined) p.push(...typeProblems(a.type, where));
  if (a.nested_type) {
    if (!["single", "list", "set", "map"].includes(a.nested_type.nesting_mode)) p.push(`${where}: bad nested nesting_mode`);
    for (const [k, inner] of Object.entries(a.nested_type.attributes)) p.push(...attributeProblems(inner, `${where}.${k}`));
  }
  if (!["plain", "markdown"].includes(a.description_kind)) p.push(`${where}: bad description_kind ${a.description_kind}`);
  if (a.description !== undefined && (typeof a.description !== "string" || a.description === "")) p.push(`${where}: empty description printed`);
  if (a.required && (a.optional || a.computed)) p.push(`${where}: required combined with optional/computed`);
  if (!a.required && !a.optional && !a.computed) p.push(`${where}: neither required, optional nor computed`);
  return p;
}

function blockProblems(b: Block, where: string): string[] {
  const p: string[] = [];
  for (const k of Object.keys(b)) {
    if (!["attributes", "block_types", "description", "description_kind", "deprecated"].includes(k)) p.push(`${where}: unexpected key ${k}`);
  }
  if (!["plain", "markdown"].includes(b.description_kind)) p.push(`${where}: bad description_kind`);
  for (const [k, a] of Object.entries(b.attributes ?? {})) p.push(...attributeProblems(a, `${where}.${k}`));
  for (const [k, bt] of Object.entries(b.block_types ?? {})) {
    if (b.attributes && k in b.attributes) p.push(`${where}.${k}: both attribute and block`);
    if (!["single", "group", "list", "set", "map"].includes(bt.nesting_mode)) p.push(`${where}.${k}: bad nesting_mode`);
    for (const m of ["min_items", "max_items"] as const) {
      const v = bt[m];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) p.push(`${where}.${k}: ${m} must be a positive integer when printed`);
    }
    if (bt.max_items !== undefined && (bt.min_items ?? 0) > bt.max_items) p.push(`${where}.${k}: min_items > max_items`);
    p.push(...blockProblems(bt.block, `${where}.${k}`));
  }
  return p;
}

function allSchemas(e: ProviderEntry): Array<[string, Schema]> {
  return [
    ["provider", e.provider] as [string, Schema],
    ...Object.entries(e.resource_schemas ?? {}).map(([k, s]) => [`resource ${k}`, s] as [string, Schema]),
    ...Object.entries(e.data_source_schemas ?? {}).map(([k, s]) => [`data ${k}`, s] as [string, Schema]),
    ...Object.entries(e.ephemeral_resource_schemas ?? {}).map(([k, s]) => [`ephemeral ${k}`, s] as [string, Schema]),
  ];
}

/** Resolve a dot-separated attribute path (no indices) in a block. */
function resolve(block: Block, p: string): Attribute | Block | undefined {
  const [head, ...rest] = p.split(".");
  const attr = block.attributes?.[head];
  if (attr) {
    if (rest.length === 0) return attr;
    if (!attr.nested_type) return undefined;
    return resolve({ attributes: attr.nested_type.attributes, description_kind: "plain" }, rest.join("."));
  }
  const bt = block.block_types?.[head];
  if (bt) return rest.length === 0 ? bt.block : resolve(bt.block, rest.join("."));
  return undefined;
}

function attr(name: Name, kind: "resource_schemas" | "data_source_schemas", type: string, attrName: string): Attribute {
  const a = files[name].entry[kind]?.[type]?.block.attributes?.[attrName];
  if (!a) throw new Error(`${name}: ${type}.${attrName} not recorded`);
  return a;
}

describe.each(NAMES)("%s schema file structure", (name) => {
  const { raw, doc, meta, entry } = files[name];

  test("top level matches terraform's providers schema -json", () => {
    expect(doc.format_version).toBe("1.0");
    expect(Object.keys(doc.provider_schemas)).toEqual([meta.provider_address]);
    expect(meta.provider_address).toBe(`registry.terraform.io/${meta.source}`);
    for (const k of Object.keys(entry)) {
      expect(["provider", "resource_schemas", "data_source_schemas", "ephemeral_resource_schemas"]).toContain(k);
      // terraform omits empty maps
      if (k !== "provider") expect(Object.keys((entry as unknown as Record<string, object>)[k]).length).toBeGreaterThan(0);
    }
    expect(entry.resource_schemas).toBeDefined();
  });

  test("keys sorted alphabetically, 2-space pretty JSON with trailing newline", () => {
    expect(raw).toBe(JSON.stringify(sortKeysDeep(doc), null, 2) + "\n");
  });

  test("every schema is well formed (types, flags, nesting modes)", () => {
    const problems: string[] = [];
    for (const [label, s] of allSchemas(entry)) {
      if (!(Number.isInteger(s.version) && s.version >= 0)) problems.push(`${label}: bad version`);
      problems.push(...blockProblems(s.block, label));
    }
    expect(problems).toEqual([]);
  });

  test("every meta path resolves to a recorded resource attribute", () => {
    const res = entry.resource_schemas ?? {};
    const problems: string[] = [];
    expect(Object.keys(meta.requires_replace).sort()).toEqual(Object.keys(res).sort());
    const check = (section: string, type: string, paths: string[]) => {
      const s = res[type];
      if (!s) { problems.push(`${section}: unknown resource ${type}`); return; }
      for (const p of paths) if (!resolve(s.block, p)) problems.push(`${section}: ${type}.${p} does not resolve`);
    };
    for (const [t, ps] of Object.entries(meta.requires_replace)) check("requires_replace", t, ps);
    for (const [t, m] of Object.entries(meta.requires_replace_conditional)) check("conditional", t, Object.keys(m));
    for (const [t, ps] of Object.entries(meta.use_state_for_unknown)) check("use_state_for_unknown", t, ps);
    for (const [t, m] of Object.entries(meta.defaults)) check("defaults", t, Object.keys(m));
    for (const [t, m] of Object.entries(meta.other_plan_modifiers ?? {})) check("other_plan_modifiers", t, Object.keys(m));
    expect(problems).toEqual([]);
  });

  test("meta facts are consistent with the attribute flags", () => {
    const res = entry.resource_schemas ?? {};
    for (const [t, ps] of Object.entries(meta.requires_replace)) {
      for (const p of ps) {
        const a = resolve(res[t].block, p) as Attribute & Partial<Block>;
        // a computed-only attribute is never in config, so it cannot force replacement (a whole block can)
        const isBlock = a.description_kind !== undefined && a.type === undefined && a.nested_type === undefined;
        expect({ path: `${t}.${p}`, configurable: Boolean(a.required || a.optional || isBlock) }).toEqual({ path: `${t}.${p}`, configurable: true });
        expect(meta.requires_replace_conditional[t]?.[p]).toBeUndefined();
      }
    }
    for (const [t, m] of Object.entries(meta.defaults)) {
      for (const p of Object.keys(m)) {
        const a = resolve(res[t].block, p) as Attribute;
        // the framework only accepts Default on optional+computed attributes; SDKv2 (aws' muxed half) on optional ones
        if (name === "aws") expect({ path: `${t}.${p}`, optional: a.optional }).toEqual({ path: `${t}.${p}`, optional: true });
        else expect({ path: `${t}.${p}`, optional: a.optional, computed: a.computed }).toEqual({ path: `${t}.${p}`, optional: true, computed: true });
      }
    }
    for (const m of Object.values(meta.requires_replace_conditional)) {
      for (const reason of Object.values(m)) expect(reason.length).toBeGreaterThan(20);
    }
    expect(meta.source_ref).toContain(`@v${meta.version}`);
  });
});

describe("transcribed facts", () => {
  test("random: resources, versions, data sources", () => {
    const e = files.random.entry;
    expect(Object.keys(e.resource_schemas ?? {}).sort()).toEqual(
      ["random_bytes", "random_id", "random_integer", "random_password", "random_pet", "random_shuffle", "random_string", "random_uuid"]);
    expect(e.data_source_schemas).toBeUndefined();
    expect(Object.keys(e.ephemeral_resource_schemas ?? {})).toEqual(["random_password"]);
    expect(e.provider.block.attributes).toBeUndefined();
    expect(e.resource_schemas?.random_password.version).toBe(3);
    expect(e.resource_schemas?.random_string.version).toBe(2);
    expect(e.resource_schemas?.random_id.version).toBe(0);
  });

  test("random: spot checks", () => {
    const rs = attr("random", "resource_schemas", "random_string", "result");
    expect(rs).toMatchObject({ type: "string", computed: true });
    expect(rs.sensitive).toBeUndefined();
    expect(attr("random", "resource_schemas", "random_password", "result")).toMatchObject({ type: "string", computed: true, sensitive: true });
    expect(attr("random", "resource_schemas", "random_password", "bcrypt_hash").sensitive).toBe(true);
    expect(attr("random", "resource_schemas", "random_string", "length")).toMatchObject({ type: "number", required: true });
    expect(attr("random", "resource_schemas", "random_string", "keepers")).toMatchObject({ type: ["map", "string"], optional: true });
    expect(attr("random", "resource_schemas", "random_string", "number").deprecated).toBe(true);
    expect(attr("random", "resource_schemas", "random_shuffle", "input")).toMatchObject({ type: ["list", "string"], required: true });
    expect(attr("random", "resource_schemas", "random_bytes", "base64")).toMatchObject({ computed: true, sensitive: true });
    expect(attr("random", "resource_schemas", "random_integer", "result").type).toBe("number");
    expect(attr("random", "resource_schemas", "random_pet", "length")).toMatchObject({ optional: true, computed: true });
    const meta = files.random.meta;
    expect(meta.requires_replace.random_string).toEqual(expect.arrayContaining(["length", "special", "min_upper"]));
    expect(meta.requires_replace_conditional.random_string.keepers).toBeDefined();
    expect(meta.use_state_for_unknown.random_password).toEqual(["bcrypt_hash", "id", "result"]);
    expect(meta.defaults.random_pet).toEqual({ length: 2, separator: "-" });
  });

  test("null: resource, data source", () => {
    const e = files.null.entry;
    expect(Object.keys(e.resource_schemas ?? {})).toEqual(["null_resource"]);
    expect(Object.keys(e.data_source_schemas ?? {})).toEqual(["null_data_source"]);
    expect(attr("null", "resource_schemas", "null_resource", "triggers")).toMatchObject({ type: ["map", "string"], optional: true });
    expect(attr("null", "resource_schemas", "null_resource", "id")).toMatchObject({ type: "string", computed: true });
    expect(e.data_source_schemas?.null_data_source.block.deprecated).toBe(true);
    expect(attr("null", "data_source_schemas", "null_data_source", "outputs")).toMatchObject({ type: ["map", "string"], computed: true });
    expect(files.null.meta.requires_replace_conditional.null_resource.triggers).toBeDefined();
  });

  test("tailscale: provider block", () => {
    const p = files.tailscale.entry.provider.block.attributes ?? {};
    for (const k of ["api_key", "oauth_client_secret", "identity_token"]) expect(p[k]).toMatchObject({ type: "string", optional: true, sensitive: true });
    for (const k of ["oauth_client_id", "tailnet", "base_url", "user_agent", "audience"]) {
      expect(p[k]).toMatchObject({ type: "string", optional: true });
      expect(p[k].sensitive).toBeUndefined();
    }
    expect(p.scopes).toMatchObject({ type: ["list", "string"], optional: true });
    expect(Object.values(p).every((a) => !a.required)).toBe(true);
  });

  test("tailscale: tailnet key, acl and device resources", () => {
    const key = (a: string) => attr("tailscale", "resource_schemas", "tailscale_tailnet_key", a);
    expect(key("key")).toMatchObject({ type: "string", computed: true, sensitive: true });
    expect(key("key").optional).toBeUndefined();
    expect(key("tags")).toMatchObject({ type: ["set", "string"] });
    for (const b of ["preauthorized", "reusable", "ephemeral"]) expect(key(b)).toMatchObject({ type: "bool", optional: true, computed: true });
    expect(key("expiry")).toMatchObject({ type: "number", optional: true, computed: true });
    expect(attr("tailscale", "resource_schemas", "tailscale_acl", "acl")).toMatchObject({ type: "string", required: true });
    expect(attr("tailscale", "resource_schemas", "tailscale_device_tags", "tags")).toMatchObject({ type: ["set", "string"], required: true });
    expect(attr("tailscale", "resource_schemas", "tailscale_device_subnet_routes", "routes")).toMatchObject({ type: ["set", "string"], required: true });
    expect(attr("tailscale", "resource_schemas", "tailscale_device_key", "key_expiry_disabled")).toMatchObject({ type: "bool", optional: true });
    expect(attr("tailscale", "resource_schemas", "tailscale_dns_nameservers", "nameservers")).toMatchObject({ type: ["list", "string"], required: true });
    expect(attr("tailscale", "data_source_schemas", "tailscale_device", "addresses")).toMatchObject({ type: ["list", "string"], computed: true });
    expect(attr("tailscale", "data_source_schemas", "tailscale_device", "hostname")).toMatchObject({ type: "string", optional: true });
    const meta = files.tailscale.meta;
    expect(meta.requires_replace.tailscale_tailnet_key).toEqual(["description", "ephemeral", "expiry", "preauthorized", "reusable", "tags"]);
    expect(meta.requires_replace.tailscale_device_tags).toEqual(["device_id"]);
    expect(meta.version).toBe("0.29.2");
  });
});

// ---- agreement with the prebuilt bindings ----

function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

interface Binding {
  tfType: string;
  isData: boolean;
  configText: string;
  props: Map<string, { optional: boolean }>;
  getters: Set<string>;
}

/** Pull the Config interface and the main class getters out of a generated .ts or prebuilt .d.ts file. */
function parseBinding(text: string): Binding | undefined {
  const tf = /static readonly tfResourceType = "([^"]+)"/.exec(text);
  const cfg = /export interface \w+Config(?: extends cdktf\.TerraformMetaArguments)? \{([\s\S]*?)\n\}/.exec(text);
  const cls = /export (?:declare )?class \w+ extends cdktf\.(TerraformResource|TerraformDataSource|TerraformProvider) \{([\s\S]*?)\n\}/.exec(text);
  if (!tf || !cfg || !cls) return undefined;
  const props = new Map<string, { optional: boolean }>();
  for (const m of cfg[1].matchAll(/readonly (\w+)(\??): /g)) props.set(m[1], { optional: m[2] === "?" });
  const getters = new Set<string>();
  for (const m of cls[2].matchAll(/^\s*(?:public )?get (\w+)\(\)/gm)) getters.add(m[1]);
  return { tfType: tf[1], isData: cls[1] === "TerraformDataSource", configText: cfg[1], props, getters };
}

/**
 * Whitespace/formatting-insensitive form of a Config interface body. Doc comments are dropped: the
 * recorded schemas leave out the providers' description prose (facts only), the prebuilt bindings carry it.
 */
function normaliseConfig(body: string): string {
  return body
    .replace(/\/\*\*[\s\S]*?\*\//g, "")
    .replace(/\s+/g, " ")
    .replace(/;\s*\}/g, " }")
    .trim();
}

function listBindings(dir: string): Binding[] {
  const out: Binding[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    for (const f of ["index.d.ts", "index.ts"]) {
      const p = path.join(dir, e.name, f);
      if (fs.existsSync(p)) {
        const b = parseBinding(fs.readFileSync(p, "utf8"));
        if (b) out.push(b);
      }
    }
  }
  return out;
}

// Imported lazily: the generator is heavy and only these tests need it.
async function generate(schema: SchemaFile): Promise<{ dir: string; ms: number }> {
  const { generateProviderBindingsFromSchema } = await import("@cdktf/provider-generator");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-others-"));
  tempDirs.push(dir);
  const t0 = Date.now();
  // The generator mutates its input (it adds an `alias` attribute to the provider block), so hand it a copy.
  const copy = JSON.parse(JSON.stringify(schema)) as Parameters<typeof generateProviderBindingsFromSchema>[1];
  await generateProviderBindingsFromSchema(dir, copy);
  return { dir, ms: Date.now() - t0 };
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

const PREBUILT = [
  { name: "random" as Name, pkg: "@cdktf/provider-random" },
  { name: "null" as Name, pkg: "@cdktf/provider-null" },
];

describe.each(PREBUILT)("$pkg agrees with schemas/$name.json", ({ name, pkg }) => {
  const pkgDir = path.dirname(require.resolve(`${pkg}/package.json`));
  const pkgJson = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")) as {
    cdktf: { provider: { name: string; version: string } };
  };
  const prebuilt = listBindings(path.join(pkgDir, "lib"));
  const { entry, meta } = files[name];

  test("same provider address and version", () => {
    expect(pkgJson.cdktf.provider.name).toBe(meta.provider_address);
    expect(pkgJson.cdktf.provider.version).toBe(meta.version);
  });

  test("same resource and data source types", () => {
    const res = prebuilt.filter((b) => !b.isData && b.tfType !== name).map((b) => b.tfType).sort();
    const data = prebuilt.filter((b) => b.isData).map((b) => b.tfType).sort();
    expect(res).toEqual(Object.keys(entry.resource_schemas ?? {}).sort());
    expect(data).toEqual(Object.keys(entry.data_source_schemas ?? {}).sort());
  });

  test("configurable attributes are config properties (and vice versa), computed-only ones getters only", () => {
    const problems: string[] = [];
    for (const b of prebuilt) {
      const s = b.tfType === name ? entry.provider : b.isData ? entry.data_source_schemas?.[b.tfType] : entry.resource_schemas?.[b.tfType];
      if (!s) { problems.push(`${b.tfType}: no schema`); continue; }
      const attrs = s.block.attributes ?? {};
      const expected = new Map<string, boolean>();
      for (const [k, a] of Object.entries(attrs)) if (a.required || a.optional) expected.set(camel(k), !a.required);
      for (const k of Object.keys(s.block.block_types ?? {})) expected.set(camel(k), true);
      if (b.tfType === name) expected.set("alias", true);
      for (const [k, opt] of expected) {
        const p = b.props.get(k);
        if (!p) problems.push(`${b.tfType}: ${k} missing from bindings config`);
        else if (p.optional !== opt) problems.push(`${b.tfType}: ${k} optional=${p.optional} in bindings, ${opt} in schema`);
      }
      for (const k of b.props.keys()) if (!expected.has(k)) problems.push(`${b.tfType}: bindings config has extra ${k}`);
      if (b.tfType !== name) {
        for (const [k, a] of Object.entries(attrs)) {
          if (!b.getters.has(camel(k))) problems.push(`${b.tfType}: no getter for ${k}`);
          if (a.computed && !a.required && !a.optional && b.props.has(camel(k))) problems.push(`${b.tfType}: computed-only ${k} is configurable`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test("bindings generated from the recorded schema match the prebuilt config interfaces (names, types, optionality)", async () => {
    const { dir } = await generate(files[name].doc);
    const generated = listBindings(path.join(dir, "providers", name));
    const byType = new Map(generated.map((b) => [`${b.isData}:${b.tfType}`, b]));
    for (const b of prebuilt) {
      const g = byType.get(`${b.isData}:${b.tfType}`);
      expect({ type: b.tfType, generated: Boolean(g) }).toEqual({ type: b.tfType, generated: true });
      if (!g) continue;
      expect({ type: b.tfType, config: normaliseConfig(g.configText) }).toEqual({ type: b.tfType, config: normaliseConfig(b.configText) });
      expect({ type: b.tfType, getters: [...g.getters].sort() }).toEqual({ type: b.tfType, getters: [...b.getters].sort() });
    }
  });
});

describe("tailscale bindings generation", () => {
  test("generates a binding for every resource and data source in under 30 s", async () => {
    const { entry } = files.tailscale;
    const { dir, ms } = await generate(files.tailscale.doc);
    expect(ms).toBeLessThan(30_000);
    const bindings = listBindings(path.join(dir, "providers", "tailscale"));
    const res = bindings.filter((b) => !b.isData && b.tfType !== "tailscale").map((b) => b.tfType).sort();
    const data = bindings.filter((b) => b.isData).map((b) => b.tfType).sort();
    expect(res).toEqual(Object.keys(entry.resource_schemas ?? {}).sort());
    expect(data).toEqual(Object.keys(entry.data_source_schemas ?? {}).sort());
    for (const t of ["tailscale_tailnet_key", "tailscale_acl", "tailscale_device_key", "tailscale_device_tags",
      "tailscale_device_subnet_routes", "tailscale_dns_nameservers"]) {
      expect(res).toContain(t);
    }
    const key = bindings.find((b) => b.tfType === "tailscale_tailnet_key");
    expect(key?.props.get("tags")).toEqual({ optional: true });
    expect(key?.props.has("key")).toBe(false);
    expect(key?.getters.has("key")).toBe(true);
    expect(key?.configText).toMatch(/readonly expiry\?: number;/);
    expect(key?.configText).toMatch(/readonly reusable\?: boolean \| cdktf\.IResolvable;/);
    const provider = bindings.find((b) => b.tfType === "tailscale");
    expect(provider && [...provider.props.keys()].sort()).toEqual(
      [...Object.keys(entry.provider.block.attributes ?? {}).map(camel), "alias"].sort());
    const acl = bindings.find((b) => b.tfType === "tailscale_acl");
    expect(acl?.props.get("acl")).toEqual({ optional: false });
  });
});

describe("aws: the facts the subnet-router and site-to-site stacks rely on", () => {
  const res = (t: string) => files.aws.entry.resource_schemas![t].block;
  test("VPN tunnel attributes: inside CIDRs and keys settable, outside addresses computed, keys sensitive", () => {
    const vpn = res("aws_vpn_connection").attributes!;
    for (const n of [1, 2]) {
      expect(vpn[`tunnel${n}_inside_cidr`]).toMatchObject({ type: "string", optional: true, computed: true });
      expect(vpn[`tunnel${n}_preshared_key`]).toMatchObject({ type: "string", optional: true, computed: true, sensitive: true });
      for (const c of ["address", "cgw_inside_address", "vgw_inside_address", "bgp_asn"]) {
        expect(vpn[`tunnel${n}_${c}`]).toMatchObject({ type: "string", computed: true });
        expect(vpn[`tunnel${n}_${c}`].optional).toBeUndefined();
      }
      expect(vpn[`tunnel${n}_ike_versions`]).toMatchObject({ type: ["set", "string"], optional: true });
      expect(vpn[`tunnel${n}_phase1_dh_group_numbers`]).toMatchObject({ type: ["set", "number"], optional: true });
    }
    expect(files.aws.meta.requires_replace.aws_vpn_connection).toEqual(expect.arrayContaining(["tunnel1_inside_cidr", "tunnel2_inside_cidr", "static_routes_only", "type"]));
    expect(files.aws.meta.requires_replace.aws_customer_gateway).toEqual(expect.arrayContaining(["bgp_asn", "ip_address", "type"]));
  });
  test("instances: source_dest_check is a plain optional bool; the public AMI parameter's insecure_value is not sensitive", () => {
    expect(res("aws_instance").attributes!.source_dest_check).toMatchObject({ type: "bool", optional: true });
    const ssm = files.aws.entry.data_source_schemas!.aws_ssm_parameter.block.attributes!;
    expect(ssm.insecure_value.sensitive).toBeUndefined();
    expect(ssm.value.sensitive).toBe(true);
  });
});
