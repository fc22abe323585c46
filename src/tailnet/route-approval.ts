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
