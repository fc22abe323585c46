/**
 * The seed article's published measurements, kept as a recorded run: ping and iperf3 from Tokyo
 * (ap-northeast) to every region over the tailnet, in the article's row order, with the article's
 * labels and tailnet IPs.
 *
 * The article's city column is wrong for several slugs (ap-west is Mumbai, ap-south Singapore,
 * ap-southeast Sydney, us-southeast Atlanta, ca-central Toronto). The fibre limits are computed from
 * the slug's real coordinates (catalog) and the article's label is kept beside the real city; the
 * latencies fit the real locations (76 ms to ap-south is Tokyo–Singapore, not Tokyo–Mumbai).
 */
import { MeshNode, PairMeasurement, ProbeRun, RUN_SCHEMA } from "./types";

export interface ArticleMeasurement {
  readonly slug: string;
  /** City as printed in the article. */
  readonly articleCity: string;
  readonly tailnetIp: string;
  readonly pingMs: number;
  readonly bandwidthMbps: number;
}

/** Rows exactly as published (order, labels, numbers). */
export const ARTICLE_TOKYO_MEASUREMENTS: readonly ArticleMeasurement[] = Object.freeze([
  { slug: "ap-northeast", articleCity: "Tokyo", tailnetIp: "100.96.140.130", pingMs: 0.065, bandwidthMbps: 23637 },
  { slug: "ap-south", articleCity: "Mumbai", tailnetIp: "100.127.131.55", pingMs: 76.26, bandwidthMbps: 324 },
  { slug: "us-west", articleCity: "San Francisco", tailnetIp: "100.121.93.101", pingMs: 110.622, bandwidthMbps: 218 },
  { slug: "ap-southeast", articleCity: "Singapore", tailnetIp: "100.69.216.38", pingMs: 109.671, bandwidthMbps: 220 },
  { slug: "us-central", articleCity: "Dallas", tailnetIp: "100.125.106.137", pingMs: 142.021, bandwidthMbps: 166 },
  { slug: "us-ord", articleCity: "Chicago", tailnetIp: "100.111.41.138", pingMs: 143.918, bandwidthMbps: 164 },
  { slug: "ap-west", articleCity: "Fremont", tailnetIp: "100.81.195.92", pingMs: 142.604, bandwidthMbps: 77 },
  { slug: "us-southeast", articleCity: "Miami", tailnetIp: "100.75.148.69", pingMs: 159.697, bandwidthMbps: 147 },
  { slug: "us-iad", articleCity: "Washington D.C.", tailnetIp: "100.92.189.130", pingMs: 168.81, bandwidthMbps: 136 },
  { slug: "us-east", articleCity: "Newark", tailnetIp: "100.109.2.28", pingMs: 172.316, bandwidthMbps: 134 },
  { slug: "ca-central", articleCity: "Montreal", tailnetIp: "100.112.225.130", pingMs: 192.72, bandwidthMbps: 117 },
  { slug: "eu-central", articleCity: "Frankfurt", tailnetIp: "100.108.43.103", pingMs: 245.05, bandwidthMbps: 88 },
  { slug: "fr-par", articleCity: "Paris", tailnetIp: "100.97.65.44", pingMs: 245.196, bandwidthMbps: 88 },
  { slug: "eu-west", articleCity: "London", tailnetIp: "100.73.169.5", pingMs: 247.916, bandwidthMbps: 86 },
].map((m) => Object.freeze(m)));

export const ARTICLE_SOURCE = "ap-northeast";

/** The article's run in the probe's run format (path, loss, retransmits were not published). */
export function articleTokyoRun(): ProbeRun {
  const nodes: MeshNode[] = ARTICLE_TOKYO_MEASUREMENTS.map((m) => ({
    key: m.slug,
    label: m.slug,
    region: m.slug,
    tailnetHostname: `tailscale-multi-${m.slug}`,
    tailnetIp: m.tailnetIp,
    articleCity: m.articleCity,
  }));
  const pairs: PairMeasurement[] = ARTICLE_TOKYO_MEASUREMENTS.map((m) => ({
    from: ARTICLE_SOURCE,
    to: m.slug,
    tailnetIp: m.tailnetIp,
    peerOnline: null,
    path: { kind: "unknown", source: "none", note: "not recorded" },
    tailscalePingMs: null,
    ping: {
      transmitted: null,
      received: null,
      errors: null,
      lossPercent: null,
      minMs: null,
      avgMs: m.pingMs,
      maxMs: null,
      mdevMs: null,
    },
    iperf: {
      senderBps: null,
      receiverBps: m.bandwidthMbps * 1e6,
      retransmits: null,
      maxRttMs: null,
      meanRttMs: null,
      streams: null,
      reverse: false,
      durationS: null,
    },
    errors: [],
  }));
  return {
    schema: RUN_SCHEMA,
    mode: "from",
    source: ARTICLE_SOURCE,
    transport: "recorded",
    provenance: "Recorded: the seed article's published ping / iperf3 figures, Tokyo to every region over the tailnet (Linode 32GB nodes).",
    settings: null,
    nodes,
    pairs,
  };
}
