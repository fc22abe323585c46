/**
 * The physical floor under a round trip: light in glass along the great circle, there and back.
 * Real paths are longer (cables don't follow great circles, routers add queueing), so a measured RTT
 * is always above this; how far above says how good the path is.
 */
import { findRegion, LinodeRegion } from "./regions";

/** Mean Earth radius (km), the usual haversine value. */
export const EARTH_RADIUS_KM = 6371;
/** Speed of light in vacuum (km/s). */
export const SPEED_OF_LIGHT_KM_S = 299_792.458;
/** Light in silica fibre travels at about 2/3 c (refractive index ~1.5): ~199,862 km/s. */
export const FIBER_SPEED_KM_S = (SPEED_OF_LIGHT_KM_S * 2) / 3;

export interface LatLon {
  readonly latitude: number;
  readonly longitude: number;
}

const rad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance (km) by the haversine formula on a sphere of radius 6371 km. */
export function haversineKm(a: LatLon, b: LatLon): number {
  for (const [name, p] of [["a", a], ["b", b]] as const) {
    if (!Number.isFinite(p.latitude) || Math.abs(p.latitude) > 90) {
      throw new Error(`haversineKm: ${name}.latitude must be a number in [-90, 90], got ${p.latitude}`);
    }
    if (!Number.isFinite(p.longitude) || Math.abs(p.longitude) > 180) {
      throw new Error(`haversineKm: ${name}.longitude must be a number in [-180, 180], got ${p.longitude}`);
    }
  }
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Round-trip time (ms) for a one-way distance in km at 2/3 c: there and back. */
export function fiberRttMs(distanceKm: number): number {
  if (!Number.isFinite(distanceKm) || distanceKm < 0) {
    throw new Error(`fiberRttMs: distanceKm must be a finite number >= 0, got ${distanceKm}`);
  }
  return ((2 * distanceKm) / FIBER_SPEED_KM_S) * 1000;
}

export interface FiberLimit {
  readonly distanceKm: number;
  readonly rttMs: number;
}

/** Fibre-limit RTT between two catalog regions; null when either slug is not in the catalog. */
export function fiberLimitBetween(fromSlug: string, toSlug: string): FiberLimit | null {
  const a: LinodeRegion | undefined = findRegion(fromSlug);
  const b: LinodeRegion | undefined = findRegion(toSlug);
  if (!a || !b) return null;
  const distanceKm = haversineKm(a, b);
  return { distanceKm, rttMs: fiberRttMs(distanceKm) };
}
