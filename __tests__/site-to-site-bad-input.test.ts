import { Testing } from "cdktf";
import { SiteToSiteStack, SiteToSiteStackProps } from "../src/systems/site-to-site/site-to-site-stack";
import { ValidationError } from "../src/validation";

// Each bad configuration stops synthesis with a message that starts with the field's path and says
// what is allowed, or which other field it collides with and why they must differ.
const cases: [string, SiteToSiteStackProps, RegExp][] = [
  // --- ASNs: private, and different on the two ends of the eBGP sessions.
  ["public customer ASN", { customerAsn: 7018 }, /^customerAsn: 7018 is not a private AS number \(64512-65534 or 4200000000-4294967294, RFC 6996\)/],
  ["customer ASN 65535 (reserved, not private)", { customerAsn: 65535 }, /^customerAsn: 65535 is not a private AS number/],
  ["customer ASN past the 32-bit private range", { customerAsn: 4294967295 }, /^customerAsn: 4294967295 is not a private AS number/],
  ["fractional ASN", { customerAsn: 65000.5 }, /^customerAsn: 65000\.5 is not a private AS number/],
  ["public Amazon-side ASN", { aws: { amazonSideAsn: 16509 } }, /^aws\.amazonSideAsn: 16509 is not a private AS number/],
  ["the same ASN on both ends", { customerAsn: 64512 }, /^customerAsn: 64512 is also aws\.amazonSideAsn; eBGP needs a different AS on each end/],
  ["the same 32-bit ASN on both ends", { customerAsn: 4200000001, aws: { amazonSideAsn: 4200000001 } }, /^customerAsn: 4200000001 is also aws\.amazonSideAsn/],
  // --- The VIP: inside the VLAN, not a router's (or client's) address.
  ["VIP outside the VLAN", { virtualIp: "10.0.2.200" }, /^virtualIp: "10\.0\.2\.200" is not inside vlan\.cidr \(10\.0\.1\.0\/24\)/],
  ["VIP on the first router's address", { virtualIp: "10.0.1.2" }, /^virtualIp: "10\.0\.1\.2" is also routers\[0\]\.vlanAddress; every address on the VLAN must be unique/],
  ["VIP on the second router's address", { virtualIp: "10.0.1.3" }, /^virtualIp: "10\.0\.1\.3" is also routers\[1\]\.vlanAddress/],
  ["VIP on the VLAN's network address", { virtualIp: "10.0.1.0" }, /^virtualIp: "10\.0\.1\.0" is reserved in 10\.0\.1\.0\/24 \(the first 1 and last 1 addresses\); use 10\.0\.1\.1 to 10\.0\.1\.254/],
  ["VIP on the broadcast address", { virtualIp: "10.0.1.255" }, /^virtualIp: "10\.0\.1\.255" is reserved in 10\.0\.1\.0\/24/],
  ["VIP that is no address", { virtualIp: "gateway" }, /^virtualIp: "gateway" is not an IP address/],
  ["client on the VIP", { clients: [{ name: "c1", vlanAddress: "10.0.1.200" }] }, /^clients\[0\]\.vlanAddress: "10\.0\.1\.200" is also virtualIp/],
  ["router outside the VLAN", { routers: [{ vlanAddress: "10.0.9.2" }, {}] }, /^routers\[0\]\.vlanAddress: "10\.0\.9\.2" is not inside vlan\.cidr/],
  ["two routers on one address", { routers: [{ vlanAddress: "10.0.1.5" }, { vlanAddress: "10.0.1.5" }] }, /^routers\[1\]\.vlanAddress: "10\.0\.1\.5" is also routers\[0\]\.vlanAddress/],
  ["VLAN too small for the default VIP", { vlan: { cidr: "10.0.1.0/28" } }, /^virtualIp: has no default in vlan\.cidr 10\.0\.1\.0\/28/],
  // --- VRRP priorities: distinct, 1-254; the router ID 1-255.
  ["equal priorities", { routers: [{ priority: 100 }, { priority: 100 }] }, /^routers\[1\]\.priority: 100 is also routers\[0\]\.priority; VRRP elects the higher priority as MASTER, so the two must differ/],
  ["priority 255 (the address owner's)", { routers: [{ priority: 255 }, {}] }, /^routers\[0\]\.priority: 255 must be a whole number from 1 to 254/],
  ["priority 0", { routers: [{}, { priority: 0 }] }, /^routers\[1\]\.priority: 0 must be a whole number from 1 to 254/],
  ["virtual router ID 0", { virtualRouterId: 0 }, /^virtualRouterId: 0 must be a whole number from 1 to 255/],
  // --- Tunnel inside CIDRs: /30s in 169.254.0.0/16, not AWS's reserved ones, one per tunnel.
  ["inside CIDR that is a /29", { routers: [{ tunnelInsideCidrs: ["169.254.10.0/29", "169.254.11.0/30"] }, {}] }, /^routers\[0\]\.tunnelInsideCidrs\[0\]: "169\.254\.10\.0\/29" is a \/29; a VPN tunnel's inside CIDR is a \/30/],
  ["inside CIDR outside link-local", { routers: [{}, { tunnelInsideCidrs: ["169.254.12.0/30", "10.0.0.0/30"] }] }, /^routers\[1\]\.tunnelInsideCidrs\[1\]: "10\.0\.0\.0\/30" is not inside 169\.254\.0\.0\/16, where AWS requires tunnel inside CIDRs/],
  ["AWS-reserved inside CIDR", { routers: [{ tunnelInsideCidrs: ["169.254.0.0/30", "169.254.11.0/30"] }, {}] }, /^routers\[0\]\.tunnelInsideCidrs\[0\]: "169\.254\.0\.0\/30" is reserved by AWS \(169\.254\.0\.0\/30, .*169\.254\.169\.252\/30\)/],
  ["inside CIDR over the metadata address", { routers: [{ tunnelInsideCidrs: ["169.254.10.0/30", "169.254.169.252/30"] }, {}] }, /^routers\[0\]\.tunnelInsideCidrs\[1\]: "169\.254\.169\.252\/30" is reserved by AWS/],
  ["inside CIDR with host bits", { routers: [{ tunnelInsideCidrs: ["169.254.10.1/30", "169.254.11.0/30"] }, {}] }, /^routers\[0\]\.tunnelInsideCidrs\[0\]: "169\.254\.10\.1\/30" is not an IPv4 CIDR block/],
  ["one inside CIDR for two tunnels", { routers: [{}, { tunnelInsideCidrs: ["169.254.10.0/30", "169.254.13.0/30"] }] }, /^routers\[1\]\.tunnelInsideCidrs\[0\]: "169\.254\.10\.0\/30" overlaps routers\[0\]\.tunnelInsideCidrs\[0\] \(169\.254\.10\.0\/30\); each tunnel needs its own inside \/30/],
  ["one inside CIDR where two are needed", { routers: [{ tunnelInsideCidrs: ["169.254.10.0/30"] as any }, {}] }, /^routers\[0\]\.tunnelInsideCidrs: must list two \/30s/],
  // --- CIDRs: valid on each cloud, not overlapping between them.
  ["VPC overlapping the VLAN", { aws: { vpcCidr: "10.0.0.0/16" } }, /^vlan\.cidr: "10\.0\.1\.0\/24" overlaps aws\.vpcCidr \(10\.0\.0\.0\/16\); the AWS VPC and the Linode VLAN must not overlap/],
  ["VLAN overlapping the VPC", { vlan: { cidr: "10.0.0.0/23" }, virtualIp: "10.0.1.200" }, /^vlan\.cidr: "10\.0\.0\.0\/23" overlaps aws\.vpcCidr \(10\.0\.0\.0\/24\)/],
  ["existing VPC overlapping the VLAN", { aws: { existingVpc: { vpcId: "vpc-0123456789abcdef0", cidr: "10.0.0.0/8", routeTableIds: ["rtb-0123456789abcdef0"] } } }, /^vlan\.cidr: "10\.0\.1\.0\/24" overlaps aws\.existingVpc\.cidr \(10\.0\.0\.0\/8\)/],
  ["VPC that is no CIDR", { aws: { vpcCidr: "10.0.0.0/33" } }, /^aws\.vpcCidr: "10\.0\.0\.0\/33" is not an IPv4 CIDR block/],
  ["VPC with host bits", { aws: { vpcCidr: "10.0.0.5/24" } }, /^aws\.vpcCidr: "10\.0\.0\.5\/24" is not an IPv4 CIDR block/],
  ["VPC too large", { aws: { vpcCidr: "10.0.0.0/8" } }, /^aws\.vpcCidr: "10\.0\.0\.0\/8" has prefix length \/8; an AWS VPC allows \/16 to \/28/],
  ["VPC in link-local space", { aws: { vpcCidr: "169.254.64.0/24" } }, /^aws\.vpcCidr: "169\.254\.64\.0\/24" overlaps 169\.254\.0\.0\/16, the link-local range the tunnels' inside addresses use/],
  ["subnet outside the VPC", { aws: { subnetCidr: "10.9.0.0/24" } }, /^aws\.subnetCidr: "10\.9\.0\.0\/24" is not inside aws\.vpcCidr \(10\.0\.0\.0\/24\)/],
  ["VLAN that is IPv6", { vlan: { cidr: "fd00::/64" } }, /^vlan\.cidr: "fd00::\/64" is not an IPv4 CIDR block/],
  ["VLAN that is no CIDR", { vlan: { cidr: "vlan" } }, /^vlan\.cidr: "vlan" is not a CIDR block/],
  ["VLAN in link-local space", { vlan: { cidr: "169.254.50.0/24" } }, /^vlan\.cidr: "169\.254\.50\.0\/24" overlaps 169\.254\.0\.0\/16/],
  ["VLAN too small", { vlan: { cidr: "10.0.1.0/30" } }, /^vlan\.cidr: "10\.0\.1\.0\/30" has prefix length \/30; the VLAN \(room for two routers, the VIP and clients\) allows \/8 to \/29/],
  ["VLAN label with a space", { vlan: { label: "my vlan" } }, /^vlan\.label: "my vlan" is not a VLAN label/],
  // --- Shapes and the rest.
  ["one router", { routers: [{}] as any }, /^routers: must list exactly two routers \(the MASTER and the BACKUP\), not 1/],
  ["router name with capitals", { routers: [{ name: "Router-1" }, {}] }, /^routers\[0\]\.name: "Router-1" is not a valid hostname/],
  ["duplicate client names", { clients: [{ name: "c", vlanAddress: "10.0.1.10" }, { name: "c", vlanAddress: "10.0.1.11" }] }, /^clients\[\]\.name: "c" appears more than once/],
  ["unknown Linode region", { linodeRegion: "tokyo" }, /^linodeRegion: unknown Linode region "tokyo"\. Did you mean/],
  ["unknown AWS region", { aws: { region: "tokyo" } }, /^aws\.region: "tokyo" is not an AWS region code/],
  ["router plan not in the catalog", { routerInstanceType: "g6-nanode-2" }, /^routerInstanceType: "g6-nanode-2" is not a Linode plan ID\. Did you mean "g6-nanode-1"/],
  ["router image without the packages", { routerImage: "linode/centos7" }, /^routerImage: "linode\/centos7" is not one of "linode\/debian12", "linode\/ubuntu22\.04", "linode\/ubuntu24\.04"/],
  ["client image without systemd-networkd", { clientImage: "linode/debian12" }, /^clientImage: "linode\/debian12" is not one of "linode\/ubuntu22\.04", "linode\/ubuntu24\.04"/],
  ["SSH from everywhere", { adminCidrs: ["0.0.0.0/0"] }, /^adminCidrs\[0\]: "0\.0\.0\.0\/0" opens SSH to the whole internet; give your admin networks instead, or set allowSshFromAnywhere: true/],
  ["no admin networks", { adminCidrs: [] }, /^adminCidrs: must list at least one network/],
  ["admin network that is no CIDR", { adminCidrs: ["my office"] }, /^adminCidrs\[0\]: "my office" is not a CIDR block/],
  ["existing VPC with a bad ID", { aws: { existingVpc: { vpcId: "main", cidr: "10.0.0.0/24", routeTableIds: ["rtb-0123456789abcdef0"] } } }, /^aws\.existingVpc\.vpcId: "main" is not a VPC ID/],
  ["existing VPC without route tables", { aws: { existingVpc: { vpcId: "vpc-0123456789abcdef0", cidr: "10.0.0.0/24", routeTableIds: [] } } }, /^aws\.existingVpc\.routeTableIds: must list the route tables/],
  ["existing VPC and a new VPC's block", { aws: { vpcCidr: "10.0.0.0/24", existingVpc: { vpcId: "vpc-0123456789abcdef0", cidr: "10.0.0.0/24", routeTableIds: ["rtb-0123456789abcdef0"] } } }, /^aws\.vpcCidr: only applies to a new VPC; aws\.existingVpc is set/],
  ["test host in an existing VPC", { aws: { testHost: true, existingVpc: { vpcId: "vpc-0123456789abcdef0", cidr: "10.0.0.0/24", routeTableIds: ["rtb-0123456789abcdef0"] } } }, /^aws\.testHost: needs the VPC this stack creates/],
  ["test host on an AWS-reserved address", { aws: { testHost: { address: "10.0.0.3" } } }, /^aws\.testHost\.address: "10\.0\.0\.3" is reserved in 10\.0\.0\.0\/24 \(the first 4 and last 1 addresses\)/],
  ["unknown encryption", { ipsec: { proposal: { encryption: "des" as any } } }, /^ipsec\.proposal\.encryption: "des" is not one of "aes128", "aes256"/],
  ["weak DH group", { ipsec: { proposal: { dhGroup: 2 as any } } }, /^ipsec\.proposal\.dhGroup: 2 is not one of 14, 15, 16, 19, 20, 21/],
  ["phase 2 lifetime above phase 1", { ipsec: { ikeLifetimeSeconds: 1800, childLifetimeSeconds: 3600 } }, /^ipsec\.childLifetimeSeconds: 3600 must be below ipsec\.ikeLifetimeSeconds \(1800\)/],
  ["DPD slower than AWS's", { ipsec: { dpdDelaySeconds: 20 } }, /^ipsec\.dpdDelaySeconds: 20 makes the routers declare a dead tunnel after up to 36\.25 s, not before AWS's 30 s .*use at most 13$/],
  ["AWS DPD timeout under AWS's minimum", { ipsec: { awsDpdTimeoutSeconds: 10 } }, /^ipsec\.awsDpdTimeoutSeconds: 10 must be a whole number from 30 to 3600/],
  ["rekey margin over half the phase 2 lifetime", { ipsec: { rekeyMarginSeconds: 2000 } }, /^ipsec\.rekeyMarginSeconds: 2000 must be a whole number from 60 to 1800/],
  ["name prefix with an underscore", { namePrefix: "s2s_vpn" }, /^namePrefix: "s2s_vpn" must be 1-30 lower-case letters/],
];

test.each(cases)("%s", (_name, props, message) => {
  let error: unknown;
  try {
    new SiteToSiteStack(Testing.app(), "s2s", props);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).message).toMatch(message);
});

test("the defaults and a rehearsal's lab addresses are accepted", () => {
  expect(() => new SiteToSiteStack(Testing.app(), "s2s", {})).not.toThrow();
  expect(() => new SiteToSiteStack(Testing.app(), "s2s", { vlan: { cidr: "100.72.1.0/24" }, aws: { vpcCidr: "100.72.0.0/24" } })).not.toThrow();
});
