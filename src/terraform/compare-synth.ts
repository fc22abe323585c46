/**
 * Compares two synthesis output folders (cdktf.out) as Terraform and the CLI read them: the same
 * files, each JSON file equal once parsed, ignoring only the core's version (in each stack's
 * `"//".metadata.version` and in manifest.json's `version`). Used to prove that cdktf and CDK
 * Terrain synthesize the same app into the same Terraform (core-cli.ts, .ci/cores.sh).
 */
import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";

export interface SynthComparison {
  /** Stack names found in both folders. */
  readonly stacks: string[];
  /** Each file's version field, per side, where one was ignored. */
  readonly versions: { readonly a: string[]; readonly b: string[] };
  /** One line per difference: a file on one side only, or a JSON path with both values. */
  readonly differences: string[];
  /** Files equal when parsed but not byte for byte (formatting only). */
  readonly formattingOnly: string[];
}

export function compareSynthDirs(a: string, b: string): SynthComparison {
  const filesA = listFiles(a);
  const filesB = listFiles(b);
  const differences: string[] = [];
  for (const f of filesA) if (!filesB.includes(f)) differences.push(`${f}: only in ${a}`);
  for (const f of filesB) if (!filesA.includes(f)) differences.push(`${f}: only in ${b}`);
  const versions = { a: new Set<string>(), b: new Set<string>() };
  const formattingOnly: string[] = [];
  for (const f of filesA.filter((x) => filesB.includes(x))) {
    const bytesA = fs.readFileSync(path.join(a, f));
    const bytesB = fs.readFileSync(path.join(b, f));
    if (!f.endsWith(".json")) {
      if (!bytesA.equals(bytesB)) differences.push(`${f}: contents differ`);
      continue;
    }
    const docA = withoutVersion(JSON.parse(bytesA.toString("utf8")), f, versions.a);
    const docB = withoutVersion(JSON.parse(bytesB.toString("utf8")), f, versions.b);
    const before = differences.length;
    diffJson(docA, docB, f, differences);
    if (differences.length === before && !bytesA.equals(bytesB)) formattingOnly.push(f);
  }
  const stacks = filesA.filter((f) => filesB.includes(f)).flatMap((f) => /^stacks\/([^/]+)\/cdk\.tf\.json$/.exec(f)?.[1] ?? []);
  return { stacks, versions: { a: [...versions.a].sort(), b: [...versions.b].sort() }, differences, formattingOnly };
}

/** The document without the core's version field (which the file holds where, by its name). */
function withoutVersion(doc: any, file: string, seen: Set<string>): any {
  if (/(^|\/)cdk\.tf\.json$/.test(file) && typeof doc?.["//"]?.metadata?.version === "string") {
    seen.add(doc["//"].metadata.version);
    const { version: _v, ...metadata } = doc["//"].metadata;
    return { ...doc, "//": { ...doc["//"], metadata } };
  }
  if (file === "manifest.json" && typeof doc?.version === "string") {
    seen.add(doc.version);
    const { version: _v, ...rest } = doc;
    return rest;
  }
  return doc;
}

function diffJson(a: unknown, b: unknown, at: string, out: string[]): void {
  if (isDeepStrictEqual(a, b)) return;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) diffJson(a[k], b[k], Array.isArray(a) ? `${at}[${k}]` : `${at}.${JSON.stringify(k)}`, out);
    return;
  }
  out.push(`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
}

function listFiles(dir: string, base = dir): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name)).split(path.sep).join("/")]))
    .sort();
}
