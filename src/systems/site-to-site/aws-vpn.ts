/**
 * AWS's side of the HA VPN: a virtual private gateway attached to the VPC (a new one from the
 * shared AwsNetwork block, or an existing one), a customer gateway per Linode router (its public
 * IPv4, the routers' ASN), and a VPN connection per customer gateway with BGP routing, explicit
 * inside /30s (known at plan time) and tunnel options set to exactly what the routers are configured
 * with; the VPN gateway propagates the routes BGP learns into the VPC's route tables. Optionally a
 * private test host that accepts what comes from the VLAN.
 */
import { Construct } from "constructs";
import { CustomerGateway } from "../../../.gen/providers/aws/customer-gateway";
import { Instance } from "../../../.gen/providers/aws/instance";
import { VpnConnection, VpnConnectionConfig } from "../../../.gen/providers/aws/vpn-connection";
import { VpnGateway } from "../../../.gen/providers/aws/vpn-gateway";
import { VpnGatewayAttachment } from "../../../.gen/providers/aws/vpn-gateway-attachment";
import { VpnGatewayRoutePropagation } from "../../../.gen/providers/aws/vpn-gateway-route-propagation";
import { AmazonLinux2023Image, architectureOf } from "../../aws/amazon-linux";
import { AwsNetwork } from "../../aws/network";
import { RuledSecurityGroup } from "../../aws/security-group";
import { ENCRYPTION_ALGORITHMS, INTEGRITY_ALGORITHMS, RouterPlan, SiteToSitePlan } from "./plan";
import { TunnelValues } from "./values";
import { customerGatewayAsn } from "../../validation";

export interface AwsVpnSideProps {
  readonly plan: SiteToSitePlan;
  /** Each router's public IPv4 (an expression), by router key: the customer gateways' addresses. */
  readonly routerPublicIps: Readonly<Record<RouterPlan["key"], string>>;
}

/** `${type.name.attribute}` of a resource, as a string Terraform reads as a reference. */
function ref(resource: { terraformResourceType: string; friendlyUniqueId: string }, attribute: string): string {
  return `\${${resource.terraformResourceType}.${resource.friendlyUniqueId}.${attribute}}`;
}

export class AwsVpnSide extends Construct {
  /** The VPC this stack created (undefined with an existing VPC). */
  public readonly network?: AwsNetwork;
  public readonly vpcId: string;
  public readonly vpnGateway: VpnGateway;
  public readonly attachment: VpnGatewayAttachment;
  public readonly customerGateways: Readonly<Record<RouterPlan["key"], CustomerGateway>>;
  public readonly connections: Readonly<Record<RouterPlan["key"], VpnConnection>>;
  public readonly propagations: readonly VpnGatewayRoutePropagation[];
  public readonly testHostSecurityGroup?: RuledSecurityGroup;
  public readonly testHost?: Instance;

  constructor(scope: Construct, id: string, props: AwsVpnSideProps) {
    super(scope, id);
    const plan = props.plan;
    const name = plan.namePrefix;
    const aws = plan.aws;

    let routeTableIds: string[];
    if (aws.mode === "new") {
      this.network = new AwsNetwork(this, "network", {
        name,
        region: plan.awsRegion,
        cidr: aws.vpcCidr,
        availabilityZone: aws.availabilityZone,
        privateSubnets: [{ name: "private", cidr: aws.subnetCidr }],
        flowLogs: aws.flowLogs,
        fields: { cidr: "aws.vpcCidr", privateSubnets: "aws.subnetCidr", flowLogs: "aws.flowLogs" },
      });
      this.vpcId = this.network.vpc.id;
      routeTableIds = [this.network.privateRouteTable!.id];
    } else {
      this.vpcId = aws.vpcId;
      routeTableIds = [...aws.routeTableIds];
    }

    this.vpnGateway = new VpnGateway(this, "vgw", { amazonSideAsn: String(plan.amazonSideAsn), tags: { Name: `${name}-vgw` } });
    this.vpnGateway.overrideLogicalId("vgw");
    this.attachment = new VpnGatewayAttachment(this, "vgw-attachment", { vpcId: this.vpcId, vpnGatewayId: this.vpnGateway.id });
    this.attachment.overrideLogicalId("vgw");
    this.propagations = routeTableIds.map((rt, i) => {
      const p = new VpnGatewayRoutePropagation(this, `propagation-${i}`, {
        routeTableId: rt,
        vpnGatewayId: this.vpnGateway.id,
        // Propagation needs the gateway attached to the table's VPC.
        dependsOn: [this.attachment],
      });
      p.overrideLogicalId(routeTableIds.length === 1 ? "vgw" : `vgw_${i}`);
      return p;
    });

    const cgws = {} as Record<RouterPlan["key"], CustomerGateway>;
    const conns = {} as Record<RouterPlan["key"], VpnConnection>;
    for (const router of plan.routers) {
      const cgw = new CustomerGateway(this, `cgw-${router.key}`, {
        // A 32-bit ASN goes in bgp_asn_extended: bgp_asn is read into a signed 32-bit integer at create.
        ...customerGatewayAsn(plan.customerAsn),
        ipAddress: props.routerPublicIps[router.key],
        type: "ipsec.1",
        tags: { Name: `${router.name}` },
      });
      cgw.overrideLogicalId(router.key);
      cgws[router.key] = cgw;
      const conn = new VpnConnection(this, `vpn-${router.key}`, {
        customerGatewayId: cgw.id,
        vpnGatewayId: this.vpnGateway.id,
        type: "ipsec.1",
        staticRoutesOnly: false,
        ...tunnelOptions(plan, router),
        tags: { Name: `${router.name}` },
      });
      conn.overrideLogicalId(router.key);
      conns[router.key] = conn;
    }
    this.customerGateways = cgws;
    this.connections = conns;

    if (plan.testHost && this.network) {
      const t = plan.testHost;
      this.testHostSecurityGroup = new RuledSecurityGroup(this, "test-host-sg", {
        name: `${name}-test-host`,
        description: "Site-to-site test host: everything from the Linode VLAN",
        vpcId: this.vpcId,
        resourceName: "test_host",
        ingress: [{ name: "from-vlan", description: "The Linode VLAN, through the VPN", protocol: "-1", cidrIpv4: plan.vlan.cidr }],
        egress: [{ name: "all", description: "Everything out", protocol: "-1", cidrIpv4: "0.0.0.0/0" }],
      });
      const image = new AmazonLinux2023Image(this, "al2023", { architecture: architectureOf(t.instanceType) });
      this.testHost = new Instance(this, "test-host", {
        ami: image.imageId,
        instanceType: t.instanceType,
        subnetId: this.network.privateSubnets.private.id,
        privateIp: t.address,
        associatePublicIpAddress: false,
        vpcSecurityGroupIds: [this.testHostSecurityGroup.group.id],
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { encrypted: true },
        tags: { Name: `${name}-test-host` },
        // A new Amazon Linux release must not rebuild a test host on a routine apply.
        lifecycle: { ignoreChanges: ["ami"] },
      });
      this.testHost.overrideLogicalId("test_host");
    }
  }

  /** What AWS assigned to `router`'s VPN connection, as Terraform references. */
  tunnelValues(router: RouterPlan): readonly [TunnelValues, TunnelValues] {
    const c = this.connections[router.key];
    return router.tunnels.map((t) => ({
      outsideAddress: ref(c, `tunnel${t.index}_address`),
      presharedKey: ref(c, `tunnel${t.index}_preshared_key`),
      insideCidr: ref(c, `tunnel${t.index}_inside_cidr`),
      cgwInsideAddress: ref(c, `tunnel${t.index}_cgw_inside_address`),
      vgwInsideAddress: ref(c, `tunnel${t.index}_vgw_inside_address`),
      bgpAsn: ref(c, `tunnel${t.index}_bgp_asn`),
    })) as unknown as [TunnelValues, TunnelValues];
  }
}

/** Both tunnels' options: the routers' proposal, lifetimes, rekey margin, DPD and startup, as the plan has them. */
export function tunnelOptions(plan: SiteToSitePlan, router: RouterPlan): Partial<VpnConnectionConfig> {
  const ip = plan.ipsec;
  const opts: Record<string, unknown> = {};
  for (const t of router.tunnels) {
    const p = `tunnel${t.index}`;
    Object.assign(opts, {
      [`${p}InsideCidr`]: t.insideCidr,
      [`${p}IkeVersions`]: ["ikev2"],
      [`${p}Phase1EncryptionAlgorithms`]: [ENCRYPTION_ALGORITHMS[ip.encryption]],
      [`${p}Phase1IntegrityAlgorithms`]: [INTEGRITY_ALGORITHMS[ip.integrity]],
      [`${p}Phase1DhGroupNumbers`]: [ip.dhGroup],
      [`${p}Phase2EncryptionAlgorithms`]: [ENCRYPTION_ALGORITHMS[ip.encryption]],
      [`${p}Phase2IntegrityAlgorithms`]: [INTEGRITY_ALGORITHMS[ip.integrity]],
      [`${p}Phase2DhGroupNumbers`]: [ip.dhGroup],
      [`${p}Phase1LifetimeSeconds`]: ip.ikeLifetimeSeconds,
      [`${p}Phase2LifetimeSeconds`]: ip.childLifetimeSeconds,
      [`${p}RekeyMarginTimeSeconds`]: ip.rekeyMarginSeconds,
      [`${p}RekeyFuzzPercentage`]: ip.rekeyFuzzPercent,
      [`${p}DpdTimeoutSeconds`]: ip.awsDpdTimeoutSeconds,
      // AWS clears a dead tunnel and waits: the routers initiate (start_action, close_action, dpd_action).
      [`${p}DpdTimeoutAction`]: "clear",
      [`${p}StartupAction`]: "add",
    });
  }
  return opts as Partial<VpnConnectionConfig>;
}

