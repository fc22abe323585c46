// Entry point for `npm run synth` / `cdktf synth`: builds every stack of the app. A bad input prints
// one line (field, value, what is allowed) and exits 1; see src/validation/report.ts.
import { buildApp } from "./src/app";
import { synthOrExplain } from "./src/validation/report";

process.exitCode = synthOrExplain(() => buildApp().synth());
