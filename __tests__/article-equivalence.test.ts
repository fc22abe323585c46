import * as fs from "fs";
import * as path from "path";
import { parse } from "@cdktf/hcl2json";
import { compareTerraformJson, describeDifferences } from "../src/equivalence/compare";
import { ARTICLE_ALLOWED_DIFFERENCES } from "../src/equivalence/article-allowlist";
import { canonicaliseExpressions, Json } from "../src/equivalence/normalise";
import { synthesizedStack } from "./helpers/synth";

// The article's HCL, transcribed from the seed and formatted with `terraform fmt`.
const HCL_FILE = path.join(__dirname, "fixtures", "article", "main.tf");

let fromHcl: Json;
let synthesized: any;

beforeAll(async () => {
  fromHcl = (await parse("main.tf", fs.readFileSync(HCL_FILE, "utf8"))) as Json;
  synthesized = synthesizedStack("article");
});

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const compare = (doc: Json) => compareTerraformJson(fromHcl, doc, ARTICLE_ALLOWED_DIFFERENCES);

test("the article stack is equivalent to the article's HCL, up to the allow-list", () => {
  const result = compare(synthesized);
  if (!result.equivalent) throw new Error(`unexplained differences:\n${describeDifferences(result.unexplained)}`);
  // Every allow-list entry is actually used: a stale entry would hide nothing but mislead readers.
  const used = new Set(result.allowed.map((a) => a.rule));
  for (const rule of ARTICLE_ALLOWED_DIFFERENCES) expect(used.has(rule)).toBe(true);
});

test("a changed swap size is caught", () => {
  const doc = clone(synthesized);
  doc.resource.linode_instance.vpn.swap_size = 512;
  const result = compare(doc);
  expect(result.equivalent).toBe(false);
  expect(result.unexplained.map((d) => d.path)).toEqual(["resource/linode_instance/vpn/swap_size"]);
});

test("a missing provisioner command is caught", () => {
  const doc = clone(synthesized);
  const inline: string[] = doc.resource.linode_instance.vpn.provisioner[0]["remote-exec"].inline;
  inline.splice(inline.indexOf("sudo apt-get install -y iperf3"), 1);
  expect(compare(doc).equivalent).toBe(false);
});

test("an allow-listed path with a value the entry does not accept is caught", () => {
  const doc = clone(synthesized);
  doc.terraform.required_providers.linode.version = "~> 3.0";
  expect(compare(doc).equivalent).toBe(false);
  const noBackend = clone(synthesized);
  noBackend.terraform.backend.local.path = "/root/terraform.article.tfstate";
  expect(compare(noBackend).equivalent).toBe(false);
});

// Mutation sweep: change every leaf value of the synthesized stack, one at a time; each change must
// make the comparison fail unless the leaf sits under an allow-listed path.
test("every single-value change of the stack is caught", () => {
  const leaves: { path: (string | number)[]; value: unknown }[] = [];
  const walk = (node: any, p: (string | number)[]) => {
    if (p.includes("//")) return; // cdktf metadata, ignored by Terraform
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...p, i]));
    else if (node && typeof node === "object") for (const k of Object.keys(node)) walk(node[k], [...p, k]);
    else leaves.push({ path: p, value: node });
  };
  walk(synthesized, []);
  const allowListed = (p: (string | number)[]) =>
    p[0] === "terraform" && (p[1] === "backend" || p[1] === "required_providers");
  const mutate = (v: unknown) =>
    typeof v === "number" ? v + 1 : typeof v === "boolean" ? !v : typeof v === "string" ? `${v}x` : "mutated";

  let checked = 0;
  for (const leaf of leaves) {
    if (allowListed(leaf.path)) continue;
    const doc = clone(synthesized);
    let target = doc;
    for (const k of leaf.path.slice(0, -1)) target = target[k];
    target[leaf.path[leaf.path.length - 1]] = mutate(leaf.value);
    const result = compare(doc);
    if (result.equivalent) throw new Error(`mutation at ${leaf.path.join("/")} went unnoticed`);
    checked++;
  }
  expect(checked).toBeGreaterThan(40);
});

describe("expression canonicalisation", () => {
  test.each([
    ["${element(var.regions, (count.index % length(var.regions)))}", "${element(var.regions, count.index % length(var.regions))}"],
    ["x-${f((a), ((b)))}", "x-${f(a, b)}"],
    ["${(a + b) * c}", "${(a + b) * c}"], // precedence parentheses stay
    ["${f(\"(a)\")}", "${f(\"(a)\")}"], // string literals untouched
    ["$${f((a))} plain (b)", "$${f((a))} plain (b)"], // escaped template and plain text untouched
  ])("%s", (input, expected) => {
    expect(canonicaliseExpressions(input)).toBe(expected);
  });
});
