/**
 * An offline reading of a policy's network rules, enough to tell at synth time whether a policy
 * test will pass when Tailscale checks it. Three answers: "yes" (some rule surely allows the
 * connection), "no" (no rule can), "unknown" (it depends on facts only the tailnet has: who is an
 * admin, which device holds an IP, device posture). Grants and ACLs only ever allow, so a
 * connection is allowed as soon as one rule allows it.
 */
import { TAILNET_RANGES, parseCidr } from "../../validation";
import { PolicyObject } from "./types";

export type Tri = "yes" | "no" | "unknown";

/** Who a test connects from, or to. */
export type Principal =
  | { readonly kind: "tag"; readonly name: string }
  | { readonly kind: "user"; readonly name: string }
  | { readonly kind: "ip"; readonly cidr: string }
  | { readonly kind: "other"; readonly name: string };

export interface RuleRef {
  readonly section: "grants" | "acls";
  readonly index: number;
}

export interface Verdict {
  readonly result: Tri;
  /** Rules that allow it for sure (result "yes"). */
  readonly allowedBy: readonly RuleRef[];
}

const ROLE_AUTOGROUPS = /^autogroup:(admin|owner|it-admin|network-admin|billing-admin|auditor)$/;

export function principalOf(selector: string, policy: PolicyObject): Principal {
  if (selector.startsWith("tag:")) return { kind: "tag", name: selector };
  if (selector.includes("@") && !selector.startsWith("group:")) return { kind: "user", name: selector };
  const host = policy.hosts?.[selector];
  const addr = host ?? selector;
  const cidr = toCidr(addr);
  if (cidr) return { kind: "ip", cidr };
  return { kind: "other", name: selector };
}

function toCidr(text: string): string | undefined {
  if (parseCidr(text)) return text;
  if (parseCidr(`${text}/32`)) return `${text}/32`;
  if (parseCidr(`${text}/128`)) return `${text}/128`;
  return undefined;
}

function cidrContains(outer: string, inner: string): boolean {
  const a = parseCidr(outer);
  const b = parseCidr(inner);
  if (!a || !b || a.version !== b.version || a.prefix > b.prefix) return false;
  const width = a.version === 4 ? 32 : 128;
  const shift = BigInt(width - a.prefix);
  return a.bits >> shift === b.bits >> shift;
}

/** Does a rule's selector cover this principal? */
export function selectorMatches(selector: string, p: Principal, policy: PolicyObject, side: "src" | "dst"): Tri {
  if (selector === "*" || selector === "autogroup:danger-all") return "yes";
  // Tags, users, groups and role autogroups name devices, which only hold tailnet addresses; an
  // address outside those ranges (a subnet route's host) is reached through its CIDR, never them.
  if (p.kind === "ip" && selector !== "autogroup:internet" && !toCidr(policy.hosts?.[selector] ?? selector) && !TAILNET_RANGES.some((r) => cidrContains(r, p.cidr))) {
    return "no";
  }
  if (selector.startsWith("tag:")) {
    if (p.kind === "tag") return p.name === selector ? "yes" : "no";
    return p.kind === "user" ? "no" : "unknown";
  }
  if (selector === "autogroup:tagged") return p.kind === "tag" ? "yes" : p.kind === "user" ? "no" : "unknown";
  if (selector === "autogroup:member") return p.kind === "user" ? "yes" : p.kind === "tag" ? "no" : "unknown";
  if (ROLE_AUTOGROUPS.test(selector) || selector === "autogroup:shared") return p.kind === "tag" ? "no" : "unknown";
  if (selector === "autogroup:self") return side === "dst" && p.kind === "tag" ? "no" : "unknown";
  if (selector === "autogroup:internet") return p.kind === "tag" || p.kind === "user" ? "no" : "unknown";
  if (selector.startsWith("group:")) {
    if (p.kind === "tag") return "no";
    if (p.kind !== "user") return "unknown";
    const members = policy.groups?.[selector];
    return members === undefined ? "unknown" : members.includes(p.name) ? "yes" : "no";
  }
  if (selector.includes("@")) return p.kind === "user" ? (p.name === selector ? "yes" : "no") : p.kind === "tag" ? "no" : "unknown";
  const cidr = toCidr(policy.hosts?.[selector] ?? selector);
  if (cidr) {
    if (p.kind === "ip") return cidrContains(cidr, p.cidr) ? "yes" : cidrContains(p.cidr, cidr) ? "unknown" : "no";
    // A tagged device or a user's device has some tailnet address; without the tailnet we can't say which.
    return "unknown";
  }
  return "unknown";
}

interface PortSpec {
  readonly proto?: string;
  readonly from: number;
  readonly to: number;
}

/** "*", "22", "80-443", "tcp:22", "udp:*", "tcp:1000-2000"; several comma-separated. */
export function parsePorts(text: string, proto?: string): PortSpec[] {
  let p = proto;
  let ports = text;
  const m = /^([a-z0-9-]+):(.*)$/i.exec(text);
  if (m && !/^\d/.test(m[1])) {
    p = m[1].toLowerCase();
    ports = m[2];
  }
  return ports.split(",").map((part) => {
    if (part === "*") return { proto: p, from: 0, to: 65535 };
    const r = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!r) return { proto: p, from: -1, to: -1 };
    return { proto: p, from: Number(r[1]), to: Number(r[2] ?? r[1]) };
  });
}

function portMatches(specs: PortSpec[], proto: string, port: number): Tri {
  let unknown = false;
  for (const s of specs) {
    if (s.from < 0) {
      unknown = true;
      continue;
    }
    if (s.proto && s.proto !== proto) continue;
    if (port >= s.from && port <= s.to) return "yes";
  }
  return unknown ? "unknown" : "no";
}

/** Splits an ACL destination or a test destination, "host:ports", "[v6]:ports". */
export function splitHostPort(text: string): { host: string; ports: string } {
  const v6 = /^\[([^\]]+)\]:(.+)$/.exec(text);
  if (v6) return { host: v6[1], ports: v6[2] };
  const i = text.lastIndexOf(":");
  if (i <= 0) return { host: text, ports: "*" };
  return { host: text.slice(0, i), ports: text.slice(i + 1) };
}

const and = (a: Tri, b: Tri): Tri => (a === "no" || b === "no" ? "no" : a === "unknown" || b === "unknown" ? "unknown" : "yes");
const anyOf = (values: Tri[]): Tri => (values.includes("yes") ? "yes" : values.includes("unknown") ? "unknown" : "no");

/**
 * Would `src` reach `dst` (written `host:port`) with protocol `proto` (default tcp)?
 * `src` is a test source: a tag, a user or an address.
 */
export function evaluateConnection(policy: PolicyObject, src: string, dst: string, proto = "tcp"): Verdict {
  const from = principalOf(src, policy);
  const { host, ports } = splitHostPort(dst);
  const to = principalOf(host, policy);
  const port = ports === "*" ? 0 : Number(ports);
  const results: { ref: RuleRef; tri: Tri }[] = [];

  (policy.grants ?? []).forEach((g, index) => {
    if (!g.ip) return; // an application-only grant opens no network path
    const extra = g as unknown as Record<string, unknown>;
    let tri = and(
      anyOf(g.src.map((s) => selectorMatches(s, from, policy, "src"))),
      anyOf(g.dst.map((d) => selectorMatches(d, to, policy, "dst"))),
    );
    tri = and(tri, anyOf(g.ip.map((i) => portMatches(parsePorts(i), proto, port))));
    // Route filtering and posture conditions depend on the live tailnet.
    if (tri === "yes" && (extra.via !== undefined || extra.srcPosture !== undefined)) tri = "unknown";
    results.push({ ref: { section: "grants", index }, tri });
  });
  (policy.acls ?? []).forEach((a, index) => {
    if (a.action !== "accept") return;
    const srcTri = anyOf((a.src ?? []).map((s) => selectorMatches(s, from, policy, "src")));
    const dstTri = anyOf(
      (a.dst ?? []).map((d) => {
        const hp = splitHostPort(d);
        return and(selectorMatches(hp.host, to, policy, "dst"), portMatches(parsePorts(hp.ports, a.proto), proto, port));
      }),
    );
    results.push({ ref: { section: "acls", index }, tri: and(srcTri, dstTri) });
  });
  const result = anyOf(results.map((r) => r.tri));
  return { result, allowedBy: results.filter((r) => r.tri === "yes").map((r) => r.ref) };
}
