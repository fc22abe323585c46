/**
 * Synth-time input checks shared by constructs. Each throws a ValidationError whose message starts
 * with the field's path and says what is allowed, so bad input stops `cdktf synth`, never `apply`.
 */
import { LINODE_REGIONS, findRegion } from "../catalog/regions";

export class ValidationError extends Error {
  constructor(
    public readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = "ValidationError";
  }
}

export function fail(field: string, detail: string): never {
  throw new ValidationError(field, detail);
}

const show = (v: unknown) => JSON.stringify(v);

export function requireRegion(field: string, slug: string): void {
  if (typeof slug !== "string" || !findRegion(slug)) {
    fail(field, `unknown Linode region ${show(slug)}; valid regions: ${LINODE_REGIONS.map((r) => r.slug).join(", ")}`);
  }
}

export function requireNonEmpty<T>(field: string, list: readonly T[] | undefined): asserts list is readonly T[] {
  if (!Array.isArray(list) || list.length === 0) fail(field, "must be a non-empty list");
}

export function requireUnique(field: string, list: readonly string[]): void {
  const seen = new Set<string>();
  for (const item of list) {
    if (seen.has(item)) fail(field, `${show(item)} appears more than once; each entry must be unique`);
    seen.add(item);
  }
}

/** Linode labels: 3-64 chars of [A-Za-z0-9._-], alphanumeric at both ends, no doubled -, _ or . */
export const LINODE_LABEL_RULE = "3-64 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit, with no '--', '__' or '..'";
export function requireLinodeLabel(field: string, label: string): void {
  const ok =
    typeof label === "string" &&
    label.length >= 3 &&
    label.length <= 64 &&
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(label) &&
    !/--|__|\.\./.test(label);
  if (!ok) fail(field, `${show(label)} is not a valid Linode label (${LINODE_LABEL_RULE})`);
}

/** Tailnet/system hostnames: one DNS label, lower case, 1-63 chars. */
export const HOSTNAME_RULE = "1-63 lower-case letters, digits and '-', not starting or ending with '-'";
export function requireHostname(field: string, name: string): void {
  if (typeof name !== "string" || !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    fail(field, `${show(name)} is not a valid hostname (${HOSTNAME_RULE})`);
  }
}

/** Tailscale ACL tags: `tag:` then a letter, then letters, digits and '-'. */
export const TAG_RULE = "'tag:' followed by a letter and then letters, digits or '-'";
export function requireTailscaleTag(field: string, tag: string): void {
  if (typeof tag !== "string" || !/^tag:[A-Za-z][A-Za-z0-9-]*$/.test(tag)) {
    fail(field, `${show(tag)} is not a valid Tailscale tag (${TAG_RULE})`);
  }
}

/** IPv4 or IPv6 CIDR with the host bits clear, e.g. 203.0.113.0/24 or 2001:db8::/32. */
export function requireCidr(field: string, cidr: string): void {
  if (!parseCidr(cidr)) {
    fail(field, `${show(cidr)} is not a CIDR block (an IPv4 or IPv6 network such as 203.0.113.0/24 or 2001:db8::/32, host bits zero)`);
  }
}

export function parseCidr(cidr: string): { version: 4 | 6; bits: bigint; prefix: number } | undefined {
  if (typeof cidr !== "string") return undefined;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return undefined;
  const prefix = Number(m[2]);
  const v4 = parseIPv4(m[1]);
  if (v4 !== undefined) {
    if (prefix > 32 || (prefix < 32 && v4 & ((1n << BigInt(32 - prefix)) - 1n))) return undefined;
    return { version: 4, bits: v4, prefix };
  }
  const v6 = parseIPv6(m[1]);
  if (v6 !== undefined) {
    if (prefix > 128 || (prefix < 128 && v6 & ((1n << BigInt(128 - prefix)) - 1n))) return undefined;
    return { version: 6, bits: v6, prefix };
  }
  return undefined;
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(s) || (s.match(/::/g) ?? []).length > 1) return undefined;
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  if (tail === undefined && h.length !== 8) return undefined;
  if (tail !== undefined && h.length + t.length > 7) return undefined;
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Linode plan IDs such as g6-standard-8, g6-nanode-1, g7-highmem-2, g1-gpu-rtx6000-1. */
export const INSTANCE_TYPE_RULE = "a Linode plan ID like 'g6-standard-2' or 'g6-nanode-1' (g<generation>-<class>-<size>)";
export function requireInstanceType(field: string, type: string): void {
  if (typeof type !== "string" || !/^g\d+-[a-z0-9]+(?:-[a-z0-9]+)*-\d+$/.test(type)) {
    fail(field, `${show(type)} is not ${INSTANCE_TYPE_RULE}`);
  }
}

export function requireIntegerInRange(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(field, `${show(value)} must be a whole number from ${min} to ${max}`);
  }
}

export function requireOneOf<T extends string>(field: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) fail(field, `${show(value)} is not one of ${allowed.map(show).join(", ")}`);
}
