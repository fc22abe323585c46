/**
 * The seed article's remote-exec commands, verbatim in substance. Kept as a pure function so the
 * article stack and its tests share one definition. Inputs are Terraform expressions (or tokens that
 * render to them), not values: the commands are interpolated by Terraform at apply time.
 */
export interface ArticleCommandsInput {
  /** Expression for the node's name, e.g. `tailscale-multi-${element(...)}`. */
  readonly hostname: string;
  /** Expression for the Tailscale auth key. */
  readonly authKey: string;
}

export function articleProvisionCommands(input: ArticleCommandsInput): string[] {
  return [
    "apt-get update",
    `hostnamectl set-hostname ${input.hostname}`,
    "curl -fsSL https://tailscale.com/install.sh | sh",
    `tailscale up --authkey ${input.authKey} --hostname=${input.hostname} --ssh`,
    "sudo apt-get install -y iperf3",
  ];
}
