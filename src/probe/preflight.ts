/**
 * Before measuring, one connection to the first node the probe must run on. When it fails for a
 * reason every other node shares (not on the tailnet, no SSH rule, a browser check, a firewall),
 * the probe stops with one message saying what to change, instead of one timeout per node.
 */
import { RunResult, Transport } from "./transport";
import { MeshNode } from "./types";

export interface PreflightContext {
  readonly via: "public" | "tailnet";
  readonly user: string;
}

/** Runs `true` on `node`; returns undefined when it works, else what to change. */
export async function preflight(transport: Transport, node: MeshNode, ctx: PreflightContext, timeoutMs = 30_000): Promise<string | undefined> {
  if (transport.kind !== "ssh") return undefined;
  const r = await transport.run(node, ["true"], { timeoutMs });
  if (r.code === 0) return undefined;
  return diagnoseSsh(r, node, ctx);
}

const CHECK_PROMPT = /additional check|To authenticate, visit|login\.tailscale\.com\/a\//i;
const UNREACHABLE = /timed out|No route to host|Network is unreachable|Connection refused|Could not resolve hostname|Name or service not known|Temporary failure in name resolution/i;
const DENIED = /Permission denied|not allowed|access denied|tailnet policy does not permit/i;

export function diagnoseSsh(r: RunResult, node: MeshNode, ctx: PreflightContext): string {
  const host = ctx.via === "tailnet" ? node.tailnetHostname : node.publicIpv4 ?? "(no public_ipv4)";
  const head = `cannot SSH to ${node.key} as ${ctx.user}@${host} (${ctx.via === "tailnet" ? "over the tailnet" : "public address"})`;
  const said = (r.stderr || r.stdout).trim().split("\n").filter(Boolean).slice(-1)[0] ?? "";
  if (r.spawnError) return `${head}: the ssh program did not run (${r.spawnError}); install OpenSSH's client or pass --ssh-program`;
  if (CHECK_PROMPT.test(r.stderr)) {
    return (
      `${head}: Tailscale SSH asks for a browser check for ${ctx.user} (a "check" rule), which a non-interactive probe cannot answer. ` +
      `Use the probe's own user (--ssh-user meshprobe: the mesh's policy accepts it without a check), or log in once interactively first.`
    );
  }
  if (r.timedOut || UNREACHABLE.test(r.stderr)) {
    if (ctx.via === "public") {
      return (
        `${head}: no answer on port 22. Nodes created with cloud-init delivery accept no SSH on their public address (firewall DROP); ` +
        `probe over the tailnet (--ssh-via tailnet --ssh-user meshprobe, the defaults when --stack-dir reads the mesh's probe_access output), ` +
        `or with remote-exec delivery run the probe from a network in admin_cidrs.`
      );
    }
    return (
      `${head}: ${said || "no answer"}. This machine must be on the tailnet with MagicDNS on, to resolve and reach ${node.tailnetHostname}: ` +
      `check \`tailscale status\` here (or pass --inventory with tailnet_hostname set to each node's 100.x address).`
    );
  }
  if (DENIED.test(r.stderr)) {
    if (ctx.via === "tailnet") {
      return (
        `${head}: refused by the tailnet policy. The mesh lets its admins (policy.admins) log in as its probe user without a check; ` +
        `see the rule with \`npm run policy -- mesh\`, make sure your login is one of those admins, and that nodes were created after the probe user was added ` +
        `(older nodes lack it: terraform apply -replace, or create it by hand).`
      );
    }
    return `${head}: the node refused the key; pass --ssh-key with the private key of an ssh_public_keys entry.`;
  }
  return `${head}: ssh exited ${r.code ?? "abnormally"}${said ? `: ${said}` : ""}`;
}
