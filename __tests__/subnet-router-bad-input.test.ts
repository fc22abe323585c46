import { App, Testing } from "cdktf";
import { AwsSubnetRouterStack, AwsSubnetRouterStackProps } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack, LinodeSubnetRouterStackProps } from "../src/systems/subnet-router/linode-subnet-router-stack";

// Each bad configuration must stop synthesis with a message that starts with the field's path and
// says what is allowed (or why the combination can't work). `message` is matched against the text.
const linode: [string, LinodeSubnetRouterStackProps, RegExp][] = [
  ["unknown region", { region: "xx-nowhere" }, /^region: unknown Linode region "xx-nowhere"\. Valid regions: ap-northeast, /],
  ["hostname with underscore", { hostname: "vpc_router" }, /^hostname: "vpc_router" is not a valid hostname \(1-63 lower-case/],
  ["VPC label with a doubled dash", { vpcLabel: "my--vpc" }, /^vpcLabel: "my--vpc" is not a VPC label \(1-64 letters, digits and '-'.*no '--'\)/],
  ["no subnets", { subnets: [] }, /^subnets: must list at least one subnet/],
  ["subnet that is no CIDR", { subnets: [{ name: "a", cidr: "10.0.0.0" }] }, /^subnets\[0\]\.cidr: "10\.0\.0\.0" is not a CIDR block/],
  ["subnet with host bits", { subnets: [{ name: "a", cidr: "10.0.0.7/24" }] }, /^subnets\[0\]\.cidr: "10\.0\.0\.7\/24" is not a CIDR block .*host bits zero/],
  ["subnet in public space", { subnets: [{ name: "a", cidr: "203.0.113.0/24" }] }, /^subnets\[0\]\.cidr: "203\.0\.113\.0\/24" is not inside RFC 1918 private space, which Linode VPC subnets must use \(10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16\)/],
  ["subnet in the tailnet's range", { subnets: [{ name: "a", cidr: "100.64.10.0/24" }] }, /^subnets\[0\]\.cidr: "100\.64\.10\.0\/24" overlaps 100\.64\.0\.0\/10, the tailnet's own address range/],
  ["subnet in the tailnet's IPv6 range", { subnets: [{ name: "a", cidr: "fd7a:115c:a1e0:5::/64" }] }, /^subnets\[0\]\.cidr: "fd7a:115c:a1e0:5::\/64" overlaps fd7a:115c:a1e0::\/48/],
  ["subnet in Linode's private-IP range", { subnets: [{ name: "a", cidr: "192.168.200.0/24" }] }, /^subnets\[0\]\.cidr: "192\.168\.200\.0\/24" overlaps 192\.168\.128\.0\/17, Linode's private-IP range/],
  ["subnet too small", { subnets: [{ name: "a", cidr: "10.0.0.0/30" }] }, /^subnets\[0\]\.cidr: "10\.0\.0\.0\/30" has prefix length \/30; a Linode VPC subnet allows \/1 to \/29/],
  ["overlapping subnets", { subnets: [{ name: "a", cidr: "10.0.0.0/16" }, { name: "b", cidr: "10.0.5.0/24" }] }, /^subnets\[1\]\.cidr: "10\.0\.5\.0\/24" overlaps subnets\[0\]\.cidr \(10\.0\.0\.0\/16\); subnets must not overlap/],
  ["duplicate subnet names", { subnets: [{ name: "a", cidr: "10.0.0.0/24" }, { name: "a", cidr: "10.0.1.0/24" }] }, /^subnets\[\]\.name: "a" appears more than once/],
  ["router in an unknown subnet", { routerSubnet: "dmz" }, /^routerSubnet: "dmz" is not one of the subnets \(private\)/],
  ["router address reserved", { routerAddress: "10.20.0.1" }, /^routerAddress: "10\.20\.0\.1" is reserved in 10\.20\.0\.0\/24 \(the first 2 and last 1 addresses\); use 10\.20\.0\.2 to 10\.20\.0\.254/],
  ["router address outside its subnet", { routerAddress: "10.21.0.5" }, /^routerAddress: "10\.21\.0\.5" is not inside subnets\[0\] \(private\)/],
  ["route outside the router's subnet", { subnets: [{ name: "a", cidr: "10.0.0.0/24" }, { name: "b", cidr: "10.0.1.0/24" }], advertiseRoutes: ["10.0.1.0/24"] }, /^advertiseRoutes\[0\]: "10\.0\.1\.0\/24" is not inside the router's subnet .*the router can only forward to where its private interface reaches/],
  ["no routes", { advertiseRoutes: [] }, /^advertiseRoutes: must list at least one route/],
  ["route that is no CIDR", { advertiseRoutes: ["everything"] }, /^advertiseRoutes\[0\]: "everything" is not a CIDR block/],
  ["SNAT off in a Linode VPC", { snatSubnetRoutes: false }, /^snatSubnetRoutes: false cannot work in a Linode VPC: a VPC interface only sends packets whose source is its own address or one of its ip_ranges/],
  ["target in another subnet", { subnets: [{ name: "a", cidr: "10.0.0.0/24" }, { name: "b", cidr: "10.0.1.0/24" }], target: { subnet: "b" } }, /^target\.subnet: must be the router's subnet \(a\)/],
  ["target on the router's address", { routerAddress: "10.20.0.5", target: { address: "10.20.0.5" } }, /^target\.address: is the router's address/],
  ["target port 0", { target: { port: 0 } }, /^target\.port: 0 must be a whole number from 1 to 65535/],
  ["bad plan", { instanceType: "nanode" }, /^instanceType: "nanode" is not a Linode plan ID/],
  ["unsupported image", { image: "linode/centos7" }, /^image: "linode\/centos7" is not a supported image/],
  ["bad tag", { policy: { tag: "router" } }, /^policy\.tag: "router" is not a valid Tailscale tag/],
  ["a tag as admin", { policy: { admins: ["tag:ops"] } }, /^policy\.admins\[0\]: tag:ops is a tag; admins are people/],
  ["no clients", { policy: { clients: [] } }, /^policy\.clients: must name at least one principal/],
  ["client that is no selector", { policy: { clients: ["bob"] } }, /^policy\.clients\[0\]: "bob" is not a policy selector/],
  ["bad port spec", { policy: { ports: ["ssh"] } }, /^policy\.ports\[0\]: "ssh" is not a grant ip entry/],
  ["bad SSH mode", { policy: { ssh: "yes" as any } }, /^policy\.ssh: "yes" is not "check", "accept" or false/],
  ["clients group the base lacks", { policy: { clients: ["group:dba"] } }, /^subnet-router-linode\/subnet-router: grants\[0\]\.src: uses group:dba, which the base policy's groups do not define/],
  ["key expiry too short", { keyExpirySeconds: 60 }, /^authKey\.expirySeconds: 60 must be a whole number from 300 to 7776000/],
  ["join timeout that is no duration", { joinTimeout: "soon" }, /^joinTimeout: "soon" is not a duration such as "15m"/],
  ["bad tailscale pin", { tailscaleVersion: "stable" }, /^tailscaleVersion: "stable" is not a Tailscale package version/],
];

const aws: [string, AwsSubnetRouterStackProps, RegExp][] = [
  ["unknown region", { region: "tokyo" }, /^region: "tokyo" is not an AWS region code/],
  ["zone of another region", { availabilityZone: "us-east-1a" }, /^availabilityZone: "us-east-1a" is not an availability zone of ap-northeast-1/],
  ["VPC too large", { vpcCidr: "10.0.0.0/8" }, /^vpcCidr: "10\.0\.0\.0\/8" has prefix length \/8; an AWS VPC allows \/16 to \/28/],
  ["VPC in the tailnet's range", { vpcCidr: "100.64.0.0/16" }, /^vpcCidr: "100\.64\.0\.0\/16" overlaps 100\.64\.0\.0\/10, the tailnet's own address range \(Tailscale gives devices addresses from 100\.64\.0\.0\/10 and fd7a:115c:a1e0::\/48/],
  ["VPC at the top of the tailnet's range", { vpcCidr: "100.127.0.0/16" }, /^vpcCidr: "100\.127\.0\.0\/16" overlaps 100\.64\.0\.0\/10/],
  ["VPC that is IPv6", { vpcCidr: "2001:db8::/56" }, /^vpcCidr: "2001:db8::\/56" is not an IPv4 CIDR block/],
  ["public subnet outside the VPC", { publicSubnet: { name: "public", cidr: "10.1.1.0/24" } }, /^publicSubnet\.cidr: "10\.1\.1\.0\/24" is not inside vpcCidr \(10\.0\.0\.0\/16\); every subnet must lie inside its VPC/],
  ["private subnet overlapping the public one", { privateSubnets: [{ name: "private", cidr: "10.0.0.0/23" }] }, /^privateSubnets\[0\]\.cidr: "10\.0\.0\.0\/23" overlaps publicSubnet\.cidr \(10\.0\.1\.0\/24\); subnets must not overlap/],
  ["subnet too small for AWS", { privateSubnets: [{ name: "private", cidr: "10.0.2.0/29" }] }, /^privateSubnets\[0\]\.cidr: "10\.0\.2\.0\/29" has prefix length \/29; an AWS subnet allows \/16 to \/28/],
  ["subnet name with capitals", { privateSubnets: [{ name: "Private", cidr: "10.0.2.0/24" }] }, /^privateSubnets\[0\]\.name: "Private" must be 1-40 lower-case letters/],
  ["two subnets with one name", { privateSubnets: [{ name: "public", cidr: "10.0.2.0/24" }] }, /^subnet names: "public" appears more than once/],
  ["subnet in another region's zone", { privateSubnets: [{ name: "private", cidr: "10.0.2.0/24", availabilityZone: "eu-west-1a" }] }, /^privateSubnets\[0\]\.availabilityZone: "eu-west-1a" is not an availability zone of ap-northeast-1/],
  ["router address AWS reserves", { routerAddress: "10.0.1.3" }, /^routerAddress: "10\.0\.1\.3" is reserved in 10\.0\.1\.0\/24 \(the first 4 and last 1 addresses\)/],
  ["router address in a private subnet", { routerAddress: "10.0.2.10" }, /^routerAddress: "10\.0\.2\.10" is not inside publicSubnet \(10\.0\.1\.0\/24\)/],
  ["route outside the VPC", { advertiseRoutes: ["10.9.0.0/16"] }, /^advertiseRoutes\[0\]: "10\.9\.0\.0\/16" is not inside the VPC \(vpcCidr 10\.0\.0\.0\/16\)/],
  ["route in the tailnet's IPv6 range", { advertiseRoutes: ["fd7a:115c:a1e0::/64"] }, /^advertiseRoutes\[0\]: "fd7a:115c:a1e0::\/64" overlaps fd7a:115c:a1e0::\/48, the tailnet's own address range/],
  ["overlapping routes", { advertiseRoutes: ["10.0.0.0/16", "10.0.2.0/24"] }, /^advertiseRoutes\[1\]: "10\.0\.2\.0\/24" overlaps advertiseRoutes\[0\]/],
  ["SNAT off with an exit node", { snatSubnetRoutes: false, advertiseExitNode: true }, /^snatSubnetRoutes: false cannot be combined with advertiseExitNode: .*tailscale\/tailscale#18725/],
  ["instance type without family", { instanceType: "micro" }, /^instanceType: "micro" is not an EC2 instance type/],
  ["target without a private subnet", { privateSubnets: [], target: true }, /^target: needs a private subnet to sit in/],
  ["target in an unknown subnet", { target: { subnet: "db" } }, /^target\.subnet: "db" is not one of the subnets \(private\)/],
  ["target outside every route", { advertiseRoutes: ["10.0.1.0/24"], target: true }, /^target\.subnet: private \(10\.0\.2\.0\/24\) is covered by none of the advertised routes/],
  ["target address AWS reserves", { target: { address: "10.0.2.255" } }, /^target\.address: "10\.0\.2\.255" is reserved in 10\.0\.2\.0\/24/],
  ["image update mode unknown", { imageUpdates: "auto" as any }, /^imageUpdates: "auto" is not one of "ignore", "replace"/],
  ["hostname too long", { hostname: `r${"x".repeat(63)}` }, /^hostname: "rx+" is not a valid hostname/],
];

function synthLinode(props: LinodeSubnetRouterStackProps): unknown {
  return JSON.parse(Testing.synth(new LinodeSubnetRouterStack(Testing.app() as App, "subnet-router-linode", props)));
}
function synthAws(props: AwsSubnetRouterStackProps): unknown {
  return JSON.parse(Testing.synth(new AwsSubnetRouterStack(Testing.app() as App, "subnet-router-aws", props)));
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "(no error)";
}

test(`at least 50 bad configurations are tabled (${linode.length + aws.length})`, () => {
  expect(linode.length + aws.length).toBeGreaterThanOrEqual(50);
});

test.each(linode)("Linode: rejects %s at synthesis", (_name, props, message) => {
  expect(errorOf(() => synthLinode(props))).toMatch(message);
});

test.each(aws)("AWS: rejects %s at synthesis", (_name, props, message) => {
  expect(errorOf(() => synthAws(props))).toMatch(message);
});

test("the defaults synthesize (the table's failures come from the bad values)", () => {
  expect(() => synthLinode({ target: true })).not.toThrow();
  expect(() => synthAws({ target: true })).not.toThrow();
  expect(() => synthAws({ snatSubnetRoutes: false, target: { address: "10.0.2.10" }, routerAddress: "10.0.1.10" })).not.toThrow();
  expect(() => synthLinode({ advertiseExitNode: true, routerAddress: "10.20.0.2", target: { address: "10.20.0.10" } })).not.toThrow();
});
