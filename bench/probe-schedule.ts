/**
 * `npm run bench:schedule`: the probe's all-pairs schedule on a virtual clock (the real runProbe, a
 * stand-in transport, 2 s ping + 12 s iperf3 = 14 s a pair). Exact and machine-independent: the
 * figures are virtual time, not wall time. Prints a Markdown table for the README.
 */
import { simulateAllPairs } from "../src/probe/schedule-sim";

async function main(): Promise<void> {
  const rows: string[] = [
    "| Nodes | Pairs | --concurrency | Makespan (pair-times) | Bound (rounds) | Ratio | Hours at 14 s | Most pairs at once | Node overlaps |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const n of [14, 45, 100]) {
    for (const c of [undefined, 4, 50, 256]) {
      const r = await simulateAllPairs({ nodes: n, concurrency: c });
      rows.push(
        `| ${n} | ${r.pairs} | ${c === undefined ? `default (${r.concurrency})` : c} | ${r.pairTimes.toFixed(0)} | ${r.boundRounds} | ` +
          `${r.ratioToRounds.toFixed(3)} | ${(r.makespanS / 3600).toFixed(2)} | ${r.maxParallel} | ${r.overlaps} |`,
      );
    }
  }
  console.log(rows.join("\n"));
  const j = await simulateAllPairs({ nodes: 14, jitter: 0.3 });
  console.log(
    `\nUnequal pairs (iperf3 12 s ± 30 %, 14 nodes, default): ${(j.makespanS / 60).toFixed(1)} min, ` +
      `${j.ratioToNodeWork.toFixed(3)}× the busiest node's own test time (a bound for any schedule).`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
