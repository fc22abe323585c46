/**
 * Checks a whole tailnet policy the way Tailscale's control plane does before it saves one: the
 * shape of every section, every name used defined, selectors of the right kind on each side,
 * ports, protocols, CIDRs, SSH users and actions, test shapes; then it runs the policy's `tests`
 * and `sshTests` (evaluate.ts). The verdict: "accepted", "rejected" (Tailscale would refuse the
 * file: invalid, or a test fails) or "unknown" (a test's answer depends on the live tailnet).
 *
 * Rules come from Tailscale's documentation (https://tailscale.com/kb/1337/policy-syntax,
 * /kb/1538/grants-syntax, /kb/1193/tailscale-ssh, /kb/1018/acls, /kb/1288/device-posture,
 * /kb/1387/ip-sets) and from how juanfont/headscale reproduces the control plane
 * (hscontrol/policy/v2/types.go: validate(), validateTests, validateSSHTests). Each rule's source is
 * listed beside its case in __tests__/tailnet-policy-check.test.ts.
 */
import { Node as JsonNode, ParseError, parse, parseTree, printParseErrorCode } from "jsonc-parser";
import { evaluateSshTest, evaluateTest, TestResult } from "./evaluate";
import { KNOWN_AUTOGROUPS, ROLE_AUTOGROUPS, TAG_NAME, parseAlias, parseIpSpec, parsePrefix, parseProtocol, prefixesOverlap, prefixContains, splitHostPorts, parsePorts, Alias } from "./syntax";
import { PolicyObject } from "./types";

export interface CheckError {
  /** Where in the file: `grants[3].dst[0]`, `groups["group:ops"][1]`, `` for the whole file. */
  readonly path: string;
  readonly message: string;
}
export interface TestOutcome {
  /** Position in `tests`; `sshTests` entries follow, numbered after the last of `tests`. */
  readonly index: number;
  readonly result: TestResult;
  readonly why: string;
}
export type PolicyVerdict = "accepted" | "rejected" | "unknown";
export interface CheckResult {
  readonly verdict: PolicyVerdict;
  readonly errors: readonly CheckError[];
  readonly tests: readonly TestOutcome[];
  /** The policy with its top-level sections under their canonical names (when it parsed). */
  readonly policy?: PolicyObject;
}

const show = (v: unknown) => JSON.stringify(v);
const key = (k: string) => `[${show(k)}]`;
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : `a ${typeof v}`);

/** Top-level sections Tailscale accepts (names match case-insensitively, as Go's JSON decoding does). */
const TOP_LEVEL = [
  "acls",
  "grants",
  "groups",
  "hosts",
  "tagOwners",
  "autoApprovers",
  "ssh",
  "sshTests",
  "tests",
  "nodeAttrs",
  "postures",
  "defaultSrcPosture",
  "ipsets",
  "derpMap",
  "disableIPv4",
  "OneCGNATRoute",
  "randomizeClientPort",
  "attrConfig",
] as const;

class Checker {
  readonly errors: CheckError[] = [];
  readonly p: Record<string, unknown>;
  constructor(policy: Record<string, unknown>) {
    this.p = policy;
  }
  err(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  /** The object's fields by canonical name; unknown or doubled names are errors. */
  fields(v: Record<string, unknown>, allowed: readonly string[], path: string): Record<string, unknown> {
    const byLower = new Map(allowed.map((a) => [a.toLowerCase(), a]));
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      const canon = byLower.get(k.toLowerCase());
      const at = path ? `${path}.${k}` : k;
      if (!canon) {
        this.err(at, `unknown field ${show(k)}; allowed: ${allowed.join(", ")}`);
        continue;
      }
      if (canon in out) {
        this.err(at, `field ${show(canon)} is given twice (names are not case-sensitive)`);
        continue;
      }
      out[canon] = val;
    }
    return out;
  }

  /** A list of strings (or an error naming what it is instead). */
  strings(v: unknown, path: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string[] | undefined {
    if (v === undefined) {
      if (opts.required) this.err(path, "is required (a list of strings)");
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.err(path, `must be a list of strings, not ${typeName(v)}`);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((x, i) => {
      if (typeof x !== "string") this.err(`${path}[${i}]`, `must be a string, not ${typeName(x)}`);
      else out.push(x);
    });
    if (opts.nonEmpty && v.length === 0) this.err(path, "must not be empty");
    return out.length === v.length ? out : undefined;
  }

  get groups(): Record<string, unknown> {
    return isObj(this.p.groups) ? this.p.groups : {};
  }
  get tagOwners(): Record<string, unknown> {
    return isObj(this.p.tagOwners) ? this.p.tagOwners : {};
  }
  get hosts(): Record<string, unknown> {
    return isObj(this.p.hosts) ? this.p.hosts : {};
  }

  /**
   * A selector, checked for its place: `allowed` lists the kinds that may appear there, and
   * `autogroups` the autogroups. Names used must be defined.
   */
  selector(raw: string, path: string, allowed: readonly Alias["kind"][], autogroups: readonly string[], where: string): Alias | undefined {
    const a = parseAlias(raw);
    if (!a.ok) {
      this.err(path, a.error);
      return undefined;
    }
    const v = a.value;
    if (!allowed.includes(v.kind)) {
      this.err(path, `${show(raw)} (${kindName(v)}) is not allowed in ${where}`);
      return undefined;
    }
    switch (v.kind) {
      case "group":
        if (!(v.name in this.groups)) this.err(path, `group ${show(v.name)} is not defined`);
        break;
      case "tag":
        if (!(v.name in this.tagOwners)) this.err(path, `tag ${show(v.name)} is not defined in tagOwners`);
        break;
      case "host":
        if (!(v.name in this.hosts)) this.err(path, `host ${show(v.name)} is not defined in hosts`);
        break;
      case "ipset":
        if (!(isObj(this.p.ipsets) && v.name in this.p.ipsets)) this.err(path, `IP set ${show(v.name)} is not defined in ipsets`);
        break;
      case "autogroup":
        if (!autogroups.includes(v.name)) this.err(path, `${v.name} is not allowed in ${where}${autogroups.length ? ` (autogroups allowed there: ${autogroups.join(", ")})` : ""}`);
        break;
    }
    return v;
  }
}

function kindName(a: Alias): string {
  return { any: "wildcard", prefix: "an IP or CIDR", user: "a user", group: "a group", tag: "a tag", autogroup: "an autogroup", host: "a host", ipset: "an IP set" }[a.kind];
}

const ALL_KINDS: readonly Alias["kind"][] = ["any", "prefix", "user", "group", "tag", "autogroup", "host", "ipset"];
const SRC_AUTOGROUPS = ["autogroup:member", "autogroup:tagged", "autogroup:shared", "autogroup:danger-all", ...ROLE_AUTOGROUPS];
const DST_AUTOGROUPS = ["autogroup:internet", "autogroup:member", "autogroup:tagged", "autogroup:self"];
const SSH_SRC_AUTOGROUPS = ["autogroup:member", "autogroup:tagged", ...ROLE_AUTOGROUPS];
const SSH_DST_AUTOGROUPS = ["autogroup:member", "autogroup:tagged", "autogroup:self"];
const OWNER_AUTOGROUPS = ["autogroup:member", ...ROLE_AUTOGROUPS];
const NODEATTR_AUTOGROUPS = ["autogroup:member", "autogroup:tagged"];
/** Capabilities in the tailscale.com domain a policy may grant (others are the control plane's own). */
const TAILSCALE_APP_CAPS = new Set([
  "tailscale.com/cap/drive",
  "tailscale.com/cap/relay",
  "tailscale.com/cap/webui",
  "tailscale.com/cap/kubernetes",
  "tailscale.com/cap/tsidp",
  "tailscale.com/cap/secrets",
]);
/** 100.100.100.0/24 (MagicDNS) and 100.115.92.0/23 are Tailscale's own (https://tailscale.com/kb/1304/ip-pool). */
const RESERVED_POOL = [parsePrefix("100.100.100.0/24")!, parsePrefix("100.115.92.0/23")!];
const CGNAT = parsePrefix("100.64.0.0/10")!;

/** Parses HuJSON without throwing: the value, or errors with line and column. */
export function parsePolicyText(text: string): { value?: unknown; errors: CheckError[] } {
  const errors: ParseError[] = [];
  const opts = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false };
  let value: unknown;
  try {
    value = parse(text.replace(/^\uFEFF/, ""), errors, opts);
  } catch (e) {
    // The parser recurses: thousands of nested brackets overflow the stack (Go's decoder stops at 10,000 too).
    if (e instanceof RangeError) return { errors: [{ path: "", message: "not valid HuJSON: nested too deeply" }] };
    throw e;
  }
  if (errors.length) {
    const e = errors[0];
    return { errors: [{ path: "", message: `not valid HuJSON: ${printParseErrorCode(e.error)} at ${lineCol(text, e.offset)}` }] };
  }
  const dup = duplicateKey(parseTree(text.replace(/^\uFEFF/, ""), [], opts));
  if (dup) return { errors: [{ path: dup.path, message: dup.message ?? `key ${show(dup.key)} appears twice in one object (again at ${lineCol(text, dup.offset)})` }] };
  return { value, errors: [] };
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

function duplicateKey(node: JsonNode | undefined, path = ""): { key: string; offset: number; path: string; message?: string } | undefined {
  if (!node) return undefined;
  if (node.type === "object") {
    const seen = new Set<string>();
    for (const prop of node.children ?? []) {
      const k = String(prop.children?.[0]?.value);
      // JavaScript objects can't hold this key as data (it sets the prototype), so it would vanish
      // from the checked value while Tailscale sees it: refuse it outright.
      if (k === "__proto__") return { key: k, offset: prop.children![0].offset, path, message: 'the key "__proto__" is not allowed in a policy' };
      if (seen.has(k)) return { key: k, offset: prop.children![0].offset, path };
      seen.add(k);
      const found = duplicateKey(prop.children?.[1], path ? `${path}.${k}` : k);
      if (found) return found;
    }
    return undefined;
  }
  let i = 0;
  for (const child of node.children ?? []) {
    const found = duplicateKey(child, `${path}[${i++}]`);
    if (found) return found;
  }
  return undefined;
}

/** Checks policy text (HuJSON). */
export function checkPolicyText(text: string): CheckResult {
  try {
    const parsed = parsePolicyText(text);
    if (parsed.errors.length) return { verdict: "rejected", errors: parsed.errors, tests: [] };
    return checkPolicy(parsed.value);
  } catch (e) {
    if (e instanceof RangeError) return { verdict: "rejected", errors: [{ path: "", message: "not valid HuJSON: nested too deeply" }], tests: [] };
    throw e;
  }
}

/** Checks a policy value (as parsed from JSON), then runs its tests when it is valid. */
export function checkPolicy(value: unknown): CheckResult {
  const errors = validatePolicy(value);
  if (errors.errors.length) return { verdict: "rejected", errors: errors.errors, tests: [] };
  const policy = errors.policy!;
  const tests = runPolicyTests(policy);
  const verdict: PolicyVerdict = tests.some((t) => t.result === "fail") ? "rejected" : tests.some((t) => t.result === "unknown") ? "unknown" : "accepted";
  return { verdict, errors: [], tests, policy };
}

/** Runs every `tests` and `sshTests` entry of a valid policy. */
export function runPolicyTests(policy: PolicyObject): TestOutcome[] {
  const tests = Array.isArray(policy.tests) ? policy.tests : [];
  const out: TestOutcome[] = tests.map((t, index) => {
    const v = evaluateTest(policy, t);
    return { index, result: v.result, why: v.why ? `tests[${index}]: ${v.why}` : "" };
  });
  (Array.isArray(policy.sshTests) ? policy.sshTests : []).forEach((t, j) => {
    const v = evaluateSshTest(policy, t);
    out.push({ index: tests.length + j, result: v.result, why: v.why ? `sshTests[${j}]: ${v.why}` : "" });
  });
  return out;
}

/** Validation only: every error, and the policy with canonical section names. */
export function validatePolicy(value: unknown): { errors: CheckError[]; policy?: PolicyObject } {
  if (!isObj(value)) return { errors: [{ path: "", message: `a policy must be a JSON object, not ${typeName(value)}` }] };
  const probe = new Checker({});
  const top = probe.fields(value, TOP_LEVEL, "");
  const c = new Checker(top);
  c.errors.push(...probe.errors);
  checkGroups(c);
  checkHosts(c);
  checkTagOwners(c);
  checkIpsets(c);
  checkPostures(c);
  checkAcls(c);
  checkGrants(c);
  checkSsh(c);
  checkAutoApprovers(c);
  checkNodeAttrs(c);
  checkTests(c);
  checkSshTests(c);
  checkSettings(c);
  return { errors: c.errors, policy: c.errors.length ? undefined : (top as PolicyObject) };
}

function section(c: Checker, name: string, kind: "object" | "list"): unknown {
  const v = c.p[name];
  if (v === undefined || v === null) return undefined;
  if (kind === "object" && !isObj(v)) {
    c.err(name, `must be an object, not ${typeName(v)}`);
    return undefined;
  }
  if (kind === "list" && !Array.isArray(v)) {
    c.err(name, `must be a list, not ${typeName(v)}`);
    return undefined;
  }
  return v;
}

function eachEntry(c: Checker, name: string, fn: (entry: Record<string, unknown>, path: string) => void): void {
  const list = section(c, name, "list") as unknown[] | undefined;
  (list ?? []).forEach((e, i) => {
    const path = `${name}[${i}]`;
    if (!isObj(e)) return c.err(path, `must be an object, not ${typeName(e)}`);
    fn(e, path);
  });
}

function checkGroups(c: Checker): void {
  const groups = section(c, "groups", "object") as Record<string, unknown> | undefined;
  for (const [name, members] of Object.entries(groups ?? {})) {
    const path = `groups${key(name)}`;
    if (!name.startsWith("group:") || name.length === 6) c.err(path, `group names start with "group:" (got ${show(name)})`);
    const list = c.strings(members, path, { required: true });
    (list ?? []).forEach((m, i) => {
      const s = m.trim();
      if (s.startsWith("group:")) c.err(`${path}[${i}]`, `${show(m)}: a group cannot contain another group`);
      else if (!s.includes("@") || s.startsWith("tag:") || s.startsWith("autogroup:")) c.err(`${path}[${i}]`, `${show(m)} is not a user (groups hold users, such as alice@example.com)`);
    });
  }
}

function checkHosts(c: Checker): void {
  const hosts = section(c, "hosts", "object") as Record<string, unknown> | undefined;
  for (const [name, addr] of Object.entries(hosts ?? {})) {
    const path = `hosts${key(name)}`;
    if (name.includes("@") || name.includes(":") || name.trim() === "" || name === "*") c.err(path, `${show(name)} is not a host name (no "@" or ":")`);
    if (typeof addr !== "string") c.err(path, `must be an IP address or CIDR string, not ${typeName(addr)}`);
    else if (!parsePrefix(addr.trim())) c.err(path, `${show(addr)} is not an IP address or CIDR${addr.includes("%") ? " (IPv6 zone ids are not allowed)" : ""}`);
  }
}

function checkTagOwners(c: Checker): void {
  const owners = section(c, "tagOwners", "object") as Record<string, unknown> | undefined;
  for (const [tag, list] of Object.entries(owners ?? {})) {
    const path = `tagOwners${key(tag)}`;
    if (!TAG_NAME.test(tag)) c.err(path, `${show(tag)} is not a tag name ("tag:" then a letter, then letters, digits or "-")`);
    (c.strings(list, path, { required: true }) ?? []).forEach((o, i) => {
      c.selector(o, `${path}[${i}]`, ["user", "group", "tag", "autogroup"], OWNER_AUTOGROUPS, "tagOwners (owners are users, groups, tags or autogroup:admin)");
    });
  }
  // A tag owned only through a chain of tags that loops never has a human owner.
  const graph = new Map(Object.entries(owners ?? {}).map(([t, l]) => [t, Array.isArray(l) ? l.filter((x): x is string => typeof x === "string" && x.startsWith("tag:")) : []]));
  for (const start of graph.keys()) {
    const seen = new Set<string>();
    const walk = (t: string): boolean => {
      if (t === start && seen.size) return true;
      if (seen.has(t)) return false;
      seen.add(t);
      return (graph.get(t) ?? []).some(walk);
    };
    if ((graph.get(start) ?? []).some(walk)) {
      c.err(`tagOwners${key(start)}`, `${start} owns itself through a loop of tag owners`);
      break;
    }
  }
}

function checkIpsets(c: Checker): void {
  const sets = section(c, "ipsets", "object") as Record<string, unknown> | undefined;
  for (const [name, list] of Object.entries(sets ?? {})) {
    const path = `ipsets${key(name)}`;
    if (!name.startsWith("ipset:") || name.length === 6) c.err(path, `IP set names start with "ipset:" (got ${show(name)})`);
    (c.strings(list, path, { required: true }) ?? []).forEach((e, i) => {
      const s = e.trim().replace(/^(add|remove)\s+/, "");
      if (s.startsWith("ipset:") || s.startsWith("host:")) {
        const ref = s.startsWith("host:") ? s.slice(5) : s;
        const defined = s.startsWith("host:") ? ref in c.hosts : isObj(c.p.ipsets) && ref in c.p.ipsets;
        if (!defined) c.err(`${path}[${i}]`, `${show(e)} refers to something not defined`);
        return;
      }
      const range = /^([^-\s]+)-([^-\s]+)$/.exec(s);
      if (range ? !(parsePrefix(range[1]) && parsePrefix(range[2])) : !parsePrefix(s)) c.err(`${path}[${i}]`, `${show(e)} is not an IP, CIDR, range, host:… or ipset:…`);
    });
  }
}

function checkPostures(c: Checker): void {
  const postures = section(c, "postures", "object") as Record<string, unknown> | undefined;
  for (const [name, list] of Object.entries(postures ?? {})) {
    const path = `postures${key(name)}`;
    if (!name.startsWith("posture:") || name.length === 8) c.err(path, `posture names start with "posture:" (got ${show(name)})`);
    (c.strings(list, path, { required: true }) ?? []).forEach((cond, i) => {
      if (!/^\s*[A-Za-z][\w:.]*\s*(==|!=|<=|>=|<|>|IN|NOT IN)\s*\S/.test(cond)) c.err(`${path}[${i}]`, `${show(cond)} is not a posture condition such as "node:os == 'linux'"`);
    });
  }
  postureRefs(c, c.p.defaultSrcPosture, "defaultSrcPosture");
}

function postureRefs(c: Checker, v: unknown, path: string): void {
  (c.strings(v, path) ?? []).forEach((p, i) => {
    if (!p.startsWith("posture:")) c.err(`${path}[${i}]`, `${show(p)} is not a posture name (posture:…)`);
    else if (!(isObj(c.p.postures) && p in c.p.postures)) c.err(`${path}[${i}]`, `posture ${show(p)} is not defined in postures`);
  });
}

/** autogroup:self as a destination: every source must be a user, a group or autogroup:member (grants: no "*"). */
function selfSources(c: Checker, src: readonly string[], dst: readonly string[], path: string, starOk: boolean): void {
  if (!dst.some((d) => d.trim() === "autogroup:self")) return;
  const badSrc = src.find((s) => {
    const a = parseAlias(s);
    if (!a.ok) return false;
    const k = a.value.kind;
    return !(k === "user" || k === "group" || (k === "autogroup" && a.value.name === "autogroup:member") || (k === "any" && starOk));
  });
  if (badSrc !== undefined) c.err(`${path}.src`, `${show(badSrc)} cannot be a source for autogroup:self (only users, groups or autogroup:member${starOk ? ', or "*"' : ""})`);
}

function checkAcls(c: Checker): void {
  eachEntry(c, "acls", (raw, path) => {
    const a = c.fields(raw, ["action", "src", "dst", "proto", "users", "ports", "srcPosture"], path);
    if (a.action !== "accept") c.err(`${path}.action`, a.action === undefined ? 'is required ("accept")' : `${show(a.action)} is not allowed; the only action is "accept"`);
    if (a.src !== undefined && a.users !== undefined) c.err(path, 'give "src" or the older "users", not both');
    if (a.dst !== undefined && a.ports !== undefined) c.err(path, 'give "dst" or the older "ports", not both');
    const srcName = a.src === undefined && a.users !== undefined ? "users" : "src";
    const dstName = a.dst === undefined && a.ports !== undefined ? "ports" : "dst";
    const src = c.strings(a[srcName], `${path}.${srcName}`, { required: true }) ?? [];
    src.forEach((s, i) => c.selector(s, `${path}.${srcName}[${i}]`, ALL_KINDS, SRC_AUTOGROUPS, "an ACL's src"));
    let proto: number | undefined;
    if (a.proto !== undefined && a.proto !== "") {
      if (typeof a.proto !== "string") c.err(`${path}.proto`, `must be a string, not ${typeName(a.proto)}`);
      else {
        const p = parseProtocol(a.proto);
        if (!p.ok) c.err(`${path}.proto`, p.error);
        else proto = p.value;
      }
    }
    const dst = c.strings(a[dstName], `${path}.${dstName}`, { required: true }) ?? [];
    dst.forEach((d, i) => {
      const at = `${path}.${dstName}[${i}]`;
      const hp = splitHostPorts(d.trim());
      if (!hp.ok) return c.err(at, hp.error);
      const ports = parsePorts(hp.value.ports);
      if (!ports.ok) return c.err(at, ports.error);
      if (proto !== undefined && ![6, 17, 132].includes(proto) && !(ports.value.length === 1 && ports.value[0].first === 0 && ports.value[0].last === 65535)) {
        c.err(at, `protocol ${show(a.proto)} has no ports; write ${show(`${hp.value.host}:*`)}`);
      }
      const alias = c.selector(hp.value.host, at, ALL_KINDS, DST_AUTOGROUPS, "an ACL's dst");
      if (alias?.kind === "autogroup" && alias.name === "autogroup:danger-all") c.err(at, "autogroup:danger-all cannot be a destination");
    });
    selfSources(c, src, dst.map((d) => (splitHostPorts(d.trim()) as { ok: boolean; value?: { host: string } }).value?.host ?? ""), path, true);
    postureRefs(c, a.srcPosture, `${path}.srcPosture`);
  });
}

function checkGrants(c: Checker): void {
  eachEntry(c, "grants", (raw, path) => {
    const g = c.fields(raw, ["src", "dst", "ip", "app", "via", "srcPosture"], path);
    const src = c.strings(g.src, `${path}.src`, { required: true }) ?? [];
    const dst = c.strings(g.dst, `${path}.dst`, { required: true }) ?? [];
    src.forEach((s, i) => c.selector(s, `${path}.src[${i}]`, ALL_KINDS, SRC_AUTOGROUPS, "a grant's src"));
    dst.forEach((d, i) => {
      const at = `${path}.dst[${i}]`;
      if (/:(\*|\d[\d,-]*)$/.test(d.trim()) && !parseAlias(d).ok) return c.err(at, `${show(d)}: a grant's dst takes no port; put ports in "ip" (e.g. "tcp:${d.split(":").pop()}")`);
      const a = c.selector(d, at, ALL_KINDS, DST_AUTOGROUPS, "a grant's dst");
      if (a?.kind === "prefix" && a.prefix.length === 0) c.err(at, `${show(d)}: to allow every address use "*" or "autogroup:internet"`);
    });
    const ip = c.strings(g.ip, `${path}.ip`) ?? [];
    ip.forEach((spec, i) => {
      const s = parseIpSpec(spec.trim());
      if (!s.ok) c.err(`${path}.ip[${i}]`, s.error);
    });
    let appCount = 0;
    if (g.app !== undefined) {
      if (!isObj(g.app)) c.err(`${path}.app`, `must be an object of capability names, not ${typeName(g.app)}`);
      else {
        for (const [cap, vals] of Object.entries(g.app)) {
          appCount++;
          const at = `${path}.app${key(cap)}`;
          if (cap.includes("://") || !/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}\/\S+$/.test(cap)) c.err(at, `${show(cap)}: a capability name has the form domain/path (e.g. example.com/cap/app)`);
          else if (cap.startsWith("tailscale.com/") && !TAILSCALE_APP_CAPS.has(cap)) c.err(at, `${show(cap)} is in the tailscale.com domain and not one a policy may grant (${[...TAILSCALE_APP_CAPS].join(", ")})`);
          if (!Array.isArray(vals)) c.err(at, `must be a list of objects, not ${typeName(vals)}`);
          else vals.forEach((v, i) => isObj(v) || c.err(`${at}[${i}]`, `must be an object, not ${typeName(v)}`));
        }
        if (appCount && dst.some((d) => d.trim() === "autogroup:internet")) c.err(`${path}.app`, "app capabilities cannot be granted on autogroup:internet");
      }
    }
    if (ip.length === 0 && appCount === 0 && (g.ip === undefined || Array.isArray(g.ip)) && (g.app === undefined || isObj(g.app))) {
      c.err(path, 'needs "ip" (network access, e.g. ["tcp:443"]) or "app" (capabilities), or both');
    }
    (c.strings(g.via, `${path}.via`) ?? []).forEach((v, i) => {
      if (!TAG_NAME.test(v.trim())) c.err(`${path}.via[${i}]`, `${show(v)}: via takes tags only`);
      else if (!(v.trim() in c.tagOwners)) c.err(`${path}.via[${i}]`, `tag ${show(v.trim())} is not defined in tagOwners`);
    });
    postureRefs(c, g.srcPosture, `${path}.srcPosture`);
    selfSources(c, src, dst, path, false);
  });
}

/** A Go duration ("12h", "1h30m", "90m") in seconds, or undefined. */
function goDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const m = /^-?((\d+(\.\d+)?)(h|m|s|ms|us|µs|ns))+$/.test(s);
  if (!m) return undefined;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, "µs": 1e-6, ns: 1e-9 };
  let total = 0;
  for (const part of s.replace(/^-/, "").matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(part[1]) * unit[part[2]];
  return s.startsWith("-") ? -total : total;
}

function checkSsh(c: Checker): void {
  eachEntry(c, "ssh", (raw, path) => {
    const r = c.fields(raw, ["action", "src", "dst", "users", "checkPeriod", "acceptEnv", "recorder", "enforceRecorder"], path);
    if (r.action !== "accept" && r.action !== "check") c.err(`${path}.action`, r.action === undefined ? 'is required ("accept" or "check")' : `${show(r.action)} is not "accept" or "check"`);
    const src = c.strings(r.src, `${path}.src`, { required: true, nonEmpty: true }) ?? [];
    const dst = c.strings(r.dst, `${path}.dst`, { required: true, nonEmpty: true }) ?? [];
    const srcAliases = src.map((s, i) => c.selector(s, `${path}.src[${i}]`, ["user", "group", "tag", "autogroup"], SSH_SRC_AUTOGROUPS, "an SSH rule's src"));
    const tagged = srcAliases.some((a) => a?.kind === "tag" || (a?.kind === "autogroup" && a.name === "autogroup:tagged"));
    dst.forEach((d, i) => {
      const at = `${path}.dst[${i}]`;
      if (d.trim() === "*") return c.err(at, '"*" is not allowed as an SSH destination; use autogroup:member, autogroup:tagged, autogroup:self or tags');
      const a = c.selector(d, at, ["user", "tag", "autogroup"], SSH_DST_AUTOGROUPS, "an SSH rule's dst");
      if (!a) return;
      if (a.kind === "user") {
        if (tagged) c.err(at, `tagged sources cannot SSH into a user's devices (${a.name})`);
        else if (!(srcAliases.length === 1 && srcAliases[0]?.kind === "user" && srcAliases[0].name === a.name)) c.err(at, `${a.name} as a destination needs that same user, alone, as the source; use autogroup:self`);
      }
      if (a.kind === "autogroup" && tagged && (a.name === "autogroup:self" || a.name === "autogroup:member")) c.err(at, `tagged sources cannot SSH into ${a.name} (user-owned devices)`);
    });
    const users = c.strings(r.users, `${path}.users`, { required: true, nonEmpty: true }) ?? [];
    users.forEach((u, i) => {
      const s = u.trim();
      // Anything else is a literal login name (a malformed localpart: too), as the control plane reads it.
      if (s === "" || s === "*") c.err(`${path}.users[${i}]`, `${show(u)} is not a login name (give names, "root", "autogroup:nonroot" or "localpart:*@domain")`);
    });
    if (r.checkPeriod !== undefined) {
      if (r.action !== "check") c.err(`${path}.checkPeriod`, 'only applies to action "check"');
      else if (typeof r.checkPeriod !== "string") c.err(`${path}.checkPeriod`, `must be a duration string such as "12h" or "always", not ${typeName(r.checkPeriod)}`);
      else if (r.checkPeriod !== "always") {
        const secs = goDuration(r.checkPeriod);
        if (secs === undefined) c.err(`${path}.checkPeriod`, `${show(r.checkPeriod)} is not a duration such as "12h", "30m" or "always"`);
        else if (secs < 0) c.err(`${path}.checkPeriod`, `${show(r.checkPeriod)} must be positive`);
        else if (secs > 168 * 3600) c.err(`${path}.checkPeriod`, `${show(r.checkPeriod)} is above the maximum (168h)`);
      }
    }
    (c.strings(r.acceptEnv, `${path}.acceptEnv`) ?? []).forEach((e, i) => e === "" && c.err(`${path}.acceptEnv[${i}]`, "must not be empty"));
    c.strings(r.recorder, `${path}.recorder`)?.forEach((t, i) => c.selector(t, `${path}.recorder[${i}]`, ["tag"], [], "recorder (tags of recorder nodes)"));
    if (r.enforceRecorder !== undefined && typeof r.enforceRecorder !== "boolean") c.err(`${path}.enforceRecorder`, `must be true or false, not ${typeName(r.enforceRecorder)}`);
  });
}

function approvers(c: Checker, v: unknown, path: string): void {
  (c.strings(v, path, { required: true }) ?? []).forEach((a, i) => c.selector(a, `${path}[${i}]`, ["user", "group", "tag", "autogroup"], [...OWNER_AUTOGROUPS, "autogroup:tagged"], "autoApprovers"));
}

function checkAutoApprovers(c: Checker): void {
  const aa = section(c, "autoApprovers", "object") as Record<string, unknown> | undefined;
  if (!aa) return;
  const f = c.fields(aa, ["routes", "exitNode", "services"], "autoApprovers");
  if (f.routes !== undefined) {
    if (!isObj(f.routes)) c.err("autoApprovers.routes", `must be an object of CIDR → approvers, not ${typeName(f.routes)}`);
    else {
      for (const [cidr, list] of Object.entries(f.routes)) {
        const path = `autoApprovers.routes${key(cidr)}`;
        if (!cidr.includes("/") || !parsePrefix(cidr)) c.err(path, `${show(cidr)} is not a CIDR such as 10.0.0.0/16${cidr.includes("%") ? " (IPv6 zone ids are not allowed)" : ""}`);
        approvers(c, list, path);
      }
    }
  }
  if (f.exitNode !== undefined) approvers(c, f.exitNode, "autoApprovers.exitNode");
  if (f.services !== undefined) {
    if (!isObj(f.services)) c.err("autoApprovers.services", `must be an object, not ${typeName(f.services)}`);
    else for (const [svc, list] of Object.entries(f.services)) approvers(c, list, `autoApprovers.services${key(svc)}`);
  }
}

function checkNodeAttrs(c: Checker): void {
  eachEntry(c, "nodeAttrs", (raw, path) => {
    const n = c.fields(raw, ["target", "attr", "app", "ipPool"], path);
    (c.strings(n.target, `${path}.target`, { required: true }) ?? []).forEach((t, i) =>
      c.selector(t, `${path}.target[${i}]`, ["any", "prefix", "user", "group", "tag", "autogroup", "host"], NODEATTR_AUTOGROUPS, "nodeAttrs target"),
    );
    (c.strings(n.attr, `${path}.attr`) ?? []).forEach((a, i) => a.trim() === "" && c.err(`${path}.attr[${i}]`, "must not be empty"));
    if (n.app !== undefined && !isObj(n.app)) c.err(`${path}.app`, `must be an object, not ${typeName(n.app)}`);
    (c.strings(n.ipPool, `${path}.ipPool`) ?? []).forEach((p, i) => {
      const pre = p.includes("/") ? parsePrefix(p) : undefined;
      if (!pre) c.err(`${path}.ipPool[${i}]`, `${show(p)} is not a CIDR`);
      else if (!prefixContains(CGNAT, pre)) c.err(`${path}.ipPool[${i}]`, `${show(p)} must be inside 100.64.0.0/10`);
      else if (RESERVED_POOL.some((r) => prefixesOverlap(r, pre))) c.err(`${path}.ipPool[${i}]`, `${show(p)} overlaps a range Tailscale reserves (100.100.100.0/24, 100.115.92.0/23)`);
    });
  });
}

function testDestination(c: Checker, d: string, at: string): void {
  const hp = splitHostPorts(d.trim());
  if (!hp.ok) return c.err(at, hp.error);
  const ports = parsePorts(hp.value.ports);
  if (!ports.ok) return c.err(at, ports.error);
  if (ports.value.length !== 1 || ports.value[0].first !== ports.value[0].last) return c.err(at, `${show(d)}: a test names one port (no "*", list or range)`);
  const a = c.selector(hp.value.host, at, ALL_KINDS, [...DST_AUTOGROUPS.filter((g) => g !== "autogroup:internet"), ...ROLE_AUTOGROUPS], "a test's destination");
  if (hp.value.host.trim() === "autogroup:internet") c.err(at, "autogroup:internet cannot be a test destination");
  if (a?.kind === "prefix" && a.cidr && a.prefix.length < (a.prefix.version === 4 ? 32 : 128)) c.err(at, `${show(d)}: a test's destination is one host, not a CIDR range`);
  if (a?.kind === "host") {
    const p = typeof c.hosts[a.name] === "string" ? parsePrefix((c.hosts[a.name] as string).trim()) : undefined;
    if (p && p.length < (p.version === 4 ? 32 : 128)) c.err(at, `${show(d)}: host ${a.name} is a CIDR range; a test's destination is one host`);
  }
}

function checkTests(c: Checker): void {
  eachEntry(c, "tests", (raw, path) => {
    const t = c.fields(raw, ["src", "proto", "accept", "deny", "srcPostureAttrs"], path);
    if (typeof t.src !== "string" || t.src.trim() === "") c.err(`${path}.src`, t.src === undefined ? "is required (one user, group, tag, host or IP)" : `must be one non-empty string, not ${typeName(t.src)}`);
    else c.selector(t.src, `${path}.src`, ALL_KINDS, SRC_AUTOGROUPS, "a test's src");
    if (t.proto !== undefined && t.proto !== "") {
      const p = typeof t.proto === "string" ? parseProtocol(t.proto) : undefined;
      if (!p?.ok || ![6, 17, 132].includes(p.value)) c.err(`${path}.proto`, `${show(t.proto)}: a test's proto is tcp, udp or sctp (or left out)`);
    }
    const accept = c.strings(t.accept, `${path}.accept`) ?? [];
    const deny = c.strings(t.deny, `${path}.deny`) ?? [];
    if (accept.length === 0 && deny.length === 0 && (t.accept === undefined || Array.isArray(t.accept)) && (t.deny === undefined || Array.isArray(t.deny))) {
      c.err(path, 'needs at least one destination in "accept" or "deny"');
    }
    accept.forEach((d, i) => testDestination(c, d, `${path}.accept[${i}]`));
    deny.forEach((d, i) => testDestination(c, d, `${path}.deny[${i}]`));
    if (t.srcPostureAttrs !== undefined && !isObj(t.srcPostureAttrs)) c.err(`${path}.srcPostureAttrs`, `must be an object, not ${typeName(t.srcPostureAttrs)}`);
  });
}

function checkSshTests(c: Checker): void {
  eachEntry(c, "sshTests", (raw, path) => {
    const t = c.fields(raw, ["src", "dst", "accept", "check", "deny"], path);
    if (typeof t.src !== "string" || t.src.trim() === "") c.err(`${path}.src`, t.src === undefined ? "is required (one user, group, tag, host or IP)" : `must be one non-empty string, not ${typeName(t.src)}`);
    else c.selector(t.src, `${path}.src`, ["user", "group", "tag", "host", "prefix"], [], "an SSH test's src");
    const dst = c.strings(t.dst, `${path}.dst`, { required: true, nonEmpty: true }) ?? [];
    dst.forEach((d, i) => {
      const at = `${path}.dst[${i}]`;
      const a = parseAlias(d);
      if (a.ok && a.value.kind === "tag" && !(a.value.name in c.tagOwners)) return c.err(at, `tag ${show(a.value.name)} is not defined in tagOwners`);
      if (!a.ok && /:\d+$/.test(d.trim())) return c.err(at, `${show(d)}: an SSH test's dst takes no port`);
      const v = c.selector(d, at, ["user", "tag", "host", "prefix", "autogroup"], SSH_DST_AUTOGROUPS, "an SSH test's dst");
      if (v?.kind === "prefix" && v.prefix.length < (v.prefix.version === 4 ? 32 : 128)) c.err(at, `${show(d)}: an SSH test's dst is one host, not a CIDR range`);
    });
    for (const k of ["accept", "check", "deny"] as const) (c.strings(t[k], `${path}.${k}`) ?? []).forEach((u, i) => u.trim() === "" && c.err(`${path}.${k}[${i}]`, "must be a login name"));
    if (![t.accept, t.check, t.deny].some((l) => Array.isArray(l) && l.length)) c.err(path, 'needs at least one login name in "accept", "check" or "deny"');
  });
}

function checkSettings(c: Checker): void {
  for (const k of ["randomizeClientPort", "disableIPv4"]) {
    if (c.p[k] !== undefined && typeof c.p[k] !== "boolean") c.err(k, `must be true or false, not ${typeName(c.p[k])}`);
  }
  if (c.p.OneCGNATRoute !== undefined && typeof c.p.OneCGNATRoute !== "string") c.err("OneCGNATRoute", `must be a string, not ${typeName(c.p.OneCGNATRoute)}`);
  for (const k of ["derpMap", "attrConfig"]) {
    if (c.p[k] !== undefined && c.p[k] !== null && !isObj(c.p[k])) c.err(k, `must be an object, not ${typeName(c.p[k])}`);
  }
  if (isObj(c.p.derpMap)) {
    const d = c.fields(c.p.derpMap, ["Regions", "OmitDefaultRegions", "HomeParams"], "derpMap");
    if (d.Regions !== undefined && !isObj(d.Regions)) c.err("derpMap.Regions", `must be an object of region IDs, not ${typeName(d.Regions)}`);
    for (const [id, region] of Object.entries(isObj(d.Regions) ? d.Regions : {})) {
      if (!/^\d+$/.test(id)) c.err(`derpMap.Regions${key(id)}`, "region IDs are numbers");
      else if (region !== null && !isObj(region)) c.err(`derpMap.Regions${key(id)}`, `must be an object or null, not ${typeName(region)}`);
    }
  }
  void KNOWN_AUTOGROUPS;
}
