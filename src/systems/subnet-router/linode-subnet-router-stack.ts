import { TerraformOutput, TerraformStack } from "cdktf";
import { linodeProvider } from "../../linode/provider";
import { Construct } from "constructs";
import { TailnetPolicy, TailnetPolicyProps } from "../../tailnet/tailnet-policy";
import { tailscaleProvider } from "../../tailnet/provider";
import { CommonStackProps, configureBackend } from "../../terraform/backend";
import { LINODE_ROUTER_DEFAULT_TAG, LinodeSubnetRouter } from "./linode-subnet-router";
import { LinodeSubnetRouterOptions, LinodeSubnetRouterPlan, planLinodeSubnetRouter } from "./plan";
import { SubnetRouterPolicyOptions, subnetRouterPolicy } from "./router-policy";
import { routerUpFlags } from "./router-script";

export interface LinodeSubnetRouterStackProps extends CommonStackProps, LinodeSubnetRouterOptions {
  /** What the router adds to the tailnet policy (tag, admins, clients, ports, SSH). */
  readonly policy?: SubnetRouterPolicyOptions;
  /**
   * The tailnet policy: a TailnetPolicy shared with other stacks (the app passes the mesh's), or
   * props for one this stack creates and owns. @default managed, over the new-tailnet default
   */
  readonly tailnetPolicy?: TailnetPolicy | TailnetPolicyProps;
  /** Lifetime of the router's auth key, seconds. @default 3600 */
  readonly keyExpirySeconds?: number;
  /** Pin Tailscale, e.g. "1.90.6". @default latest stable */
  readonly tailscaleVersion?: string;
  /** How long an apply waits for a (re)created router to join the tailnet. @default "15m" */
  readonly joinTimeout?: string;
}

/**
 * System 5 on Linode: reach a private Linode VPC from the tailnet through one router, with the
 * route approved by the policy (no admin-console step) and the router a tagged device (no key
 * expiry). `tailscale up --advertise-routes` with SNAT (the VPC only forwards the router's own
 * source address; see planLinodeSubnetRouter).
 */
export class LinodeSubnetRouterStack extends TerraformStack {
  public readonly plan: LinodeSubnetRouterPlan;
  public readonly subnetRouter: LinodeSubnetRouter;

  constructor(scope: Construct, id: string, props: LinodeSubnetRouterStackProps = {}) {
    super(scope, id);
    configureBackend(this, props.backend);
    this.plan = planLinodeSubnetRouter(props);
    const policy = subnetRouterPolicy(this.plan, props.policy ?? {}, LINODE_ROUTER_DEFAULT_TAG);

    linodeProvider(this);
    tailscaleProvider(this);
    const tailnetPolicy = TailnetPolicy.use(this, "tailnet-policy", props.tailnetPolicy, "subnet_router");

    this.subnetRouter = new LinodeSubnetRouter(this, "subnet-router", {
      plan: this.plan,
      policy,
      tailnetPolicy,
      keyExpirySeconds: props.keyExpirySeconds,
      tailscaleVersion: props.tailscaleVersion,
      joinTimeout: props.joinTimeout,
    });

    const r = this.subnetRouter;
    new TerraformOutput(this, "router", {
      description: "The subnet router: tailnet hostname and tag, public IPv4, VPC address, advertised routes, tailscale up flags",
      value: {
        tailnet_hostname: this.plan.hostname,
        tag: policy.tag,
        public_ipv4: r.router.ipAddress,
        vpc_ipv4: r.router.interface.get(1).ipv4.vpc,
        advertised_routes: [...this.plan.advertiseRoutes],
        tailscale_up_flags: routerUpFlags(this.plan, { tag: policy.tag, tailscaleVersion: props.tailscaleVersion, ssh: policy.ssh !== false }),
      },
    });
    if (r.target) {
      new TerraformOutput(this, "target", {
        description: "The private target: its VPC address and a URL to fetch through the router from a tailnet client",
        value: {
          vpc_ipv4: r.target.interface.get(0).ipv4.vpc,
          probe_url: `http://\${${r.target.terraformResourceType}.${r.target.friendlyUniqueId}.interface[0].ipv4[0].vpc}:${this.plan.target!.port}/`,
        },
      });
    }
  }
}
