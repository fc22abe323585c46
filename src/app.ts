import { App } from "cdktf";
import { existsSync } from "fs";
import { dirname, join } from "path";
import { PolicyBase } from "./tailnet/policy/base";
import { ArticleStack } from "./systems/article/article-stack";
import { MeshStack } from "./systems/mesh/mesh-stack";
import { ErlangClusterStack } from "./systems/erlang-cluster/erlang-cluster-stack";

export interface BuildAppOptions {
  /** Where to write cdktf.out. @default CDKTF_OUTDIR or "cdktf.out" (cdktf's own default) */
  readonly outdir?: string;
}

/** Every stack the app defines, by name. */
export const STACK_NAMES = ["article", "mesh", "erlang-cluster"] as const;

export function buildApp(options: BuildAppOptions = {}): App {
  // skipValidation stays off: cdktf's own checks (e.g. providers present) run at synth.
  const app = new App({ outdir: options.outdir, skipBackendValidation: false });
  new ArticleStack(app, "article");
  // The recommended default: cloud-init delivery, so no node opens SSH to the internet. The mesh
  // owns the tailnet policy: the user's tailnet-policy.hujson plus what every system adds.
  const mesh = new MeshStack(app, "mesh", { tailnetPolicy: { base: PolicyBase.fromFile(projectFile("tailnet-policy.hujson")) } });
  // Systems on the same tailnet add to the mesh's policy (one tailscale_acl per tailnet); their keys
  // wait for it, so this stack depends on the mesh stack.
  new ErlangClusterStack(app, "erlang-cluster", { tailnetPolicy: mesh.tailnetPolicy });
  return app;
}

/** Synthesizes every stack into `<outdir>/stacks/<name>/cdk.tf.json`; returns the stack names. */
export function synthesizeApp(outdir: string): string[] {
  const app = buildApp({ outdir });
  app.synth();
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
