/**
 * Churn study: apply a stack offline, remove one region, plan again and count what Terraform
 * would replace, update and destroy. With `count` every instance after the removed index shifts
 * to another region (a replacement-forcing change); with `for_each` only the removed key goes.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineName } from "./engine";
import { OfflineSession } from "./runner";
import { RecordedProvider } from "./schema";
import { stackConfigPath, synthesizeStacks } from "./stacks";
import { countPlan, PlanCounts, PlanJson } from "./summary";
import { TfJson } from "./workdir";

export interface MeasureChurnProps {
  /** Region slug to drop from the list, e.g. `us-ord`. */
  readonly removeRegion: string;
  /** terraform or tofu. @default findEngine()'s choice */
  readonly engine?: EngineName;
  /** Synthesized config of the stack; default: synthesize the app into a temp dir. */
  readonly configPath?: string;
  /**
   * Config to plan after the removal, for stacks whose regions are not a variable (synthesized
   * without the region). When omitted, the `regionsVariable` variable is overridden instead.
   */
  readonly configAfterPath?: string;
  /** Name of the list variable holding the regions (default `regions`). */
  readonly regionsVariable?: string;
  /** Regions before the removal (default: the variable's default in the config). */
  readonly regions?: readonly string[];
  readonly schemaDir?: string;
  readonly providers?: readonly RecordedProvider[];
  /** Time limit of each terraform command (see OfflineSessionProps.timeoutMs). */
  readonly timeoutMs?: number;
  /** Keep the temporary work dir (for inspection); default false. */
  readonly keepWorkDir?: boolean;
}

export interface ChurnReport {
  readonly stack: string;
  readonly removedRegion: string;
  /** Position of the removed region in the list (-1 when the list is not a variable). */
  readonly removedIndex: number;
  readonly regionsBefore: readonly string[];
  /** Managed resources in state after the offline apply. */
  readonly appliedResources: number;
  /** Counts of the second plan (after the removal). */
  readonly counts: PlanCounts;
  /** Review summary of the second plan. */
  readonly planMarkdown: string;
  /** The second plan, for assertions on addresses and attributes. */
  readonly plan: PlanJson;
  /** Managed resources the first plan after apply still wanted to change (must be 0: no churn from the harness itself). */
  readonly driftAfterApply: number;
}

/**
 * The config without one region, for stacks that iterate over a literal map keyed by node name,
 * written in `for_each = {...}` or in a `locals` value (a map of strings, as name → region, or of
 * objects with a `region`): entries whose key is the region, starts with `<region>-`, or whose value
 * (or value's `region`) is the region are dropped from every resource, data source and such local. Returns the number of
 * entries removed alongside, so callers can tell when the stack had nothing to drop.
 */
export function removeRegionFromForEach(config: TfJson, region: string): { config: TfJson; removed: number } {
  const copy = JSON.parse(JSON.stringify(config)) as TfJson;
  let removed = 0;
  const dropFrom = (map: Record<string, unknown>) => {
    for (const key of Object.keys(map)) {
      const v = map[key] as { region?: unknown } | string | null;
      if (key === region || key.startsWith(`${region}-`) || v === region || (v && typeof v === "object" && v.region === region)) {
        delete map[key];
        removed++;
      }
    }
  };
  const isMap = (x: unknown): x is Record<string, unknown> => !!x && typeof x === "object" && !Array.isArray(x);
  for (const section of [copy.resource, copy.data as TfJson["resource"]]) {
    for (const byName of Object.values(section ?? {})) {
      for (const block of Object.values(byName)) {
        if (isMap(block.for_each)) dropFrom(block.for_each);
      }
    }
  }
  // Node maps kept in locals: name → region (the value is the region itself), or name → object.
  for (const value of Object.values(isMap(copy.locals) ? copy.locals : {})) {
    const entries = isMap(value) ? Object.values(value) : [];
    if (entries.length > 0 && entries.every((e) => typeof e === "string" || (isMap(e) && typeof e.region === "string"))) {
      dropFrom(value as Record<string, unknown>);
    }
  }
  return { config: copy, removed };
}

function readConfig(p: string): TfJson {
  return JSON.parse(fs.readFileSync(p, "utf8")) as TfJson;
}

export async function measureChurn(stack: string, props: MeasureChurnProps): Promise<ChurnReport> {
  if (!props.removeRegion) throw new Error("measureChurn: removeRegion is required (a region slug)");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `tfchurn-${stack}-`));
  try {
    let configPath = props.configPath;
    if (!configPath) {
      const names = synthesizeStacks(path.join(tmp, "out"));
      if (!names.includes(stack)) throw new Error(`measureChurn: unknown stack ${stack}; the app defines ${names.join(", ")}`);
      configPath = stackConfigPath(path.join(tmp, "out"), stack);
    }
    const config = readConfig(configPath);
    const varName = props.regionsVariable ?? "regions";
    let regionsBefore: string[] = [];
    let removedIndex = -1;
    let varsAfter: Record<string, unknown> | undefined;
    let configAfterPath = props.configAfterPath;
    if (!configAfterPath && !config.variable?.[varName]) {
      // Regions baked in at synth time: drop the region from the literal for_each maps instead.
      const { config: without, removed } = removeRegionFromForEach(config, props.removeRegion);
      if (removed === 0) {
        throw new Error(
          `measureChurn: stack ${stack} has no variable ${varName} and no for_each entry for ${props.removeRegion}; pass configAfterPath`,
        );
      }
      configAfterPath = path.join(tmp, "after", "cdk.tf.json");
      fs.mkdirSync(path.dirname(configAfterPath), { recursive: true });
      fs.writeFileSync(configAfterPath, JSON.stringify(without, null, 2));
    }
    if (!configAfterPath) {
      const decl = config.variable![varName];
      regionsBefore = [...((props.regions ?? decl.default ?? []) as string[])];
      removedIndex = regionsBefore.indexOf(props.removeRegion);
      if (removedIndex < 0) {
        throw new Error(`measureChurn: removeRegion ${props.removeRegion} is not one of ${regionsBefore.join(", ")}`);
      }
      varsAfter = { [varName]: regionsBefore.filter((r) => r !== props.removeRegion) };
    }
    const varsBefore = props.regions && !configAfterPath ? { [varName]: [...props.regions] } : undefined;

    const session = await OfflineSession.open({
      configPath,
      workDir: path.join(tmp, "work"),
      schemaDir: props.schemaDir,
      providers: props.providers,
      stripProvisioners: true,
      vars: varsBefore,
      engine: props.engine,
      timeoutMs: props.timeoutMs,
    });
    try {
      await session.apply();
      const state = JSON.parse(fs.readFileSync(path.join(session.workDir, "terraform.tfstate"), "utf8")) as {
        resources?: { mode: string; instances: unknown[] }[];
      };
      const appliedResources = (state.resources ?? [])
        .filter((r) => r.mode === "managed")
        .reduce((n, r) => n + r.instances.length, 0);
      // Plan the unchanged config once: a harness that churns by itself would spoil the figure.
      const steady = countPlan((await session.plan()).plan);
      const driftAfterApply = steady.total.create + steady.total.update + steady.total.replace + steady.total.destroy;

      session.reconfigure({ configPath: configAfterPath ?? configPath, vars: varsAfter ?? varsBefore });
      const after = await session.plan({ title: `Churn: ${stack} without ${props.removeRegion}` });
      return {
        stack,
        removedRegion: props.removeRegion,
        removedIndex,
        regionsBefore,
        appliedResources,
        counts: countPlan(after.plan),
        planMarkdown: after.markdown,
        plan: after.plan,
        driftAfterApply,
      };
    } finally {
      await session.close();
    }
  } finally {
    if (!props.keepWorkDir) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Markdown table of churn reports (for the CLI and docs). */
export function renderChurnMarkdown(reports: readonly ChurnReport[]): string {
  const lines = [
    "| stack | removed region (index) | resources applied | replaced | updated in place | destroyed | created | unchanged |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of reports) {
    const t = r.counts.total;
    const idx = r.removedIndex >= 0 ? `${r.removedIndex} of ${r.regionsBefore.length}` : "n/a";
    lines.push(
      `| ${r.stack} | \`${r.removedRegion}\` (${idx}) | ${r.appliedResources} | ${t.replace} | ${t.update} | ${t.destroy} | ${t.create} | ${t["no-op"]} |`,
    );
  }
  return lines.join("\n") + "\n";
}
