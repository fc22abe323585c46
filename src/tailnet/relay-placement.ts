/**
 * Where to put peer relays so that a pair that has to be relayed keeps close to its direct fibre
 * limit, and what Tailscale's DERP relays cost instead. Pure arithmetic on great-circle distances
 * (the probe's fibre model: 2/3 c, there and back), so the table can be recomputed anywhere.
 *
 * Paths modelled, from the client's behaviour (tailscale/tailscale v1.102.3):
 * - DERP: a sends to b's home DERP region and b answers through a's (wgengine/magicsock/endpoint.go:
 *   a peer's `derpAddr` is its home region, used when there is no UDP path); a node's home region
 *   is the DERP city nearest to it (clients pick the lowest-latency region). Round trip:
 *   a → DERP(b) → b → DERP(a) → a.
 * - Peer relay: the client asks every relay it is granted for an endpoint and keeps the one whose
 *   disco pong comes back first (relaymanager.go allocateAllServersRunLoop, endpoint.go
 *   udpRelayEndpointReady/betterAddr), i.e. the relay r minimising a → r → b; both directions use it.
 *   The relay is a third node: a pair relayed because UDP between its nodes fails is assumed unable
 *   to reach either node's own relay port too. A pair with no third relay falls back to DERP.
 *
 * Stretch = relayed fibre RTT / direct fibre RTT, over pairs in different cities (same-city pairs
 * have a direct limit of ~0 ms; their cost shows in the added milliseconds instead).
 */
import { findRegion, LINODE_REGIONS } from "../catalog/regions";
import { DERP_CITIES, DerpCity } from "../catalog/derp";
import { Continent, continentOf } from "../catalog/continents";
import { fiberRttMs, haversineKm, LatLon } from "../catalog/geo";

export interface Site extends LatLon {
  /** Node key (or region slug when one node per region). */
  readonly key: string;
  readonly region: string;
  readonly continent: Continent;
}

export type Strategy = "derp" | "per-continent" | "per-region" | "placed" | { readonly relays: readonly string[] };

export interface PairPath {
  readonly a: string;
  readonly b: string;
  readonly directMs: number;
  readonly relayedMs: number;
  /** The relay node's key, or `DERP(x/y)` with both home regions. */
  readonly via: string;
}

export interface PlacementResult {
  readonly strategy: string;
  /** Relay node keys (none for DERP only). */
  readonly relays: readonly string[];
  readonly pairs: readonly PairPath[];
  readonly worstStretch: number;
  readonly medianStretch: number;
  readonly worstAddedMs: number;
  readonly medianAddedMs: number;
  /** The pair with the worst stretch. */
  readonly worstPair: PairPath | null;
}

/** Pairs closer than this are "the same city" and left out of the stretch (not of the added ms). */
const SAME_CITY_KM = 50;

export function sitesFromRegions(regions: readonly string[]): Site[] {
  return regions.map((slug) => {
    const r = findRegion(slug);
    if (!r) throw new Error(`placement: region ${JSON.stringify(slug)} is not in the catalog`);
    return { key: slug, region: slug, continent: continentOf(r.country), latitude: r.latitude, longitude: r.longitude };
  });
}

/** Sites for nodes that may share a region: key = node name. */
export function sitesFromNodes(nodes: ReadonlyArray<{ readonly name: string; readonly region: string }>): Site[] {
  return nodes.map((n) => ({ ...sitesFromRegions([n.region])[0], key: n.name }));
}

export function nearestDerp(p: LatLon, cities: readonly DerpCity[] = DERP_CITIES): DerpCity {
  let best = cities[0];
  let bestKm = Infinity;
  for (const c of cities) {
    const km = haversineKm(p, c);
    if (km < bestKm) [best, bestKm] = [c, km];
  }
  return best;
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The fibre RTT of every unordered pair under a set of relays (empty: DERP only). */
export function evaluate(sites: readonly Site[], relays: readonly string[], derpCities: readonly DerpCity[] = DERP_CITIES): PlacementResult {
  const g = geometry(sites, derpCities);
  return evaluateIdx(g, relayIndices(sites, relays), "relays");
}

/**
 * What does not depend on the relays, computed once per placement (the search evaluates hundreds of
 * relay sets): distances between sites, and each pair's path through DERP.
 */
interface Geometry {
  readonly sites: readonly Site[];
  readonly km: Float64Array;
  readonly derpMs: Float64Array;
  readonly derpVia: readonly string[];
}

function geometry(sites: readonly Site[], derpCities: readonly DerpCity[]): Geometry {
  const n = sites.length;
  const km = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) km[i * n + j] = km[j * n + i] = haversineKm(sites[i], sites[j]);
  const home = sites.map((s) => nearestDerp(s, derpCities));
  const derpMs = new Float64Array(n * n);
  const derpVia: string[] = new Array(n * n).fill("");
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const [da, db] = [home[i], home[j]];
      // a → DERP(b) → b, then b → DERP(a) → a: half of each leg's round trip.
      const oneWays = haversineKm(sites[i], db) + haversineKm(db, sites[j]) + haversineKm(sites[j], da) + haversineKm(da, sites[i]);
      derpMs[i * n + j] = fiberRttMs(oneWays) / 2;
      derpVia[i * n + j] = da.code === db.code ? `DERP(${da.code})` : `DERP(${da.code}/${db.code})`;
    }
  }
  return { sites, km, derpMs, derpVia };
}

function relayIndices(sites: readonly Site[], relays: readonly string[]): number[] {
  return relays.map((k) => {
    const i = sites.findIndex((s) => s.key === k);
    if (i < 0) throw new Error(`placement: relay ${JSON.stringify(k)} is not one of the sites`);
    return i;
  });
}

function evaluateIdx(g: Geometry, relayIdx: readonly number[], name: string): PlacementResult {
  const { sites, km } = g;
  const n = sites.length;
  const pairs: PairPath[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let bestKm = Infinity;
      let via = -1;
      for (const r of relayIdx) {
        if (r === i || r === j) continue;
        const d = km[i * n + r] + km[r * n + j];
        if (d < bestKm) [bestKm, via] = [d, r];
      }
      const directMs = fiberRttMs(km[i * n + j]);
      const relayedMs = via >= 0 ? fiberRttMs(bestKm) : g.derpMs[i * n + j];
      const viaText = via >= 0 ? sites[via].key : g.derpVia[i * n + j];
      pairs.push({ a: sites[i].key, b: sites[j].key, directMs, relayedMs, via: viaText });
    }
  }
  const far = pairs.filter((p) => p.directMs > fiberRttMs(SAME_CITY_KM));
  const stretches = far.map((p) => p.relayedMs / p.directMs);
  const added = pairs.map((p) => p.relayedMs - p.directMs);
  let worstPair: PairPath | null = null;
  let worst = -Infinity;
  far.forEach((p, k) => {
    if (stretches[k] > worst) [worst, worstPair] = [stretches[k], p];
  });
  return {
    strategy: name,
    relays: relayIdx.map((r) => sites[r].key),
    pairs,
    worstStretch: far.length ? worst : NaN,
    medianStretch: median(stretches),
    worstAddedMs: added.length ? Math.max(...added) : NaN,
    medianAddedMs: median(added),
    worstPair,
  };
}

/** Lexicographic: worst stretch, then median stretch, then worst added ms. */
function better(x: PlacementResult, y: PlacementResult | null): boolean {
  if (!y) return true;
  const eps = 1e-9;
  if (Math.abs(x.worstStretch - y.worstStretch) > eps) return x.worstStretch < y.worstStretch;
  if (Math.abs(x.medianStretch - y.medianStretch) > eps) return x.medianStretch < y.medianStretch;
  return x.worstAddedMs < y.worstAddedMs - eps;
}

/** Combinations searched exhaustively for one relay per continent; beyond, coordinate descent. */
export const EXHAUSTIVE_LIMIT = 2_000;

/**
 * Chooses relays. "per-continent": one node per continent present, the combination with the best
 * (worst stretch, median stretch) over every pair, searched exhaustively (up to EXHAUSTIVE_LIMIT
 * combinations; beyond, coordinate descent from each continent's medoid until nothing improves).
 */
export function place(sites: readonly Site[], strategy: Strategy, derpCities: readonly DerpCity[] = DERP_CITIES): PlacementResult {
  const n = sites.length;
  const g = geometry(sites, derpCities);
  const km = g.km;
  if (strategy === "derp") return evaluateIdx(g, [], "DERP only");
  if (strategy === "per-region") return evaluateIdx(g, sites.map((_, i) => i), "one relay per region");
  if (typeof strategy === "object") return evaluateIdx(g, relayIndices(sites, strategy.relays), `relays ${strategy.relays.join(", ")}`);
  if (strategy === "placed") return pruned(g);
  const groups = new Map<Continent, number[]>();
  sites.forEach((s, i) => groups.set(s.continent, [...(groups.get(s.continent) ?? []), i]));
  // One candidate per distinct location: two regions in one city relay identically.
  const options = [...groups.values()].map((idx) => {
    const seen = new Set<string>();
    return idx.filter((i) => {
      const k = `${sites[i].latitude},${sites[i].longitude}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  });
  const name = "one relay per continent";
  const combos = options.reduce((p, o) => p * o.length, 1);
  let best: PlacementResult | null = null;
  if (combos <= EXHAUSTIVE_LIMIT) {
    const pick = new Array(options.length).fill(0);
    for (let c = 0; c < combos; c++) {
      let rest = c;
      for (let o = 0; o < options.length; o++) {
        pick[o] = options[o][rest % options[o].length];
        rest = Math.floor(rest / options[o].length);
      }
      const r = evaluateIdx(g, [...pick], name);
      if (better(r, best)) best = r;
    }
  } else {
    const pick = options.map((o) => o.reduce((m, i) => (sum(km, n, i, o) < sum(km, n, m, o) ? i : m), o[0]));
    best = evaluateIdx(g, pick, name);
    for (let improved = true; improved; ) {
      improved = false;
      for (let c = 0; c < options.length; c++) {
        for (const cand of options[c]) {
          const trial = [...pick];
          trial[c] = cand;
          const r = evaluateIdx(g, trial, name);
          if (better(r, best)) [best, pick[c], improved] = [r, cand, true];
        }
      }
    }
  }
  return best as PlacementResult;
}

/**
 * Fewest relays that relay as well as one in every region: starts from a relay on every site and
 * removes, one at a time, the relay whose removal costs least, as long as neither the worst stretch
 * nor the worst added RTT grows and the median stretch grows by less than 0.01. (Starting from none instead stops at once:
 * the client prefers any peer relay to DERP, so a first relay alone makes some pair worse.)
 */
function pruned(g: Geometry): PlacementResult {
  const name = "placed";
  const chosen = g.sites.map((_, i) => i);
  const full = evaluateIdx(g, chosen, name);
  const ok = (r: PlacementResult) =>
    r.worstStretch <= full.worstStretch + 1e-9 && r.worstAddedMs <= full.worstAddedMs + 1e-9 && r.medianStretch < full.medianStretch + 0.01;
  let best = full;
  for (;;) {
    let step: { r: PlacementResult; k: number } | null = null;
    for (let k = 0; k < chosen.length; k++) {
      const r = evaluateIdx(g, chosen.filter((_, x) => x !== k), name);
      if (ok(r) && better(r, step?.r ?? null)) step = { r, k };
    }
    if (!step) break;
    chosen.splice(step.k, 1);
    best = step.r;
  }
  return best;
}

function sum(km: Float64Array, n: number, i: number, group: readonly number[]): number {
  return group.reduce((t, j) => t + km[i * n + j], 0);
}

export interface PlacementRow {
  readonly label: string;
  readonly result: PlacementResult;
}

/** The three placements the README compares, for a set of regions. */
export function placementTable(regions: readonly string[]): PlacementRow[] {
  const sites = sitesFromRegions(regions);
  return [
    { label: "DERP only", result: place(sites, "derp") },
    { label: "one relay per continent", result: place(sites, "per-continent") },
    { label: "one relay per region", result: place(sites, "per-region") },
    { label: "placed: fewest relays as good as one per region", result: place(sites, "placed") },
  ];
}

export function renderPlacementMarkdown(title: string, rows: readonly PlacementRow[]): string {
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "—");
  const lines = [
    `### ${title}`,
    "",
    "| Relays | Worst stretch | Median stretch | Worst added RTT (ms) | Median added RTT (ms) | Worst pair (direct → relayed ms, via) | Relay nodes |",
    "|---|---:|---:|---:|---:|---|---|",
  ];
  for (const { label, result: r } of rows) {
    const w = r.worstPair;
    const worst = w ? `${w.a}–${w.b} (${f(w.directMs, 1)} → ${f(w.relayedMs, 1)}, ${w.via})` : "—";
    const relays = r.relays.length === 0 ? "—" : r.relays.length > 16 ? `${r.relays.length} relays` : r.relays.join(", ");
    lines.push(`| ${label} | ${f(r.worstStretch)} | ${f(r.medianStretch)} | ${f(r.worstAddedMs, 1)} | ${f(r.medianAddedMs, 1)} | ${worst} | ${relays} |`);
  }
  return lines.join("\n");
}

export const ALL_CATALOG_REGIONS = (): string[] => LINODE_REGIONS.map((r) => r.slug);
