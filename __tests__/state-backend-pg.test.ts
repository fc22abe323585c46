/**
 * Shared state on a real PostgreSQL (Debian's, on a unix socket in a temp dir): the offline harness
 * applies the mesh stack through the `pg` backend, then two applies meet on Terraform's lock. With
 * -lock-timeout the second waits and then applies its own change; without, it fails on the lock and
 * changes nothing. After each round the state is whole: a fresh plan of the winning config shows no
 * change, and the serial advanced once per apply that went through.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { findTerraform, OfflineSession, TerraformResult } from "../src/harness/runner";
import { MeshStack } from "../src/systems/mesh/mesh-stack";
import { Postgres, startPostgres } from "./helpers/postgres";

const TERRAFORM = findTerraform();
const SCHEMA = `locktest_${process.pid}`;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "pg-state-"));
const REGIONS = ["us-east", "eu-west", "ap-south"];

let pg: Postgres | undefined;
let skipReason: string | undefined = TERRAFORM ? undefined : "terraform is not on PATH";
if (!skipReason) {
  const started = startPostgres("pgstate");
  if ("skip" in started) skipReason = started.skip;
  else pg = started.postgres;
}
if (skipReason) console.warn(`SKIPPED pg state backend tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

afterAll(async () => {
  await pg?.stop();
  fs.rmSync(TMP, { recursive: true, force: true });
});

/** The mesh stack over `regions`, its state in the test's schema; conn_str comes from PG_CONN_STR. */
function synthMesh(name: string, regions: string[]): string {
  const outdir = path.join(TMP, `out-${name}`);
  const app = new App({ outdir });
  new MeshStack(app, "mesh", { regions, backend: { type: "pg", schemaName: SCHEMA } });
  app.synth();
  const config = path.join(outdir, "stacks", "mesh", "cdk.tf.json");
  expect(JSON.parse(fs.readFileSync(config, "utf8")).terraform.backend).toEqual({ pg: { schema_name: SCHEMA } });
  return config;
}

/** The state row as PostgreSQL holds it. */
function storedState(): { serial: number; lineage: string; instances: string[]; resources: number } {
  const text = pg!.psql(`SELECT data FROM ${SCHEMA}.states WHERE name = 'default'`);
  const state = JSON.parse(text) as { serial: number; lineage: string; resources: { type: string; instances: { index_key?: string }[] }[] };
  const instances = state.resources
    .filter((r) => r.type === "linode_instance")
    .flatMap((r) => r.instances.map((i) => String(i.index_key)))
    .sort();
  return { serial: state.serial, lineage: state.lineage, instances, resources: state.resources.reduce((n, r) => n + r.instances.length, 0) };
}

function advisoryLocks(): number {
  return Number(pg!.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"));
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Timed extends TerraformResult {
  readonly startedAt: number;
  readonly endedAt: number;
}

async function timed(p: () => Promise<TerraformResult>): Promise<Timed> {
  const startedAt = Date.now();
  const r = await p();
  return { ...r, startedAt, endedAt: Date.now() };
}

async function openSession(name: string, configPath: string): Promise<OfflineSession> {
  const s = await OfflineSession.open({
    configPath,
    workDir: path.join(TMP, `work-${name}`),
    keepBackend: true,
    env: { PG_CONN_STR: pg!.connStr },
    // Each resource's apply takes a second, so an apply holds the lock for a few seconds.
    applyDelayMs: 1000,
  });
  await s.init();
  return s;
}

maybe("pg backend on a real PostgreSQL", () => {
  jest.setTimeout(180_000);
  let a: OfflineSession;
  let b: OfflineSession;
  const configs: Record<string, string> = {};

  beforeAll(async () => {
    configs.three = synthMesh("three", REGIONS);
    configs.four = synthMesh("four", [...REGIONS, "ap-northeast"]);
    configs.five = synthMesh("five", [...REGIONS, "ap-northeast", "us-west"]);
    a = await openSession("a", configs.three);
    b = await openSession("b", configs.four);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  test("init stores nothing secret: conn_str came from the environment, not the backend config", () => {
    const backendState = JSON.parse(fs.readFileSync(path.join(a.workDir, ".terraform", "terraform.tfstate"), "utf8"));
    expect(backendState.backend.type).toBe("pg");
    expect(backendState.backend.config.conn_str ?? null).toBeNull();
    expect(backendState.backend.config.schema_name).toBe(SCHEMA);
  });

  test("with -lock-timeout the second apply waits for the first, then applies its own change", async () => {
    const first = timed(() => a.tf(a.applyArgs()));
    // The second starts only once the first holds the lock (a session-level advisory lock).
    await until("the first apply to take the state lock", () => advisoryLocks() > 0);
    const second = await timed(() => b.tf(b.applyArgs({ lockTimeout: "120s" })));
    const one = await first;
    expect(one.code).toBe(0);
    expect(second.code).toBe(0);
    expect(second.startedAt).toBeLessThan(one.endedAt);
    expect(second.endedAt).toBeGreaterThan(one.endedAt);
    // Three regions (instance + key each), the firewall and the policy; then the fourth region's two.
    expect(one.stdout).toMatch(/Apply complete! Resources: 8 added, 0 changed, 0 destroyed\./);
    expect(second.stdout).toMatch(/Apply complete! Resources: 2 added, 0 changed, 0 destroyed\./);

    const state = storedState();
    expect(state.serial).toBe(2);
    expect(state.instances).toEqual(["ap-northeast", "ap-south", "eu-west", "us-east"]);
    expect(state.resources).toBe(10);
    // Whole: the second config, planned against the stored state, has nothing left to do.
    const check = await b.tf(["plan", "-input=false", "-no-color", "-detailed-exitcode", ...b.prepared.varArgs]);
    expect(check.code).toBe(0);
  });

  test("without -lock-timeout the second apply fails on the lock and changes nothing", async () => {
    const before = storedState();
    b.reconfigure({ configPath: configs.five });
    // Back to three regions: destroys ap-northeast's node and key while holding the lock.
    const first = timed(() => a.tf(a.applyArgs()));
    await until("the first apply to take the state lock", () => advisoryLocks() > 0);
    const second = await timed(() => b.tf(b.applyArgs()));
    const one = await first;
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/Apply complete! Resources: 0 added, 0 changed, 2 destroyed\./);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/Error acquiring the state lock/);
    expect(second.stderr).toMatch(/Lock Info:/);
    expect(second.endedAt).toBeLessThan(one.endedAt);

    const after = storedState();
    expect(after.lineage).toBe(before.lineage);
    expect(after.serial).toBe(before.serial + 1);
    expect(after.instances).toEqual(["ap-south", "eu-west", "us-east"]);
    expect(after.resources).toBe(8);
    const check = await a.tf(["plan", "-input=false", "-no-color", "-detailed-exitcode", ...a.prepared.varArgs]);
    expect(check.code).toBe(0);
    // The lock went with the session that held it.
    expect(advisoryLocks()).toBe(0);
  });
});
