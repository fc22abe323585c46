import { Json, normaliseTerraformJson } from "./normalise";

/** One place where the two documents differ. `path` uses "/" between keys. */
export interface Difference {
  readonly path: string;
  readonly expected: Json | undefined; // from the HCL
  readonly actual: Json | undefined; // from the synthesized JSON
}

/**
 * A difference the comparison accepts. Each entry must say why: the list is the whole of what the
 * synthesized stack is allowed to add to, or change from, the article's HCL.
 */
export interface AllowedDifference {
  /** Path pattern; `*` matches one key. */
  readonly path: string;
  readonly reason: string;
  /** Accepts the synthesized value; by default any value is accepted. */
  readonly accepts?: (actual: Json | undefined, expected: Json | undefined) => boolean;
}

export interface ComparisonResult {
  readonly equivalent: boolean;
  /** Differences no allow-list entry covers. */
  readonly unexplained: Difference[];
  /** Differences covered, with the entry that covered each. */
  readonly allowed: { difference: Difference; rule: AllowedDifference }[];
}

/** Compares after normalisation; every leaf that differs must be explained by an allow-list entry. */
export function compareTerraformJson(
  fromHcl: Json,
  synthesized: Json,
  allowList: readonly AllowedDifference[],
): ComparisonResult {
  const differences = diff(normaliseTerraformJson(fromHcl), normaliseTerraformJson(synthesized), []);
  const unexplained: Difference[] = [];
  const allowed: { difference: Difference; rule: AllowedDifference }[] = [];
  for (const d of differences) {
    const rule = allowList.find(
      (r) => pathMatches(r.path, d.path) && (r.accepts ? r.accepts(d.actual, d.expected) : true),
    );
    if (rule) allowed.push({ difference: d, rule });
    else unexplained.push(d);
  }
  return { equivalent: unexplained.length === 0, unexplained, allowed };
}

function diff(expected: Json | undefined, actual: Json | undefined, path: string[]): Difference[] {
  const bothObjects = isObject(expected) && isObject(actual);
  if (bothObjects) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].sort().flatMap((k) => diff(expected[k], actual[k], [...path, k]));
  }
  if (Array.isArray(expected) && Array.isArray(actual) && expected.length === actual.length) {
    return expected.flatMap((e, i) => diff(e, actual[i], [...path, String(i)]));
  }
  if (JSON.stringify(expected) === JSON.stringify(actual)) return [];
  return [{ path: path.join("/"), expected, actual }];
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function pathMatches(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const q = path.split("/");
  return p.length === q.length && p.every((seg, i) => seg === "*" || seg === q[i]);
}

export function describeDifferences(diffs: readonly Difference[]): string {
  return diffs
    .map((d) => `${d.path}: HCL has ${JSON.stringify(d.expected)}, synthesized has ${JSON.stringify(d.actual)}`)
    .join("\n");
}
