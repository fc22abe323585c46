/**
 * Just enough of cty (Terraform's type system) to move values across the plugin protocol:
 * types in their JSON form (exactly the bytes `terraform providers schema -json` prints and the
 * protocol's Schema.Attribute.type carries), msgpack with the unknown-value extension, and the
 * JSON state format used by UpgradeResourceState.
 */
import { decode, encode, ExtData } from "@msgpack/msgpack";

/** cty type in JSON form: "string" | "number" | "bool" | "dynamic" | ["list", T] | ["object", {...}] ... */
export type CtyType = string | [string, unknown] | [string, unknown, unknown];

/** Marker for a value Terraform does not know yet ("(known after apply)"). */
export const UNKNOWN: unique symbol = Symbol("cty.unknown");
export type Unknown = typeof UNKNOWN;

/** A value whose type is only known at run time (attributes typed `dynamic`). */
export interface DynamicValueOf {
  readonly dynamicType: CtyType;
  readonly value: CtyValue;
}

export type CtyValue =
  | null
  | string
  | number
  | boolean
  | Unknown
  | DynamicValueOf
  | CtyValue[]
  | { [key: string]: CtyValue };

export function isUnknown(v: unknown): v is Unknown {
  return v === UNKNOWN;
}

export function isDynamic(v: unknown): v is DynamicValueOf {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "dynamicType" in v && "value" in v && Object.keys(v).length === 2;
}

export function isObjectValue(v: CtyValue): v is { [key: string]: CtyValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isDynamic(v);
}

/** Splits a type into its kind and its parameter ("list" + element type, "object" + attribute map...). */
export function typeKind(t: CtyType): { kind: string; param?: unknown } {
  if (typeof t === "string") return { kind: t };
  if (!Array.isArray(t) || typeof t[0] !== "string") throw new Error(`invalid cty type: ${JSON.stringify(t)}`);
  return { kind: t[0], param: t[1] };
}

function attrTypes(t: CtyType): Record<string, CtyType> {
  return (typeKind(t).param ?? {}) as Record<string, CtyType>;
}

// ---------------------------------------------------------------------------------------------
// msgpack

const UNKNOWN_EXT_TYPE = 0;

/** Decodes a msgpack DynamicValue into a CtyValue, interpreting it against `type`. */
export function fromMsgpack(bytes: Uint8Array, type: CtyType): CtyValue {
  if (bytes.length === 0) return null;
  // Every msgpack extension Terraform emits stands for an unknown value (plain or refined).
  const raw = decode(bytes, { extensionCodec: undefined, useBigInt64: false });
  return interpretRaw(raw, type);
}

function interpretRaw(raw: unknown, type: CtyType): CtyValue {
  if (raw instanceof ExtData) return UNKNOWN;
  if (raw === null || raw === undefined) return null;
  const { kind, param } = typeKind(type);
  switch (kind) {
    case "string":
      return raw instanceof Uint8Array ? Buffer.from(raw).toString("utf8") : String(raw);
    case "number":
      // Big numbers travel as strings; keep them as they are.
      return typeof raw === "number" || typeof raw === "string" ? raw : Number(raw as never);
    case "bool":
      return Boolean(raw);
    case "dynamic": {
      if (!Array.isArray(raw) || raw.length !== 2) throw new Error("dynamic value must be a [type, value] pair");
      const typeBytes = raw[0] instanceof Uint8Array ? Buffer.from(raw[0]).toString("utf8") : String(raw[0]);
      const dynamicType = JSON.parse(typeBytes) as CtyType;
      return { dynamicType, value: interpretRaw(raw[1], dynamicType) };
    }
    case "list":
    case "set":
      return (raw as unknown[]).map((e) => interpretRaw(e, param as CtyType));
    case "tuple":
      return (raw as unknown[]).map((e, i) => interpretRaw(e, (param as CtyType[])[i]));
    case "map": {
      const out: Record<string, CtyValue> = {};
      for (const [k, v] of rawEntries(raw)) out[k] = interpretRaw(v, param as CtyType);
      return out;
    }
    case "object": {
      const atys = attrTypes(type);
      const out: Record<string, CtyValue> = {};
      for (const name of Object.keys(atys)) out[name] = null;
      for (const [k, v] of rawEntries(raw)) {
        if (!(k in atys)) throw new Error(`unsupported attribute ${JSON.stringify(k)} in msgpack object`);
        out[k] = interpretRaw(v, atys[k]);
      }
      return out;
    }
    default:
      throw new Error(`unsupported cty type kind ${kind}`);
  }
}

function rawEntries(raw: unknown): [string, unknown][] {
  if (raw instanceof Map) return [...raw.entries()].map(([k, v]) => [String(k), v]);
  return Object.entries(raw as Record<string, unknown>);
}

/** Encodes a CtyValue of `type` as msgpack the way cty does (objects carry every attribute). */
export function toMsgpack(value: CtyValue, type: CtyType): Uint8Array {
  return encode(toRaw(value, type), { ignoreUndefined: false, sortKeys: true });
}

function toRaw(value: CtyValue, type: CtyType): unknown {
  const { kind, param } = typeKind(type);
  if (kind === "dynamic" && value !== null && !isUnknown(value)) {
    if (!isDynamic(value)) throw new Error("value for a dynamic attribute must carry its type");
    return [Buffer.from(JSON.stringify(value.dynamicType)), toRaw(value.value, value.dynamicType)];
  }
  if (isUnknown(value)) return new ExtData(UNKNOWN_EXT_TYPE, new Uint8Array([0]));
  if (value === null) return null;
  switch (kind) {
    case "string":
    case "number":
    case "bool":
      return value;
    case "list":
    case "set":
      return (value as CtyValue[]).map((e) => toRaw(e, param as CtyType));
    case "tuple":
      return (value as CtyValue[]).map((e, i) => toRaw(e, (param as CtyType[])[i]));
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, CtyValue>)) out[k] = toRaw(v, param as CtyType);
      return out;
    }
    case "object": {
      const atys = attrTypes(type);
      const obj = value as Record<string, CtyValue>;
      const out: Record<string, unknown> = {};
      for (const name of Object.keys(atys)) out[name] = toRaw(obj[name] ?? null, atys[name]);
      return out;
    }
    default:
      throw new Error(`unsupported cty type kind ${kind}`);
  }
}

// ---------------------------------------------------------------------------------------------
// JSON (state format)

/**
 * Reads a value from Terraform's JSON state encoding, dropping attributes the type no longer has
 * and filling missing ones with null (what a provider without schema migrations does).
 */
export function fromStateJson(json: unknown, type: CtyType): CtyValue {
  if (json === null || json === undefined) return null;
  const { kind, param } = typeKind(type);
  switch (kind) {
    case "string":
      return typeof json === "string" ? json : String(json);
    case "number":
      return typeof json === "number" ? json : Number(json);
    case "bool":
      return typeof json === "boolean" ? json : json === "true";
    case "dynamic": {
      const d = json as { type: CtyType; value: unknown };
      return { dynamicType: d.type, value: fromStateJson(d.value, d.type) };
    }
    case "list":
    case "set":
      return (json as unknown[]).map((e) => fromStateJson(e, param as CtyType));
    case "tuple":
      return (json as unknown[]).map((e, i) => fromStateJson(e, (param as CtyType[])[i]));
    case "map": {
      const out: Record<string, CtyValue> = {};
      for (const [k, v] of Object.entries(json as Record<string, unknown>)) out[k] = fromStateJson(v, param as CtyType);
      return out;
    }
    case "object": {
      const atys = attrTypes(type);
      const src = json as Record<string, unknown>;
      const out: Record<string, CtyValue> = {};
      for (const name of Object.keys(atys)) out[name] = fromStateJson(src[name], atys[name]);
      return out;
    }
    default:
      throw new Error(`unsupported cty type kind ${kind}`);
  }
}

// ---------------------------------------------------------------------------------------------
// comparison

/** Canonical string of a known value, order-insensitive for sets and maps. */
function canonical(v: CtyValue, type: CtyType): string {
  if (isUnknown(v)) return "?";
  if (v === null) return "null";
  const { kind, param } = typeKind(type);
  switch (kind) {
    case "dynamic": {
      const d = v as DynamicValueOf;
      return `dyn(${JSON.stringify(d.dynamicType)},${canonical(d.value, d.dynamicType)})`;
    }
    case "list":
      return `[${(v as CtyValue[]).map((e) => canonical(e, param as CtyType)).join(",")}]`;
    case "tuple":
      return `[${(v as CtyValue[]).map((e, i) => canonical(e, (param as CtyType[])[i])).join(",")}]`;
    case "set":
      return `{${(v as CtyValue[]).map((e) => canonical(e, param as CtyType)).sort().join(",")}}`;
    case "map":
      return `{${Object.keys(v as object)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, CtyValue>)[k], param as CtyType)}`)
        .join(",")}}`;
    case "object": {
      const atys = attrTypes(type);
      return `{${Object.keys(atys)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, CtyValue>)[k] ?? null, atys[k])}`)
        .join(",")}}`;
    }
    default:
      return JSON.stringify(v);
  }
}

/** Deep equality of two values of `type`; false whenever either side holds an unknown. */
export function ctyEqual(a: CtyValue, b: CtyValue, type: CtyType): boolean {
  if (!isWhollyKnown(a) || !isWhollyKnown(b)) return false;
  return canonical(a, type) === canonical(b, type);
}

/** True when the value contains no unknowns anywhere. */
export function isWhollyKnown(v: CtyValue): boolean {
  if (isUnknown(v)) return false;
  if (v === null || typeof v !== "object") return true;
  if (isDynamic(v)) return isWhollyKnown(v.value);
  if (Array.isArray(v)) return v.every(isWhollyKnown);
  return Object.values(v).every(isWhollyKnown);
}
