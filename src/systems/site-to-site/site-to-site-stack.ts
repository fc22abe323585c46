import { Password } from "@cdktf/provider-random/lib/password";
import { linodeProvider } from "../../linode/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { Op, TerraformOutput, TerraformStack, TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";
import { awsProvider } from "../../aws/provider";
import { CommonStackProps, configureBackend } from "../../terraform/backend";
import { AwsVpnSide } from "./aws-vpn";
import { RouterConfigDelivery } from "./delivery";
import { VRRP_PASSWORD_LENGTH } from "./keepalived";
import { LinodeVpnSide } from "./linode-side";
import { SiteToSiteOptions, SiteToSitePlan, planSiteToSite } from "./plan";
import { Secret } from "../../terraform/secret";
import { notEverywhereCondition } from "../../validation";

export interface SiteToSiteStackProps extends CommonStackProps, SiteToSiteOptions {}

/**
 * System 4: an HA site-to-site VPN between a Linode VLAN and an AWS VPC. Two Linode routers each
 * hold the two IPsec tunnels of their own AWS VPN connection (strongSwan, route-based), exchange
 * routes with AWS over BGP inside the tunnels and with each other over the VLAN (FRR), and share the
 * VLAN's gateway address by VRRP (keepalived); clients route the VPC through that address. Both
 * clouds and every configuration file come from one plan; AWS's tunnel addresses, keys, inside
 * addresses and ASN flow into the routers' files as references, delivered over SSH once both
 * clouds exist. AWS credentials come from the environment (AWS_PROFILE, ...).
 */
export class SiteToSiteStack extends TerraformStack {
  public readonly plan: SiteToSitePlan;
  public readonly aws: AwsVpnSide;
  public readonly linode: LinodeVpnSide;
  public readonly vrrpPassword: Password;
  public readonly deliveries: readonly RouterConfigDelivery[];

  constructor(scope: Construct, id: string, props: SiteToSiteStackProps = {}) {
    super(scope, id);
    configureBackend(this, props.backend);
    const plan = (this.plan = planSiteToSite(props));

    // --- Providers and inputs: secrets only as sensitive variables (TF_VAR_...), never defaulted.
    linodeProvider(this);
    awsProvider(this, { region: plan.awsRegion, defaultTags: { "managed-by": "cdktf", system: "site-to-site" } });
    new RandomProvider(this, "random");
    new NullProvider(this, "null");

    const adminCidrs = new TerraformVariable(this, "admin_cidrs", {
      type: "list(string)",
      ...(plan.adminCidrs ? { default: [...plan.adminCidrs] } : {}),
      nullable: false,
      description: "Networks allowed to SSH to the routers (the configuration is delivered over SSH)",
      validation: [
        { condition: "${length(var.admin_cidrs) > 0}", errorMessage: "admin_cidrs must list at least one network." },
        { condition: "${alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0))])}", errorMessage: "Every admin_cidrs entry must be a CIDR block such as 203.0.113.0/24." },
        ...(plan.allowSshFromAnywhere
          ? []
          : [
              {
                condition: '${alltrue([for c in var.admin_cidrs : !can(cidrhost(c, 0)) || split("/", c)[1] != "0"])}',
                errorMessage: "admin_cidrs must not open SSH to the whole internet (a /0 network); set allowSshFromAnywhere in the stack's props to mean it.",
              },
              {
                condition: notEverywhereCondition("var.admin_cidrs"),
                errorMessage: "admin_cidrs must not together cover every address (0.0.0.0/1 with 128.0.0.0/1 opens SSH to the whole internet as 0.0.0.0/0 does); set allowSshFromAnywhere in the stack's props to mean it.",
              },
            ]),
      ],
    });
    const sshKeys = new TerraformVariable(this, "ssh_public_keys", {
      type: "list(string)",
      nullable: false,
      description: "Public keys for root on the routers; the delivery connects with the matching private key",
      validation: [
        {
          condition:
            '${length(var.ssh_public_keys) > 0 && alltrue([for k in var.ssh_public_keys : can(regex("^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh.com) ", k))])}',
          errorMessage: "ssh_public_keys must list OpenSSH public keys (ssh-ed25519 …, ssh-rsa …, ecdsa-sha2-… ).",
        },
      ],
    });
    const sshPrivateKey = new TerraformVariable(this, "ssh_private_key", {
      type: "string",
      sensitive: true,
      default: Token.nullValue(),
      description: "Private key for the delivery's SSH; null uses ssh-agent (SSH_AUTH_SOCK)",
    });

    // --- The VRRP password: PASS authentication's 8 characters, letters and digits (see keepalived.ts).
    this.vrrpPassword = new Password(this, "vrrp-password", { length: VRRP_PASSWORD_LENGTH, special: false, upper: true, lower: true, numeric: true });
    this.vrrpPassword.overrideLogicalId("vrrp");

    this.linode = new LinodeVpnSide(this, "linode-side", { plan, adminCidrs: adminCidrs.listValue, authorizedKeys: sshKeys.listValue });
    // The public IPv4 (ipv4 holds only it: no private IP is asked for); ip_address is deprecated.
    const publicIpv4 = (i: { friendlyUniqueId: string }) => `\${one(linode_instance.${i.friendlyUniqueId}.ipv4)}`;
    const ipOf = (key: "router_1" | "router_2") => publicIpv4(this.linode.routers[key]);
    this.aws = new AwsVpnSide(this, "aws-side", { plan, routerPublicIps: { router_1: ipOf("router_1"), router_2: ipOf("router_2") } });

    const vrrp = `\${${this.vrrpPassword.terraformResourceType}.${this.vrrpPassword.friendlyUniqueId}.result}`;
    this.deliveries = plan.routers.map(
      (router) =>
        new RouterConfigDelivery(this, `${router.key}-config`, {
          plan,
          router,
          instanceId: `\${linode_instance.${this.linode.routers[router.key].friendlyUniqueId}.id}`,
          host: ipOf(router.key),
          tunnels: this.aws.tunnelValues(router),
          vrrpPassword: Secret.fromReference(vrrp, "vrrpPassword"),
          sshPrivateKey: Secret.fromVariable(sshPrivateKey, "sshPrivateKey"),
          sshAgent: Token.asString(Op.eq(sshPrivateKey.value, Token.nullValue())),
        }),
    );

    // --- What people need: where things are, never a secret.
    new TerraformOutput(this, "routers", {
      description: "The VPN routers: public IPv4, VLAN address, VRRP role, and their AWS tunnels' outside addresses",
      value: Object.fromEntries(
        plan.routers.map((r) => {
          const c = this.aws.connections[r.key];
          return [
            r.name,
            {
              public_ipv4: ipOf(r.key),
              vlan_address: r.vlanAddress,
              vrrp: `${r.state} (priority ${r.priority})`,
              vpn_connection_id: c.id,
              tunnels: r.tunnels.map((t) => ({ outside_address: `\${aws_vpn_connection.${c.friendlyUniqueId}.tunnel${t.index}_address}`, inside_cidr: t.insideCidr })),
            },
          ];
        }),
      ),
    });
    new TerraformOutput(this, "network", {
      description: "The two sides: the VLAN, its gateway address (VRRP), the AWS VPC",
      value: { vlan: plan.vlan.cidr, vlan_label: plan.vlan.label, virtual_ip: plan.virtualIp, aws_vpc: plan.aws.vpcCidr, aws_vpc_id: this.aws.vpcId },
    });
    if (plan.clients.length) {
      new TerraformOutput(this, "clients", {
        description: "Client Linodes: public IPv4 and VLAN address (they route the AWS VPC through the virtual IP)",
        value: Object.fromEntries(plan.clients.map((c) => [c.label, { public_ipv4: publicIpv4(this.linode.clients[c.key]), vlan_address: c.vlanAddress }])),
      });
    }
    if (this.aws.testHost) {
      new TerraformOutput(this, "test_host", {
        description: "The AWS test host's private address: ping it from a client",
        value: this.aws.testHost.privateIp,
      });
    }
  }
}
