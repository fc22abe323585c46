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
