import { Fn, TerraformStack, TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import { LinodeProvider } from "../../../.gen/providers/linode/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { StringResource } from "@cdktf/provider-random/lib/string-resource";
import { ARTICLE_REGIONS } from "../../catalog/regions";
import { ArticleVpnInstances } from "./article-vpn-instances";
import { CommonStackProps, configureBackend } from "../../terraform/backend";
import { Secret } from "../../terraform/secret";

export interface ArticleStackProps extends CommonStackProps {
  /** Default of `var.regions`. @default the article's 14 regions, in its order */
  readonly regions?: readonly string[];
  /** Default of `var.public_ssh_key`. @default the article's placeholder path */
  readonly publicSshKeyPath?: string;
}

/**
 * System 1 of the brief as the article wrote it: the same variables, `random_string.password`, and
 * `linode_instance.vpn` with count over regions. Kept for parity (proven by the HCL equivalence test);
 * the `mesh` stack is the one to run in production.
 */
export class ArticleStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ArticleStackProps = {}) {
    super(scope, id);
    configureBackend(this, props.backend);

    // Secrets are marked sensitive (the article's are not) so plans and provisioner logs mask them.
    const tailscaleAuthKey = new TerraformVariable(this, "tailscale_auth_key", { sensitive: true });
    const linodeToken = new TerraformVariable(this, "linode_token", { sensitive: true });
    new TerraformVariable(this, "node_count", { default: 1 });
    const regions = new TerraformVariable(this, "regions", {
      type: "list(string)",
      default: [...(props.regions ?? ARTICLE_REGIONS)],
    });
    const vpn = new TerraformVariable(this, "vpn", {
      default: { image: "linode/ubuntu22.04", type: "g6-standard-8", group: "vpn" },
    });
    const publicSshKey = new TerraformVariable(this, "public_ssh_key", {
      default: props.publicSshKeyPath ?? "~/.ssh/linode/xxxxxxxxxx.pub",
    });

    new LinodeProvider(this, "linode", { token: linodeToken.stringValue });
    new RandomProvider(this, "random");

    const password = new StringResource(this, "password", {
      length: 32,
      special: true,
      upper: true,
      lower: true,
      numeric: true,
    });

    const vpnObject = (key: string) => Fn.lookupNested(vpn.value, [key]);
    new ArticleVpnInstances(this, "vpn_instances", {
      regions: regions.listValue,
      image: vpnObject("image"),
      instanceType: vpnObject("type"),
      group: vpnObject("group"),
      authorizedKey: Fn.chomp(Fn.file(publicSshKey.stringValue)),
      rootPassword: Secret.fromAttribute(password, "result", "rootPassword"),
      tailscaleAuthKey: Secret.fromVariable(tailscaleAuthKey, "tailscaleAuthKey"),
    });
  }
}
