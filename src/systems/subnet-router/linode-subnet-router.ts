/**
 * A subnet router into a Linode VPC: the VPC and its subnets, a router Linode with a public
 * interface (the tailnet's side, behind a Cloud Firewall that accepts UDP 41641) and a VPC
 * interface (the network's side), joined to the tailnet with its own tag and routes, and optionally
 * a private target Linode with a VPC interface only.
 */
import { Token } from "cdktf";
import { Construct } from "constructs";
import { Instance } from "../../../.gen/providers/linode/instance";
import { NodeFirewall } from "../../linode/node-firewall";
import { requireUserDataFits } from "../../linode/tailscale-nodes";
import { LinodeVpc, publicInterface, vpcInterface } from "../../linode/vpc";
import { NodeAuthKeys } from "../../tailnet/auth-keys";
import { NodeSuccession } from "../../tailnet/node-succession";
import { claimAdvertisedRoutes, requireApprovalByPolicyOnly } from "../../tailnet/route-approval";
import { TailnetPolicy } from "../../tailnet/tailnet-policy";
import { resourceAddress } from "../../terraform/address";
import { base64gzipTemplate, escapeTerraformTemplate, fillTemplateSlots } from "../../terraform/template";
import { claimLinodeLabel } from "../../validation";
import { LinodeSubnetRouterPlan } from "./plan";
import { SubnetRouterPolicy } from "./router-policy";
import { renderRouterScript, scriptFingerprint } from "./router-script";
import { renderTargetUserData } from "./target-probe";

export const LINODE_ROUTER_DEFAULT_TAG = "tag:linode-subnet-router";

export interface LinodeSubnetRouterProps {
  readonly plan: LinodeSubnetRouterPlan;
  /** The router's part of the tailnet policy (subnetRouterPolicy). */
  readonly policy: SubnetRouterPolicy;
  /** The tailnet policy it contributes to and mints its key under. */
  readonly tailnetPolicy: TailnetPolicy;
  /** Lifetime of the router's auth key, seconds. @default 3600 */
  readonly keyExpirySeconds?: number;
  readonly tailscaleVersion?: string;
  /** How long an apply waits for a (re)created router to join. @default "15m" */
  readonly joinTimeout?: string;
}

const KEY_SLOT = "SUBNET_ROUTER_AUTH_KEY_SLOT";

export class LinodeSubnetRouter extends Construct {
  public readonly vpc: LinodeVpc;
  public readonly firewall: NodeFirewall;
  public readonly authKey: NodeAuthKeys;
  public readonly succession: NodeSuccession;
  public readonly router: Instance;
  public readonly target?: Instance;

  constructor(scope: Construct, id: string, props: LinodeSubnetRouterProps) {
    super(scope, id);
    const plan = props.plan;
    const tag = props.policy.tag;
    props.tailnetPolicy.contribute(this, props.policy.contribution);
    // Another stack advertising an overlapping route into the same tailnet fails here, naming both.
    claimAdvertisedRoutes(this, props.tailnetPolicy.tailnet, plan.advertiseRoutes);
    requireApprovalByPolicyOnly(this);

    this.vpc = new LinodeVpc(this, "vpc", {
      label: plan.vpcLabel,
      labelField: "vpcLabel",
      region: plan.region,
      description: `Reached from the tailnet through ${plan.hostname}`,
      subnets: plan.subnets,
    });
    this.firewall = new NodeFirewall(this, "firewall", {
      label: `${plan.hostname.slice(0, 29)}-fw`,
      labelField: 'firewall label (hostname + "-fw")',
      // No SSH at all: the script arrives as user data, and admins use Tailscale SSH.
      sshSourceCidrs: [],
      resourceName: "router",
    });

    this.authKey = new NodeAuthKeys(this, "key", {
      source: { kind: "managed", policy: props.tailnetPolicy, expirySeconds: props.keyExpirySeconds },
      tags: [tag],
      // At most 50 characters (the provider's limit for key descriptions).
      description: `${plan.hostname.slice(0, 40)} bootstrap`,
      resourceName: "router",
    });

    const script = renderRouterScript(plan, { tag, authKey: KEY_SLOT, tailscaleVersion: props.tailscaleVersion, ssh: props.policy.ssh !== false });
    requireUserDataFits(script);
    this.succession = new NodeSuccession(this, "succession", {
      hostname: plan.hostname,
      tags: [tag],
      resourceName: "router",
      joinTimeout: props.joinTimeout,
      replaceTriggers: {
        // What replaces the instance (metadata.user_data, image, region and firewall_id force a new
        // Linode), so a new one gets a fresh key. The key itself is left out: it follows from this.
        script: scriptFingerprint(script),
        image: plan.image,
        region: plan.region,
        firewall: this.firewall.firewall.id,
      },
    });
    this.succession.renewKey(this.authKey.keys[0]);

    claimLinodeLabel(this, "instance", plan.hostname, "hostname (the router's Linode label)");
    this.router = new Instance(this, "router", {
      label: plan.hostname,
      region: plan.region,
      type: plan.instanceType,
      image: plan.image,
      tags: ["tailscale", "subnet-router"],
      privateIp: false,
      firewallId: Token.asNumber(this.firewall.firewall.id),
      // eth0 public (default route, WireGuard to peers), eth1 in the VPC.
      interface: [
        publicInterface(true),
        vpcInterface({ subnetId: this.vpc.subnetId(plan.routerSubnetName), address: plan.routerAddress }),
      ],
      metadata: [{ userData: base64gzipTemplate(fillTemplateSlots(script, { [KEY_SLOT]: this.authKey.singleKey!.expression })) }],
      // A changed script replaces the router (with a new key, and the old device removed first).
      lifecycle: { replaceTriggeredBy: [resourceAddress(this.succession.revision)] },
    });
    this.router.overrideLogicalId("router");
    this.succession.follow(this.router);

    if (plan.target) {
      const t = plan.target;
      // At most 50 characters (the provider's limit for instance labels).
      const targetLabel = `${plan.hostname.slice(0, 43)}-target`;
      claimLinodeLabel(this, "instance", targetLabel, 'target label (hostname + "-target")');
      this.target = new Instance(this, "target", {
        label: targetLabel,
        region: plan.region,
        type: t.instanceType,
        image: plan.image,
        tags: ["subnet-router-target"],
        privateIp: false,
        // VPC only: no public interface, so nothing but the VPC (and the router) reaches it.
        interface: [vpcInterface({ subnetId: this.vpc.subnetId(t.subnetName), address: t.address, primary: true })],
        metadata: [{ userData: base64gzipTemplate(escapeTerraformTemplate(renderTargetUserData(t.port))) }],
      });
      this.target.overrideLogicalId("target");
    }
  }
}
