/**
 * Backend options at synth: what each type writes into the stack's `terraform.backend`, how the app
 * picks one from the environment without code changes, and the refusals (credentials in props, a
 * password in a connection string, two stacks on one state, typos) with the field named.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack, Testing } from "cdktf";
import { buildApp } from "../src/app";
import { backendFromEnv, BackendOptions, configureBackend, setDefaultBackend } from "../src/terraform/backend";
import { ValidationError } from "../src/validation";

function backendOf(options: BackendOptions | undefined, id = "mesh", app = Testing.app() as App): any {
  const stack = new TerraformStack(app, id);
  configureBackend(stack, options);
  return JSON.parse(Testing.synth(stack)).terraform.backend;
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error("expected a ValidationError");
}

describe("what each backend writes", () => {
  test("local: a relative path at the project root (no absolute path in the JSON)", () => {
    expect(backendOf(undefined)).toEqual({ local: { path: "../../../terraform.mesh.tfstate" } });
  });
  test("s3 on Linode Object Storage: per-stack key, lock file, path style, AWS-only checks off, no credentials", () => {
    expect(backendOf({ type: "s3", bucket: "tf-state", region: "us-east-1", endpoint: "https://us-east-1.linodeobjects.com" })).toEqual({
      s3: {
        bucket: "tf-state",
        key: "tailnet/mesh.tfstate",
        region: "us-east-1",
        encrypt: false,
        endpoints: { s3: "https://us-east-1.linodeobjects.com" },
        use_path_style: true,
        use_lockfile: true,
        skip_credentials_validation: true,
        skip_requesting_account_id: true,
        skip_region_validation: true,
        skip_metadata_api_check: true,
        skip_s3_checksum: true,
      },
    });
  });
  test("s3 on AWS: encrypted by default; explicit key and lock file off are honoured", () => {
    expect(backendOf({ type: "s3", bucket: "tf-state", region: "eu-central-1", key: "team/a.tfstate", useLockfile: false })).toEqual({
      s3: { bucket: "tf-state", key: "team/a.tfstate", region: "eu-central-1", encrypt: true, use_lockfile: false },
    });
  });
  test("pg: a schema per stack, and no conn_str unless a password-free one is given", () => {
    expect(backendOf({ type: "pg" }, "subnet-router")).toEqual({ pg: { schema_name: "tailnet_subnet_router" } });
    expect(backendOf({ type: "pg", connStr: "postgres://tf@db.example.com/tfstate?sslmode=verify-full", schemaPrefix: "team_" })).toEqual({
      pg: { conn_str: "postgres://tf@db.example.com/tfstate?sslmode=verify-full", schema_name: "team_mesh" },
    });
  });
});

describe("refusals", () => {
  test.each([
    ["an access key", { type: "s3", bucket: "b-1", region: "r", accessKey: "AKIA..." }, /^backend\.accessKey: credentials never go in the configuration .*AWS_ACCESS_KEY_ID/],
    ["a secret key (snake case)", { type: "s3", bucket: "b-1", region: "r", secret_key: "x" }, /^backend\.secret_key: credentials never go/],
    ["an SSE-C key", { type: "s3", bucket: "b-1", region: "r", sseCustomerKey: "x" }, /^backend\.sseCustomerKey: credentials never go.*AWS_SSE_CUSTOMER_KEY/],
    ["a pg password field", { type: "pg", password: "x" }, /^backend\.password: credentials never go.*PG_CONN_STR/],
    ["a password in a pg URL", { type: "pg", connStr: "postgres://tf:hunter2@db/tfstate" }, /^backend\.connStr: holds a secret: a password in the user info \(value not shown\)/],
    ["a password in a pg key=value string", { type: "pg", connStr: "host=db user=tf password=hunter2" }, /^backend\.connStr: holds a secret: password \(value not shown\)/],
    ["an unknown type, near miss", { type: "postgres" }, /^backend\.type: "postgres" is not one of "local", "pg", "s3"\./],
    ["a misspelt option", { type: "s3", bucket: "b-1", region: "r", useLockFile: true }, /^backend\.useLockFile: is not an option of the s3 backend\. Did you mean "useLockfile"\? Options: bucket, encrypt, endpoint, key, keyPrefix, region, useLockfile, usePathStyle\.$/],
    ["an option of another backend", { type: "local", bucket: "b-1" }, /^backend\.bucket: is not an option of the local backend\. It takes none\.$/],
    ["a bad bucket name", { type: "s3", bucket: "My_Bucket", region: "r" }, /^backend\.bucket: "My_Bucket" is not an S3 bucket name/],
    ["an endpoint with credentials in it", { type: "s3", bucket: "b-1", region: "r", endpoint: "https://k:s@x.example" }, /^backend\.endpoint: .* is not an http\(s\) URL without credentials/],
    ["a non-boolean flag", { type: "s3", bucket: "b-1", region: "r", encrypt: "yes" }, /^backend\.encrypt: "yes" must be true or false$/],
  ] as [string, unknown, RegExp][])("%s", (_name, options, expected) => {
    const text = message(() => backendOf(options as BackendOptions));
    expect(text).toMatch(expected);
    expect(text).not.toMatch(/hunter2|AKIA/);
  });

  test("two stacks on one state location are refused, naming both", () => {
    const app = Testing.app() as App;
    const shared: BackendOptions = { type: "s3", bucket: "tf-state", region: "us-east-1", key: "one.tfstate" };
    backendOf(shared, "a", app);
    expect(message(() => backendOf(shared, "b", app))).toMatch(/^b: backend: stores its state where stack a does \(s3 aws tf-state\/one\.tfstate\)/);
  });

  test("the app default applies to every stack that gives none", () => {
    const app = Testing.app() as App;
    setDefaultBackend(app, { type: "pg" });
    expect(backendOf(undefined, "mesh", app)).toEqual({ pg: { schema_name: "tailnet_mesh" } });
    expect(backendOf({ type: "local" }, "article", app)).toEqual({ local: { path: "../../../terraform.article.tfstate" } });
  });
});

describe("choosing the backend from the environment", () => {
  test.each([
    [{}, { type: "local" }],
    [{ TAILNET_BACKEND: "pg" }, { type: "pg" }],
    [{ TAILNET_BACKEND: "pg", TAILNET_PG_CONN_STR: "postgres://tf@db/tfstate", TAILNET_PG_SCHEMA_PREFIX: "ops_" }, { type: "pg", connStr: "postgres://tf@db/tfstate", schemaPrefix: "ops_" }],
    [
      { TAILNET_BACKEND: "s3", TAILNET_S3_BUCKET: "tf-state", TAILNET_S3_REGION: "us-east-1", TAILNET_S3_ENDPOINT: "https://us-east-1.linodeobjects.com", TAILNET_S3_USE_LOCKFILE: "false" },
      { type: "s3", bucket: "tf-state", region: "us-east-1", endpoint: "https://us-east-1.linodeobjects.com", useLockfile: false },
    ],
  ] as [NodeJS.ProcessEnv, BackendOptions][])("%j", (env, expected) => {
    expect(backendFromEnv(env)).toEqual(expected);
  });

  test.each([
    [{ TAILNET_BACKEND: "s4" }, /^TAILNET_BACKEND: "s4" is not one of "local", "pg", "s3"\. Did you mean "s3"\?$/],
    [{ TAILNET_BACKEND: "s3", TAILNET_S3_REGION: "us-east-1" }, /^TAILNET_S3_BUCKET: must be set when TAILNET_BACKEND=s3/],
    [{ TAILNET_BACKEND: "s3", TAILNET_S3_BUCKET: "Bad_Name", TAILNET_S3_REGION: "r" }, /^TAILNET_S3_BUCKET: "Bad_Name" is not an S3 bucket name/],
    [{ TAILNET_BACKEND: "s3", TAILNET_S3_BUCKET: "b-1", TAILNET_S3_REGION: "r", TAILNET_S3_ENCRYPT: "yes" }, /^TAILNET_S3_ENCRYPT: "yes" is not one of "false", "true"\.$/],
    [{ TAILNET_BACKEND: "pg", TAILNET_PG_CONN_STR: "postgres://tf:hunter2@db/x" }, /^TAILNET_PG_CONN_STR: holds a secret: a password in the user info \(value not shown\)/],
    [{ TAILNET_PG_SCHEMA_PREFX: "x" }, /^TAILNET_PG_SCHEMA_PREFX: is not a setting this app reads\. Did you mean "TAILNET_PG_SCHEMA_PREFIX"\?/],
  ] as [NodeJS.ProcessEnv, RegExp][])("refuses %j", (env, expected) => {
    const text = message(() => backendFromEnv(env));
    expect(text).toMatch(expected);
    expect(text).not.toMatch(/hunter2/);
  });

  test("buildApp puts every stack of the app on the chosen backend, each with its own key", () => {
    const app = buildApp({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "backend-env-")), env: { TAILNET_BACKEND: "s3", TAILNET_S3_BUCKET: "tf-state", TAILNET_S3_REGION: "us-east-1" } });
    const stacks = app.node.children.filter((c): c is TerraformStack => c instanceof TerraformStack);
    expect(stacks.length).toBeGreaterThanOrEqual(2);
    const keys = stacks.map((s) => JSON.parse(Testing.synth(s)).terraform.backend.s3.key);
    expect(keys).toEqual(stacks.map((s) => `tailnet/${s.node.id}.tfstate`));
  });
});
