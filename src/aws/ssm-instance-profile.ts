/**
 * An instance profile for SSM Session Manager: shell access through the AWS API (IAM-authorised,
 * logged), so no SSH port is ever opened. The instance also needs a route to the SSM endpoints
 * (a public IP in a public subnet, a NAT gateway, or VPC endpoints).
 */
import { Construct } from "constructs";
import { IamInstanceProfile } from "../../.gen/providers/aws/iam-instance-profile";
import { IamRole } from "../../.gen/providers/aws/iam-role";
import { IamRolePolicyAttachment } from "../../.gen/providers/aws/iam-role-policy-attachment";
import { fail } from "../validation";
import { awsPartition } from "./provider";

export interface SsmInstanceProfileProps {
  /** Role and profile name (IAM names are account-wide: include what makes them unique, e.g. the region). */
  readonly name: string;
  /** For the managed policy's ARN partition. */
  readonly region: string;
  /** Logical ID of the role and profile (the attachment adds `_ssm_core`). @default "ssm" */
  readonly resourceName?: string;
}

export class SsmInstanceProfile extends Construct {
  public readonly role: IamRole;
  public readonly profile: IamInstanceProfile;

  constructor(scope: Construct, id: string, props: SsmInstanceProfileProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(props.name)) fail("name", `${JSON.stringify(props.name)} is not an IAM role name (1-64 of letters, digits and +=,.@_-)`);
    this.role = new IamRole(this, "role", {
      name: props.name,
      description: "EC2 instance role for SSM Session Manager",
      // A literal document (no data source), so the plan shows it and it never changes by itself.
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags: { Name: props.name },
    });
    const rn = props.resourceName ?? "ssm";
    this.role.overrideLogicalId(rn);
    new IamRolePolicyAttachment(this, "ssm-core", {
      role: this.role.name,
      policyArn: `arn:${awsPartition(props.region)}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    }).overrideLogicalId(`${rn}_ssm_core`);
    this.profile = new IamInstanceProfile(this, "profile", { name: props.name, role: this.role.name, tags: { Name: props.name } });
    this.profile.overrideLogicalId(rn);
  }
}
