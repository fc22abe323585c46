/**
 * A subnet router into an AWS VPC, as the article builds it by hand: a VPC with a public subnet for
 * the router and private subnets for targets, an internet gateway and route tables, a router
 * security group that accepts UDP 41641 (direct WireGuard) and no SSH, a target security group that
 * accepts what comes from the router, an instance profile for SSM Session Manager, Amazon Linux 2023
 * from the public SSM parameter, and user data that installs Tailscale and persists forwarding.
 *
 * With SNAT off the router forwards tailnet source addresses unchanged, which needs three more
 * things, all derived from the same option: `source_dest_check = false` on the router (EC2 drops
 * forwarded packets that are neither from nor to the instance otherwise), a 100.64.0.0/10 route to
 * the router's network interface in every route table (the hosts' replies), and an ingress rule for
 * 100.64.0.0/10 in the target group (a security-group reference matches the router's own private
 * address only, which SNAT-off traffic doesn't carry).
 */
import { Construct } from "constructs";
import { Instance } from "../../../.gen/providers/aws/instance";
import { Route } from "../../../.gen/providers/aws/route";
import { AmazonLinux2023Image } from "../../aws/amazon-linux";
import { AwsFlowLogsOptions, AwsNetwork } from "../../aws/network";
import { RuledSecurityGroup, SecurityGroupRule } from "../../aws/security-group";
import { SsmInstanceProfile } from "../../aws/ssm-instance-profile";
import { requireUserDataFits } from "../../linode/tailscale-nodes";
import { NodeAuthKeys } from "../../tailnet/auth-keys";
import { NodeSuccession } from "../../tailnet/node-succession";
import { claimAdvertisedRoutes, requireApprovalByPolicyOnly } from "../../tailnet/route-approval";
import { TailnetPolicy } from "../../tailnet/tailnet-policy";
import { resourceAddress } from "../../terraform/address";
import { base64gzipTemplate, escapeTerraformTemplate, fillTemplateSlots } from "../../terraform/template";
import { fail, requireOneOf } from "../../validation";
import { AwsSubnetRouterPlan } from "./plan";
import { SubnetRouterPolicy } from "./router-policy";
import { renderRouterScript, scriptFingerprint } from "./router-script";
import { renderTargetUserData } from "./target-probe";

export const AWS_ROUTER_DEFAULT_TAG = "tag:aws-subnet-router";
export const TAILSCALE_UDP_PORT = 41641;

export interface AwsSubnetRouterProps {
  readonly plan: AwsSubnetRouterPlan;
  readonly policy: SubnetRouterPolicy;
  readonly tailnetPolicy: TailnetPolicy;
  readonly keyExpirySeconds?: number;
  readonly tailscaleVersion?: string;
  readonly joinTimeout?: string;
  /**
   * A new Amazon Linux 2023 release changes the SSM parameter. "ignore": the router keeps the image
   * it was built from until it is replaced for another reason (no surprise rebuild on a routine
   * apply). "replace": the next apply after a release rebuilds the router on it. @default "ignore"
   */
  readonly imageUpdates?: "ignore" | "replace";
  /** VPC flow logs of the router's VPC; `false` for none. @default on (AwsNetwork's defaults) */
  readonly flowLogs?: AwsFlowLogsOptions | false;
}

const KEY_SLOT = "SUBNET_ROUTER_AUTH_KEY_SLOT";

export class AwsSubnetRouter extends Construct {
  public readonly network: AwsNetwork;
  public readonly routerSecurityGroup: RuledSecurityGroup;
  /** Attach to anything in the VPC the tailnet should reach (RDS, instances): it accepts the router's traffic. */
  public readonly targetSecurityGroup: RuledSecurityGroup;
  public readonly image: AmazonLinux2023Image;
  public readonly instanceProfile: SsmInstanceProfile;
  public readonly authKey: NodeAuthKeys;
  public readonly succession: NodeSuccession;
  public readonly router: Instance;
  /** The VPC routes back to the tailnet through the router (SNAT off only). */
  public readonly returnRoutes: readonly Route[];
  public readonly target?: Instance;

  constructor(scope: Construct, id: string, props: AwsSubnetRouterProps) {
    super(scope, id);
    const plan = props.plan;
    const tag = props.policy.tag;
    const imageUpdates = requireOneOf("imageUpdates", props.imageUpdates ?? "ignore", ["ignore", "replace"] as const);
    props.tailnetPolicy.contribute(this, props.policy.contribution);
    // Another stack advertising an overlapping route into the same tailnet fails here, naming both.
    claimAdvertisedRoutes(this, props.tailnetPolicy.tailnet, plan.advertiseRoutes);
    requireApprovalByPolicyOnly(this);
    const name = plan.hostname;

    this.network = new AwsNetwork(this, "network", {
      name,
      region: plan.region,
      cidr: plan.vpcCidr,
      availabilityZone: plan.availabilityZone,
      publicSubnets: [plan.publicSubnet],
      privateSubnets: plan.privateSubnets,
      flowLogs: props.flowLogs,
      fields: { name: "hostname (the name of the router's AWS resources)", cidr: "vpcCidr", publicSubnets: "publicSubnet", privateSubnets: "privateSubnets" },
    });
    const vpcId = this.network.vpc.id;
    const allOut: SecurityGroupRule = { name: "all", description: "Everything out", protocol: "-1", cidrIpv4: "0.0.0.0/0" };
    this.routerSecurityGroup = new RuledSecurityGroup(this, "router-sg", {
      name: `${name}-router`,
      description: "Subnet router: direct WireGuard from peers; no SSH (SSM Session Manager and Tailscale SSH instead)",
      vpcId,
      resourceName: "router",
      ingress: [{ name: "tailscale", description: "Tailscale direct connections (WireGuard)", protocol: "udp", fromPort: TAILSCALE_UDP_PORT, toPort: TAILSCALE_UDP_PORT, cidrIpv4: "0.0.0.0/0" }],
      egress: [allOut],
    });
    this.targetSecurityGroup = new RuledSecurityGroup(this, "target-sg", {
      name: `${name}-targets`,
      description: "Reachable from the tailnet through the subnet router",
      vpcId,
      resourceName: "targets",
      ingress: [
        { name: "from-router", description: "Traffic the subnet router forwards (SNAT: the address of the router)", protocol: "-1", securityGroupId: this.routerSecurityGroup.group.id },
        ...(plan.snatSubnetRoutes
          ? []
          : [{ name: "from-tailnet", description: "Tailnet clients through the subnet router (SNAT off)", protocol: "-1" as const, cidrIpv4: plan.returnRoutes[0] }]),
      ],
      egress: [allOut],
    });

    this.image = new AmazonLinux2023Image(this, "al2023", { architecture: plan.architecture });
    this.instanceProfile = new SsmInstanceProfile(this, "ssm", { name: `${name}-ssm-${plan.region}`, region: plan.region, resourceName: "router_ssm" });
    this.authKey = new NodeAuthKeys(this, "key", {
      source: { kind: "managed", policy: props.tailnetPolicy, expirySeconds: props.keyExpirySeconds },
      tags: [tag],
      // At most 50 characters (the provider's limit for key descriptions).
      description: `${name.slice(0, 40)} bootstrap`,
      resourceName: "router",
    });

    const script = renderRouterScript(plan, { tag, authKey: KEY_SLOT, tailscaleVersion: props.tailscaleVersion, ssh: props.policy.ssh !== false });
    requireUserDataFits(script);
    const routerSubnet = this.network.publicSubnets[plan.publicSubnet.name];
    this.succession = new NodeSuccession(this, "succession", {
      hostname: name,
      tags: [tag],
      resourceName: "router",
      joinTimeout: props.joinTimeout,
      replaceTriggers: {
        // Inputs that replace the instance (aws_instance forces a new one for these), so the new
        // one gets a fresh key. The key and its user data follow from this.
        script: scriptFingerprint(script),
        subnet: routerSubnet.id,
        ...(plan.routerAddress ? { address: plan.routerAddress } : {}),
        ...(imageUpdates === "replace" ? { image: this.image.imageId } : {}),
      },
    });
    this.succession.renewKey(this.authKey.keys[0]);

    this.router = new Instance(this, "router", {
      ami: this.image.imageId,
      instanceType: plan.instanceType,
      subnetId: routerSubnet.id,
      privateIp: plan.routerAddress,
      // A public address in the public subnet: peers reach it directly over UDP 41641.
      associatePublicIpAddress: true,
      vpcSecurityGroupIds: [this.routerSecurityGroup.group.id],
      iamInstanceProfile: this.instanceProfile.profile.name,
      // Only SNAT-off forwarding needs this: with SNAT every packet the router sends is its own.
      sourceDestCheck: plan.snatSubnetRoutes,
      userDataBase64: base64gzipTemplate(fillTemplateSlots(script, { [KEY_SLOT]: this.authKey.singleKey!.expression })),
      // A new script (or key) must reach a new instance: cloud-init runs user data on first boot only.
      userDataReplaceOnChange: true,
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true },
      tags: { Name: name },
      lifecycle: {
        replaceTriggeredBy: [resourceAddress(this.succession.revision)],
        ...(imageUpdates === "ignore" ? { ignoreChanges: ["ami"] } : {}),
      },
    });
    this.router.overrideLogicalId("router");
    this.succession.follow(this.router);

    const tables = [this.network.publicRouteTable, this.network.privateRouteTable].filter((t) => t !== undefined);
    this.returnRoutes = plan.returnRoutes.flatMap((destination, i) =>
      tables.map(
        (table) => {
          const route = new Route(this, `return-${i}-${table!.node.id}`, {
            routeTableId: table!.id,
            destinationCidrBlock: destination,
            networkInterfaceId: this.router.primaryNetworkInterfaceId,
          });
          route.overrideLogicalId(`${table!.friendlyUniqueId}_tailnet${i ? `_${i}` : ""}`);
          return route;
        },
      ),
    );

    if (plan.target) {
      const t = plan.target;
      const subnet = this.network.privateSubnets[t.subnetName];
      if (!subnet) fail("target.subnet", `${t.subnetName} is not a private subnet`);
      this.target = new Instance(this, "target", {
        ami: this.image.imageId,
        instanceType: t.instanceType,
        subnetId: subnet.id,
        privateIp: t.address,
        associatePublicIpAddress: false,
        vpcSecurityGroupIds: [this.targetSecurityGroup.group.id],
        userDataBase64: base64gzipTemplate(escapeTerraformTemplate(renderTargetUserData(t.port))),
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true },
        tags: { Name: `${name}-target` },
        lifecycle: imageUpdates === "ignore" ? { ignoreChanges: ["ami"] } : undefined,
      });
      this.target.overrideLogicalId("target");
    }
  }
}
