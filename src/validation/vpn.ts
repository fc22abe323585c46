/**
 * Checks for IPsec/BGP site-to-site VPNs: private BGP AS numbers, the tunnel inside /30s AWS
 * accepts, and values that must differ from one another (ASNs on both ends of an eBGP session,
 * VRRP priorities of a pair).
 */
import { cidrsOverlap, LINK_LOCAL_IPV4_RANGE, prefixLength } from "./cidr";
import { fail, parseCidr } from "./index";

const show = (v: unknown) => JSON.stringify(v);

/** Private-use AS numbers (RFC 6996): 16-bit and 32-bit. AWS takes either on both ends of a VPN. */
export const PRIVATE_ASN_RANGES: readonly (readonly [number, number])[] = [
  [64512, 65534],
  [4200000000, 4294967294],
];

/** An AS number in a private-use range. */
export function requirePrivateAsn(field: string, asn: unknown): number {
  if (typeof asn !== "number" || !Number.isInteger(asn) || !PRIVATE_ASN_RANGES.some(([lo, hi]) => asn >= lo && asn <= hi)) {
    fail(field, `${show(asn)} is not a private AS number (${PRIVATE_ASN_RANGES.map(([lo, hi]) => `${lo}-${hi}`).join(" or ")}, RFC 6996)`);
  }
  return asn as number;
}

/**
 * Inside /30s AWS refuses for VPN tunnels (its Site-to-Site VPN tunnel options): the first six
 * /30s of 169.254.0.0/16 and the one holding the instance metadata address 169.254.169.254.
 */
export const AWS_RESERVED_INSIDE_CIDRS: readonly string[] = [
  "169.254.0.0/30",
  "169.254.1.0/30",
  "169.254.2.0/30",
  "169.254.3.0/30",
  "169.254.4.0/30",
  "169.254.5.0/30",
  "169.254.169.252/30",
];

/** A tunnel inside CIDR AWS accepts: a /30 inside 169.254.0.0/16 and none of the reserved ones. */
export function requireTunnelInsideCidr(field: string, cidr: unknown): string {
  const p = typeof cidr === "string" ? parseCidr(cidr) : undefined;
  if (!p || p.version !== 4) fail(field, `${show(cidr)} is not an IPv4 CIDR block such as 169.254.10.0/30 (host bits zero)`);
  const c = cidr as string;
  if (prefixLength(c) !== 30) fail(field, `${show(c)} is a /${prefixLength(c)}; a VPN tunnel's inside CIDR is a /30 (one address per end)`);
  if (!cidrsOverlap(LINK_LOCAL_IPV4_RANGE, c)) fail(field, `${show(c)} is not inside ${LINK_LOCAL_IPV4_RANGE}, where AWS requires tunnel inside CIDRs`);
  if (AWS_RESERVED_INSIDE_CIDRS.includes(c)) {
    fail(field, `${show(c)} is reserved by AWS (${AWS_RESERVED_INSIDE_CIDRS.join(", ")}); choose another /30 in ${LINK_LOCAL_IPV4_RANGE}, e.g. 169.254.10.0/30`);
  }
  return c;
}

/**
 * `value` differs from every earlier entry; the message names the field it collides with and why
 * they must differ (e.g. two routers with one VRRP priority would both claim the address).
 */
export function requireDistinctFrom(
  field: string,
  value: string | number,
  others: readonly { readonly field: string; readonly value: string | number }[],
  why: string,
): void {
  const hit = others.find((o) => o.value === value);
  if (hit) fail(field, `${show(value)} is also ${hit.field}; ${why}`);
}
