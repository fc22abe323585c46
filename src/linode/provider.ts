/**
 * The Linode provider and its token variable, once per stack, so every system configures it the same
 * way: the token only from the environment (TF_VAR_linode_token), sensitive, never defaulted.
 */
import { TerraformStack, TerraformVariable } from "cdktf";
import { IConstruct } from "constructs";
import { LinodeProvider } from "../../.gen/providers/linode/provider";

const PROVIDER_ID = "linode";

/** The stack's Linode provider, created (with the `linode_token` variable) on first use. */
export function linodeProvider(scope: IConstruct): LinodeProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(PROVIDER_ID);
  if (existing) return existing as LinodeProvider;
  const token = new TerraformVariable(stack, "linode_token", {
    type: "string",
    sensitive: true,
    nullable: false,
    description: "Linode API token (set TF_VAR_linode_token)",
    validation: [{ condition: "${length(var.linode_token) > 0}", errorMessage: "linode_token must not be empty." }],
  });
  return new LinodeProvider(stack, PROVIDER_ID, { token: token.stringValue });
}
