/**
 * What the mesh adds to the tailnet policy: its tag and who owns it, mesh nodes reaching each other
 * on every port, admins reaching them for Tailscale SSH (checked as root, accepted as the probe's
 * unprivileged user), and a test that mesh nodes keep reaching each other's iperf3 server.
 */
import { PolicyContribution } from "../../tailnet/policy/compose";
import { fail, requireTailscaleTag } from "../../validation";

export interface MeshPolicyOptions {
  /** Tag carried by every mesh node. @default "tag:mesh" */
  readonly meshTag?: string;
  /** Who may own the tag and use Tailscale SSH. @default ["autogroup:admin"] */
  readonly admins?: readonly string[];
  /** Local users admins may SSH in as, with `sshAction`. @default ["root"] */
  readonly sshUsers?: readonly string[];
  /** SSH mode for `sshUsers`: "accept", or "check" to require a recent re-authentication. @default "check" */
  readonly sshAction?: "accept" | "check";
  /**
   * Unprivileged local user the probe logs in as with Tailscale SSH. Its rule is `accept`: a
   * `check` rule asks for a browser re-authentication, which a non-interactive probe can't give.
   * false for none. @default "meshprobe"
   */
  readonly probeUser?: string | false;
}

export const DEFAULT_PROBE_USER = "meshprobe";

const ADMIN_SELECTOR = /^(autogroup:(admin|owner|member|it-admin|network-admin)|group:[A-Za-z0-9-]+|[^@\s]+@[^@\s]+)$/;
const UNIX_USER = /^([a-z_][a-z0-9_-]{0,31}|autogroup:nonroot)$/;

export interface MeshPolicy {
  readonly tag: string;
  readonly admins: readonly string[];
  readonly probeUser?: string;
  readonly contribution: PolicyContribution;
}

export function meshPolicy(options: MeshPolicyOptions = {}, iperf3Port: number | false = 5201): MeshPolicy {
  const tag = options.meshTag ?? "tag:mesh";
  requireTailscaleTag("policy.meshTag", tag);
  const admins = [...(options.admins ?? ["autogroup:admin"])];
  if (admins.length === 0) fail("policy.admins", "must name at least one admin (e.g. autogroup:admin, group:ops, user@example.com)");
  for (const a of admins) {
    if (!ADMIN_SELECTOR.test(a)) fail("policy.admins", `${JSON.stringify(a)} is not an autogroup:…, group:… or user@domain selector`);
  }
  const users = [...(options.sshUsers ?? ["root"])];
  for (const u of users) {
    if (!UNIX_USER.test(u)) fail("policy.sshUsers", `${JSON.stringify(u)} is not a Unix user name or autogroup:nonroot`);
  }
  const probeUser = options.probeUser === false ? undefined : (options.probeUser ?? DEFAULT_PROBE_USER);
  if (probeUser !== undefined) {
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(probeUser) || probeUser === "root") {
      fail("policy.probeUser", `${JSON.stringify(probeUser)} must be an unprivileged Unix user name (not root), or false`);
    }
    if (users.includes(probeUser)) fail("policy.probeUser", `${JSON.stringify(probeUser)} is also in policy.sshUsers; give the probe its own user`);
  }
  return {
    tag,
    admins,
    probeUser,
    contribution: {
      tagOwners: { [tag]: admins },
      grants: [
        { src: [tag], dst: [tag], ip: ["*"] },
        // Tailscale SSH is only offered to sources that may reach port 22 on the node.
        { src: admins, dst: [tag], ip: ["tcp:22"] },
      ],
      ssh: [
        { action: options.sshAction ?? "check", src: admins, dst: [tag], users },
        ...(probeUser ? [{ action: "accept" as const, src: admins, dst: [tag], users: [probeUser] }] : []),
      ],
      tests: iperf3Port === false ? [] : [{ src: tag, accept: [`${tag}:${iperf3Port}`] }],
    },
  };
}
