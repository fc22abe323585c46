import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { awsProvider } from "../../aws/provider";
import { TailnetPolicy, TailnetPolicyProps } from "../../tailnet/tailnet-policy";
import { tailscaleProvider } from "../../tailnet/provider";
import { CommonStackProps, configureBackend } from "../../terraform/backend";
import { AWS_ROUTER_DEFAULT_TAG, AwsSubnetRouter, AwsSubnetRouterProps } from "./aws-subnet-router";
import { AwsSubnetRouterOptions, AwsSubnetRouterPlan, planAwsSubnetRouter } from "./plan";
import { SubnetRouterPolicyOptions, subnetRouterPolicy } from "./router-policy";
import { routerUpFlags } from "./router-script";

export interface AwsSubnetRouterStackProps extends CommonStackProps, AwsSubnetRouterOptions {
  /** What the router adds to the tailnet policy (tag, admins, clients, ports, SSH). */
  readonly policy?: SubnetRouterPolicyOptions;
  /** A TailnetPolicy shared with other stacks, or props for one this stack owns. @default managed, own */
  readonly tailnetPolicy?: TailnetPolicy | TailnetPolicyProps;
  /** Lifetime of the router's auth key, seconds. @default 3600 */
  readonly keyExpirySeconds?: number;
  /** Pin Tailscale, e.g. "1.90.6". @default latest stable */
  readonly tailscaleVersion?: string;
  /** How long an apply waits for a (re)created router to join the tailnet. @default "15m" */
  readonly joinTimeout?: string;
  /** What a new Amazon Linux release does to the router. @default "ignore" */
  readonly imageUpdates?: AwsSubnetRouterProps["imageUpdates"];
  /** VPC flow logs into CloudWatch Logs (ALL traffic, kept 365 days); `false` for none. @default on */
  readonly flowLogs?: AwsSubnetRouterProps["flowLogs"];
}

/**
 * System 5 as the article builds it, in code: a Tailscale subnet router into a private AWS VPC, with
 * the route approved by the policy, the router a tagged device (no key expiry), UDP 41641 open and
 * shell access through SSM only. AWS credentials come from the environment (AWS_PROFILE, …).
 */
export class AwsSubnetRouterStack extends TerraformStack {
  public readonly plan: AwsSubnetRouterPlan;
  public readonly subnetRouter: AwsSubnetRouter;

  constructor(scope: Construct, id: string, props: AwsSubnetRouterStackProps = {}) {
    super(scope, id);
    configureBackend(this, props.backend);
    this.plan = planAwsSubnetRouter(props);
    const policy = subnetRouterPolicy(this.plan, props.policy ?? {}, AWS_ROUTER_DEFAULT_TAG);

    awsProvider(this, { region: this.plan.region, defaultTags: { "managed-by": "cdktf", system: "subnet-router" } });
    tailscaleProvider(this);
    const tailnetPolicy = TailnetPolicy.use(this, "tailnet-policy", props.tailnetPolicy, "subnet_router");

    this.subnetRouter = new AwsSubnetRouter(this, "subnet-router", {
      plan: this.plan,
      policy,
      tailnetPolicy,
      keyExpirySeconds: props.keyExpirySeconds,
      tailscaleVersion: props.tailscaleVersion,
      joinTimeout: props.joinTimeout,
      imageUpdates: props.imageUpdates,
      flowLogs: props.flowLogs,
    });

    const r = this.subnetRouter;
    new TerraformOutput(this, "router", {
      description: "The subnet router: tailnet hostname and tag, instance, public and private IPv4, advertised routes, tailscale up flags",
      value: {
        tailnet_hostname: this.plan.hostname,
        tag: policy.tag,
        instance_id: r.router.id,
        public_ipv4: r.router.publicIp,
        private_ipv4: r.router.privateIp,
        advertised_routes: [...this.plan.advertiseRoutes],
        snat_subnet_routes: this.plan.snatSubnetRoutes,
        tailscale_up_flags: routerUpFlags(this.plan, { tag: policy.tag, tailscaleVersion: props.tailscaleVersion, ssh: policy.ssh !== false }),
        ssm_session: `aws ssm start-session --region ${this.plan.region} --target \${${r.router.terraformResourceType}.${r.router.friendlyUniqueId}.id}`,
      },
    });
    new TerraformOutput(this, "target_security_group_id", {
      description: "Attach this security group to what the tailnet should reach (it accepts the router's traffic)",
      value: r.targetSecurityGroup.group.id,
    });
    if (r.target) {
      new TerraformOutput(this, "target", {
        description: "The private target: its address and a URL to fetch through the router from a tailnet client",
        value: {
          private_ipv4: r.target.privateIp,
          probe_url: `http://\${${r.target.terraformResourceType}.${r.target.friendlyUniqueId}.private_ip}:${this.plan.target!.port}/`,
        },
      });
    }
  }
}
