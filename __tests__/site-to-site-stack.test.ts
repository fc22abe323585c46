import { App, Testing } from "cdktf";
import { gunzipSync } from "zlib";
import { renderClientUserData } from "../src/systems/site-to-site/client";
import { planSiteToSite } from "../src/systems/site-to-site/plan";
import { renderApplyScript, renderRouterFiles, stagedPath } from "../src/systems/site-to-site/router-files";
import { SiteToSiteStack, SiteToSiteStackProps } from "../src/systems/site-to-site/site-to-site-stack";
import { RouterValues } from "../src/systems/site-to-site/values";
import { withoutMetadata } from "./helpers/mesh";
import { synthesizedStack } from "./helpers/synth";

const synth = (props: SiteToSiteStackProps = {}) => withoutMetadata(JSON.parse(Testing.synth(new SiteToSiteStack(Testing.app() as App, "site-to-site", props))));
/** The template inside `${base64gzip("…")}`. */
const decodeGzipTemplate = (expr: string): string => {
  const m = /^\$\{base64gzip\((".*")\)\}$/s.exec(expr);
  if (!m) throw new Error(`not a base64gzip() of a quoted template: ${expr.slice(0, 60)}`);
  return JSON.parse(m[1]);
};
/** What Terraform makes of a template whose only live parts are `refs`: `$${` back to `${`, references filled. */
const evaluate = (template: string, refs: Record<string, string>): string => {
  let out = "";
  for (let i = 0; i < template.length; ) {
    if (template.startsWith("$${", i) || template.startsWith("%%{", i)) {
      out += template[i + 1] + "{";
      i += 3;
    } else if (template.startsWith("${", i)) {
      const end = template.indexOf("}", i);
      const expr = template.slice(i + 2, end);
      if (!(expr in refs)) throw new Error(`unexpected live expression \${${expr}}`);
      out += refs[expr];
      i = end + 1;
    } else out += template[i++];
  }
  return out;
};

describe("the app's site-to-site stack", () => {
  const full = synthesizedStack("site-to-site");
  const stack = withoutMetadata(full);
  const r = stack.resource;
  const plan = planSiteToSite({ aws: { testHost: true } });

  test("snapshot of the synthesized JSON", () => {
    expect(full).toMatchSnapshot();
  });

  test("AWS: a VPN gateway with the Amazon-side ASN attached to a new VPC, propagating into its route table", () => {
    expect(r.aws_vpc.vpc).toMatchObject({ cidr_block: "10.0.0.0/24" });
    expect(r.aws_subnet.private).toMatchObject({ cidr_block: "10.0.0.0/24", vpc_id: "${aws_vpc.vpc.id}", availability_zone: "ap-northeast-1a" });
    expect(r.aws_vpn_gateway.vgw).toEqual({ amazon_side_asn: "64512", tags: { Name: "s2s-vgw" } });
    expect(r.aws_vpn_gateway_attachment.vgw).toEqual({ vpc_id: "${aws_vpc.vpc.id}", vpn_gateway_id: "${aws_vpn_gateway.vgw.id}" });
    expect(r.aws_vpn_gateway_route_propagation.vgw).toEqual({
      route_table_id: "${aws_route_table.vpc_private.id}",
      vpn_gateway_id: "${aws_vpn_gateway.vgw.id}",
      depends_on: ["aws_vpn_gateway_attachment.vgw"],
    });
  });

  test("a customer gateway per router at its public IPv4 with the routers' ASN; a BGP VPN connection per customer gateway", () => {
    for (const key of ["router_1", "router_2"]) {
      expect(r.aws_customer_gateway[key]).toEqual({ bgp_asn: "65000", ip_address: `\${one(linode_instance.${key}.ipv4)}`, type: "ipsec.1", tags: { Name: `s2s-${key.replace("_", "-")}` } });
      expect(r.aws_vpn_connection[key]).toMatchObject({
        customer_gateway_id: `\${aws_customer_gateway.${key}.id}`,
        vpn_gateway_id: "${aws_vpn_gateway.vgw.id}",
        type: "ipsec.1",
        static_routes_only: false,
      });
    }
  });

  test("tunnel options: explicit inside /30s, and exactly the routers' IKE version, proposal, lifetimes, rekey margin, DPD and startup", () => {
    const inside = [["169.254.10.0/30", "169.254.11.0/30"], ["169.254.12.0/30", "169.254.13.0/30"]];
    ["router_1", "router_2"].forEach((key, i) => {
      for (const t of [1, 2]) {
        const c = r.aws_vpn_connection[key];
        const opt = (name: string) => c[`tunnel${t}_${name}`];
        expect({
          inside: opt("inside_cidr"),
          ike: opt("ike_versions"),
          p1: [opt("phase1_encryption_algorithms"), opt("phase1_integrity_algorithms"), opt("phase1_dh_group_numbers"), opt("phase1_lifetime_seconds")],
          p2: [opt("phase2_encryption_algorithms"), opt("phase2_integrity_algorithms"), opt("phase2_dh_group_numbers"), opt("phase2_lifetime_seconds")],
          rekey: [opt("rekey_margin_time_seconds"), opt("rekey_fuzz_percentage")],
          dpd: [opt("dpd_timeout_seconds"), opt("dpd_timeout_action")],
          startup: opt("startup_action"),
        }).toEqual({
          inside: inside[i][t - 1],
          ike: ["ikev2"],
          p1: [["AES128"], ["SHA2-256"], [14], 28800],
          p2: [["AES128"], ["SHA2-256"], [14], 3600],
          rekey: [540, 100],
          dpd: [30, "clear"],
          startup: "add",
        });
      }
    });
  });

  test("the routers: public eth0, VLAN eth1 with their IPAM addresses, Debian 12, SSH keys from the variable, behind their firewall from creation", () => {
    expect(r.linode_instance.router_1).toMatchObject({
      label: "s2s-router-1",
      region: "ap-northeast",
      image: "linode/debian12",
      type: "g6-nanode-1",
      private_ip: false,
      authorized_keys: "${var.ssh_public_keys}",
      firewall_id: "${linode_firewall.routers.id}",
      interface: [
        { purpose: "public", primary: true },
        { purpose: "vlan", label: "s2s-vlan", ipam_address: "10.0.1.2/24" },
      ],
    });
    expect(r.linode_instance.router_2.interface[1]).toEqual({ purpose: "vlan", label: "s2s-vlan", ipam_address: "10.0.1.3/24" });
    expect(r.linode_instance.router_1.network_helper).toBeUndefined();
    expect(r.linode_instance.router_1.root_pass).toBeUndefined();
  });

  test("router firewall: IKE and NAT-T, ICMP, SSH only from admin_cidrs, nothing for Tailscale; client firewall: ICMP only", () => {
    const fw = r.linode_firewall.routers;
    expect(fw).toMatchObject({ label: "s2s-routers", inbound_policy: "DROP", outbound_policy: "ACCEPT" });
    expect(fw.inbound.map((x: any) => [x.label, x.protocol, x.ports ?? "-"])).toEqual([
      ["icmp", "ICMP", "-"],
      ["ssh-admin", "TCP", "22"],
      ["ike-nat-t", "UDP", "500,4500"],
    ]);
    expect(JSON.stringify(fw.inbound[1])).toContain("var.admin_cidrs");
    expect(r.linode_firewall.clients.inbound.map((x: any) => x.label)).toEqual(["icmp"]);
  });

  test("the client: Network Helper off, on the VLAN, its first-boot script as user data", () => {
    const c = r.linode_instance.client_client_1;
    expect(c).toMatchObject({
      label: "s2s-client-1",
      image: "linode/ubuntu24.04",
      network_helper: false,
      firewall_id: "${linode_firewall.clients.id}",
      interface: [
        { purpose: "public", primary: true },
        { purpose: "vlan", label: "s2s-vlan", ipam_address: "10.0.1.10/24" },
      ],
    });
    expect(evaluate(decodeGzipTemplate(c.metadata[0].user_data), {})).toBe(renderClientUserData(plan, plan.clients[0]));
  });

  test("the VRRP password: random_password, 8 letters and digits", () => {
    expect(r.random_password.vrrp).toEqual({ length: 8, special: false, upper: true, lower: true, numeric: true });
  });

  describe("the delivery", () => {
    const d = r.null_resource.router_1_config;
    const files = d.provisioner.filter((p: any) => p.file).map((p: any) => p.file);
    const refs = (key: string): Record<string, string> => ({
      [`one(linode_instance.${key}.ipv4)`]: "198.51.100.11",
      [`aws_vpn_connection.${key}.tunnel1_address`]: "203.0.113.1",
      [`aws_vpn_connection.${key}.tunnel2_address`]: "203.0.113.2",
      [`aws_vpn_connection.${key}.tunnel1_preshared_key`]: "PskOne_123",
      [`aws_vpn_connection.${key}.tunnel2_preshared_key`]: "PskTwo_456",
      [`aws_vpn_connection.${key}.tunnel1_inside_cidr`]: "169.254.10.0/30",
      [`aws_vpn_connection.${key}.tunnel2_inside_cidr`]: "169.254.11.0/30",
      [`aws_vpn_connection.${key}.tunnel1_cgw_inside_address`]: "169.254.10.2",
      [`aws_vpn_connection.${key}.tunnel2_cgw_inside_address`]: "169.254.11.2",
      [`aws_vpn_connection.${key}.tunnel1_vgw_inside_address`]: "169.254.10.1",
      [`aws_vpn_connection.${key}.tunnel2_vgw_inside_address`]: "169.254.11.1",
      [`aws_vpn_connection.${key}.tunnel1_bgp_asn`]: "64512",
      [`aws_vpn_connection.${key}.tunnel2_bgp_asn`]: "64512",
      "random_password.vrrp.result": "Ab3dEf7h",
    });
    const values: RouterValues = {
      publicAddress: "198.51.100.11",
      tunnels: [
        { outsideAddress: "203.0.113.1", presharedKey: "PskOne_123", insideCidr: "169.254.10.0/30", cgwInsideAddress: "169.254.10.2", vgwInsideAddress: "169.254.10.1", bgpAsn: "64512" },
        { outsideAddress: "203.0.113.2", presharedKey: "PskTwo_456", insideCidr: "169.254.11.0/30", cgwInsideAddress: "169.254.11.2", vgwInsideAddress: "169.254.11.1", bgpAsn: "64512" },
      ],
    };

    test("uploads every rendered file (production data plane), AWS's values as live references to the VPN connection", () => {
      const expected = renderRouterFiles(plan, plan.routers[0], values, { vrrpPassword: "Ab3dEf7h" }, { dataplane: "xfrm" });
      expect(files.map((f: any) => f.destination)).toEqual(expected.map((f) => stagedPath(f.name)));
      files.forEach((f: any, i: number) => expect({ name: expected[i].name, text: evaluate(f.content, refs("router_1")) }).toEqual({ name: expected[i].name, text: expected[i].content }));
      const swanctl = files[3].content as string;
      for (const attr of ["tunnel1_address", "tunnel2_address", "tunnel1_preshared_key", "tunnel2_preshared_key", "tunnel1_cgw_inside_address"]) {
        expect(swanctl).toContain(`\${aws_vpn_connection.router_1.${attr}}`);
      }
      expect(files[4].content).toContain("neighbor ${aws_vpn_connection.router_1.tunnel1_vgw_inside_address} remote-as ${aws_vpn_connection.router_1.tunnel1_bgp_asn}");
      expect(files[5].content).toContain("auth_pass ${random_password.vrrp.result}");
      // The updown script's shell expansions reach the router as written.
      expect(files[1].content).toContain('ADDR="$${INSIDE%/*}"');
    });

    test("makes a root-only staging directory first and runs the apply script last, over SSH to the router's public address", () => {
      expect(d.provisioner[0]).toEqual({ "remote-exec": { inline: ["install -d -m 0700 /var/lib/s2s/staged"] } });
      const last = d.provisioner[d.provisioner.length - 1]["remote-exec"];
      expect(last.inline[0]).toBe("#!/bin/bash");
      expect(evaluate(last.inline[1], {})).toBe(renderApplyScript(plan, plan.routers[0]));
      expect(d.connection).toEqual({
        type: "ssh",
        user: "root",
        host: "${one(linode_instance.router_1.ipv4)}",
        private_key: "${var.ssh_private_key}",
        agent: "${(var.ssh_private_key == null)}",
        timeout: "10m",
      });
    });

    test("re-runs when the router, a file or the script changes: one SHA-256 trigger each", () => {
      expect(Object.keys(d.triggers).sort()).toEqual(["apply", "charon", "frr", "instance", "keepalived", "swanctl", "sysctl", "updown"]);
      expect(d.triggers.instance).toBe("${linode_instance.router_1.id}");
      expect(d.triggers.swanctl).toBe(`\${sha256(${JSON.stringify(files[3].content)})}`);
      expect(d.triggers.keepalived).toMatch(/^\$\{sha256\(".*\$\{random_password\.vrrp\.result\}/s);
    });
  });

  test("secrets only as sensitive variables without defaults; admin networks and SSH keys are runtime variables", () => {
    expect(stack.variable.linode_token).toMatchObject({ sensitive: true, nullable: false });
    expect(stack.variable.linode_token.default).toBeUndefined();
    expect(stack.variable.ssh_private_key).toMatchObject({ sensitive: true, default: null });
    expect(stack.variable.admin_cidrs.default).toBeUndefined();
    expect(stack.variable.admin_cidrs.validation).toHaveLength(4);
    expect(stack.variable.ssh_public_keys.default).toBeUndefined();
  });

  test("outputs: addresses and roles, no secret", () => {
    expect(Object.keys(stack.output).sort()).toEqual(["clients", "network", "routers", "test_host"]);
    expect(JSON.stringify(stack.output)).not.toMatch(/preshared|random_password|customer_gateway_configuration/);
    expect(stack.output.routers.value["s2s-router-1"]).toMatchObject({ vrrp: "MASTER (priority 100)", vlan_address: "10.0.1.2" });
  });
});

test("admin networks given as props become the variable's default; an existing VPC gets no VPC of ours", () => {
  const s = synth({
    adminCidrs: ["203.0.113.0/24"],
    vlan: { cidr: "192.168.50.0/24" },
    aws: { existingVpc: { vpcId: "vpc-0123456789abcdef0", cidr: "10.20.0.0/16", routeTableIds: ["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"] } },
  });
  expect(s.variable.admin_cidrs.default).toEqual(["203.0.113.0/24"]);
  expect(s.resource.aws_vpc).toBeUndefined();
  expect(s.resource.aws_vpn_gateway_attachment.vgw.vpc_id).toBe("vpc-0123456789abcdef0");
  expect(Object.values(s.resource.aws_vpn_gateway_route_propagation).map((p: any) => p.route_table_id)).toEqual(["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"]);
  expect(s.resource.aws_instance).toBeUndefined();
  // The routers take the existing VPC's block from AWS and send the VLAN.
  expect(s.resource.null_resource.router_2_config.provisioner[5].file.content).toContain("ip prefix-list S2S-FROM-AWS seq 5 permit 10.20.0.0/16 le 32\nip prefix-list S2S-TO-AWS seq 5 permit 192.168.50.0/24\n");
});

test("no client, no client firewall", () => {
  const s = synth({ clients: [] });
  expect(Object.keys(s.resource.linode_instance).sort()).toEqual(["router_1", "router_2"]);
  expect(Object.keys(s.resource.linode_firewall)).toEqual(["routers"]);
});

test("user data is gzip-compressible text the size check accepts (no secret in it)", () => {
  const plan = planSiteToSite();
  const script = renderClientUserData(plan, plan.clients[0]);
  expect(gunzipSync(require("zlib").gzipSync(script)).toString()).toBe(script);
  expect(script).not.toMatch(/psk|secret|auth_pass/i);
});
