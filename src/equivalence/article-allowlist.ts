import { AllowedDifference } from "./compare";

/**
 * Everything the synthesized `article` stack may do differently from the article's HCL, and why.
 * Nothing else may differ (see __tests__/article-equivalence.test.ts).
 */
export const ARTICLE_ALLOWED_DIFFERENCES: readonly AllowedDifference[] = [
  {
    path: "terraform/backend",
    reason:
      "cdktf always declares a backend; it is the local backend with a relative path, the same state " +
      "file plain `terraform apply` would use, so output stays machine-independent",
    accepts: (actual) => JSON.stringify(actual) === JSON.stringify({ local: { path: "../../../terraform.article.tfstate" } }),
  },
  {
    path: "terraform/required_providers/*/version",
    reason: "provider versions are pinned to the recorded schemas (linode 3.13.0, random 3.7.2); the HCL floats",
    accepts: (actual, expected) => expected === undefined && typeof actual === "string" && /^\d+\.\d+\.\d+$/.test(actual),
  },
  {
    path: "terraform/required_providers/random",
    reason: "cdktf needs an explicit provider construct for random_string; the HCL relies on implicit hashicorp/random",
    accepts: (actual, expected) =>
      expected === undefined && JSON.stringify(actual) === JSON.stringify({ source: "hashicorp/random", version: "3.7.2" }),
  },
  {
    path: "provider/random",
    reason: "the empty provider block that goes with the explicit random provider construct",
    accepts: (actual, expected) => expected === undefined && JSON.stringify(actual) === "{}",
  },
  ...["linode_token", "tailscale_auth_key"].map((name) => ({
    path: `variable/${name}/sensitive`,
    reason: "secrets are marked sensitive so plans and provisioner output mask them; the HCL leaves them plain",
    accepts: (actual: unknown, expected: unknown) => expected === undefined && actual === true,
  })),
];
