/**
 * The offline provider server: one Node process serving every recorded provider over Terraform
 * plugin protocol 6, each on its own unix socket. Terraform attaches to it through
 * TF_REATTACH_PROVIDERS, so `terraform init` installs nothing and nothing leaves the machine.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { CtyType, CtyValue, fromMsgpack, fromStateJson, toMsgpack } from "./cty";
import { fillUnknowns, planResource, PlanRules, readDataSourceValue, stableKeyOf, AddressFlavour } from "./planner";
import { blockType, JsonSchema, providerSchemaResponse, RecordedProvider } from "./schema";

export interface ReattachEntry {
  Protocol: "grpc";
  ProtocolVersion: 6;
  Pid: number;
  Test: true;
  Addr: { Network: "unix"; String: string };
}

export interface OfflineServerProps {
  readonly providers: readonly RecordedProvider[];
  /** Where the sockets go (default: a fresh short directory under os.tmpdir(); unix paths max ~107 bytes). */
  readonly socketDir?: string;
  /**
   * What data sources read, by type: attribute values that stand in for the live objects (e.g. the
   * tailnet's current policy for `tailscale_acl`). Attributes not given get placeholders.
   */
  readonly dataSources?: DataSourceFixtures;
  /**
   * Answer each ApplyResourceChange only after this many milliseconds, so an apply holds its state
   * lock long enough for a second one to meet it (lock tests). @default 0
   */
  readonly applyDelayMs?: number;
}

/** Data source type → attribute → value. */
export type DataSourceFixtures = Readonly<Record<string, Readonly<Record<string, CtyValue>>>>;

export interface OfflineServer {
  /** Provider address → reattach entry; JSON-encode it into TF_REATTACH_PROVIDERS. */
  readonly reattach: Record<string, ReattachEntry>;
  readonly reattachJson: string;
  /** RPC name → number of calls, across providers (lets tests see what Terraform asked for). */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

/** Finds tfplugin6.proto next to this file, or in src/harness when running from a build output. */
export function protoPath(): string {
  const candidates = [path.join(__dirname, "tfplugin6.proto")];
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    candidates.push(path.join(dir, "src", "harness", "tfplugin6.proto"));
  }
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error("tfplugin6.proto not found next to the harness sources");
  return found;
}

let cachedService: grpc.ServiceDefinition | undefined;
function providerService(): grpc.ServiceDefinition {
  if (!cachedService) {
    const def = protoLoader.loadSync(protoPath(), { keepCase: true, longs: Number, enums: Number, defaults: false, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      tfplugin6: { Provider: grpc.ServiceClientConstructor };
    };
    cachedService = pkg.tfplugin6.Provider.service;
  }
  return cachedService;
}

interface DynamicValueMsg {
  msgpack?: Buffer;
  json?: Buffer;
}

interface Diagnostic {
  severity: 1 | 2;
  summary: string;
  detail?: string;
}

function decodeDV(dv: DynamicValueMsg | undefined | null, type: CtyType): CtyValue {
  if (!dv) return null;
  if (dv.msgpack && dv.msgpack.length > 0) return fromMsgpack(dv.msgpack, type);
  if (dv.json && dv.json.length > 0) return fromStateJson(JSON.parse(dv.json.toString("utf8")), type);
  return null;
}

function encodeDV(v: CtyValue, type: CtyType): DynamicValueMsg {
  return { msgpack: Buffer.from(toMsgpack(v, type)) };
}

function errorDiag(summary: string, err?: unknown): Diagnostic {
  const detail = err instanceof Error ? err.message : err === undefined ? "" : String(err);
  return { severity: 1, summary, detail };
}

/** Behaviour of one provider, independent of gRPC plumbing (also used directly by unit tests). */
export class OfflineProvider {
  readonly addresses: AddressFlavour;
  constructor(
    readonly provider: RecordedProvider,
    private readonly dataSources: DataSourceFixtures = {},
  ) {
    this.addresses = /tailscale/.test(provider.address) ? "cgnat" : "test-net";
  }

  resourceSchema(typeName: string): JsonSchema {
    const s = this.provider.schema.resource_schemas?.[typeName];
    if (!s) throw new Error(`${this.provider.address} has no resource type ${typeName}`);
    return s;
  }

  dataSchema(typeName: string): JsonSchema {
    const s = this.provider.schema.data_source_schemas?.[typeName];
    if (!s) throw new Error(`${this.provider.address} has no data source ${typeName}`);
    return s;
  }

  /** Planning facts for a resource type from the schema side-car. */
  rules(typeName: string): PlanRules {
    const m = this.provider.meta;
    const conditional = m.requires_replace_conditional?.[typeName];
    return {
      requiresReplace: m.requires_replace?.[typeName] ?? [],
      requiresReplaceConditional:
        conditional && typeof conditional === "object" ? Object.keys(conditional as Record<string, unknown>) : [],
      defaults: m.defaults?.[typeName] ?? {},
      useStateForUnknown: m.use_state_for_unknown?.[typeName],
    };
  }

  plan(typeName: string, prior: CtyValue, proposed: CtyValue, config: CtyValue): ReturnType<typeof planResource> {
    return planResource(this.resourceSchema(typeName).block, prior, proposed, config, this.rules(typeName));
  }

  apply(typeName: string, planned: CtyValue, config: CtyValue): CtyValue {
    if (planned === null) return null; // destroy
    const schema = this.resourceSchema(typeName);
    return fillUnknowns(planned, blockType(schema.block), {
      typeName,
      stableKey: stableKeyOf(config),
      addresses: this.addresses,
    });
  }

  readData(typeName: string, config: CtyValue): CtyValue {
    const fixture = this.dataSources[typeName];
    const schema = this.dataSchema(typeName).block;
    if (fixture) {
      for (const name of Object.keys(fixture)) {
        if (!schema.attributes?.[name] && !schema.block_types?.[name]) throw new Error(`data source fixture: ${typeName} has no attribute or block ${name}`);
      }
      config = { ...(config as Record<string, CtyValue>), ...fixture };
    }
    return readDataSourceValue(schema, config, { typeName, addresses: this.addresses });
  }
}

type Handler = (req: Record<string, unknown>) => Record<string, unknown>;

function handlers(p: OfflineProvider, calls: Map<string, number>): Record<string, Handler> {
  const rtype = (t: unknown): CtyType => blockType(p.resourceSchema(String(t)).block);
  const noDiags: Handler = () => ({ diagnostics: [] });
  const h: Record<string, Handler> = {
    GetMetadata: () => ({
      server_capabilities: { plan_destroy: false, get_provider_schema_optional: false, move_resource_state: false },
      diagnostics: [],
      resources: Object.keys(p.provider.schema.resource_schemas ?? {}).sort().map((type_name) => ({ type_name })),
      data_sources: Object.keys(p.provider.schema.data_source_schemas ?? {}).sort().map((type_name) => ({ type_name })),
      ephemeral_resources: Object.keys(p.provider.schema.ephemeral_resource_schemas ?? {})
        .sort()
        .map((type_name) => ({ type_name })),
    }),
    GetProviderSchema: () => providerSchemaResponse(p.provider),
    // Terraform core checks config against the schema itself (unknown/missing arguments, types);
    // the provider-side validators (value ranges, regexes) are not simulated.
    ValidateProviderConfig: noDiags,
    ValidateResourceConfig: noDiags,
    ValidateDataResourceConfig: noDiags,
    ValidateEphemeralResourceConfig: noDiags,
    ConfigureProvider: noDiags,
    UpgradeResourceState: (req) => {
      const type = rtype(req.type_name);
      const raw = req.raw_state as { json?: Buffer } | undefined;
      if (!raw?.json || raw.json.length === 0) {
        return { diagnostics: [errorDiag("Offline provider cannot upgrade flatmap state")] };
      }
      const v = fromStateJson(JSON.parse(raw.json.toString("utf8")), type);
      return { upgraded_state: encodeDV(v, type), diagnostics: [] };
    },
    // No remote objects exist, so state never drifts: hand the state back as it is.
    ReadResource: (req) => ({ new_state: req.current_state, private: req.private, diagnostics: [] }),
    PlanResourceChange: (req) => {
      const typeName = String(req.type_name);
      const type = rtype(typeName);
      const prior = decodeDV(req.prior_state as DynamicValueMsg, type);
      const proposed = decodeDV(req.proposed_new_state as DynamicValueMsg, type);
      const config = decodeDV(req.config as DynamicValueMsg, type);
      const { planned, requiresReplace } = p.plan(typeName, prior, proposed, config);
      return {
        planned_state: encodeDV(planned, type),
        requires_replace: requiresReplace.map((steps) => ({ steps })),
        planned_private: req.prior_private ?? Buffer.alloc(0),
        diagnostics: [],
      };
    },
    ApplyResourceChange: (req) => {
      const typeName = String(req.type_name);
      const type = rtype(typeName);
      const planned = decodeDV(req.planned_state as DynamicValueMsg, type);
      const config = decodeDV(req.config as DynamicValueMsg, type);
      return { new_state: encodeDV(p.apply(typeName, planned, config), type), private: Buffer.alloc(0), diagnostics: [] };
    },
    ImportResourceState: (req) => ({
      diagnostics: [
        errorDiag("Import is not supported offline", `The offline provider server has no remote objects to import (${String(req.type_name)}).`),
      ],
    }),
    MoveResourceState: () => ({ diagnostics: [errorDiag("Moving resource state is not supported offline")] }),
    ReadDataSource: (req) => {
      const typeName = String(req.type_name);
      const type = blockType(p.dataSchema(typeName).block);
      const config = decodeDV(req.config as DynamicValueMsg, type);
      return { state: encodeDV(p.readData(typeName, config), type), diagnostics: [] };
    },
    OpenEphemeralResource: () => ({ diagnostics: [errorDiag("Ephemeral resources are not supported offline")] }),
    RenewEphemeralResource: noDiags,
    CloseEphemeralResource: noDiags,
    GetFunctions: () => ({ functions: {}, diagnostics: [] }),
    CallFunction: () => ({ error: { text: "provider functions are not supported offline" } }),
    StopProvider: () => ({ Error: "" }),
  };
  const wrapped: Record<string, Handler> = {};
  for (const [name, fn] of Object.entries(h)) {
    wrapped[name] = (req) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      try {
        return fn(req);
      } catch (err) {
        // Report as a diagnostic so Terraform prints it instead of a bare transport error.
        return { diagnostics: [errorDiag(`offline provider ${p.provider.name}: ${name} failed`, err)] };
      }
    };
  }
  return wrapped;
}

/** Starts one gRPC server per provider, each on `<socketDir>/<name>.sock`. */
export async function startOfflineServer(props: OfflineServerProps): Promise<OfflineServer> {
  if (props.providers.length === 0) throw new Error("startOfflineServer: providers must not be empty");
  const socketDir = props.socketDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "tfoff-"));
  const ownsDir = props.socketDir === undefined;
  const calls = new Map<string, number>();
  const servers: grpc.Server[] = [];
  const reattach: Record<string, ReattachEntry> = {};
  const service = providerService();
  try {
    for (const rp of props.providers) {
      const sock = path.join(socketDir, `${rp.name}.sock`);
      if (Buffer.byteLength(sock) > 100) throw new Error(`socket path too long for a unix socket: ${sock}`);
      if (fs.existsSync(sock)) fs.unlinkSync(sock);
      const server = new grpc.Server();
      const impl: grpc.UntypedServiceImplementation = {};
      for (const [name, fn] of Object.entries(handlers(new OfflineProvider(rp, props.dataSources), calls))) {
        const delay = name === "ApplyResourceChange" ? (props.applyDelayMs ?? 0) : 0;
        impl[name] = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          const reply = fn(call.request);
          if (delay > 0) setTimeout(() => cb(null, reply), delay);
          else cb(null, reply);
        };
      }
      server.addService(service, impl);
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(`unix:${sock}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
      );
      servers.push(server);
      reattach[rp.address] = {
        Protocol: "grpc",
        ProtocolVersion: 6,
        Pid: process.pid,
        Test: true,
        Addr: { Network: "unix", String: sock },
      };
    }
  } catch (err) {
    servers.forEach((s) => s.forceShutdown());
    throw err;
  }
  return {
    reattach,
    reattachJson: JSON.stringify(reattach),
    calls,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.tryShutdown(() => resolve()))));
      if (ownsDir) fs.rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
