import { App, Testing } from "cdktf";
import { SYSCTL_FORWARDING_PATH, renderForwardingSysctl } from "../src/tailnet/bootstrap";
import { AwsSubnetRouterStack } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack } from "../src/systems/subnet-router/linode-subnet-router-stack";
import { LAB_RANGES, planAwsSubnetRouter, planLinodeSubnetRouter } from "../src/systems/subnet-router/plan";
import { routerUpFlags } from "../src/systems/subnet-router/router-script";

describe("Linode plan", () => {
  test("defaults: one private subnet, its CIDR advertised, SNAT on, nothing routed back", () => {
    const p = planLinodeSubnetRouter();
    expect(p).toMatchObject({
      platform: "linode",
      hostname: "linode-subnet-router",
      region: "us-ord",
      vpcLabel: "linode-subnet-router-vpc",
      subnets: [{ name: "private", cidr: "10.20.0.0/24" }],
      routerSubnetName: "private",
      routerSubnet: "10.20.0.0/24",
      advertiseRoutes: ["10.20.0.0/24"],
      snatSubnetRoutes: true,
      advertiseExitNode: false,
      returnRoutes: [],
      image: "linode/ubuntu24.04",
      instanceType: "g6-nanode-1",
      distro: { id: "ubuntu", codename: "noble" },
    });
    expect(p.routerAddress).toBeUndefined();
    expect(p.target).toBeUndefined();
    expect(p.forwarding).toEqual({ path: SYSCTL_FORWARDING_PATH, content: renderForwardingSysctl() });
  });

  test("a target defaults to the router's subnet and port 8080", () => {
    expect(planLinodeSubnetRouter({ target: true }).target).toEqual({ subnetName: "private", subnet: "10.20.0.0/24", address: undefined, port: 8080, instanceType: "g6-nanode-1" });
  });

  test("the router's flags, by the bootstrap's rules", () => {
    expect(routerUpFlags(planLinodeSubnetRouter({ advertiseExitNode: true }), { tag: "tag:r" })).toEqual([
      "--reset",
      "--hostname=linode-subnet-router",
      "--advertise-tags=tag:r",
      "--ssh",
      "--advertise-routes=10.20.0.0/24",
      "--advertise-exit-node",
    ]);
  });
});

describe("AWS plan", () => {
  test("defaults are the article's network: 10.0.0.0/16, public 10.0.1.0/24, private 10.0.2.0/24, vpc-subnet-router", () => {
    const p = planAwsSubnetRouter();
    expect(p).toMatchObject({
      platform: "aws",
      hostname: "vpc-subnet-router",
      region: "ap-northeast-1",
      availabilityZone: "ap-northeast-1a",
      vpcCidr: "10.0.0.0/16",
      publicSubnet: { name: "public", cidr: "10.0.1.0/24" },
      privateSubnets: [{ name: "private", cidr: "10.0.2.0/24" }],
      routerSubnet: "10.0.1.0/24",
      advertiseRoutes: ["10.0.0.0/16"],
      snatSubnetRoutes: true,
      returnRoutes: [],
      instanceType: "t3.micro",
      architecture: "x86_64",
      distro: { id: "amzn", codename: "2023" },
    });
  });

  test("SNAT off: the tailnet's range must be routed back through the router", () => {
    const p = planAwsSubnetRouter({ snatSubnetRoutes: false });
    expect(p.returnRoutes).toEqual(["100.64.0.0/10"]);
    expect(routerUpFlags(p, { tag: "tag:r", ssh: false })).toEqual(["--reset", "--hostname=vpc-subnet-router", "--advertise-tags=tag:r", "--advertise-routes=10.0.0.0/16", "--snat-subnet-routes=false"]);
  });

  test("another region moves the default zone with it", () => {
    expect(planAwsSubnetRouter({ region: "eu-central-1" }).availabilityZone).toBe("eu-central-1a");
  });
});

describe("address rules: deployments stay out of the lab's ranges, rehearsals stay in them", () => {
  const labLinode = { subnets: [{ name: "lab", cidr: "100.70.0.0/24" }], routerAddress: "100.70.0.2", target: { address: "100.70.0.10" } };
  const labAws = {
    vpcCidr: "100.70.0.0/16",
    publicSubnet: { name: "public", cidr: "100.70.1.0/24" },
    privateSubnets: [{ name: "private", cidr: "100.70.2.0/24" }],
    routerAddress: "100.70.1.10",
    target: { address: "100.70.2.10" },
    snatSubnetRoutes: false,
  };

  test("the lab ranges are the project's network-test ranges", () => {
    expect(LAB_RANGES).toEqual(["100.64.0.0/10", "169.254.0.0/16"]);
  });

  test("rehearsal rules accept lab addresses and keep every structural check", () => {
    const l = planLinodeSubnetRouter(labLinode, "rehearsal");
    expect(l.advertiseRoutes).toEqual(["100.70.0.0/24"]);
    expect(l.routerAddress).toBe("100.70.0.2");
    const a = planAwsSubnetRouter(labAws, "rehearsal");
    expect(a.advertiseRoutes).toEqual(["100.70.0.0/16"]);
    expect(a.returnRoutes).toEqual(["100.64.0.0/10"]);
    // Structure still checked: reserved addresses, SNAT on Linode, subnets inside the VPC.
    expect(() => planLinodeSubnetRouter({ ...labLinode, routerAddress: "100.70.0.1" }, "rehearsal")).toThrow(/^routerAddress: "100\.70\.0\.1" is reserved/);
    expect(() => planLinodeSubnetRouter({ ...labLinode, snatSubnetRoutes: false }, "rehearsal")).toThrow(/^snatSubnetRoutes: false cannot work in a Linode VPC/);
    expect(() => planAwsSubnetRouter({ ...labAws, publicSubnet: { name: "public", cidr: "100.71.1.0/24" } }, "rehearsal")).toThrow(/^publicSubnet\.cidr: .* is not inside vpcCidr/);
  });

  test("rehearsal rules refuse addresses outside the lab ranges", () => {
    expect(() => planLinodeSubnetRouter({}, "rehearsal")).toThrow(/^subnets\[0\]\.cidr: "10\.20\.0\.0\/24" is not inside the ranges rehearsals may use \(100\.64\.0\.0\/10, 169\.254\.0\.0\/16\)/);
    expect(() => planAwsSubnetRouter({}, "rehearsal")).toThrow(/^vpcCidr: "10\.0\.0\.0\/16" is not inside the ranges rehearsals may use/);
  });

  test("deployment rules (the default) refuse the lab's addresses", () => {
    expect(() => planLinodeSubnetRouter(labLinode)).toThrow(/^subnets\[0\]\.cidr: "100\.70\.0\.0\/24" overlaps 100\.64\.0\.0\/10, the tailnet's own address range/);
    expect(() => planAwsSubnetRouter(labAws)).toThrow(/^vpcCidr: "100\.70\.0\.0\/16" overlaps 100\.64\.0\.0\/10/);
  });

  test("the stacks plan with deployment rules only: the lab's options fail there", () => {
    expect(() => new LinodeSubnetRouterStack(Testing.app() as App, "l", labLinode)).toThrow(/overlaps 100\.64\.0\.0\/10/);
    expect(() => new AwsSubnetRouterStack(Testing.app() as App, "a", labAws)).toThrow(/overlaps 100\.64\.0\.0\/10/);
    // And they take no rules option: an unknown prop is just ignored by the planner.
    expect(() => new AwsSubnetRouterStack(Testing.app() as App, "b", { ...labAws, rules: "rehearsal" } as any)).toThrow(/overlaps 100\.64\.0\.0\/10/);
  });
});
