import { LINODE_PLANS, findPlan, planIds } from "../src/catalog/plans";
import { ARTICLE_REGIONS, LINODE_REGIONS, findRegion, regionSlugs } from "../src/catalog/regions";

test("slugs are unique and well-formed; coordinates are on the globe", () => {
  const slugs = regionSlugs();
  expect(new Set(slugs).size).toBe(slugs.length);
  for (const r of LINODE_REGIONS) {
    expect(r.slug).toMatch(/^[a-z]{2}-[a-z]+(-\d)?$/);
    expect(r.country).toMatch(/^[A-Z]{2}$/);
    expect(Math.abs(r.latitude)).toBeLessThanOrEqual(90);
    expect(Math.abs(r.longitude)).toBeLessThanOrEqual(180);
  }
});

test("the article's 14 regions are all in the catalog, at their real cities", () => {
  expect(ARTICLE_REGIONS).toHaveLength(14);
  for (const slug of ARTICLE_REGIONS) expect(findRegion(slug)).toBeDefined();
  // The article's own labels are wrong for these; the catalog has Linode's.
  expect(findRegion("ap-west")!.city).toBe("Mumbai");
  expect(findRegion("ap-south")!.city).toBe("Singapore");
  expect(findRegion("ap-southeast")!.city).toBe("Sydney");
  expect(findRegion("us-southeast")!.city).toBe("Atlanta");
  expect(findRegion("ca-central")!.city).toBe("Toronto");
  expect(findRegion("nowhere-1")).toBeUndefined();
});

describe("Linode plans", () => {
  test("IDs are unique and shaped like Linode's; sizes are positive and grow within a class", () => {
    const ids = planIds();
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of LINODE_PLANS) {
      expect(p.id).toMatch(/^g\d+-[a-z0-9]+(-[a-z0-9]+)*-\d+$/);
      expect(p.vcpus).toBeGreaterThan(0);
      expect(p.memoryGb).toBeGreaterThan(0);
      expect(p.diskGb).toBeGreaterThan(0);
      expect(p.networkOutMbps).toBeGreaterThanOrEqual(1000);
    }
    for (const cls of ["standard", "dedicated", "premium", "highmem"] as const) {
      const mem = LINODE_PLANS.filter((p) => p.class === cls).map((p) => p.memoryGb);
      expect(mem).toEqual([...mem].sort((a, b) => a - b));
    }
  });

  test("the plans the stacks use are there, with the article's facts (Linode 32GB = g6-standard-8)", () => {
    expect(findPlan("g6-standard-2")).toMatchObject({ class: "standard", vcpus: 2, memoryGb: 4 });
    expect(findPlan("g6-standard-8")).toMatchObject({ label: "Linode 32GB", vcpus: 8, memoryGb: 32 });
    expect(findPlan("g6-nanode-1")).toMatchObject({ class: "nanode", memoryGb: 1 });
    expect(findPlan("g6-standrd-2")).toBeUndefined();
  });
});
