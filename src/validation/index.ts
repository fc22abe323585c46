/**
 * Synth-time input checks shared by constructs. Each throws a ValidationError whose message starts
 * with the field's path and says what is allowed, so bad input stops `cdktf synth`, never `apply`.
 */
import { isIPv4, isIPv6 } from "net";
import { awsRegionCodes, awsZonesOf, findAwsRegion } from "../catalog/aws-regions";
import { findPlan, planIds } from "../catalog/plans";
import { findRegion, regionSlugs, regionsInCity } from "../catalog/regions";
import { didYouMean, naturalSort, sentences, suggestion } from "./suggest";

export { didYouMean, nearMisses, naturalSort, sentences, suggestion } from "./suggest";

export class ValidationError extends Error {
  constructor(
    public readonly field: string,
    public readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = "ValidationError";
  }

  /**
   * The message as the user should read it. cdktf rewrites `message` when the error is thrown while
   * it resolves a Lazy value ("Resolution error: …" plus a creation stack); field and detail stay.
   */
  get userMessage(): string {
    return `${this.field}: ${this.detail}`;
  }
}

export function fail(field: string, detail: string): never {
  throw new ValidationError(field, detail);
}

const show = (v: unknown) => JSON.stringify(v);

/** A value as it goes in a one-line message: JSON, shortened; objects that don't serialise are "{…}". */
export function brief(v: unknown, max = 60): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  if (text === undefined) return typeof v === "object" && v !== null ? "{…}" : String(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function requireRegion(field: string, slug: string): void {
  if (typeof slug !== "string" || !findRegion(slug)) {
    const slugs = naturalSort(regionSlugs());
    const label = (s: string) => findRegion(s)?.label;
    // A near-miss slug first; else a city name given for a slug ("tokyo").
    const hint = didYouMean(slug, slugs, label) || (typeof slug === "string" ? suggestion(naturalSort(regionsInCity(slug)), label) : "");
    fail(field, sentences(`unknown Linode region ${show(slug)}.`, hint, `Valid regions: ${slugs.join(", ")}.`));
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

/**
 * Linode labels (instances, firewalls, firewall rules): letters, digits, '.', '-' and '_',
 * alphanumeric at both ends, no doubled '-', '_' or '.' (the Linode API's rule), and the length the
 * provider allows for that kind of label (see LINODE_LABEL_LIMITS and docs/validators.md).
 */
export const LINODE_LABEL_LIMITS = {
  /** linode_instance.label: StringLenBetween(3, 50) in linode/instance/schema_resource.go@v3.13.0. */
  instance: { min: 3, max: 50, what: "Linode instance label" },
  /** linode_firewall.label: LengthBetween(3, 32) in linode/firewall/framework_schema_resource.go@v3.13.0. */
  firewall: { min: 3, max: 32, what: "Linode firewall label" },
  /** linode_firewall inbound/outbound label: LengthBetween(3, 32), same file. */
  firewallRule: { min: 3, max: 32, what: "Linode firewall rule label" },
} as const;
export type LinodeLabelKind = keyof typeof LINODE_LABEL_LIMITS;
export const LINODE_LABEL_CHARSET = "letters, digits, '-', '_' and '.', starting and ending with a letter or digit, with no '--', '__' or '..'";
/** The rule for an instance label, as messages quote it. */
export const LINODE_LABEL_RULE = `3-50 characters of ${LINODE_LABEL_CHARSET}`;
export function linodeLabelRule(kind: LinodeLabelKind): string {
  const l = LINODE_LABEL_LIMITS[kind];
  return `${l.min}-${l.max} characters of ${LINODE_LABEL_CHARSET}`;
}
export function requireLinodeLabel(field: string, label: unknown, kind: LinodeLabelKind = "instance"): asserts label is string {
  const l = LINODE_LABEL_LIMITS[kind];
  const ok =
    typeof label === "string" &&
    label.length >= l.min &&
    label.length <= l.max &&
    /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(label) &&
    !/--|__|\.\./.test(label);
  if (!ok) {
    const len = typeof label === "string" && label.length > l.max ? ` (${label.length} characters)` : "";
    fail(field, `${brief(label, 100)}${len} is not a valid ${l.what} (${linodeLabelRule(kind)})`);
  }
}

/** Tailnet/system hostnames: one DNS label, lower case, 1-63 chars. */
export const HOSTNAME_RULE = "1-63 lower-case letters, digits and '-', not starting or ending with '-'";
export const HOSTNAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export function requireHostname(field: string, name: unknown): asserts name is string {
  if (typeof name !== "string" || !HOSTNAME_PATTERN.test(name)) {
    fail(field, `${show(name)} is not a valid hostname (${HOSTNAME_RULE})`);
  }
}

/** Tailscale ACL tags as `tailscale up --advertise-tags` takes them. */
export const TAG_RULE = "'tag:' followed by a lower-case letter, then up to 62 of a-z, 0-9 and '-'";
export const TAG_PATTERN = /^tag:[a-z][a-z0-9-]{0,62}$/;
export function requireTailscaleTag(field: string, tag: unknown): asserts tag is string {
  if (typeof tag !== "string" || !TAG_PATTERN.test(tag)) {
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
  const addr = ipAddressBits(m[1]);
  if (!addr) return undefined;
  const width = addr.version === 4 ? 32 : 128;
  if (prefix > width) return undefined;
  if (prefix < width && addr.bits & ((1n << BigInt(width - prefix)) - 1n)) return undefined;
  return { version: addr.version, bits: addr.bits, prefix };
}

/**
 * A plain IPv4 or IPv6 address as its value, or undefined. The one parser every CIDR check uses:
 * it refuses what an address field can't hold, such as an IPv6 zone id (`fe80::1%eth0`, which
 * net.isIPv6 accepts) and IPv4 octets with leading zeros (read as octal by some tools).
 */
export function ipAddressBits(addr: string): { version: 4 | 6; bits: bigint } | undefined {
  if (typeof addr !== "string" || addr.includes("%")) return undefined;
  if (isIPv4(addr)) {
    if (/(^|\.)0\d/.test(addr)) return undefined;
    return { version: 4, bits: addr.split(".").reduce((acc, o) => (acc << 8n) | BigInt(o), 0n) };
  }
  if (isIPv6(addr)) return { version: 6, bits: ipv6ToBigInt(addr) };
  return undefined;
}

/** An IPv6 address (already checked by net.isIPv6) as its 128-bit value. */
export function ipv6ToBigInt(addr: string): bigint {
  let text = addr;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hextets.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const o = dotted[1].split(".").map(Number);
    text = text.slice(0, dotted.index) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  if (!/^[0-9a-fA-F:]*$/.test(text)) throw new Error(`internal: ${JSON.stringify(addr)} is not a plain IPv6 address`);
  const headParts = head ? head.split(":") : [];
  const tailParts = tail === undefined ? [] : tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : new Array(8 - headParts.length - tailParts.length).fill("0");
  return [...headParts, ...fill, ...tailParts].reduce((acc, h) => (acc << 16n) | BigInt(parseInt(h, 16)), 0n);
}

/** Linode plan IDs such as g6-standard-8 or g6-nanode-1, checked against the catalog (src/catalog/plans.ts). */
export function requireInstanceType(field: string, type: string): void {
  if (typeof type !== "string" || !findPlan(type)) {
    const ids = naturalSort(planIds());
    fail(field, sentences(`${show(type)} is not a Linode plan ID.`, didYouMean(type, ids), `Plans: ${ids.join(", ")} (src/catalog/plans.ts).`));
  }
}

export function requireIntegerInRange(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `${show(value)} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    const sorted = naturalSort(allowed);
    fail(field, sentences(`${show(value)} is not one of ${sorted.map(show).join(", ")}.`, didYouMean(value, sorted)));
  }
  return value as T;
}

/**
 * `value` is one of the keys of `table` (a lookup of allowed choices), compared as own keys only, so
 * names every object inherits ("toString", "constructor", "__proto__") are refused. Numbers are
 * accepted for numeric keys only when `numeric` is set (e.g. Diffie-Hellman group numbers).
 */
export function requireKeyOf<K extends string | number>(field: string, value: unknown, table: Readonly<Record<K, unknown>>, what = "", numeric = false): K {
  const keys = Object.keys(table);
  const ok = numeric
    ? typeof value === "number" && Number.isInteger(value) && Object.prototype.hasOwnProperty.call(table, String(value))
    : typeof value === "string" && Object.prototype.hasOwnProperty.call(table, value);
  if (!ok) {
    const sorted = naturalSort(keys);
    const listed = numeric ? sorted.join(", ") : sorted.map(show).join(", ");
    fail(field, sentences(`${brief(value)} is not one of ${listed}${what ? ` (${what})` : ""}.`, numeric ? "" : didYouMean(value, sorted)));
  }
  return value as K;
}

/**
 * Options that only some modes read. Setting one under a mode that ignores it is an error rather than
 * a silent no-op, e.g. `adminCidrs` with cloud-init delivery (which opens no SSH port at all).
 * `options` maps each such option's field to the value given (undefined = not set).
 */
export function requireOnlyInModes(
  mode: { readonly field: string; readonly value: string; readonly appliesTo: readonly string[]; readonly why?: string },
  options: Readonly<Record<string, unknown>>,
): void {
  if (mode.appliesTo.includes(mode.value)) return;
  const set = Object.keys(options).filter((k) => options[k] !== undefined).sort();
  if (set.length === 0) return;
  const name = set[0];
  const modes = mode.appliesTo.map(show).join(" or ");
  fail(
    name,
    `${brief(options[name])} only applies when ${mode.field} is ${modes}; ${mode.field} is ${show(mode.value)}, which ignores it` +
      `${mode.why ? ` (${mode.why})` : ""}: remove ${name}, or set ${mode.field} to ${modes}`,
  );
}

/** Sources that mean "the whole internet": refused for admin access unless explicitly allowed. */
export const EVERYWHERE_CIDRS: readonly string[] = ["0.0.0.0/0", "::/0"];

/**
 * Admin-only ports (SSH) open to the whole internet need an explicit opt-in prop; without it a literal
 * 0.0.0.0/0 or ::/0 in the list fails, naming the prop that allows it.
 */
export function requireNotEverywhere(field: string, cidrs: readonly string[], optIn: { readonly prop: string; readonly allowed?: boolean }): void {
  if (optIn.allowed) return;
  cidrs.forEach((c, i) => {
    const parsed = parseCidr(c);
    if (parsed && parsed.prefix === 0) {
      fail(`${field}[${i}]`, `${show(c)} opens SSH to the whole internet; give your admin networks instead, or set ${optIn.prop}: true to mean it`);
    }
  });
  // Not only /0: 0.0.0.0/1 with 128.0.0.0/1 (or any set of blocks) can cover every address too.
  for (const version of [4, 6] as const) {
    const blocks = cidrs.flatMap((c) => {
      const p = parseCidr(c);
      return p && p.version === version ? [{ cidr: c, p }] : [];
    });
    if (blocks.length > 1 && coversEverything(blocks.map((b) => b.p), version === 4 ? 32 : 128)) {
      const list = blocks.map((b) => show(b.cidr));
      const shown = list.length > 6 ? `${list.slice(0, 6).join(", ")}, … (${list.length} blocks)` : list.join(", ");
      fail(field, `${shown} together cover every IPv${version} address, which opens SSH to the whole internet; give your admin networks instead, or set ${optIn.prop}: true to mean it`);
    }
  }
}

/** True when the union of the blocks is the whole address space of that width. */
function coversEverything(blocks: readonly { bits: bigint; prefix: number }[], width: number): boolean {
  const ranges = blocks
    .map(({ bits, prefix }) => [bits, bits + (1n << BigInt(width - prefix)) - 1n] as const)
    .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  let next = 0n;
  for (const [start, end] of ranges) {
    if (start > next) return false;
    if (end + 1n > next) next = end + 1n;
  }
  return next === 1n << BigInt(width);
}

/**
 * The same rule at plan time, as a Terraform condition over a list(string) variable: the distinct
 * IPv4 (IPv6) blocks may not add up to the whole space. Overlapping blocks count twice there, so a
 * list refused at plan time may be one that doesn't quite cover everything; no admin list comes close.
 */
export function notEverywhereCondition(variable: string): string {
  const size = (family: 4 | 6) => {
    const width = family === 4 ? 32 : 128;
    const pick = family === 4 ? `!strcontains(c, ":")` : `strcontains(c, ":")`;
    return `sum(concat([0], [for c in distinct([for c in ${variable} : format("%s/%s", cidrhost(c, 0), split("/", c)[1]) if can(cidrhost(c, 0)) && ${pick}]) : pow(2, ${width} - tonumber(split("/", c)[1]))])) < pow(2, ${width})`;
  };
  return `\${${size(4)} && ${size(6)}}`;
}

/** Who a tailnet policy rule names: autogroup:…, group:…, tag:… or a user's login (user@domain). */
export const POLICY_SELECTOR_RULE = "autogroup:… (e.g. autogroup:admin, autogroup:member), group:…, tag:… or a user login such as alice@example.com";
const POLICY_SELECTOR = /^(autogroup:[a-z-]+|group:[A-Za-z0-9-]+|tag:[a-z][a-z0-9-]{0,62}|[^@\s:]+@[^@\s:]+)$/;
export function requirePolicySelector(field: string, selector: unknown): asserts selector is string {
  if (typeof selector !== "string" || !POLICY_SELECTOR.test(selector)) {
    fail(field, `${show(selector)} is not a policy selector (${POLICY_SELECTOR_RULE})`);
  }
}

/** AWS regions, checked against the catalog (src/catalog/aws-regions.ts). */
export const AWS_REGION_RULE = "an AWS region code such as ap-northeast-1 or us-east-1";
export function requireAwsRegion(field: string, region: unknown): asserts region is string {
  if (typeof region !== "string" || !findAwsRegion(region)) {
    const codes = naturalSort(awsRegionCodes());
    fail(field, sentences(`${show(region)} is not ${AWS_REGION_RULE} (src/catalog/aws-regions.ts).`, didYouMean(region, codes), `Regions: ${codes.join(", ")}.`));
  }
}

/** An availability zone of `region` that AWS has (the region code plus a letter the catalog lists). */
export function requireAwsAvailabilityZone(field: string, zone: unknown, region: string): asserts zone is string {
  const zones = awsZonesOf(region);
  if (typeof zone !== "string" || !zones.includes(zone)) {
    fail(
      field,
      sentences(
        `${show(zone)} is not an availability zone of ${region} (the region code and one letter, e.g. ${region}a);`,
        zones.length ? `${region} has ${zones.join(", ")} (src/catalog/aws-regions.ts).` : "",
      ),
    );
  }
}

export * from "./cidr";
export * from "./vpn";
export * from "./providers";
