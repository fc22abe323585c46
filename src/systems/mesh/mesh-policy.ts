/**
 * The tailnet policy file the mesh needs, and nothing more: mesh nodes reach each other on every
 * port, admins reach them for Tailscale SSH, and the mesh tag is owned so that a tagged auth key can
 * be minted. Anything not listed is denied (Tailscale policies are default-deny once `acls` exists).
 */
import { requireTailscaleTag, fail } from "../../validation";

export interface MeshPolicyOptions {
  /** Tag carried by every mesh node. @default "tag:mesh" */
  readonly meshTag?: string;
  /** Who may own the tag and use Tailscale SSH. @default ["autogroup:admin"] */
  readonly admins?: readonly string[];
  /** Local users admins may SSH in as. @default ["root"] */
  readonly sshUsers?: readonly string[];
  /** SSH mode: "accept", or "check" to require a recent re-authentication. @default "check" */
  readonly sshAction?: "accept" | "check";
}

export interface TailnetPolicy {
  tagOwners: Record<string, string[]>;
  acls: { action: "accept"; src: string[]; dst: string[] }[];
  ssh: { action: "accept" | "check"; src: string[]; dst: string[]; users: string[] }[];
}

const ADMIN_SELECTOR = /^(autogroup:(admin|owner|member|it-admin|network-admin)|group:[A-Za-z0-9-]+|[^@\s]+@[^@\s]+)$/;

export function meshPolicy(options: MeshPolicyOptions = {}): TailnetPolicy {
  const tag = options.meshTag ?? "tag:mesh";
  requireTailscaleTag("policy.meshTag", tag);
  const admins = [...(options.admins ?? ["autogroup:admin"])];
  if (admins.length === 0) fail("policy.admins", "must name at least one admin (e.g. autogroup:admin, group:ops, user@example.com)");
  for (const a of admins) {
    if (!ADMIN_SELECTOR.test(a)) {
      fail("policy.admins", `${JSON.stringify(a)} is not an autogroup:…, group:… or user@domain selector`);
    }
  }
  const users = [...(options.sshUsers ?? ["root"])];
  for (const u of users) {
    if (!/^([a-z_][a-z0-9_-]{0,31}|autogroup:nonroot)$/.test(u)) {
      fail("policy.sshUsers", `${JSON.stringify(u)} is not a Unix user name or autogroup:nonroot`);
    }
  }
  return {
    tagOwners: { [tag]: admins },
    acls: [
      { action: "accept", src: [tag], dst: [`${tag}:*`] },
      // Tailscale SSH is only offered to sources that may reach port 22 on the node.
      { action: "accept", src: admins, dst: [`${tag}:22`] },
    ],
    ssh: [{ action: options.sshAction ?? "check", src: admins, dst: [tag], users }],
  };
}

/** Deterministic JSON text of a policy (stable key order, 2-space indent). */
export function renderPolicy(policy: TailnetPolicy): string {
  return JSON.stringify(policy, null, 2) + "\n";
}
