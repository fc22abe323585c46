/**
 * HuJSON (JSON with comments and trailing commas, the format of Tailscale policy files): parsing
 * with Microsoft's jsonc-parser, and additions made as text edits so that everything the user wrote,
 * comments and layout included, stays exactly as it was.
 */
import { Node as JsonNode, ParseError, SyntaxKind, createScanner, parse, parseTree, printParseErrorCode } from "jsonc-parser";
import { fail } from "../../validation";

const PARSE_OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false };

/** Parses HuJSON text; a syntax error names the source, line and column. */
export function parseHujson(text: string, source: string): unknown {
  const errors: ParseError[] = [];
  let value: unknown;
  try {
    value = parse(text, errors, PARSE_OPTIONS);
  } catch (e) {
    // The parser recurses: thousands of nested brackets overflow the stack.
    if (e instanceof RangeError) fail(source, "not valid HuJSON: nested too deeply");
    throw e;
  }
  if (errors.length > 0) {
    const e = errors[0];
    const { line, column } = lineAndColumn(text, e.offset);
    fail(source, `not valid HuJSON: ${printParseErrorCode(e.error)} at line ${line}, column ${column}`);
  }
  // A key given twice would silently lose its first value here; Tailscale refuses such a file.
  // "__proto__" would set the object's prototype instead of holding data: it would vanish here.
  const tree = parseTree(text, [], PARSE_OPTIONS);
  let proto: number | undefined;
  let dup: { key: string; offset: number } | undefined;
  try {
    proto = findKey(tree, "__proto__");
    dup = firstDuplicateKey(tree);
  } catch (e) {
    if (e instanceof RangeError) fail(source, "not valid HuJSON: nested too deeply");
    throw e;
  }
  if (proto !== undefined) {
    const { line, column } = lineAndColumn(text, proto);
    fail(source, `the key "__proto__" is not allowed in a policy (line ${line}, column ${column})`);
  }
  if (dup) {
    const { line, column } = lineAndColumn(text, dup.offset);
    fail(source, `not valid HuJSON: key ${JSON.stringify(dup.key)} appears twice in one object (again at line ${line}, column ${column})`);
  }
  return value;
}

function findKey(node: JsonNode | undefined, key: string): number | undefined {
  if (!node) return undefined;
  if (node.type === "property" && node.children?.[0]?.value === key) return node.children[0].offset;
  for (const child of node.children ?? []) {
    const found = findKey(child, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

function firstDuplicateKey(node: JsonNode | undefined): { key: string; offset: number } | undefined {
  if (!node) return undefined;
  if (node.type === "object") {
    const seen = new Set<string>();
    for (const prop of node.children ?? []) {
      const keyNode = prop.children?.[0];
      const key = String(keyNode?.value);
      if (seen.has(key)) return { key, offset: keyNode!.offset };
      seen.add(key);
    }
  }
  for (const child of node.children ?? []) {
    const found = firstDuplicateKey(child);
    if (found) return found;
  }
  return undefined;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** One JSON value on one line, with a space after each colon and comma (Tailscale's own style for rules). */
export function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value);
}

/**
 * A HuJSON document that only grows: values are appended to arrays and objects (created when
 * missing) by inserting text after the last existing member, so nothing already there moves.
 */
export class HujsonEditor {
  private text: string;
  private readonly unit: string;

  constructor(text: string) {
    this.text = text.endsWith("\n") ? text : `${text}\n`;
    // Indent like the file does: Tailscale's admin console writes tabs; most editors two spaces.
    this.unit = /^\t/m.test(this.text) ? "\t" : /^ {4}"/m.test(this.text) && !/^ {2}"/m.test(this.text) ? "    " : "  ";
  }

  toString(): string {
    return this.text;
  }

  /** Prepends comment lines (each gets `// `). */
  prependComment(lines: readonly string[]): void {
    this.text = lines.map((l) => (l ? `// ${l}` : "//")).join("\n") + "\n" + this.text;
  }

  /** Appends `items` to the array at `path` (created, with its parents, when missing). */
  appendToArray(path: readonly string[], items: readonly unknown[]): void {
    if (items.length === 0) return;
    const node = this.nodeAt(path);
    if (!node) {
      this.ensureObjectMember(path, items, "array");
      return;
    }
    if (node.type !== "array") throw new Error(`internal: ${path.join(".")} is not an array`);
    this.insertMembers(node, items.map((i) => inlineJson(i)));
  }

  /** Adds `key: value` members to the object at `path` (created when missing); keys must be new. */
  addToObject(path: readonly string[], entries: readonly [string, unknown][]): void {
    if (entries.length === 0) return;
    const node = this.nodeAt(path);
    if (!node) {
      this.ensureObjectMember(path, Object.fromEntries(entries), "object");
      return;
    }
    if (node.type !== "object") throw new Error(`internal: ${path.join(".")} is not an object`);
    this.insertMembers(node, entries.map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`));
  }

  private root(): JsonNode {
    const root = parseTree(this.text, [], PARSE_OPTIONS);
    if (!root || root.type !== "object") throw new Error("internal: policy text is not an object");
    return root;
  }

  private nodeAt(path: readonly string[]): JsonNode | undefined {
    let node: JsonNode | undefined = this.root();
    for (const key of path) {
      if (!node || node.type !== "object") return undefined;
      // Tailscale reads section names without regard to case ("ACLs", "Tests"): reuse the user's.
      const prop: JsonNode | undefined =
        node.children?.find((p) => p.children?.[0].value === key) ??
        (node.parent === undefined ? node.children?.find((p) => String(p.children?.[0].value).toLowerCase() === key.toLowerCase()) : undefined);
      node = prop?.children?.[1];
    }
    return node;
  }

  /** Creates the missing tail of `path` as a new member holding `value` (multi-line, one item per line). */
  private ensureObjectMember(path: readonly string[], value: unknown, kind: "array" | "object"): void {
    // Find the deepest existing object on the path.
    let depth = path.length - 1;
    while (depth > 0 && !this.nodeAt(path.slice(0, depth))) depth--;
    const parent = depth === 0 ? this.root() : this.nodeAt(path.slice(0, depth))!;
    let nested: unknown = value;
    for (let i = path.length - 1; i > depth; i--) nested = { [path[i]]: nested };
    const level = this.depthOf(parent) + 1;
    const rendered = this.renderBlock(nested, level, depth === path.length - 1 ? kind : "object");
    this.insertMembers(parent, [`${JSON.stringify(path[depth])}: ${rendered}`]);
  }

  /** A new section: the container over several lines, each member inline. */
  private renderBlock(value: unknown, level: number, kind: "array" | "object"): string {
    const pad = this.unit.repeat(level + 1);
    const close = this.unit.repeat(level);
    if (kind === "array") {
      const items = (value as unknown[]).map((i) => `${pad}${inlineJson(i)},`);
      return `[\n${items.join("\n")}\n${close}]`;
    }
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pad}${JSON.stringify(k)}: ${inlineJson(v)},`);
    return `{\n${entries.join("\n")}\n${close}}`;
  }

  /** The offset of the comma that follows `offset` past whitespace and comments, if the next token is one. */
  private commaAfter(offset: number): number | undefined {
    const scanner = createScanner(this.text.slice(offset), false);
    for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
      if (kind === SyntaxKind.Trivia || kind === SyntaxKind.LineBreakTrivia || kind === SyntaxKind.LineCommentTrivia || kind === SyntaxKind.BlockCommentTrivia) continue;
      return kind === SyntaxKind.CommaToken ? offset + scanner.getTokenOffset() : undefined;
    }
    return undefined;
  }

  private depthOf(node: JsonNode): number {
    let d = 0;
    for (let n = node.parent; n; n = n.parent) if (n.type === "object" || n.type === "array") d++;
    return d;
  }

  /** Inserts members (already rendered) into a container node, after its last member. */
  private insertMembers(container: JsonNode, members: readonly string[]): void {
    const level = this.depthOf(container) + 1;
    const pad = this.unit.repeat(level);
    const children = container.children ?? [];
    // A new top-level section gets a blank line before it, like the sections around it.
    const gap = container.parent === undefined && members.some((m) => m.includes("\n")) ? "\n" : "";
    const body = gap + members.map((m) => `${pad}${m},`).join("\n");
    if (children.length === 0) {
      // `[]` or `{}` (possibly with comments inside): open it up.
      const open = container.offset + 1;
      const closePos = container.offset + container.length - 1;
      const inner = this.text.slice(open, closePos);
      const closePad = this.unit.repeat(level - 1);
      const kept = inner.trim() ? `${inner.replace(/\s+$/, "")}\n` : "\n";
      this.text = `${this.text.slice(0, open)}${kept}${body}\n${closePad}${this.text.slice(closePos)}`;
      return;
    }
    // After the last member: find its comma past any comments (`{…} /* note */ ,` has one), and
    // insert after it and a comment on the same line; add a comma only when there is none.
    const last = children[children.length - 1];
    const after = last.offset + last.length;
    const comma = this.commaAfter(after);
    if (comma === undefined) {
      const m = /^[ \t]*(?:\/\/[^\n]*|\/\*.*?\*\/)?/.exec(this.text.slice(after))!;
      const at = after + m[0].length + 1;
      this.text = `${this.text.slice(0, after)},${this.text.slice(after)}`;
      this.text = `${this.text.slice(0, at)}\n${body}${this.text.slice(at)}`;
      return;
    }
    const m = /^[ \t]*(?:\/\/[^\n]*|\/\*.*?\*\/)?/.exec(this.text.slice(comma + 1))!;
    const at = comma + 1 + m[0].length;
    this.text = `${this.text.slice(0, at)}\n${body}${this.text.slice(at)}`;
  }
}
