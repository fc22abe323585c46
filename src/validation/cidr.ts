/**
 * CIDR arithmetic and the synth-time checks built on it: containment, overlap, host addresses, and
 * the ranges a private network must stay out of (the tailnet's own, CGNAT 100.64.0.0/10 and
 * fd7a:115c:a1e0::/48, where Tailscale puts its device addresses).
 */
import { fail, ipAddressBits, parseCidr } from "./index";

/** Tailscale gives devices IPv4 addresses from CGNAT space; a subnet route inside it would shadow peers. */
export const TAILNET_IPV4_RANGE = "100.64.0.0/10";
/** Tailscale's ULA prefix for device IPv6 addresses. */
export const TAILNET_IPV6_RANGE = "fd7a:115c:a1e0::/48";
export const TAILNET_RANGES: readonly string[] = [TAILNET_IPV4_RANGE, TAILNET_IPV6_RANGE];
/** RFC 1918 private IPv4 space. */
export const RFC1918_RANGES: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
/** IPv4 link-local (also where cloud metadata services live). */
export const LINK_LOCAL_IPV4_RANGE = "169.254.0.0/16";

type Parsed = NonNullable<ReturnType<typeof parseCidr>>;
const show = (v: unknown) => JSON.stringify(v);
const width = (p: Parsed) => (p.version === 4 ? 32 : 128);

function must(cidr: string): Parsed {
  const p = parseCidr(cidr);
  if (!p) throw new Error(`internal: ${show(cidr)} is not a CIDR`);
  return p;
}

/** True when every address of `inner` lies in `outer` (same family). */
export function cidrContains(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  if (!a || !b || a.version !== b.version || a.prefix > b.prefix) return false;
  const shift = BigInt(width(a) - a.prefix);
  return a.bits >> shift === b.bits >> shift;
}

/** True when the two blocks share at least one address (one then contains the other). */
export function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** The address's value and family, or undefined when `addr` is no plain IPv4/IPv6 address. */
const addressBits = ipAddressBits;

/** True when `addr` (a plain address, no prefix) lies in `cidr`. */
export function addressInCidr(addr: string, cidr: string): boolean {
  const a = addressBits(addr);
  const c = parseCidr(cidr);
  if (!a || !c || a.version !== c.version) return false;
  const shift = BigInt(width(c) - c.prefix);
  return a.bits >> shift === c.bits >> shift;
}

function formatAddress(version: 4 | 6, bits: bigint): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 255n)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((bits >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

/** Like Terraform's cidrhost(): the n-th address of the block (negative n counts from the end, -1 = last). */
export function cidrHost(cidr: string, n: number): string {
  const p = must(cidr);
  const size = 1n << BigInt(width(p) - p.prefix);
  const offset = n >= 0 ? BigInt(n) : size + BigInt(n);
  if (!Number.isInteger(n) || offset < 0n || offset >= size) throw new Error(`cidrHost: ${n} is outside ${cidr} (${size} addresses)`);
  return formatAddress(p.version, p.bits + offset);
}

/** Prefix length of a valid CIDR. */
export function prefixLength(cidr: string): number {
  return must(cidr).prefix;
}

/** A valid IPv4 CIDR (host bits zero). */
export function requireIpv4Cidr(field: string, cidr: string): void {
  const p = parseCidr(cidr);
  if (!p || p.version !== 4) {
    fail(field, `${show(cidr)} is not an IPv4 CIDR block (a network such as 10.0.0.0/16, host bits zero)`);
  }
}

/** Prefix length within [min, max] (e.g. AWS VPCs: /16 to /28). */
export function requirePrefixLength(field: string, cidr: string, min: number, max: number, why: string): void {
  const len = must(cidr).prefix;
  if (len < min || len > max) fail(field, `${show(cidr)} has prefix length /${len}; ${why} allows /${min} to /${max}`);
}

/** `cidr` lies entirely inside `outer`; the message names the outer field. */
export function requireCidrInside(field: string, cidr: string, outer: string, outerField: string): void {
  if (!cidrContains(outer, cidr)) fail(field, `${show(cidr)} is not inside ${outerField} (${outer}); every subnet must lie inside its VPC`);
}

/** `cidr` lies inside one of `ranges`, described by `rule` (e.g. "RFC 1918 private space"). */
export function requireCidrInsideOneOf(field: string, cidr: string, ranges: readonly string[], rule: string): void {
  if (!ranges.some((r) => cidrContains(r, cidr))) fail(field, `${show(cidr)} is not inside ${rule} (${ranges.join(", ")})`);
}

/** `cidr` shares no address with any of `ranges`. */
export function requireCidrOutside(field: string, cidr: string, ranges: readonly string[], why: string): void {
  const hit = ranges.find((r) => cidrsOverlap(r, cidr));
  if (hit) fail(field, `${show(cidr)} overlaps ${hit}, ${why}`);
}

/** Not inside (nor around) the tailnet's own address ranges. */
export function requireOutsideTailnet(field: string, cidr: string): void {
  requireCidrOutside(
    field,
    cidr,
    TAILNET_RANGES,
    "the tailnet's own address range (Tailscale gives devices addresses from 100.64.0.0/10 and fd7a:115c:a1e0::/48, so a route there would shadow peers); choose a private range such as 10.0.0.0/16",
  );
}

/** No two entries share an address; the message names both fields and `why` (default: subnets). */
export function requireNoOverlap(entries: readonly { readonly field: string; readonly cidr: string }[], why = "subnets must not overlap"): void {
  for (let i = 0; i < entries.length; i++) {
    for (let j = 0; j < i; j++) {
      if (cidrsOverlap(entries[i].cidr, entries[j].cidr)) {
        fail(entries[i].field, `${show(entries[i].cidr)} overlaps ${entries[j].field} (${entries[j].cidr}); ${why}`);
      }
    }
  }
}

/**
 * A plain address inside `cidr` that is not one of the block's reserved addresses: the first
 * `reservedFirst` and the last `reservedLast` (clouds keep the network, gateway and broadcast).
 */
export function requireHostAddress(field: string, addr: string, cidr: string, cidrField: string, reservedFirst: number, reservedLast: number): void {
  const a = addressBits(addr);
  if (!a) fail(field, `${show(addr)} is not an IP address`);
  if (!addressInCidr(addr, cidr)) fail(field, `${show(addr)} is not inside ${cidrField} (${cidr})`);
  const p = must(cidr);
  const offset = a!.bits - p.bits;
  const size = 1n << BigInt(width(p) - p.prefix);
  if (offset < BigInt(reservedFirst) || offset >= size - BigInt(reservedLast)) {
    fail(
      field,
      `${show(addr)} is reserved in ${cidr} (the first ${reservedFirst} and last ${reservedLast} addresses); use ${cidrHost(cidr, reservedFirst)} to ${cidrHost(cidr, -1 - reservedLast)}`,
    );
  }
}
