/**
 * A discrete-event clock for measuring the probe's scheduler without waiting: `sleep(ms)` resolves
 * when virtual time reaches it, and time only moves when every promise in flight is waiting on the
 * clock. Used by the scheduler tests and the `schedule` benchmark with a stand-in transport.
 */
import { RunResult, Transport } from "./transport";
import { MeshNode } from "./types";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly wake: () => void;
}

export class VirtualClock {
  private timers: Timer[] = [];
  private seq = 0;
  private nowMs = 0;

  get now(): number {
    return this.nowMs;
  }

  sleep = (ms: number): Promise<void> =>
    new Promise<void>((wake) => {
      this.timers.push({ at: this.nowMs + Math.max(0, ms), seq: this.seq++, wake });
    });

  /**
   * Runs `work` to completion on virtual time. Between steps it lets every ready callback run
   * (a macrotask turn), then wakes all timers due at the earliest instant together.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    let done = false;
    let result: T | undefined;
    let error: unknown;
    work().then(
      (v) => ((done = true), (result = v)),
      (e) => ((done = true), (error = e ?? new Error("rejected"))),
    );
    const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
    for (;;) {
      // Two turns: callbacks deferred with setImmediate by the code under test run in the first.
      await turn();
      await turn();
      if (done) break;
      if (this.timers.length === 0) throw new Error("virtual clock: work is stuck (nothing waits on the clock)");
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const at = this.timers[0].at;
      this.nowMs = at;
      const due = this.timers.filter((t) => t.at === at);
      this.timers = this.timers.filter((t) => t.at !== at);
      for (const t of due) t.wake();
    }
    if (error !== undefined) throw error;
    return result as T;
  }
}

/**
 * A transport whose commands take virtual time: `durationMs(node, argv)` says how long, the answer
 * comes from `answer`. It records, per node, the intervals it was busy as a source or a destination
 * of an iperf3 test, so a test can check that no node is ever in two pairs at once.
 */
export class TimedStandInTransport implements Transport {
  readonly kind = "ssh" as const;
  /** Pair-level activity: [start, end, source key, destination ip] per command. */
  readonly log: Array<{ start: number; end: number; node: string; argv: readonly string[] }> = [];
  constructor(
    private readonly clock: VirtualClock,
    private readonly durationMs: (node: MeshNode, argv: readonly string[]) => number,
    private readonly answer: (node: MeshNode, argv: readonly string[]) => RunResult,
  ) {}
  async run(node: MeshNode, argv: readonly string[]): Promise<RunResult> {
    const start = this.clock.now;
    await this.clock.sleep(this.durationMs(node, argv));
    this.log.push({ start, end: this.clock.now, node: node.key, argv: [...argv] });
    return this.answer(node, argv);
  }
}
