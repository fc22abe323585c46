/**
 * What an Erlang cluster adds to the tailnet policy: its tag and who owns it; members reaching each
 * other on epmd (tcp:4369) and the distribution port range, nothing else of theirs; admins reaching
 * them for Tailscale SSH; and tests that say so. A deny test that the base policy contradicts (the
 * new-tailnet allow-all grant) is left out of the tests with a warning by the composer: lock the
 * base down and the promises become tests Tailscale checks on every save.
 */
import { PolicyContribution } from "../../tailnet/policy/compose";
import { fail, requireTailscaleTag } from "../../validation";
import { EPMD_PORT } from "./render";

export interface ErlangPolicyOptions {
  /** Tag carried by every cluster member (members kept elsewhere carry it too). @default "tag:erlang" */
  readonly tag?: string;
  /** Who owns the tag and may use Tailscale SSH on members. @default ["autogroup:admin"] */
  readonly admins?: readonly string[];
  /** Local users admins may SSH in as (after a browser check); [] for no SSH at all. @default ["root"] */
  readonly sshUsers?: readonly string[];
}

const ADMIN_SELECTOR = /^(autogroup:(admin|owner|member|it-admin|network-admin)|group:[A-Za-z0-9-]+|[^@\s]+@[^@\s]+)$/;
const UNIX_USER = /^([a-z_][a-z0-9_-]{0,31}|autogroup:nonroot)$/;

export interface ErlangPolicy {
  readonly tag: string;
  readonly contribution: PolicyContribution;
}

export function erlangClusterPolicy(options: ErlangPolicyOptions, distPorts: { min: number; max: number }): ErlangPolicy {
  const tag = options.tag ?? "tag:erlang";
  requireTailscaleTag("policy.tag", tag);
  const admins = [...(options.admins ?? ["autogroup:admin"])];
  if (admins.length === 0) fail("policy.admins", "must name at least one owner of the tag (e.g. autogroup:admin, group:ops, user@example.com)");
  admins.forEach((a, i) => {
    if (!ADMIN_SELECTOR.test(a)) fail(`policy.admins[${i}]`, `${JSON.stringify(a)} is not an autogroup:…, group:… or user@domain selector`);
  });
  const users = [...(options.sshUsers ?? ["root"])];
  users.forEach((u, i) => {
    if (!UNIX_USER.test(u)) fail(`policy.sshUsers[${i}]`, `${JSON.stringify(u)} is not a Unix user name or autogroup:nonroot`);
  });
  const range = distPorts.min === distPorts.max ? `${distPorts.min}` : `${distPorts.min}-${distPorts.max}`;
  // Ports just outside what is granted, and SSH: a member must not reach them on another member.
  const granted = (p: number) => p === EPMD_PORT || (p >= distPorts.min && p <= distPorts.max);
  const deny = [22, distPorts.min - 1, distPorts.max + 1, EPMD_PORT + 1].filter((p) => p >= 1 && p <= 65535 && !granted(p)).map((p) => `${tag}:${p}`);
  return {
    tag,
    contribution: {
      tagOwners: { [tag]: admins },
      grants: [
        { src: [tag], dst: [tag], ip: [`tcp:${EPMD_PORT}`, `tcp:${range}`] },
        // Tailscale SSH is only offered to sources that may reach port 22 on the node.
        ...(users.length ? [{ src: admins, dst: [tag], ip: ["tcp:22"] }] : []),
      ],
      ssh: users.length ? [{ action: "check" as const, src: admins, dst: [tag], users }] : [],
      tests: [
        {
          src: tag,
          accept: [`${tag}:${EPMD_PORT}`, `${tag}:${distPorts.min}`, ...(distPorts.max !== distPorts.min ? [`${tag}:${distPorts.max}`] : [])],
          deny: [...new Set(deny)],
        },
      ],
    },
  };
}
