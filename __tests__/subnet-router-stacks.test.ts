import { App, Testing, TerraformStack } from "cdktf";
import { buildApp } from "../src/app";
import { DeviceSubnetRoutes } from "../.gen/providers/tailscale/device-subnet-routes";
import { SYSCTL_FORWARDING_PATH, renderForwardingSysctl } from "../src/tailnet/bootstrap";
import { AwsSubnetRouterStack, AwsSubnetRouterStackProps } from "../src/systems/subnet-router/aws-subnet-router-stack";
import { LinodeSubnetRouterStack, LinodeSubnetRouterStackProps } from "../src/systems/subnet-router/linode-subnet-router-stack";
import { renderTargetUserData } from "../src/systems/subnet-router/target-probe";
import { mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { withoutMetadata } from "./helpers/mesh";
import { synthesizedStack } from "./helpers/synth";

/** The template inside `${base64gzip("…")}` (HCL quoted-string escapes used there are a subset of JSON's). */
const decode = (expr: string): string => {
  const m = /^\$\{base64gzip\((".*")\)\}$/s.exec(expr);
  if (!m) throw new Error(`not a base64gzip() of a quoted template: ${expr.slice(0, 60)}`);
  return JSON.parse(m[1]);
};
/** The content of the heredoc the script writes to `path`. */
const writtenFile = (script: string, path: string): string => {
  const m = new RegExp(`write_file '${path.replace(/[./]/g, "\\$&")}' 644 <<'MESH_FILE_EOF'\\n([\\s\\S]*?)MESH_FILE_EOF`).exec(script);
  if (!m) throw new Error(`the script writes no ${path}`);
  return m[1];
};
/** `${…}` sequences Terraform will evaluate (bash's own are escaped as `$${`). */
const liveInterpolations = (template: string): string[] => [...new Set(template.replace(/\$\$\{/g, "").match(/\$\{[^}]*\}/g) ?? [])].sort();

const synthLinode = (props: LinodeSubnetRouterStackProps = {}) =>
  withoutMetadata(JSON.parse(Testing.synth(new LinodeSubnetRouterStack(Testing.app() as App, "subnet-router-linode", props))));
const synthAws = (props: AwsSubnetRouterStackProps = {}) =>
  withoutMetadata(JSON.parse(Testing.synth(new AwsSubnetRouterStack(Testing.app() as App, "subnet-router-aws", props))));
const values = (o: Record<string, any> | undefined) => Object.values(o ?? {});

describe("Linode subnet router (the app's stack)", () => {
  const full = synthesizedStack("subnet-router-linode");
  const stack = withoutMetadata(full);
  const r = stack.resource;
  const router = r.linode_instance.router;
  const script = decode(router.metadata[0].user_data);

  test("snapshot of the synthesized JSON", () => {
    expect(full).toMatchSnapshot();
  });

  test("a VPC with one subnet, the router's VPC interface in it, its public interface first", () => {
    expect(r.linode_vpc.vpc).toMatchObject({ label: "linode-subnet-router-vpc", region: "us-ord" });
    expect(r.linode_vpc_subnet.vpc_private).toEqual({ label: "private", ipv4: "10.20.0.0/24", vpc_id: "${linode_vpc.vpc.id}" });
    expect(router.interface).toEqual([
      { purpose: "public", primary: true },
      // An empty ipv4 block: the address is the API's pick, known after apply.
      { purpose: "vpc", subnet_id: "${linode_vpc_subnet.vpc_private.id}", ipv4: {} },
    ]);
    expect(router).toMatchObject({ label: "linode-subnet-router", region: "us-ord", image: "linode/ubuntu24.04", private_ip: false });
    expect(router.root_pass).toBeUndefined();
    expect(router.authorized_keys).toBeUndefined();
  });

  test("firewall: inbound DROP except UDP 41641 and ICMP, no SSH, attached at creation", () => {
    const fw = r.linode_firewall.router;
    expect(fw.inbound_policy).toBe("DROP");
    expect(fw.inbound.map((x: any) => [x.protocol, x.ports ?? null])).toEqual([
      ["UDP", "41641"],
      ["ICMP", null],
    ]);
    expect(router.firewall_id).toBe("${linode_firewall.router.id}");
  });

  test("user data: tailscale up with the tag and routes, SNAT on, forwarding persisted in sysctl.d", () => {
    expect(script).toContain(
      "readonly TS_UP_FLAGS=('--reset' '--hostname=linode-subnet-router' '--advertise-tags=tag:linode-subnet-router' '--ssh' '--advertise-routes=10.20.0.0/24')",
    );
    expect(script).not.toContain("--snat-subnet-routes");
    // The very file the rehearsal applies with `sysctl -p`, written where the boot reads it.
    expect(writtenFile(script, SYSCTL_FORWARDING_PATH)).toBe(renderForwardingSysctl());
    expect(script).toContain(`apply_sysctl_file "${SYSCTL_FORWARDING_PATH}"`);
    expect(script).not.toMatch(/sysctl -w/);
    // The key is the only live value: everything else reached Terraform escaped.
    expect(liveInterpolations(script)).toEqual(["${tailscale_tailnet_key.router.key}"]);
    expect(script.split("\n").filter((l) => l.includes("tailscale_tailnet_key"))).toEqual(["${tailscale_tailnet_key.router.key}"]);
  });

  test("the key: single-use, pre-authorised, tagged, renewed with each router revision", () => {
    expect(r.tailscale_tailnet_key.router).toMatchObject({
      reusable: false,
      ephemeral: false,
      preauthorized: true,
      tags: ["tag:linode-subnet-router"],
      recreate_if_invalid: "never",
      lifecycle: { replace_triggered_by: ["null_resource.router_revision"] },
    });
    // The policy lives in the mesh stack: this stack waits for it (no depends_on across stacks).
    expect(r.tailscale_tailnet_key.router.depends_on).toBeUndefined();
  });

  test("succession: a changed script replaces revision, key and router; the device is owned and deleted first", () => {
    const triggers = r.null_resource.router_revision.triggers;
    expect(Object.keys(triggers).sort()).toEqual(["firewall", "image", "region", "script"]);
    expect(triggers.script).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(router.lifecycle).toEqual({ replace_triggered_by: ["null_resource.router_revision"] });
    expect(stack.data.tailscale_device.router).toEqual({ hostname: "linode-subnet-router", wait_for: "15m", depends_on: ["linode_instance.router"] });
    // The device is taken only once exactly one device has the hostname and it carries the tag.
    const devices = stack.data.tailscale_devices.router;
    expect(devices.filter).toEqual([{ name: "hostname", values: ["linode-subnet-router"] }]);
    expect(devices.depends_on).toEqual(["data.tailscale_device.router"]);
    expect(devices.lifecycle.postcondition.map((c: { condition: string }) => c.condition)).toEqual([
      "${self.id == null ? true : length(self.devices) == 1}",
      '${self.id == null ? true : length(self.devices) != 1 ? true : length(setsubtract(["tag:linode-subnet-router"], self.devices[0].tags)) == 0}',
    ]);
    expect(r.tailscale_device_authorization.router).toEqual({
      device_id: "${data.tailscale_device.router.node_id}",
      authorized: true,
      depends_on: ["linode_instance.router", "data.tailscale_devices.router"],
      lifecycle: { replace_triggered_by: ["linode_instance.router.id"] },
    });
  });

  test("routes are approved by the policy only: no tailscale_device_subnet_routes", () => {
    expect(r.tailscale_device_subnet_routes).toBeUndefined();
  });

  test("the private target: one VPC interface (no public one), a probe page on 8080", () => {
    const t = r.linode_instance.target;
    expect(t.interface).toEqual([{ purpose: "vpc", subnet_id: "${linode_vpc_subnet.vpc_private.id}", ipv4: {}, primary: true }]);
    expect(t.firewall_id).toBeUndefined();
    expect(decode(t.metadata[0].user_data)).toBe(renderTargetUserData(8080));
    expect(stack.output.target.value.probe_url).toBe("http://${linode_instance.target.interface[0].ipv4[0].vpc}:8080/");
  });

  test("outputs: hostname, tag, addresses, routes, flags", () => {
    expect(stack.output.router.value).toMatchObject({
      tailnet_hostname: "linode-subnet-router",
      tag: "tag:linode-subnet-router",
      public_ipv4: "${linode_instance.router.ip_address}",
      vpc_ipv4: "${linode_instance.router.interface[1].ipv4[0].vpc}",
      advertised_routes: ["10.20.0.0/24"],
    });
  });
});

describe("AWS subnet router (the app's stack, as the article)", () => {
  const full = synthesizedStack("subnet-router-aws");
  const stack = withoutMetadata(full);
  const r = stack.resource;
  const router = r.aws_instance.router;
  const script = decode(router.user_data_base64);
  const ingress = values(r.aws_vpc_security_group_ingress_rule);

  test("snapshot of the synthesized JSON", () => {
    expect(full).toMatchSnapshot();
  });

  test("VPC 10.0.0.0/16: public 10.0.1.0/24 (router) and private 10.0.2.0/24, one zone, explicit AZ", () => {
    expect(stack.provider.aws[0].region).toBe("ap-northeast-1");
    expect(r.aws_vpc.vpc).toMatchObject({ cidr_block: "10.0.0.0/16", enable_dns_support: true, enable_dns_hostnames: true });
    expect(r.aws_subnet.public).toMatchObject({ cidr_block: "10.0.1.0/24", availability_zone: "ap-northeast-1a", map_public_ip_on_launch: false });
    expect(r.aws_subnet.private).toMatchObject({ cidr_block: "10.0.2.0/24", availability_zone: "ap-northeast-1a" });
    expect(router.subnet_id).toBe("${aws_subnet.public.id}");
    expect(r.aws_instance.target.subnet_id).toBe("${aws_subnet.private.id}");
    expect(stack.data.aws_availability_zones).toBeUndefined();
  });

  test("route tables: public → internet gateway; private has no way out; no tailnet return route with SNAT", () => {
    expect(values(r.aws_route)).toEqual([{ route_table_id: "${aws_route_table.vpc_public.id}", destination_cidr_block: "0.0.0.0/0", gateway_id: "${aws_internet_gateway.vpc.id}" }]);
    expect(r.aws_route_table_association.public.route_table_id).toBe("${aws_route_table.vpc_public.id}");
    expect(r.aws_route_table_association.private.route_table_id).toBe("${aws_route_table.vpc_private.id}");
  });

  test("security groups: router takes UDP 41641 only (no SSH anywhere); targets take what the router sends", () => {
    expect(ingress.filter((x: any) => x.security_group_id === "${aws_security_group.router.id}")).toEqual([
      expect.objectContaining({ ip_protocol: "udp", from_port: 41641, to_port: 41641, cidr_ipv4: "0.0.0.0/0" }),
    ]);
    expect(ingress.filter((x: any) => x.security_group_id === "${aws_security_group.targets.id}")).toEqual([
      expect.objectContaining({ ip_protocol: "-1", referenced_security_group_id: "${aws_security_group.router.id}" }),
    ]);
    expect(ingress.some((x: any) => x.ip_protocol === "tcp" || x.from_port === 22)).toBe(false);
    expect(values(r.aws_vpc_security_group_egress_rule).map((x: any) => [x.security_group_id, x.ip_protocol, x.cidr_ipv4])).toEqual([
      ["${aws_security_group.router.id}", "-1", "0.0.0.0/0"],
      ["${aws_security_group.targets.id}", "-1", "0.0.0.0/0"],
    ]);
    expect(router.vpc_security_group_ids).toEqual(["${aws_security_group.router.id}"]);
    expect(router.key_name).toBeUndefined();
  });

  test("SSM Session Manager instead of SSH: EC2 role, the managed core policy, an instance profile", () => {
    expect(JSON.parse(r.aws_iam_role.router_ssm.assume_role_policy)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    expect(r.aws_iam_role_policy_attachment.router_ssm_ssm_core.policy_arn).toBe("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
    expect(router.iam_instance_profile).toBe("${aws_iam_instance_profile.router_ssm.name}");
  });

  test("Amazon Linux 2023 from the public SSM parameter, read through insecure_value", () => {
    expect(stack.data.aws_ssm_parameter.al2023.name).toBe("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
    expect(router.ami).toBe("${data.aws_ssm_parameter.al2023.insecure_value}");
    // A new release does not rebuild the router behind the user's back (imageUpdates "ignore").
    expect(router.lifecycle.ignore_changes).toEqual(["ami"]);
    expect(JSON.stringify(r.null_resource.router_revision.triggers)).not.toContain("aws_ssm_parameter");
  });

  test("the router instance: public IP, SNAT on keeps the source/dest check, IMDSv2, encrypted root", () => {
    expect(router).toMatchObject({
      associate_public_ip_address: true,
      source_dest_check: true,
      user_data_replace_on_change: true,
      metadata_options: { http_tokens: "required", http_endpoint: "enabled", http_put_response_hop_limit: 1 },
      root_block_device: { encrypted: true },
      instance_type: "t3.micro",
    });
    expect(router.lifecycle.replace_triggered_by).toEqual(["null_resource.router_revision"]);
  });

  test("user data: Tailscale's dnf repository on AL2023, the article's hostname and route, forwarding persisted", () => {
    expect(script).toContain("write_file '/etc/yum.repos.d/tailscale.repo' 644");
    expect(script).toContain("baseurl=https://pkgs.tailscale.com/stable/amazon-linux/2023/$basearch");
    expect(script).not.toMatch(/apt-get|dpkg-query/);
    expect(script).toContain(
      "readonly TS_UP_FLAGS=('--reset' '--hostname=vpc-subnet-router' '--advertise-tags=tag:aws-subnet-router' '--ssh' '--advertise-routes=10.0.0.0/16')",
    );
    expect(writtenFile(script, SYSCTL_FORWARDING_PATH)).toBe(renderForwardingSysctl());
    expect(liveInterpolations(script)).toEqual(["${tailscale_tailnet_key.router.key}"]);
  });

  test("succession wiring matches the Linode router's", () => {
    expect(Object.keys(r.null_resource.router_revision.triggers).sort()).toEqual(["script", "subnet"]);
    expect(r.tailscale_tailnet_key.router.lifecycle).toEqual({ replace_triggered_by: ["null_resource.router_revision"] });
    expect(r.tailscale_device_authorization.router.lifecycle).toEqual({ replace_triggered_by: ["aws_instance.router.id"] });
    expect(stack.data.tailscale_device.router).toEqual({ hostname: "vpc-subnet-router", wait_for: "15m", depends_on: ["aws_instance.router"] });
  });

  test("the target: private subnet, no public IP, target group, probe page", () => {
    const t = r.aws_instance.target;
    expect(t).toMatchObject({ associate_public_ip_address: false, vpc_security_group_ids: ["${aws_security_group.targets.id}"] });
    expect(t.iam_instance_profile).toBeUndefined();
    expect(decode(t.user_data_base64)).toBe(renderTargetUserData(8080));
    expect(stack.output.target_security_group_id.value).toBe("${aws_security_group.targets.id}");
  });
});

describe("AWS with SNAT off: what forwarding tailnet addresses needs, and only then", () => {
  const stack = synthAws({ snatSubnetRoutes: false, target: true });
  const r = stack.resource;

  test("source/dest check off, a 100.64.0.0/10 route to the router's interface in every route table", () => {
    expect(r.aws_instance.router.source_dest_check).toBe(false);
    expect(r.aws_route.vpc_private_tailnet).toEqual({
      route_table_id: "${aws_route_table.vpc_private.id}",
      destination_cidr_block: "100.64.0.0/10",
      network_interface_id: "${aws_instance.router.primary_network_interface_id}",
    });
    expect(r.aws_route.vpc_public_tailnet.destination_cidr_block).toBe("100.64.0.0/10");
    expect(Object.keys(r.aws_route).sort()).toEqual(["vpc_private_tailnet", "vpc_public_default", "vpc_public_tailnet"]);
  });

  test("targets accept tailnet sources (a group reference would only match the router's own address)", () => {
    expect(r.aws_vpc_security_group_ingress_rule["targets_from-tailnet"]).toMatchObject({ ip_protocol: "-1", cidr_ipv4: "100.64.0.0/10", security_group_id: "${aws_security_group.targets.id}" });
  });

  test("the router runs with --snat-subnet-routes=false", () => {
    expect(decode(r.aws_instance.router.user_data_base64)).toContain("'--advertise-routes=10.0.0.0/16' '--snat-subnet-routes=false')");
  });
});

describe("options that change the resources", () => {
  test('imageUpdates "replace": a new AL2023 release rebuilds the router (with a new key)', () => {
    const r = synthAws({ imageUpdates: "replace" }).resource;
    expect(r.aws_instance.router.lifecycle.ignore_changes).toBeUndefined();
    expect(r.null_resource.router_revision.triggers.image).toBe("${data.aws_ssm_parameter.al2023.insecure_value}");
  });

  test("Graviton instance types read the arm64 parameter", () => {
    expect(synthAws({ instanceType: "t4g.small" }).data.aws_ssm_parameter.al2023.name).toBe("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64");
  });

  test("an exit node: --advertise-exit-node, and forwarding on", () => {
    const script = decode(synthLinode({ advertiseExitNode: true }).resource.linode_instance.router.metadata[0].user_data);
    expect(script).toContain("'--advertise-routes=10.20.0.0/24' '--advertise-exit-node')");
  });

  test("fixed addresses reach the interfaces", () => {
    const r = synthLinode({ routerAddress: "10.20.0.2", target: { address: "10.20.0.10" } }).resource;
    expect(r.linode_instance.router.interface[1].ipv4).toEqual({ vpc: "10.20.0.2" });
    expect(r.linode_instance.target.interface[0].ipv4).toEqual({ vpc: "10.20.0.10" });
    const a = synthAws({ routerAddress: "10.0.1.10", target: { address: "10.0.2.10" } }).resource;
    expect(a.aws_instance.router.private_ip).toBe("10.0.1.10");
    expect(a.aws_instance.target.private_ip).toBe("10.0.2.10");
    expect(a.null_resource.router_revision.triggers.address).toBe("10.0.1.10");
  });

  test("another script (another route) changes the revision's fingerprint, so the router is replaced", () => {
    const a = synthAws().resource.null_resource.router_revision.triggers.script;
    const b = synthAws({ advertiseRoutes: ["10.0.2.0/24"] }).resource.null_resource.router_revision.triggers.script;
    const c = synthAws().resource.null_resource.router_revision.triggers.script;
    expect(a).not.toBe(b);
    expect(a).toBe(c);
  });

  test("a stack with its own policy writes it and orders the key after it", () => {
    const r = synthLinode().resource;
    expect(Object.keys(r.tailscale_acl)).toEqual(["subnet_router"]);
    expect(r.tailscale_tailnet_key.router.depends_on).toEqual(["tailscale_acl.subnet_router"]);
  });
});

describe("route approval by the policy only", () => {
  test("a tailscale_device_subnet_routes added next to a router fails synthesis, saying why", () => {
    const outdir = mkdtempSync(join(tmpdir(), "sr-guard-"));
    try {
      const app = new App({ outdir });
      const stack = new AwsSubnetRouterStack(app, "subnet-router-aws", {});
      new DeviceSubnetRoutes(stack, "extra", { deviceId: "n123", routes: ["10.0.0.0/16"] });
      expect(() => app.synth()).toThrow(/subnet-router-aws\/extra: tailscale_device_subnet_routes would fight the policy's autoApprovers/);
      // Without it, the same stack synthesizes (validations included).
      const clean = new App({ outdir });
      new AwsSubnetRouterStack(clean, "subnet-router-aws", {});
      expect(() => clean.synth()).not.toThrow();
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("in the app", () => {
  test("both router stacks depend on the mesh stack, which writes the one tailscale_acl", () => {
    const app = buildApp({ outdir: "cdktf.out" });
    const stacks = app.node.children.filter((c): c is TerraformStack => c instanceof TerraformStack);
    const byName = Object.fromEntries(stacks.map((s) => [s.node.id, s]));
    for (const name of ["subnet-router-linode", "subnet-router-aws"]) {
      expect(byName[name].dependencies.map((d) => d.node.id)).toEqual(["mesh"]);
    }
    for (const name of ["subnet-router-linode", "subnet-router-aws"]) expect(synthesizedStack(name).resource.tailscale_acl).toBeUndefined();
  });
});
