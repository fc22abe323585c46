/**
 * Hostile input against the policy path (issue 19): what a careless user or a hostile pull request
 * puts in a base policy or a CIDR. Each case asserts one clean line naming the field (never a
 * stack, never a TypeError/RangeError), or output that is right.
 *   class 2: a stack trace instead of one line (IPv6 zone ids, base entries of the wrong type)
 *   class 3: a composed policy that doesn't parse (comments between an entry and its comma)
 *   class 4: valid at synth, refused at apply (ports out of range, a base test a system breaks)
 */
import { PolicyBase } from "../src/tailnet/policy/base";
import { composePolicy, SourcedContribution } from "../src/tailnet/policy/compose";
import { addressInCidr, cidrContains, requireHostAddress } from "../src/validation/cidr";
import { parseCidr, requireCidr, ValidationError } from "../src/validation";

/** One clean line: a ValidationError whose message has no newline and no stack frame. */
function oneLine(fn: () => unknown): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  const message = (caught as Error).message;
  expect(message).not.toMatch(/\n/);
  expect(message).not.toMatch(/TypeError|RangeError|undefined is not|Cannot read/);
  return message;
}

// ---- class 2 -------------------------------------------------------------------------------
const ZONED = ["fe80::%eth0/64", "fe80::1%eth0/128", "fe80::1%25eth0/128", "fe80::%/64", "::ffff:10.0.0.1%lo/128", "fe80::1%eth0", "FE80::%ETH0/10", "fe80::%1/64"];

describe("class 2: IPv6 zone ids are refused, never a RangeError", () => {
  test.each(ZONED)("parseCidr(%j) is undefined", (cidr) => {
    expect(parseCidr(cidr)).toBeUndefined();
  });
  test.each(ZONED)("requireCidr names the field for %j", (cidr) => {
    expect(oneLine(() => requireCidr("routes[0]", cidr))).toMatch(/^routes\[0\]: /);
  });
  test.each(ZONED)("containment and host checks answer for %j", (cidr) => {
    expect(cidrContains("fe80::/10", cidr)).toBe(false);
    expect(addressInCidr(cidr.replace(/\/\d+$/, ""), "fe80::/10")).toBe(false);
    expect(oneLine(() => requireHostAddress("target.address", cidr.replace(/\/\d+$/, ""), "fe80::/64", "subnet", 1, 1))).toMatch(/^target\.address: .* is not an IP address$/);
  });
  test.each(ZONED)("a base policy with %j in hosts, a grant, a route: one line naming the entry", (cidr) => {
    for (const [policy, path] of [
      [{ hosts: { h: cidr } }, 'hosts["h"]'],
      [{ grants: [{ src: ["*"], dst: [cidr], ip: ["*"] }] }, "grants[0].dst[0]"],
      [{ tagOwners: { "tag:r": [] }, autoApprovers: { routes: { [cidr]: ["tag:r"] } } }, `autoApprovers.routes["${cidr}"]`],
    ] as const) {
      const msg = oneLine(() => composePolicy(PolicyBase.fromObject(policy as Record<string, unknown>, "zoned"), []));
      expect(msg.startsWith(`tailnetPolicy.base: ${path}: `)).toBe(true);
    }
  });
});

/** Base policies of the wrong shape, each with the path the one line must name. */
const MALFORMED: [string, Record<string, unknown>, string][] = [
  ["grant src a string", { grants: [{ src: "*", dst: ["*"], ip: ["*"] }] }, "grants[0].src"],
  ["grant without src", { grants: [{ dst: ["*"], ip: ["*"] }] }, "grants[0].src"],
  ["grant null", { grants: [null] }, "grants[0]"],
  ["grant ip a string", { grants: [{ src: ["*"], dst: ["*"], ip: "*" }] }, "grants[0].ip"],
  ["grant dst null", { grants: [{ src: ["*"], dst: null, ip: ["*"] }] }, "grants[0].dst"],
  ["grant src holding a number", { grants: [{ src: [1], dst: ["*"], ip: ["*"] }] }, "grants[0].src[0]"],
  ["grant src holding null", { grants: [{ src: [null], dst: ["*"], ip: ["*"] }] }, "grants[0].src[0]"],
  ["grant ip holding an object", { grants: [{ src: ["*"], dst: ["*"], ip: [{}] }] }, "grants[0].ip[0]"],
  ["grants an object", { grants: { src: ["*"] } }, "grants"],
  ["grants a string", { grants: "all" }, "grants"],
  ["grant a list", { grants: [["*"]] }, "grants[0]"],
  ["grant app a list", { grants: [{ src: ["*"], dst: ["*"], app: [] }] }, "grants[0].app"],
  ["acl null", { acls: [null] }, "acls[0]"],
  ["acl dst a string", { acls: [{ action: "accept", src: ["*"], dst: "*:*" }] }, "acls[0].dst"],
  ["acl without src", { acls: [{ action: "accept", dst: ["*:*"] }] }, "acls[0].src"],
  ["acl proto a number", { acls: [{ action: "accept", src: ["*"], dst: ["*:*"], proto: 6 }] }, "acls[0].proto"],
  ["ssh users a string", { ssh: [{ action: "check", src: ["autogroup:member"], dst: ["autogroup:self"], users: "root" }] }, "ssh[0].users"],
  ["ssh null", { ssh: [null] }, "ssh[0]"],
  ["ssh src a string", { ssh: [{ action: "check", src: "autogroup:member", dst: ["autogroup:self"], users: ["root"] }] }, "ssh[0].src"],
  ["test without src", { tests: [{ accept: ["1.2.3.4:22"] }] }, "tests[0].src"],
  ["test src a number", { tests: [{ src: 7, accept: ["1.2.3.4:22"] }] }, "tests[0].src"],
  ["test accept a string", { tests: [{ src: "a@example.com", accept: "1.2.3.4:22" }] }, "tests[0].accept"],
  ["test null", { tests: [null] }, "tests[0]"],
  ["sshTest dst a string", { sshTests: [{ src: "a@example.com", dst: "1.2.3.4", accept: ["root"] }] }, "sshTests[0].dst"],
  ["groups null", { groups: null, grants: [{ src: ["group:x"], dst: ["*"], ip: ["*"] }] }, "grants[0].src[0]"],
  ["group members null", { groups: { "group:x": null } }, 'groups["group:x"]'],
  ["tagOwners a list", { tagOwners: ["tag:x"] }, "tagOwners"],
  ["tag owners null", { tagOwners: { "tag:x": null } }, 'tagOwners["tag:x"]'],
  ["hosts a list", { hosts: ["10.0.0.1"] }, "hosts"],
  ["autoApprovers routes a list", { autoApprovers: { routes: ["10.0.0.0/8"] } }, "autoApprovers.routes"],
  ["nodeAttrs target a string", { nodeAttrs: [{ target: "*", attr: ["funnel"] }] }, "nodeAttrs[0].target"],
  ["an unknown section (typo)", { grant: [] }, "grant"],
];

describe("class 2: a base entry of the wrong type is one line, never a TypeError in the evaluator", () => {
  test.each(MALFORMED)("%s", (_name, policy, path) => {
    const msg = oneLine(() => composePolicy(PolicyBase.fromObject(policy, "hostile"), [{ source: "sys", tagOwners: { "tag:s": [] }, tests: [] }]));
    expect(msg.startsWith(`tailnetPolicy.base: ${path}: `)).toBe(true);
  });
  test.each([200_000, 50_000, 20_000])("%i nested brackets: one line, not a stack overflow", (depth) => {
    const text = `{"grants": [{"src": ["*"], "dst": ["*"], "app": {"example.com/cap/x": [{"a": ${"[".repeat(depth)}${"]".repeat(depth)}}]}}]}`;
    expect(oneLine(() => composePolicy(PolicyBase.fromText(text, "deep"), []))).toMatch(/^base policy \(deep\): not valid HuJSON: nested too deeply$/);
  });
  test("a __proto__ key (it would vanish from a JavaScript object, Tailscale would see it)", () => {
    expect(oneLine(() => composePolicy(PolicyBase.fromText('{"__proto__": {"grants": 1}}', "hostile"), []))).toMatch(/^base policy \(hostile\): the key "__proto__" is not allowed/);
    expect(oneLine(() => composePolicy(PolicyBase.fromText('{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"], "__proto__": {}}]}', "hostile"), []))).toMatch(/__proto__/);
  });
});

// ---- class 3 -------------------------------------------------------------------------------

/**
 * A parser of the provider's dialect, written from tailscale/hujson's rules (JWCC): standard JSON,
 * plus `//` and `/* *\/` comments anywhere whitespace may be, plus one trailing comma before `]`
 * or `}`. Anything else (a comma after a comma, a comma before the first member) is an error.
 * Independent of jsonc-parser on purpose, so that the composed text is checked twice.
 */
function parseJwcc(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`JWCC: ${what} at offset ${i}: ${JSON.stringify(text.slice(i, i + 20))}`);
  };
  const skip = () => {
    for (;;) {
      if (/[ \t\r\n]/.test(text[i] ?? "")) i++;
      else if (text.startsWith("//", i)) i = text.includes("\n", i) ? text.indexOf("\n", i) + 1 : text.length;
      else if (text.startsWith("/*", i)) {
        const end = text.indexOf("*/", i + 2);
        if (end < 0) fail("unterminated comment");
        i = end + 2;
      } else return;
    }
  };
  const value = (): unknown => {
    skip();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      const out: unknown[] = [];
      const obj: Record<string, unknown> = {};
      i++;
      skip();
      if (text[i] === close) {
        i++;
        return c === "{" ? obj : out;
      }
      for (;;) {
        skip();
        if (c === "{") {
          if (text[i] !== '"') fail("expected a key");
          const k = JSON.parse(str());
          skip();
          if (text[i++] !== ":") fail("expected ':'");
          obj[k] = value();
        } else out.push(value());
        skip();
        if (text[i] === ",") {
          i++;
          skip();
          if (text[i] === close) {
            i++;
            return c === "{" ? obj : out;
          }
          continue;
        }
        if (text[i] === close) {
          i++;
          return c === "{" ? obj : out;
        }
        fail("expected ',' or a close");
      }
    }
    if (c === '"') return JSON.parse(str());
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) fail("expected a value");
    i += m![0].length;
    return JSON.parse(m![0]);
  };
  const str = (): string => {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!m) fail("bad string");
    i += m![0].length;
    return m![0];
  };
  const v = value();
  skip();
  if (i !== text.length) fail("text after the value");
  return v;
}

test("the JWCC parser refuses what the provider refuses and reads what it reads", () => {
  for (const bad of ["[1, ,2]", "[1,,]", '{"a":1, /*x*/ ,}', "[,1]", "{,}", '{"a":1}}', "[1 2]", "{a:1}"]) expect(() => parseJwcc(bad)).toThrow(/^JWCC: /);
  expect(parseJwcc('// c\n{"a": [1, /* x */ 2,], "b": {"c": null,}, /* end */}\n')).toEqual({ a: [1, 2], b: { c: null } });
});

const SYSTEM: SourcedContribution = {
  source: "mesh/mesh",
  tagOwners: { "tag:mesh": ["autogroup:admin"] },
  grants: [{ src: ["tag:mesh"], dst: ["tag:mesh"], ip: ["*"] }],
  ssh: [{ action: "check", src: ["autogroup:admin"], dst: ["tag:mesh"], users: ["root"] }],
  autoApprovers: { routes: { "10.9.0.0/16": ["tag:mesh"] }, exitNode: ["tag:mesh"] },
  nodeAttrs: [{ target: ["tag:mesh"], attr: ["funnel"] }],
  tests: [{ src: "tag:mesh", accept: ["tag:mesh:5201"] }],
  sshTests: [{ src: "tag:mesh", dst: ["tag:mesh"], deny: ["root"] }],
};

/** Base texts with comments where a naive text edit goes wrong. */
const COMMENTED: [string, string][] = [
  ["block comment between a grant and its comma", `{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]} /* allow all */ ,]}`],
  ["block comment before the comma, no trailing comma after", `{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]} /* a */ , {"src": ["*"], "dst": ["*"], "ip": ["tcp:1"]} /* b */]}`],
  ["line comment then the comma on the next line", `{\n  "grants": [\n    {"src": ["*"], "dst": ["*"], "ip": ["*"]} // allow all\n    ,\n  ],\n}`],
  ["comment between a tag owner and its comma", `{"tagOwners": {"tag:x": ["autogroup:admin"] /* mine */ ,}}`],
  ["comment between an ssh rule and its comma", `{"ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["root"]} /* x */ ,]}`],
  ["comment between a test and its comma", `{"tagOwners": {"tag:t": []}, "tests": [{"src": "tag:t", "deny": ["tag:t:1"]} /* x */ ,]}`],
  ["comment between a route and its comma", `{"tagOwners": {"tag:t": []}, "autoApprovers": {"routes": {"10.8.0.0/16": ["tag:t"] /* r */ ,}, "exitNode": ["tag:t"] /* e */ ,}}`],
  ["comment between a node attribute and its comma", `{"nodeAttrs": [{"target": ["*"], "attr": ["mullvad"]} /* n */ ,]}`],
  ["comment between an sshTest and its comma", `{"tagOwners": {"tag:t": []}, "sshTests": [{"src": "tag:t", "dst": ["tag:t"], "deny": ["root"]} /* s */ ,]}`],
  ["multi-line block comment before the comma", `{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]} /* line one\n line two */\n ,\n]}`],
  ["comment that contains a comma", `{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]} /* a, b, */ ,]}`],
  ["comment that contains a bracket", `{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]} /* ] } */ ]}`],
  ["a trailing comma then a comment", `{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]}, /* end */ ]}`],
  ["CRLF line endings and a comment before the comma", `{\r\n\t"grants": [\r\n\t\t{"src": ["*"], "dst": ["*"], "ip": ["*"]} // all\r\n\t\t,\r\n\t],\r\n}\r\n`],
  ["an empty list holding only a comment", `{"grants": [ /* none yet */ ], "ssh": [\n// later\n]}`],
  ["section names in another case", `{"TagOwners": {"tag:x": []} /* t */ , "Grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]} /* g */ ,]}`],
];

describe("class 3: the composed text parses with the provider's rules, whatever comments the base has", () => {
  test.each(COMMENTED)("%s", (_name, text) => {
    const composed = composePolicy(PolicyBase.fromText(text, "commented"), [SYSTEM]);
    const reread = parseJwcc(composed.text) as Record<string, unknown[]>;
    // What was read back is the base plus the additions, nothing lost.
    const lower = Object.fromEntries(Object.entries(reread).map(([k, v]) => [k.toLowerCase(), v]));
    expect(lower.grants).toEqual(expect.arrayContaining(SYSTEM.grants as unknown[]));
    expect(JSON.stringify(lower.tagowners)).toContain('"tag:mesh"');
    for (const [k, v] of Object.entries(parseJwcc(text) as Record<string, unknown>)) {
      if (Array.isArray(v)) expect(lower[k.toLowerCase()]).toEqual(expect.arrayContaining(v));
    }
    // Section names are reused as the user wrote them, never doubled in another case.
    const keys = Object.keys(reread).map((k) => k.toLowerCase());
    expect(new Set(keys).size).toBe(keys.length);
  });
});

// ---- class 4 -------------------------------------------------------------------------------
const PORTS: [string, Record<string, unknown>, string][] = [
  ["grant tcp:0", { grants: [{ src: ["*"], dst: ["*"], ip: ["tcp:0"] }] }, "grants[0].ip[0]"],
  ["grant tcp:65536", { grants: [{ src: ["*"], dst: ["*"], ip: ["tcp:65536"] }] }, "grants[0].ip[0]"],
  ["grant udp:99999", { grants: [{ src: ["*"], dst: ["*"], ip: ["udp:99999"] }] }, "grants[0].ip[0]"],
  ["grant range to 70000", { grants: [{ src: ["*"], dst: ["*"], ip: ["1-70000"] }] }, "grants[0].ip[0]"],
  ["grant bare 65536", { grants: [{ src: ["*"], dst: ["*"], ip: ["65536"] }] }, "grants[0].ip[0]"],
  ["grant negative port", { grants: [{ src: ["*"], dst: ["*"], ip: ["tcp:-1"] }] }, "grants[0].ip[0]"],
  ["grant port with a sign", { grants: [{ src: ["*"], dst: ["*"], ip: ["tcp:+22"] }] }, "grants[0].ip[0]"],
  ["grant huge port", { grants: [{ src: ["*"], dst: ["*"], ip: ["tcp:99999999999999999999"] }] }, "grants[0].ip[0]"],
  ["grant port list with one out of range", { grants: [{ src: ["*"], dst: ["*"], ip: ["tcp:22,80,65536"] }] }, "grants[0].ip[0]"],
  ["acl port 65536", { acls: [{ action: "accept", src: ["*"], dst: ["*:65536"] }] }, "acls[0].dst[0]"],
  ["acl range 0-65536", { acls: [{ action: "accept", src: ["*"], dst: ["*:0-65536"] }] }, "acls[0].dst[0]"],
  ["test port 0", { tests: [{ src: "a@example.com", deny: ["100.64.0.1:0"] }] }, "tests[0].deny[0]"],
  ["test port 65536", { tests: [{ src: "a@example.com", deny: ["100.64.0.1:65536"] }] }, "tests[0].deny[0]"],
];

describe("class 4: ports out of range are refused at synth", () => {
  test.each(PORTS)("base: %s", (_name, policy, path) => {
    expect(oneLine(() => composePolicy(PolicyBase.fromObject(policy, "ports"), [])).startsWith(`tailnetPolicy.base: ${path}: `)).toBe(true);
  });
  test.each(["tcp:0", "tcp:65536", "1-70000", "udp:99999", "icmp:22"])("a system's grant with %s names the system", (ip) => {
    const sys: SourcedContribution = { source: "routers/r1", tagOwners: { "tag:r": [] }, grants: [{ src: ["tag:r"], dst: ["tag:r"], ip: [ip] }] };
    expect(oneLine(() => composePolicy(PolicyBase.empty(), [sys]))).toMatch(/^tailnetPolicy: the composed policy would be refused: grants\[0\]\.ip\[0\]: .*\(added by routers\/r1\)$/);
  });
  test.each(["tag:r:*", "tag:r:1-2", "tag:r:0", "10.0.0.0/24:22"])("a system's promise Tailscale would refuse (%s) names the system", (dst) => {
    const sys: SourcedContribution = { source: "routers/r1", tagOwners: { "tag:r": [] }, grants: [{ src: ["tag:r"], dst: ["*"], ip: ["*"] }], tests: [{ src: "tag:r", accept: [dst] }] };
    expect(oneLine(() => composePolicy(PolicyBase.empty(), [sys]))).toMatch(/^tests: routers\/r1 promises a test Tailscale would refuse: test\.accept\[0\]: /);
  });
});

const OPS = { groups: { "group:ops": ["alice@example.com"] }, tagOwners: { "tag:web": ["autogroup:admin"], "tag:db": ["autogroup:admin"] } };
/** A base's own deny test, and a system grant (or SSH rule) that breaks it. */
const BROKEN: [string, Record<string, unknown>, SourcedContribution, RegExp][] = [
  [
    "a user's deny, broken by a grant to a group",
    { ...OPS, tests: [{ src: "alice@example.com", deny: ["tag:web:22"] }] },
    { source: "mesh/mesh", grants: [{ src: ["group:ops"], dst: ["tag:web"], ip: ["tcp:22"] }] },
    /^tests: base policy \(own\) tests\[0\] fails once the systems' rules are added: alice@example\.com reaches tag:web:22, allowed by mesh\/mesh \(grant /,
  ],
  [
    "a tag's deny, broken by a grant on all ports",
    { ...OPS, tests: [{ src: "tag:web", deny: ["tag:db:5432"] }] },
    { source: "erlang/cluster", grants: [{ src: ["tag:web"], dst: ["tag:db"], ip: ["*"] }] },
    /^tests: base policy \(own\) tests\[0\] fails .* allowed by erlang\/cluster \(grant /,
  ],
  [
    "a deny on one port of a range a system opens",
    { ...OPS, tests: [{ src: "tag:web", accept: [], deny: ["tag:db:9101"] }] },
    { source: "erlang/cluster", grants: [{ src: ["tag:web"], dst: ["tag:db"], ip: ["tcp:9100-9105"] }] },
    /^tests: base policy \(own\) tests\[0\] fails .*tag:db:9101.* allowed by erlang\/cluster/,
  ],
  [
    "a deny to a subnet address a router opens",
    { ...OPS, tests: [{ src: "alice@example.com", deny: ["10.0.0.5:5432"] }] },
    { source: "router/aws", grants: [{ src: ["group:ops"], dst: ["10.0.0.0/24"], ip: ["*"] }] },
    /^tests: base policy \(own\) tests\[0\] fails .*10\.0\.0\.5:5432.* allowed by router\/aws/,
  ],
  [
    "a deny over udp, broken by a udp grant",
    { ...OPS, tests: [{ src: "tag:web", proto: "udp", deny: ["tag:db:53"] }] },
    { source: "dns/dns", grants: [{ src: ["tag:web"], dst: ["tag:db"], ip: ["udp:53"] }] },
    /^tests: base policy \(own\) tests\[0\] fails .* allowed by dns\/dns/,
  ],
  [
    "an SSH deny, broken by a system's SSH rule",
    { ...OPS, sshTests: [{ src: "alice@example.com", dst: ["tag:web"], deny: ["root"] }] },
    { source: "mesh/mesh", ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:web"], users: ["root"] }] },
    /^sshTests: base policy \(own\) sshTests\[0\] fails once the systems' rules are added: .*root.* allowed by mesh\/mesh \(SSH rule /,
  ],
];

describe("class 4: a base's own test that a system's addition breaks fails synthesis naming both", () => {
  test.each(BROKEN)("%s", (_name, baseValue, sys, message) => {
    const base = PolicyBase.fromObject(baseValue, "own");
    // The base alone is fine: its tests pass.
    expect(() => composePolicy(base, [])).not.toThrow();
    expect(oneLine(() => composePolicy(base, [sys]))).toMatch(message);
  });
  test("through a stack: the mesh's grant breaks the base's deny, synthesis names both", () => {
    const { Testing } = require("cdktf") as typeof import("cdktf");
    const { MeshStack } = require("../src/systems/mesh/mesh-stack") as typeof import("../src/systems/mesh/mesh-stack");
    const base = PolicyBase.fromText('{"tagOwners": {"tag:mesh": ["autogroup:admin"]}, "tests": [{"src": "tag:mesh", "deny": ["tag:mesh:22"]}]}', "mine.hujson");
    expect(oneLine(() => new MeshStack(Testing.app(), "mesh", { tailnetPolicy: { base } }))).toBe(
      'tests: base policy (mine.hujson) tests[0] fails once the systems\' rules are added: tag:mesh reaches tag:mesh:22, allowed by mesh/mesh (grant {"src": ["tag:mesh"], "dst": ["tag:mesh"], "ip": ["*"]})',
    );
  });
  test("a deny a system's grant does not touch stays, and is written as the user wrote it", () => {
    const base = PolicyBase.fromObject({ ...OPS, tests: [{ src: "tag:web", deny: ["tag:db:22"] }] }, "own");
    const c = composePolicy(base, [{ source: "erlang/cluster", grants: [{ src: ["tag:web"], dst: ["tag:db"], ip: ["tcp:4369"] }] }]);
    expect((parseJwcc(c.text) as { tests: unknown[] }).tests).toEqual([{ src: "tag:web", deny: ["tag:db:22"] }]);
  });
});

test("case counts per class (reported in the closing note)", () => {
  const class2 = ZONED.length * 4 + MALFORMED.length + 1 + 3 + 1;
  const class3 = COMMENTED.length + 1;
  const class4 = PORTS.length + 5 + 4 + BROKEN.length + 2;
  expect({ class2, class3, class4 }).toEqual({ class2: 69, class3: 17, class4: 30 });
});

describe("class 2: random policies of every shape never throw", () => {
  // A small seeded generator (no dependency): the same 3,000 policies on every run.
  let seed = 0x2f6b3c1d;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)];
  const atoms = ["*", "tag:a", "tag:b", "group:g", "autogroup:self", "autogroup:member", "autogroup:admin", "autogroup:internet", "10.0.0.0/8", "fe80::%eth0/64",
    "100.64.0.1", "h", "a@example.com", "tag:a:22", "tcp:22", "udp:0-65535", "icmp:*", "*:*", "tcp:70000", "", " tag:a ", "ipset:s", "posture:p", "root", "1-2", "22,80"];
  const keys = ["src", "dst", "ip", "app", "via", "users", "action", "accept", "deny", "check", "proto", "target", "attr", "routes", "exitNode", "checkPeriod", "ports"];
  const value = (depth: number): unknown => {
    switch (rnd(depth > 2 ? 3 : 6)) {
      case 0: return pick(atoms);
      case 1: return pick([null, 0, 1.5, true, -1, "accept", "check"]);
      case 2: return Array.from({ length: rnd(3) }, () => pick(atoms));
      case 3: return Array.from({ length: rnd(3) }, () => value(depth + 1));
      default: return Object.fromEntries(Array.from({ length: rnd(4) }, () => [pick([...keys, pick(atoms)]), value(depth + 1)]));
    }
  };
  const sections = ["acls", "grants", "ssh", "tests", "sshTests", "nodeAttrs", "groups", "hosts", "tagOwners", "autoApprovers", "postures", "ipsets", "derpMap", "randomizeClientPort"];
  test("3,000 policies: a verdict each, errors as path and one-line message", () => {
    const { checkPolicy } = require("../src/tailnet/policy/check") as typeof import("../src/tailnet/policy/check");
    const { evaluateTest, evaluateSshTest } = require("../src/tailnet/policy/evaluate") as typeof import("../src/tailnet/policy/evaluate");
    for (let i = 0; i < 3000; i++) {
      const policy = Object.fromEntries(sections.filter(() => rnd(3) === 0).map((s) => [s, rnd(2) ? Array.from({ length: 1 + rnd(2) }, () => value(1)) : value(1)]));
      const r = checkPolicy(policy);
      expect(["accepted", "rejected", "unknown"]).toContain(r.verdict);
      for (const e of r.errors) expect(typeof e.path === "string" && typeof e.message === "string" && !e.message.includes("\n")).toBe(true);
      // The evaluator runs on checked policies only, but must not throw on anything either.
      const t = { src: pick(atoms), dst: [pick(atoms)], accept: [pick(atoms)], deny: value(1), proto: pick(["", "tcp", "icmp", 7]) };
      expect(["pass", "fail", "unknown"]).toContain(evaluateTest(policy, t).result);
      expect(["pass", "fail", "unknown"]).toContain(evaluateSshTest(policy, t).result);
    }
  });
});
