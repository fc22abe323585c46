import { App, DISABLE_STACK_TRACE_IN_METADATA } from "cdktf";
import { existsSync } from "fs";
import { dirname, join } from "path";
import { PolicyBase } from "./tailnet/policy/base";
import { ArticleStack } from "./systems/article/article-stack";
import { MeshStack } from "./systems/mesh/mesh-stack";
import { AwsSubnetRouterStack } from "./systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack } from "./systems/subnet-router/linode-subnet-router-stack";
import { SiteToSiteStack } from "./systems/site-to-site/site-to-site-stack";
import { backendFromEnv, setDefaultBackend } from "./terraform/backend";
import { skipTokenCreationStacks } from "./terraform/token-stacks";
import { quietDeprecatedCoreCalls } from "./terraform/core";
import { ErlangClusterStack } from "./systems/erlang-cluster/erlang-cluster-stack";
import { checkProjectEnv } from "./validation/env";
import { withOutdirLock } from "./terraform/outdir-lock";
import { ungroupedAddressesFromEnv } from "./terraform/regrouping";

export interface BuildAppOptions {
  /** Where to write cdktf.out. @default CDKTF_OUTDIR or "cdktf.out" (cdktf's own default) */
  readonly outdir?: string;
  /**
   * Where the app's settings that are chosen without editing code come from: the state backend of
   * every stack (TAILNET_BACKEND=local|s3|pg and TAILNET_S3_* / TAILNET_PG_*; see backendFromEnv).
   * @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
}

/** Every stack the app defines, by name. */
export const STACK_NAMES = ["article", "mesh", "subnet-router-linode", "subnet-router-aws", "erlang-cluster", "site-to-site"] as const;

export function buildApp(options: BuildAppOptions = {}): App {
  // A misspelt setting (TAILNET_BAKEND=s3) stops here rather than leaving the default in silence.
  checkProjectEnv(options.env ?? process.env);
  // Before any token exists: see token-stacks.ts (SYNTH_DEBUG=1 keeps them).
  skipTokenCreationStacks(options.env ?? process.env);
  // cdktf 0.21 on Node 22+ would print a DeprecationWarning at every synthesis (see core.ts).
  quietDeprecatedCoreCalls();
  // skipValidation stays off: cdktf's own checks (e.g. providers present) run at synth.
  // No stack traces in annotation metadata (manifest.json): they hold absolute paths.
  const app = new App({ outdir: options.outdir, skipBackendValidation: false, context: { [DISABLE_STACK_TRACE_IN_METADATA]: true } });
  // Before any stack: every stack's configureBackend() falls back to this.
  setDefaultBackend(app, backendFromEnv(options.env ?? process.env));
  new ArticleStack(app, "article");
  // The recommended default: cloud-init delivery, so no node opens SSH to the internet. The mesh
  // owns the tailnet policy: the user's tailnet-policy.hujson plus what every system adds.
  // Peer relays where `npm run placement` puts them: pairs that can't go direct stay close to
  // their fibre limit instead of detouring (System 2's lesson).
  // A state from before per-node resources were grouped by region: see RegroupedResource.
  const ungroupedAddresses = ungroupedAddressesFromEnv(options.env ?? process.env);
  const mesh = new MeshStack(app, "mesh", {
    tailnetPolicy: { base: PolicyBase.fromFile(projectFile("tailnet-policy.hujson")) },
    peerRelays: { relays: "placed" },
    ungroupedAddresses,
  });
  // Subnet routers add their tags, route approvals and grants to the mesh's policy (one
  // tailscale_acl for the tailnet), so they apply after it. Each has a private target to prove the
  // path; their networks don't overlap, so one tailnet can route to both.
  new LinodeSubnetRouterStack(app, "subnet-router-linode", { tailnetPolicy: mesh.tailnetPolicy, target: true });
  new AwsSubnetRouterStack(app, "subnet-router-aws", { tailnetPolicy: mesh.tailnetPolicy, target: true });
  // Systems on the same tailnet add to the mesh's policy (one tailscale_acl per tailnet); their keys
  // wait for it, so this stack depends on the mesh stack.
  new ErlangClusterStack(app, "erlang-cluster", { tailnetPolicy: mesh.tailnetPolicy, ungroupedAddresses });
  // The HA site-to-site VPN (IPsec, not the tailnet): its own VPC and VLAN, with an AWS test host to
  // ping from the client. The admin networks and SSH keys are runtime variables (TF_VAR_admin_cidrs,
  // TF_VAR_ssh_public_keys): the configuration is delivered over SSH once both clouds exist.
  new SiteToSiteStack(app, "site-to-site", { aws: { testHost: true } });
  return app;
}

/** Synthesizes every stack into `<outdir>/stacks/<name>/cdk.tf.json`; returns the stack names. */
export function synthesizeApp(outdir: string): string[] {
  const app = buildApp({ outdir });
  withOutdirLock(app.outdir, () => app.synth());
  return [...STACK_NAMES];
}

/** A file at the project root (where package.json is), from src/ or its build output in dist/src/. */
export function projectFile(name: string): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`package.json not found above ${__dirname}`);
    dir = up;
  }
  return join(dir, name);
}
