/**
 * Which CDK core the project runs on: the one place that knows.
 *
 * Every module imports "cdktf". By default that is cdktf 0.21 (package.json). CDK Terrain, the
 * maintained fork, is installed under the same name by an npm alias (`npm run core -- use cdktn`,
 * see core-cli.ts): `node_modules/cdktf` then holds the package `cdktn`, the prebuilt providers and
 * the generated bindings load it through their own `require("cdktf")`, and one core is in the
 * process. What differs between the cores (their CLI, how to turn off token creation stacks, the
 * version they write into the synthesized JSON) is read from here, never from a hard-coded name.
 * This file imports no core, so the switch itself runs whatever is installed.
 */
import * as path from "path";

export type CoreName = "cdktf" | "cdktn";

/** The name every import uses, whichever core is installed under it. */
export const CORE_IMPORT = "cdktf";

export const DEFAULT_CORE: CoreName = "cdktf";

export interface CoreSpec {
  readonly name: CoreName;
  readonly title: string;
  /** What is installed under the names the code and the prebuilt providers require. */
  readonly packages: { readonly cdktf: string; readonly constructs: string; readonly cli: string };
  /**
   * The CLI's command (`npx <bin> synth`), its first words in an error summary, the oldest Node it
   * runs on and, when it has one, the newest Node major it starts on, with the reason.
   */
  readonly cli: { readonly bin: string; readonly minNode: string; readonly maxNodeMajor?: { readonly major: number; readonly why: string } };
  /**
   * How to stop the core recording a stack trace for every token it makes (see token-stacks.ts):
   * an environment setting the core reads at each token, or a module export to replace.
   */
  readonly creationStacks: { readonly env: string } | { readonly module: string; readonly exportName: string };
  /**
   * The core calls `util.isArray`, which Node 22 and later deprecate at run time: the first call
   * prints a DeprecationWarning (DEP0044) on stderr, which the CLI shows as an [ERROR] line.
   */
  readonly callsUtilIsArray: boolean;
}

export const CORES: Readonly<Record<CoreName, CoreSpec>> = {
  cdktf: {
    name: "cdktf",
    title: "CDK for Terraform",
    // The default install: the versions package.json pins (a test checks they agree).
    packages: { cdktf: "cdktf@0.21.0", constructs: "constructs@10.4.2", cli: "cdktf-cli@0.21.0" },
    cli: {
      bin: "cdktf",
      minNode: "20.0.0",
      // Measured: on Node 24 (ABI 137) it fails at start-up, "Cannot find module '../build/Release/pty.node'".
      maxNodeMajor: { major: 22, why: "its @cdktf/node-pty-prebuilt-multiarch ships prebuilt binaries up to Node 22 (ABI 127) only" },
    },
    // cdktf 0.21 has no setting; its modules call this export through the exports object.
    creationStacks: { module: "cdktf/lib/tokens/private/stack-trace", exportName: "captureStackTrace" },
    // lib/terraform-output.js, isITerraformAddressable(), at every output.
    callsUtilIsArray: true,
  },
  cdktn: {
    name: "cdktn",
    title: "CDK Terrain",
    // cdktn 0.24 wants constructs >=10.6.0 <10.8.0 (its peerDependencies).
    packages: { cdktf: "cdktf@npm:cdktn@0.24.0", constructs: "constructs@10.6.0", cli: "cdktn-cli@0.24.0" },
    // cdktn-cli's engines field; on Node 20 it crashes.
    cli: { bin: "cdktn", minNode: "22.19.0" },
    // cdktn 0.24 lib/tokens/private/stack-trace.js captureCreationStack(): "true" or "1" skips it.
    creationStacks: { env: "CDKTN_DISABLE_CREATION_STACK" },
    // Its TerraformOutput calls Array.isArray.
    callsUtilIsArray: false,
  },
};

export interface InstalledCore {
  readonly spec: CoreSpec;
  /** The installed package's version, as it writes it into `"//".metadata.version`. */
  readonly version: string;
  /** The package's folder (node_modules/cdktf under either core). */
  readonly dir: string;
}

/** The core installed under CORE_IMPORT, found as Node resolves it from this project. */
export function installedCore(): InstalledCore {
  const manifest = require.resolve(`${CORE_IMPORT}/package.json`);
  const pkg = require(manifest) as { name: string; version: string };
  const spec = CORES[pkg.name as CoreName];
  if (spec === undefined) {
    throw new Error(`"${CORE_IMPORT}" resolves to the package "${pkg.name}", which is neither ${Object.keys(CORES).join(" nor ")}`);
  }
  return { spec, version: pkg.version, dir: path.dirname(manifest) };
}

/**
 * Keeps a synthesis on Node 22+ free of the DeprecationWarning cdktf 0.21 triggers (see
 * CoreSpec.callsUtilIsArray; the core is unmaintained, so it won't be fixed there): `util.isArray`
 * is pointed at `Array.isArray`, which is what it wraps (Node's lib/util.js), so only the warning
 * goes. Nothing is changed when the installed core doesn't need it. Idempotent.
 */
export function quietDeprecatedCoreCalls(): void {
  if (!installedCore().spec.callsUtilIsArray) return;
  const util = require("util") as { isArray?: unknown };
  if (typeof util.isArray === "function" && util.isArray !== Array.isArray) util.isArray = Array.isArray;
}

/** Whether this Node runs the core's CLI; otherwise why not, in one line. */
export function cliRunsHere(spec: CoreSpec, nodeVersion: string = process.versions.node): { ok: true } | { ok: false; reason: string } {
  if (compareVersions(nodeVersion, spec.cli.minNode) < 0) {
    return { ok: false, reason: `the ${spec.cli.bin} CLI needs Node >= ${spec.cli.minNode}; this is Node ${nodeVersion}` };
  }
  const max = spec.cli.maxNodeMajor;
  if (max !== undefined && Number(nodeVersion.split(".")[0]) > max.major) {
    return { ok: false, reason: `the ${spec.cli.bin} CLI does not start on Node ${nodeVersion}: ${max.why}` };
  }
  return { ok: true };
}

/** Compares dotted numeric versions ("22.19.0"): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** What `"//".metadata.version` reads after normaliseCoreVersion. */
export const CORE_VERSION_PLACEHOLDER = "<core version>";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A synthesized stack document with the core's version in its metadata replaced by a placeholder:
 * the one field the cores are allowed to write differently. Only `version` is replaced, only when
 * it is `version` (the installed core's, by default), so a stray or wrong version still shows.
 * Anything that is not a stack document comes back unchanged.
 */
export function normaliseCoreVersion<T>(doc: T, version: string = installedCore().version): T {
  const meta = metadataOf(doc);
  if (meta === undefined || meta.version !== version) return doc;
  const d = doc as unknown as { "//": { metadata: Record<string, Json> } };
  return { ...d, "//": { ...d["//"], metadata: { ...meta, version: CORE_VERSION_PLACEHOLDER } } } as unknown as T;
}

function metadataOf(doc: unknown): Record<string, Json> | undefined {
  if (!isObject(doc) || !isObject(doc["//"])) return undefined;
  const meta = doc["//"].metadata;
  return isObject(meta) && typeof meta.version === "string" ? (meta as Record<string, Json>) : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
