/**
 * What a subnet router adds to the tailnet policy: its tag and who owns it; route approval for that
 * tag alone and for exactly the routes it advertises (so no console step, and no other device can
 * get them approved by advertising them); who may reach the routes; Tailscale SSH for admins; and,
 * where the clients are concrete principals, tests Tailscale checks on every save of the policy.
 *
 * Default clients are the tailnet's admins, the least that proves the router works. The shipped
 * base policy still lets every device reach everything (its allow-all grant covers subnet routes);
 * once that grant is removed, only the clients named here reach the network.
 */
import { PolicyContribution } from "../../tailnet/policy/compose";
import { Grant, PolicyTest, SshRule } from "../../tailnet/policy/types";
import { addressInCidr, cidrHost, fail, requirePolicySelector, requireTailscaleTag } from "../../validation";
import { SubnetRouterPlan } from "./plan";

export interface SubnetRouterPolicyOptions {
  /** Tag the router carries; its routes are auto-approved for this tag only. @default per platform */
  readonly tag?: string;
  /** Who owns the tag and may use Tailscale SSH on the router. @default ["autogroup:admin"] */
  readonly admins?: readonly string[];
  /** Who may reach the advertised routes (and use the exit node). @default ["autogroup:admin"] */
  readonly clients?: readonly string[];
  /** What clients may reach in the network, as grant `ip` entries ("*", "tcp:5432", "icmp:*"…). @default ["*"] */
  readonly ports?: readonly string[];
  /** Tailscale SSH to the router for admins: "check" (recent browser login), "accept", or false. @default "check" */
  readonly ssh?: "check" | "accept" | false;
}

export interface SubnetRouterPolicy {
  readonly tag: string;
  readonly admins: readonly string[];
  readonly clients: readonly string[];
  /** Tailscale SSH on the router ("check"/"accept"), or false. */
  readonly ssh: "check" | "accept" | false;
  readonly contribution: PolicyContribution;
}

const IP_SPEC = /^(\*|(tcp|udp|icmp|sctp|\d{1,3}):(\*|\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*)|\d{1,5}(-\d{1,5})?)$/;

/** A port a test can name: the first single port of the allowed specs, or `fallback` when any port is allowed. */
function testPort(ports: readonly string[], fallback: number): number | undefined {
  if (ports.includes("*") || ports.some((p) => /^tcp:\*$/.test(p))) return fallback;
  for (const p of ports) {
    const m = /^(?:tcp:)?(\d{1,5})(?:[-,]|$)/.exec(p);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** A concrete principal Tailscale can run a test from: a user login or a tag. */
const concrete = (s: string) => s.startsWith("tag:") || (s.includes("@") && !s.includes(":"));

export function subnetRouterPolicy(plan: SubnetRouterPlan, o: SubnetRouterPolicyOptions, defaultTag: string): SubnetRouterPolicy {
  const tag = o.tag ?? defaultTag;
  requireTailscaleTag("policy.tag", tag);
  const list = (field: string, value: readonly string[] | undefined): string[] => {
    const v = [...(value ?? ["autogroup:admin"])];
    if (v.length === 0) fail(field, "must name at least one principal (e.g. autogroup:admin, group:ops, alice@example.com)");
    v.forEach((s, i) => requirePolicySelector(`${field}[${i}]`, s));
    return v;
  };
  const admins = list("policy.admins", o.admins);
  admins.forEach((a, i) => {
    if (a.startsWith("tag:")) fail(`policy.admins[${i}]`, `${a} is a tag; admins are people (autogroup:…, group:…, user@domain)`);
  });
  const clients = list("policy.clients", o.clients);
  const ports = [...(o.ports ?? ["*"])];
  if (ports.length === 0) fail("policy.ports", 'must allow something (e.g. ["*"] or ["tcp:5432"])');
  ports.forEach((p, i) => {
    if (!IP_SPEC.test(p)) fail(`policy.ports[${i}]`, `${JSON.stringify(p)} is not a grant ip entry ("*", "tcp:22", "udp:53", "icmp:*", "443", "8000-8999")`);
  });
  const ssh = o.ssh ?? "check";
  if (ssh !== false && ssh !== "check" && ssh !== "accept") fail("policy.ssh", `${JSON.stringify(ssh)} is not "check", "accept" or false`);

  const routes = plan.advertiseRoutes;
  const grants: Grant[] = [{ src: clients, dst: [...routes], ip: ports }];
  if (plan.advertiseExitNode) grants.push({ src: clients, dst: ["autogroup:internet"], ip: ["*"] });
  const sshRules: SshRule[] = [];
  if (ssh !== false) {
    // Tailscale SSH is offered only to sources that may reach port 22 on the node.
    grants.push({ src: admins, dst: [tag], ip: ["tcp:22"] });
    sshRules.push({ action: ssh, src: admins, dst: [tag], users: ["root"] });
  }

  // Tests: from each concrete client to one address of each route (the target's, when it is there).
  const port = testPort(ports, plan.target?.port ?? 22);
  const tests: PolicyTest[] = [];
  if (port !== undefined) {
    for (const src of clients.filter(concrete)) {
      tests.push({
        src,
        accept: routes.map((r) => {
          const at = plan.target?.address && addressInCidr(plan.target.address, r) ? plan.target.address : cidrHost(r, 1);
          return `${at}:${port}`;
        }),
      });
    }
  }

  return {
    tag,
    admins,
    clients,
    ssh,
    contribution: {
      tagOwners: { [tag]: admins },
      grants,
      ssh: sshRules,
      autoApprovers: {
        routes: Object.fromEntries(routes.map((r) => [r, [tag]])),
        ...(plan.advertiseExitNode ? { exitNode: [tag] } : {}),
      },
      tests,
    },
  };
}
