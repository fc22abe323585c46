/**
 * Where the pinned programs of scripts/tools.txt live once scripts/build-tools.sh has built them.
 * Tests and the harness ask here, and get either the program's path or the reason it is missing,
 * which a test prints when it skips.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";

export interface PinnedTool {
  readonly name: string;
  readonly version: string;
  readonly how: string;
  readonly module: string;
  readonly packages: readonly string[];
  /** Trailing KEY=value words: settings for the build (e.g. GOTOOLCHAIN). */
  readonly settings: Readonly<Record<string, string>>;
}

const ROOT = path.resolve(__dirname, "..", "..");

/** The tools.txt entries, in file order. */
export function pinnedTools(listFile = path.join(ROOT, "scripts", "tools.txt")): PinnedTool[] {
  const out: PinnedTool[] = [];
  for (const raw of readFileSync(listFile, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [name, version, how, module, ...rest] = line.split(/\s+/);
    const isSetting = (w: string) => /^[A-Z][A-Z0-9_]*=/.test(w);
    const packages = rest.filter((w) => !isSetting(w));
    const settings = Object.fromEntries(rest.filter(isSetting).map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]));
    out.push({ name, version, how, module, packages, settings });
  }
  return out;
}

/** The cache folder: $TOOLS_CACHE, or .tools/ in the project (as in build-tools.sh). */
export function toolsCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.TOOLS_CACHE ? path.resolve(env.TOOLS_CACHE) : path.join(ROOT, ".tools");
}

export type ToolLookup = { path: string; version: string } | { missing: string };

/** The path of `program` built for tool `name`, or why it is not there. */
export function findPinnedProgram(name: string, program: string, env: NodeJS.ProcessEnv = process.env): ToolLookup {
  const tool = pinnedTools().find((t) => t.name === name);
  if (!tool) return { missing: `${name} is not listed in scripts/tools.txt` };
  const dir = path.join(toolsCache(env), `${name}-${tool.version}`);
  const bin = path.join(dir, "bin", program);
  if (!existsSync(path.join(dir, ".complete")) || !existsSync(bin)) {
    return { missing: `${program} (${name} ${tool.version}) is not built: run scripts/build-tools.sh ${name} (needs Go and the Go module proxy)` };
  }
  return { path: bin, version: tool.version };
}
