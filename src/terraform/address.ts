import { TerraformResource } from "cdktf";

/**
 * `type.name[.attribute]` of a resource, for `lifecycle.replace_triggered_by`. Terraform reads those
 * JSON strings as bare references; cdktf 0.21 renders resources given there as `${type.name}`,
 * which `terraform init` rejects ("Invalid character"), so references are passed as these strings.
 */
export function resourceAddress(resource: TerraformResource, attribute?: string): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}${attribute ? `.${attribute}` : ""}`;
}
