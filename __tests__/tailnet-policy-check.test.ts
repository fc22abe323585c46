/**
 * The policy checker, table-driven: each case is a small policy, the verdict Tailscale's control
 * plane gives it, the path of the first problem (when rejected for being invalid), the results of
 * its tests, and where the rule comes from. Written for this project (no captured corpus).
 */
import { checkPolicy, checkPolicyText } from "../src/tailnet/policy/check";

const S = {
  syntax: "https://tailscale.com/kb/1337/policy-syntax",
  targets: "https://tailscale.com/kb/1337/policy-syntax#targets",
  groups: "https://tailscale.com/kb/1337/policy-syntax#groups",
  hosts: "https://tailscale.com/kb/1337/policy-syntax#hosts",
  tagOwners: "https://tailscale.com/kb/1337/policy-syntax#tag-owners",
  acls: "https://tailscale.com/kb/1337/policy-syntax#acls",
  grants: "https://tailscale.com/kb/1538/grants-syntax",
  ssh: "https://tailscale.com/kb/1193/tailscale-ssh",
  tests: "https://tailscale.com/kb/1337/policy-syntax#tests",
  sshTests: "https://tailscale.com/kb/1337/policy-syntax#ssh-tests",
  autoApprovers: "https://tailscale.com/kb/1337/policy-syntax#autoapprovers",
  nodeAttrs: "https://tailscale.com/kb/1337/policy-syntax#node-attributes",
  postures: "https://tailscale.com/kb/1288/device-posture",
  ipsets: "https://tailscale.com/kb/1337/policy-syntax#ip-sets",
  settings: "https://tailscale.com/kb/1337/policy-syntax#network-policy-options",
  ipPool: "https://tailscale.com/kb/1304/ip-pool",
  hs: "juanfont/headscale hscontrol/policy/v2/types.go (validate)",
  hsUtils: "juanfont/headscale hscontrol/policy/v2/utils.go (parsePortRange, splitDestinationAndPort)",
  hsTest: "juanfont/headscale hscontrol/policy/v2/test.go (validateTests, runPolicyTest)",
  hsSsh: "juanfont/headscale hscontrol/policy/v2/sshtest.go",
  hujson: "github.com/tailscale/hujson (JWCC: JSON with comments and trailing commas)",
  live: "offline limit: only the live tailnet knows who holds a role or an address",
};

const G = { "group:ops": ["alice@example.com", "bob@example.com"], "group:dev": ["carol@example.com"] };
const TO = { "tag:web": ["autogroup:admin"], "tag:db": ["group:ops"], "tag:ci": ["tag:web"] };
const H = { nas: "100.100.1.10", lan: "10.0.0.0/24", db1: "10.0.0.5", v6: "fd7a:115c:a1e0::5" };
/** A policy with groups, tags and hosts defined, plus `extra`. */
const p = (extra: Record<string, unknown>) => ({ groups: G, tagOwners: TO, hosts: H, ...extra });
const g = (src: unknown, dst: unknown, ip: unknown = ["*"]) => ({ grants: [{ src, dst, ip }] });

type Verdict = "accepted" | "rejected" | "unknown";
interface Case {
  readonly section: string;
  readonly name: string;
  readonly policy: unknown;
  readonly verdict: Verdict;
  /** Path of the first error (rejected as invalid). */
  readonly path?: string;
  /** Results of tests then sshTests, in order. */
  readonly tests?: readonly ("pass" | "fail" | "unknown")[];
  readonly source: string;
}

const ok = (section: string, name: string, policy: unknown, source: string, tests?: Case["tests"]): Case => ({
  section,
  name,
  policy,
  verdict: tests?.includes("fail") ? "rejected" : tests?.includes("unknown") ? "unknown" : "accepted",
  tests,
  source,
});
const no = (section: string, name: string, policy: unknown, path: string, source: string): Case => ({ section, name, policy, verdict: "rejected", path, source });

const CASES: Case[] = [
  // ---- top level
  ok("top", "empty policy", {}, S.syntax),
  ok("top", "section names match without regard to case (ACLs, Hosts)", { ACLs: [{ Action: "accept", Users: ["*"], Ports: ["*:*"] }], Hosts: { a: "10.0.0.1" } }, S.hs),
  no("top", "unknown section", { grantz: [] }, "grantz", S.hs),
  no("top", "a list, not an object", [], "", S.syntax),
  no("top", "null", null, "", S.syntax),
  no("top", "a section given twice in different case", { acls: [], ACLs: [] }, "ACLs", S.hs),
  ok("top", "randomizeClientPort true", { randomizeClientPort: true }, S.settings),
  no("top", "randomizeClientPort as a string", { randomizeClientPort: "yes" }, "randomizeClientPort", S.settings),
  ok("top", "disableIPv4", { disableIPv4: false }, S.settings),
  ok("top", "derpMap with a region", { derpMap: { OmitDefaultRegions: true, Regions: { "900": { RegionID: 900, Nodes: [] } } } }, S.settings),
  no("top", "derpMap region ID not a number", { derpMap: { Regions: { ams: {} } } }, 'derpMap.Regions["ams"]', S.settings),
  no("top", "derpMap as a list", { derpMap: [] }, "derpMap", S.settings),

  // ---- groups
  ok("groups", "users in a group", { groups: G }, S.groups),
  ok("groups", "an empty group", { groups: { "group:none": [] } }, S.groups),
  no("groups", "name without group: prefix", { groups: { ops: ["a@example.com"] } }, 'groups["ops"]', S.hs),
  no("groups", "a group inside a group", { groups: { "group:a": ["a@example.com"], "group:b": ["group:a"] } }, 'groups["group:b"][0]', S.hs),
  no("groups", "a tag as a member", { groups: { "group:a": ["tag:web"] } }, 'groups["group:a"][0]', S.groups),
  no("groups", "members as a string", { groups: { "group:a": "a@example.com" } }, 'groups["group:a"]', S.hs),
  no("groups", "a number as a member", { groups: { "group:a": [7] } }, 'groups["group:a"][0]', S.hs),
  no("groups", "groups as a list", { groups: [] }, "groups", S.syntax),
  no("groups", "a member that is not a user", { groups: { "group:a": ["alice"] } }, 'groups["group:a"][0]', S.hs),

  // ---- hosts
  ok("hosts", "an address and a CIDR", { hosts: H }, S.hosts),
  ok("hosts", "an IPv6 address", { hosts: { six: "2001:db8::1" } }, S.hosts),
  no("hosts", "not an address", { hosts: { a: "example.com" } }, 'hosts["a"]', S.hs),
  no("hosts", "an IPv6 zone id", { hosts: { a: "fe80::1%eth0" } }, 'hosts["a"]', S.hs),
  no("hosts", "a name with @", { hosts: { "a@b": "10.0.0.1" } }, 'hosts["a@b"]', S.hs),
  no("hosts", "a prefix longer than the address", { hosts: { a: "10.0.0.0/33" } }, 'hosts["a"]', S.hs),
  no("hosts", "a number as the address", { hosts: { a: 10 } }, 'hosts["a"]', S.hs),
  no("hosts", "IPv4 with a leading zero", { hosts: { a: "10.0.0.01" } }, 'hosts["a"]', S.hs),

  // ---- tagOwners
  ok("tagOwners", "admins, groups, users and tags as owners", { groups: G, tagOwners: { "tag:a": ["autogroup:admin", "group:ops", "x@example.com"], "tag:b": ["tag:a"] } }, S.tagOwners),
  ok("tagOwners", "no owners (only admins may use it)", { tagOwners: { "tag:a": [] } }, S.tagOwners),
  no("tagOwners", "an undefined group as owner", { tagOwners: { "tag:a": ["group:nobody"] } }, 'tagOwners["tag:a"][0]', S.hs),
  no("tagOwners", "an undefined tag as owner", { tagOwners: { "tag:a": ["tag:ghost"] } }, 'tagOwners["tag:a"][0]', S.hs),
  no("tagOwners", "a tag name starting with a digit", { tagOwners: { "tag:1a": [] } }, 'tagOwners["tag:1a"]', S.hs),
  no("tagOwners", "a key without tag:", { tagOwners: { web: [] } }, 'tagOwners["web"]', S.hs),
  no("tagOwners", "owners as a string", { tagOwners: { "tag:a": "autogroup:admin" } }, 'tagOwners["tag:a"]', S.hs),
  no("tagOwners", "autogroup:self as owner", { tagOwners: { "tag:a": ["autogroup:self"] } }, 'tagOwners["tag:a"][0]', S.tagOwners),
  no("tagOwners", "a host as owner", { hosts: H, tagOwners: { "tag:a": ["nas"] } }, 'tagOwners["tag:a"][0]', S.hs),
  no("tagOwners", "a loop of tags", { tagOwners: { "tag:a": ["tag:b"], "tag:b": ["tag:a"] } }, 'tagOwners["tag:a"]', S.hs),

  // ---- acls
  ok("acls", "allow all, the old default", { acls: [{ action: "accept", src: ["*"], dst: ["*:*"] }] }, S.acls),
  ok("acls", "groups to a tag on ports and a range", p({ acls: [{ action: "accept", src: ["group:ops"], dst: ["tag:web:80,443", "tag:db:5432-5433"] }] }), S.acls),
  ok("acls", "proto icmp with *", p({ acls: [{ action: "accept", src: ["*"], proto: "icmp", dst: ["tag:web:*"] }] }), S.acls),
  ok("acls", "proto as a number", p({ acls: [{ action: "accept", src: ["*"], proto: "17", dst: ["tag:web:53"] }] }), S.hs),
  ok("acls", "IPv6 destination in brackets", { acls: [{ action: "accept", src: ["*"], dst: ["[fd7a:115c:a1e0::1]:22"] }] }, S.hsUtils),
  ok("acls", "legacy users and ports", { acls: [{ action: "accept", users: ["*"], ports: ["*:22"] }] }, S.acls),
  ok("acls", "autogroup:self with a member source", { acls: [{ action: "accept", src: ["autogroup:member"], dst: ["autogroup:self:*"] }] }, S.hs),
  ok("acls", "autogroup:internet as destination", { acls: [{ action: "accept", src: ["autogroup:member"], dst: ["autogroup:internet:*"] }] }, S.targets),
  no("acls", "action deny", { acls: [{ action: "deny", src: ["*"], dst: ["*:*"] }] }, "acls[0].action", S.acls),
  no("acls", "no action", { acls: [{ src: ["*"], dst: ["*:*"] }] }, "acls[0].action", S.hs),
  no("acls", "destination without port", p({ acls: [{ action: "accept", src: ["*"], dst: ["tag:web"] }] }), "acls[0].dst[0]", S.hsUtils),
  no("acls", "port above 65535", p({ acls: [{ action: "accept", src: ["*"], dst: ["tag:web:65536"] }] }), "acls[0].dst[0]", S.hsUtils),
  no("acls", "port 0 alone", p({ acls: [{ action: "accept", src: ["*"], dst: ["tag:web:0"] }] }), "acls[0].dst[0]", S.hsUtils),
  no("acls", "inverted range", p({ acls: [{ action: "accept", src: ["*"], dst: ["tag:web:90-80"] }] }), "acls[0].dst[0]", S.hsUtils),
  no("acls", "icmp with a port", p({ acls: [{ action: "accept", src: ["*"], proto: "icmp", dst: ["tag:web:22"] }] }), "acls[0].dst[0]", S.hs),
  no("acls", "unknown protocol", { acls: [{ action: "accept", src: ["*"], proto: "quic", dst: ["*:*"] }] }, "acls[0].proto", S.hs),
  no("acls", "protocol *", { acls: [{ action: "accept", src: ["*"], proto: "*", dst: ["*:*"] }] }, "acls[0].proto", S.hs),
  no("acls", "protocol number with a leading zero", { acls: [{ action: "accept", src: ["*"], proto: "06", dst: ["*:*"] }] }, "acls[0].proto", S.hs),
  no("acls", "protocol number 256", { acls: [{ action: "accept", src: ["*"], proto: "256", dst: ["*:*"] }] }, "acls[0].proto", S.hs),
  no("acls", "undefined group in src", { acls: [{ action: "accept", src: ["group:nobody"], dst: ["*:*"] }] }, "acls[0].src[0]", S.hs),
  no("acls", "undefined host in dst", { acls: [{ action: "accept", src: ["*"], dst: ["nowhere:22"] }] }, "acls[0].dst[0]", S.hs),
  no("acls", "undefined tag in dst", { acls: [{ action: "accept", src: ["*"], dst: ["tag:ghost:22"] }] }, "acls[0].dst[0]", S.hs),
  no("acls", "autogroup:self as a source", { acls: [{ action: "accept", src: ["autogroup:self"], dst: ["*:*"] }] }, "acls[0].src[0]", S.hs),
  no("acls", "autogroup:internet as a source", { acls: [{ action: "accept", src: ["autogroup:internet"], dst: ["*:*"] }] }, "acls[0].src[0]", S.hs),
  no("acls", "a tag source to autogroup:self", p({ acls: [{ action: "accept", src: ["tag:web"], dst: ["autogroup:self:*"] }] }), "acls[0].src", S.hs),
  no("acls", "an unknown autogroup", { acls: [{ action: "accept", src: ["autogroup:everyone"], dst: ["*:*"] }] }, "acls[0].src[0]", S.hs),
  no("acls", "src as a string", { acls: [{ action: "accept", src: "*", dst: ["*:*"] }] }, "acls[0].src", S.acls),
  no("acls", "an unknown field", { acls: [{ action: "accept", src: ["*"], dst: ["*:*"], ip: ["*"] }] }, "acls[0].ip", S.hs),
  no("acls", "a null entry", { acls: [null] }, "acls[0]", S.acls),
  no("acls", "danger-all as destination", { acls: [{ action: "accept", src: ["*"], dst: ["autogroup:danger-all:*"] }] }, "acls[0].dst[0]", S.hs),

  // ---- grants
  ok("grants", "allow all", { grants: [{ src: ["*"], dst: ["*"], ip: ["*"] }] }, S.grants),
  ok("grants", "tcp, udp, a range, a bare port and icmp", p(g(["group:ops"], ["tag:web"], ["tcp:443", "udp:53", "8000-8999", "22", "icmp:*"])), S.grants),
  ok("grants", "protocol numbers", p(g(["*"], ["tag:web"], ["6:22", "47:*"])), S.hs),
  ok("grants", "a CIDR and a host as destinations", p(g(["group:ops"], ["10.0.0.0/16", "lan", "db1"])), S.grants),
  ok("grants", "app only", p({ grants: [{ src: ["group:ops"], dst: ["tag:web"], app: { "example.com/cap/admin": [{ level: "rw" }] } }] }), S.grants),
  ok("grants", "peer relay capability", p({ grants: [{ src: ["tag:web"], dst: ["tag:db"], app: { "tailscale.com/cap/relay": [] } }] }), S.hs),
  ok("grants", "via a tag", p({ grants: [{ src: ["group:ops"], dst: ["10.0.0.0/24"], ip: ["*"], via: ["tag:web"] }] }), S.grants),
  ok("grants", "srcPosture", p({ postures: { "posture:linux": ["node:os == 'linux'"] }, grants: [{ src: ["*"], dst: ["tag:web"], ip: ["*"], srcPosture: ["posture:linux"] }] }), S.postures),
  ok("grants", "autogroup:self with members", g(["autogroup:member"], ["autogroup:self"]), S.hs),
  ok("grants", "role autogroup as a source", p(g(["autogroup:admin"], ["tag:web"], ["tcp:22"])), S.targets),
  ok("grants", "an IP set", { ipsets: { "ipset:lan": ["10.0.0.0/8"] }, grants: [{ src: ["*"], dst: ["ipset:lan"], ip: ["*"] }] }, S.ipsets),
  no("grants", "src as a string", g("*", ["*"]), "grants[0].src", S.grants),
  no("grants", "no src", { grants: [{ dst: ["*"], ip: ["*"] }] }, "grants[0].src", S.grants),
  no("grants", "no dst", { grants: [{ src: ["*"], ip: ["*"] }] }, "grants[0].dst", S.grants),
  no("grants", "ip as a string", g(["*"], ["*"], "*"), "grants[0].ip", S.grants),
  no("grants", "neither ip nor app", { grants: [{ src: ["*"], dst: ["*"] }] }, "grants[0]", S.hs),
  no("grants", "an empty ip and no app", { grants: [{ src: ["*"], dst: ["*"], ip: [] }] }, "grants[0]", S.hs),
  no("grants", "a null entry", { grants: [null] }, "grants[0]", S.grants),
  no("grants", "undefined group in dst", g(["*"], ["group:ops"]), "grants[0].dst[0]", S.hs),
  no("grants", "undefined tag in src", g(["tag:ghost"], ["*"]), "grants[0].src[0]", S.hs),
  no("grants", "undefined host in dst", g(["*"], ["printer"]), "grants[0].dst[0]", S.hs),
  no("grants", "port 70000", p(g(["*"], ["tag:web"], ["tcp:70000"])), "grants[0].ip[0]", S.hsUtils),
  no("grants", "port range to 65536", p(g(["*"], ["tag:web"], ["1000-65536"])), "grants[0].ip[0]", S.hsUtils),
  no("grants", "two colons in ip", p(g(["*"], ["tag:web"], ["tcp:22:23"])), "grants[0].ip[0]", S.hs),
  no("grants", "icmp with a port", p(g(["*"], ["tag:web"], ["icmp:8"])), "grants[0].ip[0]", S.hs),
  no("grants", "protocol *", p(g(["*"], ["tag:web"], ["*:22"])), "grants[0].ip[0]", S.hs),
  no("grants", "a port on dst", p(g(["*"], ["tag:web:443"])), "grants[0].dst[0]", S.grants),
  no("grants", "0.0.0.0/0 as dst", g(["*"], ["0.0.0.0/0"]), "grants[0].dst[0]", S.hs),
  no("grants", "::/0 as dst", g(["*"], ["::/0"]), "grants[0].dst[0]", S.hs),
  no("grants", "* with autogroup:self", g(["*"], ["autogroup:self"]), "grants[0].src", S.hs),
  no("grants", "a tag with autogroup:self", p(g(["tag:web"], ["autogroup:self"])), "grants[0].src", S.hs),
  no("grants", "app on autogroup:internet", { grants: [{ src: ["*"], dst: ["autogroup:internet"], app: { "example.com/cap/x": [{}] } }] }, "grants[0].app", S.hs),
  no("grants", "capability with a URL scheme", { grants: [{ src: ["*"], dst: ["*"], app: { "https://example.com/cap/x": [{}] } }] }, 'grants[0].app["https://example.com/cap/x"]', S.hs),
  no("grants", "capability of tailscale.com not grantable", { grants: [{ src: ["*"], dst: ["*"], app: { "tailscale.com/cap/ingress": [{}] } }] }, 'grants[0].app["tailscale.com/cap/ingress"]', S.hs),
  no("grants", "capability values not a list", { grants: [{ src: ["*"], dst: ["*"], app: { "example.com/cap/x": {} } }] }, 'grants[0].app["example.com/cap/x"]', S.grants),
  no("grants", "via a user", p({ grants: [{ src: ["*"], dst: ["10.0.0.0/24"], ip: ["*"], via: ["alice@example.com"] }] }), "grants[0].via[0]", S.hs),
  no("grants", "via an undefined tag", { grants: [{ src: ["*"], dst: ["10.0.0.0/24"], ip: ["*"], via: ["tag:router"] }] }, "grants[0].via[0]", S.hs),
  no("grants", "undefined posture", { grants: [{ src: ["*"], dst: ["*"], ip: ["*"], srcPosture: ["posture:none"] }] }, "grants[0].srcPosture[0]", S.postures),
  no("grants", "an IPv6 zone id in dst", g(["*"], ["fe80::%eth0/64"]), "grants[0].dst[0]", S.hs),
  no("grants", "danger-all as dst", g(["*"], ["autogroup:danger-all"]), "grants[0].dst[0]", S.hs),
  no("grants", "autogroup:nonroot as src", g(["autogroup:nonroot"], ["*"]), "grants[0].src[0]", S.hs),
  no("grants", "an undefined IP set", g(["*"], ["ipset:none"]), "grants[0].dst[0]", S.ipsets),
  no("grants", "an unknown field", { grants: [{ src: ["*"], dst: ["*"], ip: ["*"], action: "accept" }] }, "grants[0].action", S.hs),

  // ---- ssh
  ok("ssh", "the new-tailnet default", { ssh: [{ action: "check", src: ["autogroup:member"], dst: ["autogroup:self"], users: ["autogroup:nonroot", "root"] }] }, S.ssh),
  ok("ssh", "admins to a tag as root, accept", p({ ssh: [{ action: "accept", src: ["autogroup:admin"], dst: ["tag:web"], users: ["root"] }] }), S.ssh),
  ok("ssh", "check with a period", p({ ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:web"], users: ["ubuntu"], checkPeriod: "12h" }] }), S.ssh),
  ok("ssh", "checkPeriod always", p({ ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:web"], users: ["ubuntu"], checkPeriod: "always" }] }), S.ssh),
  ok("ssh", "a user to their own devices", { ssh: [{ action: "accept", src: ["alice@example.com"], dst: ["alice@example.com"], users: ["alice"] }] }, S.hs),
  ok("ssh", "localpart users", { ssh: [{ action: "check", src: ["autogroup:member"], dst: ["autogroup:self"], users: ["localpart:*@example.com"] }] }, S.ssh),
  ok("ssh", "tag to tag", p({ ssh: [{ action: "accept", src: ["tag:ci"], dst: ["tag:web"], users: ["deploy"], acceptEnv: ["GIT_*"] }] }), S.ssh),
  no("ssh", "action deny", p({ ssh: [{ action: "deny", src: ["group:ops"], dst: ["tag:web"], users: ["root"] }] }), "ssh[0].action", S.ssh),
  no("ssh", "no users", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["tag:web"] }] }), "ssh[0].users", S.hs),
  no("ssh", "empty users", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["tag:web"], users: [] }] }), "ssh[0].users", S.hs),
  no("ssh", "user *", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["tag:web"], users: ["*"] }] }), "ssh[0].users[0]", S.hs),
  no("ssh", "* as destination", { ssh: [{ action: "accept", src: ["autogroup:member"], dst: ["*"], users: ["root"] }] }, "ssh[0].dst[0]", S.hs),
  no("ssh", "a host as destination", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["nas"], users: ["root"] }] }), "ssh[0].dst[0]", S.hs),
  no("ssh", "an IP as destination", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["100.100.1.10"], users: ["root"] }] }), "ssh[0].dst[0]", S.hs),
  no("ssh", "an IP as source", p({ ssh: [{ action: "accept", src: ["100.100.1.10"], dst: ["tag:web"], users: ["root"] }] }), "ssh[0].src[0]", S.hs),
  no("ssh", "* as source", p({ ssh: [{ action: "accept", src: ["*"], dst: ["tag:web"], users: ["root"] }] }), "ssh[0].src[0]", S.hs),
  no("ssh", "a tag into autogroup:self", p({ ssh: [{ action: "accept", src: ["tag:web"], dst: ["autogroup:self"], users: ["root"] }] }), "ssh[0].dst[0]", S.hs),
  no("ssh", "a tag into a user's devices", p({ ssh: [{ action: "accept", src: ["tag:web"], dst: ["alice@example.com"], users: ["root"] }] }), "ssh[0].dst[0]", S.hs),
  no("ssh", "a group into a user's devices", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["alice@example.com"], users: ["root"] }] }), "ssh[0].dst[0]", S.hs),
  no("ssh", "checkPeriod on accept", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["tag:web"], users: ["root"], checkPeriod: "1h" }] }), "ssh[0].checkPeriod", S.hs),
  no("ssh", "checkPeriod above a week", p({ ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:web"], users: ["root"], checkPeriod: "169h" }] }), "ssh[0].checkPeriod", S.hs),
  no("ssh", "checkPeriod not a duration", p({ ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:web"], users: ["root"], checkPeriod: "a day" }] }), "ssh[0].checkPeriod", S.hs),
  ok("ssh", "a malformed localpart is a literal login name", { ssh: [{ action: "check", src: ["autogroup:member"], dst: ["autogroup:self"], users: ["localpart:alice@example.com"] }] }, S.hs),
  no("ssh", "undefined group in src", { tagOwners: { "tag:web": [] }, ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:web"], users: ["root"] }] }, "ssh[0].src[0]", S.hs),
  no("ssh", "autogroup:internet as destination", { ssh: [{ action: "check", src: ["autogroup:member"], dst: ["autogroup:internet"], users: ["root"] }] }, "ssh[0].dst[0]", S.hs),
  no("ssh", "empty acceptEnv entry", p({ ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:web"], users: ["root"], acceptEnv: [""] }] }), "ssh[0].acceptEnv[0]", S.hs),

  // ---- autoApprovers
  ok("autoApprovers", "routes and exit nodes to a tag", p({ autoApprovers: { routes: { "10.0.0.0/16": ["tag:web"], "2001:db8::/32": ["group:ops"] }, exitNode: ["tag:web"] } }), S.autoApprovers),
  ok("autoApprovers", "autogroup:admin as approver", { autoApprovers: { exitNode: ["autogroup:admin"] } }, S.autoApprovers),
  no("autoApprovers", "a route that is no CIDR", p({ autoApprovers: { routes: { "10.0.0.0": ["tag:web"] } } }), 'autoApprovers.routes["10.0.0.0"]', S.hs),
  no("autoApprovers", "an IPv6 zone id in a route", p({ autoApprovers: { routes: { "fe80::%eth0/64": ["tag:web"] } } }), 'autoApprovers.routes["fe80::%eth0/64"]', S.hs),
  no("autoApprovers", "an undefined tag", { autoApprovers: { routes: { "10.0.0.0/8": ["tag:router"] } } }, 'autoApprovers.routes["10.0.0.0/8"][0]', S.hs),
  no("autoApprovers", "a host as approver", p({ autoApprovers: { exitNode: ["nas"] } }), "autoApprovers.exitNode[0]", S.hs),
  no("autoApprovers", "approvers as a string", p({ autoApprovers: { exitNode: "tag:web" } }), "autoApprovers.exitNode", S.hs),
  no("autoApprovers", "an unknown field", { autoApprovers: { subnets: {} } }, "autoApprovers.subnets", S.hs),

  // ---- nodeAttrs
  ok("nodeAttrs", "funnel for a tag", p({ nodeAttrs: [{ target: ["tag:web"], attr: ["funnel"] }] }), S.nodeAttrs),
  ok("nodeAttrs", "members and *", { nodeAttrs: [{ target: ["autogroup:member", "*"], attr: ["mullvad"] }] }, S.nodeAttrs),
  ok("nodeAttrs", "an IP pool in CGNAT", p({ nodeAttrs: [{ target: ["tag:web"], ipPool: ["100.80.0.0/16"] }] }), S.ipPool),
  no("nodeAttrs", "no target", { nodeAttrs: [{ attr: ["funnel"] }] }, "nodeAttrs[0].target", S.nodeAttrs),
  no("nodeAttrs", "autogroup:self as target", { nodeAttrs: [{ target: ["autogroup:self"], attr: ["funnel"] }] }, "nodeAttrs[0].target[0]", S.hs),
  no("nodeAttrs", "an undefined tag", { nodeAttrs: [{ target: ["tag:ghost"], attr: ["funnel"] }] }, "nodeAttrs[0].target[0]", S.hs),
  no("nodeAttrs", "IP pool outside CGNAT", p({ nodeAttrs: [{ target: ["tag:web"], ipPool: ["10.0.0.0/16"] }] }), "nodeAttrs[0].ipPool[0]", S.ipPool),
  no("nodeAttrs", "IP pool over MagicDNS", p({ nodeAttrs: [{ target: ["tag:web"], ipPool: ["100.100.0.0/16"] }] }), "nodeAttrs[0].ipPool[0]", S.ipPool),
  no("nodeAttrs", "attr as a string", p({ nodeAttrs: [{ target: ["tag:web"], attr: "funnel" }] }), "nodeAttrs[0].attr", S.nodeAttrs),

  // ---- postures, ipsets
  ok("postures", "a posture and a default", { postures: { "posture:ok": ["node:os == 'linux'", "node:tsVersion >= '1.60'"] }, defaultSrcPosture: ["posture:ok"] }, S.postures),
  no("postures", "a name without posture:", { postures: { ok: ["node:os == 'linux'"] } }, 'postures["ok"]', S.postures),
  no("postures", "a condition that is not one", { postures: { "posture:ok": ["linux"] } }, 'postures["posture:ok"][0]', S.postures),
  no("postures", "default posture undefined", { defaultSrcPosture: ["posture:none"] }, "defaultSrcPosture[0]", S.postures),
  ok("ipsets", "CIDRs, a host and another set", { hosts: H, ipsets: { "ipset:a": ["10.0.0.0/8", "host:nas", "ipset:b"], "ipset:b": ["192.168.1.1-192.168.1.9"] } }, S.ipsets),
  no("ipsets", "a name without ipset:", { ipsets: { a: ["10.0.0.0/8"] } }, 'ipsets["a"]', S.ipsets),
  no("ipsets", "an entry that is no address", { ipsets: { "ipset:a": ["lan"] } }, 'ipsets["ipset:a"][0]', S.ipsets),

  // ---- tests: shape
  no("tests", "a test without src", p({ tests: [{ accept: ["tag:web:22"] }] }), "tests[0].src", S.hsTest),
  no("tests", "src as a list", p({ tests: [{ src: ["alice@example.com"], accept: ["tag:web:22"] }] }), "tests[0].src", S.tests),
  no("tests", "neither accept nor deny", p({ tests: [{ src: "alice@example.com" }] }), "tests[0]", S.hsTest),
  no("tests", "a * port", p({ ...g(["*"], ["*"]), tests: [{ src: "alice@example.com", accept: ["tag:web:*"] }] }), "tests[0].accept[0]", S.hsTest),
  no("tests", "a port range", p({ tests: [{ src: "alice@example.com", accept: ["tag:web:80-81"] }] }), "tests[0].accept[0]", S.hsTest),
  no("tests", "a port list", p({ tests: [{ src: "alice@example.com", deny: ["tag:web:80,443"] }] }), "tests[0].deny[0]", S.hsTest),
  no("tests", "a CIDR destination reached by a grant", p({ ...g(["group:ops"], ["10.0.0.0/24"]), tests: [{ src: "alice@example.com", accept: ["10.0.0.0/24:22"] }] }), "tests[0].accept[0]", S.hsTest),
  no("tests", "a host that is a CIDR", p({ tests: [{ src: "alice@example.com", accept: ["lan:22"] }] }), "tests[0].accept[0]", S.hsTest),
  no("tests", "proto icmp", p({ ...g(["*"], ["*"]), tests: [{ src: "alice@example.com", proto: "icmp", accept: ["tag:web:1"] }] }), "tests[0].proto", S.hsTest),
  no("tests", "autogroup:internet as destination", p({ tests: [{ src: "alice@example.com", accept: ["autogroup:internet:443"] }] }), "tests[0].accept[0]", S.hsTest),
  no("tests", "destination without port", p({ tests: [{ src: "alice@example.com", accept: ["tag:web"] }] }), "tests[0].accept[0]", S.hsUtils),
  no("tests", "port 70000", p({ tests: [{ src: "alice@example.com", accept: ["tag:web:70000"] }] }), "tests[0].accept[0]", S.hsUtils),
  no("tests", "an undefined tag", p({ tests: [{ src: "tag:ghost", accept: ["tag:web:22"] }] }), "tests[0].src", S.hs),
  no("tests", "an unknown field", p({ tests: [{ src: "alice@example.com", allow: ["tag:web:22"] }] }), "tests[0].allow", S.hs),

  // ---- tests: results
  ok("tests", "a group member reaches the tag its group is granted", p({ ...g(["group:ops"], ["tag:web"], ["tcp:443"]), tests: [{ src: "alice@example.com", accept: ["tag:web:443"], deny: ["tag:web:22"] }] }), S.tests, ["pass"]),
  ok("tests", "someone outside the group is denied", p({ ...g(["group:ops"], ["tag:web"], ["tcp:443"]), tests: [{ src: "carol@example.com", deny: ["tag:web:443"] }] }), S.tests, ["pass"]),
  ok("tests", "an accept nothing grants fails", p({ ...g(["group:ops"], ["tag:web"], ["tcp:443"]), tests: [{ src: "carol@example.com", accept: ["tag:web:443"] }] }), S.tests, ["fail"]),
  ok("tests", "a deny the allow-all grant breaks fails", p({ ...g(["*"], ["*"]), tests: [{ src: "tag:web", deny: ["tag:db:5432"] }] }), S.tests, ["fail"]),
  ok("tests", "a group source, deny: some members reach it, some don't: unknown", p({ grants: [{ src: ["alice@example.com"], dst: ["tag:web"], ip: ["*"] }], tests: [{ src: "group:ops", deny: ["tag:web:22"] }] }), S.hsTest, ["unknown"]),
  ok("tests", "a group source: every member must reach", p({ grants: [{ src: ["alice@example.com"], dst: ["tag:web"], ip: ["*"] }], tests: [{ src: "group:ops", accept: ["tag:web:22"] }] }), S.hsTest, ["fail"]),
  ok("tests", "a single address in a granted CIDR", p({ ...g(["group:ops"], ["10.0.0.0/24"], ["tcp:22"]), tests: [{ src: "alice@example.com", accept: ["10.0.0.9:22"] }] }), S.tests, ["pass"]),
  ok("tests", "a host inside a granted CIDR", p({ ...g(["group:ops"], ["lan"], ["tcp:5432"]), tests: [{ src: "bob@example.com", accept: ["db1:5432"] }] }), S.tests, ["pass"]),
  ok("tests", "an address outside every granted CIDR", p({ ...g(["group:ops"], ["lan"], ["tcp:22"]), tests: [{ src: "bob@example.com", accept: ["10.9.0.1:22"] }] }), S.tests, ["fail"]),
  ok("tests", "a tag never covers a subnet address", p({ ...g(["group:ops"], ["tag:web"]), tests: [{ src: "bob@example.com", deny: ["10.0.0.5:22"] }] }), S.targets, ["pass"]),
  ok("tests", "udp only: a tcp test fails", p({ ...g(["*"], ["tag:web"], ["udp:53"]), tests: [{ src: "tag:db", proto: "tcp", accept: ["tag:web:53"] }] }), S.tests, ["fail"]),
  ok("tests", "udp only: a udp test passes", p({ ...g(["*"], ["tag:web"], ["udp:53"]), tests: [{ src: "tag:db", proto: "udp", accept: ["tag:web:53"] }] }), S.tests, ["pass"]),
  ok("tests", "a port in a granted range", p({ ...g(["tag:web"], ["tag:db"], ["tcp:9100-9105"]), tests: [{ src: "tag:web", accept: ["tag:db:9103"], deny: ["tag:db:9106"] }] }), S.tests, ["pass"]),
  ok("tests", "an ACL with ports", p({ acls: [{ action: "accept", src: ["group:dev"], dst: ["tag:web:80,443"] }], tests: [{ src: "carol@example.com", accept: ["tag:web:443"], deny: ["tag:web:22"] }] }), S.tests, ["pass"]),
  ok("tests", "an ACL's proto applies", p({ acls: [{ action: "accept", src: ["*"], proto: "udp", dst: ["tag:web:53"] }], tests: [{ src: "tag:db", proto: "tcp", deny: ["tag:web:53"] }] }), S.tests, ["pass"]),
  ok("tests", "an admin role: unknown offline", p({ ...g(["autogroup:admin"], ["tag:web"], ["tcp:22"]), tests: [{ src: "alice@example.com", accept: ["tag:web:22"] }] }), S.live, ["unknown"]),
  ok("tests", "autogroup:member covers a user", p({ ...g(["autogroup:member"], ["tag:web"], ["tcp:22"]), tests: [{ src: "dave@example.com", accept: ["tag:web:22"] }] }), S.targets, ["pass"]),
  ok("tests", "autogroup:member never covers a tag", p({ ...g(["autogroup:member"], ["tag:web"], ["tcp:22"]), tests: [{ src: "tag:db", deny: ["tag:web:22"] }] }), S.targets, ["pass"]),
  ok("tests", "autogroup:tagged covers a tag", p({ ...g(["autogroup:tagged"], ["tag:web"], ["tcp:22"]), tests: [{ src: "tag:db", accept: ["tag:web:22"] }] }), S.targets, ["pass"]),
  ok("tests", "a device address: unknown who holds it", p({ ...g(["tag:web"], ["tag:db"]), tests: [{ src: "100.100.1.10", accept: ["tag:db:22"] }] }), S.live, ["unknown"]),
  ok("tests", "a via grant: unknown", p({ grants: [{ src: ["group:ops"], dst: ["10.0.0.0/24"], ip: ["*"], via: ["tag:web"] }], tests: [{ src: "alice@example.com", accept: ["10.0.0.9:22"] }] }), S.grants, ["unknown"]),
  ok("tests", "a posture grant: unknown", p({ postures: { "posture:l": ["node:os == 'linux'"] }, grants: [{ src: ["*"], dst: ["tag:web"], ip: ["*"], srcPosture: ["posture:l"] }], tests: [{ src: "tag:db", accept: ["tag:web:22"] }] }), S.postures, ["unknown"]),
  ok("tests", "app-only grants open no network path", p({ grants: [{ src: ["*"], dst: ["tag:web"], app: { "example.com/cap/x": [{}] } }], tests: [{ src: "tag:db", deny: ["tag:web:443"] }] }), S.grants, ["pass"]),
  ok("tests", "autogroup:self reaches one's own devices", { ...g(["autogroup:member"], ["autogroup:self"]), tests: [{ src: "alice@example.com", accept: ["alice@example.com:22"], deny: ["bob@example.com:22"] }] }, S.targets, ["pass"]),
  ok("tests", "icmp only and a test without proto: unknown", p({ ...g(["*"], ["tag:web"], ["icmp:*"]), tests: [{ src: "tag:db", accept: ["tag:web:22"] }] }), S.hsTest, ["unknown"]),
  ok("tests", "icmp only and a tcp test fails", p({ ...g(["*"], ["tag:web"], ["icmp:*"]), tests: [{ src: "tag:db", proto: "tcp", accept: ["tag:web:22"] }] }), S.tests, ["fail"]),
  ok("tests", "IPv6 destination in brackets", p({ ...g(["*"], ["fd7a:115c:a1e0::/48"], ["tcp:22"]), tests: [{ src: "tag:db", accept: ["[fd7a:115c:a1e0::5]:22"] }] }), S.hsUtils, ["pass"]),

  // ---- sshTests
  ok("sshTests", "the default: members as root on their own devices (check)", { ssh: [{ action: "check", src: ["autogroup:member"], dst: ["autogroup:self"], users: ["autogroup:nonroot", "root"] }], sshTests: [{ src: "alice@example.com", dst: ["alice@example.com"], check: ["root", "ubuntu"] }] }, S.sshTests, ["pass"]),
  ok("sshTests", "accept is met by a check rule", p({ ssh: [{ action: "check", src: ["group:ops"], dst: ["tag:web"], users: ["root"] }], sshTests: [{ src: "alice@example.com", dst: ["tag:web"], accept: ["root"] }] }), S.hsSsh, ["pass"]),
  ok("sshTests", "check is not met by an accept rule", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["tag:web"], users: ["root"] }], sshTests: [{ src: "alice@example.com", dst: ["tag:web"], check: ["root"] }] }), S.hsSsh, ["fail"]),
  ok("sshTests", "deny a user no rule lets in", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["tag:web"], users: ["deploy"] }], sshTests: [{ src: "alice@example.com", dst: ["tag:web"], accept: ["deploy"], deny: ["root"] }] }), S.sshTests, ["pass"]),
  ok("sshTests", "deny broken by nonroot", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["tag:web"], users: ["autogroup:nonroot"] }], sshTests: [{ src: "alice@example.com", dst: ["tag:web"], deny: ["ubuntu"] }] }), S.ssh, ["fail"]),
  ok("sshTests", "nonroot never means root", p({ ssh: [{ action: "accept", src: ["group:ops"], dst: ["tag:web"], users: ["autogroup:nonroot"] }], sshTests: [{ src: "alice@example.com", dst: ["tag:web"], deny: ["root"] }] }), S.ssh, ["pass"]),
  ok("sshTests", "a role source: unknown", p({ ssh: [{ action: "accept", src: ["autogroup:admin"], dst: ["tag:web"], users: ["root"] }], sshTests: [{ src: "alice@example.com", dst: ["tag:web"], accept: ["root"] }] }), S.live, ["unknown"]),
  no("sshTests", "no src", p({ sshTests: [{ dst: ["tag:web"], accept: ["root"] }] }), "sshTests[0].src", S.hs),
  no("sshTests", "no dst", p({ sshTests: [{ src: "alice@example.com", accept: ["root"] }] }), "sshTests[0].dst", S.hs),
  no("sshTests", "a port on dst", p({ sshTests: [{ src: "alice@example.com", dst: ["tag:web:22"], accept: ["root"] }] }), "sshTests[0].dst[0]", S.hs),
  no("sshTests", "a CIDR dst", p({ sshTests: [{ src: "alice@example.com", dst: ["10.0.0.0/24"], accept: ["root"] }] }), "sshTests[0].dst[0]", S.hs),
  no("sshTests", "an undefined tag dst", p({ sshTests: [{ src: "alice@example.com", dst: ["tag:ghost"], accept: ["root"] }] }), "sshTests[0].dst[0]", S.hs),
  no("sshTests", "autogroup:internet dst", p({ sshTests: [{ src: "alice@example.com", dst: ["autogroup:internet"], accept: ["root"] }] }), "sshTests[0].dst[0]", S.hs),
];

describe("the policy checker, case by case", () => {
  test.each(CASES.map((c) => [`${c.section}: ${c.name}`, c] as const))("%s", (_name, c) => {
    const r = checkPolicy(c.policy);
    const got = { verdict: r.verdict, path: r.errors[0]?.path, tests: r.tests.map((t) => t.result) };
    const want = { verdict: c.verdict, path: c.path, tests: c.tests ?? [] };
    if (c.path === undefined) expect({ ...got, errors: r.errors }).toEqual({ ...want, errors: [] });
    else expect({ verdict: got.verdict, path: got.path }).toEqual({ verdict: want.verdict, path: want.path });
    // Every message is one line, never a stack.
    for (const e of r.errors) expect(e.message).not.toMatch(/\n|\bat \w+ \(/);
    for (const t of r.tests) if (t.result !== "pass") expect(t.why).toMatch(/^(tests|sshTests)\[\d+\]: \S/);
  });

  test("at least 150 cases, every section covered, each with a source", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
    const sections = new Set(CASES.map((c) => c.section));
    for (const s of ["top", "groups", "hosts", "tagOwners", "acls", "grants", "ssh", "autoApprovers", "nodeAttrs", "postures", "ipsets", "tests", "sshTests"]) expect(sections).toContain(s);
    for (const c of CASES) expect(c.source).toMatch(/^(https:\/\/tailscale\.com\/kb\/|juanfont\/headscale |github\.com\/tailscale\/|offline limit)/);
    const names = CASES.map((c) => `${c.section}: ${c.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  test("HuJSON text: comments and trailing commas are fine; a syntax error or a key given twice is the whole file's", () => {
    expect(checkPolicyText('// mine\n{\n\t"grants": [\n\t\t{"src": ["*"], "dst": ["*"], "ip": ["*"]}, /* all */\n\t],\n}\n').verdict).toBe("accepted");
    expect(checkPolicyText('{"grants": [{"src": ["*"]} {"dst": []}]}').errors[0]).toEqual({ path: "", message: expect.stringMatching(/^not valid HuJSON: CommaExpected at line 1, column 28$/) });
    expect(checkPolicyText('{"hosts": {"a": "10.0.0.1", "a": "10.0.0.2"}}').errors[0]).toEqual({ path: "hosts", message: expect.stringMatching(/^key "a" appears twice/) });
    expect(checkPolicyText("\uFEFF{}").verdict).toBe("accepted");
  });
});

describe("a system's app grant (peer relays)", () => {
  test("a grant of tailscale.com/cap/relay composes and checks accepted", () => {
    const { composePolicy } = require("../src/tailnet/policy/compose") as typeof import("../src/tailnet/policy/compose");
    const { PolicyBase } = require("../src/tailnet/policy/base") as typeof import("../src/tailnet/policy/base");
    const c = composePolicy(PolicyBase.newTailnetDefault(), [
      {
        source: "relay/relay",
        tagOwners: { "tag:relay": ["autogroup:admin"], "tag:mesh": ["autogroup:admin"] },
        grants: [{ src: ["tag:mesh"], dst: ["tag:relay"], app: { "tailscale.com/cap/relay": [] } }],
      },
    ]);
    expect(checkPolicyText(c.text)).toMatchObject({ verdict: "accepted", errors: [] });
    expect(() =>
      composePolicy(PolicyBase.empty(), [{ source: "relay/relay", tagOwners: { "tag:relay": [] }, grants: [{ src: ["tag:relay"], dst: ["tag:relay"], app: { "tailscale.com/cap/relay-target": [] } }] }]),
    ).toThrow(/^tailnetPolicy: the composed policy would be refused: grants\[0\]\.app\["tailscale\.com\/cap\/relay-target"\]: .*\(added by relay\/relay\)$/);
  });
});
