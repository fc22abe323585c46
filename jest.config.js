/** Jest runs the TypeScript sources directly through ts-jest. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.tsx?$": ["ts-jest", { tsconfig: "tsconfig.json", isolatedModules: true }] },
  testTimeout: 60000,
  // Snapshots hold "<core version>" for the core's version: one snapshot for cdktf and CDK Terrain.
  snapshotSerializers: ["<rootDir>/__tests__/helpers/core-version-serializer.ts"],
};
