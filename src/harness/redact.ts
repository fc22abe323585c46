/**
 * `terraform show -json` prints the values of sensitive root variables and sensitive attributes in
 * clear, with markers beside them. A plan.json meant for review (CI artifacts, pull requests) must not
 * carry them, so every value Terraform marks sensitive is replaced before the file is written.
 */
export const REDACTED = "(sensitive value)";

type Json = any;

/** Returns a copy of a plan JSON document with every sensitive value replaced by REDACTED. */
export function redactPlanJson(plan: Json): Json {
  const out = JSON.parse(JSON.stringify(plan));

  // Root variables: sensitivity lives in the configuration section.
  const declared = out.configuration?.root_module?.variables ?? {};
  for (const [name, v] of Object.entries<Json>(out.variables ?? {})) {
    if (declared[name]?.sensitive && v && "value" in v) v.value = REDACTED;
  }

  const redactModule = (mod: Json) => {
    if (!mod) return;
    for (const r of mod.resources ?? []) r.values = mask(r.values, r.sensitive_values);
    for (const child of mod.child_modules ?? []) redactModule(child);
  };
  redactModule(out.planned_values?.root_module);
  redactModule(out.prior_state?.values?.root_module);

  for (const rc of [...(out.resource_changes ?? []), ...(out.resource_drift ?? [])]) {
    const c = rc.change;
    if (!c) continue;
    c.before = mask(c.before, c.before_sensitive);
    c.after = mask(c.after, c.after_sensitive);
  }
  for (const c of Object.values<Json>(out.output_changes ?? {})) {
    c.before = mask(c.before, c.before_sensitive);
    c.after = mask(c.after, c.after_sensitive);
  }
  for (const container of [out.planned_values?.outputs, out.prior_state?.values?.outputs]) {
    for (const o of Object.values<Json>(container ?? {})) if (o?.sensitive) o.value = REDACTED;
  }

  // The configuration section repeats literal values (`constant_value`) without any marks: mask
  // them where any instance of the same resource marks the attribute sensitive.
  const marksByConfigAddress = new Map<string, Json[]>();
  for (const rc of out.resource_changes ?? []) {
    if (rc.module_address || !rc.change) continue;
    const key = `${rc.mode === "data" ? "data." : ""}${rc.type}.${rc.name}`;
    marksByConfigAddress.set(key, [...(marksByConfigAddress.get(key) ?? []), rc.change.after_sensitive, rc.change.before_sensitive]);
  }
  for (const r of out.configuration?.root_module?.resources ?? []) {
    for (const marks of marksByConfigAddress.get(r.address) ?? []) r.expressions = maskExpressions(r.expressions, marks);
  }
  return out;
}

/** Masks `constant_value`s in a configuration expressions tree where `marks` flags the attribute. */
function maskExpressions(exprs: Json, marks: Json): Json {
  if (!exprs || typeof exprs !== "object" || !marks || typeof marks !== "object") return exprs;
  const out: Json = Array.isArray(exprs) ? [] : {};
  for (const [k, e] of Object.entries<Json>(exprs)) {
    const m = Array.isArray(marks) ? marks[Number(k)] ?? marks[0] : marks[k];
    if (m === true && e && typeof e === "object" && "constant_value" in e) out[k] = { ...e, constant_value: REDACTED };
    else if (Array.isArray(e)) out[k] = e.map((block, i) => maskExpressions(block, Array.isArray(m) ? m[i] ?? m[0] : m));
    else out[k] = e;
  }
  return out;
}

/** Replaces the parts of `value` that the parallel `marks` structure flags with `true`. */
export function mask(value: Json, marks: Json): Json {
  if (marks === true) return value === null || value === undefined ? value : REDACTED;
  if (!marks || typeof marks !== "object" || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v, i) => mask(v, Array.isArray(marks) ? marks[i] : undefined));
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) out[k] = mask(v, marks[k]);
  return out;
}
