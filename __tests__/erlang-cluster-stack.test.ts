/**
 * The erlang-cluster stack: the app's default (snapshot and focused assertions), the policy it
 * contributes (against the app's allow-all base and a locked-down one), the firewall, the cookie's
 * path from random_password to the node, bad input, and an offline validate/plan/apply/plan through
 * the real terraform.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Testing } from "cdktf";
import { buildApp } from "../src/app";
import { findTerraform, withSession } from "../src/harness/runner";
import { ErlangClusterStack, ErlangClusterStackProps } from "../src/systems/erlang-cluster/erlang-cluster-stack";
import { erlangNodeFiles } from "../src/systems/erlang-cluster/render";
import { NODE_HOSTNAME_SLOT } from "../src/linode/tailscale-nodes";
import { escapeTerraformTemplate, fillTemplateSlots } from "../src/terraform/template";
import { MeshStack } from "../src/systems/mesh/mesh-stack";
import { PolicyBase } from "../src/tailnet/policy/base";
import { evaluateConnection } from "../src/tailnet/policy/evaluate";
import { parseHujson } from "../src/tailnet/policy/hujson";
import { synthesizedStack } from "./helpers/synth";
import { nodeScriptTemplate } from "./helpers/mesh";
import { groupBlocks, onlyGroup } from "./helpers/groups";

/** The node's user_data as the one template it stands for (see nodeScriptTemplate). */
const decodeUserData = (doc: any, node: any): string => nodeScriptTemplate(doc, node.metadata[0].user_data);

/** An erlang-cluster stack on its own, with a policy of its own over `base`. */
function synthAlone(props: ErlangClusterStackProps = {}, base = PolicyBase.empty()): { doc: any; stack: ErlangClusterStack } {
  const app = Testing.app() as App;
  const stack = new ErlangClusterStack(app, "erlang-cluster", { tailnetPolicy: { base }, ...props });
  return { doc: JSON.parse(Testing.synth(stack)), stack };
}

describe("erlang-cluster stack (app default)", () => {
  const doc = synthesizedStack("erlang-cluster");
  const node = onlyGroup(doc, "linode_instance", "erlang");
  const script = decodeUserData(doc, node);

  test("snapshot of the synthesized JSON", () => {
    expect(doc).toMatchSnapshot();
  });

  test("three nodes in Tokyo, for_each keyed by name, created behind the firewall, cloud-init only", () => {
    // One region: one instance resource, erlang_ap_northeast, over that region's local.
    expect(Object.keys(groupBlocks(doc, "linode_instance", "erlang"))).toEqual(["ap_northeast"]);
    expect(node.for_each).toBe("${local.erlang_ap_northeast}");
    expect(doc.locals.erlang_ap_northeast).toEqual({ "ap-northeast-1": "ap-northeast", "ap-northeast-2": "ap-northeast", "ap-northeast-3": "ap-northeast" });
    expect(node).toMatchObject({ label: "erl-${each.key}", region: "${each.value}", type: "g6-standard-2" });
    expect(node.firewall_id).toBe("${linode_firewall.erlang.id}");
    expect(node.tags).toEqual(["tailscale", "erlang-cluster"]);
    expect(node.provisioner).toBeUndefined();
    expect(node.authorized_keys).toBeUndefined();
    expect(node.root_pass).toBeUndefined();
  });

  test("firewall: inbound DROP and nothing public on epmd or the distribution range (nor SSH)", () => {
    const fw = doc.resource.linode_firewall.erlang;
    expect(fw.inbound_policy).toBe("DROP");
    expect(fw.outbound_policy).toBe("ACCEPT");
    const covers = (rule: any, port: number) =>
      rule.action === "ACCEPT" &&
      ["TCP", "ALL"].includes(rule.protocol) &&
      (rule.ports === undefined ||
        String(rule.ports)
          .split(",")
          .some((p: string) => {
            const [a, b] = p.split("-").map(Number);
            return port >= a && port <= (b ?? a);
          }));
    for (const port of [22, 4369, 9100, 9101, 9102, 9103, 9104, 9105]) {
      expect({ port, open: fw.inbound.filter((r: any) => covers(r, port)) }).toEqual({ port, open: [] });
    }
    expect(fw.inbound.map((r: any) => [r.protocol, r.ports ?? null])).toEqual([
      ["UDP", "41641"],
      ["ICMP", null],
    ]);
  });

  test("the cookie: random_password, alphanumeric; the JSON holds only its reference, inside the cookie file's heredoc", () => {
    expect(doc.resource.random_password.erlang_cookie).toMatchObject({ length: 48, special: false, upper: true, lower: true, numeric: true });
    const ref = "${random_password.erlang_cookie.result}";
    const lines = script.split("\n");
    const at = lines.map((l, i) => (l.includes("random_password") ? i : -1)).filter((i) => i >= 0);
    expect(at).toHaveLength(1);
    expect(lines[at[0]]).toBe(ref);
    expect(lines[at[0] - 1]).toBe("  write_owned_file '/var/lib/erlang-cluster/.erlang.cookie' 400 'erlang:erlang' <<'MESH_FILE_EOF'");
    expect(lines[at[0] + 1]).toBe("MESH_FILE_EOF");
    expect(doc.output.erlang_cookie).toEqual({ description: expect.stringContaining("terraform output -raw erlang_cookie"), sensitive: true, value: ref });
    // Nowhere else in the document is there a reference to it.
    const elsewhere = JSON.stringify({ ...doc, output: { ...doc.output, erlang_cookie: null } }).split("random_password.erlang_cookie.result").length - 1;
    expect(elsewhere).toBe(1); // the one inside user_data
  });

  test("the bootstrap: Erlang from the image's release, packaged epmd masked first, every rendered file, both units", () => {
    expect(script).toContain("ensure_packages tailscale ethtool erlang-base");
    expect(script).not.toMatch(/iperf3 --server/);
    const main = script.slice(script.indexOf("main() {"));
    expect(main.indexOf("step_masks")).toBeLessThan(main.indexOf("step_packages"));
    expect(script).toContain("  ensure_masked 'epmd.socket'\n  ensure_masked 'epmd.service'\n");
    expect(script).toContain("  ensure_system_user 'erlang' '/var/lib/erlang-cluster'");
    // The files are exactly what the renderers give for a node named by the slot each node fills in.
    const members = ["erlang@erl-ap-northeast-1", "erlang@erl-ap-northeast-2", "erlang@erl-ap-northeast-3"];
    for (const f of erlangNodeFiles({ node: `erlang@${NODE_HOSTNAME_SLOT}`, members, cookie: "x".repeat(16) }).slice(1)) {
      const asTemplate = f.content.includes(NODE_HOSTNAME_SLOT)
        ? fillTemplateSlots(f.content, { [NODE_HOSTNAME_SLOT]: "erl-${each.key}" })
        : escapeTerraformTemplate(f.content);
      // (the script as decoded is the template text: `$${` still escaped, as Terraform reads it)
      expect(script).toContain(`<<'MESH_FILE_EOF'\n${asTemplate}MESH_FILE_EOF`);
    }
    expect(script).toContain("-sname erlang@erl-${each.key}\n");
    expect(script.indexOf("ensure_active 'erlang-cluster-epmd.service'")).toBeLessThan(script.indexOf("ensure_active 'erlang-cluster-node.service'"));
    expect(script).toContain("--advertise-tags=tag:erlang");
  });

  test("keys: single-use, tagged tag:erlang; the stack depends on the mesh stack, which owns the policy", () => {
    const key = onlyGroup(doc, "tailscale_tailnet_key", "erlang");
    expect(key).toMatchObject({ reusable: false, preauthorized: true, tags: ["tag:erlang"], recreate_if_invalid: "never" });
    expect(key.for_each).toEqual(node.for_each);
    expect(doc.resource.tailscale_acl).toBeUndefined();
    const app = buildApp({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "erl-app-")) });
    const erl = app.node.findChild("erlang-cluster") as ErlangClusterStack;
    expect(erl.dependencies.map((s) => s.node.id)).toEqual(["mesh"]);
  });

  test("outputs: per node its Erlang node name; the member list, tag and ports for members kept elsewhere", () => {
    expect(doc.output.nodes.value).toContain("erlang_node = local.erlang_node_names[key]");
    expect(doc.locals.erlang_node_names).toEqual({
      "ap-northeast-1": "erlang@erl-ap-northeast-1",
      "ap-northeast-2": "erlang@erl-ap-northeast-2",
      "ap-northeast-3": "erlang@erl-ap-northeast-3",
    });
    expect(doc.output.cluster.value).toEqual({
      members: ["erlang@erl-ap-northeast-1", "erlang@erl-ap-northeast-2", "erlang@erl-ap-northeast-3"],
      tag: "tag:erlang",
      epmd_port: 4369,
      dist_port_min: 9100,
      dist_port_max: 9105,
    });
  });
});

describe("policy", () => {
  const erlangGrants = [
    { src: ["tag:erlang"], dst: ["tag:erlang"], ip: ["tcp:4369", "tcp:9100-9105"] },
    { src: ["autogroup:admin"], dst: ["tag:erlang"], ip: ["tcp:22"] },
  ];

  test("in the app: added to the mesh's one policy; deny promises left out against the allow-all base, with a warning", () => {
    const app = buildApp({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "erl-app-")) });
    const mesh = app.node.findChild("mesh") as MeshStack;
    const composed = mesh.tailnetPolicy!.compose();
    const policy = parseHujson(composed.text, "acl") as any;
    expect(policy.tagOwners["tag:erlang"]).toEqual(["autogroup:admin"]);
    expect(policy.grants).toEqual(expect.arrayContaining(erlangGrants));
    expect(policy.tests).toContainEqual({ src: "tag:erlang", accept: ["tag:erlang:4369", "tag:erlang:9100", "tag:erlang:9105"] });
    const warnings = composed.warnings.filter((w) => w.startsWith("erlang-cluster/erlang promises tag:erlang cannot reach"));
    // One warning for the test, naming every promise the allow-all grant makes void.
    expect(warnings).toHaveLength(1);
    expect(/ reach (.*), but /.exec(warnings[0])![1].split(", ")).toEqual(["tag:erlang:22", "tag:erlang:9099", "tag:erlang:9106", "tag:erlang:4370"]);
    expect(warnings[0]).toContain("base policy (tailnet-policy.hujson) grants[0] allows them");
  });

  test("over a locked-down base: members reach each other on epmd and the range only; the deny tests stay", () => {
    const { doc } = synthAlone();
    const policy = parseHujson(doc.resource.tailscale_acl.erlang.acl, "acl") as any;
    expect(policy.grants).toEqual(erlangGrants);
    expect(policy.tests).toEqual([
      { src: "tag:erlang", accept: ["tag:erlang:4369", "tag:erlang:9100", "tag:erlang:9105"], deny: ["tag:erlang:22", "tag:erlang:9099", "tag:erlang:9106", "tag:erlang:4370"] },
    ]);
    const reach = (dst: string, src = "tag:erlang") => evaluateConnection(policy, src, dst).result;
    for (const port of [4369, 9100, 9103, 9105]) expect(reach(`tag:erlang:${port}`)).toBe("yes");
    for (const port of [22, 80, 443, 4370, 5201, 9099, 9106, 41641]) expect({ port, r: reach(`tag:erlang:${port}`) }).toEqual({ port, r: "no" });
    expect(reach("tag:erlang:4369", "tag:mesh")).toBe("no"); // other tagged machines: nothing
    expect(reach("tag:mesh:22")).toBe("no"); // members reach nothing outside the cluster
    expect(evaluateConnection(policy, "tag:erlang", "tag:erlang:4369", "udp").result).toBe("no");
  });

  test("options: tag, admins, no SSH, another port range", () => {
    const { doc } = synthAlone({ policy: { tag: "tag:otp", admins: ["group:ops"], sshUsers: [] }, distPorts: { min: 4370, max: 4371 } }, PolicyBase.fromObject({ groups: { "group:ops": ["ops@example.com"] } }));
    const policy = parseHujson(doc.resource.tailscale_acl.erlang.acl, "acl") as any;
    expect(policy.tagOwners).toEqual({ "tag:otp": ["group:ops"] });
    expect(policy.grants).toEqual([{ src: ["tag:otp"], dst: ["tag:otp"], ip: ["tcp:4369", "tcp:4370-4371"] }]);
    expect(policy.ssh).toBeUndefined();
    expect(policy.tests).toEqual([{ src: "tag:otp", accept: ["tag:otp:4369", "tag:otp:4370", "tag:otp:4371"], deny: ["tag:otp:22", "tag:otp:4372"] }]);
  });
});

describe("options", () => {
  test("MagicDNS suffix, several regions, members kept elsewhere, your own release", () => {
    const { doc } = synthAlone({
      regions: ["ap-northeast", "jp-osa"],
      nodesPerRegion: 2,
      magicDnsSuffix: "tail1234.ts.net",
      externalMembers: ["vultr-tokyo-1", "app@datapacket-tokyo-1.tail1234.ts.net"],
      release: { command: ["/opt/app/bin/app", "foreground"] },
      syncTimeoutMs: 10_000,
    });
    const groups = groupBlocks(doc, "linode_instance", "erlang");
    expect(Object.keys(groups).sort()).toEqual(["ap_northeast", "jp_osa"]);
    const script = decodeUserData(doc, groups.jp_osa);
    expect(Object.keys(doc.locals.erlang_ap_northeast)).toEqual(["ap-northeast-1", "ap-northeast-2"]);
    expect(Object.keys(doc.locals.erlang_jp_osa)).toEqual(["jp-osa-1", "jp-osa-2"]);
    expect(script).toContain("-name erlang@erl-${each.key}.tail1234.ts.net\n");
    expect(doc.output.cluster.value.members).toEqual([
      "erlang@erl-ap-northeast-1.tail1234.ts.net",
      "erlang@erl-ap-northeast-2.tail1234.ts.net",
      "erlang@erl-jp-osa-1.tail1234.ts.net",
      "erlang@erl-jp-osa-2.tail1234.ts.net",
      "erlang@vultr-tokyo-1.tail1234.ts.net",
      "app@datapacket-tokyo-1.tail1234.ts.net",
    ]);
    expect(script).toContain("'erlang@vultr-tokyo-1.tail1234.ts.net',\n                         'app@datapacket-tokyo-1.tail1234.ts.net']},\n  {sync_nodes_timeout, 10000}");
    expect(script).toContain("ExecStart=/usr/local/lib/erlang-cluster/launch exec /opt/app/bin/app foreground\n");
  });

  const cases: [string, ErlangClusterStackProps, RegExp][] = [
    ["unknown region", { regions: ["xx-nowhere"] }, /^regions\[0\]: unknown Linode region "xx-nowhere"/],
    ["no nodes per region", { nodesPerRegion: 0 }, /^nodesPerRegion: 0 must be a whole number from 1 to 100/],
    ["nodes and regions", { nodes: [{ name: "a", region: "ap-northeast" }], regions: ["jp-osa"] }, /^nodes: give either nodes, or regions\/nodesPerRegion, not both/],
    ["bad name prefix", { namePrefix: "Erl-" }, /^nodes\[0\] hostname \(namePrefix \+ name\): "Erl-ap-northeast-1" is not a valid hostname/],
    ["unsupported image", { image: "linode/centos7" }, /^image: "linode\/centos7" is not a supported image/],
    ["bad node name", { nodeName: "9lives" }, /^nodeName: "9lives" is not the name part of an Erlang node name/],
    ["bad MagicDNS suffix", { magicDnsSuffix: "example.com" }, /^magicDnsSuffix: "example.com" is not a MagicDNS suffix like "tail1234.ts.net"/],
    ["bad external member", { externalMembers: ["Vultr Tokyo"] }, /^externalMembers\[0\]: "erlang@Vultr Tokyo" is not an Erlang node name/],
    ["external member twice", { externalMembers: ["erl-ap-northeast-2"] }, /^externalMembers: erlang@erl-ap-northeast-2 is already a member/],
    ["fully qualified member in a short-name cluster", { externalMembers: ["app@vultr-1.tail1234.ts.net"] }, /^externalMembers\[0\]: app@vultr-1\.tail1234\.ts\.net is fully qualified, but the cluster uses short tailnet names/],
    ["short member in a fully qualified cluster", { magicDnsSuffix: "tail1234.ts.net", externalMembers: ["app@vultr-1"] }, /^externalMembers\[0\]: app@vultr-1 is a short name, but magicDnsSuffix makes every name fully qualified/],
    ["range over epmd", { distPorts: { min: 4300, max: 4400 } }, /^distPorts: the range must not include epmd's port 4369/],
    ["range upside down", { distPorts: { min: 9105, max: 9100 } }, /^distPorts\.max: 9100 must be a whole number from 9105/],
    ["privileged range", { distPorts: { min: 100, max: 200 } }, /^distPorts\.min: 100 must be a whole number from 1024/],
    ["relative release", { release: { command: ["bin/app"] } }, /^release\.command\[0\]: "bin\/app" is not an absolute path/],
    ["negative sync timeout", { syncTimeoutMs: -5 }, /^syncTimeoutMs: -5 must be a whole number from 0/],
    ["bad tag", { policy: { tag: "erlang" } }, /^policy\.tag: "erlang" is not a valid Tailscale tag/],
    ["no admins", { policy: { admins: [] } }, /^policy\.admins: must name at least one owner of the tag/],
    ["bad admin", { policy: { admins: ["bob"] } }, /^policy\.admins\[0\]: "bob" is not an autogroup/],
    ["bad SSH user", { policy: { sshUsers: ["Root!"] } }, /^policy\.sshUsers\[0\]: "Root!" is not a Unix user name/],
    ["no Erlang package", { erlangPackages: [] }, /^erlangPackages: must list the package\(s\) that provide erl and epmd/],
    ["bad package", { erlangPackages: ["erlang base"] }, /^extraPackages\[0\]: "erlang base" is not a Debian package name/],
    ["short cookie", { cookieLength: 8 }, /^cookieLength: 8 must be a whole number from 32 to 255/],
    ["bad firewall label", { firewallLabel: "x" }, /^firewallLabel: "x" is not a valid Linode firewall label/],
  ];
  test.each(cases)("%s", (_name, props, message) => {
    expect(() => synthAlone(props)).toThrow(message);
  });

  test("a second TailnetPolicy for the same tailnet in one app is refused", () => {
    const app = Testing.app() as App;
    const mesh = new MeshStack(app, "mesh");
    expect(mesh.tailnetPolicy).toBeDefined();
    expect(() => new ErlangClusterStack(app, "erlang-cluster")).toThrow(/both hold the policy of tailnet "-"; a tailnet has one policy file/);
  });
});

const TERRAFORM = findTerraform();
if (!TERRAFORM) console.warn("SKIPPED erlang-cluster offline plan: terraform is not on PATH (install Terraform 1.11)");
(TERRAFORM ? describe : describe.skip)("offline, through the real terraform", () => {
  jest.setTimeout(180_000);
  test("validates and plans 8 resources; after apply the cookie is masked in every plan artefact and output", async () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "erl-plan-"));
    try {
      buildApp({ outdir }).synth();
      const configPath = path.join(outdir, "stacks", "erlang-cluster", "cdk.tf.json");
      await withSession({ configPath, workDir: path.join(outdir, "work"), schemaDir: path.join(__dirname, "..", "schemas") }, async (s) => {
        const v = await s.validate();
        expect(v.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
        const p = await s.plan({ title: "erlang-cluster" });
        const created = (p.plan.resource_changes ?? []).filter((rc) => rc.change.actions.includes("create")).map((rc) => rc.address).sort();
        expect(created).toEqual([
          "linode_firewall.erlang",
          'linode_instance.erlang_ap_northeast["ap-northeast-1"]',
          'linode_instance.erlang_ap_northeast["ap-northeast-2"]',
          'linode_instance.erlang_ap_northeast["ap-northeast-3"]',
          "random_password.erlang_cookie",
          'tailscale_tailnet_key.erlang_ap_northeast["ap-northeast-1"]',
          'tailscale_tailnet_key.erlang_ap_northeast["ap-northeast-2"]',
          'tailscale_tailnet_key.erlang_ap_northeast["ap-northeast-3"]',
        ]);
        await s.apply();
        const state = JSON.parse(fs.readFileSync(path.join(s.workDir, "terraform.tfstate"), "utf8"));
        const cookie: string = state.resources.find((r: any) => r.type === "random_password").instances[0].attributes.result;
        expect(cookie.length).toBeGreaterThan(8);
        // The applied user_data carries the cookie (the node needs it) and Terraform marks it sensitive.
        const inst = state.resources.find((r: any) => r.type === "linode_instance").instances[0];
        expect(inst.sensitive_attributes).toContainEqual([{ type: "get_attr", value: "metadata" }, { type: "index", value: { value: 0, type: "number" } }, { type: "get_attr", value: "user_data" }]);
        const again = await s.plan({ title: "erlang-cluster after apply" });
        expect(again.plan.resource_changes?.filter((rc) => !rc.change.actions.includes("no-op"))).toEqual([]);
        for (const text of [again.raw.stdout, again.raw.stderr, again.markdown, fs.readFileSync(again.planJsonPath, "utf8"), fs.readFileSync(again.planMdPath, "utf8")]) {
          expect(text.includes(cookie)).toBe(false);
        }
        const out = await s.tf(["output", "-no-color"]);
        expect(out.stdout).toMatch(/erlang_cookie = <sensitive>/);
        expect(out.stdout.includes(cookie)).toBe(false);
      });
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
