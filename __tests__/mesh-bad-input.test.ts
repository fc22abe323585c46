import { MeshStackProps } from "../src/systems/mesh/mesh-stack";
import { synthMesh } from "./helpers/mesh";

// Each bad configuration must stop synthesis with a message that starts with the field's path and
// says what is allowed. `message` is matched against the whole error text.
const remote = { delivery: "remote-exec" as const, adminCidrs: ["203.0.113.0/24"] };
const cases: [string, MeshStackProps, RegExp][] = [
  ["unknown region", { regions: ["xx-nowhere"] }, /^regions\[0\]: unknown Linode region "xx-nowhere"\. Valid regions: ap-northeast, ap-south, ap-southeast, ap-west, au-mel, .*za-jnb-1\.$/],
  ["region slug in wrong case", { regions: ["US-EAST"] }, /^regions\[0\]: unknown Linode region "US-EAST"\. Did you mean "us-east" \(Newark, NJ\)\?/],
  ["region one letter off", { regions: ["us-east", "ap-northeest"] }, /^regions\[1\]: unknown Linode region "ap-northeest"\. Did you mean "ap-northeast" \(Tokyo 2, JP\)\? Valid regions: /],
  ["city given for a region", { regions: ["tokyo"] }, /^regions\[0\]: unknown Linode region "tokyo"\. Did you mean "ap-northeast" \(Tokyo 2, JP\) or "jp-tyo-3" \(Tokyo 3, JP\)\?/],
  ["duplicate region", { regions: ["us-east", "eu-west", "us-east"] }, /^regions: "us-east" appears more than once/],
  ["empty region list", { regions: [] }, /^regions: must be a non-empty list/],
  ["zero nodes per region", { nodesPerRegion: 0 }, /^nodesPerRegion: 0 must be a whole number from 1 to 100/],
  ["fractional nodes per region", { nodesPerRegion: 1.5 }, /^nodesPerRegion: 1.5 must be a whole number/],
  ["too many nodes per region", { nodesPerRegion: 101 }, /^nodesPerRegion: 101 must be a whole number from 1 to 100/],
  ["too many nodes overall", { regions: ["us-east", "eu-west", "ap-south", "us-west", "fr-par", "nl-ams", "se-sto", "es-mad", "it-mil", "jp-osa", "br-gru", "in-maa", "id-cgk", "us-lax", "us-mia", "us-sea", "au-mel", "gb-lon", "de-fra-2", "sg-sin-2", "jp-tyo-3"], nodesPerRegion: 100 }, /^nodesPerRegion: 21 regions × 100 = 2100 nodes; at most 2000/],
  ["label over 50 characters (the provider's limit)", { namePrefix: `${"a".repeat(43)}-` }, /^nodes\[0\] label \(namePrefix \+ name\): "a{43}-ap-west" \(51 characters\) is not a valid Linode instance label \(3-50 characters/],
  ["underscore in hostname", { namePrefix: "mesh_" }, /^nodes\[0\] hostname \(namePrefix \+ name\): "mesh_ap-west" is not a valid hostname \(1-63 lower-case/],
  ["upper case in hostname", { namePrefix: "Mesh-" }, /^nodes\[0\] hostname .*"Mesh-ap-west" is not a valid hostname/],
  ["doubled dash in label", { namePrefix: "mesh--" }, /^nodes\[0\] label \(namePrefix \+ name\): "mesh--ap-west" is not a valid Linode instance label.*no '--'/],
  ["dot in hostname", { namePrefix: "mesh." }, /^nodes\[0\] hostname .*is not a valid hostname/],
  ["instance type without generation", { instanceType: "standard-8" }, /^instanceType: "standard-8" is not a Linode plan ID\. Did you mean "g6-standard-8"\?/],
  ["instance type without size", { instanceType: "g6-standard" }, /^instanceType: "g6-standard" is not a Linode plan ID\. Did you mean "g6-standard-1", "g6-standard-2" or "g6-standard-4"\?/],
  ["instance type misspelt", { instanceType: "g6-standrd-2" }, /^instanceType: "g6-standrd-2" is not a Linode plan ID\. Did you mean "g6-standard-2"\? Plans: g1-gpu-rtx6000-1, .*g6-dedicated-2, .*g6-nanode-1, g6-standard-1, g6-standard-2, g6-standard-4, .*g6-standard-32, g7-highmem-1,/],
  ["instance type shaped right but not a plan", { instanceType: "g6-standard-3" }, /^instanceType: "g6-standard-3" is not a Linode plan ID\./],
  ["instance type with spaces", { instanceType: "g6 standard 2" }, /^instanceType: /],
  ["unsupported image", { image: "linode/centos7" }, /^image: .*linode\/centos7.*linode\/ubuntu22\.04/s],
  ["image without namespace", { image: "ubuntu22.04" }, /^image: /],
  ["unknown delivery", { delivery: "ssh" as any }, /^delivery: "ssh" is not one of "cloud-init", "remote-exec"\.$/],
  ["delivery one letter off", { delivery: "cloudinit" as any }, /^delivery: "cloudinit" is not one of "cloud-init", "remote-exec"\. Did you mean "cloud-init"\?$/],
  ["unknown key mode", { authKeyMode: "magic" as any }, /^authKeyMode: "magic" is not one of "managed", "premade"/],
  ["key mode misspelt", { authKeyMode: "premad" as any }, /^authKeyMode: "premad" is not one of "managed", "premade"\. Did you mean "premade"\?$/],
  ["image misspelt", { image: "linode/ubuntu24.4" }, /^image: "linode\/ubuntu24\.4" is not a supported image\. Did you mean "linode\/ubuntu24\.04"\?/],
  ["adminCidrs with cloud-init delivery", { adminCidrs: ["203.0.113.0/24"] }, /^adminCidrs: \["203\.0\.113\.0\/24"\] only applies when delivery is "remote-exec"; delivery is "cloud-init", which ignores it \(cloud-init delivery opens no SSH port\): remove adminCidrs, or set delivery to "remote-exec"$/],
  ["SSH opt-in with cloud-init delivery", { allowSshFromAnywhere: true }, /^allowSshFromAnywhere: true only applies when delivery is "remote-exec"/],
  ["SSH from all of IPv4", { ...remote, adminCidrs: ["203.0.113.0/24", "0.0.0.0/0"] }, /^adminCidrs\[1\]: "0\.0\.0\.0\/0" opens SSH to the whole internet; give your admin networks instead, or set allowSshFromAnywhere: true to mean it$/],
  ["SSH from all of IPv6", { ...remote, adminCidrs: ["::/0"] }, /^adminCidrs\[0\]: "::\/0" opens SSH to the whole internet/],
  ["key expiry with a pre-made key", { authKeyMode: "premade", keyExpirySeconds: 600 }, /^keyExpirySeconds: 600 only applies when authKeyMode is "managed"; authKeyMode is "premade", which ignores it/],
  ["policy admins with a pre-made key", { authKeyMode: "premade", policy: { admins: ["group:ops"] } }, /^policy\.admins: \["group:ops"\] only applies when authKeyMode is "managed"/],
  ["tailnet policy with a pre-made key", { authKeyMode: "premade", tailnetPolicy: { mode: "external" } }, /^tailnetPolicy: \{"mode":"external"\} only applies when authKeyMode is "managed"/],
  ["policy overwrite with a pre-made key", { authKeyMode: "premade", policy: { overwriteExistingPolicy: true } }, /^policy\.overwriteExistingPolicy: true only applies when authKeyMode is "managed"/],
  ["remote-exec without admin networks", { delivery: "remote-exec" }, /^adminCidrs: remote-exec delivery connects over SSH: give the admin networks/],
  ["CIDR prefix too long", { ...remote, adminCidrs: ["10.0.0.0/33"] }, /^adminCidrs\[0\]: "10.0.0.0\/33" is not a CIDR block/],
  ["CIDR with host bits", { ...remote, adminCidrs: ["203.0.113.7/24"] }, /^adminCidrs\[0\]: .*host bits zero/],
  ["not a CIDR", { ...remote, adminCidrs: ["office"] }, /^adminCidrs\[0\]: "office" is not a CIDR block/],
  ["bare address without prefix", { ...remote, adminCidrs: ["203.0.113.7"] }, /^adminCidrs\[0\]: /],
  ["IPv6 prefix too long", { ...remote, adminCidrs: ["2001:db8::/129"] }, /^adminCidrs\[0\]: /],
  ["second CIDR bad", { ...remote, adminCidrs: ["203.0.113.0/24", "300.1.1.0/24"] }, /^adminCidrs\[1\]: "300.1.1.0\/24"/],
  ["tag without prefix", { policy: { meshTag: "mesh" } }, /^policy\.meshTag: "mesh" is not a valid Tailscale tag \('tag:' followed by a lower-case letter/],
  ["tag starting with a digit", { policy: { meshTag: "tag:1mesh" } }, /^policy\.meshTag: "tag:1mesh" is not a valid Tailscale tag/],
  ["tag with a space", { policy: { meshTag: "tag:my mesh" } }, /^policy\.meshTag: /],
  ["no admins", { policy: { admins: [] } }, /^policy\.admins: must name at least one admin/],
  ["admin that is no selector", { policy: { admins: ["bob"] } }, /^policy\.admins: "bob" is not an autogroup:…, group:… or user@domain selector/],
  ["bad SSH user", { policy: { sshUsers: ["Root!"] } }, /^policy\.sshUsers: "Root!" is not a Unix user name/],
  ["probe user root", { policy: { probeUser: "root" } }, /^policy\.probeUser: "root" must be an unprivileged Unix user name/],
  ["probe user also an SSH user", { policy: { probeUser: "ops", sshUsers: ["root", "ops"] } }, /^policy\.probeUser: "ops" is also in policy\.sshUsers/],
  ["admins group the base policy lacks", { policy: { admins: ["group:ops"] } }, /^mesh\/mesh: tagOwners\["tag:mesh"\]: uses group:ops, which the base policy's groups do not define/],
  ["policy mode unknown", { tailnetPolicy: { mode: "gitops" as any } }, /^tailnetPolicy\.mode: "gitops" is not one of "external", "managed"\.$/],
  ["overwrite in external mode", { tailnetPolicy: { mode: "external", overwriteExistingPolicy: true } }, /^tailnetPolicy\.overwriteExistingPolicy: only applies to mode "managed"/],
  ["key expiry too short", { keyExpirySeconds: 10 }, /^authKey\.expirySeconds: 10 must be a whole number from 300 to 7776000/],
  ["key expiry too long", { keyExpirySeconds: 1e9 }, /^authKey\.expirySeconds: /],
  ["nodes and regions together", { nodes: [{ name: "a1", region: "us-east" }], regions: ["us-east"] }, /^nodes: give either nodes, or regions\/nodesPerRegion, not both/],
  ["empty node list", { nodes: [] }, /^nodes: must be a non-empty list/],
  ["duplicate node names", { nodes: [{ name: "a1", region: "us-east" }, { name: "a1", region: "eu-west" }] }, /^nodes\[\]\.name: "a1" appears more than once/],
  ["node in unknown region", { nodes: [{ name: "a1", region: "mars-1" }] }, /^nodes\[0\]\.region: unknown Linode region "mars-1"/],
  ["node name with underscore", { nodes: [{ name: "a_1", region: "us-east" }] }, /^nodes\[0\]\.name: "a_1" is not a valid hostname/],
  ["node with bad plan", { nodes: [{ name: "a1", region: "us-east", instanceType: "big" }] }, /^nodes\[0\]\.instanceType: "big" is not a Linode plan ID/],
  ["node with a near-miss plan", { nodes: [{ name: "a1", region: "us-east", instanceType: "g6-nanode1" }] }, /^nodes\[0\]\.instanceType: "g6-nanode1" is not a Linode plan ID\. Did you mean "g6-nanode-1"\?/],
  ["bad tailscale version pin", { tailscaleVersion: "latest" }, /^tailscaleVersion: /],
];

test(`at least 30 bad configurations are tabled (${cases.length})`, () => {
  expect(cases.length).toBeGreaterThanOrEqual(30);
});

test.each(cases)("rejects %s at synthesis", (_name, props, message) => {
  let error: unknown;
  try {
    synthMesh(props);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(message);
});

test("the defaults synthesize (the table's failures come from the bad values)", () => {
  expect(() => synthMesh()).not.toThrow();
  expect(() => synthMesh(remote)).not.toThrow();
  expect(() => synthMesh({ authKeyMode: "premade", policy: { meshTag: "tag:edge" } })).not.toThrow();
});

test("SSH from anywhere synthesizes only with the explicit opt-in, and the variable keeps guarding it otherwise", () => {
  const open = synthMesh({ ...remote, adminCidrs: ["0.0.0.0/0", "::/0"], allowSshFromAnywhere: true });
  expect(open.variable.admin_cidrs.default).toEqual(["0.0.0.0/0", "::/0"]);
  const guarded = synthMesh(remote);
  const messages = guarded.variable.admin_cidrs.validation.map((v: { error_message: string }) => v.error_message);
  expect(messages).toContainEqual(expect.stringMatching(/must not open SSH to the whole internet.*allowSshFromAnywhere/));
  expect(open.variable.admin_cidrs.validation.map((v: { error_message: string }) => v.error_message).join(" ")).not.toMatch(/whole internet/);
});

test("a prefix valid for nodes but too long for the firewall label names the derived field", () => {
  expect(() => synthMesh({ namePrefix: `${"b".repeat(25)}-` })).toThrow(
    /^firewall label \(namePrefix \+ "firewall"\): .* \(34 characters\) is not a valid Linode firewall label \(3-32 characters/,
  );
});

test("the mesh tag is checked in pre-made key mode too (no policy is written there)", () => {
  expect(() => synthMesh({ authKeyMode: "premade", policy: { meshTag: "mesh" } })).toThrow(/^policy\.meshTag: "mesh" is not a valid Tailscale tag/);
});
