/**
 * The router's bootstrap script: the shared node bootstrap (Tailscale from its signed repository,
 * `tailscale up` with the key read from a root-only file, forwarding persisted in
 * /etc/sysctl.d and applied with `sysctl -p`), given the plan's routes and flags.
 */
import { createHash } from "crypto";
import { NodeBootstrapOptions, renderNodeBootstrapScript, resolveNodeBootstrapOptions, tailscaleUpFlags } from "../../tailnet/bootstrap";
import { SubnetRouterPlan } from "./plan";

export interface RouterScriptOptions {
  /** The tag the router advertises (the policy's). */
  readonly tag: string;
  /** The auth key, or a slot marker filled with a Terraform expression later. */
  readonly authKey: string;
  /** Pin Tailscale, e.g. "1.90.6". @default latest stable */
  readonly tailscaleVersion?: string;
  /** Tailscale SSH on the router. @default true */
  readonly ssh?: boolean;
}

export function routerBootstrapOptions(plan: SubnetRouterPlan, o: RouterScriptOptions): NodeBootstrapOptions {
  return {
    hostname: plan.hostname,
    advertiseTags: [o.tag],
    distro: { ...plan.distro },
    authKey: o.authKey,
    tailscaleVersion: o.tailscaleVersion,
    ssh: o.ssh ?? true,
    // A router forwards; an iperf3 server on it would only measure the router itself.
    iperf3: false,
    tuning: true,
    advertiseRoutes: [...plan.advertiseRoutes],
    snatSubnetRoutes: plan.snatSubnetRoutes,
    advertiseExitNode: plan.advertiseExitNode,
  };
}

export function renderRouterScript(plan: SubnetRouterPlan, o: RouterScriptOptions): string {
  return renderNodeBootstrapScript(routerBootstrapOptions(plan, o));
}

/** The flags the router runs `tailscale up` with (no key), by the bootstrap's own rules. */
export function routerUpFlags(plan: SubnetRouterPlan, o: Omit<RouterScriptOptions, "authKey">): string[] {
  return tailscaleUpFlags(resolveNodeBootstrapOptions(routerBootstrapOptions(plan, { ...o, authKey: "tskey-unused" })));
}

/** A stable fingerprint of a script, for replace triggers. */
export function scriptFingerprint(script: string): string {
  return `sha256:${createHash("sha256").update(script).digest("hex")}`;
}
