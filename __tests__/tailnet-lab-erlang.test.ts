/**
 * The Erlang cluster on the real tailnet (src/rehearsal/tailnet-lab.ts): three lab nodes join with
 * the rendered bootstrap's join step (tag:erlang, a key minted as Terraform's), headscale loads the
 * composed app policy (its erlang grants: tcp:4369 and the distribution ports between tag:erlang),
 * and each node runs exactly the files erlangNodeFiles() renders, started with the rendered units'
 * command lines (as in __tests__/erlang-rehearsal.test.ts, whose wireguard-go version and benchmark
 * stay as they are). `tailscale ip -4`, which the rendered launcher asks, is the real client.
 *
 * Substitutions beyond the lab's own (docs/lab.md): tailnet names resolve through
 * /etc/netns/<ns>/hosts (MagicDNS is off in the lab); the service account is `nobody`.
 */
import { randomBytes } from "crypto";
import { TailnetLab, tailnetLabUnavailable } from "../src/rehearsal/tailnet-lab";
import { renderNodeBootstrapScript, distroForImage } from "../src/tailnet/bootstrap";
import { ErlangLab, createErlangLabOnTailnet, listeners, probeEval, startEpmd, startNode, stopErlang } from "../src/systems/erlang-cluster/lab";
import { composedAppPolicy } from "./helpers/lab-policy";

const reason = tailnetLabUnavailable([["erl", ["-version"]], ["epmd", ["-names"]], ["setpriv", ["--version"]], ["ss", ["-V"]]]);
if (reason) console.warn(`SKIPPED tailnet lab erlang rehearsal: ${reason}`);
const maybe = reason ? describe.skip : describe;

const COOKIE = randomBytes(24).toString("hex");
const DIST = { min: 9100, max: 9105 };
const list = (ns: readonly string[]) => `[${ns.map((n) => `'${n}'`).join(",")}]`;

maybe("erlang cluster on the lab tailnet (real tailscaled + headscale)", () => {
  const started = Date.now();
  // Made in beforeAll: a skipped describe still runs its body, and the lab needs the programs.
  let tailnet!: TailnetLab;
  let e: ErlangLab;

  beforeAll(async () => {
    tailnet = new TailnetLab({ prefix: `te${process.pid % 1000}`, policy: composedAppPolicy() });
    await tailnet.start();
    e = await createErlangLabOnTailnet(tailnet, {
      cookie: COOKIE,
      distPorts: DIST,
      syncTimeoutMs: 3000,
      joinScript: (hostname) =>
        renderNodeBootstrapScript({
          hostname,
          advertiseTags: ["tag:erlang"],
          distro: distroForImage("linode/ubuntu24.04"),
          authKey: tailnet.mintKey({ tags: ["tag:erlang"], expirySeconds: 3600 }).key,
        }),
    });
    for (const h of e.hosts) await startEpmd(e, h);
    for (const h of e.hosts) startNode(e, h);
  }, 120_000);

  afterAll(async () => {
    if (e) await stopErlang(e);
    if (!tailnet) return;
    tailnet.destroy();
    expect(tailnet.net.leftovers()).toEqual([]);
    console.log(`tailnet lab erlang: wall ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test("the nodes joined with tag:erlang and form the cluster over their tailnet names", () => {
    for (const h of e.hosts) expect(tailnet.status(tailnet.node(`e${h.index}`))!.Self.Tags).toEqual(["tag:erlang"]);
    const all = list(e.members);
    const code = `Ns = ${all},
      View = fun() -> [{N, case rpc:call(N, erlang, nodes, []) of L when is_list(L) -> lists:sort(L); Bad -> Bad end} || N <- Ns] end,
      Done = fun(V) -> lists:all(fun({N, L}) -> L =:= lists:sort(Ns -- [N]) end, V) end,
      Wait = fun W(T) -> V = View(), case Done(V) orelse T =< 0 of true -> V; false -> timer:sleep(200), W(T - 200) end end,
      [io:format("~s ~0p~n", [N, L]) || {N, L} <- Wait(20000)], halt().`;
    const r = probeEval(e, e.hosts[0], code);
    expect(r.status).toBe(0);
    const view = Object.fromEntries(r.stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
    for (const n of e.members) expect({ n, nodes: view[n] }).toEqual({ n, nodes: list(e.members.filter((m) => m !== n).sort()) });
  }, 40_000);

  test("epmd and distribution: on the tailnet address only; the underlay address refuses, the tailnet connects", () => {
    const target = e.hosts[0];
    const from = e.hosts[1];
    const ls = listeners(e, target);
    expect(ls.filter((l) => l.local.startsWith(`${target.publicIp}:`) || /^(0\.0\.0\.0|\*|\[::\]):/.test(l.local))).toEqual([]);
    const distPort = ls.find((l) => l.process === "beam.smp")!.local.split(":")[1];
    const connect = (ip: string, port: string | number) => e.lab.exec(from.netns, "timeout", ["3", "bash", "-c", `exec 3<>/dev/tcp/${ip}/${port} && echo connected`]);
    for (const port of [4369, distPort]) {
      expect({ port, out: connect(target.publicIp, port).stdout }).toEqual({ port, out: "" });
      expect({ port, out: connect(target.tailnetIp, port).stdout }).toEqual({ port, out: "connected\n" });
    }
    // Distribution sessions run between tailnet addresses (through tailscale0).
    const est = e.lab.exec(target.netns, "ss", ["-tnH", "state", "established"]).stdout;
    expect(est).toContain(`${target.tailnetIp}:`);
    expect(est).not.toContain(`${target.publicIp}:${distPort}`);
  });

  test("no node tried to reach Tailscale's servers (no tailscale.com host, no bootstrap DNS in any log)", () => {
    expect(tailnet.tailscaleServerAttempts()).toEqual([]);
  });
});
