import { TerraformLocal, TerraformOutput, TerraformStack } from "cdktf";
import { linodeProvider } from "../../linode/provider";
import { Construct } from "constructs";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { NodeSpec, nodesFromRegions } from "../../linode/tailscale-nodes";
import { tailscaleProvider } from "../../tailnet/provider";
import { TailnetPolicy, TailnetPolicyProps } from "../../tailnet/tailnet-policy";
import { CommonStackProps, configureBackend } from "../../terraform/backend";
import { fail } from "../../validation";
import { ErlangCluster, ErlangClusterProps } from "./erlang-cluster";
import { EPMD_PORT } from "./render";

export interface ErlangClusterStackProps extends CommonStackProps, Omit<ErlangClusterProps, "nodes" | "tailnetPolicy"> {
  /** Regions to place nodes in (`nodesPerRegion` each). @default ["ap-northeast"] (Tokyo, as the article) */
  readonly regions?: readonly string[];
  /** Nodes per region; names become `<region>` for 1, `<region>-<n>` for more. @default 3 */
  readonly nodesPerRegion?: number;
  /** Explicit nodes instead of regions × nodesPerRegion. */
  readonly nodes?: readonly NodeSpec[];
  /**
   * The tailnet policy: the app's shared TailnetPolicy (one `tailscale_acl` per tailnet; pass
   * `mesh.tailnetPolicy`), or props for one this stack owns. @default managed, of its own
   */
  readonly tailnetPolicy?: TailnetPolicy | TailnetPolicyProps;
}

/**
 * System 3 of the brief: an Erlang/OTP cluster whose distribution (epmd and the distribution ports)
 * is reachable only over the tailnet, never on a public address, with a Terraform-made cookie.
 */
export class ErlangClusterStack extends TerraformStack {
  public readonly cluster: ErlangCluster;

  constructor(scope: Construct, id: string, props: ErlangClusterStackProps = {}) {
    super(scope, id);
    configureBackend(this, props.backend);
    if (props.nodes && (props.regions || props.nodesPerRegion)) fail("nodes", "give either nodes, or regions/nodesPerRegion, not both");
    const nodes = props.nodes ?? nodesFromRegions(props.regions ?? ["ap-northeast"], props.nodesPerRegion ?? 3);

    linodeProvider(this);
    new RandomProvider(this, "random");
    tailscaleProvider(this);

    this.cluster = new ErlangCluster(this, "erlang", { ...props, nodes });

    // A local, not a literal inside the for expression (which would be re-read for every node).
    new TerraformLocal(this, "erlang-node-names", { ...this.cluster.nodeNames }).overrideLogicalId("erlang_node_names");
    new TerraformOutput(this, "nodes", {
      description: "Cluster nodes by name: label, region, public IPv4 (nothing Erlang listens there), tailnet hostname, Erlang node name",
      value: this.cluster.nodes.forEachNode(
        "{ label = val.label, region = val.region, public_ipv4 = one(val.ipv4), tailnet_hostname = val.label, erlang_node = local.erlang_node_names[key] }",
      ),
    });
    new TerraformOutput(this, "cluster", {
      description: "What a member kept elsewhere needs: the member list, the tag to carry, the ports to use",
      value: {
        members: [...this.cluster.members],
        tag: this.cluster.tag,
        epmd_port: EPMD_PORT,
        dist_port_min: this.cluster.distPorts.min,
        dist_port_max: this.cluster.distPorts.max,
      },
    });
    new TerraformOutput(this, "erlang_cookie", {
      description: "The cluster's cookie, for members kept elsewhere: terraform output -raw erlang_cookie > ~/.erlang.cookie (then chmod 400)",
      value: this.cluster.cookie.result,
      sensitive: true,
    });
  }
}
