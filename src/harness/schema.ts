/**
 * Recorded provider schemas (`terraform providers schema -json` output, one provider per file)
 * and their side-car metadata, plus the conversions the offline server needs: the value type a
 * block implies, and the protocol's Schema message.
 */
import * as fs from "fs";
import * as path from "path";
import { CtyType } from "./cty";

export interface JsonAttribute {
  type?: CtyType;
  nested_type?: JsonNestedType;
  description?: string;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  write_only?: boolean;
}

export interface JsonNestedType {
  attributes: Record<string, JsonAttribute>;
  nesting_mode: "single" | "list" | "set" | "map";
}

export interface JsonBlockType {
  nesting_mode: "single" | "list" | "set" | "map" | "group";
  block: JsonBlock;
  min_items?: number;
  max_items?: number;
}

export interface JsonBlock {
  attributes?: Record<string, JsonAttribute>;
  block_types?: Record<string, JsonBlockType>;
  description?: string;
  deprecated?: boolean;
}

export interface JsonSchema {
  version?: number;
  block: JsonBlock;
}

export interface JsonProviderSchema {
  provider?: JsonSchema;
  resource_schemas?: Record<string, JsonSchema>;
  data_source_schemas?: Record<string, JsonSchema>;
  ephemeral_resource_schemas?: Record<string, JsonSchema>;
}

/** Side-car facts recorded next to a schema (`schemas/<name>.meta.json`). */
export interface ProviderMeta {
  source?: string;
  version?: string;
  /** Resource type → dot-separated attribute paths whose change forces replacement. */
  requires_replace?: Record<string, string[]>;
  /** Resource type → paths that force replacement only under some condition (not simulated). */
  requires_replace_conditional?: Record<string, unknown>;
  /** Resource type → dot-separated path → default a computed attribute takes when config is null. */
  defaults?: Record<string, Record<string, unknown>>;
  /** Resource type → attributes that keep their prior value in update plans (framework resources). */
  use_state_for_unknown?: Record<string, string[]>;
}

/** One provider the offline server serves. */
export interface RecordedProvider {
  /** File stem, e.g. `linode`. */
  readonly name: string;
  /** Fully qualified address, e.g. `registry.terraform.io/linode/linode`. */
  readonly address: string;
  readonly schema: JsonProviderSchema;
  readonly meta: ProviderMeta;
}

export interface LoadSchemasProps {
  /** Directory holding `<name>.json` and optional `<name>.meta.json`. */
  readonly dir: string;
  /** Only load these file stems (default: every schema file in the directory). */
  readonly only?: readonly string[];
}

/** Loads every `<name>.json` schema file (not `*.meta.json`) in a directory, sorted by name. */
export function loadRecordedProviders(props: LoadSchemasProps): RecordedProvider[] {
  if (!fs.existsSync(props.dir)) throw new Error(`schema dir ${props.dir} does not exist`);
  const stems = fs
    .readdirSync(props.dir)
    .filter((f) => f.endsWith(".json") && !f.endsWith(".meta.json"))
    .map((f) => f.slice(0, -".json".length))
    .filter((stem) => !props.only || props.only.includes(stem))
    .sort();
  const out: RecordedProvider[] = [];
  for (const stem of stems) {
    const doc = JSON.parse(fs.readFileSync(path.join(props.dir, `${stem}.json`), "utf8")) as {
      provider_schemas?: Record<string, JsonProviderSchema>;
    };
    const entries = Object.entries(doc.provider_schemas ?? {});
    if (entries.length !== 1) {
      throw new Error(`${stem}.json: provider_schemas must hold exactly one provider, found ${entries.length}`);
    }
    const metaPath = path.join(props.dir, `${stem}.meta.json`);
    const meta = fs.existsSync(metaPath) ? (JSON.parse(fs.readFileSync(metaPath, "utf8")) as ProviderMeta) : {};
    const [address, schema] = entries[0];
    out.push({ name: stem, address: normaliseAddress(address), schema, meta });
  }
  return out;
}

/** `linode/linode` → `registry.terraform.io/linode/linode`; full addresses pass through. */
export function normaliseAddress(address: string): string {
  const parts = address.split("/");
  if (parts.length === 3) return address;
  if (parts.length === 2) return `registry.terraform.io/${address}`;
  throw new Error(`provider address ${JSON.stringify(address)} must be [host/]namespace/type`);
}

// ---------------------------------------------------------------------------------------------
// implied types

export function attributeType(attr: JsonAttribute): CtyType {
  if (attr.nested_type) {
    const atys: Record<string, CtyType> = {};
    for (const [n, a] of Object.entries(attr.nested_type.attributes)) atys[n] = attributeType(a);
    const obj: CtyType = ["object", atys];
    switch (attr.nested_type.nesting_mode) {
      case "single":
        return obj;
      case "list":
      case "set":
      case "map":
        return [attr.nested_type.nesting_mode, obj];
      default:
        throw new Error(`unknown nesting mode ${String(attr.nested_type.nesting_mode)}`);
    }
  }
  if (attr.type === undefined) throw new Error("attribute has neither type nor nested_type");
  return attr.type;
}

/** The object type a block's values have (attributes plus nested blocks). */
export function blockType(block: JsonBlock): CtyType {
  const atys: Record<string, CtyType> = {};
  for (const [n, a] of Object.entries(block.attributes ?? {})) atys[n] = attributeType(a);
  for (const [n, bt] of Object.entries(block.block_types ?? {})) {
    const inner = blockType(bt.block);
    switch (bt.nesting_mode) {
      case "single":
      case "group":
        atys[n] = inner;
        break;
      case "list":
      case "set":
      case "map":
        atys[n] = [bt.nesting_mode, inner];
        break;
      default:
        throw new Error(`unknown block nesting mode ${String(bt.nesting_mode)}`);
    }
  }
  return ["object", atys];
}

// ---------------------------------------------------------------------------------------------
// protocol Schema messages (plain objects for @grpc/proto-loader)

const BLOCK_NESTING: Record<string, number> = { single: 1, list: 2, set: 3, map: 4, group: 5 };
const OBJECT_NESTING: Record<string, number> = { single: 1, list: 2, set: 3, map: 4 };

function attributeMessage(name: string, a: JsonAttribute): Record<string, unknown> {
  const msg: Record<string, unknown> = {
    name,
    required: !!a.required,
    optional: !!a.optional,
    computed: !!a.computed,
    sensitive: !!a.sensitive,
    deprecated: !!a.deprecated,
    write_only: !!a.write_only,
  };
  if (a.nested_type) {
    msg.nested_type = {
      attributes: Object.keys(a.nested_type.attributes)
        .sort()
        .map((n) => attributeMessage(n, a.nested_type!.attributes[n])),
      nesting: OBJECT_NESTING[a.nested_type.nesting_mode],
    };
  } else {
    msg.type = Buffer.from(JSON.stringify(a.type));
  }
  return msg;
}

function blockMessage(block: JsonBlock, version: number): Record<string, unknown> {
  return {
    version,
    deprecated: !!block.deprecated,
    attributes: Object.keys(block.attributes ?? {})
      .sort()
      .map((n) => attributeMessage(n, block.attributes![n])),
    block_types: Object.keys(block.block_types ?? {})
      .sort()
      .map((n) => {
        const bt = block.block_types![n];
        return {
          type_name: n,
          block: blockMessage(bt.block, 0),
          nesting: BLOCK_NESTING[bt.nesting_mode],
          min_items: bt.min_items ?? 0,
          max_items: bt.max_items ?? 0,
        };
      }),
  };
}

export function schemaMessage(s: JsonSchema | undefined): Record<string, unknown> {
  const schema = s ?? { version: 0, block: {} };
  return { version: schema.version ?? 0, block: blockMessage(schema.block, schema.version ?? 0) };
}

function schemaMap(m: Record<string, JsonSchema> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(m ?? {}).sort()) out[k] = schemaMessage(m![k]);
  return out;
}

/** GetProviderSchema.Response body for a recorded provider. */
export function providerSchemaResponse(p: RecordedProvider): Record<string, unknown> {
  return {
    provider: schemaMessage(p.schema.provider),
    resource_schemas: schemaMap(p.schema.resource_schemas),
    data_source_schemas: schemaMap(p.schema.data_source_schemas),
    ephemeral_resource_schemas: schemaMap(p.schema.ephemeral_resource_schemas),
    functions: {},
    diagnostics: [],
    server_capabilities: { plan_destroy: false, get_provider_schema_optional: false, move_resource_state: false },
  };
}

/**
 * A copy of a provider with one resource type's top-level block rewritten by `mutate` (used by the
 * tests to serve a deliberately weakened schema and show the schema is what makes validate fail).
 */
export function mutateResourceSchema(
  p: RecordedProvider,
  resourceType: string,
  mutate: (block: JsonBlock) => JsonBlock,
): RecordedProvider {
  const rs = p.schema.resource_schemas?.[resourceType];
  if (!rs) throw new Error(`mutateResourceSchema: ${p.address} has no resource type ${resourceType}`);
  const block = mutate(JSON.parse(JSON.stringify(rs.block)) as JsonBlock);
  return {
    ...p,
    schema: { ...p.schema, resource_schemas: { ...p.schema.resource_schemas, [resourceType]: { ...rs, block } } },
  };
}
