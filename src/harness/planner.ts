/**
 * What the offline provider does with values: plan like a real provider (computed attributes
 * Terraform has no value for become unknown, replacement-forcing attributes are reported), and
 * "apply" by filling unknowns with deterministic placeholders so a state exists afterwards.
 */
import { createHash } from "crypto";
import { CtyType, CtyValue, ctyEqual, isDynamic, isObjectValue, isUnknown, typeKind, UNKNOWN } from "./cty";
import { blockType, JsonAttribute, JsonBlock } from "./schema";

// ---------------------------------------------------------------------------------------------
// planning

/**
 * Planned state from Terraform's proposed new state. Core has already merged config and prior
 * state (prior values kept for computed attributes the config leaves null), so a computed
 * attribute still null here has no value yet: on create, or when it never had one. Those become
 * unknown, recursively through nested blocks and nested attribute types.
 */
export function planBlockValue(block: JsonBlock, proposed: CtyValue): CtyValue {
  if (proposed === null || isUnknown(proposed) || !isObjectValue(proposed)) return proposed;
  const out: Record<string, CtyValue> = { ...proposed };
  for (const [name, attr] of Object.entries(block.attributes ?? {})) {
    out[name] = planAttribute(attr, proposed[name] ?? null);
  }
  for (const [name, bt] of Object.entries(block.block_types ?? {})) {
    out[name] = mapNested(bt.nesting_mode, proposed[name] ?? null, (el) => planBlockValue(bt.block, el));
  }
  return out;
}

function planAttribute(attr: JsonAttribute, v: CtyValue): CtyValue {
  if (v === null) return attr.computed ? UNKNOWN : null;
  if (attr.nested_type && !isUnknown(v)) {
    const nested: JsonBlock = { attributes: attr.nested_type.attributes };
    return mapNested(attr.nested_type.nesting_mode, v, (el) => planBlockValue(nested, el));
  }
  return v;
}

/** Applies `f` to each object of a nested value according to its nesting mode. */
function mapNested(mode: string, v: CtyValue, f: (el: CtyValue) => CtyValue): CtyValue {
  if (v === null || isUnknown(v)) return v;
  switch (mode) {
    case "single":
    case "group":
      return f(v);
    case "list":
    case "set":
      return (v as CtyValue[]).map(f);
    case "map": {
      const out: Record<string, CtyValue> = {};
      for (const [k, el] of Object.entries(v as Record<string, CtyValue>)) out[k] = f(el);
      return out;
    }
    default:
      throw new Error(`unknown nesting mode ${mode}`);
  }
}

/** One step of an AttributePath as the protocol encodes it. */
export type PathStep = { attribute_name: string } | { element_key_int: number } | { element_key_string: string };

/**
 * Concrete paths (with indices where a list or map sits on the way) whose value differs between
 * prior and planned state, for each dot-separated replacement-forcing path. Inside a set the set
 * itself is reported, since set elements cannot be addressed.
 */
export function requiresReplacePaths(
  block: JsonBlock,
  prior: CtyValue,
  planned: CtyValue,
  dottedPaths: readonly string[],
): PathStep[][] {
  if (prior === null || planned === null) return [];
  const type = blockType(block);
  const out: PathStep[][] = [];
  const seen = new Set<string>();
  for (const dotted of dottedPaths) {
    for (const p of changedPaths(type, prior, planned, dotted.split("."), [])) {
      const key = JSON.stringify(p);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(p);
      }
    }
  }
  return out;
}

function changedPaths(type: CtyType, a: CtyValue, b: CtyValue, segs: string[], at: PathStep[]): PathStep[][] {
  if (segs.length === 0) return ctyEqual(a, b, type) ? [] : [at];
  const { kind, param } = typeKind(type);
  if (kind === "object") {
    const atys = param as Record<string, CtyType>;
    const [head, ...rest] = segs;
    if (!(head in atys)) return []; // path not in this schema version: nothing to compare
    const av = isObjectValue(a) ? a[head] ?? null : null;
    const bv = isObjectValue(b) ? b[head] ?? null : null;
    if (isUnknown(a) || isUnknown(b)) return [[...at, { attribute_name: head }]];
    return changedPaths(atys[head], av, bv, rest, [...at, { attribute_name: head }]);
  }
  if (kind === "list") {
    if (!Array.isArray(a) || !Array.isArray(b)) return ctyEqual(a, b, type) ? [] : [at];
    const n = Math.max(a.length, b.length);
    const out: PathStep[][] = [];
    for (let i = 0; i < n; i++) {
      out.push(...changedPaths(param as CtyType, a[i] ?? null, b[i] ?? null, segs, [...at, { element_key_int: i }]));
    }
    return out;
  }
  if (kind === "map") {
    if (!isObjectValue(a) || !isObjectValue(b)) return ctyEqual(a, b, type) ? [] : [at];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    const out: PathStep[][] = [];
    for (const k of keys) {
      out.push(...changedPaths(param as CtyType, a[k] ?? null, b[k] ?? null, segs, [...at, { element_key_string: k }]));
    }
    return out;
  }
  if (kind === "set") {
    const project = (v: CtyValue): string[] =>
      Array.isArray(v) ? v.map((el) => JSON.stringify(projectPath(el, segs))).sort() : [String(v === null ? "null" : "?")];
    const pa = project(a);
    const pb = project(b);
    const known = !isUnknown(a) && !isUnknown(b) && !JSON.stringify([pa, pb]).includes('"__unknown__"');
    return known && JSON.stringify(pa) === JSON.stringify(pb) ? [] : [at];
  }
  return ctyEqual(a, b, type) ? [] : [at];
}

/** The values reached by following attribute names through objects and collections. */
function projectPath(v: CtyValue, segs: string[]): unknown {
  if (isUnknown(v)) return "__unknown__";
  if (segs.length === 0 || v === null) return v === null ? null : plain(v);
  if (Array.isArray(v)) return v.map((el) => projectPath(el, segs));
  if (isObjectValue(v)) return projectPath(v[segs[0]] ?? null, segs.slice(1));
  return null;
}

function plain(v: CtyValue): unknown {
  if (isUnknown(v)) return "__unknown__";
  if (isDynamic(v)) return { t: v.dynamicType, v: plain(v.value) };
  if (Array.isArray(v)) return v.map(plain);
  if (isObjectValue(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = plain(v[k]);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// placeholders

/** Which documentation address range fake IPv4 addresses come from. */
export type AddressFlavour = "test-net" | "cgnat";

export interface PlaceholderProps {
  /** Resource or data source type, e.g. `linode_instance`. */
  readonly typeName: string;
  /** Value that identifies the object stably (its config with unknowns left out). */
  readonly stableKey: string;
  /** `cgnat` → 100.64.0.0/10 (tailnet-like addresses), `test-net` → 192.0.2.0/24 (default). */
  readonly addresses?: AddressFlavour;
}

function digest(...parts: string[]): Buffer {
  return createHash("sha256").update(parts.join("\u0000")).digest();
}

const IPV4_NAME = /(^|_)(ip|ips|ipv4|ip_address|ip_addresses|addresses|address|gateway|public_ip|private_ip)$|ipv4|ip_address/;
const IPV6_NAME = /ipv6/;

function placeholderString(props: PlaceholderProps, path: string, name: string): string {
  const h = digest(props.typeName, props.stableKey, path);
  if (IPV6_NAME.test(name)) return `2001:db8::${h.readUInt16BE(0).toString(16)}`;
  if (IPV4_NAME.test(name)) {
    if (props.addresses === "cgnat") {
      // 100.64.0.0/10: second octet 64..127.
      return `100.${64 + (h[0] & 63)}.${h[1]}.${1 + (h[2] % 254)}`;
    }
    return `192.0.2.${1 + (h[0] % 254)}`;
  }
  return `offline-${h.toString("hex").slice(0, 12)}`;
}

/** A known value of `type` standing in for an unknown one; `name` is the attribute it belongs to. */
export function placeholderValue(type: CtyType, props: PlaceholderProps, path: string, name: string): CtyValue {
  const { kind, param } = typeKind(type);
  switch (kind) {
    case "string":
      return placeholderString(props, path, name);
    case "number":
      return 0;
    case "bool":
      return false;
    case "dynamic":
      // Never null: a null computed value would be planned unknown again on every plan.
      return { dynamicType: "string", value: placeholderString(props, path, name) };
    case "list":
    case "set": {
      const elem = param as CtyType;
      // IP lists get one address, so `ipv4[0]` works downstream; other collections start empty.
      if (elem === "string" && (IPV4_NAME.test(name) || IPV6_NAME.test(name))) {
        return [placeholderString(props, `${path}[0]`, name)];
      }
      return [];
    }
    case "map":
      return {};
    case "tuple":
      return (param as CtyType[]).map((t, i) => placeholderValue(t, props, `${path}[${i}]`, name));
    case "object": {
      const out: Record<string, CtyValue> = {};
      for (const [n, t] of Object.entries(param as Record<string, CtyType>)) {
        out[n] = placeholderValue(t, props, `${path}.${n}`, n);
      }
      return out;
    }
    default:
      throw new Error(`unsupported cty type kind ${kind}`);
  }
}

/** Replaces every unknown inside `v` (of `type`) by a placeholder; known values stay as planned. */
export function fillUnknowns(v: CtyValue, type: CtyType, props: PlaceholderProps, path = "", name = ""): CtyValue {
  if (isUnknown(v)) return placeholderValue(type, props, path, name);
  if (v === null) return null;
  const { kind, param } = typeKind(type);
  switch (kind) {
    case "dynamic": {
      if (!isDynamic(v)) return v;
      return { dynamicType: v.dynamicType, value: fillUnknowns(v.value, v.dynamicType, props, path, name) };
    }
    case "list":
    case "set":
      return (v as CtyValue[]).map((el, i) => fillUnknowns(el, param as CtyType, props, `${path}[${i}]`, name));
    case "tuple":
      return (v as CtyValue[]).map((el, i) => fillUnknowns(el, (param as CtyType[])[i], props, `${path}[${i}]`, name));
    case "map": {
      const out: Record<string, CtyValue> = {};
      for (const [k, el] of Object.entries(v as Record<string, CtyValue>)) {
        out[k] = fillUnknowns(el, param as CtyType, props, `${path}[${JSON.stringify(k)}]`, name);
      }
      return out;
    }
    case "object": {
      const out: Record<string, CtyValue> = {};
      const obj = v as Record<string, CtyValue>;
      for (const [n, t] of Object.entries(param as Record<string, CtyType>)) {
        out[n] = fillUnknowns(obj[n] ?? null, t, props, `${path}.${n}`, n);
      }
      return out;
    }
    default:
      return v;
  }
}

/** Stable identity of a config value: its known parts, canonically ordered. */
export function stableKeyOf(config: CtyValue): string {
  return JSON.stringify(plain(config));
}

/**
 * Data source read: computed attributes the config leaves null get placeholders, like a create
 * plan immediately applied.
 */
export function readDataSourceValue(block: JsonBlock, config: CtyValue, props: Omit<PlaceholderProps, "stableKey">): CtyValue {
  const planned = planBlockValue(block, config);
  return fillUnknowns(planned, blockType(block), { ...props, stableKey: stableKeyOf(config) });
}
