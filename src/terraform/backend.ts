/**
 * Where each stack keeps its Terraform state: `local` (a file, for one person), `s3` (AWS S3 or an
 * S3-compatible store such as Linode Object Storage, locked with Terraform's S3-native lock file) or
 * `pg` (PostgreSQL, locked with advisory locks). Every stack calls configureBackend() once.
 *
 * Credentials never go into props or the synthesized JSON: Terraform reads them from the
 * environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SSE_CUSTOMER_KEY for s3; PG_CONN_STR
 * or PGPASSWORD / ~/.pgpass for pg). Terraform writes backend settings given in the configuration
 * into .terraform/terraform.tfstate, so a secret there would land on disk too.
 */
import { UNGROUPED_ADDRESSES_ENV } from "./ungrouped-addresses";
import { LocalBackend, LocalBackendConfig, PgBackend, PgBackendConfig, S3Backend, TerraformStack } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { didYouMean, fail, naturalSort, requireOneOf, sentences } from "../validation";
import { redactConnection, showConnection } from "../validation/redact";

/**
 * cdktf's default local backend writes an absolute state path into the JSON, which makes synthesized
 * output machine-dependent. This path is relative to the stack's working directory
 * (cdktf.out/stacks/<stack>) and lands the state where cdktf would: terraform.<stack>.tfstate at the
 * project root, so `cdktf deploy` and plain `terraform` in that directory share one state.
 */
export function relativeStateBackend(stackName: string): LocalBackendConfig {
  return { path: `../../../terraform.${stackName}.tfstate` };
}

/** State in a local file (the default): fine for one person, nothing shared, no lock across machines. */
export interface LocalBackendOptions {
  readonly type: "local";
}

/**
 * State in an S3 bucket: AWS S3, or an S3-compatible store (Linode Object Storage: endpoint
 * `https://<region>.linodeobjects.com`, region e.g. `us-east-1`). Locked with Terraform's S3-native
 * lock file (`<key>.tflock`, written with a conditional PUT; Terraform 1.10 or later), so no DynamoDB
 * table. Credentials come from the environment only (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
 */
export interface S3BackendOptions {
  readonly type: "s3";
  /** Bucket holding the state of every stack (create it first, with versioning on). */
  readonly bucket: string;
  /** Region of the bucket (for Linode Object Storage, the cluster's region, e.g. "us-east-1"). */
  readonly region: string;
  /** S3 API endpoint of an S3-compatible store. @default none: AWS S3 */
  readonly endpoint?: string;
  /** Object key of this stack's state. @default `${keyPrefix}${stack}.tfstate` */
  readonly key?: string;
  /** Prefix of the per-stack default keys. @default "tailnet/" */
  readonly keyPrefix?: string;
  /** Terraform's S3-native lock file. @default true */
  readonly useLockfile?: boolean;
  /**
   * Server-side encryption of the state object (SSE-S3 on AWS). @default true on AWS S3; false with
   * an endpoint, as S3-compatible stores often refuse the header (Linode Object Storage offers
   * SSE-C instead: export AWS_SSE_CUSTOMER_KEY, a base64 256-bit key, and Terraform uses it)
   */
  readonly encrypt?: boolean;
  /** Bucket in the URL path instead of the host name. @default true with an endpoint, else false */
  readonly usePathStyle?: boolean;
}

/**
 * State in PostgreSQL: one schema per stack (a table `states`, a row per workspace), locked with
 * advisory locks that end with the session, so a killed run never leaves a stale lock.
 */
export interface PgBackendOptions {
  readonly type: "pg";
  /**
   * Connection string without a password, e.g. "postgres://tf@db.example.com/tfstate?sslmode=verify-full".
   * @default none: Terraform reads PG_CONN_STR (or the PG* variables) from the environment
   */
  readonly connStr?: string;
  /** Schema of this stack's state. @default `${schemaPrefix}${stack}` */
  readonly schemaName?: string;
  /** Prefix of the per-stack default schema names. @default "tailnet_" */
  readonly schemaPrefix?: string;
}

export type BackendOptions = LocalBackendOptions | S3BackendOptions | PgBackendOptions;
export type BackendType = BackendOptions["type"];
export const BACKEND_TYPES: readonly BackendType[] = ["local", "pg", "s3"];

/** Props every stack of the app accepts. */
export interface CommonStackProps {
  /**
   * Where this stack's state lives. @default the app's default (setDefaultBackend; `npm run synth`
   * reads it from TAILNET_BACKEND and friends, see backendFromEnv), else { type: "local" }
   */
  readonly backend?: BackendOptions;
}

const OPTION_KEYS: Record<BackendType, readonly string[]> = {
  local: ["type"],
  s3: ["type", "bucket", "region", "endpoint", "key", "keyPrefix", "useLockfile", "encrypt", "usePathStyle"],
  pg: ["type", "connStr", "schemaName", "schemaPrefix"],
};

/** Backend settings that hold secrets: refused in props (they would be written to disk). */
const CREDENTIAL_KEYS = new Set(
  [
    "accessKey", "secretKey", "token", "sseCustomerKey", "profile", "sharedCredentialsFile", "sharedCredentialsFiles",
    "password", "assumeRole", "assumeRoleWithWebIdentity", "roleArn",
  ].flatMap((k) => [k, k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]),
);

const CONTEXT_KEY = "linode-tailnet:default-backend";

/**
 * The backend every stack of `app` uses unless its props say otherwise. Call before adding stacks
 * (construct context can't change once children exist).
 */
export function setDefaultBackend(app: Construct, options: BackendOptions): void {
  checkBackendOptions(options, "backend");
  app.node.setContext(CONTEXT_KEY, options);
}

/** Configures the stack's backend; every stack calls this once, in its constructor. */
export function configureBackend(stack: TerraformStack, options?: BackendOptions): void {
  const chosen: BackendOptions = options ?? (stack.node.tryGetContext(CONTEXT_KEY) as BackendOptions | undefined) ?? { type: "local" };
  checkBackendOptions(chosen, "backend");
  const name = stack.node.id;
  let location: string;
  switch (chosen.type) {
    case "local": {
      const config = relativeStateBackend(name);
      new LocalBackend(stack, config);
      location = `local file ${config.path}`;
      break;
    }
    case "s3": {
      const key = chosen.key ?? `${chosen.keyPrefix ?? "tailnet/"}${name}.tfstate`;
      requireObjectKey("backend.key", key);
      const custom = chosen.endpoint !== undefined;
      const backend = new S3Backend(stack, {
        bucket: chosen.bucket,
        key,
        region: chosen.region,
        encrypt: chosen.encrypt ?? !custom,
        ...(custom
          ? {
              endpoints: { s3: chosen.endpoint },
              usePathStyle: chosen.usePathStyle ?? true,
              // Checks that only AWS itself answers: its account API, its region list, its checksums.
              skipCredentialsValidation: true,
              skipRequestingAccountId: true,
              skipRegionValidation: true,
              skipMetadataApiCheck: true,
              skipS3Checksum: true,
            }
          : chosen.usePathStyle !== undefined
            ? { usePathStyle: chosen.usePathStyle }
            : {}),
      });
      // Terraform 1.10+ argument that cdktf 0.21's S3BackendConfig does not know yet.
      backend.addOverride("use_lockfile", chosen.useLockfile ?? true);
      location = `s3 ${chosen.endpoint ?? "aws"} ${chosen.bucket}/${key}`;
      break;
    }
    case "pg": {
      const schemaName = chosen.schemaName ?? `${chosen.schemaPrefix ?? "tailnet_"}${name}`.replace(/-/g, "_");
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schemaName)) {
        fail("backend.schemaName", `${JSON.stringify(schemaName)} is not a plain PostgreSQL schema name (lower-case letters, digits and '_', at most 63, not starting with a digit)`);
      }
      // Without connStr the block leaves conn_str out and Terraform reads PG_CONN_STR at run time.
      const config = { schemaName, ...(chosen.connStr ? { connStr: chosen.connStr } : {}) } as PgBackendConfig;
      new PgBackend(stack, config);
      location = `pg ${chosen.connStr ? redactConnection(chosen.connStr) : "$PG_CONN_STR"} schema ${schemaName}`;
      break;
    }
  }
  claimStateLocation(stack, location);
}

/** Checks backend options as a user wrote them (typed or not), naming the field and what is allowed. */
export function checkBackendOptions(options: unknown, field: string): asserts options is BackendOptions {
  if (!options || typeof options !== "object") fail(field, `${JSON.stringify(options)} is not a backend ({ type: "local" | "s3" | "pg", … })`);
  const o = options as Record<string, unknown>;
  const type = requireOneOf(`${field}.type`, o.type, BACKEND_TYPES);
  for (const k of Object.keys(o).sort()) {
    if (CREDENTIAL_KEYS.has(k)) {
      fail(`${field}.${k}`, `credentials never go in the configuration (Terraform would write them to .terraform/ and the synthesized JSON); ${credentialHint(type)}`);
    }
    const allowed = OPTION_KEYS[type];
    if (!allowed.includes(k)) {
      const sorted = naturalSort(allowed.filter((a) => a !== "type"));
      fail(`${field}.${k}`, sentences(`is not an option of the ${type} backend.`, didYouMean(k, sorted), sorted.length ? `Options: ${sorted.join(", ")}.` : "It takes none."));
    }
  }
  const str = (k: string, required: boolean) => {
    const v = o[k];
    if (v === undefined && !required) return;
    // Connection settings may hold a secret put in the wrong place: shown redacted, never as given.
    const shown = k === "connStr" || k === "endpoint" ? (typeof v === "string" ? showConnection(v) : `a ${Array.isArray(v) ? "list" : typeof v} (value not shown)`) : JSON.stringify(v);
    if (typeof v !== "string" || v.trim() === "") fail(`${field}.${k}`, `${shown} must be a non-empty string`);
  };
  const bool = (k: string) => {
    if (o[k] !== undefined && typeof o[k] !== "boolean") fail(`${field}.${k}`, `${JSON.stringify(o[k])} must be true or false`);
  };
  if (type === "s3") {
    str("bucket", true);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket as string)) {
      fail(`${field}.bucket`, `${JSON.stringify(o.bucket)} is not an S3 bucket name (3-63 lower-case letters, digits, '.' and '-')`);
    }
    str("region", true);
    str("endpoint", false);
    if (o.endpoint !== undefined) requireEndpoint(`${field}.endpoint`, o.endpoint as string);
    str("key", false);
    str("keyPrefix", false);
    ["useLockfile", "encrypt", "usePathStyle"].forEach(bool);
  }
  if (type === "pg") {
    str("connStr", false);
    str("schemaName", false);
    str("schemaPrefix", false);
    if (o.connStr !== undefined) requirePasswordless(`${field}.connStr`, o.connStr as string);
  }
}

function credentialHint(type: BackendType): string {
  if (type === "pg") return "put the whole connection string in PG_CONN_STR, or the password in PGPASSWORD or ~/.pgpass, in the environment of terraform";
  return "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SSE_CUSTOMER_KEY for SSE-C) in the environment of terraform";
}

function requireEndpoint(field: string, endpoint: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  // The value is shown with any credentials taken out: an error line must not print them.
  if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) {
    fail(field, `${showConnection(endpoint)} is not an http(s) URL without credentials, query or fragment, e.g. "https://us-east-1.linodeobjects.com"; credentials go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
}

function requireObjectKey(field: string, key: string): void {
  if (key.startsWith("/") || key.endsWith("/") || key.includes("//")) {
    fail(field, `${JSON.stringify(key)} is not an object key Terraform accepts (no leading or trailing '/', no '//')`);
  }
}

/**
 * libpq (and lib/pq, Terraform's driver) parameters that carry a secret: `password`, `sslpassword`
 * (the client key's passphrase), `oauth_client_secret`, `scram_client_key`, `scram_server_key`, and
 * anything else named like a password, secret, token or credential (lib/pq passes unknown names on).
 * `passfile` names a file (libpq's ~/.pgpass), not a secret.
 */
const PG_SECRET_PARAM = /^(?!passfile$)(?=.*(pass|secret|token|credential|scram))/i;

/** A connection string that carries a secret would be written to disk; refuse it, without echoing it. */
export function requirePasswordless(field: string, connStr: string): void {
  const names: string[] = [];
  if (/^\s*postgres(ql)?:\/\//i.test(connStr)) {
    let url: URL;
    try {
      url = new URL(connStr.trim());
    } catch {
      fail(field, "is not a valid postgres:// URL (value not shown: it may hold a secret)");
    }
    if (url.password !== "") names.push("a password in the user info");
    // No driver reads a fragment; a secret there would still be written to disk.
    if (url.hash !== "") names.push("a fragment");
    names.push(...[...url.searchParams.keys()].filter((k) => PG_SECRET_PARAM.test(k)));
  } else {
    // key=value pairs, values quoted or not; a name anywhere, even inside a quoted value, counts.
    for (const m of connStr.matchAll(/(?:^|[\s'])([A-Za-z_][A-Za-z0-9_]*)\s*=/g)) if (PG_SECRET_PARAM.test(m[1])) names.push(m[1]);
  }
  if (names.length > 0) {
    const which = [...new Set(names)].join(", ");
    fail(field, `holds a secret: ${which} (value not shown); ${credentialHint("pg")}, and keep connStr for the non-secret parts`);
  }
}

// Stacks that would share one state would overwrite each other's resources: refuse at synth.
const locations = new WeakMap<IConstruct, Map<string, string>>();
function claimStateLocation(stack: TerraformStack, location: string): void {
  const root = stack.node.root;
  const seen = locations.get(root) ?? new Map<string, string>();
  locations.set(root, seen);
  const other = seen.get(location);
  if (other && other !== stack.node.path) {
    fail(`${stack.node.path}: backend`, `stores its state where stack ${other} does (${location}); give each stack its own key or schema`);
  }
  seen.set(location, stack.node.path);
}

/** Where the app's default backend comes from when it is chosen without editing code. */
export const BACKEND_ENV = {
  TAILNET_BACKEND: "local (default), s3 or pg",
  TAILNET_S3_BUCKET: "s3: bucket (required)",
  TAILNET_S3_REGION: "s3: region (required), e.g. us-east-1",
  TAILNET_S3_ENDPOINT: "s3: endpoint of an S3-compatible store, e.g. https://us-east-1.linodeobjects.com (unset: AWS S3)",
  TAILNET_S3_KEY_PREFIX: "s3: prefix of each stack's key (default tailnet/)",
  TAILNET_S3_ENCRYPT: "s3: true|false server-side encryption (default: true on AWS, false with an endpoint)",
  TAILNET_S3_USE_LOCKFILE: "s3: true|false Terraform's S3 lock file (default true)",
  TAILNET_S3_PATH_STYLE: "s3: true|false path-style URLs (default: true with an endpoint)",
  TAILNET_PG_CONN_STR: "pg: connection string WITHOUT password (unset: terraform reads PG_CONN_STR at run time)",
  TAILNET_PG_SCHEMA_PREFIX: "pg: prefix of each stack's schema (default tailnet_)",
} as const;

/**
 * The app's backend as the environment chooses it (see BACKEND_ENV). Only non-secret settings are
 * read here; credentials stay in the environment of terraform itself. Unknown TAILNET_* variables
 * are errors in any case (a typo would otherwise be ignored; src/validation/env.ts checks the rest).
 */
export function backendFromEnv(env: NodeJS.ProcessEnv): BackendOptions {
  const known = Object.keys(BACKEND_ENV);
  for (const k of Object.keys(env).filter((k) => /^TAILNET_/i.test(k)).sort()) {
    // The one TAILNET_ setting that is not the backend's (read by buildApp).
    if (k === UNGROUPED_ADDRESSES_ENV) continue;
    if (!known.includes(k)) {
      fail(k, sentences("is not a setting this app reads.", didYouMean(k, known), `Backend settings: ${naturalSort(known).join(", ")}.`));
    }
  }
  const type = requireOneOf("TAILNET_BACKEND", env.TAILNET_BACKEND ?? "local", BACKEND_TYPES);
  const flag = (k: keyof typeof BACKEND_ENV): boolean | undefined => {
    const v = env[k];
    if (v === undefined || v === "") return undefined;
    return requireOneOf(k, v, ["true", "false"] as const) === "true";
  };
  const need = (k: keyof typeof BACKEND_ENV): string => {
    const v = env[k];
    if (!v) fail(k, `must be set when TAILNET_BACKEND=${type} (${BACKEND_ENV[k]})`);
    return v;
  };
  const opt = (k: keyof typeof BACKEND_ENV): string | undefined => env[k] || undefined;
  const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const fromEnv = (options: BackendOptions): BackendOptions => {
    // Report a bad value under the variable that holds it.
    const envName: Record<string, string> = {
      bucket: "TAILNET_S3_BUCKET", region: "TAILNET_S3_REGION", endpoint: "TAILNET_S3_ENDPOINT", key: "TAILNET_S3_KEY_PREFIX",
      connStr: "TAILNET_PG_CONN_STR", schemaName: "TAILNET_PG_SCHEMA_PREFIX",
    };
    try {
      checkBackendOptions(options, "backend");
    } catch (e) {
      const ve = e as { field?: string; detail?: string };
      const option = ve.field?.replace(/^backend\./, "");
      if (option && Object.prototype.hasOwnProperty.call(envName, option) && ve.detail) fail(envName[option], ve.detail);
      throw e;
    }
    return options;
  };
  if (type === "s3") {
    return fromEnv(clean({
      type,
      bucket: need("TAILNET_S3_BUCKET"),
      region: need("TAILNET_S3_REGION"),
      endpoint: opt("TAILNET_S3_ENDPOINT"),
      keyPrefix: opt("TAILNET_S3_KEY_PREFIX"),
      encrypt: flag("TAILNET_S3_ENCRYPT"),
      useLockfile: flag("TAILNET_S3_USE_LOCKFILE"),
      usePathStyle: flag("TAILNET_S3_PATH_STYLE"),
    }));
  }
  if (type === "pg") {
    const connStr = opt("TAILNET_PG_CONN_STR");
    if (connStr) requirePasswordless("TAILNET_PG_CONN_STR", connStr);
    return fromEnv(clean({ type, connStr, schemaPrefix: opt("TAILNET_PG_SCHEMA_PREFIX") }));
  }
  return { type: "local" };
}
