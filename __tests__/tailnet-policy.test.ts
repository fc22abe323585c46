import { groupBlocks } from "./helpers/groups";
import { App, TerraformStack, Testing } from "cdktf";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Construct } from "constructs";
import { projectFile } from "../src/app";
import { MeshStack } from "../src/systems/mesh/mesh-stack";
import { NEW_TAILNET_POLICY, PolicyBase } from "../src/tailnet/policy/base";
import { composePolicy, SourcedContribution } from "../src/tailnet/policy/compose";
import { evaluateConnection } from "../src/tailnet/policy/evaluate";
import { parseHujson } from "../src/tailnet/policy/hujson";
import { TailnetPolicy } from "../src/tailnet/tailnet-policy";

/** A user's own policy as they would write it: comments, groups, hosts, their grants, ACLs and tests. */
const USER_BASE = `// ACME's tailnet
{
  "groups": {
    "group:ops": ["alice@example.com", "bob@example.com"], // on call
  },
  "hosts": { "nas": "100.100.1.10" },
  /* the team's servers */
  "tagOwners": {
    "tag:build": ["group:ops"],
  },
  "grants": [
    // ops reach everything they run
    {"src": ["group:ops"], "dst": ["tag:build"], "ip": ["*"]},
  ],
  "acls": [
    {"action": "accept", "src": ["autogroup:member"], "dst": ["nas:445"]},
  ],
  "tests": [
    {"src": "alice@example.com", "accept": ["tag:build:22"]},
  ],
}
`;

const base = PolicyBase.fromText(USER_BASE, "acme.hujson");
const mesh: SourcedContribution = {
  source: "mesh/mesh",
  tagOwners: { "tag:mesh": ["group:ops"] },
  grants: [{ src: ["tag:mesh"], dst: ["tag:mesh"], ip: ["*"] }],
  ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:mesh"], users: ["root"] }],
  tests: [{ src: "tag:mesh", accept: ["tag:mesh:5201"] }],
};
const router: SourcedContribution = {
  source: "router/router",
  tagOwners: { "tag:router": ["group:ops"], "tag:mesh": ["group:ops"] },
  grants: [
    { src: ["tag:mesh"], dst: ["tag:mesh"], ip: ["*"] }, // the same grant again
    { src: ["group:ops"], dst: ["10.0.0.0/16"], ip: ["*"] },
  ],
  autoApprovers: { routes: { "10.0.0.0/16": ["tag:router"] }, exitNode: ["tag:router"] },
  nodeAttrs: [{ target: ["tag:router"], attr: ["funnel"] }],
  tests: [{ src: "tag:router", deny: ["tag:build:22"] }],
};

describe("composition over a user's base", () => {
  const c = composePolicy(base, [router, mesh]);
  const value = parseHujson(c.text, "composed") as any;
  const user = parseHujson(USER_BASE, "base") as any;

  test("everything the user wrote survives: every line in order, every value in place", () => {
    const lines = c.text.split("\n");
    let at = 0;
    for (const line of USER_BASE.trimEnd().split("\n")) {
      const found = lines.indexOf(line, at);
      expect({ line, found: found >= 0 }).toEqual({ line, found: true });
      at = found + 1;
    }
    expect(value.groups).toEqual(user.groups);
    expect(value.hosts).toEqual(user.hosts);
    expect(value.acls).toEqual(user.acls);
    expect(value.grants.slice(0, 1)).toEqual(user.grants);
    expect(value.tests.slice(0, 1)).toEqual(user.tests);
    expect(value.tagOwners["tag:build"]).toEqual(["group:ops"]);
    expect(c.text).toContain("// on call");
    expect(c.text).toContain("/* the team's servers */");
  });

  test("two systems merge: deduplicated, in a stable order (by source), approvers added up", () => {
    expect(value.tagOwners).toEqual({ "tag:build": ["group:ops"], "tag:mesh": ["group:ops"], "tag:router": ["group:ops"] });
    // mesh/mesh sorts before router/router, whatever order they were given in.
    expect(value.grants.slice(1)).toEqual([
      { src: ["tag:mesh"], dst: ["tag:mesh"], ip: ["*"] },
      { src: ["group:ops"], dst: ["10.0.0.0/16"], ip: ["*"] },
    ]);
    expect(composePolicy(base, [mesh, router]).text).toBe(c.text);
    expect(value.autoApprovers).toEqual({ routes: { "10.0.0.0/16": ["tag:router"] }, exitNode: ["tag:router"] });
    expect(value.nodeAttrs).toEqual([{ target: ["tag:router"], attr: ["funnel"] }]);
    expect(value.tests).toEqual([...user.tests, { src: "tag:mesh", accept: ["tag:mesh:5201"] }, { src: "tag:router", deny: ["tag:build:22"] }]);
    expect(c.contributors).toEqual(["mesh/mesh", "router/router"]);
    expect(c.warnings).toEqual([]);
  });

  test("a route the base already approves gets the new approver appended, the user's kept", () => {
    const b = PolicyBase.fromText('{"tagOwners": {"tag:x": []}, "autoApprovers": {"routes": {"10.0.0.0/16": ["group:ops"]}}, "groups": {"group:ops": []}}', "b");
    const v = parseHujson(composePolicy(b, [{ source: "r", tagOwners: { "tag:r": [] }, autoApprovers: { routes: { "10.0.0.0/16": ["tag:r"] } } }]).text, "x") as any;
    expect(v.autoApprovers.routes["10.0.0.0/16"]).toEqual(["group:ops", "tag:r"]);
  });

  test("additions: exactly what the systems add beyond the base (the external-mode fragment)", () => {
    expect(c.additions.tagOwners).toEqual({ "tag:mesh": ["group:ops"], "tag:router": ["group:ops"] });
    expect(c.additions.grants).toHaveLength(2);
    expect(composePolicy(PolicyBase.fromText(c.text, "again"), [mesh, router]).additions).toEqual({});
  });

  test("composing is idempotent: the composed policy as base gains nothing", () => {
    expect(composePolicy(PolicyBase.fromText(c.text, "again"), [router, mesh]).text).toBe(c.text);
  });
});

describe("conflicts fail synthesis naming both sources", () => {
  // Locked down: only the group, no rule of the user's own.
  const opsOnly = PolicyBase.fromObject({ groups: { "group:ops": ["alice@example.com"] } }, "ops");
  test("a tag owned differently", () => {
    expect(() => composePolicy(base, [{ source: "erlang/cluster", tagOwners: { "tag:build": ["autogroup:admin"] } }])).toThrow(
      /^tagOwners\["tag:build"\]: owned by \["autogroup:admin"\] in erlang\/cluster but by \["group:ops"\] in base policy \(acme\.hujson\)/,
    );
    expect(() =>
      composePolicy(base, [mesh, { source: "z/other", tagOwners: { "tag:mesh": ["autogroup:admin"] } }]),
    ).toThrow(/owned by \["autogroup:admin"\] in z\/other but by \["group:ops"\] in mesh\/mesh/);
  });

  test("the same SSH rule with another action", () => {
    expect(() => composePolicy(base, [mesh, { source: "z/other", ssh: [{ ...mesh.ssh![0], action: "accept" }], tagOwners: mesh.tagOwners }])).toThrow(
      /^ssh: z\/other asks "accept" for .* but mesh\/mesh asks "check" for the same rule/,
    );
  });

  test("one system's accept is another's deny", () => {
    const deny: SourcedContribution = { source: "z/iso", tagOwners: mesh.tagOwners, tests: [{ src: "tag:mesh", deny: ["tag:mesh:5201"] }] };
    expect(() => composePolicy(opsOnly, [mesh, deny])).toThrow(/^tests: mesh\/mesh promises tag:mesh reaches tag:mesh:5201, but z\/iso promises it cannot/);
  });

  test("a deny promise another system's grant breaks", () => {
    const iso: SourcedContribution = { source: "erlang/cluster", tagOwners: mesh.tagOwners, tests: [{ src: "tag:mesh", deny: ["tag:mesh:22"] }] };
    expect(() => composePolicy(opsOnly, [mesh, iso])).toThrow(
      /^tests: erlang\/cluster promises tag:mesh cannot reach tag:mesh:22, but mesh\/mesh \(grant \{"src": \["tag:mesh"\]/,
    );
  });

  test("an accept promise nothing grants", () => {
    expect(() => composePolicy(PolicyBase.empty(), [{ source: "s", tagOwners: { "tag:a": [] }, tests: [{ src: "tag:a", accept: ["tag:a:22"] }] }])).toThrow(
      /^tests: s promises tag:a reaches tag:a:22, but no grant or ACL allows it/,
    );
  });

  test("a tag nobody owns, a group the base does not define", () => {
    expect(() => composePolicy(base, [{ source: "s", grants: [{ src: ["tag:ghost"], dst: ["*"], ip: ["*"] }] }])).toThrow(
      /^s: grants\[0\]\.src: uses tag:ghost, which no tagOwners entry defines/,
    );
    expect(() => composePolicy(base, [{ source: "s", tagOwners: { "tag:x": ["group:nobody"] } }])).toThrow(
      /^s: tagOwners\["tag:x"\]: uses group:nobody, which the base policy's groups do not define/,
    );
  });
});

describe("promises the base contradicts", () => {
  const iso: SourcedContribution = {
    source: "erlang/cluster",
    tagOwners: { "tag:erl": ["autogroup:admin"] },
    grants: [{ src: ["tag:erl"], dst: ["tag:erl"], ip: ["tcp:4369"] }],
    tests: [{ src: "tag:erl", accept: ["tag:erl:4369"], deny: ["tag:erl:22"] }],
  };

  test("warn (default): the allow-all default grant makes the deny promise void; it is left out and reported", () => {
    const c = composePolicy(PolicyBase.newTailnetDefault(), [iso]);
    expect((parseHujson(c.text, "x") as any).tests).toEqual([{ src: "tag:erl", accept: ["tag:erl:4369"] }]);
    expect(c.warnings).toEqual([
      expect.stringMatching(/^erlang\/cluster promises tag:erl cannot reach tag:erl:22, but base policy \(new-tailnet default\) grants\[0\] allows it/),
    ]);
  });

  test("fail: the same contradiction stops synthesis", () => {
    expect(() => composePolicy(PolicyBase.newTailnetDefault(), [iso], { baseContradictions: "fail" })).toThrow(/remove or narrow that rule/);
  });

  test("locked down (no allow-all): the promise is kept as a policy test", () => {
    const c = composePolicy(PolicyBase.empty(), [iso]);
    expect((parseHujson(c.text, "x") as any).tests).toEqual(iso.tests);
  });
});

describe("offline evaluation of grants and ACLs", () => {
  const p = parseHujson(USER_BASE, "b") as any;
  test.each([
    ["alice@example.com", "tag:build:22", "yes"],
    ["carol@example.com", "tag:build:22", "no"],
    ["tag:build", "tag:build:22", "no"],
    ["carol@example.com", "nas:445", "yes"],
    ["carol@example.com", "nas:80", "no"],
    ["tag:build", "100.100.1.10:445", "no"],
    ["100.100.1.10", "tag:build:22", "unknown"],
  ])("%s → %s: %s", (src, dst, expected) => {
    expect(evaluateConnection(p, src, dst).result).toBe(expected);
  });
  test("ports, ranges and protocols", () => {
    const q = { grants: [{ src: ["*"], dst: ["tag:a"], ip: ["tcp:4369", "9100-9105", "udp:53"] }] } as any;
    expect(evaluateConnection(q, "tag:b", "tag:a:4369").result).toBe("yes");
    expect(evaluateConnection(q, "tag:b", "tag:a:9103").result).toBe("yes");
    expect(evaluateConnection(q, "tag:b", "tag:a:9106").result).toBe("no");
    expect(evaluateConnection(q, "tag:b", "tag:a:4369", "udp").result).toBe("no");
    expect(evaluateConnection(q, "tag:b", "tag:a:53", "udp").result).toBe("yes");
  });
});

describe("HuJSON base files", () => {
  test("the shipped tailnet-policy.hujson starts equal to what a new tailnet has", () => {
    const shipped = parseHujson(fs.readFileSync(projectFile("tailnet-policy.hujson"), "utf8"), "shipped");
    expect(shipped).toEqual(parseHujson(NEW_TAILNET_POLICY, "default"));
  });
  test("a syntax error names the file, line and column", () => {
    expect(() => composePolicy(PolicyBase.fromText('{\n  "grants": [\n    {"src": ["*"] "dst": []},\n  ],\n}\n', "broken.hujson"), [])).toThrow(
      /^base policy \(broken\.hujson\): not valid HuJSON: CommaExpected at line 3, column 19/,
    );
  });
  test("a key given twice is refused, not silently overwritten", () => {
    expect(() => composePolicy(PolicyBase.fromText('{\n  "groups": {"group:a": []},\n  "tagOwners": {},\n  "groups": {"group:b": []},\n}\n', "dup.hujson"), [])).toThrow(
      /^base policy \(dup\.hujson\): not valid HuJSON: key "groups" appears twice in one object \(again at line 4, column 3\)/,
    );
  });
  test("a section of the wrong shape is named", () => {
    expect(() => composePolicy(PolicyBase.fromObject({ grants: {} }, "obj"), [])).toThrow(/^tailnetPolicy\.base: grants: must be a list, not an object$/);
  });
  test("a missing file is named", () => {
    expect(() => PolicyBase.fromFile("/nonexistent/policy.hujson")).toThrow(/^tailnetPolicy\.base: cannot read \/nonexistent\/policy\.hujson: ENOENT/);
  });
});

describe("who owns the policy", () => {
  test("two stacks writing one tailnet's policy fail synthesis", () => {
    const app = Testing.app() as App;
    new MeshStack(app, "mesh");
    expect(() => new MeshStack(app, "mesh2", { namePrefix: "m2-" })).toThrow(
      /^tailnetPolicy: mesh\/mesh\/policy and mesh2\/mesh\/policy both hold the policy of tailnet "-"/,
    );
  });

  test("a second tailnet gets its own policy", () => {
    const app = Testing.app() as App;
    new MeshStack(app, "mesh");
    expect(() => new MeshStack(app, "mesh2", { namePrefix: "m2-", tailnetPolicy: { tailnet: "example.org" } })).not.toThrow();
  });

  test("managed, shared across stacks: one tailscale_acl; the other stack's keys depend on its stack", () => {
    const app = Testing.app() as App;
    const owner = new TerraformStack(app, "tailnet");
    const policy = new TailnetPolicy(owner, "policy", { base: PolicyBase.fromText(USER_BASE, "acme.hujson") });
    const a = new MeshStack(app, "mesh", { tailnetPolicy: policy, policy: { admins: ["group:ops"] } });
    const b = new MeshStack(app, "lab", { tailnetPolicy: policy, namePrefix: "lab-", policy: { meshTag: "tag:lab", admins: ["group:ops"] } });
    const ownerJson = JSON.parse(Testing.synth(owner));
    const aJson = JSON.parse(Testing.synth(a));
    expect(Object.keys(ownerJson.resource.tailscale_acl)).toEqual(["policy"]);
    expect(aJson.resource.tailscale_acl).toBeUndefined();
    expect(aJson.resource.tailscale_tailnet_key.node.depends_on).toBeUndefined();
    expect(a.dependencies).toContain(owner);
    expect(b.dependencies).toContain(owner);
    const composed = parseHujson(ownerJson.resource.tailscale_acl.policy.acl, "acl") as any;
    expect(Object.keys(composed.tagOwners).sort()).toEqual(["tag:build", "tag:lab", "tag:mesh"]);
  });

  test("keys for a tag the policy does not own fail synthesis, naming the key's construct", () => {
    const app = Testing.app() as App;
    const stack = new TerraformStack(app, "s");
    const policy = new TailnetPolicy(stack, "policy", {});
    expect(() => policy.guardKeys(new Construct(stack, "router"), ["tag:router"])).toThrow(
      /^s\/router: mints keys for tag:router, which the tailnet policy does not own/,
    );
  });

  test("external mode: no tailscale_acl; the fragment is written beside the stack; keys wait for a plan-time check", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "ext-"));
    try {
      const app = new App({ outdir });
      const stack = new MeshStack(app, "mesh", { tailnetPolicy: { mode: "external" } });
      app.synth();
      const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks/mesh/cdk.tf.json"), "utf8"));
      expect(json.resource.tailscale_acl).toBeUndefined();
      const pre = json.data.tailscale_acl.tailnet_policy.lifecycle.postcondition[0];
      const keys = Object.values(groupBlocks(json, "tailscale_tailnet_key", "node"));
      expect(keys.length).toBeGreaterThan(1);
      for (const key of keys) expect(key.depends_on).toEqual(["data.tailscale_acl.tailnet_policy"]);
      expect(pre.condition).toContain("jsondecode(self.json).tagOwners");
      expect(pre.condition).toContain('["tag:mesh"]');
      expect(pre.error_message).toContain("stacks/mesh/tailnet-policy.fragment.hujson");
      const fragment = fs.readFileSync(path.join(outdir, "stacks/mesh/tailnet-policy.fragment.hujson"), "utf8");
      expect(fragment).toBe(stack.mesh.policy!.renderFragment());
      const f = parseHujson(fragment, "fragment") as any;
      expect(f.tagOwners).toEqual({ "tag:mesh": ["autogroup:admin"] });
      expect(f.grants).toHaveLength(2);
      expect(fragment).toMatch(/^\/\/ What the systems need in the policy of tailnet "-"/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

test("the app's synth command reports the voided promises once per test, as a warning, not an error", () => {
  const { spawnSync } = require("child_process");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "synth-warn-"));
  try {
    const r = spawnSync(process.execPath, [path.join(__dirname, "..", "scripts", "run-ts.js"), path.join(__dirname, "..", "main.ts")], {
      cwd: path.join(__dirname, ".."),
      env: { ...process.env, CDKTF_OUTDIR: dir, CHECKPOINT_DISABLE: "1" },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toEqual([expect.stringMatching(/^warning: tailnet policy "-": erlang-cluster\/erlang promises tag:erlang cannot reach .* allows them: these promises are left out/)]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
