/**
 * Shared shapes of the mesh probe: nodes, raw measurements of one ordered pair, and a whole run.
 * A run holds only what was measured (or recorded); everything derived from it (fibre limits,
 * efficiency, warnings, sort order) is recomputed by `report.ts`, so a saved run can be re-rendered.
 */

/** One node of the mesh as the probe needs to know it. */
export interface MeshNode {
  /** Stable key: the map key of the `nodes` output, or the inventory's `key`. */
  readonly key: string;
  /** Human label, e.g. `tailscale-multi-ap-south`. */
  readonly label: string;
  /** Linode region slug, e.g. `ap-south`. */
  readonly region: string;
  /** Where SSH connects to (the management path, not the measured one). */
  readonly publicIpv4?: string;
  /** Tailscale hostname, used to find the node's tailnet IP in `tailscale status --json`. */
  readonly tailnetHostname?: string;
  /** Tailnet IPv4 when known up front (inventory); otherwise resolved from `tailscale status`. */
  readonly tailnetIp?: string;
  /** Network namespace, for the netns transport (rehearsal). */
  readonly netns?: string;
  /** Only for the recorded article run: the city the article printed for this slug. */
  readonly articleCity?: string;
}

/** How packets between two nodes travel, as far as Tailscale tells us. */
export type PathKind = "direct" | "relay" | "peer-relay" | "local" | "unknown";

export interface PathInfo {
  readonly kind: PathKind;
  /** `ip:port` of the peer when direct. */
  readonly endpoint?: string;
  /**
   * `relay`: the DERP region code (e.g. `tok`). `peer-relay`: the relay's endpoint as the client
   * prints it, `<ip>:<port>:vni:<n>` (ipnstate.PingResult.PeerRelay / PeerStatus.PeerRelay).
   */
  readonly relay?: string;
  /** `peer-relay`: key of the mesh node serving the relay, when its address is known. */
  readonly relayNode?: string;
  /** Which observation decided the path. */
  readonly source: "tailscale ping" | "tailscale status" | "none";
  /** Why the path is unknown, or extra context. */
  readonly note?: string;
}

/** Summary of one `ping -c N` run (iputils). Every number is null when ping did not report it. */
export interface PingStats {
  readonly transmitted: number | null;
  readonly received: number | null;
  readonly errors: number | null;
  readonly lossPercent: number | null;
  readonly minMs: number | null;
  readonly avgMs: number | null;
  readonly maxMs: number | null;
  readonly mdevMs: number | null;
}

/** What one `iperf3 -c ... -J` run yields. */
export interface IperfStats {
  /** `end.sum_sent.bits_per_second`. */
  readonly senderBps: number | null;
  /** `end.sum_received.bits_per_second`: the goodput, shown as the bandwidth. */
  readonly receiverBps: number | null;
  /** `end.sum_sent.retransmits` (TCP only). */
  readonly retransmits: number | null;
  /** Largest `max_rtt` over the streams, in ms; null unless this side was the sender. */
  readonly maxRttMs: number | null;
  /** Mean of the streams' `mean_rtt`, in ms; null unless this side was the sender. */
  readonly meanRttMs: number | null;
  readonly streams: number | null;
  readonly reverse: boolean;
  readonly durationS: number | null;
}

/** Raw result of probing one ordered pair, measured on the source node. */
export interface PairMeasurement {
  /** Source node key. */
  readonly from: string;
  /** Destination node key. */
  readonly to: string;
  readonly tailnetIp: string | null;
  /** From the source's `tailscale status --json`; null when unknown. */
  readonly peerOnline: boolean | null;
  readonly path: PathInfo;
  /** Latency of the last `tailscale ping` pong (ms). */
  readonly tailscalePingMs: number | null;
  readonly ping: PingStats | null;
  readonly iperf: IperfStats | null;
  /** One entry per failed probe; the row is still reported. */
  readonly errors: readonly string[];
}

export type ProbeMode = "from" | "all-pairs";

/** Settings that shaped the numbers; saved with the run so a reader can judge them. */
export interface ProbeSettings {
  readonly pingCount: number;
  readonly pingIntervalS: number;
  readonly tailscalePingCount: number;
  readonly iperfDurationS: number;
  readonly iperfOmitS: number;
  readonly iperfParallel: number;
  readonly iperfReverse: boolean;
  readonly iperfPort: number;
  readonly concurrency: number;
}

/** A whole run: what the JSON format writes and `--replay` reads back. */
export interface ProbeRun {
  readonly schema: "linode-tailnet-probe/1";
  readonly mode: ProbeMode;
  /** Source node key for `from` runs. */
  readonly source?: string;
  readonly transport: "ssh" | "netns" | "recorded";
  /** Free text about where the numbers come from (e.g. the article). */
  readonly provenance?: string;
  readonly settings: ProbeSettings | null;
  readonly nodes: readonly MeshNode[];
  readonly pairs: readonly PairMeasurement[];
}

export const RUN_SCHEMA = "linode-tailnet-probe/1" as const;
