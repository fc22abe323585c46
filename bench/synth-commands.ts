/**
 * The main job against its floor, in one run: the cost of loading cdktf at all
 * (`node -e "require('cdktf')"`), then `npm run synth` and `npx cdktf synth` right after an edit
 * (a comment line added to a source file every stack imports, so the runner transpiles and compiles
 * it again; the file is restored at the end) and `npm run synth` with nothing changed. Runs are
 * interleaved, so machine load weighs on all of them alike; medians, and each as a ratio of the
 * floor's median. Goal: `npm run synth` after an edit at most 3 times the floor.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fmt, median } from "./stats";

const ROOT = path.resolve(__dirname, "..");
/** The file "edited" before a run: every stack imports it. */
const EDITED = path.join(ROOT, "src", "validation", "index.ts");

interface Case {
  readonly label: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly edit: boolean;
}

const CASES: readonly Case[] = [
  { label: `node -e "require('cdktf')" (floor)`, cmd: process.execPath, args: ["-e", "require('cdktf')"], edit: false },
  { label: "npm run synth, after an edit", cmd: "npm", args: ["run", "--silent", "synth"], edit: true },
  { label: "npm run synth, nothing changed", cmd: "npm", args: ["run", "--silent", "synth"], edit: false },
  { label: "npx cdktf synth, after an edit", cmd: "npx", args: ["cdktf", "synth"], edit: true },
];

let edits = 0;

/** A real edit: the file's text changes (a comment line added), so every cache keyed on it misses. */
function edit(file: string, original: string): void {
  fs.writeFileSync(file, `${original}// bench edit ${++edits}\n`);
}

function timeOnce(c: Case, env: NodeJS.ProcessEnv, original: string): number {
  if (c.edit) edit(EDITED, original);
  const start = process.hrtime.bigint();
  const r = spawnSync(c.cmd, [...c.args], { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${c.label} failed (${r.status}): ${r.stderr}`);
  return ms;
}

export interface SynthRatios {
  readonly floorMs: number;
  readonly rows: { label: string; medianMs: number; ratio: number }[];
}

export function measureSynthCommands(runs = 5): SynthRatios {
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1" };
  delete env.TF_CLI_CONFIG_FILE;
  const times = CASES.map(() => [] as number[]);
  const original = fs.readFileSync(EDITED, "utf8");
  try {
    // One warm-up round (disk cache, the runner's caches), not counted.
    CASES.forEach((c) => timeOnce(c, env, original));
    for (let i = 0; i < runs; i++) CASES.forEach((c, j) => times[j].push(timeOnce(c, env, original)));
  } finally {
    fs.writeFileSync(EDITED, original);
  }
  const medians = times.map(median);
  return {
    floorMs: medians[0],
    rows: CASES.map((c, j) => ({ label: c.label, medianMs: medians[j], ratio: medians[j] / medians[0] })),
  };
}

export function benchSynthCommands(runs = 5): string {
  const m = measureSynthCommands(runs);
  const rows = ["| command | × floor (median) | median | runs |", "|---|---:|---:|---:|"];
  for (const r of m.rows) rows.push(`| \`${r.label}\` | ${fmt(r.ratio, 2)} | ${fmt(r.medianMs)} ms | ${runs} |`);
  return rows.join("\n");
}

if (require.main === module) console.log(benchSynthCommands(Number(process.env.BENCH_RUNS ?? 5)));
