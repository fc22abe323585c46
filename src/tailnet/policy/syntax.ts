/**
 * The small grammar of a tailnet policy: selectors ("aliases"), `host:ports` destinations, port
 * lists and protocols, each parsed into a value or a reason it is refused. Shared by the checker
 * (check.ts) and the evaluator (evaluate.ts), so that both read a policy the same way.
 *
 * Sources: https://tailscale.com/kb/1337/policy-syntax (targets, ports, proto),
 * https://tailscale.com/kb/1538/grants-syntax (ip), and how juanfont/headscale reproduces the
 * control plane (hscontrol/policy/v2/types.go, utils.go: parseAlias, parsePortRange, Protocol).
 */
import { ipAddressBits } from "../../validation";

/** A parsed IP prefix (an address is a /32 or /128). */
export interface Prefix {
  readonly version: 4 | 6;
  /** Network bits (host bits cleared). */
  readonly bits: bigint;
  readonly length: number;
}

export type Alias =
  | { readonly kind: "any" }
  | { readonly kind: "prefix"; readonly prefix: Prefix; readonly cidr: boolean }
  | { readonly kind: "user"; readonly name: string }
  | { readonly kind: "group"; readonly name: string }
  | { readonly kind: "tag"; readonly name: string }
  | { readonly kind: "autogroup"; readonly name: string }
  | { readonly kind: "host"; readonly name: string }
  | { readonly kind: "ipset"; readonly name: string };

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });
const show = (v: unknown) => JSON.stringify(v);

/** Autogroups Tailscale knows (https://tailscale.com/kb/1337/policy-syntax#autogroups). */
export const ROLE_AUTOGROUPS = ["admin", "owner", "it-admin", "network-admin", "billing-admin", "auditor"].map((r) => `autogroup:${r}`);
export const KNOWN_AUTOGROUPS = new Set([
  "autogroup:internet",
  "autogroup:member",
  "autogroup:tagged",
  "autogroup:self",
  "autogroup:nonroot",
  "autogroup:shared",
  "autogroup:danger-all",
  ...ROLE_AUTOGROUPS,
]);

/** `10.0.0.1`, `10.0.0.0/8`, `fd7a::1/128`; host bits may be set (they are cleared), zone ids are refused. */
export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf("/");
  const addr = ipAddressBits(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const width = addr.version === 4 ? 32 : 128;
  let length = width;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > width) return undefined;
    length = Number(p);
  }
  const hostMask = (1n << BigInt(width - length)) - 1n;
  return { version: addr.version, bits: addr.bits & ~hostMask, length };
}

/** Every address of `inner` is in `outer`. */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  if (outer.version !== inner.version || outer.length > inner.length) return false;
  const width = outer.version === 4 ? 32 : 128;
  const shift = BigInt(width - outer.length);
  return outer.bits >> shift === inner.bits >> shift;
}

export const prefixesOverlap = (a: Prefix, b: Prefix): boolean => prefixContains(a, b) || prefixContains(b, a);

/** Where Tailscale puts device addresses: CGNAT 100.64.0.0/10 and fd7a:115c:a1e0::/48. */
export const TAILNET_PREFIXES: readonly Prefix[] = [parsePrefix("100.64.0.0/10")!, parsePrefix("fd7a:115c:a1e0::/48")!];
export const inTailnet = (p: Prefix): boolean => TAILNET_PREFIXES.some((t) => prefixContains(t, p));
export const touchesTailnet = (p: Prefix): boolean => TAILNET_PREFIXES.some((t) => prefixesOverlap(t, p));

/** Tag names: a letter after `tag:`, then letters, digits, `-`, `_`, `.`. */
export const TAG_NAME = /^tag:[A-Za-z][A-Za-z0-9_.-]*$/;

const aliasCache = new Map<string, Parsed<Alias>>();
/** A selector as Tailscale reads it (surrounding spaces ignored, as the control plane does). */
export function parseAlias(raw: string): Parsed<Alias> {
  let hit = aliasCache.get(raw);
  if (!hit) {
    hit = parseAliasUncached(raw);
    // Results are immutable; the cache only spares evaluation re-parsing the same selectors.
    if (aliasCache.size > 50_000) aliasCache.clear();
    aliasCache.set(raw, hit);
  }
  return hit;
}

function parseAliasUncached(raw: string): Parsed<Alias> {
  const s = raw.trim();
  if (s === "") return bad("is empty");
  if (s === "*") return ok({ kind: "any" });
  const prefix = parsePrefix(s);
  if (prefix) return ok({ kind: "prefix", prefix, cidr: s.includes("/") });
  if (s.includes("%")) return bad(`${show(raw)} is not a valid address (IPv6 zone ids such as %eth0 are not allowed)`);
  if (s.startsWith("group:")) return s.length > 6 ? ok({ kind: "group", name: s }) : bad(`${show(raw)} has no group name`);
  if (s.startsWith("tag:")) {
    return TAG_NAME.test(s) ? ok({ kind: "tag", name: s }) : bad(`${show(raw)} is not a valid tag (a letter after "tag:", then letters, digits or "-")`);
  }
  if (s.startsWith("autogroup:")) return KNOWN_AUTOGROUPS.has(s) ? ok({ kind: "autogroup", name: s }) : bad(`${show(raw)} is not an autogroup Tailscale knows`);
  if (s.startsWith("ipset:")) return s.length > 6 ? ok({ kind: "ipset", name: s }) : bad(`${show(raw)} has no IP set name`);
  if (s.includes("@")) return ok({ kind: "user", name: s });
  if (/\/\d+$/.test(s)) return bad(`${show(raw)} is not a valid CIDR`);
  if (!s.includes(":") && !/\s/.test(s)) return ok({ kind: "host", name: s });
  return bad(`${show(raw)} is not a selector (*, a user, group:…, tag:…, autogroup:…, a host name, an IP or CIDR)`);
}

export interface PortRange {
  readonly first: number;
  readonly last: number;
}
export const ALL_PORTS: readonly PortRange[] = [{ first: 0, last: 65535 }];

/** `*`, `22`, `80,443`, `8000-8999` (ports 1–65535, a range may start at 0). */
export function parsePorts(text: string): Parsed<PortRange[]> {
  if (text === "*") return ok([...ALL_PORTS]);
  const out: PortRange[] = [];
  for (const part of text.split(",")) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [first, last] = [Number(range[1]), Number(range[2])];
      if (first > 65535 || last > 65535) return bad(`port range ${show(part)} is outside 0-65535`);
      if (first > last) return bad(`port range ${show(part)} starts after it ends`);
      out.push({ first, last });
      continue;
    }
    if (!/^\d+$/.test(part)) return bad(`${show(part)} is not a port, a range (8000-8999) or "*"`);
    const port = Number(part);
    if (port < 1 || port > 65535) return bad(`port ${part} is outside 1-65535`);
    out.push({ first: port, last: port });
  }
  return ok(out);
}

/** IANA protocol names the control plane accepts, with their numbers. */
export const PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  ipv4: 4,
  "ip-in-ip": 4,
  tcp: 6,
  egp: 8,
  igp: 9,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  "ipv6-icmp": 58,
  sctp: 132,
  fc: 133,
};
/** Only these carry ports; every other protocol takes `*`. */
export const PORTED_PROTOCOLS = new Set([6, 17, 132]);

/** A protocol name or number, as its IANA number. */
export function parseProtocol(text: string): Parsed<number> {
  const s = text.toLowerCase();
  if (s in PROTOCOLS) return ok(PROTOCOLS[s]);
  if (s === "*") return bad(`protocol "*" is not allowed; leave proto out, or give a name (tcp, udp, icmp, …) or a number 1-255`);
  if (!/^\d+$/.test(s)) return bad(`${show(text)} is not a protocol name (tcp, udp, sctp, icmp, …) or number`);
  if (s.startsWith("0")) return bad(`protocol number ${show(text)} has a leading zero (or is 0)`);
  const n = Number(s);
  if (n > 255) return bad(`protocol number ${n} is outside 1-255`);
  return ok(n);
}

/** One entry of a grant's `ip`: the protocol (undefined: any) and ports. */
export interface IpSpec {
  readonly proto?: number;
  /** "*" means every protocol; "default" a port list without protocol. */
  readonly protoAny: "all" | "ports-only" | "named";
  readonly ports: readonly PortRange[];
}

const ipSpecCache = new Map<string, Parsed<IpSpec>>();
/** `*`, `22`, `80-443`, `tcp:22`, `udp:*`, `icmp:*`, `6:22`. */
export function parseIpSpec(text: string): Parsed<IpSpec> {
  let hit = ipSpecCache.get(text);
  if (!hit) {
    hit = parseIpSpecUncached(text);
    if (ipSpecCache.size > 50_000) ipSpecCache.clear();
    ipSpecCache.set(text, hit);
  }
  return hit;
}

function parseIpSpecUncached(text: string): Parsed<IpSpec> {
  if (text === "*") return ok({ protoAny: "all", ports: [...ALL_PORTS] });
  const parts = text.split(":");
  if (parts.length > 2) return bad(`${show(text)} has more than one ":" (expected "proto:ports")`);
  if (parts.length === 1) {
    const ports = parsePorts(text);
    return ports.ok ? ok({ protoAny: "ports-only", ports: ports.value }) : bad(ports.error);
  }
  const proto = parseProtocol(parts[0]);
  if (!proto.ok) return bad(proto.error);
  const ports = parsePorts(parts[1]);
  if (!ports.ok) return bad(ports.error);
  if (!PORTED_PROTOCOLS.has(proto.value) && !(ports.value.length === 1 && ports.value[0].first === 0 && ports.value[0].last === 65535)) {
    return bad(`protocol ${show(parts[0])} has no ports; only "*" is allowed after it`);
  }
  return ok({ proto: proto.value, protoAny: "named", ports: ports.value });
}

/** Splits `host:ports` (an IPv6 host in brackets, or the last colon), or says why it can't. */
export function splitHostPorts(text: string): Parsed<{ host: string; ports: string }> {
  let input = text;
  if (input.startsWith("[")) {
    const close = input.indexOf("]");
    if (close < 0) return bad(`${show(text)}: "[" without "]"`);
    const host = input.slice(1, close);
    const rest = input.slice(close + 1);
    if (!rest.startsWith(":") && !rest.startsWith("/")) return bad(`${show(text)}: expected ":ports" after "]"`);
    input = host + rest;
  }
  const i = input.lastIndexOf(":");
  if (i < 0) return bad(`${show(text)} has no ":port" (write host:port, e.g. tag:web:443, or host:* for every port)`);
  if (i === 0) return bad(`${show(text)} has no host before ":"`);
  if (i === input.length - 1) return bad(`${show(text)} has no port after ":"`);
  return ok({ host: input.slice(0, i), ports: input.slice(i + 1) });
}
