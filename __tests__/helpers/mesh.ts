import { App, Testing } from "cdktf";
import { MeshStack, MeshStackProps } from "../../src/systems/mesh/mesh-stack";

/** Synthesizes one MeshStack with the given props; returns the parsed Terraform JSON. */
export function synthMesh(props: MeshStackProps = {}): any {
  const app = Testing.app() as App;
  const stack = new MeshStack(app, "mesh", props);
  return JSON.parse(Testing.synth(stack));
}

/** Drops cdktf's "//" metadata so two documents can be compared as Terraform sees them. */
export function withoutMetadata(doc: any): any {
  if (Array.isArray(doc)) return doc.map(withoutMetadata);
  if (doc && typeof doc === "object") {
    return Object.fromEntries(Object.entries(doc).filter(([k]) => k !== "//").map(([k, v]) => [k, withoutMetadata(v)]));
  }
  return doc;
}

/**
 * The per-node script a node's user_data (`${base64gzip(replace(…local.<x>_bootstrap…))}`) or
 * remote-exec line (`${replace(…)}`) stands for, written back as one Terraform template: the
 * local's text with each slot marker replaced by its expression (`${each.value.hostname}`, …).
 */
export function nodeScriptTemplate(doc: any, expression: string): string {
  let expr = /^\$\{base64gzip\((.*)\)\}$/s.exec(expression)?.[1] ?? /^\$\{(replace\(.*\))\}$/s.exec(expression)?.[1];
  if (!expr) throw new Error(`not a bootstrap expression: ${expression.slice(0, 120)}`);
  const slots: [string, string][] = [];
  for (;;) {
    const m = /^replace\((.*), "([A-Za-z0-9_]+)", ([A-Za-z0-9_.[\]-]+|"(?:[^"\\]|\\.)*")\)$/s.exec(expr);
    if (!m) break;
    slots.unshift([m[2], m[3].startsWith('"') ? JSON.parse(m[3]) : `\${${m[3]}}`]);
    expr = m[1];
  }
  const local = /^local\.([A-Za-z0-9_]+)$/.exec(expr);
  if (!local || typeof doc.locals?.[local[1]] !== "string") throw new Error(`the script is not a local: ${expr.slice(0, 120)}`);
  let text: string = doc.locals[local[1]];
  for (const [marker, value] of slots) text = text.split(marker).join(value);
  return text;
}
