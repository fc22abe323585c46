/**
 * What the offline provider does with values: plan like a real provider (computed attributes
 * Terraform has no value for become unknown, replacement-forcing attributes are reported), and
 * "apply" by filling unknowns with deterministic placeholders so a state exists afterwards.
 */
import { createHash } from "crypto";
import {
  CtyType,
  CtyValue,
  ctyEqual,
  fromStateJson,
  isDynamic,
  isObjectValue,
  isUnknown,
  isWhollyKnown,
  typeKind,
  UNKNOWN,
} from "./cty";
import { attributeType, blockType, JsonAttribute, JsonBlock } from "./schema";

// ---------------------------------------------------------------------------------------------
// planning

/** Per resource type planning facts from the schema side-car (`schemas/<name>.meta.json`). */
export interface PlanRules {
  /** Dot-separated paths whose change forces replacement. */
  readonly requiresReplace?: readonly string[];
  /**
   * Paths that force replacement only when the value really changes: null map entries are
   * ignored, null ≡ empty map ≡ "", and an unknown planned value does not replace.
   */
  readonly requiresReplaceConditional?: readonly string[];
  /** Dot-separated path → value a computed attribute takes when the config leaves it null. */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /**
   * Framework-style resources: computed attributes the config leaves null become unknown in an
   * update plan, except those listed here (UseStateForUnknown). Undefined → SDKv2 style: prior
   * values of computed attributes are kept on update.
   */
  readonly useStateForUnknown?: readonly string[];
}

/**
 * Planned state from Terraform's proposed new state. Core has already merged config and prior
 * state (prior values kept for computed attributes the config leaves null), so a computed
 * attribute still null here has no value yet: on create, or when it never had one. Those take
 * their recorded default or become unknown, recursively through nested blocks and nested
 * attribute types.
 */
export function planBlockValue(
  block: JsonBlock,
  proposed: CtyValue,
  defaults: Readonly<Record<string, unknown>> = {},
  prefix = "",
): CtyValue {
  if (proposed === null || isUnknown(proposed) || !isObjectValue(proposed)) return proposed;
  const out: Record<string, CtyValue> = { ...proposed };
  for (const [name, attr] of Object.entries(block.attributes ?? {})) {
    out[name] = planAttribute(attr, proposed[name] ?? null, defaults, `${prefix}${name}`);
  }
  for (const [name, bt] of Object.entries(block.block_types ?? {})) {
    out[name] = mapNested(bt.nesting_mode, proposed[name] ?? null, (el) =>
      planBlockValue(bt.block, el, defaults, `${prefix}${name}.`),
    );
  }
  return out;
}

function planAttribute(attr: JsonAttribute, v: CtyValue, defaults: Readonly<Record<string, unknown>>, at: string): CtyValue {
  if (v === null) {
    if (!attr.computed) return null; // non-computed planned values must equal config
    return at in defaults ? fromStateJson(defaults[at], attributeType(attr)) : UNKNOWN;
  }
  if (attr.nested_type && !isUnknown(v)) {
    const nested: JsonBlock = { attributes: attr.nested_type.attributes };
    return mapNested(attr.nested_type.nesting_mode, v, (el) => planBlockValue(nested, el, defaults, `${at}.`));
  }
  return v;
}

/**
 * Full planning step for one managed resource: planned state plus the replacement-forcing paths
 * that changed. `prior === null` is a create; `proposed === null` a destroy.
 */
export function planResource(
  block: JsonBlock,
  prior: CtyValue,
  proposed: CtyValue,
  config: CtyValue,
  rules: PlanRules = {},
): { planned: CtyValue; requiresReplace: PathStep[][] } {
  if (proposed === null) return { planned: null, requiresReplace: [] };
  let planned = planBlockValue(block, proposed, rules.defaults ?? {});
  const type = blockType(block);
  if (rules.useStateForUnknown && prior !== null && isObjectValue(planned) && !ctyEqual(prior, proposed, type)) {
    const keep = new Set(rules.useStateForUnknown);
    const cfg = isObjectValue(config) ? config : {};
    const next: Record<string, CtyValue> = { ...planned };
    for (const [name, attr] of Object.entries(block.attributes ?? {})) {
      if (attr.computed && (cfg[name] ?? null) === null && !keep.has(name) && !(name in (rules.defaults ?? {}))) {
        next[name] = UNKNOWN;
      }
    }
    planned = next;
  }
  const strict = requiresReplacePaths(block, prior, planned, rules.requiresReplace ?? []);
  const lenient = requiresReplacePaths(block, prior, planned, rules.requiresReplaceConditional ?? [], true);
  const seen = new Set(strict.map((p) => JSON.stringify(p)));
  return { planned, requiresReplace: [...strict, ...lenient.filter((p) => !seen.has(JSON.stringify(p)))] };
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
  lenient = false,
): PathStep[][] {
  if (prior === null || planned === null) return [];
  const type = blockType(block);
  const out: PathStep[][] = [];
  const seen = new Set<string>();
  for (const dotted of dottedPaths) {
    for (const p of changedPaths(type, prior, planned, dotted.split("."), [], lenient)) {
      const key = JSON.stringify(p);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(p);
      }
    }
  }
  return out;
}

function changedPaths(type: CtyType, a: CtyValue, b: CtyValue, segs: string[], at: PathStep[], lenient: boolean): PathStep[][] {
  if (segs.length === 0) {
    if (lenient) return isWhollyKnown(b) && !ctyEqual(relaxed(a), relaxed(b), type) ? [at] : [];
    return ctyEqual(a, b, type) ? [] : [at];
  }
  const { kind, param } = typeKind(type);
  if (kind === "object") {
    const atys = param as Record<string, CtyType>;
    const [head, ...rest] = segs;
    if (!(head in atys)) return []; // path not in this schema version: nothing to compare
    const av = isObjectValue(a) ? a[head] ?? null : null;
    const bv = isObjectValue(b) ? b[head] ?? null : null;
    if (isUnknown(a) || isUnknown(b)) return [[...at, { attribute_name: head }]];
    return changedPaths(atys[head], av, bv, rest, [...at, { attribute_name: head }], lenient);
  }
  if (kind === "list") {
    if (!Array.isArray(a) || !Array.isArray(b)) return ctyEqual(a, b, type) ? [] : [at];
    const n = Math.max(a.length, b.length);
    const out: PathStep[][] = [];
    for (let i = 0; i < n; i++) {
      out.push(...changedPaths(param as CtyType, a[i] ?? null, b[i] ?? null, segs, [...at, { element_key_int: i }], lenient));
    }
    return out;
  }
  if (kind === "map") {
    if (!isObjectValue(a) || !isObjectValue(b)) return ctyEqual(a, b, type) ? [] : [at];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    const out: PathStep[][] = [];
    for (const k of keys) {
      out.push(
        ...changedPaths(param as CtyType, a[k] ?? null, b[k] ?? null, segs, [...at, { element_key_string: k }], lenient),
      );
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

/** Conditional-replacement view of a value: null map entries dropped, empty map and "" as null. */
function relaxed(v: CtyValue): CtyValue {
  if (v === "") return null;
  if (isObjectValue(v)) {
    const kept = Object.entries(v).filter(([, x]) => x !== null);
    return kept.length === 0 ? null : Object.fromEntries(kept);
  }
  return v;
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
  // Numeric strings: provider IDs are often numbers in disguise (linode_instance.firewall_id is a
  // number fed from linode_firewall.id, a string), and Terraform converts "123" but not "offline-…".
  if (name === "id" || name.endsWith("_id")) return String(100_000_000 + (h.readUInt32BE(0) % 900_000_000));
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
