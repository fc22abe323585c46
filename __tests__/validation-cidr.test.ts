import {
  TAILNET_IPV4_RANGE,
  TAILNET_IPV6_RANGE,
  addressInCidr,
  cidrContains,
  cidrHost,
  cidrsOverlap,
  prefixLength,
  requireCidrInside,
  requireHostAddress,
  requireNoOverlap,
  requireOutsideTailnet,
  requirePolicySelector,
  requireAwsRegion,
  requireAwsAvailabilityZone,
} from "../src/validation";

describe("CIDR arithmetic", () => {
  test.each([
    ["10.0.0.0/16", "10.0.2.0/24", true],
    ["10.0.0.0/16", "10.0.0.0/16", true],
    ["10.0.2.0/24", "10.0.0.0/16", false],
    ["10.0.0.0/16", "10.1.0.0/24", false],
    ["100.64.0.0/10", "100.127.255.0/24", true],
    ["100.64.0.0/10", "100.128.0.0/24", false],
    ["fd7a:115c:a1e0::/48", "fd7a:115c:a1e0:ab12::/64", true],
    ["fd7a:115c:a1e0::/48", "fd7a:115c:a1e1::/64", false],
    ["10.0.0.0/8", "::/0", false],
    ["0.0.0.0/0", "192.0.2.0/24", true],
  ])("%s contains %s: %s", (outer, inner, expected) => {
    expect(cidrContains(outer, inner)).toBe(expected);
  });

  test("overlap is containment either way; disjoint blocks don't overlap", () => {
    expect(cidrsOverlap("10.0.0.0/16", "10.0.5.0/24")).toBe(true);
    expect(cidrsOverlap("10.0.5.0/24", "10.0.0.0/16")).toBe(true);
    expect(cidrsOverlap("10.0.0.0/24", "10.0.1.0/24")).toBe(false);
    expect(cidrsOverlap("100.0.0.0/8", TAILNET_IPV4_RANGE)).toBe(true);
  });

  test("cidrHost counts from the start and (negative) from the end, like Terraform's", () => {
    expect(cidrHost("10.0.2.0/24", 1)).toBe("10.0.2.1");
    expect(cidrHost("10.0.2.0/24", 10)).toBe("10.0.2.10");
    expect(cidrHost("10.0.2.0/24", -1)).toBe("10.0.2.255");
    expect(cidrHost("10.0.0.0/16", 258)).toBe("10.0.1.2");
    expect(cidrHost("2001:db8::/64", 1)).toBe("2001:db8::1");
    expect(cidrHost("2001:db8:0:1::/64", -1)).toBe("2001:db8:0:1:ffff:ffff:ffff:ffff");
    expect(() => cidrHost("10.0.2.0/24", 256)).toThrow(/outside 10\.0\.2\.0\/24/);
  });

  test("addresses in blocks, prefix lengths", () => {
    expect(addressInCidr("10.0.2.146", "10.0.2.0/24")).toBe(true);
    expect(addressInCidr("10.0.3.1", "10.0.2.0/24")).toBe(false);
    expect(addressInCidr("10.0.2.1", "fd00::/8")).toBe(false);
    expect(addressInCidr("not-an-ip", "10.0.0.0/8")).toBe(false);
    expect(prefixLength("10.0.0.0/16")).toBe(16);
  });
});

describe("checks name the field and say what is allowed", () => {
  test("inside the VPC", () => {
    expect(() => requireCidrInside("privateSubnets[0].cidr", "10.1.0.0/24", "10.0.0.0/16", "vpcCidr")).toThrow(
      'privateSubnets[0].cidr: "10.1.0.0/24" is not inside vpcCidr (10.0.0.0/16); every subnet must lie inside its VPC',
    );
    expect(() => requireCidrInside("x", "10.0.9.0/24", "10.0.0.0/16", "vpcCidr")).not.toThrow();
  });

  test("no overlap, naming both fields", () => {
    expect(() =>
      requireNoOverlap([
        { field: "publicSubnet.cidr", cidr: "10.0.1.0/24" },
        { field: "privateSubnets[0].cidr", cidr: "10.0.0.0/23" },
      ]),
    ).toThrow('privateSubnets[0].cidr: "10.0.0.0/23" overlaps publicSubnet.cidr (10.0.1.0/24); subnets must not overlap');
    expect(() => requireNoOverlap([{ field: "a", cidr: "10.0.0.0/24" }, { field: "b", cidr: "10.0.1.0/24" }])).not.toThrow();
  });

  test.each([
    ["100.64.0.0/10", TAILNET_IPV4_RANGE],
    ["100.100.0.0/16", TAILNET_IPV4_RANGE],
    ["100.0.0.0/8", TAILNET_IPV4_RANGE],
    ["fd7a:115c:a1e0:1::/64", TAILNET_IPV6_RANGE],
  ])("the tailnet's own ranges are refused: %s", (cidr, range) => {
    expect(() => requireOutsideTailnet("vpcCidr", cidr)).toThrow(new RegExp(`^vpcCidr: "${cidr.replace(/[./]/g, "\\$&")}" overlaps ${range.replace(/[./]/g, "\\$&")}, the tailnet's own address range`));
  });

  test("just outside the tailnet range is fine", () => {
    expect(() => requireOutsideTailnet("vpcCidr", "100.128.0.0/16")).not.toThrow();
    expect(() => requireOutsideTailnet("vpcCidr", "10.0.0.0/8")).not.toThrow();
  });

  test("host addresses: inside the block and not reserved", () => {
    const check = (a: string) => () => requireHostAddress("routerAddress", a, "10.0.1.0/24", "publicSubnet", 4, 1);
    expect(check("10.0.1.4")).not.toThrow();
    expect(check("10.0.1.254")).not.toThrow();
    expect(check("10.0.1.3")).toThrow('routerAddress: "10.0.1.3" is reserved in 10.0.1.0/24 (the first 4 and last 1 addresses); use 10.0.1.4 to 10.0.1.254');
    expect(check("10.0.1.255")).toThrow(/is reserved/);
    expect(check("10.0.2.5")).toThrow('routerAddress: "10.0.2.5" is not inside publicSubnet (10.0.1.0/24)');
    expect(check("10.0.1.5/32")).toThrow('routerAddress: "10.0.1.5/32" is not an IP address');
  });

  test("policy selectors, AWS regions and zones", () => {
    for (const ok of ["autogroup:admin", "group:ops", "tag:db", "alice@example.com"]) expect(() => requirePolicySelector("clients[0]", ok)).not.toThrow();
    for (const bad of ["alice", "tag:Db", "*", "10.0.0.0/8", "group:"]) expect(() => requirePolicySelector("clients[0]", bad)).toThrow(/^clients\[0\]: .* is not a policy selector/);
    expect(() => requireAwsRegion("region", "ap-northeast-1")).not.toThrow();
    expect(() => requireAwsRegion("region", "us-gov-west-1")).not.toThrow();
    expect(() => requireAwsRegion("region", "tokyo")).toThrow('region: "tokyo" is not an AWS region code such as ap-northeast-1 or us-east-1');
    expect(() => requireAwsAvailabilityZone("availabilityZone", "ap-northeast-1c", "ap-northeast-1")).not.toThrow();
    expect(() => requireAwsAvailabilityZone("availabilityZone", "us-east-1a", "ap-northeast-1")).toThrow(
      'availabilityZone: "us-east-1a" is not an availability zone of ap-northeast-1 (the region code and one letter, e.g. ap-northeast-1a)',
    );
  });
});
