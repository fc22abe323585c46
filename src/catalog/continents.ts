/**
 * The continent of each country a catalog region is in, for "one relay per continent" placements.
 * Mexico and the Caribbean count as North America; Colombia, Brazil, Chile as South America.
 */
export type Continent = "north-america" | "south-america" | "europe" | "asia" | "oceania" | "africa";

const BY_COUNTRY: Readonly<Record<string, Continent>> = {
  US: "north-america", CA: "north-america", MX: "north-america",
  BR: "south-america", CO: "south-america", CL: "south-america",
  FR: "europe", NL: "europe", SE: "europe", ES: "europe", IT: "europe", GB: "europe", DE: "europe", NO: "europe", PL: "europe",
  IN: "asia", JP: "asia", ID: "asia", SG: "asia", MY: "asia", HK: "asia", AE: "asia",
  AU: "oceania", NZ: "oceania",
  ZA: "africa", KE: "africa",
};

export function continentOf(country: string): Continent {
  const c = BY_COUNTRY[country.toUpperCase()];
  if (!c) throw new Error(`continentOf: no continent recorded for country ${JSON.stringify(country)}`);
  return c;
}
