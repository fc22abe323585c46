/**
 * cdktf records a full stack trace, with no depth limit, for every token it creates (every
 * attribute reference, Lazy value and computed list), only to print where a token was made if it
 * later fails to resolve. Formatting those traces, and collecting them as garbage, cost a fifth of
 * building and writing this app's stacks (a tenth of `npm run synth`), for text that no successful
 * run ever shows. So the app turns them off; SYNTH_DEBUG=1 keeps them (with source maps: see
 * scripts/run-ts.js) to debug such a failure.
 */

/** Where cdktf keeps the function every token constructor calls (cdktf 0.21). */
const STACK_TRACE_MODULE = "cdktf/lib/tokens/private/stack-trace";

let skipped = false;

/**
 * Makes cdktf record no creation stack for the tokens created from now on, unless `env.SYNTH_DEBUG`
 * is "1". Idempotent. Returns whether stacks are now skipped: false also when this cdktf keeps the
 * function elsewhere, in which case synthesis is only slower (a test fails, to say so on upgrade).
 */
export function skipTokenCreationStacks(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.SYNTH_DEBUG === "1") return false;
  if (skipped) return true;
  let mod: { captureStackTrace?: unknown };
  try {
    mod = require(STACK_TRACE_MODULE);
  } catch {
    return false;
  }
  if (typeof mod.captureStackTrace !== "function") return false;
  // cdktf's modules call it through the exports object, so replacing the export is enough.
  mod.captureStackTrace = (): string[] => [];
  skipped = true;
  return true;
}
