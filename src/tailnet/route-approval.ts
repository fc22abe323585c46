/**
 * Routes are approved by the tailnet policy's autoApprovers, never by a
 * `tailscale_device_subnet_routes` resource: that resource sets a device's enabled routes to exactly
 * its list, so next to autoApprovers the two fight (an exit node's 0.0.0.0/0 and ::/0 approved by
 * the policy are dropped by the resource; a route added to the router is approved by the policy and
 * shown as drift by the next plan), and it needs the device's ID, which only exists after the node
 * has joined. A stack that relies on autoApprovers therefore refuses such a resource at synthesis.
 */
import { TerraformStack } from "cdktf";
import { IConstruct } from "constructs";
import { DeviceSubnetRoutes } from "../../.gen/providers/tailscale/device-subnet-routes";
import { cidrsOverlap, fail } from "../validation";

/** Makes synthesis of `scope`'s stack fail if it contains any `tailscale_device_subnet_routes`. */
export function requireApprovalByPolicyOnly(scope: IConstruct): void {
  const stack = TerraformStack.of(scope);
  scope.node.addValidation({
    validate: () =>
      stack.node
        .findAll()
        .filter((c): c is DeviceSubnetRoutes => c instanceof DeviceSubnetRoutes)
        .map(
          (c) =>
            `${c.node.path}: tailscale_device_subnet_routes would fight the policy's autoApprovers, which approve ${scope.node.path}'s routes (the resource resets the device's routes to its own list on every apply); remove it and approve routes in the policy`,
        ),
  });
}

/** Routes advertised into each tailnet, per app: tailnet -> [{ route, router's path, stack's path }]. */
const advertised = new WeakMap<IConstruct, Map<string, { route: string; router: string; stack: string }[]>>();

/**
 * Records the subnet routes `router` advertises into `tailnet` and fails when another stack of the
 * app already advertises an overlapping (or the same) route there: two networks behind one range,
 * where tailnet clients reach only one (the more specific route wins, or either at random), with no
 * error anywhere. Routers of one network (HA) belong in one stack.
 */
export function claimAdvertisedRoutes(router: IConstruct, tailnet: string, routes: readonly string[]): void {
  const root = router.node.root;
  const byTailnet = advertised.get(root) ?? new Map<string, { route: string; router: string; stack: string }[]>();
  advertised.set(root, byTailnet);
  const claims = byTailnet.get(tailnet) ?? [];
  byTailnet.set(tailnet, claims);
  const stack = TerraformStack.of(router).node.path;
  for (const [i, route] of routes.entries()) {
    const other = claims.find((c) => c.stack !== stack && cidrsOverlap(c.route, route));
    if (other) {
      const how = other.route === route ? "the same route" : `${other.route}, which overlaps it,`;
      fail(
        `${stack}: advertiseRoutes[${i}]`,
        `${route} is advertised into tailnet "${tailnet}" by ${router.node.path} while stack ${other.stack} advertises ${how} from ${other.router}; tailnet clients would reach only one of the two networks: give them distinct ranges`,
      );
    }
  }
  for (const route of routes) claims.push({ route, router: router.node.path, stack });
}
