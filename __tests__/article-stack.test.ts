import { ARTICLE_REGIONS } from "../src/catalog/regions";
import { articleProvisionCommands } from "../src/systems/article/article-commands";
import { synthesizedStack } from "./helpers/synth";

const REGION_EXPR = "element(var.regions, (count.index % length(var.regions)))";

describe("article stack", () => {
  const stack = synthesizedStack("article");
  const vpn = stack.resource.linode_instance.vpn;

  test("snapshot of the synthesized JSON", () => {
    expect(stack).toMatchSnapshot();
  });

  test("one instance per region, by count", () => {
    expect(vpn.count).toBe("${length(var.regions)}");
    expect(vpn.region).toBe(`\${${REGION_EXPR}}`);
    expect(vpn.label).toBe(`tailscale-multi-\${${REGION_EXPR}}`);
    expect(stack.variable.regions.default).toEqual([...ARTICLE_REGIONS]);
    expect(stack.variable.regions.default).toHaveLength(14);
  });

  test("the five remote-exec commands, in order", () => {
    const [provisioner] = vpn.provisioner;
    expect(Object.keys(provisioner)).toEqual(["remote-exec"]);
    const inline: string[] = provisioner["remote-exec"].inline;
    expect(inline).toEqual([
      "apt-get update",
      `hostnamectl set-hostname tailscale-multi-\${${REGION_EXPR}}`,
      "curl -fsSL https://tailscale.com/install.sh | sh",
      `tailscale up --authkey \${var.tailscale_auth_key} --hostname=tailscale-multi-\${${REGION_EXPR}} --ssh`,
      "sudo apt-get install -y iperf3",
    ]);
  });

  test("ssh connection as root with the generated password to the instance's own address", () => {
    expect(vpn.provisioner[0]["remote-exec"].connection).toEqual({
      type: "ssh",
      user: "root",
      password: "${random_string.password.result}",
      host: "${self.ip_address}",
    });
  });

  test("instance arguments and the password resource", () => {
    expect(vpn).toMatchObject({
      image: "${var.vpn.image}",
      type: "${var.vpn.type}",
      group: "${var.vpn.group}",
      swap_size: 256,
      private_ip: false,
      tags: ["tailscale"],
      root_pass: "${random_string.password.result}",
      authorized_keys: ["${chomp(file(var.public_ssh_key))}"],
    });
    expect(stack.resource.random_string.password).toMatchObject({
      length: 32,
      special: true,
      upper: true,
      lower: true,
      numeric: true,
    });
  });

  test("variables: secrets have no default and are sensitive; node_count kept though unused", () => {
    expect(stack.variable.tailscale_auth_key).toEqual({ sensitive: true });
    expect(stack.variable.linode_token).toEqual({ sensitive: true });
    expect(stack.variable.node_count).toEqual({ default: 1 });
    expect(stack.provider.linode).toEqual([{ token: "${var.linode_token}" }]);
  });
});

test("article commands are a pure function of their inputs", () => {
  const cmds = articleProvisionCommands({ hostname: "h", authKey: "K" });
  expect(cmds[1]).toBe("hostnamectl set-hostname h");
  expect(cmds[3]).toBe("tailscale up --authkey K --hostname=h --ssh");
});
