/**
 * The Tailscale provider and its two variables, once per stack, so every system that touches the
 * tailnet (policy, keys, devices) configures it the same way.
 */
import { TerraformStack, TerraformVariable, Token } from "cdktf";
import { IConstruct } from "constructs";
import { TailscaleProvider } from "../../.gen/providers/tailscale/provider";

const PROVIDER_ID = "tailscale";

/** The stack's Tailscale provider, created (with `tailscale_api_key` and `tailscale_tailnet`) on first use. */
export function tailscaleProvider(scope: IConstruct): TailscaleProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(PROVIDER_ID);
  if (existing) return existing as TailscaleProvider;
  const apiKey = new TerraformVariable(stack, "tailscale_api_key", {
    type: "string",
    sensitive: true,
    default: Token.nullValue(),
    description:
      "Tailscale API access token (TF_VAR_tailscale_api_key); leave null to use the provider's TAILSCALE_API_KEY or OAuth client environment variables",
  });
  const tailnet = new TerraformVariable(stack, "tailscale_tailnet", {
    type: "string",
    default: "-",
    description: 'Tailnet name; "-" is the API key\'s own tailnet',
    validation: [
      {
        condition: '${can(regex("^(-|[A-Za-z0-9._@-]+)$", var.tailscale_tailnet))}',
        errorMessage: 'tailscale_tailnet must be "-" or a tailnet name (letters, digits, ".", "_", "@", "-").',
      },
    ],
  });
  return new TailscaleProvider(stack, PROVIDER_ID, { apiKey: apiKey.stringValue, tailnet: tailnet.stringValue });
}
