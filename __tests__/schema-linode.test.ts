/*
 * Structural checks of the recorded linode/linode provider schema (schemas/linode.json) and its
 * side file (schemas/linode.meta.json): Terraform's rules for schema JSON, spot checks of facts
 * transcribed from the provider's Go source at v3.13.0, and a round trip through cdktf's binding
 * generator plus the TypeScript compiler.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { Attribute, Block, BlockType, SchemaFile } from "./helpers/schema-json";
import { installedCore } from "../src/terraform/core";

const root = path.resolve(__dirname, "..");
const schemaFile = path.join(root, "schemas", "linode.json");
const metaFile = path.join(root, "schemas", "linode.meta.json");
const PROVIDER_ADDR = "registry.terraform.io/linode/linode";
// A git copy of linode/terraform-provider-linode (any clone holding the tag), given by the person
// running the cross-check; no path of any one machine is assumed.
const MIRROR = process.env.LINODE_PROVIDER_GIT_DIR ?? "";
const TAG = "v3.13.0";

type ProviderSchemaDoc = SchemaFile;
interface Meta {
  source: string;
  version: string;
  source_ref: string;
  requires_replace: Record<string, string[]>;
  requires_replace_conditional: Record<string, Record<string, string>>;
  defaults: Record<string, Record<string, unknown>>;
  notes: string[];
}

const raw = fs.readFileSync(schemaFile, "utf8");
const doc = JSON.parse(raw) as ProviderSchemaDoc;
const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as Meta;
const prov = doc.provider_schemas[PROVIDER_ADDR];
const resources = prov.resource_schemas;

const RESOURCES = [
  "linode_firewall",
  "linode_firewall_device",
  "linode_instance",
  "linode_sshkey",
  "linode_vpc",
  "linode_vpc_subnet",
];

/** Follows a dot path (no indices) through attributes, nested attributes and blocks. */
function resolvePath(block: Block, dotted: string): Attribute | BlockType | undefined {
  const parts = dotted.split(".");
  let attrs: Record<string, Attribute> | undefined = block.attributes;
  let blocks: Record<string, BlockType> | undefined = block.block_types;
  let found: Attribute | BlockType | undefined;
  for (const part of parts) {
    if (found !== undefined) {
      // descend into whatever the previous segment was
      if ("block" in found) {
        attrs = found.block.attributes;
        blocks = found.block.block_types;
      } else if (found.nested_type) {
        attrs = found.nested_type.attributes;
        blocks = undefined;
      } else {
        return undefined;
      }
    }
    found = attrs?.[part] ?? blocks?.[part];
    if (found === undefined) return undefined;
  }
  return found;
}

function attr(resource: string, dotted: string): Attribute {
  const a = resolvePath(resources[resource].block, dotted);
  if (!a || "block" in a) throw new Error(`${resource}.${dotted} is not an attribute`);
  return a;
}

function blockType(resource: string, dotted: string): BlockType {
  const b = resolvePath(resources[resource].block, dotted);
  if (!b || !("block" in b)) throw new Error(`${resource}.${dotted} is not a block`);
  return b;
}

/** Terraform's JSON type notation: primitives, collections, object, tuple. */
function typeProblem(t: unknown): string | undefined {
  if (typeof t === "string") return ["string", "number", "bool", "dynamic"].includes(t) ? undefined : `bad primitive ${t}`;
  if (!Array.isArray(t) || t.length !== 2) return `bad type ${JSON.stringify(t)}`;
  const [kind, arg] = t as [unknown, unknown];
  if (kind === "list" || kind === "set" || kind === "map") return typeProblem(arg);
  if (kind === "object") {
    if (typeof arg !== "object" || arg === null || Array.isArray(arg)) return "object needs attribute map";
    for (const v of Object.values(arg as Record<string, unknown>)) {
      const p = typeProblem(v);
      if (p) return p;
    }
    return undefined;
  }
  if (kind === "tuple") {
    if (!Array.isArray(arg)) return "tuple needs element list";
    for (const v of arg) {
      const p = typeProblem(v);
      if (p) return p;
    }
    return undefined;
  }
  return `unknown type kind ${String(kind)}`;
}

/** Collects every rule violation in a block, with a readable location. */
function blockProblems(block: Block, where: string, out: string[]): void {
  if (!["plain", "markdown"].includes(block.description_kind)) out.push(`${where}: block description_kind`);
  if (block.deprecated === false) out.push(`${where}: false flags are omitted by terraform`);
  const attrs = block.attributes ?? {};
  const blocks = block.block_types ?? {};
  for (const name of Object.keys(attrs)) {
    if (name in blocks) out.push(`${where}.${name}: both attribute and block`);
    attributeProblems(attrs[name], `${where}.${name}`, out);
  }
  for (const [name, bt] of Object.entries(blocks)) {
    const w = `${where}.${name}`;
    if (!["single", "list", "set", "map", "group"].includes(bt.nesting_mode)) out.push(`${w}: nesting_mode ${bt.nesting_mode}`);
    for (const k of ["min_items", "max_items"] as const) {
      const v = bt[k];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) out.push(`${w}: ${k} must be a positive integer when present`);
    }
    if (bt.max_items !== undefined && (bt.min_items ?? 0) > bt.max_items) out.push(`${w}: min_items > max_items`);
    if ((bt.nesting_mode === "single" || bt.nesting_mode === "group") && (bt.max_items ?? 0) > 1) {
      out.push(`${w}: single block with max_items > 1`);
    }
    blockProblems(bt.block, w, out);
  }
}

function attributeProblems(a: Attribute, where: string, out: string[]): void {
  if ((a.type === undefined) === (a.nested_type === undefined)) out.push(`${where}: needs exactly one of type / nested_type`);
  if (a.type !== undefined) {
    const p = typeProblem(a.type);
    if (p) out.push(`${where}: ${p}`);
  }
  for (const flag of ["required", "optional", "computed", "sensitive", "deprecated", "write_only"] as const) {
    if (a[flag] === false) out.push(`${where}: ${flag}: false is never printed by terraform`);
  }
  if (a.required && (a.optional || a.computed)) out.push(`${where}: required together with optional/computed`);
  if (!a.required && !a.optional && !a.computed) out.push(`${where}: none of required/optional/computed`);
  if (a.write_only && a.computed) out.push(`${where}: write_only cannot be computed`);
  if (!["plain", "markdown"].includes(a.description_kind)) out.push(`${where}: description_kind ${a.description_kind}`);
  if (a.nested_type) {
    if (!["single", "list", "set", "map"].includes(a.nested_type.nesting_mode)) {
      out.push(`${where}: nested nesting_mode ${a.nested_type.nesting_mode}`);
    }
    for (const [n, inner] of Object.entries(a.nested_type.attributes)) attributeProblems(inner, `${where}.${n}`, out);
  }
}

function sortedDeep(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortedDeep);
  if (x !== null && typeof x === "object") {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(x as Record<string, unknown>).sort()) o[k] = sortedDeep((x as Record<string, unknown>)[k]);
    return o;
  }
  return x;
}

function countAttributes(block: Block): number {
  let n = 0;
  for (const a of Object.values(block.attributes ?? {})) {
    n += 1;
    if (a.nested_type) n += countAttributes({ attributes: a.nested_type.attributes, description_kind: "plain" });
  }
  for (const bt of Object.values(block.block_types ?? {})) n += countAttributes(bt.block);
  return n;
}

describe("schemas/linode.json: shape", () => {
  test("is terraform providers schema -json output for exactly one provider", () => {
    expect(doc.format_version).toBe("1.0");
    expect(Object.keys(doc.provider_schemas)).toEqual([PROVIDER_ADDR]);
    expect(prov.data_source_schemas).toEqual({});
    expect(Object.keys(resources).sort()).toEqual(RESOURCES);
  });

  test("is stored canonically: keys sorted at every level, 2-space indent, trailing newline", () => {
    expect(raw).toBe(JSON.stringify(sortedDeep(doc), null, 2) + "\n");
  });

  test("every block and attribute obeys terraform's schema rules", () => {
    const problems: string[] = [];
    blockProblems(prov.provider.block, "provider", problems);
    for (const [name, s] of Object.entries(resources)) {
      if (!Number.isInteger(s.version) || s.version < 0) problems.push(`${name}: version`);
      blockProblems(s.block, name, problems);
    }
    expect(problems).toEqual([]);
  });

  test("every resource has a string id", () => {
    for (const name of RESOURCES) {
      const id = attr(name, "id");
      expect(id.type).toBe("string");
      expect(id.computed).toBe(true);
    }
    // SDKv2 adds id as optional+computed; the framework resources declare it computed-only.
    expect(attr("linode_instance", "id").optional).toBe(true);
    expect(attr("linode_vpc", "id").optional).toBeUndefined();
  });

  test("the provider block declares all 21 configuration attributes, all optional", () => {
    const attrs = prov.provider.block.attributes ?? {};
    expect(Object.keys(attrs)).toHaveLength(21);
    for (const name of ["token", "url", "api_version", "ua_prefix", "config_path", "config_profile", "skip_instance_ready_poll"]) {
      expect(attrs[name]).toBeDefined();
    }
    for (const a of Object.values(attrs)) {
      expect(a.optional).toBe(true);
      expect(a.required).toBeUndefined();
    }
    expect(attrs.token.sensitive).toBe(true);
    expect(attrs.obj_secret_key.sensitive).toBe(true);
    expect(attrs.skip_instance_ready_poll.type).toBe("bool");
    expect(attrs.event_poll_ms.type).toBe("number");
    expect(prov.provider.version).toBe(0);
  });
});

describe("schemas/linode.meta.json", () => {
  test("pins the version and source", () => {
    expect(meta.source).toBe("linode/linode");
    expect(meta.version).toBe("3.13.0");
    expect(meta.source_ref).toBe("linode/terraform-provider-linode@v3.13.0");
    expect(Array.isArray(meta.notes) && meta.notes.length > 0).toBe(true);
  });

  test("covers every recorded resource and every path resolves in the schema", () => {
    expect(Object.keys(meta.requires_replace).sort()).toEqual(RESOURCES);
    const unresolved: string[] = [];
    for (const [res, paths] of Object.entries(meta.requires_replace)) {
      for (const p of paths) if (!resolvePath(resources[res].block, p)) unresolved.push(`${res}.${p}`);
    }
    for (const [res, byPath] of Object.entries(meta.requires_replace_conditional)) {
      expect(resources[res]).toBeDefined();
      for (const [p, reason] of Object.entries(byPath)) {
        if (!resolvePath(resources[res].block, p)) unresolved.push(`${res}.${p}`);
        expect(reason.length).toBeGreaterThan(0);
      }
    }
    for (const [res, byPath] of Object.entries(meta.defaults)) {
      for (const p of Object.keys(byPath)) {
        const a = resolvePath(resources[res].block, p);
        if (!a || "block" in a) unresolved.push(`${res}.${p} (default)`);
        else expect(a.optional).toBe(true); // terraform only lets an optional attribute default
      }
    }
    expect(unresolved).toEqual([]);
  });

  test("computed-only attributes never force replacement (they cannot be configured)", () => {
    const computedOnly: string[] = [];
    for (const [res, paths] of Object.entries(meta.requires_replace)) {
      for (const p of paths) {
        const a = resolvePath(resources[res].block, p);
        if (a && !("block" in a) && !a.required && !a.optional) computedOnly.push(`${res}.${p}`);
      }
    }
    expect(computedOnly).toEqual([]);
  });
});

describe("transcribed facts: linode_instance (SDKv2)", () => {
  const rr = () => meta.requires_replace.linode_instance;

  test("region is a required string that migrates in place rather than forcing replacement", () => {
    expect(attr("linode_instance", "region")).toMatchObject({ type: "string", required: true });
    expect(rr()).not.toContain("region");
    expect(rr()).not.toContain("type");
  });

  test("image, authorized_keys and metadata.user_data force replacement", () => {
    expect(attr("linode_instance", "image")).toMatchObject({ type: "string", optional: true });
    expect(attr("linode_instance", "authorized_keys")).toMatchObject({ type: ["list", "string"], optional: true });
    expect(rr()).toEqual(expect.arrayContaining(["image", "authorized_keys", "authorized_users", "metadata.user_data", "firewall_id"]));
  });

  test("secrets are marked sensitive", () => {
    expect(attr("linode_instance", "root_pass").sensitive).toBe(true);
    expect(attr("linode_instance", "stackscript_data")).toMatchObject({ type: ["map", "string"], sensitive: true });
    expect(attr("linode_instance", "disk.root_pass").sensitive).toBe(true);
  });

  test("scalar types and flags", () => {
    expect(attr("linode_instance", "swap_size")).toMatchObject({ type: "number", optional: true, computed: true });
    expect(attr("linode_instance", "type")).toMatchObject({ type: "string", optional: true });
    expect(attr("linode_instance", "type").computed).toBeUndefined();
    expect(attr("linode_instance", "tags")).toMatchObject({ type: ["set", "string"], optional: true, computed: true });
    expect(attr("linode_instance", "ipv4")).toMatchObject({ type: ["set", "string"], optional: true, computed: true });
    expect(attr("linode_instance", "private_ip")).toMatchObject({ type: "bool", optional: true });
    expect(attr("linode_instance", "ip_address")).toMatchObject({ type: "string", computed: true, deprecated: true });
  });

  test("metadata and interface are list blocks; interface.purpose is required", () => {
    expect(blockType("linode_instance", "metadata").nesting_mode).toBe("list");
    expect(attr("linode_instance", "metadata.user_data")).toMatchObject({ type: "string", optional: true });
    const iface = blockType("linode_instance", "interface");
    expect(iface.nesting_mode).toBe("list");
    expect(attr("linode_instance", "interface.purpose")).toMatchObject({ type: "string", required: true });
    expect(attr("linode_instance", "interface.subnet_id").type).toBe("number");
    expect(attr("linode_instance", "interface.ip_ranges").type).toEqual(["list", "string"]);
    expect(blockType("linode_instance", "interface.ipv4").max_items).toBe(1);
    expect(attr("linode_instance", "interface.ipv6.slaac.assigned_range").computed).toBe(true);
    // the config block reuses the same interface schema
    expect(resolvePath(resources.linode_instance.block, "config.interface.ipv6.range.range")).toBeDefined();
  });

  test("placement_group and alerts allow at most one block", () => {
    expect(blockType("linode_instance", "placement_group")).toMatchObject({ nesting_mode: "list", max_items: 1 });
    expect(attr("linode_instance", "placement_group.id")).toMatchObject({ type: "number", required: true });
    expect(blockType("linode_instance", "alerts")).toMatchObject({ nesting_mode: "list", max_items: 1 });
  });

  test("computed-only nested resources are list(object) attributes, not blocks", () => {
    expect(attr("linode_instance", "specs").type).toEqual([
      "list",
      ["object", { accelerated_devices: "number", disk: "number", gpus: "number", memory: "number", transfer: "number", vcpus: "number" }],
    ]);
    expect(attr("linode_instance", "backups").type).toEqual([
      "list",
      ["object", { available: "bool", enabled: "bool", schedule: ["list", ["object", { day: "string", window: "string" }]] }],
    ]);
  });

  test("deprecated config/disk blocks; config.devices has the 64 slots sda..sdbl", () => {
    expect(blockType("linode_instance", "config").block.deprecated).toBe(true);
    expect(blockType("linode_instance", "disk").block.deprecated).toBe(true);
    const slots = Object.keys(blockType("linode_instance", "config.devices").block.block_types ?? {});
    expect(slots).toHaveLength(64);
    expect(slots).toEqual(expect.arrayContaining(["sda", "sdz", "sdaa", "sdbl"]));
    expect(blockType("linode_instance", "config.devices.sdbl").max_items).toBe(1);
    expect(attr("linode_instance", "config.devices.sda.disk_id")).toMatchObject({ optional: true, computed: true });
  });

  test("timeouts block lists the declared operations", () => {
    const t = blockType("linode_instance", "timeouts");
    expect(t.nesting_mode).toBe("single");
    expect(Object.keys(t.block.attributes ?? {}).sort()).toEqual(["create", "delete", "update"]);
    expect(attr("linode_instance", "timeouts.create")).toMatchObject({ type: "string", optional: true });
  });
});

describe("transcribed facts: framework resources", () => {
  test("linode_firewall policies and rule blocks", () => {
    expect(attr("linode_firewall", "inbound_policy")).toMatchObject({ type: "string", required: true });
    expect(attr("linode_firewall", "outbound_policy")).toMatchObject({ type: "string", required: true });
    expect(attr("linode_firewall", "label").required).toBe(true);
    expect(attr("linode_firewall", "linodes")).toMatchObject({ type: ["set", "number"], optional: true, computed: true });
    for (const dir of ["inbound", "outbound"]) {
      expect(blockType("linode_firewall", dir).nesting_mode).toBe("list");
      for (const f of ["label", "action", "protocol"]) expect(attr("linode_firewall", `${dir}.${f}`).required).toBe(true);
      expect(attr("linode_firewall", `${dir}.ports`)).toMatchObject({ type: "string", optional: true });
      expect(attr("linode_firewall", `${dir}.ipv4`).type).toEqual(["list", "string"]);
      expect(attr("linode_firewall", `${dir}.ipv6`).type).toEqual(["list", "string"]);
    }
    expect(attr("linode_firewall", "devices").type).toEqual([
      "list",
      ["object", { entity_id: "number", id: "number", label: "string", type: "string", url: "string" }],
    ]);
    expect(meta.requires_replace.linode_firewall).toEqual([]);
  });

  test("linode_vpc: region forces replacement; ipv6 is a nested attribute with a write-only field", () => {
    expect(attr("linode_vpc", "region")).toMatchObject({ type: "string", required: true });
    expect(meta.requires_replace.linode_vpc).toContain("region");
    const ipv6 = attr("linode_vpc", "ipv6");
    expect(ipv6.nested_type?.nesting_mode).toBe("list");
    expect(attr("linode_vpc", "ipv6.allocation_class")).toMatchObject({ optional: true, write_only: true });
    expect(attr("linode_vpc", "ipv6.allocated_range").computed).toBe(true);
  });

  test("linode_vpc_subnet: vpc_id number forcing replacement, computed linodes list", () => {
    expect(attr("linode_vpc_subnet", "vpc_id")).toMatchObject({ type: "number", required: true });
    expect(attr("linode_vpc_subnet", "ipv4")).toMatchObject({ type: "string", optional: true });
    expect(meta.requires_replace.linode_vpc_subnet).toEqual(expect.arrayContaining(["vpc_id", "ipv4", "ipv6"]));
    expect(attr("linode_vpc_subnet", "linodes").type).toEqual([
      "list",
      ["object", { id: "number", interfaces: ["list", ["object", { active: "bool", config_id: "number", id: "number" }]] }],
    ]);
  });

  test("linode_firewall_device and linode_sshkey", () => {
    expect(attr("linode_firewall_device", "firewall_id")).toMatchObject({ type: "number", required: true });
    expect(attr("linode_firewall_device", "entity_type")).toMatchObject({ optional: true, computed: true });
    expect(meta.defaults.linode_firewall_device.entity_type).toBe("linode");
    expect(attr("linode_sshkey", "ssh_key")).toMatchObject({ type: "string", required: true });
    expect(meta.requires_replace.linode_sshkey).toEqual(["ssh_key"]);
  });

  test("size of the recording", () => {
    const counts = Object.fromEntries(RESOURCES.map((r) => [r, countAttributes(resources[r].block)]));
    // sanity floor, not a snapshot: linode_instance alone has ~40 top-level and hundreds of nested attributes
    expect(counts.linode_instance).toBeGreaterThan(300);
    expect(Object.keys(resources.linode_instance.block.attributes ?? {}).length).toBeGreaterThanOrEqual(40);
  });
});

describe("cross-check against the mirrored provider source", () => {
  const haveMirror = MIRROR !== "" && fs.existsSync(MIRROR);
  if (!haveMirror) {
    // eslint-disable-next-line no-console
    console.warn(`skipping source cross-check: set LINODE_PROVIDER_GIT_DIR to a git copy of linode/terraform-provider-linode holding ${TAG}${MIRROR ? ` (${MIRROR} is not there)` : ""}`);
  }
  const maybe = haveMirror ? test : test.skip;

  const files: Record<string, string[]> = {
    linode_instance: ["linode/instance/schema_resource.go"],
    linode_firewall: ["linode/firewall/framework_schema_resource.go"],
    linode_firewall_device: ["linode/firewalldevice/framework_resource_schema.go"],
    linode_sshkey: ["linode/sshkey/framework_resource_schema.go"],
    linode_vpc: ["linode/vpc/framework_schema_resource.go"],
    linode_vpc_subnet: ["linode/vpcsubnet/framework_schema_resource.go"],
  };

  function allNames(block: Block, into: Set<string>): Set<string> {
    for (const [n, a] of Object.entries(block.attributes ?? {})) {
      into.add(n);
      if (a.nested_type) allNames({ attributes: a.nested_type.attributes, description_kind: "plain" }, into);
      collectObjectKeys(a.type, into);
    }
    for (const [n, bt] of Object.entries(block.block_types ?? {})) {
      into.add(n);
      allNames(bt.block, into);
    }
    return into;
  }
  function collectObjectKeys(t: unknown, into: Set<string>): void {
    if (!Array.isArray(t)) return;
    if (t[0] === "object") {
      for (const [k, v] of Object.entries(t[1] as Record<string, unknown>)) {
        into.add(k);
        collectObjectKeys(v, into);
      }
    } else collectObjectKeys(t[1], into);
  }

  maybe("every schema key named in the Go source appears in the recorded resource", () => {
    const missing: string[] = [];
    for (const [res, paths] of Object.entries(files)) {
      const names = allNames(resources[res].block, new Set<string>());
      for (const p of paths) {
        const src = execFileSync("git", ["-C", MIRROR, "show", `${TAG}:${p}`], { encoding: "utf8" });
        // map keys in schema literals: `"name": {` (SDKv2) or `"name": schema.X{` / `"name": types.X` (framework)
        for (const m of src.matchAll(/^\s*"([a-z0-9_]+)":\s*(?:\{|schema\.\w+\{|types\.\w+)/gm)) {
          if (!names.has(m[1])) missing.push(`${res}: ${m[1]} (${p})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  maybe("ForceNew / RequiresReplace() counts in the source match requires_replace", () => {
    const count = (p: string, re: RegExp) =>
      (execFileSync("git", ["-C", MIRROR, "show", `${TAG}:${p}`], { encoding: "utf8" }).match(re) ?? []).length;
    expect(meta.requires_replace.linode_instance).toHaveLength(count(files.linode_instance[0], /ForceNew:\s*true/g));
    for (const res of RESOURCES.filter((r) => r !== "linode_instance")) {
      expect({ res, n: meta.requires_replace[res].length }).toEqual({ res, n: count(files[res][0], /\.RequiresReplace\(\)/g) });
    }
  });
});

describe("cdktf can consume the schema", () => {
  test("generateProviderBindingsFromSchema emits bindings that type-check", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "linode-schema-"));
    try {
      // Generate in a child node so its environment can be made offline and quiet: @cdktf/commons runs
      // `terraform version` on load, which inherits the real environment, not jest's sandboxed copy.
      const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1" };
      if (env.TF_CLI_CONFIG_FILE && !fs.existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
      const script = [
        'const { generateProviderBindingsFromSchema } = require("@cdktf/provider-generator");',
        'const schema = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));',
        "generateProviderBindingsFromSchema(process.argv[2], schema).catch((e) => { console.error(e); process.exit(1); });",
      ].join("\n");
      execFileSync(process.execPath, ["-e", script, schemaFile, dir], { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] });

      const base = path.join(dir, "providers", "linode");
      for (const sub of ["instance", "firewall", "firewall-device", "vpc", "vpc-subnet", "sshkey", "provider"]) {
        expect(fs.existsSync(path.join(base, sub, "index.ts"))).toBe(true);
      }
      const inst = fs.readFileSync(path.join(base, "instance", "index.ts"), "utf8");
      expect(inst).toContain('public static readonly tfResourceType = "linode_instance"');
      expect(inst).toMatch(/readonly region: string;/);
      expect(inst).toMatch(/readonly rootPass\?: string;/);

      // Compile the generated code against this project's cdktf to prove the binding is sound.
      const program = ts.createProgram([path.join(base, "index.ts")], {
        noEmit: true,
        strict: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2020,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        baseUrl: path.join(root, "node_modules"),
        types: [],
      });
      // the generated code imports cdktf; make sure the installed core was really resolved, not silently missing
      const coreDir = installedCore().dir + path.sep;
      expect(program.getSourceFiles().some((f) => path.resolve(f.fileName).startsWith(coreDir))).toBe(true);
      const diags = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diags).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});
