/** The tailnet policy the lab rehearsals load into headscale. */
import { buildApp } from "../../src/app";
import { parseHujson } from "../../src/tailnet/policy/hujson";
import { PolicyObject } from "../../src/tailnet/policy/types";
import { TailnetPolicy } from "../../src/tailnet/tailnet-policy";

/** The policy `npm run policy` prints for the mesh's tailnet (the app's one tailnet policy). */
export function composedAppPolicy(): PolicyObject {
  const app = buildApp({ outdir: "cdktf.out" });
  const policies = app.node.findAll().filter((c): c is TailnetPolicy => c instanceof TailnetPolicy && c.mode === "managed");
  if (policies.length !== 1) throw new Error(`expected one managed tailnet policy, got ${policies.length}`);
  return parseHujson(policies[0].renderPolicy(), "composed policy") as PolicyObject;
}

/** The same policy without the base's allow-all grant (a locked-down tailnet). */
export function withoutAllowAll(p: PolicyObject): PolicyObject {
  const allowAll = (g: { src: readonly string[]; dst: readonly string[]; ip?: readonly string[] }) =>
    g.src.length === 1 && g.src[0] === "*" && g.dst.length === 1 && g.dst[0] === "*" && g.ip?.length === 1 && g.ip[0] === "*";
  const grants = (p.grants ?? []).filter((g) => !allowAll(g));
  if (grants.length === (p.grants ?? []).length) throw new Error("the policy has no allow-all grant to remove");
  return { ...p, grants };
}

