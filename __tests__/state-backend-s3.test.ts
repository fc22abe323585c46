/**
 * The s3 backend's shape, checked by the real `terraform init` (Terraform validates the backend
 * block against its schema before it connects) and then used: the offline harness applies the mesh
 * stack with its state in a local S3 endpoint (127.0.0.1, see helpers/s3-recorder.ts), which shows
 * what our settings make Terraform send: path-style requests, SigV4 with the region and credentials
 * from the environment only, the S3-native lock file taken with a conditional PUT and released, and
 * server-side encryption asked for when configured.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { findTerraform, OfflineSession } from "../src/harness/runner";
import { MeshStack } from "../src/systems/mesh/mesh-stack";
import { S3BackendOptions } from "../src/terraform/backend";
import { S3Recorder, startS3Recorder } from "./helpers/s3-recorder";

const TERRAFORM = findTerraform();
if (!TERRAFORM) console.warn("SKIPPED s3 backend tests: terraform is not on PATH");
const maybe = TERRAFORM ? describe : describe.skip;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "s3-state-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

const ENV = { AWS_ACCESS_KEY_ID: "offline-test-key", AWS_SECRET_ACCESS_KEY: "offline-test-secret", AWS_MAX_ATTEMPTS: "1" };

function synth(name: string, backend: S3BackendOptions, mutate?: (doc: any) => void): string {
  const outdir = path.join(TMP, `out-${name}`);
  const app = new App({ outdir });
  new MeshStack(app, "mesh", { regions: ["us-east", "eu-west"], backend });
  app.synth();
  const config = path.join(outdir, "stacks", "mesh", "cdk.tf.json");
  if (mutate) {
    const doc = JSON.parse(fs.readFileSync(config, "utf8"));
    mutate(doc);
    fs.writeFileSync(config, JSON.stringify(doc));
  }
  return config;
}

maybe("s3 backend against a local S3 endpoint", () => {
  jest.setTimeout(120_000);
  let s3: S3Recorder;
  beforeAll(async () => {
    s3 = await startS3Recorder("tf-state");
  });
  afterAll(async () => s3?.close());

  test("init accepts the block, and an apply keeps state under the stack's key, behind the lock file", async () => {
    const config = synth("linode", { type: "s3", bucket: "tf-state", region: "us-east-1", endpoint: s3.endpoint, encrypt: true });
    const block = JSON.parse(fs.readFileSync(config, "utf8")).terraform.backend.s3;
    expect(block).toMatchObject({ bucket: "tf-state", key: "tailnet/mesh.tfstate", use_lockfile: true, use_path_style: true, endpoints: { s3: s3.endpoint } });
    expect(Object.keys(block).filter((k) => /key$|secret|token|password/.test(k) && k !== "key")).toEqual([]);

    await withS3Session("linode", config, async (s) => {
      const init = await s.init();
      expect(init.stdout).toMatch(/Successfully configured the backend "s3"/);
      s3.requests.length = 0;
      await s.apply();
    });
    const state = JSON.parse(s3.objects.get("tailnet/mesh.tfstate")!.toString("utf8"));
    // Two nodes (one instance resource per region), all in this state.
    expect(state.resources.filter((r: { type: string }) => r.type === "linode_instance").flatMap((r: { instances: unknown[] }) => r.instances)).toHaveLength(2);
    // The lock: taken with a conditional PUT before the state is written, deleted after.
    const lockPut = s3.requests.findIndex((r) => r.method === "PUT" && r.key === "tailnet/mesh.tfstate.tflock");
    const statePut = s3.requests.findIndex((r) => r.method === "PUT" && r.key === "tailnet/mesh.tfstate");
    const lockDelete = s3.requests.findIndex((r) => r.method === "DELETE" && r.key === "tailnet/mesh.tfstate.tflock");
    expect(lockPut).toBeGreaterThanOrEqual(0);
    expect(s3.requests[lockPut].ifNoneMatch).toBe("*");
    expect(statePut).toBeGreaterThan(lockPut);
    expect(lockDelete).toBeGreaterThan(statePut);
    expect(s3.objects.has("tailnet/mesh.tfstate.tflock")).toBe(false);
    expect(s3.requests[statePut].sse).toBe("AES256");
    // Path style (bucket in the path) and SigV4 with the region and the key from the environment.
    expect(s3.requests.every((r) => r.bucket === "tf-state")).toBe(true);
    expect(s3.requests[statePut].credential).toMatch(/^offline-test-key\/\d{8}\/us-east-1\/s3\/aws4_request$/);
  });

  test("a lock file already in the bucket stops the apply, and the state is left as it was", async () => {
    const config = synth("locked", { type: "s3", bucket: "tf-state", region: "us-east-1", endpoint: s3.endpoint, keyPrefix: "locked/" });
    await withS3Session("locked", config, async (s) => {
      await s.init();
      s3.objects.set("locked/mesh.tfstate.tflock", Buffer.from(JSON.stringify({ ID: "held-by-someone-else", Who: "test" })));
      const r = await s.tf(s.applyArgs());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Error acquiring the state lock/);
      expect(s3.objects.has("locked/mesh.tfstate")).toBe(false);
    });
  });

  test("without encryption asked for (the default with an endpoint) no SSE header is sent", async () => {
    const config = synth("plain", { type: "s3", bucket: "tf-state", region: "us-east-1", endpoint: s3.endpoint, keyPrefix: "plain/" });
    expect(JSON.parse(fs.readFileSync(config, "utf8")).terraform.backend.s3.encrypt).toBe(false);
    await withS3Session("plain", config, async (s) => {
      await s.init();
      await s.apply();
    });
    const put = s3.requests.find((r) => r.method === "PUT" && r.key === "plain/mesh.tfstate");
    expect(put?.sse).toBeUndefined();
  });

  test("the AWS shape (no endpoint, encrypted by default) passes init's schema check; -backend-config points it here", async () => {
    const config = synth("aws", { type: "s3", bucket: "tf-state", region: "eu-central-1", keyPrefix: "aws/" });
    const block = JSON.parse(fs.readFileSync(config, "utf8")).terraform.backend.s3;
    expect(block).toEqual({ bucket: "tf-state", key: "aws/mesh.tfstate", region: "eu-central-1", encrypt: true, use_lockfile: true });
    await withS3Session("aws", config, async (s) => {
      fs.writeFileSync(
        path.join(s.workDir, "local.s3.tfbackend"),
        [`endpoints = { s3 = "${s3.endpoint}" }`, "use_path_style = true", "skip_credentials_validation = true", "skip_requesting_account_id = true", "skip_s3_checksum = true"].join("\n") + "\n",
      );
      const init = await s.tf(["init", "-input=false", "-no-color", "-backend-config=local.s3.tfbackend"]);
      expect(init.code).toBe(0);
    });
    expect(s3.requests.some((r) => r.credential?.includes("/eu-central-1/s3/"))).toBe(true);
  });

  test("a misspelt backend argument is refused by init's schema check before anything is sent", async () => {
    const config = synth("typo", { type: "s3", bucket: "tf-state", region: "us-east-1", endpoint: s3.endpoint, keyPrefix: "typo/" }, (doc) => {
      doc.terraform.backend.s3.use_lock_file = true;
    });
    const before = s3.requests.length;
    await withS3Session("typo", config, async (s) => {
      const r = await s.tf(["init", "-input=false", "-no-color"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Extraneous JSON object property[\s\S]*No argument or block type is named "use_lock_file"/);
    });
    expect(s3.requests.length).toBe(before);
  });
});

async function withS3Session(name: string, configPath: string, fn: (s: OfflineSession) => Promise<void>): Promise<void> {
  const s = await OfflineSession.open({ configPath, workDir: path.join(TMP, `work-${name}`), keepBackend: true, env: ENV });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}
