import { readFileSync } from "fs";
import { projectFile } from "../src/app";
import { ARTICLE_REGIONS } from "../src/catalog/regions";
import { parseHujson } from "../src/tailnet/policy/hujson";
import { synthesizedStack } from "./helpers/synth";
import { nodeScriptTemplate, synthMesh, withoutMetadata } from "./helpers/mesh";
import { groupBlocks } from "./helpers/groups";

/** The node's user_data as the one template it stands for (see nodeScriptTemplate). */
const decodeUserData = (doc: any, node: any): string => nodeScriptTemplate(doc, node.metadata[0].user_data);

describe("mesh stack (app default: cloud-init delivery, managed keys)", () => {
  const stack = synthesizedStack("mesh");
  const nodes = groupBlocks(stack, "linode_instance", "node");
  // One node per region in the app's mesh: every group's block is alike but for its map and key.
  const node = nodes.ap_west;

  test("snapshot of the synthesized JSON", () => {
    expect(stack).toMatchSnapshot();
  });

  test("one node per region, for_each keyed by region slug, one instance resource per region over its own local", () => {
    // A local of strings per region, not a literal map (nor one of objects) in for_each: Terraform
    // 1.11 goes over the whole for_each value once per instance.
    const groups = ARTICLE_REGIONS.map((r) => r.replace(/-/g, "_"));
    expect(Object.keys(nodes).sort()).toEqual([...groups].sort());
    for (const r of ARTICLE_REGIONS) {
      const g = r.replace(/-/g, "_");
      expect(nodes[g].for_each).toBe(`\${local.node_${g}}`);
      expect(stack.locals[`node_${g}`]).toEqual({ [r]: r });
      const same = (b: any) => JSON.stringify({ ...b, "//": 0, for_each: 0, metadata: b.metadata[0].user_data.replace(/auth_keys_[a-z0-9_]+\[/, "auth_keys_G[") });
      expect(same(nodes[g])).toBe(same(node));
    }
    expect(stack.locals.node_regions).toBeUndefined();
    expect(node.region).toBe("${each.value}");
    expect(node.label).toBe("mesh-${each.key}");
    expect(node.type).toBe("g6-standard-2");
    expect(stack.locals.node_types).toBeUndefined(); // one plan for all: a literal
    expect(node.count).toBeUndefined();
  });

  test("no root password and no secret value anywhere", () => {
    const text = JSON.stringify(stack);
    expect(node.root_pass).toBeUndefined();
    expect(stack.resource.random_string).toBeUndefined();
    expect(text).not.toMatch(/tskey-[a-z]+-[A-Za-z0-9]/);
    for (const v of ["linode_token", "tailscale_api_key"]) expect(stack.variable[v].sensitive).toBe(true);
    expect(stack.variable.linode_token.default).toBeUndefined();
  });

  test("firewall: inbound DROP, WireGuard UDP 41641, ICMP and the peer relays' UDP 40000 only, outbound ACCEPT, attached at creation", () => {
    const fw = stack.resource.linode_firewall.mesh;
    expect(fw.inbound_policy).toBe("DROP");
    expect(fw.outbound_policy).toBe("ACCEPT");
    expect(fw.inbound.map((r: any) => [r.protocol, r.ports ?? null])).toEqual([
      ["UDP", "41641"],
      ["ICMP", null],
      ["UDP", "40000"],
    ]);
    for (const n of Object.values(nodes)) expect(n.firewall_id).toBe("${linode_firewall.mesh.id}");
  });

  test("managed keys: one single-use, pre-authorised, tagged key per node, minted after the policy", () => {
    const keys = groupBlocks(stack, "tailscale_tailnet_key", "node");
    expect(Object.keys(keys).sort()).toEqual(Object.keys(nodes).sort());
    const relays = ["ap-west", "ca-central", "us-iad", "us-ord", "fr-par", "eu-west", "ap-south", "eu-central", "ap-northeast"];
    for (const [g, key] of Object.entries(keys)) {
      expect(key.for_each).toEqual(nodes[g].for_each);
      expect(key).toMatchObject({ reusable: false, ephemeral: false, preauthorized: true, expiry: 3600, recreate_if_invalid: "never" });
      // The app's mesh has peer relays: their keys carry the relay tag too (one node per region,
      // so each group's tags are a literal).
      expect(key.tags).toEqual(relays.includes(g.replace(/_/g, "-")) ? ["tag:mesh", "tag:mesh-relay"] : ["tag:mesh"]);
      expect(key.depends_on).toEqual(["tailscale_acl.mesh"]);
    }
  });

  test("policy: the user's base first, then the mesh's tag, grants, SSH rules and test, then the subnet routers'", () => {
    const text: string = stack.resource.tailscale_acl.mesh.acl;
    const policy = parseHujson(text, "acl") as any;
    const base = parseHujson(readFileSync(projectFile("tailnet-policy.hujson"), "utf8"), "base") as any;
    // The app's other stacks contribute to the mesh's policy (one policy per tailnet), each in the
    // order of its construct path: erlang-cluster before mesh, subnet-router-aws before -linode.
    expect(policy.tagOwners).toEqual({
      "tag:erlang": ["autogroup:admin"],
      "tag:mesh": ["autogroup:admin"],
      "tag:mesh-relay": ["autogroup:admin"],
      "tag:aws-subnet-router": ["autogroup:admin"],
      "tag:linode-subnet-router": ["autogroup:admin"],
    });
    expect(policy.grants).toEqual([
      ...base.grants,
      { src: ["tag:erlang"], dst: ["tag:erlang"], ip: ["tcp:4369", "tcp:9100-9105"] },
      { src: ["autogroup:admin"], dst: ["tag:erlang"], ip: ["tcp:22"] },
      { src: ["tag:mesh"], dst: ["tag:mesh"], ip: ["*"] },
      { src: ["autogroup:admin"], dst: ["tag:mesh"], ip: ["tcp:22"] },
      { src: ["tag:mesh"], dst: ["tag:mesh-relay"], app: { "tailscale.com/cap/relay": [] } },
      { src: ["autogroup:admin"], dst: ["10.0.0.0/16"], ip: ["*"] },
      { src: ["autogroup:admin"], dst: ["tag:aws-subnet-router"], ip: ["tcp:22"] },
      { src: ["autogroup:admin"], dst: ["10.20.0.0/24"], ip: ["*"] },
      { src: ["autogroup:admin"], dst: ["tag:linode-subnet-router"], ip: ["tcp:22"] },
    ]);
    expect(policy.ssh).toEqual([
      ...base.ssh,
      { action: "check", src: ["autogroup:admin"], dst: ["tag:erlang"], users: ["root"] },
      { action: "check", src: ["autogroup:admin"], dst: ["tag:mesh"], users: ["root"] },
      { action: "accept", src: ["autogroup:admin"], dst: ["tag:mesh"], users: ["meshprobe"] },
      { action: "check", src: ["autogroup:admin"], dst: ["tag:aws-subnet-router"], users: ["root"] },
      { action: "check", src: ["autogroup:admin"], dst: ["tag:linode-subnet-router"], users: ["root"] },
    ]);
    expect(policy.autoApprovers).toEqual({ routes: { "10.0.0.0/16": ["tag:aws-subnet-router"], "10.20.0.0/24": ["tag:linode-subnet-router"] } });
    // (the erlang cluster's deny promises are left out against the base's allow-all grant)
    expect(policy.tests).toEqual([
      { src: "tag:erlang", accept: ["tag:erlang:4369", "tag:erlang:9100", "tag:erlang:9105"] },
      { src: "tag:mesh", accept: ["tag:mesh:5201"] },
    ]);
    expect(policy.acls).toBeUndefined();
    expect(stack.resource.tailscale_acl.mesh.overwrite_existing_content).toBe(false);
    // The base file's own lines (comments included) are all there, in order.
    const lines = text.split("\n");
    let at = 0;
    for (const line of readFileSync(projectFile("tailnet-policy.hujson"), "utf8").trimEnd().split("\n")) {
      const found = lines.indexOf(line, at);
      expect({ line, found: found >= 0 }).toEqual({ line, found: true });
      at = found + 1;
    }
  });

  test("the probe's user exists on every node and the stack says how to reach it", () => {
    expect(decodeUserData(stack, node)).toContain("ensure_user 'meshprobe'");
    expect(stack.output.probe_access.value).toEqual({ ssh_via: "tailnet", ssh_user: "meshprobe" });
  });

  test("cloud-init user_data carries the bootstrap script, key only inside its heredoc", () => {
    expect(node.provisioner).toBeUndefined();
    const script = decodeUserData(stack, node);
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain("${local.node_auth_keys_ap_west[each.key]}");
    expect(script).toContain("--hostname=mesh-${each.key}");
    expect(script).toContain("--advertise-tags=tag:mesh");
    expect(script).not.toContain("curl -fsSL https://tailscale.com/install.sh | sh");
    const keyLines = script.split("\n").filter((l) => l.includes("auth_keys"));
    expect(keyLines).toEqual(["${local.node_auth_keys_ap_west[each.key]}"]);
    // Each node's key, read from its region's map built once (not the whole key resource per node).
    expect(stack.locals.node_auth_keys_ap_west).toBe("${{ for k, v in tailscale_tailnet_key.node_ap_west : k => v.key }}");
    // The script is one local; the key goes in last, after the hostname.
    expect(node.metadata[0].user_data).toBe(
      '${base64gzip(replace(replace(local.node_bootstrap, "meshnodehostnameslot", "mesh-${each.key}"), "MESH_NODE_AUTH_KEY_SLOT", local.node_auth_keys_ap_west[each.key]))}',
    );
    // Every bash expansion reached Terraform escaped, so Terraform leaves it to bash.
    const unescaped = script.replace(/\$\$\{/g, "").match(/\$\{[^}]*\}/g) ?? [];
    expect([...new Set(unescaped)].sort()).toEqual(["${each.key}", "${local.node_auth_keys_ap_west[each.key]}"]);
    expect(node.lifecycle.ignore_changes).toEqual(["metadata"]);
  });

  test("outputs: per-node label, region, public IPv4 and tailnet hostname", () => {
    const per = (g: string) => `{ for key, val in linode_instance.node_${g} : key => { label = val.label, region = val.region, public_ipv4 = one(val.ipv4), tailnet_hostname = val.label } }`;
    expect(stack.output.nodes.value).toBe(`\${merge(${Object.keys(nodes).sort().map(per).join(", ")})}`);
  });
});

describe("for_each churn, at synthesis", () => {
  test("removing one region from the middle removes only that region's resources and locals", () => {
    const all = withoutMetadata(synthMesh());
    const fewer = withoutMetadata(synthMesh({ regions: ARTICLE_REGIONS.filter((r) => r !== "us-ord") }));
    // Put the removed region's parts back: everything else must be byte-identical.
    const restored = JSON.parse(JSON.stringify(fewer));
    for (const type of ["linode_instance", "tailscale_tailnet_key"]) {
      expect(restored.resource[type].node_us_ord).toBeUndefined();
      restored.resource[type].node_us_ord = all.resource[type].node_us_ord;
    }
    for (const local of ["node_us_ord", "node_auth_keys_us_ord"]) {
      expect(restored.locals[local]).toBeUndefined();
      restored.locals[local] = all.locals[local];
    }
    // The output's map loses that region's part, nothing else.
    const part = "{ for key, val in linode_instance.node_us_ord : key => { label = val.label, region = val.region, public_ipv4 = one(val.ipv4), tailnet_hostname = val.label } }";
    expect(restored.output.nodes.value).toBe(all.output.nodes.value.replace(`, ${part}`, ""));
    restored.output.nodes.value = all.output.nodes.value;
    const sortKeys = (x: any): any =>
      Array.isArray(x) ? x.map(sortKeys) : x && typeof x === "object" ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sortKeys(x[k])])) : x;
    expect(JSON.stringify(sortKeys(restored))).toBe(JSON.stringify(sortKeys(all)));
  });
});

describe("remote-exec delivery (as the article), with SSH from admin networks", () => {
  const stack = synthMesh({ delivery: "remote-exec", adminCidrs: ["203.0.113.0/24", "2001:db8::/48"] });
  const node = groupBlocks(stack, "linode_instance", "node").us_ord;

  test("SSH rule only from the admin networks, split by family", () => {
    const ssh = stack.resource.linode_firewall.mesh.inbound.find((r: any) => r.label === "ssh-admin");
    expect(ssh).toEqual({
      label: "ssh-admin",
      action: "ACCEPT",
      protocol: "TCP",
      ports: "22",
      ipv4: expect.stringMatching(/^\$\{\[\s*for key, val in (toset\()?var\.admin_cidrs\)?\s*:\s*val if !strcontains\(val, ":"\)\s*\]\}$/),
      ipv6: expect.stringMatching(/^\$\{\[\s*for key, val in (toset\()?var\.admin_cidrs\)?\s*:\s*val if strcontains\(val, ":"\)\s*\]\}$/),
    });
  });

  test("provisioner runs the script with bash, removes its uploaded copy, connects by key", () => {
    const [p] = node.provisioner;
    const rexec = p["remote-exec"];
    expect(rexec.inline[0]).toBe("#!/bin/bash");
    expect(rexec.inline[1]).toBe('rm -f -- "$0"');
    expect(rexec.inline[2]).toBe(
      '${replace(replace(local.node_bootstrap, "meshnodehostnameslot", "mesh-${each.key}"), "MESH_NODE_AUTH_KEY_SLOT", local.node_auth_keys_us_ord[each.key])}',
    );
    expect(nodeScriptTemplate(stack, rexec.inline[2])).toContain("--auth-key=\"file:$AUTH_KEY_FILE\"");
    expect(rexec.connection).toMatchObject({ type: "ssh", user: "root", host: "${one(self.ipv4)}", private_key: "${var.ssh_private_key}" });
    expect(rexec.connection.password).toBeUndefined();
    expect(node.authorized_keys).toBe("${var.ssh_public_keys}");
    expect(stack.variable.ssh_private_key.sensitive).toBe(true);
    expect(stack.variable.admin_cidrs.default).toEqual(["203.0.113.0/24", "2001:db8::/48"]);
    expect(stack.variable.admin_cidrs.validation).toHaveLength(4);
  });
});

describe("pre-made key mode", () => {
  const stack = synthMesh({ authKeyMode: "premade" });
  test("no tailscale provider or resources; the key is a sensitive, validated variable", () => {
    expect(stack.provider.tailscale).toBeUndefined();
    expect(stack.resource.tailscale_tailnet_key).toBeUndefined();
    // Every group's nodes read the one pre-made key.
    expect(stack.variable.tailscale_auth_key).toMatchObject({ sensitive: true, nullable: false, type: "string" });
    expect(stack.variable.tailscale_auth_key.validation[0].condition).toContain('startswith(var.tailscale_auth_key, "tskey-")');
    for (const n of Object.values(groupBlocks(stack, "linode_instance", "node"))) expect(decodeUserData(stack, n)).toContain("\n${var.tailscale_auth_key}\n");
  });
});

describe("root password, when asked for", () => {
  const stack = synthMesh({ rootPassword: true });
  test("one random_password per node, sensitive by the provider, used as root_pass; none by default", () => {
    const pws = groupBlocks(stack, "random_password", "node_root");
    const nodes = groupBlocks(stack, "linode_instance", "node");
    expect(Object.keys(pws).sort()).toEqual(Object.keys(nodes).sort());
    for (const [g, pw] of Object.entries(pws)) {
      expect(pw.for_each).toBe(`\${local.node_${g}}`);
      expect(nodes[g].for_each).toBe(`\${local.node_${g}}`);
      expect(pw).toMatchObject({ length: 32, special: true });
      expect(stack.locals[`node_root_passwords_${g}`]).toBe(`\${{ for k, v in random_password.node_root_${g} : k => v.result }}`);
      expect(nodes[g].root_pass).toBe(`\${local.node_root_passwords_${g}[each.key]}`);
    }
    expect(stack.resource.random_string).toBeUndefined();
    expect(synthMesh().resource.random_password).toBeUndefined();
  });
});

describe("peer relays", () => {
  const regions = ["ap-northeast", "us-west", "eu-central", "ap-south"];
  const off = withoutMetadata(synthMesh({ regions }));
  const on = withoutMetadata(synthMesh({ regions, peerRelays: { relays: { regions: ["us-west", "ap-south"] } } }));

  /** Paths (a/b/c) where two documents differ, leaves only. */
  const diff = (a: any, b: any, path = ""): string[] => {
    if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
      return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => diff(a[k], b[k], `${path}/${k}`));
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
  };

  test("off by default; on, the JSON differs only by the relay entries", () => {
    expect(JSON.stringify(off)).not.toMatch(/relay/);
    // The script is one local (node_bootstrap) that each node's user_data reads.
    expect(diff(off, on).sort()).toEqual([
      "/locals/node_bootstrap",
      "/output/peer_relays",
      "/resource/linode_firewall/mesh/inbound/2",
      "/resource/tailscale_acl/mesh/acl",
      // The relay regions' keys carry the relay tag too.
      "/resource/tailscale_tailnet_key/node_ap_south/tags/1",
      "/resource/tailscale_tailnet_key/node_us_west/tags/1",
    ]);
    expect(on.resource.linode_firewall.mesh.inbound[2]).toEqual({
      label: "tailscale-peer-relay", action: "ACCEPT", protocol: "UDP", ports: "40000", ipv4: ["0.0.0.0/0"], ipv6: ["::/0"],
    });
    expect(on.output.peer_relays.value).toEqual({ nodes: ["us-west", "ap-south"], port: 40000, tag: "tag:mesh-relay" });
    // The policy gains exactly the relay tag's owner and the relay grant.
    const pOff = parseHujson(off.resource.tailscale_acl.mesh.acl, "off") as any;
    const pOn = parseHujson(on.resource.tailscale_acl.mesh.acl, "on") as any;
    expect(pOn.tagOwners).toEqual({ ...pOff.tagOwners, "tag:mesh-relay": ["autogroup:admin"] });
    expect(pOn.grants.filter((g: any) => !pOff.grants.some((h: any) => JSON.stringify(h) === JSON.stringify(g)))).toEqual([
      { src: ["tag:mesh"], dst: ["tag:mesh-relay"], app: { "tailscale.com/cap/relay": [] } },
    ]);
    expect(pOn.grants).toHaveLength(pOff.grants.length + 1);
  });

  test("the script makes the listed nodes relays and turns the relay off on the others", () => {
    const script = decodeUserData(on, groupBlocks(on, "linode_instance", "node").us_west);
    expect(script).toContain("readonly PEER_RELAY_HOSTNAMES=('mesh-us-west' 'mesh-ap-south')");
    expect(script).toContain(`"--advertise-tags=tag:mesh$(if [ "$PEER_RELAY" -eq 1 ]; then printf '%s' ',tag:mesh-relay'; fi)"`);
    expect(script).toContain('tailscale set --relay-server-port="$want"');
    expect(script).toMatch(/main\(\) \{[\s\S]*step_tailscale_up[\s\S]*step_peer_relay/);
  });

  test("bad relay options fail at synth, naming the field", () => {
    expect(() => synthMesh({ regions, peerRelays: { relays: { regions: ["fr-par"] } } })).toThrow(/peerRelays\.relays\.regions\[0\].*no node in this mesh/);
    expect(() => synthMesh({ regions, peerRelays: { relays: "all", port: 41641 } })).toThrow(/peerRelays\.port/);
    expect(() => synthMesh({ regions, peerRelays: { relays: "all", tag: "tag:mesh" } })).toThrow(/peerRelays\.tag/);
    expect(() => synthMesh({ regions, tailscaleVersion: "1.84.2", peerRelays: { relays: "all" } })).toThrow(/tailscaleVersion.*1\.86\.0/);
    expect(() => synthMesh({ regions, authKeyMode: "premade", peerRelays: { relays: "all" } })).toThrow(/peerRelays/);
  });

  test('"placed" takes the relays npm run placement computes for the nodes\' regions', () => {
    const placed = synthMesh({ peerRelays: { relays: "placed" } });
    expect(placed.output.peer_relays.value.nodes).toEqual(["ap-west", "ca-central", "us-iad", "us-ord", "fr-par", "eu-west", "ap-south", "eu-central", "ap-northeast"]);
  });
});

describe("peer relays placed on a mesh with several nodes per region", () => {
  test('"placed" picks one node in each chosen region', () => {
    const doc = synthMesh({ regions: ["ap-northeast", "us-west", "eu-central", "ap-south", "us-east"], nodesPerRegion: 2, peerRelays: { relays: "placed" } });
    const relays: string[] = doc.output.peer_relays.value.nodes;
    expect(relays.length).toBeGreaterThan(0);
    expect(relays.every((n) => n.endsWith("-1"))).toBe(true);
    expect(new Set(relays.map((n) => n.replace(/-1$/, ""))).size).toBe(relays.length);
  });
});
