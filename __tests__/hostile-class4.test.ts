import { Secret } from "../src/terraform/secret";
import { Testing, TerraformStack } from "cdktf";
import { RuledSecurityGroup, RuledSecurityGroupProps, SecurityGroupRule } from "../src/aws/security-group";
import { NodeFirewall } from "../src/linode/node-firewall";
import { TailscaleNodes, TailscaleNodesProps } from "../src/linode/tailscale-nodes";
import { ErlangClusterStack, ErlangClusterStackProps } from "../src/systems/erlang-cluster/erlang-cluster-stack";
import { MeshStack, MeshStackProps } from "../src/systems/mesh/mesh-stack";
import { SiteToSiteStack, SiteToSiteStackProps } from "../src/systems/site-to-site/site-to-site-stack";
import { AwsSubnetRouterStack, AwsSubnetRouterStackProps } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack, LinodeSubnetRouterStackProps } from "../src/systems/subnet-router/linode-subnet-router-stack";
import { parseGoDuration, requireAwsAvailabilityZone, requireAwsRegion, requireKeyOf } from "../src/validation";
import { validationMessage } from "../src/validation/report";
import { expectRefusedInOneLine } from "./helpers/refusal";

// Issue 19, class 4: inputs that synthesized but failed at plan or apply. Each case either stops
// synthesis with one line naming the field (no stack, nothing secret echoed), or synthesizes output
// the provider and the cloud accept. Careless and hostile spellings alike.
const stack = () => new TerraformStack(Testing.app(), "t");
const mesh = (p: MeshStackProps) => () => new MeshStack(Testing.app(), "mesh", p);
const erlang = (p: ErlangClusterStackProps) => () => new ErlangClusterStack(Testing.app(), "erlang", p);
const s2s = (p: SiteToSiteStackProps) => () => new SiteToSiteStack(Testing.app(), "s2s", p);
const srl = (p: LinodeSubnetRouterStackProps) => () => new LinodeSubnetRouterStack(Testing.app(), "srl", p);
const sra = (p: AwsSubnetRouterStackProps) => () => new AwsSubnetRouterStack(Testing.app(), "sra", p);
const nodes = (p: Partial<TailscaleNodesProps>) => () =>
  new TailscaleNodes(stack(), "nodes", { nodes: [{ name: "a", region: "us-ord" }], advertiseTags: ["tag:mesh"], authKey: Secret.fromReference("${tailscale_tailnet_key.k.key}"), delivery: "cloud-init", ...p });
const inbound = (r: Record<string, unknown>) => () =>
  new NodeFirewall(stack(), "fw", { label: "fw-test", sshSourceCidrs: [], extraInbound: [{ label: "extra", action: "ACCEPT", protocol: "TCP", ports: "443", ipv4: ["0.0.0.0/0"], ...r } as never] });
const sg = (p: Partial<RuledSecurityGroupProps>) => () => new RuledSecurityGroup(stack(), "sg", { name: "router-group", description: "ok", vpcId: "vpc-1", ...p });
const rule = (r: Partial<SecurityGroupRule>): SecurityGroupRule => ({ name: "r", description: "ok", protocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "10.0.0.0/8", ...r });
const sgDescription = (d: string) => sg({ ingress: [rule({ description: d })] });

const refused: [string, () => unknown, RegExp][] = [
  // --- Labels longer than the provider's limit, in every system that makes one.
  ["mesh node label of 51", mesh({ nodes: [{ name: "n".repeat(46), region: "us-ord" }] }), /^nodes\[0\] label \(namePrefix \+ name\): .*\(51 characters\) is not a valid Linode instance label \(3-50/],
  ["mesh prefix that makes 51 with a region", mesh({ namePrefix: `${"p".repeat(38)}-`, regions: ["ap-northeast"] }), /^nodes\[0\] label \(namePrefix \+ name\): .*\(51 characters\)/],
  ["a prefix that only the tenth node overflows", erlang({ namePrefix: `${"p".repeat(41)}-`, firewallLabel: "erl-fw", regions: ["us-ord"], nodesPerRegion: 10 }), /^nodes\[9\] label \(namePrefix \+ name\): "p{41}-us-ord-10" \(51 characters\)/],
  ["erlang node label of 51", erlang({ nodes: [{ name: "e".repeat(47), region: "us-ord" }] }), /^nodes\[0\] label \(namePrefix \+ name\): .*\(51 characters\)/],
  ["erlang firewall label of 33", erlang({ firewallLabel: "f".repeat(33) }), /^firewallLabel: .*\(33 characters\) is not a valid Linode firewall label \(3-32/],
  ["erlang prefix too long for the firewall label", erlang({ namePrefix: `${"e".repeat(24)}-` }), /^firewall label \(namePrefix \+ "firewall"\): .*\(33 characters\)/],
  ["site-to-site router name of 51", s2s({ routers: [{ name: "r".repeat(51) }, {}] }), /^routers\[0\]\.name: "r{51}" \(51 characters\) is not a valid Linode instance label/],
  ["site-to-site client label of 51", s2s({ clients: [{ name: "c".repeat(47), vlanAddress: "10.0.1.10" }] }), /^clients\[0\] label \(namePrefix \+ name\): "s2s-c{47}" \(51 characters\)/],
  ["site-to-site prefix too long for the router firewall", s2s({ namePrefix: "s".repeat(25) }), /^router firewall label \(namePrefix \+ "-routers"\): .*\(33 characters\)/],
  ["subnet router hostname of 51 (its Linode label)", srl({ hostname: "h".repeat(51) }), /^hostname \(the router's Linode label\): "h{51}" \(51 characters\) is not a valid Linode instance label/],
  ["subnet router VPC label of 65", srl({ vpcLabel: "v".repeat(65) }), /^vpcLabel: .* is not a VPC label \(1-64/],
  ["VPC subnet label with a dot", srl({ subnets: [{ name: "a.b", cidr: "10.20.0.0/24" }] }), /^subnets\[0\]\.name: "a\.b" is not a VPC label/],
  ["VLAN label with an underscore", s2s({ vlan: { label: "my_vlan" } }), /^vlan\.label: "my_vlan" is not a VLAN label/],
  ["a label with a doubled underscore", s2s({ routers: [{ name: "r__1" }, {}] }), /^routers\[0\]\.name: "r__1" is not a valid hostname|^routers\[0\]\.name: "r__1" is not a valid Linode instance label/],
  // --- Two Linodes, one label (Linode refuses the second).
  ["a client named like a router", s2s({ clients: [{ name: "router-2", vlanAddress: "10.0.1.10" }] }), /^clients\[0\] label \(namePrefix \+ name\): "s2s-router-2" is also routers\[1\]\.name in stack "s2s"/],
  ["a router named like a client", s2s({ routers: [{ name: "s2s-web" }, {}], clients: [{ name: "web", vlanAddress: "10.0.1.10" }] }), /^clients\[0\] label \(namePrefix \+ name\): "s2s-web" is also routers\[0\]\.name/],
  [
    "two node sets with one label in a stack",
    () => {
      const s = stack();
      const p: TailscaleNodesProps = { nodes: [{ name: "a", region: "us-ord" }], advertiseTags: ["tag:mesh"], authKey: Secret.fromReference("${tailscale_tailnet_key.k.key}"), delivery: "cloud-init" };
      new TailscaleNodes(s, "one", { ...p, resourceName: "one" });
      new TailscaleNodes(s, "two", { ...p, resourceName: "two", nodes: [{ name: "b", region: "us-ord" }, { name: "a", region: "us-ord" }] });
    },
    /^nodes\[1\] label \(namePrefix \+ name\): "mesh-a" is also nodes\[0\] label \(namePrefix \+ name\) \(t\/one\) in stack "t"/,
  ],
  [
    "two node sets, the same label at the same index",
    () => {
      const s = stack();
      const p: TailscaleNodesProps = { nodes: [{ name: "a", region: "us-ord" }], advertiseTags: ["tag:mesh"], authKey: Secret.fromReference("${tailscale_tailnet_key.k.key}"), delivery: "cloud-init" };
      new TailscaleNodes(s, "one", { ...p, resourceName: "one" });
      new TailscaleNodes(s, "two", { ...p, resourceName: "two" });
    },
    /^nodes\[0\] label \(namePrefix \+ name\): "mesh-a" is also nodes\[0\] label \(namePrefix \+ name\) \(t\/one\) in stack "t"/,
  ],
  [
    "two firewalls with one label, differing in case",
    () => {
      const s = stack();
      new NodeFirewall(s, "a", { label: "Edge-FW", sshSourceCidrs: [], resourceName: "a" });
      new NodeFirewall(s, "b", { label: "edge-fw", labelField: "b.label", sshSourceCidrs: [], resourceName: "b" });
    },
    /^b\.label: "edge-fw" is also firewall\.label \(t\/a\) in stack "t"/,
  ],
  // --- Key descriptions the provider refuses (over 50).
  ["a key description of 51", () => new (require("../src/tailnet/auth-keys").NodeAuthKeys)(stack(), "k", { source: { kind: "managed", policy: {} }, tags: ["tag:x"], description: "d".repeat(51) }), /^authKey\.description: .*\(51 characters\) is not a key description/],
  ["a key description with a newline", () => new (require("../src/tailnet/auth-keys").NodeAuthKeys)(stack(), "k", { source: { kind: "managed", policy: {} }, tags: ["tag:x"], description: "a\nb" }), /^authKey\.description: "a\\nb" is not a key description/],
  ["a key tag without tag:", () => new (require("../src/tailnet/auth-keys").NodeAuthKeys)(stack(), "k", { source: { kind: "managed", policy: {} }, tags: ["router"] }), /^authKey\.tags\[0\]: "router" is not a valid Tailscale tag/],
  // --- Join timeouts the provider refuses (a Go duration above 1s), and nonsense.
  ...["1s", "0h0m1s", "1000ms", "0.5s", "0", "-5m", "5 m", "15M", "1h 30m", "PT15M", "15", "25h", "2562048h", "toString"].map(
    (t): [string, () => unknown, RegExp] => [`join timeout ${JSON.stringify(t)}`, srl({ joinTimeout: t }), /^joinTimeout: .* is not a duration such as "15m" or "1h30m" \(h, m, s\), more than 1s and at most 24h/],
  ),
  // --- AWS regions and zones that don't exist.
  ["a region one digit off", sra({ region: "us-east-3" }), /^region: "us-east-3" is not an AWS region code.*Did you mean "us-east-1"/],
  ["a region in upper case", sra({ region: "US-EAST-1" }), /^region: "US-EAST-1" is not an AWS region code.*Did you mean "us-east-1"/],
  ["a region with a trailing newline", sra({ region: "us-east-1\n" }), /^region: "us-east-1\\n" is not an AWS region code/],
  ["a region named toString", sra({ region: "toString" }), /^region: "toString" is not an AWS region code/],
  ["a zone letter no account has", sra({ availabilityZone: "ap-northeast-1z" }), /^availabilityZone: "ap-northeast-1z" is not an availability zone of ap-northeast-1/],
  ["us-east-1g", sra({ region: "us-east-1", availabilityZone: "us-east-1g" }), /^availabilityZone: "us-east-1g" is not an availability zone of us-east-1 .*us-east-1f/],
  ["ca-central-1c (the region has a, b, d)", sra({ region: "ca-central-1", availabilityZone: "ca-central-1c" }), /^availabilityZone: "ca-central-1c" is not an availability zone of ca-central-1/],
  ["a zone that is the region", sra({ availabilityZone: "ap-northeast-1" }), /^availabilityZone: "ap-northeast-1" is not an availability zone/],
  ["site-to-site zone of another region", s2s({ aws: { availabilityZone: "eu-west-1a" } }), /^aws\.availabilityZone: "eu-west-1a" is not an availability zone of/],
  ["site-to-site region that does not exist", s2s({ aws: { region: "eu-central-9" } }), /^aws\.region: "eu-central-9" is not an AWS region code/],
  // --- "toString" and friends where an enum is expected.
  ...["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"].flatMap((name): [string, () => unknown, RegExp][] => [
    [`encryption ${name}`, s2s({ ipsec: { proposal: { encryption: name as never } } }), /^ipsec\.proposal\.encryption: .* is not one of "aes128", "aes256"/],
    [`integrity ${name}`, s2s({ ipsec: { proposal: { integrity: name as never } } }), /^ipsec\.proposal\.integrity: .* is not one of/],
    [`DH group ${name}`, s2s({ ipsec: { proposal: { dhGroup: name as never } } }), /^ipsec\.proposal\.dhGroup: .* is not one of 14, 15, 16, 19, 20, 21/],
    [`image ${name}`, mesh({ image: name }), /^image: .* is not a supported image/],
    [`instance type ${name}`, mesh({ instanceType: name }), /^instanceType: .* is not a Linode plan ID/],
    [`Linode region ${name}`, mesh({ regions: [name] }), /^regions\[0\]: unknown Linode region/],
  ]),
  ["DH group given as a string", s2s({ ipsec: { proposal: { dhGroup: "14" as never } } }), /^ipsec\.proposal\.dhGroup: "14" is not one of 14, 15/],
  ["DH group 14.5", s2s({ ipsec: { proposal: { dhGroup: 14.5 as never } } }), /^ipsec\.proposal\.dhGroup: 14\.5 is not one of/],
  // --- Descriptions and names EC2 refuses.
  ...["the router's", 'say "hi"', "back\\slash", "café", "rocket 🚀", "line\nbreak", "<b>", "50%", "why?", "a~b", "a`b", "a^b", "a|b", "d".repeat(256)].map(
    (d): [string, () => unknown, RegExp] => [`rule description ${JSON.stringify(d.slice(0, 20))}`, sgDescription(d), /^ingress\[0\]\.description: .* is not a security group rule description EC2 accepts/],
  ),
  ["group description with an apostrophe", sg({ description: "Router's group" }), /^securityGroup\.description: .*"'" is not allowed/],
  ["group name starting with sg-", sg({ name: "sg-router" }), /^securityGroup\.name: "sg-router" is not a security group name EC2 accepts/],
  ["egress rule description with a quote", sg({ egress: [rule({ description: 'all "out"' })] }), /^egress\[0\]\.description: .* is not a security group rule description/],
  ["ICMP type 256", sg({ ingress: [rule({ protocol: "icmp", fromPort: 256, toPort: 0 })] }), /^ingress\[0\]\.fromPort: 256 must be a whole number from -1 to 255/],
  ["ICMP code -2", sg({ ingress: [rule({ protocol: "icmp", fromPort: 3, toPort: -2 })] }), /^ingress\[0\]\.toPort: -2 must be a whole number from -1 to 255/],
  // --- Firewall rules the provider or the API refuses.
  ["rule port 0", inbound({ ports: "0" }), /^firewall\.extraInbound\[0\]\.ports: "0" has "0", out of range/],
  ["rule port 65536", inbound({ ports: "65536" }), /^firewall\.extraInbound\[0\]\.ports: .* out of range/],
  ["rule range backwards", inbound({ ports: "22-21" }), /^firewall\.extraInbound\[0\]\.ports: .* out of range/],
  ["rule with an empty entry", inbound({ ports: "22,,80" }), /^firewall\.extraInbound\[0\]\.ports: .* which is not a port or range/],
  ["rule port by name", inbound({ ports: "ssh" }), /^firewall\.extraInbound\[0\]\.ports: "ssh" has "ssh", which is not a port or range/],
  ["rule with 16 ports", inbound({ ports: Array.from({ length: 16 }, (_, i) => String(1000 + i)).join(",") }), /^firewall\.extraInbound\[0\]\.ports: .* lists more than 15 ports/],
  ["ICMP rule with ports", inbound({ protocol: "ICMP", ports: "8" }), /^firewall\.extraInbound\[0\]\.ports: ICMP has no ports/],
  ["protocol ALL", inbound({ protocol: "ALL" }), /^firewall\.extraInbound\[0\]\.protocol: "ALL" is not one of/],
  ["rule label of 2", inbound({ label: "ab" }), /^firewall\.extraInbound\[0\]\.label: "ab" is not a valid Linode firewall rule label/],
  ["rule with no sources", inbound({ ipv4: undefined }), /^firewall\.extraInbound\[0\]: give ipv4 or ipv6 sources/],
  ["IPv6 source in ipv4", inbound({ ipv4: ["2001:db8::/32"] }), /^firewall\.extraInbound\[0\]\.ipv4\[0\]: "2001:db8::\/32" is not an IPv4 CIDR/],
  // --- Tags and keys.
  ["a Linode tag of 2", nodes({ linodeTags: ["ab"] }), /^linodeTags\[0\]: "ab" is not a Linode tag/],
  ["a Linode tag of 51", nodes({ linodeTags: ["t".repeat(51)] }), /^linodeTags\[0\]: .* is not a Linode tag/],
  ["a Linode tag with a leading space", nodes({ linodeTags: [" mesh"] }), /^linodeTags\[0\]: " mesh" is not a Linode tag/],
  ["a key file path in authorized keys", nodes({ delivery: "remote-exec", authorizedKeys: ["~/.ssh/id.pub"] }), /^authorizedKeys\[0\]: is not one OpenSSH public key/],
];

describe("class 4: refused at synth, not at plan or apply", () => {
  it.each(refused)("%s", (_name, run, expected) => {
    expectRefusedInOneLine(run, expected);
  });

  it("a private key pasted as a public key is refused without being echoed", () => {
    const secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
    let message = "";
    try {
      nodes({ delivery: "remote-exec", authorizedKeys: [secret] })();
    } catch (e) {
      message = validationMessage(e) ?? "";
    }
    expect(message).toMatch(/^authorizedKeys\[0\]: is not one OpenSSH public key/);
    expect(message).not.toMatch(/PRIVATE|b3BlbnNzaC/);
  });
});

describe("class 4: output the provider and the cloud accept", () => {
  const synth = (s: TerraformStack) => JSON.parse(Testing.synth(s));

  it("a 50-character subnet-router hostname gives a 50-character key description and target label", () => {
    const s = new LinodeSubnetRouterStack(Testing.app(), "srl", { hostname: "h".repeat(50), target: true });
    const json = synth(s);
    const key = Object.values(json.resource.tailscale_tailnet_key)[0] as { description: string };
    expect(key.description.length).toBeLessThanOrEqual(50);
    const labels = Object.values(json.resource.linode_instance).map((i) => (i as { label: string }).label);
    for (const l of labels) expect(l.length).toBeLessThanOrEqual(50);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it("a 63-character AWS router hostname is refused naming hostname, not the derived name", () => {
    expect(() => new AwsSubnetRouterStack(Testing.app(), "sra", { hostname: "a".repeat(63) })).toThrow(/^hostname \(the name of the router's AWS resources\): /);
  });

  it("a 40-character AWS router hostname gives a key description of at most 50", () => {
    const json = synth(new AwsSubnetRouterStack(Testing.app(), "sra", { hostname: "a".repeat(40) }));
    const key = Object.values(json.resource.tailscale_tailnet_key)[0] as { description: string };
    expect(key.description.length).toBeLessThanOrEqual(50);
  });

  it("the shipped subnet-router-aws descriptions are all ones EC2 accepts", () => {
    const json = synth(new AwsSubnetRouterStack(Testing.app(), "sra", { target: true }));
    const texts: string[] = [];
    for (const type of ["aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"]) {
      for (const r of Object.values(json.resource[type] ?? {}) as { description?: string }[]) if (r.description !== undefined) texts.push(r.description);
    }
    expect(texts.length).toBeGreaterThan(3);
    for (const t of texts) expect(t).toMatch(/^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/);
  });

  it.each([
    ["4200000000", 4200000000],
    ["4294967294", 4294967294],
  ])("customer ASN %s goes to bgp_asn_extended", (text, asn) => {
    const json = synth(new SiteToSiteStack(Testing.app(), "s2s", { customerAsn: asn }));
    for (const cgw of Object.values(json.resource.aws_customer_gateway) as Record<string, unknown>[]) {
      expect(cgw).toMatchObject({ bgp_asn_extended: text });
      expect(cgw).not.toHaveProperty("bgp_asn");
    }
  });

  it.each(["2s", "90s", "15m", "1h30m", "1.5h", "24h"])("join timeout %s is a Go duration the provider takes", (t) => {
    expect(() => new LinodeSubnetRouterStack(Testing.app(), "srl", { joinTimeout: t })).not.toThrow();
    expect(parseGoDuration(t)).toBeGreaterThan(1e9);
  });

  it("regions and zones AWS has pass: every catalog region, its zones, and none of another's", () => {
    expect(() => requireAwsRegion("r", "mx-central-1")).not.toThrow();
    expect(() => requireAwsAvailabilityZone("z", "ca-central-1d", "ca-central-1")).not.toThrow();
    expect(() => requireAwsAvailabilityZone("z", "us-east-1f", "us-east-1")).not.toThrow();
    expect(() => requireAwsAvailabilityZone("z", "us-east-1a", "us-east-2")).toThrow(/^z: "us-east-1a" is not an availability zone of us-east-2/);
  });

  it("an own-key lookup refuses inherited names but takes real keys", () => {
    const table = { a: 1, b: 2 };
    expect(requireKeyOf("f", "a", table)).toBe("a");
    for (const k of ["toString", "__proto__", "constructor"]) expect(() => requireKeyOf("f", k, table)).toThrow(/^f: /);
  });
});
