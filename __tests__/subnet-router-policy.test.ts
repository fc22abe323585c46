import { App, Testing } from "cdktf";
import { MeshStack } from "../src/systems/mesh/mesh-stack";
import { AwsSubnetRouterStack } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack } from "../src/systems/subnet-router/linode-subnet-router-stack";
import { planAwsSubnetRouter, planLinodeSubnetRouter } from "../src/systems/subnet-router/plan";
import { subnetRouterPolicy } from "../src/systems/subnet-router/router-policy";
import { PolicyBase } from "../src/tailnet/policy/base";
import { evaluateConnection } from "../src/tailnet/policy/evaluate";
import { parseHujson } from "../src/tailnet/policy/hujson";
import { PolicyObject } from "../src/tailnet/policy/types";
import { TailnetPolicyProps } from "../src/tailnet/tailnet-policy";
import { synthesizedStack } from "./helpers/synth";

/** Routes the policy auto-approves for `tag`, sorted. */
const approvedFor = (p: PolicyObject, tag: string): string[] =>
  Object.entries(p.autoApprovers?.routes ?? {})
    .filter(([, approvers]) => approvers.includes(tag))
    .map(([route]) => route)
    .sort();

/** An app with the mesh owning the policy and the given routers contributing to it; returns the composed policy. */
function composed(
  routers: { linode?: ConstructorParameters<typeof LinodeSubnetRouterStack>[2]; aws?: ConstructorParameters<typeof AwsSubnetRouterStack>[2] },
  tailnetPolicy: TailnetPolicyProps = {},
): { policy: PolicyObject; linode?: LinodeSubnetRouterStack; aws?: AwsSubnetRouterStack } {
  const app = Testing.app() as App;
  const mesh = new MeshStack(app, "mesh", { tailnetPolicy });
  const linode = routers.linode ? new LinodeSubnetRouterStack(app, "subnet-router-linode", { ...routers.linode, tailnetPolicy: mesh.tailnetPolicy }) : undefined;
  const aws = routers.aws ? new AwsSubnetRouterStack(app, "subnet-router-aws", { ...routers.aws, tailnetPolicy: mesh.tailnetPolicy }) : undefined;
  const text = JSON.parse(Testing.synth(mesh)).resource.tailscale_acl.mesh.acl as string;
  return { policy: parseHujson(text, "acl") as PolicyObject, linode, aws };
}

describe("the app's composed policy (written by the mesh stack)", () => {
  const policy = parseHujson(synthesizedStack("mesh").resource.tailscale_acl.mesh.acl, "acl") as PolicyObject;

  test("auto-approves exactly the routes each router advertises, each for its own tag only", () => {
    expect(approvedFor(policy, "tag:linode-subnet-router")).toEqual(["10.20.0.0/24"]);
    expect(approvedFor(policy, "tag:aws-subnet-router")).toEqual(["10.0.0.0/16"]);
    // Nothing else is approved for anyone, and no exit node.
    expect(Object.keys(policy.autoApprovers!.routes!).sort()).toEqual(["10.0.0.0/16", "10.20.0.0/24"]);
    expect(policy.autoApprovers!.exitNode).toBeUndefined();
    // The routers' outputs say what they advertise: the same routes.
    expect(synthesizedStack("subnet-router-linode").output.router.value.advertised_routes).toEqual(approvedFor(policy, "tag:linode-subnet-router"));
    expect(synthesizedStack("subnet-router-aws").output.router.value.advertised_routes).toEqual(approvedFor(policy, "tag:aws-subnet-router"));
  });

  test("each router's tag is owned by the admins; admins reach the routes and SSH (check) into the routers", () => {
    expect(policy.tagOwners).toMatchObject({ "tag:linode-subnet-router": ["autogroup:admin"], "tag:aws-subnet-router": ["autogroup:admin"] });
    expect(policy.grants).toEqual(
      expect.arrayContaining([
        { src: ["autogroup:admin"], dst: ["10.20.0.0/24"], ip: ["*"] },
        { src: ["autogroup:admin"], dst: ["10.0.0.0/16"], ip: ["*"] },
        { src: ["autogroup:admin"], dst: ["tag:aws-subnet-router"], ip: ["tcp:22"] },
      ]),
    );
    expect(policy.ssh).toEqual(expect.arrayContaining([{ action: "check", src: ["autogroup:admin"], dst: ["tag:linode-subnet-router"], users: ["root"] }]));
  });
});

describe("what a router contributes", () => {
  test("an exit node is approved for the tag alone, and clients get a grant to the internet", () => {
    const { policy } = composed({ linode: { advertiseExitNode: true } });
    expect(policy.autoApprovers!.exitNode).toEqual(["tag:linode-subnet-router"]);
    expect(approvedFor(policy, "tag:linode-subnet-router")).toEqual(["10.20.0.0/24"]);
    expect(policy.grants).toEqual(expect.arrayContaining([{ src: ["autogroup:admin"], dst: ["autogroup:internet"], ip: ["*"] }]));
  });

  test("several advertised routes: each approved, nothing more", () => {
    const { policy } = composed({ aws: { advertiseRoutes: ["10.0.2.0/24", "10.0.3.0/24"], privateSubnets: [{ name: "a", cidr: "10.0.2.0/24" }, { name: "b", cidr: "10.0.3.0/24" }] } });
    expect(approvedFor(policy, "tag:aws-subnet-router")).toEqual(["10.0.2.0/24", "10.0.3.0/24"]);
  });

  test("concrete clients become policy tests, which hold against the composed policy", () => {
    const clients = ["alice@example.com", "tag:mesh", "autogroup:admin"];
    const { policy } = composed({ aws: { policy: { clients, ports: ["tcp:8080", "icmp:*"] }, target: { address: "10.0.2.10" } } }, { base: PolicyBase.empty() });
    // autogroup:admin is not a principal a test can name; the user and the tag are.
    expect(policy.tests).toEqual(
      expect.arrayContaining([
        { src: "alice@example.com", accept: ["10.0.2.10:8080"] },
        { src: "tag:mesh", accept: ["10.0.2.10:8080"] },
      ]),
    );
    expect(evaluateConnection(policy, "alice@example.com", "10.0.2.10:8080").result).toBe("yes");
    // Over an empty base, another port is closed to everyone; whether bob reaches the network
    // depends on whether he is an admin (a client too), which only the tailnet knows.
    expect(evaluateConnection(policy, "bob@example.com", "10.0.2.10:8080").result).toBe("unknown");
    expect(evaluateConnection(policy, "tag:other", "10.0.2.10:8080").result).toBe("no");
    expect(evaluateConnection(policy, "alice@example.com", "10.0.2.10:22", "tcp").result).toBe("no");
    // Without proto a test may be met by ICMP (icmp:* is granted): not certain offline.
    expect(evaluateConnection(policy, "alice@example.com", "10.0.2.10:22").result).toBe("unknown");
  });

  test("once the allow-all base is gone, mesh nodes don't reach the routes by default", () => {
    const { policy } = composed({ linode: {} }, { base: PolicyBase.empty() });
    expect(evaluateConnection(policy, "tag:mesh", "10.20.0.10:22").result).toBe("no");
    expect(evaluateConnection(policy, "tag:linode-subnet-router", "10.20.0.10:22").result).toBe("no");
  });

  test("the contribution itself, from a plan", () => {
    const plan = planLinodeSubnetRouter({ target: { address: "10.20.0.10", port: 9000 } });
    const p = subnetRouterPolicy(plan, { clients: ["group:dba", "dba@example.com"], ssh: false }, "tag:linode-subnet-router");
    expect(p.contribution).toEqual({
      tagOwners: { "tag:linode-subnet-router": ["autogroup:admin"] },
      grants: [{ src: ["group:dba", "dba@example.com"], dst: ["10.20.0.0/24"], ip: ["*"] }],
      ssh: [],
      autoApprovers: { routes: { "10.20.0.0/24": ["tag:linode-subnet-router"] } },
      tests: [{ src: "dba@example.com", accept: ["10.20.0.10:9000"] }],
    });
    // Without a target address, the test aims at the route's first host.
    const aws = subnetRouterPolicy(planAwsSubnetRouter({}), { clients: ["ops@example.com"] }, "tag:aws-subnet-router");
    expect(aws.contribution.tests).toEqual([{ src: "ops@example.com", accept: ["10.0.0.1:22"] }]);
  });
});

describe("offline evaluation of addresses behind a router", () => {
  const { evaluateConnection } = jest.requireActual("../src/tailnet/policy/evaluate") as typeof import("../src/tailnet/policy/evaluate");
  const grantTo = (dst: string, extra: Record<string, unknown> = {}) => ({ ...extra, grants: [{ src: ["ops@example.com"], dst: [dst], ip: ["*"] }] });
  test("identity selectors never match an address outside the tailnet's ranges; inside them it depends on the tailnet", () => {
    for (const sel of ["tag:mesh", "autogroup:member", "autogroup:admin", "group:ops", "alice@example.com", "autogroup:tagged"]) {
      const policy = grantTo(sel, { groups: { "group:ops": [] }, tagOwners: { "tag:mesh": [] } });
      expect({ sel, r: evaluateConnection(policy, "ops@example.com", "10.0.2.10:22").result }).toEqual({ sel, r: "no" });
    }
    expect(evaluateConnection(grantTo("tag:mesh"), "ops@example.com", "100.100.1.1:22").result).toBe("unknown");
    expect(evaluateConnection(grantTo("10.0.0.0/16"), "ops@example.com", "10.0.2.10:22").result).toBe("yes");
    expect(evaluateConnection(grantTo("db", { hosts: { db: "10.0.2.10" } }), "ops@example.com", "10.0.2.10:22").result).toBe("yes");
    expect(evaluateConnection(grantTo("*"), "ops@example.com", "10.0.2.10:22").result).toBe("yes");
  });
});
