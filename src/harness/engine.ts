/**
 * The plan engine: Terraform or OpenTofu. Both speak plugin protocol 6 to the offline provider
 * server and read the same Terraform JSON; they differ in their binary, in the registry host a bare
 * provider source means (`linode/linode` is registry.terraform.io/linode/linode to Terraform and
 * registry.opentofu.org/linode/linode to OpenTofu) and in the name a review shows.
 *
 * Which one runs: the caller's choice (`--engine`, `engine:`), else $PLAN_ENGINE, else terraform when
 * it is on PATH, else tofu (on PATH, or the pinned build of scripts/tools.txt), so a machine without
 * Terraform plans with OpenTofu and nothing skips for want of Terraform.
 */
import * as fs from "fs";
import * as path from "path";
import { findPinnedProgram } from "../tools/pinned";

export const ENGINES = ["terraform", "tofu"] as const;
export type EngineName = (typeof ENGINES)[number];

/** Environment variable that picks the engine when no option does. */
export const ENGINE_ENV = "PLAN_ENGINE";

export interface PlanEngine {
  readonly name: EngineName;
  /** Absolute path of the binary. */
  readonly path: string;
  /** What a review calls it: "Terraform" or "OpenTofu". */
  readonly label: string;
  /** Registry host a two-part provider source (`linode/linode`) resolves to. */
  readonly defaultRegistry: string;
}

const LABEL: Record<EngineName, string> = { terraform: "Terraform", tofu: "OpenTofu" };
const REGISTRY: Record<EngineName, string> = { terraform: "registry.terraform.io", tofu: "registry.opentofu.org" };

export function isEngineName(s: string): s is EngineName {
  return (ENGINES as readonly string[]).includes(s);
}

function onPath(program: string, envPath: string): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function engine(name: EngineName, bin: string): PlanEngine {
  return { name, path: bin, label: LABEL[name], defaultRegistry: REGISTRY[name] };
}

/** The named engine's binary, or why it is missing. */
export function locateEngine(name: EngineName, env: NodeJS.ProcessEnv = process.env): PlanEngine | { missing: string } {
  const found = onPath(name, env.PATH ?? "");
  if (found) return engine(name, found);
  if (name === "terraform") return { missing: "terraform is not on PATH" };
  const pinned = findPinnedProgram("opentofu", "tofu", env);
  if ("path" in pinned) return engine("tofu", pinned.path);
  return { missing: `tofu is not on PATH and ${pinned.missing}` };
}

/**
 * The engine to plan with: `requested` (an option), else $PLAN_ENGINE, else the first present of
 * terraform and tofu. A requested engine that is missing is an error with the reason, never a
 * silent switch to the other one.
 */
export function findEngine(requested?: string, env: NodeJS.ProcessEnv = process.env): PlanEngine | { missing: string } {
  const want = requested ?? (env[ENGINE_ENV] || undefined);
  if (want !== undefined) {
    if (!isEngineName(want)) return { missing: `unknown engine ${JSON.stringify(want)}${requested ? "" : ` in $${ENGINE_ENV}`}; engines: ${ENGINES.join(", ")}` };
    return locateEngine(want, env);
  }
  const reasons: string[] = [];
  for (const name of ENGINES) {
    const e = locateEngine(name, env);
    if ("path" in e) return e;
    reasons.push(e.missing);
  }
  return { missing: `no plan engine: ${reasons.join("; ")}` };
}

/** Every engine present on this machine, Terraform first (CI plans each stack with each). */
export function availableEngines(env: NodeJS.ProcessEnv = process.env): PlanEngine[] {
  return ENGINES.map((n) => locateEngine(n, env)).filter((e): e is PlanEngine => "path" in e);
}

/**
 * TF_REATTACH_PROVIDERS for `engine`: the server keys its providers by registry.terraform.io
 * addresses; OpenTofu resolves bare sources to registry.opentofu.org, so it gets each provider
 * under that host too (the same socket: the protocol never names the host).
 */
export function reattachFor(engine: Pick<PlanEngine, "defaultRegistry">, reattach: Record<string, unknown>): string {
  const out: Record<string, unknown> = { ...reattach };
  const tf = `${REGISTRY.terraform}/`;
  if (engine.defaultRegistry !== REGISTRY.terraform) {
    for (const [addr, entry] of Object.entries(reattach)) {
      if (addr.startsWith(tf)) out[`${engine.defaultRegistry}/${addr.slice(tf.length)}`] = entry;
    }
  }
  return JSON.stringify(out);
}
