/**
 * AWS Regions and the Availability Zone letters each one has, as AWS publishes them ("Regions and
 * Availability Zones" in the Amazon EC2 User Guide, and the AZ ID tables of "AWS Global
 * Infrastructure"), written down here, not fetched. Opt-in regions are included: a region an
 * account has not enabled still fails at apply, which no synth-time table can know.
 *
 * Zone letters are mapped to physical zones per account, and a few regions show each account only
 * some of their letters (us-west-1 shows two of a/b/c; ap-northeast-1 shows b only to older
 * accounts). The table lists every letter any account may see, so a letter no account has
 * ("ap-northeast-1z", "us-east-1g") stops synthesis; a letter this account doesn't see is left to
 * the plan. A region or zone AWS adds later is one entry here.
 */
export interface AwsRegion {
  /** Region code, e.g. `ap-northeast-1`. */
  readonly code: string;
  /** Where it is, as AWS names it. */
  readonly name: string;
  /** Availability Zone letters: `a` means `<code>a`. */
  readonly zones: string;
}

const row = (code: string, name: string, zones: string): AwsRegion => Object.freeze({ code, name, zones });

export const AWS_REGIONS: readonly AwsRegion[] = Object.freeze([
  row("us-east-1", "N. Virginia", "abcdef"),
  row("us-east-2", "Ohio", "abc"),
  row("us-west-1", "N. California", "abc"),
  row("us-west-2", "Oregon", "abcd"),
  row("af-south-1", "Cape Town", "abc"),
  row("ap-east-1", "Hong Kong", "abc"),
  row("ap-east-2", "Taipei", "abc"),
  row("ap-south-1", "Mumbai", "abc"),
  row("ap-south-2", "Hyderabad", "abc"),
  row("ap-southeast-1", "Singapore", "abc"),
  row("ap-southeast-2", "Sydney", "abc"),
  row("ap-southeast-3", "Jakarta", "abc"),
  row("ap-southeast-4", "Melbourne", "abc"),
  row("ap-southeast-5", "Malaysia", "abc"),
  row("ap-southeast-6", "New Zealand", "abc"),
  row("ap-southeast-7", "Thailand", "abc"),
  row("ap-northeast-1", "Tokyo", "abcd"),
  row("ap-northeast-2", "Seoul", "abcd"),
  row("ap-northeast-3", "Osaka", "abc"),
  row("ca-central-1", "Canada (Central)", "abd"),
  row("ca-west-1", "Calgary", "abc"),
  row("eu-central-1", "Frankfurt", "abc"),
  row("eu-central-2", "Zurich", "abc"),
  row("eu-west-1", "Ireland", "abc"),
  row("eu-west-2", "London", "abc"),
  row("eu-west-3", "Paris", "abc"),
  row("eu-south-1", "Milan", "abc"),
  row("eu-south-2", "Spain", "abc"),
  row("eu-north-1", "Stockholm", "abc"),
  row("il-central-1", "Tel Aviv", "abc"),
  row("me-south-1", "Bahrain", "abc"),
  row("me-central-1", "UAE", "abc"),
  row("mx-central-1", "Mexico (Central)", "abc"),
  row("sa-east-1", "Sao Paulo", "abc"),
  row("us-gov-east-1", "GovCloud (US-East)", "abc"),
  row("us-gov-west-1", "GovCloud (US-West)", "abc"),
  row("cn-north-1", "Beijing", "abd"),
  row("cn-northwest-1", "Ningxia", "abc"),
]);

const BY_CODE: ReadonlyMap<string, AwsRegion> = new Map(AWS_REGIONS.map((r) => [r.code, r]));

export function findAwsRegion(code: string): AwsRegion | undefined {
  return typeof code === "string" ? BY_CODE.get(code) : undefined;
}

export function awsRegionCodes(): string[] {
  return AWS_REGIONS.map((r) => r.code);
}

/** Every zone name of a region, e.g. ["ap-northeast-1a", …]; empty for an unknown region. */
export function awsZonesOf(code: string): string[] {
  const r = findAwsRegion(code);
  return r ? [...r.zones].map((l) => `${r.code}${l}`) : [];
}
