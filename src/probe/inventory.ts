/**
 * Where the probe learns the mesh: the `nodes` output of a deployed stack (`terraform output -json`)
 * or an inventory file, for stacks without outputs (the article's) and for the netns rehearsal.
 *
 * Inventory formats:
 *  - JSON: the `terraform output -json` document itself, `{ "nodes": { <key>: {...} } }`,
 *    `{ "nodes": [ {...} ] }`, or a bare array of node objects.
 *  - Line format: one node per line, `field=value` pairs separated by spaces, `#` starts a comment:
 *      key=tokyo label=tailscale-multi-ap-northeast region=ap-northeast public_ipv4=203.0.113.10 \
 *      tailnet_hostname=tailscale-multi-ap-northeast tailnet_ip=100.96.140.130 netns=probe-h1
 * Fields: key (defaults to label), label (defaults to key), region (required), public_ipv4,
 * tailnet_hostname (defaults to label), tailnet_ip, netns.
 */
import { isIPv4 } from "net";
import { MeshNode } from "./types";

const FIELDS = ["key", "label", "region", "public_ipv4", "tailnet_hostname", "tailnet_ip", "netns"] as const;
type Field = (typeof FIELDS)[number];

const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function fail(where: string, msg: string): never {
  throw new Error(`inventory ${where}: ${msg}`);
}

/** Validates one node record (string fields by their snake_case names) and builds a MeshNode. */
export function nodeFromRecord(rec: Record<string, unknown>, where: string, fallbackKey?: string): MeshNode {
  for (const k of Object.keys(rec)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      fail(where, `unknown field "${k}" (allowed: ${FIELDS.join(", ")})`);
    }
  }
  const get = (f: Field): string | undefined => {
    const v = rec[f];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string" || v.trim() === "") fail(where, `field "${f}" must be a non-empty string`);
    return v.trim();
  };
  const key = get("key") ?? fallbackKey ?? get("label");
  const label = get("label") ?? key;
  if (!key || !label) fail(where, 'needs "key" or "label"');
  if (!NAME.test(key)) fail(where, `key "${key}" may contain only letters, digits, ".", "_" and "-"`);
  const region = get("region");
  if (!region) fail(where, 'field "region" is required (a Linode region slug such as "ap-northeast")');
  if (!SLUG.test(region)) fail(where, `region "${region}" is not a region slug (lower-case letters, digits, "-")`);
  const publicIpv4 = get("public_ipv4");
  if (publicIpv4 !== undefined && !isIPv4(publicIpv4)) fail(where, `public_ipv4 "${publicIpv4}" is not an IPv4 address`);
  const tailnetIp = get("tailnet_ip");
  if (tailnetIp !== undefined && !isIPv4(tailnetIp)) fail(where, `tailnet_ip "${tailnetIp}" is not an IPv4 address`);
  const netns = get("netns");
  if (netns !== undefined && !NAME.test(netns)) fail(where, `netns "${netns}" is not a valid namespace name`);
  const node: MeshNode = {
    key,
    label,
    region,
    tailnetHostname: get("tailnet_hostname") ?? label,
    ...(publicIpv4 !== undefined ? { publicIpv4 } : {}),
    ...(tailnetIp !== undefined ? { tailnetIp } : {}),
    ...(netns !== undefined ? { netns } : {}),
  };
  return node;
}

function checkUnique(nodes: MeshNode[]): MeshNode[] {
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.key)) throw new Error(`inventory: duplicate node key "${n.key}"`);
    seen.add(n.key);
  }
  if (nodes.length === 0) throw new Error("inventory: no nodes");
  return nodes;
}

function fromJsonValue(doc: unknown): MeshNode[] {
  let nodes: unknown = doc;
  if (typeof doc === "object" && doc !== null && !Array.isArray(doc) && "nodes" in doc) {
    nodes = (doc as Record<string, unknown>).nodes;
    // `terraform output -json` wraps every output as { sensitive, type, value }.
    if (typeof nodes === "object" && nodes !== null && !Array.isArray(nodes) && "value" in nodes && "type" in nodes) {
      nodes = (nodes as Record<string, unknown>).value;
    }
  }
  if (Array.isArray(nodes)) {
    return checkUnique(
      nodes.map((r, i) => {
        if (typeof r !== "object" || r === null || Array.isArray(r)) fail(`nodes[${i}]`, "must be an object");
        return nodeFromRecord(r as Record<string, unknown>, `nodes[${i}]`);
      }),
    );
  }
  if (typeof nodes === "object" && nodes !== null) {
    return checkUnique(
      Object.keys(nodes)
        .sort()
        .map((k) => {
          const r = (nodes as Record<string, unknown>)[k];
          if (typeof r !== "object" || r === null || Array.isArray(r)) fail(`nodes["${k}"]`, "must be an object");
          return nodeFromRecord(r as Record<string, unknown>, `nodes["${k}"]`, k);
        }),
    );
  }
  throw new Error('inventory: expected a "nodes" output (map of node objects) or an array of nodes');
}

/** Parses `terraform output -json` text; requires the `nodes` output. */
export function parseTerraformOutputs(text: string): MeshNode[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`terraform output -json: not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || !("nodes" in doc)) {
    throw new Error('terraform output -json: the stack has no "nodes" output; pass --inventory instead');
  }
  return fromJsonValue(doc);
}

/** Parses an inventory file (JSON or the line format described above). */
export function parseInventory(text: string): MeshNode[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      throw new Error(`inventory: JSON does not parse (${(e as Error).message})`);
    }
    return fromJsonValue(doc);
  }
  const nodes: MeshNode[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const rec: Record<string, string> = {};
    for (const tok of line.split(/\s+/)) {
      const eq = tok.indexOf("=");
      if (eq <= 0) fail(`line ${i + 1}`, `expected field=value, got "${tok}"`);
      const k = tok.slice(0, eq);
      if (k in rec) fail(`line ${i + 1}`, `field "${k}" given twice`);
      rec[k] = tok.slice(eq + 1);
    }
    nodes.push(nodeFromRecord(rec, `line ${i + 1}`));
  });
  return checkUnique(nodes);
}

/**
 * Resolves `--from`: a node key, label, tailnet hostname, or region slug (the latter only when a
 * single node sits in that region).
 */
export function findNode(nodes: readonly MeshNode[], query: string): MeshNode {
  const exact = nodes.find((n) => n.key === query || n.label === query || n.tailnetHostname === query);
  if (exact) return exact;
  const inRegion = nodes.filter((n) => n.region === query);
  if (inRegion.length === 1) return inRegion[0];
  if (inRegion.length > 1) {
    throw new Error(`--from "${query}": ${inRegion.length} nodes in that region (${inRegion.map((n) => n.key).join(", ")}); name one`);
  }
  throw new Error(`--from "${query}": no node with that key, label, hostname or region (have: ${nodes.map((n) => n.key).join(", ")})`);
}

/** How the stack says its nodes are reached (its `probe_access` output), when it says so. */
export interface ProbeAccess {
  readonly sshVia: "public" | "tailnet";
  readonly sshUser: string;
}

/** Reads the `probe_access` output of `terraform output -json`; undefined when the stack has none. */
export function parseProbeAccess(text: string): ProbeAccess | undefined {
  const doc = JSON.parse(text) as Record<string, { value?: unknown }>;
  const v = doc.probe_access?.value as { ssh_via?: unknown; ssh_user?: unknown } | undefined;
  if (!v) return undefined;
  if ((v.ssh_via !== "public" && v.ssh_via !== "tailnet") || typeof v.ssh_user !== "string" || !/^[a-z_][a-z0-9_.-]*$/i.test(v.ssh_user)) {
    throw new Error(`terraform output -json: probe_access ${JSON.stringify(v)} is not { ssh_via: "public"|"tailnet", ssh_user }`);
  }
  return { sshVia: v.ssh_via, sshUser: v.ssh_user };
}
