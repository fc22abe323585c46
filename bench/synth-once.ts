/**
 * One synthesis of a MeshStack with N nodes, in its own process so its peak memory is its own.
 * Prints {"nodes":N,"synthMs":…,"bytes":…} on stdout.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { LINODE_REGIONS } from "../src/catalog/regions";
import { MeshStack } from "../src/systems/mesh/mesh-stack";

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) throw new Error("usage: synth-once <nodes>");
// Round-robin over every catalog region, so large meshes look like real ones.
const nodes = Array.from({ length: n }, (_, i) => {
  const region = LINODE_REGIONS[i % LINODE_REGIONS.length].slug;
  return { name: `${region}-${Math.floor(i / LINODE_REGIONS.length) + 1}`, region };
});
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
const start = process.hrtime.bigint();
const app = new App({ outdir });
new MeshStack(app, "mesh", { nodes });
app.synth();
const synthMs = Number(process.hrtime.bigint() - start) / 1e6;
const bytes = fs.statSync(path.join(outdir, "stacks", "mesh", "cdk.tf.json")).size;
fs.rmSync(outdir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ nodes: n, synthMs, bytes }) + "\n");
