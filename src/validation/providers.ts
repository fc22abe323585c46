/**
 * Checks for values that reach a provider's validator or a cloud API's rule: each refuses at synth
 * what the pinned provider refuses at plan (or the API at apply), naming the field. Where each rule
 * comes from is in docs/validators.md and PROVIDER_RULES (src/validation/provider-rules.ts).
 */
import { TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { brief, fail, requireCidr, requireLinodeLabel, LinodeLabelKind, LINODE_LABEL_LIMITS } from "./index";

const show = (v: unknown) => JSON.stringify(v);

// ---------------------------------------------------------------------------------------------
// Linode

/** VPC and VPC subnet labels (Linode API): 1-64 ASCII letters, digits and '-', no '--'. */
const VPC_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?$/;
export function requireVpcLabel(field: string, label: unknown): asserts label is string {
  if (typeof label !== "string" || !VPC_LABEL.test(label) || label.includes("--")) {
    fail(field, `${brief(label)} is not a VPC label (1-64 letters, digits and '-', not starting or ending with '-', no '--')`);
  }
}

/** VLAN labels (Linode API, interface label of purpose "vlan"): 1-64 ASCII letters, digits and '-'. */
export function requireVlanLabel(field: string, label: unknown): asserts label is string {
  if (typeof label !== "string" || !/^[A-Za-z0-9-]{1,64}$/.test(label)) {
    fail(field, `${brief(label)} is not a VLAN label (1-64 letters, digits and '-')`);
  }
}

/** Linode tags (Linode API, tag label): 3-50 characters. */
export const LINODE_TAG_RULE = "3-50 characters, no leading or trailing space";
export function requireLinodeTags(field: string, tags: unknown): asserts tags is readonly string[] {
  if (!Array.isArray(tags)) fail(field, `${brief(tags)} must be a list of tags (${LINODE_TAG_RULE})`);
  tags.forEach((t, i) => {
    if (typeof t !== "string" || t.length < 3 || t.length > 50 || t.trim() !== t) {
      fail(`${field}[${i}]`, `${brief(t)} is not a Linode tag (${LINODE_TAG_RULE})`);
    }
  });
}

/** One Cloud Firewall rule as a user may pass it (linode_firewall inbound/outbound blocks). */
export interface LinodeFirewallRuleInput {
  readonly label?: unknown;
  readonly action?: unknown;
  readonly protocol?: unknown;
  readonly ports?: unknown;
  readonly ipv4?: unknown;
  readonly ipv6?: unknown;
}

export const FIREWALL_ACTIONS = ["ACCEPT", "DROP"] as const;
export const FIREWALL_PROTOCOLS = ["TCP", "UDP", "ICMP", "IPENCAP"] as const;

/**
 * Firewall rules: label 3-32 (provider), action and protocol from the provider's lists, ports a
 * non-empty list of ports or ranges 1-65535 (API; ICMP and IPENCAP take none), ipv4/ipv6 non-empty
 * lists (provider) of CIDRs of the right family.
 */
export function requireLinodeFirewallRules(field: string, rules: readonly LinodeFirewallRuleInput[]): void {
  rules.forEach((r, i) => {
    const f = `${field}[${i}]`;
    if (!r || typeof r !== "object") fail(f, `${brief(r)} is not a firewall rule`);
    requireLinodeLabel(`${f}.label`, r.label, "firewallRule");
    if (typeof r.action !== "string" || !(FIREWALL_ACTIONS as readonly string[]).includes(r.action)) {
      fail(`${f}.action`, `${brief(r.action)} is not one of ${FIREWALL_ACTIONS.map(show).join(", ")}`);
    }
    if (typeof r.protocol !== "string" || !(FIREWALL_PROTOCOLS as readonly string[]).includes(r.protocol)) {
      fail(`${f}.protocol`, `${brief(r.protocol)} is not one of ${FIREWALL_PROTOCOLS.map(show).join(", ")} (upper case)`);
    }
    if (r.ports !== undefined && !Token.isUnresolved(r.ports)) {
      if (r.protocol === "ICMP" || r.protocol === "IPENCAP") fail(`${f}.ports`, `${r.protocol} has no ports; leave ports out`);
      requireFirewallPorts(`${f}.ports`, r.ports);
    }
    if (r.ipv4 === undefined && r.ipv6 === undefined) fail(f, "give ipv4 or ipv6 sources (or both); a rule with neither matches nothing");
    for (const [k, version] of [["ipv4", 4], ["ipv6", 6]] as const) {
      const list = r[k];
      // A runtime list (a variable) is Terraform's to check.
      if (list === undefined || Token.isUnresolved(list)) continue;
      if (!Array.isArray(list) || list.length === 0) fail(`${f}.${k}`, `${brief(list)} must be a non-empty list of IPv${version} CIDRs`);
      list.forEach((c, j) => {
        requireCidr(`${f}.${k}[${j}]`, c);
        if ((c as string).includes(":") !== (version === 6)) fail(`${f}.${k}[${j}]`, `${show(c)} is not an IPv${version} CIDR`);
      });
    }
  });
}

/** "22", "80-90, 443": ports or ranges 1-65535, at most 15 entries (a range counts as two), as the API takes them. */
export function requireFirewallPorts(field: string, ports: unknown): asserts ports is string {
  const bad = (why: string): never => fail(field, `${brief(ports)} ${why} (ports or ranges 1-65535 separated by commas, e.g. "22" or "80-90, 443")`);
  if (typeof ports !== "string" || ports.trim() === "") bad("is not a port list");
  let count = 0;
  for (const part of (ports as string).split(",")) {
    const m = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(part);
    if (!m) bad(`has ${show(part.trim())}, which is not a port or range`);
    const lo = Number(m![1]);
    const hi = m![2] === undefined ? lo : Number(m![2]);
    if (lo < 1 || hi > 65535 || hi < lo) bad(`has ${show(part.trim())}, out of range`);
    count += m![2] === undefined ? 1 : 2;
  }
  if (count > 15) bad("lists more than 15 ports (a range counts as two)");
}

/**
 * Labels Linode requires to be unique in an account, per kind (instances, firewalls, VPCs), checked
 * within each stack: a second resource with a label already used in its stack fails, naming both.
 */
const CLAIMS = new WeakMap<TerraformStack, Map<string, { readonly field: string; readonly owner: string }>>();
export type UniqueLabelKind = LinodeLabelKind | "vpc";
export function claimLinodeLabel(scope: Construct, kind: UniqueLabelKind, label: string, field: string): void {
  if (kind !== "vpc") requireLinodeLabel(field, label, kind);
  else requireVpcLabel(field, label);
  const stack = TerraformStack.of(scope);
  let claims = CLAIMS.get(stack);
  if (!claims) CLAIMS.set(stack, (claims = new Map()));
  // Linode compares labels without regard to case.
  const key = `${kind}\u0000${label.toLowerCase()}`;
  const first = claims.get(key);
  // The same construct claiming under the same field is one resource, not two.
  if (first !== undefined && (first.owner !== scope.node.path || first.field !== field)) {
    const what = kind === "vpc" ? "VPC" : LINODE_LABEL_LIMITS[kind].what.replace(/ label$/, "");
    const where = first.owner === scope.node.path ? "" : ` (${first.owner})`;
    fail(field, `${show(label)} is also ${first.field}${where} in stack ${show(stack.node.id)}; each ${what} needs its own label (Linode refuses a second one)`);
  }
  claims.set(key, { field, owner: scope.node.path });
}

// ---------------------------------------------------------------------------------------------
// Tailscale

/** tailscale_tailnet_key.description: LengthAtMost(50) (provider v0.29.2, resource_tailnet_key.go). */
export const TAILNET_KEY_DESCRIPTION_MAX = 50;
export function requireTailnetKeyDescription(field: string, description: unknown): asserts description is string {
  if (typeof description !== "string" || description.length > TAILNET_KEY_DESCRIPTION_MAX || !/^[A-Za-z0-9 _-]*$/.test(description)) {
    const len = typeof description === "string" && description.length > TAILNET_KEY_DESCRIPTION_MAX ? ` (${description.length} characters)` : "";
    fail(field, `${brief(description)}${len} is not a key description (at most ${TAILNET_KEY_DESCRIPTION_MAX} letters, digits, spaces, '_' and '-')`);
  }
}

/** Go's time.ParseDuration units, in nanoseconds. */
const GO_DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ["ns", 1],
  ["us", 1e3],
  ["µs", 1e3],
  ["μs", 1e3],
  ["ms", 1e6],
  ["s", 1e9],
  ["m", 60e9],
  ["h", 3600e9],
]);

/** A Go duration ("15m", "1h30m", "90s") as nanoseconds; undefined when Go would refuse it. */
export function parseGoDuration(text: string): number | undefined {
  if (typeof text !== "string" || text === "") return undefined;
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * GO_DURATION_UNITS.get(m[2])!;
    at = re.lastIndex;
  }
  // Go's int64 nanoseconds overflow at about 2562047h.
  return total > 9.2e18 ? undefined : total;
}

/**
 * data.tailscale_device.wait_for: a Go duration greater than 1s (retryDeadlineValidator, provider
 * v0.29.2 tailscale/validators.go). Here also at most 24h: an apply that waits longer for a node is
 * not waiting for a node.
 */
export const JOIN_TIMEOUT_RULE = 'a duration such as "15m" or "1h30m" (h, m, s), more than 1s and at most 24h';
export function requireJoinTimeout(field: string, value: unknown): asserts value is string {
  const ns = typeof value === "string" ? parseGoDuration(value) : undefined;
  if (ns === undefined || ns <= 1e9 || ns > 24 * 3600e9) fail(field, `${brief(value)} is not ${JOIN_TIMEOUT_RULE}`);
}

// ---------------------------------------------------------------------------------------------
// AWS

/**
 * Characters the EC2 API takes in security group names and descriptions and in rule descriptions
 * (VPC): a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (EC2 API reference: CreateSecurityGroup
 * GroupDescription, IpRange/Ipv6Range/UserIdGroupPair Description; the provider checks the same set
 * only on aws_security_group's inline rules, not on aws_vpc_security_group_*_rule).
 */
export const EC2_TEXT_CHARSET = "a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*";
const EC2_TEXT = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
export function requireEc2Description(field: string, text: unknown, what: string): asserts text is string {
  if (typeof text !== "string" || text.length > 255 || !EC2_TEXT.test(text)) {
    const bad = typeof text === "string" ? [...new Set([...text].filter((c) => !EC2_TEXT.test(c)))] : [];
    const why = bad.length ? `; ${bad.map(show).join(", ")} is not allowed` : typeof text === "string" && text.length > 255 ? ` (${text.length} characters)` : "";
    fail(field, `${brief(text)} is not ${what} EC2 accepts (at most 255 of ${EC2_TEXT_CHARSET}${why})`);
  }
}

/** Security group names: 1-255 of the same characters, not starting with "sg-" (EC2 API, CreateSecurityGroup GroupName). */
export function requireSecurityGroupName(field: string, name: unknown): asserts name is string {
  requireEc2Description(field, name, "a security group name");
  if (name === "" || /^sg-/i.test(name as string)) fail(field, `${show(name)} is not a security group name EC2 accepts (not empty, not starting with "sg-")`);
}

/**
 * Where an ASN goes in aws_customer_gateway: `bgp_asn` up to 2147483647 (the provider parses it
 * into a 32-bit signed integer at create, vpnsite_customer_gateway.go), `bgp_asn_extended` above.
 */
export const CUSTOMER_GATEWAY_BGP_ASN_MAX = 2147483647;
export function customerGatewayAsn(asn: number): { bgpAsn: string } | { bgpAsnExtended: string } {
  return asn <= CUSTOMER_GATEWAY_BGP_ASN_MAX ? { bgpAsn: String(asn) } : { bgpAsnExtended: String(asn) };
}

/** Key types Linode takes in authorized_keys (Linode API: root's authorized keys must be valid SSH public keys). */
const SSH_PUBLIC_KEY = /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,2}( [^\r\n]*)?$/;
export const SSH_PUBLIC_KEY_RULE = 'one OpenSSH public key per entry ("ssh-ed25519 AAAA… comment"), not a private key or a file path';
/** Literal public keys (a runtime list from a variable is left to Terraform and the API). */
export function requireSshPublicKeys(field: string, keys: unknown): void {
  if (keys === undefined || Token.isUnresolved(keys)) return;
  if (!Array.isArray(keys)) fail(field, `${brief(keys)} must be a list (${SSH_PUBLIC_KEY_RULE})`);
  keys.forEach((k, i) => {
    if (typeof k === "string" && Token.isUnresolved(k)) return;
    // Never echo what was given: a private key pasted here is a secret.
    if (typeof k !== "string" || !SSH_PUBLIC_KEY.test(k.trim())) fail(`${field}[${i}]`, `is not ${SSH_PUBLIC_KEY_RULE}`);
  });
}

/** At most this many rules per Cloud Firewall direction (Linode API, firewall rules). */
export const LINODE_FIREWALL_MAX_RULES = 25;
