/**
 * One synthesis of a subnet-router stack (with its mesh, which owns the policy), in its own process
 * so its peak memory is its own. Prints {"stack":…,"synthMs":…,"bytes":…} on stdout.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { MeshStack } from "../src/systems/mesh/mesh-stack";
import { AwsSubnetRouterStack } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack } from "../src/systems/subnet-router/linode-subnet-router-stack";

const stack = process.argv[2];
if (stack !== "subnet-router-linode" && stack !== "subnet-router-aws") throw new Error("usage: synth-router-once <subnet-router-linode|subnet-router-aws>");
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-router-"));
const start = process.hrtime.bigint();
const app = new App({ outdir });
const mesh = new MeshStack(app, "mesh", { regions: ["us-ord"] });
if (stack === "subnet-router-linode") new LinodeSubnetRouterStack(app, stack, { tailnetPolicy: mesh.tailnetPolicy, target: true });
else new AwsSubnetRouterStack(app, stack, { tailnetPolicy: mesh.tailnetPolicy, target: true });
app.synth();
const synthMs = Number(process.hrtime.bigint() - start) / 1e6;
const bytes = fs.statSync(path.join(outdir, "stacks", stack, "cdk.tf.json")).size;
fs.rmSync(outdir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ stack, synthMs, bytes }) + "\n");
