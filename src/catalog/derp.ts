/**
 * Tailscale's own DERP relay cities, as public facts: the list on https://tailscale.com/kb/1232/derp-servers
 * ("As of March 2024, this list includes: ..."), with the region codes `tailscale ping` prints as
 * `via DERP(<code>)` and `tailscale netcheck` lists. Coordinates are the cities' (good to a few km).
 * Used only to model where a DERP-relayed packet goes (the placement table); a tailnet's real map
 * can differ (custom regions, newer cities), and the probe reads the code from the client instead.
 */
export interface DerpCity {
  readonly code: string;
  readonly city: string;
  readonly country: string;
  readonly latitude: number;
  readonly longitude: number;
}

export const DERP_CITIES_SOURCE = "https://tailscale.com/kb/1232/derp-servers (list as of March 2024)";

export const DERP_CITIES: readonly DerpCity[] = Object.freeze([
  { code: "nyc", city: "New York City", country: "US", latitude: 40.7128, longitude: -74.006 },
  { code: "sfo", city: "San Francisco", country: "US", latitude: 37.7749, longitude: -122.4194 },
  { code: "sin", city: "Singapore", country: "SG", latitude: 1.3521, longitude: 103.8198 },
  { code: "fra", city: "Frankfurt", country: "DE", latitude: 50.1109, longitude: 8.6821 },
  { code: "syd", city: "Sydney", country: "AU", latitude: -33.8688, longitude: 151.2093 },
  { code: "blr", city: "Bangalore", country: "IN", latitude: 12.9716, longitude: 77.5946 },
  { code: "tok", city: "Tokyo", country: "JP", latitude: 35.6762, longitude: 139.6503 },
  { code: "lhr", city: "London", country: "GB", latitude: 51.5072, longitude: -0.1276 },
  { code: "dfw", city: "Dallas", country: "US", latitude: 32.7767, longitude: -96.797 },
  { code: "sea", city: "Seattle", country: "US", latitude: 47.6062, longitude: -122.3321 },
  { code: "sao", city: "São Paulo", country: "BR", latitude: -23.5505, longitude: -46.6333 },
  { code: "ord", city: "Chicago", country: "US", latitude: 41.8781, longitude: -87.6298 },
  { code: "den", city: "Denver", country: "US", latitude: 39.7392, longitude: -104.9903 },
  { code: "ams", city: "Amsterdam", country: "NL", latitude: 52.3676, longitude: 4.9041 },
  { code: "jnb", city: "Johannesburg", country: "ZA", latitude: -26.2041, longitude: 28.0473 },
  { code: "mia", city: "Miami", country: "US", latitude: 25.7617, longitude: -80.1918 },
  { code: "lax", city: "Los Angeles", country: "US", latitude: 34.0522, longitude: -118.2437 },
  { code: "par", city: "Paris", country: "FR", latitude: 48.8566, longitude: 2.3522 },
  { code: "mad", city: "Madrid", country: "ES", latitude: 40.4168, longitude: -3.7038 },
  { code: "hkg", city: "Hong Kong", country: "HK", latitude: 22.3193, longitude: 114.1694 },
  { code: "tor", city: "Toronto", country: "CA", latitude: 43.6532, longitude: -79.3832 },
  { code: "waw", city: "Warsaw", country: "PL", latitude: 52.2297, longitude: 21.0122 },
  { code: "dbi", city: "Dubai", country: "AE", latitude: 25.2048, longitude: 55.2708 },
  { code: "hnl", city: "Honolulu", country: "US", latitude: 21.3069, longitude: -157.8583 },
  { code: "nai", city: "Nairobi", country: "KE", latitude: -1.2921, longitude: 36.8219 },
].map((c) => Object.freeze(c)));

export function findDerpCity(code: string): DerpCity | undefined {
  return DERP_CITIES.find((c) => c.code === code.toLowerCase());
}
