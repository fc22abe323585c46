/**
 * The AWS provider, once per stack, with the region the stack's resources live in. Credentials come
 * from the environment as the AWS CLI reads them (AWS_PROFILE, AWS_ACCESS_KEY_ID/…, SSO, instance
 * roles), never from the synthesized JSON.
 */
import { TerraformStack } from "cdktf";
import { IConstruct } from "constructs";
import { AwsProvider } from "../../.gen/providers/aws/provider";
import { fail, requireAwsRegion } from "../validation";

const PROVIDER_ID = "aws";

export interface AwsProviderOptions {
  readonly region: string;
  /** Tags on every resource the provider creates (resources' own tags win). */
  readonly defaultTags?: Readonly<Record<string, string>>;
}

/** The stack's AWS provider, created on first use; a second call must ask for the same region. */
export function awsProvider(scope: IConstruct, options: AwsProviderOptions): AwsProvider {
  requireAwsRegion("region", options.region);
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(PROVIDER_ID) as AwsProvider | undefined;
  if (existing) {
    if (existing.region !== options.region) fail("region", `the stack's AWS provider is for ${existing.region}, not ${options.region}; one stack, one region`);
    return existing;
  }
  return new AwsProvider(stack, PROVIDER_ID, {
    region: options.region,
    defaultTags: options.defaultTags ? { tags: { ...options.defaultTags } } : undefined,
  });
}

/** The ARN partition of a region: aws, aws-cn or aws-us-gov (for AWS-managed policy ARNs). */
export function awsPartition(region: string): "aws" | "aws-cn" | "aws-us-gov" {
  requireAwsRegion("region", region);
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}
