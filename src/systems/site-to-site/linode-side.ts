/**
 * The Linode side of the HA VPN: two routers (public eth0, VLAN eth1 with their IPAM addresses)
 * behind a Cloud Firewall that accepts IKE and NAT-T (UDP 500 and 4500), ICMP, and SSH from the
 * admin networks only (the configuration is delivered over SSH once AWS's side exists); and client
 * Linodes on the VLAN, with Network Helper off and a first-boot script that installs their route to
 * the AWS VPC through the virtual IP, behind a firewall that accepts only ICMP.
 */
import { Token } from "cdktf";
import { Construct } from "constructs";
import { Instance } from "../../../.gen/providers/linode/instance";
import { NodeFirewall } from "../../linode/node-firewall";
import { requireUserDataFits } from "../../linode/tailscale-nodes";
import { publicInterface, vlanInterface } from "../../linode/vpc";
import { base64gzipTemplate, escapeTerraformTemplate } from "../../terraform/template";
import { claimLinodeLabel, prefixLength } from "../../validation";
import { renderClientUserData } from "./client";
import { ClientPlan, RouterPlan, SiteToSitePlan } from "./plan";

export interface LinodeVpnSideProps {
  readonly plan: SiteToSitePlan;
  /** Networks allowed to SSH to the routers (a literal list or a list expression). */
  readonly adminCidrs: string[];
  /** Public keys for root on the routers (a list expression). */
  readonly authorizedKeys: string[];
}

/** UDP ports of IKE and of ESP in UDP (NAT-T). */
export const IKE_PORTS = "500,4500";

export class LinodeVpnSide extends Construct {
  public readonly routerFirewall: NodeFirewall;
  public readonly clientFirewall?: NodeFirewall;
  public readonly routers: Readonly<Record<RouterPlan["key"], Instance>>;
  public readonly clients: Readonly<Record<string, Instance>>;

  constructor(scope: Construct, id: string, props: LinodeVpnSideProps) {
    super(scope, id);
    const plan = props.plan;
    const vlanLen = prefixLength(plan.vlan.cidr);

    this.routerFirewall = new NodeFirewall(this, "router-firewall", {
      label: `${plan.namePrefix}-routers`,
      labelField: 'router firewall label (namePrefix + "-routers")',
      sshSourceCidrs: props.adminCidrs,
      allowSshFromAnywhere: plan.allowSshFromAnywhere,
      tailscaleUdpPort: false,
      extraInbound: [
        // From anywhere: AWS assigns the tunnels' addresses when the VPN connections are created,
        // after the routers (the customer gateways need the routers' addresses), and a firewall
        // attached at creation can't name them. charon answers only the peers it is configured for.
        { label: "ike-nat-t", action: "ACCEPT", protocol: "UDP", ports: IKE_PORTS, ipv4: ["0.0.0.0/0"] },
      ],
      resourceName: "routers",
    });

    const routers = {} as Record<RouterPlan["key"], Instance>;
    plan.routers.forEach((r, i) => claimLinodeLabel(this, "instance", r.name, `routers[${i}].name`));
    // A client named like a router ("router-1" beside "s2s-router-1") would be a second Linode with one label.
    plan.clients.forEach((c, i) => claimLinodeLabel(this, "instance", c.label, `clients[${i}] label (namePrefix + name)`));
    for (const r of plan.routers) {
      const instance = new Instance(this, r.key, {
        label: r.name,
        region: plan.linodeRegion,
        type: plan.routerInstanceType,
        image: plan.routerImage,
        tags: ["site-to-site", "vpn-router"],
        privateIp: false,
        authorizedKeys: props.authorizedKeys,
        // Attached at creation: the router is never reachable without it.
        firewallId: Token.asNumber(this.routerFirewall.firewall.id),
        // eth0 public (default route, IKE to AWS), eth1 on the VLAN (Network Helper sets the address).
        interface: [publicInterface(true), vlanInterface({ label: plan.vlan.label, ipamAddress: `${r.vlanAddress}/${vlanLen}` })],
      });
      instance.overrideLogicalId(r.key);
      routers[r.key] = instance;
    }
    this.routers = routers;

    const clients: Record<string, Instance> = {};
    if (plan.clients.length) {
      this.clientFirewall = new NodeFirewall(this, "client-firewall", {
        label: `${plan.namePrefix}-clients`,
        labelField: 'client firewall label (namePrefix + "-clients")',
        sshSourceCidrs: [],
        tailscaleUdpPort: false,
        resourceName: "clients",
      });
      for (const c of plan.clients) clients[c.key] = this.client(plan, c, vlanLen);
    }
    this.clients = clients;
  }

  private client(plan: SiteToSitePlan, c: ClientPlan, vlanLen: number): Instance {
    const script = renderClientUserData(plan, c);
    requireUserDataFits(script);
    const instance = new Instance(this, c.key, {
      label: c.label,
      region: plan.linodeRegion,
      type: c.instanceType,
      image: plan.clientImage,
      tags: ["site-to-site", "vpn-client"],
      privateIp: false,
      firewallId: Token.asNumber(this.clientFirewall!.firewall.id),
      // Network Helper rewrites network files at every boot; the client's route file must stay.
      networkHelper: false,
      interface: [publicInterface(true), vlanInterface({ label: plan.vlan.label, ipamAddress: `${c.vlanAddress}/${vlanLen}` })],
      // A new route file replaces the client (user data runs at first boot only).
      metadata: [{ userData: base64gzipTemplate(escapeTerraformTemplate(script)) }],
    });
    instance.overrideLogicalId(c.key);
    return instance;
  }
}
