/**
 * An offline reading of a policy's rules, enough to give the control plane's answer to its `tests`
 * and `sshTests`. Three answers for a connection: "yes" (some rule surely allows it), "no" (no rule
 * can), "unknown" (it depends on what only the live tailnet knows: who holds a role, which device
 * has an address, which routes are approved, device posture). Grants, ACLs and SSH rules only ever
 * allow, so a connection is allowed as soon as one rule allows it.
 *
 * Runs on a policy the checker (check.ts) found valid; it never throws on one.
 * Rules, with sources: https://tailscale.com/kb/1337/policy-syntax#tests (a test's src must reach
 * every accept destination and no deny one), https://tailscale.com/kb/1538/grants-syntax,
 * https://tailscale.com/kb/1193/tailscale-ssh#ssh-access-rules; juanfont/headscale
 * hscontrol/policy/v2/test.go (a test passes only when every address of its src reaches the
 * destination; no proto = TCP, UDP or ICMP) and sshtest.go (check needs a check rule).
 */
import { Alias, IpSpec, Prefix, inTailnet, parseAlias, parseIpSpec, parsePorts, parsePrefix, parseProtocol, prefixContains, prefixesOverlap, splitHostPorts, touchesTailnet } from "./syntax";
import { PolicyObject } from "./types";

export type Tri = "yes" | "no" | "unknown";

export interface RuleRef {
  readonly section: "grants" | "acls" | "ssh";
  readonly index: number;
}

export interface Verdict {
  readonly result: Tri;
  /** Some address of the source (a group: some member) surely reaches it. */
  readonly someYes?: boolean;
  /** Rules that allow it for sure (result "yes"). */
  readonly allowedBy: readonly RuleRef[];
  /** Why the answer is "unknown" (or "no"), in a few words. */
  readonly why: string;
}

/** Who connects, or is connected to, as a test names it. */
type Who =
  | { readonly kind: "tag"; readonly name: string }
  | { readonly kind: "user"; readonly name: string }
  | { readonly kind: "addr"; readonly prefix: Prefix; readonly text: string }
  | { readonly kind: "other"; readonly name: string };

const and = (a: Tri, b: Tri): Tri => (a === "no" || b === "no" ? "no" : a === "unknown" || b === "unknown" ? "unknown" : "yes");
const anyOf = (values: readonly Tri[]): Tri => (values.includes("yes") ? "yes" : values.includes("unknown") ? "unknown" : "no");
const allOf = (values: readonly Tri[]): Tri => (values.includes("no") ? "no" : values.includes("unknown") ? "unknown" : "yes");

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strs = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === "string");
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Reasons an answer is unknown, collected while matching. */
class Why {
  readonly notes: string[] = [];
  add(n: string): "unknown" {
    if (!this.notes.includes(n)) this.notes.push(n);
    return "unknown";
  }
  text(): string {
    return this.notes.slice(0, 2).join("; ");
  }
}

function hostPrefix(policy: PolicyObject, name: string): Prefix | undefined {
  const v = obj(policy.hosts)[name];
  return typeof v === "string" ? parsePrefix(v.trim()) : undefined;
}

/** The principal(s) a test's src or dst names. A group is its members (every one must reach). */
function whoOf(policy: PolicyObject, text: string): Who[] {
  const a = parseAlias(text);
  if (!a.ok) return [{ kind: "other", name: text }];
  const v = a.value;
  switch (v.kind) {
    case "tag":
    case "user":
      return [{ kind: v.kind, name: v.name }];
    case "prefix":
      return [{ kind: "addr", prefix: v.prefix, text }];
    case "host": {
      const p = hostPrefix(policy, v.name);
      return p ? [{ kind: "addr", prefix: p, text }] : [{ kind: "other", name: text }];
    }
    case "group": {
      const members = strs(obj(policy.groups)[v.name]);
      return members.map((m) => ({ kind: "user" as const, name: m.trim() }));
    }
    default:
      return [{ kind: "other", name: text.trim() }];
  }
}

const ROLE = /^autogroup:(admin|owner|it-admin|network-admin|billing-admin|auditor)$/;

/**
 * Does one selector of a rule cover `who`? `side` is where the selector sits; `src` is the
 * connecting principal (autogroup:self on the dst side means "the source user's own devices").
 */
function covers(policy: PolicyObject, selector: string, who: Who, side: "src" | "dst", src: Who | undefined, why: Why): Tri {
  const parsed = parseAlias(selector);
  if (!parsed.ok) return "no";
  const sel: Alias = parsed.value;
  if (who.kind === "other") {
    if (sel.kind === "any" || (sel.kind === "autogroup" && sel.name === "autogroup:danger-all")) return "yes";
    if (sel.kind === "autogroup" && sel.name === who.name) return "yes";
    return why.add(`${who.name} is not one device or user`);
  }
  // An address outside the tailnet's ranges is a subnet route's host or the internet: only an
  // address selector, "*" (approved routes) or autogroup:internet can cover it.
  const outside = who.kind === "addr" && !inTailnet(who.prefix);
  switch (sel.kind) {
    case "any":
      // "*" as a destination has no restriction (subnet routes included); as a source it covers
      // tailnet devices and approved subnet routes, which only the tailnet knows.
      if (!outside || side === "dst") return "yes";
      return why.add(`whether ${who.text} is in an approved subnet route depends on the tailnet`);
    case "autogroup":
      switch (sel.name) {
        case "autogroup:danger-all":
          return "yes";
        case "autogroup:internet":
          if (who.kind !== "addr" || !outside) return "no";
          return why.add(`autogroup:internet is reached through exit nodes; ${who.text} depends on the tailnet's routes`);
        case "autogroup:member":
          return who.kind === "user" ? "yes" : who.kind === "tag" ? "no" : outside ? "no" : why.add(`who holds ${who.text} depends on the tailnet`);
        case "autogroup:tagged":
          return who.kind === "tag" ? "yes" : who.kind === "user" ? "no" : outside ? "no" : why.add(`who holds ${who.text} depends on the tailnet`);
        case "autogroup:self":
          if (side !== "dst" || who.kind === "tag" || outside) return "no";
          if (who.kind === "user" && src?.kind === "user") return who.name === src.name ? "yes" : "no";
          if (src?.kind === "tag") return "no";
          return why.add("autogroup:self depends on who owns the devices");
        case "autogroup:shared":
          return who.kind === "tag" || outside ? "no" : why.add("which users a device is shared with depends on the tailnet");
        default:
          if (ROLE.test(sel.name)) return who.kind === "tag" || outside ? "no" : why.add(`who holds the role ${sel.name} depends on the tailnet`);
          return "no";
      }
    case "tag":
      if (who.kind === "tag") return who.name === sel.name ? "yes" : "no";
      if (who.kind === "user" || outside) return "no";
      return why.add(`which device holds ${who.text} depends on the tailnet`);
    case "user":
      if (who.kind === "user") return who.name === sel.name ? "yes" : "no";
      if (who.kind === "tag" || outside) return "no";
      return why.add(`which device holds ${who.text} depends on the tailnet`);
    case "group": {
      if (who.kind === "tag" || outside) return "no";
      if (who.kind === "user") return strs(obj(policy.groups)[sel.name]).some((m) => m.trim() === who.name) ? "yes" : "no";
      return why.add(`which device holds ${who.text} depends on the tailnet`);
    }
    case "host":
    case "prefix": {
      const p = sel.kind === "prefix" ? sel.prefix : hostPrefix(policy, sel.name);
      if (!p) return "no";
      if (who.kind === "addr") {
        if (prefixContains(p, who.prefix)) return "yes";
        if (prefixesOverlap(p, who.prefix)) return why.add(`${selector} covers only part of ${who.text}`);
        return "no";
      }
      if (!touchesTailnet(p)) return "no";
      return why.add(`whether ${who.name}'s devices have addresses in ${selector} depends on the tailnet`);
    }
    case "ipset":
      return why.add(`IP sets (${sel.name}) are not evaluated offline`);
  }
}

const coversAny = (policy: PolicyObject, selectors: readonly string[], who: Who, side: "src" | "dst", src: Who | undefined, why: Why): Tri =>
  anyOf(selectors.map((s) => covers(policy, s, who, side, src, why)));

/** The protocols a test means: its `proto`, or (none given) TCP, UDP or ICMP. */
function testProtocols(proto: string | undefined): number[] {
  if (!proto) return [6, 17, 1, 58];
  const p = parseProtocol(proto);
  return p.ok ? [p.value] : [];
}

function specAllows(spec: IpSpec, protos: readonly number[], port: number, why: Why): Tri {
  if (!spec.ports.some((r) => port >= r.first && port <= r.last)) return "no";
  if (spec.protoAny === "all") return "yes";
  if (spec.protoAny === "ports-only") {
    // Ports without a protocol: TCP and UDP for sure; SCTP is not certain.
    if (protos.some((p) => p === 6 || p === 17)) return "yes";
    return protos.includes(132) ? why.add("whether a rule without proto covers SCTP is not certain") : "no";
  }
  if (!protos.includes(spec.proto!)) return "no";
  // A test without proto against a rule that opens only ICMP: whether the control plane counts
  // ICMP there is not certain (juanfont/headscale's test.go says it does).
  if ((spec.proto === 1 || spec.proto === 58) && protos.length > 1) return why.add("the test gives no proto and only ICMP is allowed; give proto");
  return "yes";
}

interface Ctx {
  readonly policy: PolicyObject;
  readonly protos: readonly number[];
  readonly port: number;
}

/** Every network rule, for one (src, dst) pair. */
function connection(ctx: Ctx, from: Who, to: Who, why: Why): { tri: Tri; allowedBy: RuleRef[] } {
  const { policy } = ctx;
  const results: { ref: RuleRef; tri: Tri }[] = [];
  const defaultPosture = strs(policy.defaultSrcPosture).length > 0;
  const downgrade = (tri: Tri, conditional: boolean, what: string): Tri => (tri === "yes" && conditional ? why.add(what) : tri);
  arr(policy.grants).forEach((g, index) => {
    const grant = lowerKeys(g);
    if (!Array.isArray(grant.ip)) return; // an application-only grant opens no network path
    const specs = strs(grant.ip).map(parseIpSpec).flatMap((s) => (s.ok ? [s.value] : []));
    let tri = and(coversAny(policy, strs(grant.src), from, "src", undefined, why), coversAny(policy, strs(grant.dst), to, "dst", from, why));
    if (tri !== "no") tri = and(tri, anyOf(specs.map((s) => specAllows(s, ctx.protos, ctx.port, why))));
    tri = downgrade(tri, strs(grant.via).length > 0, `grants[${index}] is routed "via" particular devices`);
    tri = downgrade(tri, strs(grant.srcposture).length > 0 || defaultPosture, `grants[${index}] holds only for devices that meet a posture`);
    results.push({ ref: { section: "grants", index }, tri });
  });
  arr(policy.acls).forEach((a, index) => {
    const acl = lowerKeys(a);
    const proto = typeof acl.proto === "string" && acl.proto !== "" ? acl.proto : undefined;
    const srcTri = coversAny(policy, strs(acl.src ?? acl.users), from, "src", undefined, why);
    if (srcTri === "no") {
      results.push({ ref: { section: "acls", index }, tri: "no" });
      return;
    }
    const dstTri = anyOf(
      strs(acl.dst ?? acl.ports).map((d) => {
        const hp = splitHostPorts(d.trim());
        if (!hp.ok) return "no";
        const spec = parseIpSpec(proto ? `${proto}:${hp.value.ports}` : hp.value.ports);
        if (!spec.ok) return "no";
        const portTri = specAllows(spec.value, ctx.protos, ctx.port, why);
        return portTri === "no" ? "no" : and(portTri, covers(policy, hp.value.host, to, "dst", from, why));
      }),
    );
    let tri = and(srcTri, dstTri);
    tri = downgrade(tri, strs(acl.srcposture).length > 0 || defaultPosture, `acls[${index}] holds only for devices that meet a posture`);
    results.push({ ref: { section: "acls", index }, tri });
  });
  return { tri: anyOf(results.map((r) => r.tri)), allowedBy: results.filter((r) => r.tri === "yes").map((r) => r.ref) };
}

const lowered = new WeakMap<object, Record<string, unknown>>();
/** An entry with its field names in lower case (Tailscale reads them without regard to case). */
function lowerKeys(v: unknown): Record<string, unknown> {
  const o = obj(v);
  let hit = lowered.get(o);
  if (!hit) {
    hit = Object.fromEntries(Object.entries(o).map(([k, x]) => [k.toLowerCase(), x]));
    lowered.set(o, hit);
  }
  return hit;
}

/**
 * Would test source `src` reach `dst` (`host:port`) over `proto` (none: TCP, UDP or ICMP)?
 * Every address of the source must reach (a group: every member).
 */
export function evaluateConnection(policy: PolicyObject, src: string, dst: string, proto?: string): Verdict {
  const why = new Why();
  const hp = splitHostPorts(dst.trim());
  const ports = hp.ok ? parsePorts(hp.value.ports) : undefined;
  if (!hp.ok || !ports?.ok || ports.value.length !== 1 || ports.value[0].first !== ports.value[0].last) {
    return { result: "unknown", allowedBy: [], why: `${JSON.stringify(dst)} is not one host and one port` };
  }
  const port = ports.value[0].first;
  const froms = whoOf(policy, src);
  if (froms.length === 0) return { result: "unknown", allowedBy: [], why: `${src} has no members` };
  const tos = whoOf(policy, hp.value.host);
  const ctx: Ctx = { policy, protos: testProtocols(proto), port };
  const perSource = froms.map((from) => {
    // A destination that is several devices (a group) is reached when any of them is.
    const perDst = tos.map((to) => connection(ctx, from, to, why));
    if (perDst.length === 0) why.add(`${hp.value.host} has no members`);
    return { tri: perDst.length ? anyOf(perDst.map((d) => d.tri)) : ("unknown" as Tri), allowedBy: perDst.flatMap((d) => d.allowedBy) };
  });
  const result = allOf(perSource.map((p) => p.tri));
  const someYes = perSource.some((p) => p.tri === "yes");
  const allowedBy = someYes ? dedupe(perSource.flatMap((p) => p.allowedBy)) : [];
  return { result, someYes, allowedBy, why: result === "unknown" ? why.text() || "depends on the tailnet" : result === "no" ? "no rule allows it" : "" };
}

function dedupe(refs: readonly RuleRef[]): RuleRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const k = `${r.section}[${r.index}]`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export type TestResult = "pass" | "fail" | "unknown";
export interface TestVerdict {
  readonly result: TestResult;
  readonly why: string;
  /** For a failed deny: the rules that allow it. */
  readonly allowedBy: readonly RuleRef[];
}

const ref = (r: RuleRef) => `${r.section}[${r.index}]`;

/** One `tests` entry: every accept destination reached, no deny destination reached. */
export function evaluateTest(policy: PolicyObject, test: unknown): TestVerdict {
  const t = lowerKeys(test);
  const src = typeof t.src === "string" ? t.src : "";
  const proto = typeof t.proto === "string" && t.proto !== "" ? t.proto : undefined;
  const unknowns: string[] = [];
  if (t.srcpostureattrs !== undefined) unknowns.push("the test sets srcPostureAttrs, which are not evaluated offline");
  for (const dst of strs(t.accept)) {
    const v = evaluateConnection(policy, src, dst, proto);
    if (v.result === "no") return { result: "fail", why: `${src} cannot reach ${dst}: ${v.why}`, allowedBy: [] };
    if (v.result === "unknown") unknowns.push(`accept ${dst}: ${v.why}`);
  }
  for (const dst of strs(t.deny)) {
    const v = evaluateConnection(policy, src, dst, proto);
    if (v.result === "yes") return { result: "fail", why: `${src} reaches ${dst}, allowed by ${v.allowedBy.map(ref).join(", ")}`, allowedBy: v.allowedBy };
    // Some members of a group reach it and others don't: how the control plane counts that is not certain.
    if (v.result === "no" && v.someYes) unknowns.push(`deny ${dst}: some of ${src} reach it (${v.allowedBy.map(ref).join(", ")}) and some don't`);
    if (v.result === "unknown") unknowns.push(`deny ${dst}: ${v.why}`);
  }
  if (unknowns.length) return { result: "unknown", why: unknowns.slice(0, 2).join("; "), allowedBy: [] };
  return { result: "pass", why: "", allowedBy: [] };
}

/** Does an SSH rule's `users` let `who` log in as `login`? */
function sshUserAllowed(users: readonly string[], login: string, who: Who, why: Why): Tri {
  const results = users.map((u): Tri => {
    const s = u.trim();
    if (s === login) return "yes";
    if (s === "autogroup:nonroot") return login !== "root" && login !== "" ? "yes" : "no";
    const lp = /^localpart:\*@(.+)$/.exec(s);
    if (lp) {
      if (who.kind !== "user") return who.kind === "tag" ? "no" : why.add("localpart: depends on who logs in");
      const at = who.name.lastIndexOf("@");
      return who.name.slice(at + 1) === lp[1] && who.name.slice(0, at) === login ? "yes" : "no";
    }
    return "no";
  });
  return anyOf(results);
}

/** One `sshTests` entry: accept (any rule), check (a check rule) and deny (no rule), for every dst. */
export function evaluateSshTest(policy: PolicyObject, test: unknown): TestVerdict {
  const t = lowerKeys(test);
  const src = typeof t.src === "string" ? t.src : "";
  const froms = whoOf(policy, src);
  if (froms.length === 0) return { result: "unknown", why: `${src} has no members`, allowedBy: [] };
  const rules = arr(policy.ssh).map((r, index) => ({ rule: lowerKeys(r), index }));
  const unknowns: string[] = [];
  for (const dst of strs(t.dst)) {
    const tos = dst.trim() === "autogroup:self" ? null : whoOf(policy, dst);
    const reach = (login: string, onlyCheck: boolean): { tri: Tri; by: RuleRef[]; why: string } => {
      const why = new Why();
      const per = froms.map((from) => {
        const to: Who | undefined = tos === null ? (from.kind === "user" ? from : undefined) : tos[0];
        const tris = rules.map(({ rule, index }) => {
          if (onlyCheck && rule.action !== "check") return { tri: "no" as Tri, index };
          if (!to) return { tri: "no" as Tri, index };
          const tri = and(
            and(coversAny(policy, strs(rule.src), from, "src", undefined, why), coversAny(policy, strs(rule.dst), to, "dst", from, why)),
            sshUserAllowed(strs(rule.users), login, from, why),
          );
          return { tri, index };
        });
        return { tri: anyOf(tris.map((x) => x.tri)), by: tris.filter((x) => x.tri === "yes").map((x) => ({ section: "ssh" as const, index: x.index })) };
      });
      return { tri: allOf(per.map((p) => p.tri)), by: per.flatMap((p) => p.by), why: why.text() || "depends on the tailnet" };
    };
    for (const [list, onlyCheck] of [
      [strs(t.accept), false],
      [strs(t.check), true],
    ] as const) {
      for (const login of list) {
        const r = reach(login, onlyCheck);
        if (r.tri === "no") return { result: "fail", why: `${src} cannot log in to ${dst} as ${JSON.stringify(login)}${onlyCheck ? " through a check rule" : ""}`, allowedBy: [] };
        if (r.tri === "unknown") unknowns.push(`${dst} as ${login}: ${r.why}`);
      }
    }
    for (const login of strs(t.deny)) {
      const r = reach(login, false);
      if (r.tri === "yes") return { result: "fail", why: `${src} may log in to ${dst} as ${JSON.stringify(login)}, allowed by ${dedupe(r.by).map(ref).join(", ")}`, allowedBy: dedupe(r.by) };
      if (r.tri === "unknown") unknowns.push(`${dst} as ${login}: ${r.why}`);
    }
  }
  if (unknowns.length) return { result: "unknown", why: unknowns.slice(0, 2).join("; "), allowedBy: [] };
  return { result: "pass", why: "", allowedBy: [] };
}
