/**
 * The current Amazon Linux 2023 image, from the public SSM parameter AWS keeps pointing at it.
 * `insecure_value` is read, not `value`: `value` is marked sensitive in the provider, and an AMI ID
 * is no secret (a sensitive value would hide every plan diff of the instance behind "(sensitive)").
 */
import { Construct } from "constructs";
import { DataAwsSsmParameter } from "../../.gen/providers/aws/data-aws-ssm-parameter";
import { fail } from "../validation";

export type CpuArchitecture = "x86_64" | "arm64";

/** arm64 for Graviton families (a "g" after the generation digit: t4g, c7g, m6gd, c6gn…), else x86_64. */
export function architectureOf(instanceType: string): CpuArchitecture {
  if (!/^[a-z]+\d+[a-z-]*\.[a-z0-9]+$/.test(instanceType)) fail("instanceType", `${JSON.stringify(instanceType)} is not an EC2 instance type such as t3.micro or t4g.small`);
  return /^[a-z]+\d+g[a-z-]*\./.test(instanceType) ? "arm64" : "x86_64";
}

export function al2023ParameterName(arch: CpuArchitecture): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`;
}

export interface AmazonLinux2023ImageProps {
  readonly architecture: CpuArchitecture;
  /** Logical ID of the data source. @default "al2023" */
  readonly resourceName?: string;
}

export class AmazonLinux2023Image extends Construct {
  public readonly parameter: DataAwsSsmParameter;
  /** The AMI ID (resolved at plan time). */
  public readonly imageId: string;

  constructor(scope: Construct, id: string, props: AmazonLinux2023ImageProps) {
    super(scope, id);
    this.parameter = new DataAwsSsmParameter(this, "parameter", { name: al2023ParameterName(props.architecture) });
    this.parameter.overrideLogicalId(props.resourceName ?? "al2023");
    this.imageId = this.parameter.insecureValue;
  }
}
