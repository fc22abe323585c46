/**
 * "Did you mean" for near misses: a mistyped region, plan or enum value is answered with the closest
 * allowed values by edit distance (fastest-levenshtein), compared without regard to case.
 */
import { distance } from "fastest-levenshtein";

/** At most this many suggestions; more than that is no longer a hint. */
const MAX_SUGGESTIONS = 3;

/**
 * The allowed values closest to `value`: those at the smallest edit distance, if that distance is
 * small for the value's length (1 edit for values of up to 3 characters, 2 up to 6, else 3). Sorted naturally.
 */
export function nearMisses(value: unknown, candidates: readonly string[]): string[] {
  if (typeof value !== "string" || value.trim() === "") return [];
  const v = value.trim().toLowerCase();
  const budget = Math.min(3, Math.max(1, Math.floor((v.length + 2) / 3)));
  let best = Infinity;
  let found: string[] = [];
  for (const c of candidates) {
    const d = distance(v, c.toLowerCase());
    if (d > budget || d > best) continue;
    if (d < best) {
      best = d;
      found = [];
    }
    found.push(c);
  }
  // A part of an ID given for the whole ("standard-8" for "g6-standard-8").
  if (found.length === 0 && v.length >= 4) found = candidates.filter((c) => c.toLowerCase().includes(v));
  return naturalSort(found).slice(0, MAX_SUGGESTIONS);
}

/** `Did you mean "x"?` (or `"x", "y" or "z"`), or "" when nothing is close. */
export function didYouMean(value: unknown, candidates: readonly string[], describe?: (c: string) => string | undefined): string {
  const hits = nearMisses(value, candidates);
  return suggestion(hits, describe);
}

/** Formats suggestions, each optionally followed by a short description in parentheses. */
export function suggestion(hits: readonly string[], describe?: (c: string) => string | undefined): string {
  if (hits.length === 0) return "";
  const shown = hits.map((h) => {
    const d = describe?.(h);
    return d ? `${JSON.stringify(h)} (${d})` : JSON.stringify(h);
  });
  const list = shown.length === 1 ? shown[0] : `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]}`;
  return `Did you mean ${list}?`;
}

/** Joins the non-empty sentences of a message with spaces. */
export function sentences(...parts: readonly string[]): string {
  return parts.filter((p) => p !== "").join(" ");
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/** Sorted the way people read lists of IDs: g6-standard-2 before g6-standard-16. */
export function naturalSort<T extends string>(values: readonly T[]): T[] {
  return [...values].sort(collator.compare);
}
