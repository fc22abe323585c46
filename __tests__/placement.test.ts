import { ARTICLE_REGIONS } from "../src/catalog/regions";
import { DERP_CITIES } from "../src/catalog/derp";
import { continentOf } from "../src/catalog/continents";
import { findRegion } from "../src/catalog/regions";
import { fiberLimitBetween } from "../src/catalog/geo";
import { evaluate, nearestDerp, place, placementTable, renderPlacementMarkdown, sitesFromRegions } from "../src/tailnet/relay-placement";

describe("relay placement", () => {
  const sites = sitesFromRegions(ARTICLE_REGIONS);

  it("takes, for each pair, the relay that keeps its path shortest, never one of the pair", () => {
    const r = evaluate(sites, ["ap-northeast", "us-west", "eu-central"]);
    const p = r.pairs.find((x) => x.a === "ap-south" && x.b === "ap-southeast") ?? r.pairs.find((x) => x.b === "ap-south" && x.a === "ap-southeast")!;
    // Singapore–Sydney: via Tokyo beats via Fremont or Frankfurt.
    expect(p.via).toBe("ap-northeast");
    const legs = fiberLimitBetween(p.a, "ap-northeast")!.rttMs + fiberLimitBetween("ap-northeast", p.b)!.rttMs;
    expect(p.relayedMs).toBeCloseTo(legs, 9);
    expect(p.directMs).toBeCloseTo(fiberLimitBetween(p.a, p.b)!.rttMs, 9);
    // A relay never relays its own pairs: Tokyo–Fremont goes through Frankfurt.
    const own = r.pairs.find((x) => [x.a, x.b].sort().join() === ["ap-northeast", "us-west"].sort().join())!;
    expect(own.via).toBe("eu-central");
  });

  it("models DERP as a -> DERP(b) -> b and back through DERP(a), each node homed at its nearest DERP city", () => {
    expect(nearestDerp(findRegion("ap-northeast")!).code).toBe("tok");
    expect(nearestDerp(findRegion("us-southeast")!).code).toBe("ord"); // Atlanta: Chicago ~945 km, Miami ~970 km
    const r = place(sites, "derp");
    const p = r.pairs.find((x) => x.a === "eu-west" && x.b === "ap-northeast")!;
    expect(p.via).toBe("DERP(lhr/tok)");
    expect(p.relayedMs).toBeCloseTo(p.directMs, 6); // both homes sit at the endpoints
    expect(r.relays).toEqual([]);
  });

  it("one relay per continent picks exactly one node in each continent present", () => {
    const r = place(sites, "per-continent");
    const continents = r.relays.map((k) => continentOf(findRegion(k)!.country));
    expect(new Set(continents).size).toBe(continents.length);
    expect(new Set(continents)).toEqual(new Set(sites.map((s) => s.continent)));
  });

  it("the placed set is no worse than a relay in every region, with fewer relays", () => {
    const all = place(sites, "per-region");
    const placed = place(sites, "placed");
    expect(placed.relays.length).toBeLessThan(all.relays.length);
    expect(placed.worstStretch).toBeLessThanOrEqual(all.worstStretch + 1e-9);
    expect(placed.worstAddedMs).toBeLessThanOrEqual(all.worstAddedMs + 1e-9);
    expect(placed.medianStretch).toBeLessThan(all.medianStretch + 0.01);
  });

  it("prints the table the README quotes, deterministically", () => {
    const md = renderPlacementMarkdown("t", placementTable(ARTICLE_REGIONS));
    expect(md).toBe(renderPlacementMarkdown("t", placementTable(ARTICLE_REGIONS)));
    expect(md).toMatch(/\| DERP only \| 1\.97 \| 1\.00 \|/);
    expect(md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| Relays"))).toHaveLength(4);
  });

  it("knows every DERP city's continent and rejects a region outside the catalog", () => {
    for (const c of DERP_CITIES) expect(() => continentOf(c.country)).not.toThrow();
    expect(() => sitesFromRegions(["xx-nowhere"])).toThrow(/not in the catalog/);
  });
});
