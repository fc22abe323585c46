/**
 * `npm run policy -- [stack ...] [--out DIR]`: prints the tailnet policy each stack will write
 * (managed mode) or the fragment the user must merge (external mode), before anything is applied.
 * `npm run policy -- check [--json] FILE...`: checks each file as a whole tailnet policy, offline,
 * the way Tailscale's control plane does (src/tailnet/policy/check.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { checkPolicyText, CheckResult } from "./policy/check";

export const USAGE = `Usage: npm run policy -- [stack ...] [--out DIR] [--help]
       npm run policy -- check [--json] FILE...

Prints, for each tailnet policy of the app (or those the named stacks write or add to), the policy
text the stack's tailscale_acl will write (managed), or the fragment to merge into a policy kept
elsewhere (external). Warnings (promises the base policy contradicts) go to stderr. --out DIR also
writes each whole policy (managed) to DIR/<stack>.hujson, to check it.

check: reads each FILE as a whole tailnet policy (HuJSON) and checks it as Tailscale would before
saving it: every section's shape, names defined, selectors, ports, protocols, SSH rules, then its
tests and sshTests. One line per problem (FILE: path: message), then FILE: verdict. A verdict is
accepted, rejected (Tailscale would refuse it) or unknown (a test depends on the live tailnet).
--json prints one JSON object per file and line instead:
  {"file", "verdict", "errors": [{"path", "message"}], "tests": [{"index", "result", "why"}]}
Exit status: 0 every file accepted, 1 any rejected, 3 none rejected but some unknown, 2 usage.
`;

type Out = (s: string) => void;

export function main(argv: readonly string[], out: Out = (s) => process.stdout.write(s), err: Out = (s) => process.stderr.write(s)): number {
  if (argv[0] === "check") return check(argv.slice(1), out, err);
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { help: { type: "boolean", short: "h" }, out: { type: "string" } }, allowPositionals: true, strict: true });
  } catch (e) {
    err(`policy: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    out(USAGE);
    return 0;
  }
  // The app (cdktf and every binding) only loads for this command; `check` stays light.
  const { TerraformStack } = require("cdktf") as typeof import("cdktf");
  const { buildApp } = require("../app") as typeof import("../app");
  const { TailnetPolicy } = require("./tailnet-policy") as typeof import("./tailnet-policy");
  const app = buildApp({ outdir: "cdktf.out" });
  const stackNames = new Set(app.node.children.filter((c) => c instanceof TerraformStack).map((c) => c.node.id));
  for (const s of parsed.positionals) {
    if (!stackNames.has(s)) {
      err(`policy: no stack "${s}"; stacks: ${[...stackNames].sort().join(", ")}\n`);
      return 2;
    }
  }
  const policies = app.node.findAll().filter((c): c is InstanceType<typeof TailnetPolicy> => c instanceof TailnetPolicy);
  let shown = 0;
  for (const p of policies) {
    const owner = TerraformStack.of(p).node.id;
    const composed = p.compose();
    const involved = new Set([owner, ...composed.contributors.map((c) => c.split("/")[0])]);
    if (parsed.positionals.length && !parsed.positionals.some((s) => involved.has(s))) continue;
    shown++;
    if (p.mode === "managed") {
      out(`# tailnet "${p.tailnet}": written by stack ${owner} (tailscale_acl.${p.acl!.friendlyUniqueId})\n`);
      const text = p.renderPolicy();
      out(text);
      if (parsed.values.out) {
        fs.mkdirSync(parsed.values.out, { recursive: true });
        fs.writeFileSync(path.join(parsed.values.out, `${owner}.hujson`), text);
      }
    } else {
      out(`# tailnet "${p.tailnet}": kept outside this app; merge this fragment (synth writes it to stacks/${owner}/${p.fragmentFile})\n`);
      out(p.renderFragment());
    }
    for (const w of composed.warnings) err(`warning: ${w}\n`);
  }
  if (shown === 0) out("# no stack of this app writes or adds to a tailnet policy\n");
  return 0;
}

/** `check [--json] FILE...`: one verdict per file; the exit status sums them up. */
export function check(argv: readonly string[], out: Out, err: Out): number {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (e) {
    err(`policy check: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    out(USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    err(`policy check: give at least one FILE\n${USAGE}`);
    return 2;
  }
  let rejected = 0;
  let unknown = 0;
  for (const file of parsed.positionals) {
    const r = checkFile(file);
    if (r.verdict === "rejected") rejected++;
    if (r.verdict === "unknown") unknown++;
    const tests = r.tests.map((t) => ({ index: t.index, result: t.result, why: t.why }));
    if (parsed.values.json) {
      out(`${JSON.stringify({ file, verdict: r.verdict, errors: r.errors.map((e) => ({ path: e.path, message: e.message })), tests })}\n`);
      continue;
    }
    for (const e of r.errors) out(`${file}: ${e.path ? `${e.path}: ` : ""}${e.message}\n`);
    for (const t of tests) if (t.result !== "pass") out(`${file}: ${t.why} (${t.result})\n`);
    out(`${file}: ${r.verdict}\n`);
  }
  return rejected ? 1 : unknown ? 3 : 0;
}

function checkFile(file: string): CheckResult {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return { verdict: "rejected", errors: [{ path: "", message: `cannot read the file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }], tests: [] };
  }
  try {
    return checkPolicyText(text);
  } catch (e) {
    // A checker bug must not pass a file: say so, as one line.
    return { verdict: "rejected", errors: [{ path: "", message: `internal error while checking: ${(e as Error).message}` }], tests: [] };
  }
}

if (require.main === module) {
  try {
    process.exit(main(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`policy: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
