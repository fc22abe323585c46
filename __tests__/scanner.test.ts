/**
 * The scanner in the plan review (src/harness/scanner.ts): checkov's JSON split per plan file,
 * findings sorted into accepted (with the reason) and not, acceptances that no longer fire flagged,
 * the plan.md section, and the settings that keep checkov offline. The run over every real stack
 * is in plan-engines.test.ts (it plans every stack anyway).
 */
import * as path from "path";
import { STACK_NAMES } from "../src/app";
import { ACCEPTED_FINDINGS, AcceptedFinding } from "../src/harness/scanner-accepted";
import { checkovEnv, findCheckov, parseCheckovJson, renderScanMarkdown, reviewScan, ScanResult } from "../src/harness/scanner";

const check = (id: string, name: string, resource: string, file: string) => ({ check_id: id, check_name: name, resource, resource_address: resource, file_abs_path: file });

describe("checkov's report", () => {
  test("is split per plan file; passed checks are counted, failed ones kept with the plan address", () => {
    const a = path.resolve("/w/a/plan.json");
    const b = path.resolve("/w/b/plan.json");
    const report = {
      check_type: "terraform_plan",
      results: {
        passed_checks: [check("CKV_LIN_1", "p", "linode_instance.x", a), check("CKV_LIN_1", "p", "linode_instance.y", b), check("CKV_LIN_3", "p", "linode_instance.y", b)],
        failed_checks: [check("CKV_LIN_6", "outbound", "linode_firewall.f", b), check("CKV_LIN_2", "keys", 'linode_instance.n["us-ord"]', b)],
        parsing_errors: [],
      },
    };
    const r = parseCheckovJson(JSON.stringify(report), [a, b]);
    expect(r.get(a)).toEqual({ tool: "Checkov 3.3.30", passed: 1, failed: [] });
    expect(r.get(b)!.passed).toBe(2);
    // Sorted by check id, then address.
    expect(r.get(b)!.failed.map((f) => f.check)).toEqual(["CKV_LIN_2", "CKV_LIN_6"]);
    expect(r.get(b)!.failed[0].resource).toBe('linode_instance.n["us-ord"]');
  });

  test("a file it could not parse, or a file it was not given, is an error, not an empty result", () => {
    const a = path.resolve("/w/a/plan.json");
    expect(() => parseCheckovJson(JSON.stringify({ results: { parsing_errors: [a] } }), [a])).toThrow(/could not parse/);
    const other = { results: { failed_checks: [check("CKV_LIN_2", "k", "x.y", "/elsewhere/plan.json")] } };
    expect(() => parseCheckovJson(JSON.stringify(other), [a])).toThrow(/not given/);
  });

  test("an array of reports (several frameworks) is merged", () => {
    const a = path.resolve("/w/a/plan.json");
    const one = { results: { failed_checks: [check("CKV_AWS_88", "ip", "aws_instance.r", a)] } };
    const two = { results: { passed_checks: [check("CKV2_AWS_1", "p", "aws_vpc.v", a)] } };
    expect(parseCheckovJson(JSON.stringify([one, two]), [a]).get(a)).toMatchObject({ passed: 1, failed: [{ check: "CKV_AWS_88" }] });
  });
});

describe("review of findings", () => {
  const accepted: AcceptedFinding[] = [
    { check: "CKV_LIN_2", where: { mesh: ["linode_instance.node[*]"] }, reason: "no SSH at all" },
    { check: "CKV_LIN_6", where: { mesh: ["linode_firewall.mesh"], other: ["linode_firewall.o"] }, reason: "outbound needed" },
    { check: "CKV_LIN_5", where: { mesh: ["linode_firewall.mesh"] }, reason: "gone" },
  ];
  const result: ScanResult = {
    tool: "Checkov 3.3.30",
    passed: 3,
    failed: [
      { check: "CKV_LIN_2", name: "Ensure SSH key set in authorized_keys", resource: 'linode_instance.node["ap-west"]' },
      { check: "CKV_LIN_2", name: "Ensure SSH key set in authorized_keys", resource: 'linode_instance.node["us-ord"]' },
      { check: "CKV_LIN_2", name: "Ensure SSH key set in authorized_keys", resource: "linode_instance.other" },
      { check: "CKV_LIN_6", name: "Ensure Outbound Firewall Policy is not set to ACCEPT", resource: "linode_firewall.mesh" },
    ],
  };

  test("a finding is accepted only for the listed stack, check and address pattern", () => {
    const r = reviewScan("mesh", result, accepted);
    expect(r.findings.filter((f) => f.accepted).map((f) => f.resource)).toEqual(['linode_instance.node["ap-west"]', 'linode_instance.node["us-ord"]', "linode_firewall.mesh"]);
    expect(r.findings.filter((f) => !f.accepted).map((f) => f.resource)).toEqual(["linode_instance.other"]);
    // The same findings in a stack the list doesn't name are all open.
    expect(reviewScan("article", result, accepted).findings.every((f) => !f.accepted)).toBe(true);
  });

  test("an accepted check that no longer fires is flagged as stale, per stack and address", () => {
    const r = reviewScan("mesh", result, accepted);
    expect(r.stale).toEqual([{ check: "CKV_LIN_5", stack: "mesh", resource: "linode_firewall.mesh" }]);
    // The other stack's entry is judged only when that stack is scanned.
    expect(reviewScan("other", { ...result, failed: [] }, accepted).stale).toEqual([{ check: "CKV_LIN_6", stack: "other", resource: "linode_firewall.o" }]);
  });

  test("plan.md section: counts, open findings first, accepted ones with their reason, stale entries", () => {
    const md = renderScanMarkdown(reviewScan("mesh", result, accepted)).join("\n");
    expect(md).toContain("### Scanner: Checkov 3.3.30");
    expect(md).toContain("3 checks passed, 4 failed: **1 not accepted**, 3 accepted on purpose");
    expect(md.indexOf("Not accepted")).toBeLessThan(md.indexOf("Accepted on purpose"));
    expect(md).toContain("- `CKV_LIN_2` Ensure SSH key set in authorized_keys (1): `linode_instance.other`");
    expect(md).toContain('- `CKV_LIN_2` Ensure SSH key set in authorized_keys (2): `linode_instance.node["ap-west"]`, `linode_instance.node["us-ord"]`. Why: no SSH at all');
    expect(md).toMatch(/no longer reported[^\n]*\n\n- `CKV_LIN_5` on `linode_firewall.mesh`/);
    expect(renderScanMarkdown({ skipped: "checkov is missing" }).join("\n")).toBe("### Scanner\n\nSkipped: checkov is missing.\n");
  });
});

describe("the accepted list", () => {
  const stacks: readonly string[] = STACK_NAMES;

  test("every entry names a checkov id, stacks of the app, addresses, and a reason", () => {
    expect(ACCEPTED_FINDINGS.length).toBeGreaterThan(0);
    for (const a of ACCEPTED_FINDINGS) {
      expect(a.check).toMatch(/^CKV2?_[A-Z]+_\d+$/);
      expect(a.reason.length).toBeGreaterThan(40);
      for (const [stack, addrs] of Object.entries(a.where)) {
        expect(stacks).toContain(stack);
        expect(addrs.length).toBeGreaterThan(0);
        for (const r of addrs) expect(r).toMatch(/^[a-z0-9_]+\.[a-z0-9_]+(_\*)?(\[.*\])?$/);
      }
    }
    // One entry per check: one reason per check, in one place.
    expect(new Set(ACCEPTED_FINDINGS.map((a) => a.check)).size).toBe(ACCEPTED_FINDINGS.length);
  });
});

describe("checkov stays offline and unconfigured by the caller", () => {
  test("platform keys and settings are dropped; update check and platform mapping are off", () => {
    const env = checkovEnv({ PATH: "/bin", BC_API_KEY: "k", PRISMA_API_URL: "u", CKV_VALIDATE_SECRETS: "true", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2: "true" });
    expect(env).toEqual({ PATH: "/bin", CKV_SKIP_PACKAGE_UPDATE_CHECK: "true", BC_SKIP_MAPPING: "TRUE" });
  });

  test("a missing install gives a reason with no absolute path (it lands in plan.md)", () => {
    const r = findCheckov({ TOOLS_CACHE: "/nonexistent-tools-cache" });
    expect(r).toHaveProperty("missing");
    const reason = (r as { missing: string }).missing;
    expect(reason).toContain("scripts/install-checkov.sh");
    expect(reason).not.toContain("/nonexistent");
  });
});
