/**
 * Composes one tailnet policy from the user's own policy (the base) and what each system
 * contributes: contributions are merged in, deduplicated, in a stable order; a contradiction fails
 * naming both sources; nothing of the base is dropped or rewritten (additions are text insertions).
 */
import { fail } from "../../validation";
import { checkPolicy, parsePolicyText, validatePolicy } from "./check";
import { evaluateConnection, evaluateSshTest, evaluateTest, RuleRef } from "./evaluate";
import { HujsonEditor, inlineJson, parseHujson } from "./hujson";
import { Grant, NodeAttr, PolicyObject, PolicyTest, SshRule, SshTest } from "./types";

/** What one system adds to the policy. */
export interface PolicyContribution {
  readonly tagOwners?: Readonly<Record<string, readonly string[]>>;
  readonly grants?: readonly Grant[];
  readonly ssh?: readonly SshRule[];
  readonly autoApprovers?: {
    readonly routes?: Readonly<Record<string, readonly string[]>>;
    readonly exitNode?: readonly string[];
  };
  readonly nodeAttrs?: readonly NodeAttr[];
  /** Promises the system makes; Tailscale checks them on every save of the policy. */
  readonly tests?: readonly PolicyTest[];
  readonly sshTests?: readonly SshTest[];
}

/** A contribution and who made it (a construct path), for error messages. */
export interface SourcedContribution extends PolicyContribution {
  readonly source: string;
}

/** The user's policy: its text (kept verbatim) and where it came from. */
export interface BasePolicy {
  readonly text: string;
  /** e.g. `base policy (tailnet-policy.hujson)`. */
  readonly source: string;
}

export interface ComposeOptions {
  /**
   * A system's deny test that a rule of the base policy contradicts (e.g. the default allow-all
   * grant): "warn" leaves that promise out of the tests and reports it; "fail" stops synthesis.
   * A contradiction between two systems always fails.
   */
  readonly baseContradictions?: "warn" | "fail";
}

export interface ComposedPolicy {
  /** The whole policy as HuJSON: the base text with the additions inserted. */
  readonly text: string;
  /** The merged policy as a value. */
  readonly value: PolicyObject;
  /** Only what the contributions add beyond the base (the fragment for a policy kept elsewhere). */
  readonly additions: PolicyContribution;
  /** Promises left out because the base policy contradicts them, and other notes. */
  readonly warnings: readonly string[];
  /** Sources that added something, sorted. */
  readonly contributors: readonly string[];
}

const SECTIONS = ["tagOwners", "grants", "ssh", "autoApprovers", "nodeAttrs", "tests", "sshTests"] as const;

const sorted = (xs: readonly string[] | undefined): string[] => [...(xs ?? [])].sort();
const sameSet = (a: readonly string[], b: readonly string[]): boolean => inlineJson(sorted(a)) === inlineJson(sorted(b));
const show = (v: unknown): string => inlineJson(v);

/** Canonical text of a rule (arrays as sets), for deduplication. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    return `[${(value.every((v) => typeof v === "string") ? items.sort() : items).join(",")}]`;
  }
  if (value && typeof value === "object") {
    return `{${Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

const parsedBases = new WeakMap<BasePolicy, PolicyObject>();

/** Parses and checks the shape of the sections this project merges into (once per base). */
export function readBase(base: BasePolicy): PolicyObject {
  const known = parsedBases.get(base);
  if (known) return structuredClone(known);
  const parsed = parseBase(base);
  parsedBases.set(base, parsed);
  return structuredClone(parsed);
}

function parseBase(base: BasePolicy): PolicyObject {
  const value = parseHujson(base.text, base.source);
  // The whole base, checked as Tailscale would check it, before anything is merged into it: the
  // first problem as one line naming the entry (tailnetPolicy.base: grants[3].dst[0]: ...).
  const checked = checkPolicy(value);
  if (checked.errors.length) {
    const e = checked.errors[0];
    fail("tailnetPolicy.base", `${e.path ? `${e.path}: ` : ""}${e.message}${checked.errors.length > 1 ? ` (and ${checked.errors.length - 1} more; npm run policy -- check FILE lists them)` : ""}`);
  }
  const failed = checked.tests.find((t) => t.result === "fail");
  if (failed) fail("tailnetPolicy.base", `${failed.why}; Tailscale refuses a policy whose own tests fail`);
  return checked.policy!;
}

interface Owned<T> {
  readonly value: T;
  readonly source: string;
}

/** Composes the policy; throws a ValidationError on any conflict. */
export function composePolicy(base: BasePolicy, contributions: readonly SourcedContribution[], options: ComposeOptions = {}): ComposedPolicy {
  const baseValue = readBase(base);
  // Stable order whatever order constructs were created in: by source, then as contributed.
  const ordered = contributions.map((c, i) => ({ c, i })).sort((a, b) => (a.c.source < b.c.source ? -1 : a.c.source > b.c.source ? 1 : a.i - b.i)).map((x) => x.c);
  const warnings: string[] = [];
  const add: {
    tagOwners: [string, string[]][];
    grants: Owned<Grant>[];
    ssh: Owned<SshRule>[];
    routes: [string, string[]][];
    routeAppends: [string, string[]][];
    exitNode: string[];
    nodeAttrs: Owned<NodeAttr>[];
    tests: Owned<PolicyTest>[];
    sshTests: Owned<SshTest>[];
  } = { tagOwners: [], grants: [], ssh: [], routes: [], routeAppends: [], exitNode: [], nodeAttrs: [], tests: [], sshTests: [] };

  // --- tagOwners: a tag has one set of owners; the same set again is a duplicate, another is a conflict.
  const owners = new Map<string, Owned<readonly string[]>>();
  for (const [tag, list] of Object.entries(baseValue.tagOwners ?? {})) owners.set(tag, { value: list, source: base.source });
  for (const c of ordered) {
    for (const [tag, list] of Object.entries(c.tagOwners ?? {})) {
      const prior = owners.get(tag);
      if (prior) {
        if (!sameSet(prior.value, list)) {
          fail(
            `tagOwners["${tag}"]`,
            `owned by ${show(list)} in ${c.source} but by ${show(prior.value)} in ${prior.source}; a tag has one set of owners: make them the same (the system's admins option, or the base policy)`,
          );
        }
        continue;
      }
      owners.set(tag, { value: list, source: c.source });
      add.tagOwners.push([tag, [...list]]);
    }
  }

  // --- grants, nodeAttrs: deduplicated as sets.
  const mergeList = <T>(baseList: readonly T[] | undefined, pick: (c: SourcedContribution) => readonly T[] | undefined, into: Owned<T>[]) => {
    const seen = new Set((baseList ?? []).map(canonical));
    for (const c of ordered) {
      for (const item of pick(c) ?? []) {
        const key = canonical(item);
        if (seen.has(key)) continue;
        seen.add(key);
        into.push({ value: item, source: c.source });
      }
    }
  };
  mergeList(baseValue.grants, (c) => c.grants, add.grants);
  mergeList(baseValue.nodeAttrs, (c) => c.nodeAttrs, add.nodeAttrs);

  // --- ssh: the same who/where/as-whom with another action is a contradiction.
  const sshKey = (r: SshRule) => canonical({ src: r.src, dst: r.dst, users: r.users, checkPeriod: r.checkPeriod });
  const sshSeen = new Map<string, Owned<SshRule>>();
  for (const r of baseValue.ssh ?? []) sshSeen.set(sshKey(r), { value: r, source: base.source });
  for (const c of ordered) {
    for (const r of c.ssh ?? []) {
      const prior = sshSeen.get(sshKey(r));
      if (prior) {
        if (prior.value.action !== r.action) {
          fail("ssh", `${c.source} asks "${r.action}" for ${show({ src: r.src, dst: r.dst, users: r.users })} but ${prior.source} asks "${prior.value.action}" for the same rule`);
        }
        continue;
      }
      const owned = { value: r, source: c.source };
      sshSeen.set(sshKey(r), owned);
      add.ssh.push(owned);
    }
  }

  // --- autoApprovers: approvers add up (two routers may serve one route).
  const baseRoutes = baseValue.autoApprovers?.routes ?? {};
  const routeAdds = new Map<string, string[]>();
  const routeAppends = new Map<string, string[]>();
  for (const c of ordered) {
    for (const [cidr, approvers] of Object.entries(c.autoApprovers?.routes ?? {})) {
      if (baseRoutes[cidr]) {
        const missing = approvers.filter((a) => !baseRoutes[cidr].includes(a) && !(routeAppends.get(cidr) ?? []).includes(a));
        if (missing.length) routeAppends.set(cidr, [...(routeAppends.get(cidr) ?? []), ...missing]);
      } else {
        const list = routeAdds.get(cidr) ?? [];
        for (const a of approvers) if (!list.includes(a)) list.push(a);
        routeAdds.set(cidr, list);
      }
    }
    for (const a of c.autoApprovers?.exitNode ?? []) {
      if (!(baseValue.autoApprovers?.exitNode ?? []).includes(a) && !add.exitNode.includes(a)) add.exitNode.push(a);
    }
  }
  add.routes = [...routeAdds.entries()];
  add.routeAppends = [...routeAppends.entries()];

  // --- references: tags must be owned, groups defined, or Tailscale refuses the policy.
  for (const c of ordered) checkReferences(c, owners, baseValue);

  // --- tests: one system's accept must not be another's deny.
  mergeList(baseValue.tests, (c) => c.tests, add.tests);
  mergeList(baseValue.sshTests, (c) => c.sshTests, add.sshTests);
  checkTestContradictions(add.tests, add.sshTests);

  // The merged value, to evaluate the promises against.
  const value: PolicyObject = {
    ...baseValue,
    tagOwners: { ...(baseValue.tagOwners ?? {}), ...Object.fromEntries(add.tagOwners) },
    grants: [...(baseValue.grants ?? []), ...add.grants.map((g) => g.value)],
    ssh: [...(baseValue.ssh ?? []), ...add.ssh.map((s) => s.value)],
    nodeAttrs: [...(baseValue.nodeAttrs ?? []), ...add.nodeAttrs.map((n) => n.value)],
  };
  const grantSource = (ref: RuleRef): string => {
    if (ref.section === "acls") return `${base.source} acls[${ref.index}]`;
    if (ref.section === "ssh") {
      const baseSsh = baseValue.ssh?.length ?? 0;
      if (ref.index < baseSsh) return `${base.source} ssh[${ref.index}]`;
      const r = add.ssh[ref.index - baseSsh];
      return `${r.source} (SSH rule ${show(r.value)})`;
    }
    const baseCount = baseValue.grants?.length ?? 0;
    if (ref.index < baseCount) return `${base.source} grants[${ref.index}]`;
    const g = add.grants[ref.index - baseCount];
    return `${g.source} (grant ${show(g.value)})`;
  };
  add.tests = add.tests.flatMap((t) => {
    const kept = checkPromise(t, value, grantSource, base.source, options.baseContradictions ?? "warn", warnings);
    return kept ? [{ value: kept, source: t.source }] : [];
  });
  add.sshTests = add.sshTests.filter((t) => checkSshPromise(t, value, grantSource, warnings));
  value.tests = [...(baseValue.tests ?? []), ...add.tests.map((t) => t.value)];
  value.sshTests = [...(baseValue.sshTests ?? []), ...add.sshTests.map((t) => t.value)];
  const exitNode = [...(baseValue.autoApprovers?.exitNode ?? []), ...add.exitNode];
  value.autoApprovers = {
    ...(baseValue.autoApprovers ?? {}),
    routes: {
      ...Object.fromEntries(Object.entries(baseRoutes).map(([k, v]) => [k, [...v, ...(routeAppends.get(k) ?? [])]])),
      ...Object.fromEntries(add.routes),
    },
    ...(exitNode.length ? { exitNode } : {}),
  };
  const added: Record<(typeof SECTIONS)[number], boolean> = {
    tagOwners: add.tagOwners.length > 0,
    grants: add.grants.length > 0,
    ssh: add.ssh.length > 0,
    autoApprovers: add.routes.length + add.routeAppends.length + add.exitNode.length > 0,
    nodeAttrs: add.nodeAttrs.length > 0,
    tests: add.tests.length > 0,
    sshTests: add.sshTests.length > 0,
  };
  for (const key of SECTIONS) if (baseValue[key] === undefined && !added[key]) delete value[key];
  if ((value.autoApprovers as { routes?: object } | undefined)?.routes && !Object.keys(value.autoApprovers!.routes!).length && !baseValue.autoApprovers?.routes) {
    delete value.autoApprovers!.routes;
  }

  // --- the composed policy, checked as a whole as Tailscale will check it.
  const where = (path: string): string => {
    const m = /^(grants|ssh|nodeAttrs|tests|sshTests)\[(\d+)\]/.exec(path);
    if (m) {
      const section = m[1] as "grants" | "ssh" | "nodeAttrs" | "tests" | "sshTests";
      const i = Number(m[2]) - (baseValue[section]?.length ?? 0);
      if (i >= 0) return ` (added by ${add[section][i]?.source ?? "a system"})`;
    }
    const tag = /^tagOwners\["([^"]+)"\]/.exec(path)?.[1];
    if (tag && owners.get(tag)) return ` (from ${owners.get(tag)!.source})`;
    return "";
  };
  const invalid = validatePolicy(value).errors[0];
  if (invalid) fail("tailnetPolicy", `the composed policy would be refused: ${invalid.path}: ${invalid.message}${where(invalid.path)}`);
  checkBaseTestsStillHold(base.source, baseValue, value, grantSource);

  // --- the text: the base verbatim, additions inserted after the user's own entries.
  const contributors = [
    ...new Set([
      ...add.tagOwners.map(([tag]) => owners.get(tag)!.source),
      ...[add.grants, add.ssh, add.nodeAttrs, add.tests, add.sshTests].flatMap((l: Owned<unknown>[]) => l.map((x) => x.source)),
      ...ordered.filter((c) => Object.keys(c.autoApprovers?.routes ?? {}).length || (c.autoApprovers?.exitNode ?? []).length).map((c) => c.source),
    ]),
  ].sort();

  const routesAdded = Object.fromEntries([...add.routes, ...add.routeAppends]);
  const additions: PolicyContribution = dropEmpty({
    tagOwners: Object.fromEntries(add.tagOwners),
    grants: add.grants.map((g) => g.value),
    ssh: add.ssh.map((s) => s.value),
    autoApprovers: dropEmpty({ routes: routesAdded, exitNode: add.exitNode }),
    nodeAttrs: add.nodeAttrs.map((n) => n.value),
    tests: add.tests.map((t) => t.value),
    sshTests: add.sshTests.map((t) => t.value),
  });
  // The text is only rendered when asked for: composing runs at every contribution, to fail early.
  let text: string | undefined;
  const render = (): string => {
    const editor = new HujsonEditor(base.text);
    editor.addToObject(["tagOwners"], add.tagOwners);
    editor.appendToArray(["grants"], add.grants.map((g) => g.value));
    editor.appendToArray(["ssh"], add.ssh.map((s) => s.value));
    for (const [cidr, approvers] of add.routeAppends) editor.appendToArray(["autoApprovers", "routes", cidr], approvers);
    editor.addToObject(["autoApprovers", "routes"], add.routes);
    editor.appendToArray(["autoApprovers", "exitNode"], add.exitNode);
    editor.appendToArray(["nodeAttrs"], add.nodeAttrs.map((n) => n.value));
    editor.appendToArray(["tests"], add.tests.map((t) => t.value));
    editor.appendToArray(["sshTests"], add.sshTests.map((t) => t.value));
    const out = editor.toString();
    // The text itself must be what the provider's HuJSON parser reads back as the composed value.
    const reread = parsePolicyText(out);
    if (reread.errors.length) fail("tailnetPolicy", `internal: the composed policy text does not parse (${reread.errors[0].message}); please report this with your base policy`);
    return out;
  };
  return {
    get text() {
      text ??= render();
      return text;
    },
    value,
    additions,
    warnings,
    contributors,
  };
}

function dropEmpty<T extends object>(o: T): T {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined && (Array.isArray(v) ? v.length > 0 : typeof v !== "object" || Object.keys(v).length > 0)),
  ) as T;
}

const TAG_IN = /^tag:[^:]+/;

function checkReferences(c: SourcedContribution, owners: Map<string, Owned<readonly string[]>>, base: PolicyObject): void {
  const selectors: [string, string][] = [];
  const push = (field: string, list: readonly string[] | undefined) => (list ?? []).forEach((s) => selectors.push([field, s]));
  for (const [tag, list] of Object.entries(c.tagOwners ?? {})) push(`tagOwners["${tag}"]`, list);
  (c.grants ?? []).forEach((g, i) => {
    push(`grants[${i}].src`, g.src);
    push(`grants[${i}].dst`, g.dst);
  });
  (c.ssh ?? []).forEach((r, i) => {
    push(`ssh[${i}].src`, r.src);
    push(`ssh[${i}].dst`, r.dst);
  });
  for (const [cidr, list] of Object.entries(c.autoApprovers?.routes ?? {})) push(`autoApprovers.routes["${cidr}"]`, list);
  push("autoApprovers.exitNode", c.autoApprovers?.exitNode);
  (c.nodeAttrs ?? []).forEach((n, i) => push(`nodeAttrs[${i}].target`, n.target));
  (c.tests ?? []).forEach((t, i) => {
    push(`tests[${i}].src`, [t.src]);
    push(`tests[${i}]`, [...(t.accept ?? []), ...(t.deny ?? [])].map((d) => d.replace(/:[^:]*$/, "")));
  });
  (c.sshTests ?? []).forEach((t, i) => {
    push(`sshTests[${i}].src`, [t.src]);
    push(`sshTests[${i}].dst`, t.dst);
  });
  for (const [field, s] of selectors) {
    const tag = TAG_IN.exec(s)?.[0];
    if (tag && !owners.has(tag)) fail(`${c.source}: ${field}`, `uses ${tag}, which no tagOwners entry defines (in the base policy or any system)`);
    if (s.startsWith("group:") && !(base.groups && s in base.groups)) {
      fail(`${c.source}: ${field}`, `uses ${s}, which the base policy's groups do not define; add it there`);
    }
  }
}

function checkTestContradictions(tests: readonly Owned<PolicyTest>[], sshTests: readonly Owned<SshTest>[]): void {
  for (const a of tests) {
    for (const b of tests) {
      if (a === b || a.value.src !== b.value.src || (a.value.proto ?? "") !== (b.value.proto ?? "")) continue;
      const clash = (a.value.accept ?? []).find((d) => (b.value.deny ?? []).includes(d));
      if (clash) fail("tests", `${a.source} promises ${a.value.src} reaches ${clash}, but ${b.source} promises it cannot`);
    }
  }
  for (const a of sshTests) {
    for (const b of sshTests) {
      if (a === b || a.value.src !== b.value.src || !sameSet(a.value.dst, b.value.dst)) continue;
      const allowed = [...(a.value.accept ?? []), ...(a.value.check ?? [])];
      const clash = allowed.find((u) => (b.value.deny ?? []).includes(u));
      if (clash) fail("sshTests", `${a.source} promises ${a.value.src} may log in as ${clash} on ${show(a.value.dst)}, but ${b.source} promises it may not`);
    }
  }
}

/**
 * Checks a contributed test against the merged policy. Returns the test to keep (possibly with some
 * deny entries left out because the base contradicts them), or undefined when nothing is left.
 */
function checkPromise(
  t: Owned<PolicyTest>,
  policy: PolicyObject,
  ruleSource: (ref: RuleRef) => string,
  baseSource: string,
  baseContradictions: "warn" | "fail",
  warnings: string[],
): PolicyTest | undefined {
  // A promise Tailscale would refuse as written (a port range, "*", a CIDR, ICMP) is the system's bug.
  const shape = validatePolicy({ tagOwners: policy.tagOwners, groups: policy.groups, hosts: policy.hosts, ipsets: policy.ipsets, tests: [t.value] }).errors[0];
  if (shape) fail("tests", `${t.source} promises a test Tailscale would refuse: ${shape.path.replace(/^tests\[0\]/, "test")}: ${shape.message}`);
  const proto = t.value.proto;
  const accept: string[] = [];
  const unsure: string[] = [];
  for (const dst of t.value.accept ?? []) {
    const v = evaluateConnection(policy, t.value.src, dst, proto);
    if (v.result === "no") fail("tests", `${t.source} promises ${t.value.src} reaches ${dst}, but no grant or ACL allows it`);
    if (v.result === "unknown") unsure.push(`${dst} (${v.why})`);
    else accept.push(dst);
  }
  const deny: string[] = [];
  const voided: { dst: string; rule: string }[] = [];
  for (const dst of t.value.deny ?? []) {
    const v = evaluateConnection(policy, t.value.src, dst, proto);
    if (v.result === "no") {
      deny.push(dst);
      continue;
    }
    if (v.result === "unknown") {
      unsure.push(`not ${dst} (${v.why})`);
      continue;
    }
    const sources = v.allowedBy.map(ruleSource);
    const fromSystems = sources.filter((s) => !s.startsWith(baseSource));
    if (fromSystems.length > 0) {
      fail("tests", `${t.source} promises ${t.value.src} cannot reach ${dst}, but ${fromSystems[0]} allows it`);
    }
    if (baseContradictions === "fail") fail("tests", `${t.source} promises ${t.value.src} cannot reach ${dst}, but ${sources[0]} allows it; remove or narrow that rule`);
    voided.push({ dst, rule: sources[0] });
  }
  if (voided.length) {
    // One line per test: which promises the base makes void, and by which rule(s).
    const rules = [...new Set(voided.map((x) => x.rule))];
    const what = voided.map((x) => x.dst).join(", ");
    warnings.push(
      `${t.source} promises ${t.value.src} cannot reach ${what}, but ${rules.join(" and ")} allow${rules.length === 1 ? "s" : ""} ${voided.length === 1 ? "it" : "them"}: ` +
        `${voided.length === 1 ? "this promise is" : "these promises are"} left out of the policy's tests (narrow that rule to lock the tailnet down)`,
    );
  }
  if (unsure.length) {
    // Only what the checker knows passes goes into tests: an unsure one could fail the apply.
    warnings.push(`${t.source} promises ${t.value.src} reaches ${unsure.join(", ")}: that depends on the live tailnet, so it is left out of the policy's tests`);
  }
  const kept: PolicyTest = { ...t.value, accept: accept.length ? accept : undefined, deny: deny.length ? deny : undefined };
  if (!kept.accept) delete (kept as { accept?: unknown }).accept;
  if (!kept.deny) delete (kept as { deny?: unknown }).deny;
  if (!(kept.accept ?? []).length && !(kept.deny ?? []).length) return undefined;
  return kept;
}

/** A system's SSH promise: kept only when it passes; a sure failure stops synthesis. */
function checkSshPromise(t: Owned<SshTest>, policy: PolicyObject, ruleSource: (ref: RuleRef) => string, warnings: string[]): boolean {
  const shape = validatePolicy({ tagOwners: policy.tagOwners, groups: policy.groups, hosts: policy.hosts, sshTests: [t.value] }).errors[0];
  if (shape) fail("sshTests", `${t.source} promises an SSH test Tailscale would refuse: ${shape.path.replace(/^sshTests\[0\]/, "test")}: ${shape.message}`);
  const v = evaluateSshTest(policy, t.value);
  if (v.result === "fail") fail("sshTests", `${t.source} promises an SSH test that fails: ${v.why}${v.allowedBy.length ? ` (${ruleSource(v.allowedBy[0])})` : ""}`);
  if (v.result === "unknown") warnings.push(`${t.source} promises an SSH test whose answer depends on the live tailnet (${v.why}); it is left out of the policy's sshTests`);
  return v.result === "pass";
}

/** The user's own tests must still pass once the systems' rules are in: a system's grant may break a deny. */
function checkBaseTestsStillHold(baseSource: string, baseValue: PolicyObject, composed: PolicyObject, ruleSource: (ref: RuleRef) => string): void {
  (baseValue.tests ?? []).forEach((t, i) => {
    const v = evaluateTest(composed, t);
    if (v.result !== "fail") return;
    const by = v.allowedBy.map(ruleSource).filter((s) => !s.startsWith(baseSource));
    fail("tests", `${baseSource} tests[${i}] fails once the systems' rules are added: ${v.why.replace(/allowed by .*$/, "")}allowed by ${by[0] ?? v.allowedBy.map(ruleSource)[0]}`);
  });
  (baseValue.sshTests ?? []).forEach((t, i) => {
    const v = evaluateSshTest(composed, t);
    if (v.result !== "fail") return;
    const by = v.allowedBy.map(ruleSource).filter((s) => !s.startsWith(baseSource));
    fail("sshTests", `${baseSource} sshTests[${i}] fails once the systems' rules are added: ${v.why.replace(/, allowed by .*$/, "")}${by.length ? `, allowed by ${by[0]}` : ""}`);
  });
}
