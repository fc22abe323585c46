/**
 * The project's own environment variables. A setting read from the environment is a field like any
 * other: a misspelt one (TAILNET_BAKEND=s3) would otherwise be ignored and the default used in
 * silence, so every variable that looks like one of ours must be one we read.
 */
import { distance } from "fastest-levenshtein";
import { BACKEND_ENV } from "../terraform/backend";
import { UNGROUPED_ADDRESSES_ENV } from "../terraform/ungrouped-addresses";
import { fail } from "./index";
import { naturalSort, sentences, suggestion } from "./suggest";

/** Every variable the project reads, by the program that reads it. */
export const PROJECT_ENV: Readonly<Record<string, string>> = {
  ...BACKEND_ENV,
  [UNGROUPED_ADDRESSES_ENV]: "guard (default), move or off: a state from before per-node resources were grouped by region (README, Upgrading)",
  SYNTH_DEBUG: "1: source maps, token creation stacks, no runner cache (for an unexpected error)",
  RUN_TS_CACHES: "0: scripts/run-ts.js keeps no cache",
  RUN_TS_CACHE_DIR: "where scripts/run-ts.js keeps its caches (default dist/)",
  RUN_TS_DEBUG: "1: scripts/run-ts.js says what its caches did",
  BENCH_RUNS: "npm run bench: runs per case",
  BENCH_ERLANG_MB: "npm run bench:erlang: megabytes per transfer",
};

/**
 * Prefixes that only this project uses: a variable with one of them must be in PROJECT_ENV. (Not
 * SYNTH_: the cdktf CLI sets SYNTH_HCL_OUTPUT for the app; SYNTH_DEBUG typos are caught by distance.)
 */
export const PROJECT_ENV_PREFIXES: readonly string[] = ["TAILNET_", "RUN_TS_", "BENCH_"];

/**
 * The name as the user may have meant it: ours when it has one of our prefixes in any case
 * (tailnet_backend), or is within two edits of one of our names (TAILNT_BACKEND, SYNTH_DEBG).
 */
function looksLikeOurs(name: string, known: readonly string[]): boolean {
  const upper = name.toUpperCase();
  if (PROJECT_ENV_PREFIXES.some((p) => upper.startsWith(p))) return true;
  return upper.length >= 8 && known.some((k) => distance(upper, k) <= 2);
}

/**
 * Fails with one line on the first variable (sorted) that looks like one of the project's but isn't,
 * naming it, the closest known names and every setting of its kind. Values are never shown.
 */
export function checkProjectEnv(env: NodeJS.ProcessEnv, known: readonly string[] = Object.keys(PROJECT_ENV)): void {
  for (const name of Object.keys(env).sort()) {
    if (known.includes(name) || !looksLikeOurs(name, known)) continue;
    const upper = name.toUpperCase();
    const hits = naturalSort(nearest(upper, known));
    const prefix = PROJECT_ENV_PREFIXES.find((p) => upper.startsWith(p)) ?? hits.map((h) => PROJECT_ENV_PREFIXES.find((p) => h.startsWith(p))).find(Boolean);
    // The settings of the same family: same prefix, else the same first word (SYNTH_DEBUG).
    const word = (k: string) => k.split("_")[0];
    const family = naturalSort(known.filter((k) => (prefix !== undefined ? k.startsWith(prefix) : hits.some((h) => word(h) === word(k)))));
    fail(name, sentences("is not a setting this project reads (its value is ignored, not used).", suggestion(hits), `Settings: ${family.join(", ")}.`));
  }
}

/** Known names at the smallest edit distance (case-insensitive), if that distance is at most 4. */
function nearest(upper: string, known: readonly string[]): string[] {
  let best = 5;
  let found: string[] = [];
  for (const k of known) {
    const d = distance(upper, k);
    if (d < best) {
      best = d;
      found = [k];
    } else if (d === best) found.push(k);
  }
  return found.slice(0, 3);
}
