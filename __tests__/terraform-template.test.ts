import { escapeTerraformTemplate, fillTemplateSlots, hclQuotedTemplate } from "../src/terraform/template";

test("escapes template sequences so Terraform passes them through", () => {
  expect(escapeTerraformTemplate('a ${HOME} b %{if} c $$x')).toBe("a $${HOME} b %%{if} c $$x");
});

test("fills slots with live expressions after escaping", () => {
  const out = fillTemplateSlots('echo "${X}" SLOT_A', { SLOT_A: "${var.a}" });
  expect(out).toBe('echo "$${X}" ${var.a}');
  expect(() => fillTemplateSlots("no marker", { SLOT_A: "x" })).toThrow(/SLOT_A does not occur/);
  expect(() => fillTemplateSlots("a b", { "a b": "x" })).toThrow(/must be an identifier/);
});

test("quotes a template for use inside an expression", () => {
  expect(hclQuotedTemplate('l1 "q" \\ $${X}\n\tl2')).toBe('"l1 \\"q\\" \\\\ $${X}\\n\\tl2"');
});

test("replace() chain fills the slots of a text held in a local, in order, references bare", () => {
  const { replaceSlotsExpression } = require("../src/terraform/template") as typeof import("../src/terraform/template");
  expect(replaceSlotsExpression("local.s", "a HOST_SLOT KEY_SLOT", [["HOST_SLOT", "${each.value.hostname}"], ["KEY_SLOT", "${local.k[each.key]}"]])).toBe(
    'replace(replace(local.s, "HOST_SLOT", each.value.hostname), "KEY_SLOT", local.k[each.key])',
  );
  // Anything but a plain reference stays a quoted template.
  expect(replaceSlotsExpression("local.s", "X_SLOT", [["X_SLOT", 'pre-${var.a}"']])).toBe('replace(local.s, "X_SLOT", "pre-${var.a}\\"")');
  expect(() => replaceSlotsExpression("local.s", "nothing", [["X_SLOT", "x"]])).toThrow(/X_SLOT does not occur/);
  expect(() => replaceSlotsExpression("local.s", "a b", [["a b", "x"]])).toThrow(/must be an identifier/);
});
