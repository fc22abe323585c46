import { Fn, Op, RemoteExecProvisioner, SSHProvisionerConnection, TerraformCount } from "cdktf";
import { Construct } from "constructs";
import { Instance } from "../../../.gen/providers/linode/instance";
import { articleProvisionCommands } from "./article-commands";
import { regionSlugs } from "../../catalog/regions";
import { fail, requireLinodeLabel, requireLinodeTags } from "../../validation";
import { requireSecret, Secret } from "../../terraform/secret";

/**
 * Inputs of the article's `linode_instance.vpn`. Every value is a Terraform expression (usually a
 * variable reference) so the synthesized JSON keeps the article's late binding: changing
 * `var.regions` at plan time changes the fleet without re-synthesizing.
 */
export interface ArticleVpnInstancesProps {
  /** List expression of region slugs; one instance per element. */
  readonly regions: string[];
  readonly image: string;
  readonly instanceType: string;
  readonly group: string;
  readonly authorizedKey: string;
  /** A reference (the article's random_string), never a password typed in. */
  readonly rootPassword: Secret;
  /** A sensitive variable, never the key itself. */
  readonly tailscaleAuthKey: Secret;
  /** Label/hostname prefix. @default "tailscale-multi-" */
  readonly namePrefix?: string;
  /** @default 256 (MB), as in the article */
  readonly swapSize?: number;
  /** @default ["tailscale"] */
  readonly tags?: string[];
  /** Logical ID of the resource in the synthesized JSON. @default "vpn" */
  readonly resourceName?: string;
}

/**
 * The article's fleet: `count = length(var.regions)` instances, each installing Tailscale and iperf3
 * over SSH with a password connection. Parity first; the production `mesh` stack fixes its faults.
 */
export class ArticleVpnInstances extends Construct {
  public readonly instances: Instance;

  constructor(scope: Construct, id: string, props: ArticleVpnInstancesProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? "tailscale-multi-";
    if (!/^[a-z0-9][a-z0-9-]*$/.test(prefix)) {
      fail("namePrefix", `${JSON.stringify(prefix)} must be lower-case letters, digits and dashes`);
    }
    // The regions are a Terraform list, known at plan: the label of the longest catalog slug must fit.
    const longest = regionSlugs().reduce((a, b) => (b.length > a.length ? b : a));
    requireLinodeLabel(`namePrefix (label ${JSON.stringify(prefix + longest)})`, `${prefix}${longest}`);

    if (props.tags !== undefined) requireLinodeTags("tags", props.tags);
    const rootPassword = requireSecret("rootPassword", props.rootPassword);
    const tailscaleAuthKey = requireSecret("tailscaleAuthKey", props.tailscaleAuthKey);
    const count = TerraformCount.of(Fn.lengthOf(props.regions));
    // element() with a modulo, as the article writes it: harmless for count == length, kept for parity.
    const region = Fn.element(props.regions, Op.mod(count.index, Fn.lengthOf(props.regions)));
    const name = `${prefix}${region}`;

    const connection: SSHProvisionerConnection = {
      type: "ssh",
      user: "root",
      password: rootPassword,
      host: "${self.ip_address}",
    };
    const provisioner: RemoteExecProvisioner = {
      type: "remote-exec",
      inline: articleProvisionCommands({ hostname: name, authKey: tailscaleAuthKey }),
      connection,
    };

    this.instances = new Instance(this, "instance", {
      count,
      label: name,
      image: props.image,
      region,
      type: props.instanceType,
      authorizedKeys: [props.authorizedKey],
      group: props.group,
      swapSize: props.swapSize ?? 256,
      rootPass: rootPassword,
      privateIp: false,
      tags: props.tags ?? ["tailscale"],
      provisioners: [provisioner],
    });
    this.instances.overrideLogicalId(props.resourceName ?? "vpn");
  }
}
