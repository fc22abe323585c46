/**
 * Snapshot serializer (jest.config.js): a synthesized stack document is snapshotted with the
 * core's version in `"//".metadata.version` as "<core version>", so one snapshot holds for cdktf
 * and CDK Terrain alike. Only the installed core's own version is replaced: any other value would
 * still show, and fail, in the snapshot.
 */
import { installedCore, normaliseCoreVersion } from "../../src/terraform/core";

const version = installedCore().version;

export function test(value: unknown): boolean {
  return normaliseCoreVersion(value, version) !== value;
}

export function serialize(
  value: unknown,
  config: unknown,
  indentation: string,
  depth: number,
  refs: unknown,
  printer: (value: unknown, config: unknown, indentation: string, depth: number, refs: unknown) => string,
): string {
  return printer(normaliseCoreVersion(value, version), config, indentation, depth, refs);
}
