/**
 * The core (cdktf or CDK Terrain, see core.ts) records a full stack trace, with no depth limit, for
 * every token it creates (every attribute reference, Lazy value and computed list), only to print
 * where a token was made if it later fails to resolve. Formatting those traces, and collecting them
 * as garbage, cost a fifth of building and writing this app's stacks (a tenth of `npm run synth`),
 * for text that no successful run ever shows. So the app turns them off; SYNTH_DEBUG=1 keeps them
 * (with source maps: see scripts/run-ts.js) to debug such a failure.
 */
import { installedCore } from "./core";

let skipped = false;

/**
 * Makes the core record no creation stack for the tokens created from now on, unless
 * `env.SYNTH_DEBUG` is "1". Idempotent. Returns whether stacks are now skipped: false also when the
 * core no longer has the switch core.ts names, in which case synthesis is only slower (a test
 * fails, to say so on upgrade).
 */
export function skipTokenCreationStacks(env: NodeJS.ProcessEnv = process.env): boolean {
  const how = installedCore().spec.creationStacks;
  if ("env" in how) {
    // The core reads its own setting from the process environment at every token.
    if (env.SYNTH_DEBUG === "1") delete process.env[how.env];
    else process.env[how.env] = "1";
    return env.SYNTH_DEBUG !== "1";
  }
  if (env.SYNTH_DEBUG === "1") return false;
  if (skipped) return true;
  let mod: Record<string, unknown>;
  try {
    mod = require(how.module);
  } catch {
    return false;
  }
  if (typeof mod[how.exportName] !== "function") return false;
  // The core's modules call it through the exports object, so replacing the export is enough.
  mod[how.exportName] = (): string[] => [];
  skipped = true;
  return true;
}
