/**
 * Where the harness gets stack configs from: `synthesizeApp` of src/app.ts (loaded lazily, so the
 * harness also works on plain fixtures), writing `<outdir>/stacks/<stack>/cdk.tf.json`.
 */
import * as fs from "fs";
import * as path from "path";
import { parseHujson } from "../tailnet/policy/hujson";
import { POLICY_FRAGMENT_FILE } from "../tailnet/tailnet-policy";
import { DataSourceFixtures } from "./server";
import { CtyValue } from "./cty";
import { repoRoot } from "./workdir";

type SynthesizeApp = (outdir: string) => string[];

/** Loads `synthesizeApp` from src/app.ts (or its build output); throws a clear error when absent. */
export function loadSynthesizeApp(root = repoRoot()): SynthesizeApp {
  const candidates = [path.join(root, "src", "app"), path.join(__dirname, "..", "app")];
  for (const c of candidates) {
    if (fs.existsSync(`${c}.ts`) || fs.existsSync(`${c}.js`)) {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const mod = require(c) as { synthesizeApp?: SynthesizeApp };
      if (typeof mod.synthesizeApp !== "function") throw new Error(`${c} does not export synthesizeApp(outdir)`);
      return mod.synthesizeApp;
    }
  }
  throw new Error("src/app.ts not found: the harness needs synthesizeApp(outdir) to synthesize stacks");
}

/** True when src/app.ts exists (tests fall back to fixtures otherwise). */
export function appAvailable(root = repoRoot()): boolean {
  return fs.existsSync(path.join(root, "src", "app.ts")) || fs.existsSync(path.join(__dirname, "..", "app.js"));
}

export function stackConfigPath(outdir: string, stack: string): string {
  return path.join(outdir, "stacks", stack, "cdk.tf.json");
}

/** Synthesizes every stack into `outdir` and returns their names; checks the files exist. */
export function synthesizeStacks(outdir: string, synth: SynthesizeApp = loadSynthesizeApp()): string[] {
  const names = synth(outdir);
  for (const n of names) {
    if (!fs.existsSync(stackConfigPath(outdir, n))) {
      throw new Error(`synthesizeApp returned stack ${n} but ${stackConfigPath(outdir, n)} was not written`);
    }
  }
  return names;
}


/**
 * Stand-ins for what a stack's data sources would read from live services. A stack whose tailnet
 * policy is kept elsewhere reads it with `data.tailscale_acl`; offline, the fragment written beside
 * its config is served as that policy, as if the user had merged it (notes say so).
 */
export function stackDataFixtures(configPath: string): { fixtures: DataSourceFixtures; notes: string[] } {
  const fixtures: Record<string, Record<string, CtyValue>> = {};
  const notes: string[] = [];
  const fragment = path.join(path.dirname(configPath), POLICY_FRAGMENT_FILE);
  if (fs.existsSync(fragment)) {
    const text = fs.readFileSync(fragment, "utf8");
    const json = JSON.stringify(parseHujson(text, POLICY_FRAGMENT_FILE));
    fixtures.tailscale_acl = { json, hujson: text };
    notes.push(`data.tailscale_acl reads ${POLICY_FRAGMENT_FILE} as the tailnet's policy (as if it had been merged)`);
  }
  // A node looked up by hostname (src/tailnet/node-succession.ts): offline, the tailnet holds exactly
  // that node, with the tags its key gives it.
  const config = JSON.parse(fs.readFileSync(configPath, "utf8")) as {
    data?: Record<string, Record<string, { filter?: { name: string; values: string[] }[] }>>;
    resource?: Record<string, Record<string, { tags?: string[] }>>;
  };
  const lookups = Object.values(config.data?.tailscale_devices ?? {});
  const hostnames = lookups.flatMap((d) => (d.filter ?? []).filter((f) => f.name === "hostname").flatMap((f) => f.values));
  if (hostnames.length === 1) {
    const tags = [...new Set(Object.values(config.resource?.tailscale_tailnet_key ?? {}).flatMap((k) => k.tags ?? []))].sort();
    fixtures.tailscale_devices = { devices: [{ hostname: hostnames[0], tags }] as unknown as CtyValue };
    notes.push(`data.tailscale_devices finds one device, ${hostnames[0]} (${tags.join(", ") || "no tags"}), as if the node had joined`);
  }
  return { fixtures, notes };
}
