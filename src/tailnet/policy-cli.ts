/**
 * `npm run policy -- [stack ...]`: prints the tailnet policy each stack will write (managed mode)
 * or the fragment the user must merge (external mode), before anything is applied.
 */
import { TerraformStack } from "cdktf";
import { parseArgs } from "util";
import { buildApp } from "../app";
import { TailnetPolicy } from "./tailnet-policy";

export const USAGE = `Usage: npm run policy -- [stack ...] [--help]

Prints, for each tailnet policy of the app (or those the named stacks write or add to), the policy
text the stack's tailscale_acl will write (managed), or the fragment to merge into a policy kept
elsewhere (external). Warnings (promises the base policy contradicts) go to stderr.
`;

export function main(argv: readonly string[], out = (s: string) => process.stdout.write(s), err = (s: string) => process.stderr.write(s)): number {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (e) {
    err(`policy: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    out(USAGE);
    return 0;
  }
  const app = buildApp({ outdir: "cdktf.out" });
  const stackNames = new Set(app.node.children.filter((c) => c instanceof TerraformStack).map((c) => c.node.id));
  for (const s of parsed.positionals) {
    if (!stackNames.has(s)) {
      err(`policy: no stack "${s}"; stacks: ${[...stackNames].sort().join(", ")}\n`);
      return 2;
    }
  }
  const policies = app.node.findAll().filter((c): c is TailnetPolicy => c instanceof TailnetPolicy);
  let shown = 0;
  for (const p of policies) {
    const owner = TerraformStack.of(p).node.id;
    const composed = p.compose();
    const involved = new Set([owner, ...composed.contributors.map((c) => c.split("/")[0])]);
    if (parsed.positionals.length && !parsed.positionals.some((s) => involved.has(s))) continue;
    shown++;
    if (p.mode === "managed") {
      out(`# tailnet "${p.tailnet}": written by stack ${owner} (tailscale_acl.${p.acl!.friendlyUniqueId})\n`);
      out(p.renderPolicy());
    } else {
      out(`# tailnet "${p.tailnet}": kept outside this app; merge this fragment (synth writes it to stacks/${owner}/${p.fragmentFile})\n`);
      out(p.renderFragment());
    }
    for (const w of composed.warnings) err(`warning: ${w}\n`);
  }
  if (shown === 0) out("# no stack of this app writes or adds to a tailnet policy\n");
  return 0;
}

if (require.main === module) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`policy: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
