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
