import { Token } from "cdktf";

/**
 * Terraform reads every string in JSON configuration as a template, so text that must reach the node
 * verbatim (a bash script full of `${var}`) has its template sequences escaped first. Named slots are
 * then filled with Terraform expressions, which stay live.
 */
export function escapeTerraformTemplate(text: string): string {
  // Function replacers: in a replacement string "$$" would collapse to a single "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/**
 * Escapes `text`, then replaces each slot marker with its expression. Markers must be plain
 * identifiers that occur nowhere else in the text; the check below keeps a typo from slipping through.
 */
export function fillTemplateSlots(text: string, slots: Record<string, string>): string {
  let out = escapeTerraformTemplate(text);
  for (const [marker, expression] of Object.entries(slots)) {
    if (!/^[A-Za-z0-9_]+$/.test(marker)) throw new Error(`template slot marker ${JSON.stringify(marker)} must be an identifier`);
    if (!out.includes(marker)) throw new Error(`template slot ${marker} does not occur in the text`);
    out = out.split(marker).join(expression);
  }
  return out;
}

/**
 * A Terraform template text as an HCL quoted string literal, for use inside a larger expression
 * (e.g. `${base64encode("…")}`). Template sequences (`${…}`, `$${`) keep their meaning; only the
 * characters a quoted string cannot hold literally are escaped.
 */
export function hclQuotedTemplate(templateText: string): string {
  const escaped = templateText
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t");
  return `"${escaped}"`;
}

/**
 * `${base64gzip("<template>")}`: user data that cloud-init unpacks, built as an expression by hand
 * because cdktf's Fn helpers refuse literal text containing `${`. `templateText` is already escaped
 * (fillTemplateSlots), so its slots stay live.
 */
export function base64gzipTemplate(templateText: string): string {
  return `\${base64gzip(${hclQuotedTemplate(templateText)})}`;
}

/**
 * A Terraform expression that fills the slots of a text held elsewhere (typically a `locals` value
 * with the escaped text): `replace(replace(<textExpression>, "m1", e1), "m2", e2)`, in the order
 * given. `text` is the unescaped text, to check each marker occurs in it. A slot's value is a
 * Terraform template as text (`${each.key}`, `node-${each.key}`), never a cdktf token; a single
 * plain reference is written bare. Markers must be identifiers that occur nowhere else, and no value may contain a
 * later marker (put secrets last).
 */
export function replaceSlotsExpression(textExpression: string, text: string, slots: ReadonlyArray<readonly [string, string]>): string {
  let expr = textExpression;
  for (const [marker, value] of slots) {
    if (!/^[A-Za-z0-9_]+$/.test(marker)) throw new Error(`template slot marker ${JSON.stringify(marker)} must be an identifier`);
    if (!text.includes(marker)) throw new Error(`template slot ${marker} does not occur in the text`);
    // cdktf resolves a token differently by where it sits in an expression, and gets it wrong here.
    if (Token.isUnresolved(value)) throw new Error(`template slot ${marker}: give a Terraform expression as text (e.g. "\${var.x}"), not a cdktf token`);
    const bare = /^\$\{([A-Za-z_][A-Za-z0-9_.\-]*(\[[A-Za-z0-9_."-]+\])*(\.[A-Za-z_][A-Za-z0-9_]*)*)\}$/.exec(value);
    expr = `replace(${expr}, "${marker}", ${bare ? bare[1] : hclQuotedTemplate(value)})`;
  }
  return expr;
}
