/** The pure parts of the peer-relay rehearsal's lab additions (no namespaces, no root). */
import { natRuleset } from "../src/rehearsal/lab-nat";
import { bootstrapJoinScript } from "../src/rehearsal/tailnet-lab";

describe("natRuleset", () => {
  test("endpoint-independent: plain masquerade (the kernel keeps the source port when it can)", () => {
    const r = natRuleset("endpoint-independent");
    expect(r).toMatch(/oifname "eth0" masquerade\n/);
    expect(r).not.toMatch(/random/);
  });
  test("symmetric: masquerade random (a port drawn per conntrack entry, i.e. per destination)", () => {
    expect(natRuleset("symmetric")).toMatch(/oifname "eth0" masquerade random\n/);
  });
  test("both drop unsolicited packets to the NAT itself (no conntrack entry left to clash with a later mapping)", () => {
    for (const m of ["endpoint-independent", "symmetric"] as const) expect(natRuleset(m)).toMatch(/hook input[^}]*iifname "eth0" ct state new drop/);
  });
});

describe("bootstrapJoinScript steps", () => {
  const rendered = [
    "readonly TS_UP_FLAGS=('--ssh')",
    "readonly AUTH_KEY_FILE='/run/x'",
    "readonly TS_UP_STAMP='/var/lib/x'",
    "readonly WAIT_TIMEOUT=10",
    ...["log", "warn", "die", "changed", "on_exit", "backend_state", "settled_backend_state", "write_auth_key", "step_tailscale_up", "step_peer_relay"].map(
      (f) => `${f}() { echo ${f}; }`,
    ),
    "",
  ].join("\n");
  const sub = { binDir: "/lab/bin", authKeyFile: "/lab/key", upStampFile: "/lab/stamp" };
  test("by default only step_tailscale_up runs", () => {
    const s = bootstrapJoinScript(rendered, sub);
    expect(s).toMatch(/\nstep_tailscale_up\n/);
    expect(s).not.toMatch(/step_peer_relay/);
  });
  test("further rendered steps are cut from the script and run in order after it", () => {
    const s = bootstrapJoinScript(rendered, sub, ["step_tailscale_up", "step_peer_relay"]);
    expect(s).toMatch(/^step_peer_relay\(\) \{ echo step_peer_relay; \}$/m);
    expect(s).toMatch(/trap on_exit EXIT\nstep_tailscale_up\nstep_peer_relay\n/);
    expect(() => bootstrapJoinScript(rendered, sub, ["step_tailscale_up", "step_missing"])).toThrow(/no function step_missing/);
  });
});
