// Entry point for `npm run synth` / `cdktf synth`: builds every stack of the app. A bad input prints
// one line (field, value, what is allowed) and exits 1; see src/validation/report.ts.
import { buildApp } from "./src/app";
import { TailnetPolicy } from "./src/tailnet/tailnet-policy";
import { synthOrExplain, underCdktfCli } from "./src/validation/report";
import { withOutdirLock } from "./src/terraform/outdir-lock";

process.exitCode = synthOrExplain(() => {
  const app = buildApp();
  // One synthesis at a time into an output directory: parallel runs never leave it mixed.
  withOutdirLock(app.outdir, () => app.synth());
  // Promises the user's base policy makes void (see README, "The tailnet policy"): said, not fatal.
  // The cdktf CLI prints them itself (they are annotations); run directly, we do.
  if (!underCdktfCli()) for (const w of TailnetPolicy.warningsOf(app)) process.stderr.write(`warning: ${w}\n`);
});
