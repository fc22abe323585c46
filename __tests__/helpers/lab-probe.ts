/** The probe's own runner and report, run against lab tailnet nodes from the first one. */
import { TailnetLabNode } from "../../src/rehearsal/tailnet-lab";
import { buildReport, Report } from "../../src/probe/report";
import { runProbe } from "../../src/probe/runner";
import { NetnsTransport } from "../../src/probe/transport";
import { MeshNode } from "../../src/probe/types";

/** Measures meshNodes[0] → every other node; `tailscale` on each node is that node's lab binary. */
export async function probeFromFirst(meshNodes: MeshNode[], labNodes: readonly TailnetLabNode[], iperfPort: number): Promise<Report> {
  const transport = new (class extends NetnsTransport {
    netnsArgs(n: MeshNode, argv: readonly string[]): string[] {
      const node = labNodes.find((x) => x.ns === n.netns)!;
      return super.netnsArgs(n, argv[0] === "tailscale" ? [`${node.binDir}/tailscale`, ...argv.slice(1)] : argv);
    }
  })();
  const run = await runProbe({
    nodes: meshNodes,
    transport,
    plan: { mode: "from", source: meshNodes[0] },
    options: { pingCount: 3, pingIntervalS: 0.2, pingWaitS: 1, tailscalePingCount: 3, iperfDurationS: 1, iperfOmitS: 0, iperfServer: "managed", iperfPort },
  });
  return buildReport(run);
}
