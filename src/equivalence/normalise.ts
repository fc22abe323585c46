/**
 * Brings Terraform JSON from two sources (cdktf synthesis, and HCL parsed by @cdktf/hcl2json) to one
 * canonical shape so they can be compared value by value. Only representation differences are erased;
 * anything that could change what Terraform does is kept.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Rules applied to both sides. Each says what representation difference it erases. */
export function normaliseTerraformJson(doc: Json): Json {
  return normaliseNode(doc, []);
}

function normaliseNode(node: Json, path: string[]): Json {
  if (Array.isArray(node)) {
    // Block syntax: hcl2json emits every block as an array of bodies, cdktf emits a single body as
    // an object (and a provisioner list as [{type: body}]); one body either way is the same block.
    if (node.length === 1 && isObject(node[0])) return normaliseNode(node[0], path);
    return node.map((item, i) => normaliseNode(item, [...path, String(i)]));
  }
  if (isObject(node)) {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(node).sort()) {
      // cdktf's construct metadata: comments for humans, ignored by Terraform.
      if (key === "//") continue;
      out[key] = normaliseNode(node[key], [...path, key]);
    }
    return out;
  }
  if (typeof node === "string") {
    // hcl2json wraps a variable's type constraint in ${}; Terraform JSON takes it bare.
    if (path.length === 3 && path[0] === "variable" && path[2] === "type") return unwrapTemplate(node);
    return canonicaliseExpressions(node);
  }
  return node;
}

function isObject(v: Json): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function unwrapTemplate(s: string): string {
  const m = /^\$\{(.*)\}$/s.exec(s);
  return m ? m[1] : s;
}

/**
 * Removes grouping parentheses that enclose a whole function-call argument, e.g. cdktf's
 * `element(xs, (i % n))` becomes `element(xs, i % n)`. Arguments are comma-separated expressions, so
 * such parentheses never change meaning. Text outside `${...}` and inside string literals is left alone.
 */
export function canonicaliseExpressions(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    if (s.startsWith("$${", i)) {
      out += "$${";
      i += 3;
      continue;
    }
    if (s.startsWith("${", i)) {
      const end = matchingBrace(s, i + 1);
      if (end < 0) return s; // not a well-formed template: compare verbatim
      out += "${" + stripArgumentParens(s.slice(i + 2, end)) + "}";
      i = end + 1;
      continue;
    }
    out += s[i++];
  }
  return out;
}

function matchingBrace(s: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return -1;
}

function stripArgumentParens(expr: string): string {
  // Repeat until stable: removing one pair can expose another, e.g. f(((a))).
  for (;;) {
    const next = stripOnce(expr);
    if (next === expr) return expr;
    expr = next;
  }
}

function stripOnce(expr: string): string {
  const opens: { index: number; isCall: boolean }[] = [];
  const pairs: [number, number, boolean][] = [];
  let inString = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "(") opens.push({ index: i, isCall: /[A-Za-z0-9_]$/.test(expr.slice(0, i)) });
    else if (c === ")") {
      const open = opens.pop();
      if (open) pairs.push([open.index, i, open.isCall]);
    }
  }
  const callParens = pairs.filter((p) => p[2]);
  for (const [start, end, isCall] of pairs) {
    if (isCall) continue;
    // A grouping pair is an entire argument when it sits right after "(" or "," of a call and is
    // followed by "," or that call's ")".
    const before = expr.slice(0, start).trimEnd();
    const after = expr.slice(end + 1).trimStart();
    const prevChar = before[before.length - 1];
    const nextChar = after[0];
    const insideCall = callParens.some(([cs, ce]) => cs < start && end < ce);
    if (insideCall && (prevChar === "(" || prevChar === ",") && (nextChar === "," || nextChar === ")")) {
      if (prevChar === "(" && !callParens.some(([cs]) => before.length - 1 === cs)) continue;
      return expr.slice(0, start) + expr.slice(start + 1, end) + expr.slice(end + 1);
    }
  }
  return expr;
}
