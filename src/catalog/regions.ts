/**
 * Akamai Cloud (Linode) core compute regions, as offered at the time of the pinned provider
 * (linode/linode 3.13.0). Slugs, labels and countries are Linode's public region list; coordinates
 * are those of the city the region is named after (good to a few km, which is all the fibre-limit
 * arithmetic of the probe needs). Distributed/edge sites are left out: they don't host these nodes.
 */
export interface LinodeRegion {
  /** Region ID used by the API and the provider, e.g. `ap-northeast`. */
  readonly slug: string;
  /** Linode's own label, e.g. `Tokyo 2, JP`. */
  readonly label: string;
  readonly city: string;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country: string;
  readonly latitude: number;
  readonly longitude: number;
}

export const LINODE_REGIONS: readonly LinodeRegion[] = Object.freeze([
  { slug: "ap-west", label: "Mumbai, IN", city: "Mumbai", country: "IN", latitude: 19.076, longitude: 72.8777 },
  { slug: "ca-central", label: "Toronto, CA", city: "Toronto", country: "CA", latitude: 43.6532, longitude: -79.3832 },
  { slug: "ap-southeast", label: "Sydney, AU", city: "Sydney", country: "AU", latitude: -33.8688, longitude: 151.2093 },
  { slug: "us-iad", label: "Washington, DC", city: "Washington, DC", country: "US", latitude: 38.9072, longitude: -77.0369 },
  { slug: "us-ord", label: "Chicago, IL", city: "Chicago", country: "US", latitude: 41.8781, longitude: -87.6298 },
  { slug: "fr-par", label: "Paris, FR", city: "Paris", country: "FR", latitude: 48.8566, longitude: 2.3522 },
  { slug: "us-sea", label: "Seattle, WA", city: "Seattle", country: "US", latitude: 47.6062, longitude: -122.3321 },
  { slug: "br-gru", label: "Sao Paulo, BR", city: "São Paulo", country: "BR", latitude: -23.5505, longitude: -46.6333 },
  { slug: "nl-ams", label: "Amsterdam, NL", city: "Amsterdam", country: "NL", latitude: 52.3676, longitude: 4.9041 },
  { slug: "se-sto", label: "Stockholm, SE", city: "Stockholm", country: "SE", latitude: 59.3293, longitude: 18.0686 },
  { slug: "es-mad", label: "Madrid, ES", city: "Madrid", country: "ES", latitude: 40.4168, longitude: -3.7038 },
  { slug: "in-maa", label: "Chennai, IN", city: "Chennai", country: "IN", latitude: 13.0827, longitude: 80.2707 },
  { slug: "jp-osa", label: "Osaka, JP", city: "Osaka", country: "JP", latitude: 34.6937, longitude: 135.5023 },
  { slug: "it-mil", label: "Milan, IT", city: "Milan", country: "IT", latitude: 45.4642, longitude: 9.19 },
  { slug: "us-mia", label: "Miami, FL", city: "Miami", country: "US", latitude: 25.7617, longitude: -80.1918 },
  { slug: "id-cgk", label: "Jakarta, ID", city: "Jakarta", country: "ID", latitude: -6.2088, longitude: 106.8456 },
  { slug: "us-lax", label: "Los Angeles, CA", city: "Los Angeles", country: "US", latitude: 34.0522, longitude: -118.2437 },
  { slug: "gb-lon", label: "London 2, UK", city: "London", country: "GB", latitude: 51.5072, longitude: -0.1276 },
  { slug: "au-mel", label: "Melbourne, AU", city: "Melbourne", country: "AU", latitude: -37.8136, longitude: 144.9631 },
  { slug: "in-bom-2", label: "Mumbai 2, IN", city: "Mumbai", country: "IN", latitude: 19.076, longitude: 72.8777 },
  { slug: "de-fra-2", label: "Frankfurt 2, DE", city: "Frankfurt", country: "DE", latitude: 50.1109, longitude: 8.6821 },
  { slug: "sg-sin-2", label: "Singapore 2, SG", city: "Singapore", country: "SG", latitude: 1.3521, longitude: 103.8198 },
  { slug: "jp-tyo-3", label: "Tokyo 3, JP", city: "Tokyo", country: "JP", latitude: 35.6762, longitude: 139.6503 },
  { slug: "no-osl-1", label: "Oslo, NO", city: "Oslo", country: "NO", latitude: 59.9139, longitude: 10.7522 },
  { slug: "us-central", label: "Dallas, TX", city: "Dallas", country: "US", latitude: 32.7767, longitude: -96.797 },
  { slug: "us-west", label: "Fremont, CA", city: "Fremont", country: "US", latitude: 37.5485, longitude: -121.9886 },
  { slug: "us-southeast", label: "Atlanta, GA", city: "Atlanta", country: "US", latitude: 33.749, longitude: -84.388 },
  { slug: "us-east", label: "Newark, NJ", city: "Newark", country: "US", latitude: 40.7357, longitude: -74.1724 },
  { slug: "eu-west", label: "London, UK", city: "London", country: "GB", latitude: 51.5072, longitude: -0.1276 },
  { slug: "ap-south", label: "Singapore, SG", city: "Singapore", country: "SG", latitude: 1.3521, longitude: 103.8198 },
  { slug: "eu-central", label: "Frankfurt, DE", city: "Frankfurt", country: "DE", latitude: 50.1109, longitude: 8.6821 },
  { slug: "ap-northeast", label: "Tokyo 2, JP", city: "Tokyo", country: "JP", latitude: 35.6762, longitude: 139.6503 },
  // Sites opened in 2025-2026, from public region listings; not checked against the API from here.
  { slug: "us-iad-2", label: "Washington 2, DC", city: "Washington, DC", country: "US", latitude: 38.9072, longitude: -77.0369 },
  { slug: "us-den-1", label: "Denver, CO", city: "Denver", country: "US", latitude: 39.7392, longitude: -104.9903 },
  { slug: "us-hou-1", label: "Houston, TX", city: "Houston", country: "US", latitude: 29.7604, longitude: -95.3698 },
  { slug: "mx-qro-1", label: "Queretaro, MX", city: "Querétaro", country: "MX", latitude: 20.5888, longitude: -100.3899 },
  { slug: "co-bog-1", label: "Bogota, CO", city: "Bogotá", country: "CO", latitude: 4.711, longitude: -74.0721 },
  { slug: "cl-scl-1", label: "Santiago, CL", city: "Santiago", country: "CL", latitude: -33.4489, longitude: -70.6693 },
  { slug: "fr-par-2", label: "Paris 2, FR", city: "Paris", country: "FR", latitude: 48.8566, longitude: 2.3522 },
  { slug: "fr-mrs-2", label: "Marseille 2, FR", city: "Marseille", country: "FR", latitude: 43.2965, longitude: 5.3698 },
  { slug: "de-ber-1", label: "Berlin, DE", city: "Berlin", country: "DE", latitude: 52.52, longitude: 13.405 },
  { slug: "de-ham-1", label: "Hamburg, DE", city: "Hamburg", country: "DE", latitude: 53.5511, longitude: 9.9937 },
  { slug: "my-kul-1", label: "Kuala Lumpur, MY", city: "Kuala Lumpur", country: "MY", latitude: 3.139, longitude: 101.6869 },
  { slug: "nz-akl-1", label: "Auckland, NZ", city: "Auckland", country: "NZ", latitude: -36.8485, longitude: 174.7633 },
  { slug: "za-jnb-1", label: "Johannesburg, ZA", city: "Johannesburg", country: "ZA", latitude: -26.2041, longitude: 28.0473 },
].map((r) => Object.freeze(r)));

const BY_SLUG: ReadonlyMap<string, LinodeRegion> = new Map(LINODE_REGIONS.map((r) => [r.slug, r]));

export function findRegion(slug: string): LinodeRegion | undefined {
  return BY_SLUG.get(slug);
}

export function regionSlugs(): string[] {
  return LINODE_REGIONS.map((r) => r.slug);
}

const fold = (s: string) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();

/** Regions in a city given by name ("Tokyo", "sao paulo"), for hints when a city is given as a region. */
export function regionsInCity(name: string): string[] {
  const n = fold(name);
  return LINODE_REGIONS.filter((r) => fold(r.city) === n).map((r) => r.slug);
}

/**
 * The 14 regions of the seed article, in the article's order (its `var.regions` default). The order
 * matters for parity: `count.index` maps onto it.
 */
export const ARTICLE_REGIONS: readonly string[] = Object.freeze([
  "ap-west",
  "ca-central",
  "ap-southeast",
  "us-iad",
  "us-ord",
  "fr-par",
  "us-central",
  "us-west",
  "us-southeast",
  "us-east",
  "eu-west",
  "ap-south",
  "eu-central",
  "ap-northeast",
]);
