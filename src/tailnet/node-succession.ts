/**
 * What keeps a replaced tailnet node (e.g. a subnet router) from coming back as `<name>-1` while
 * its predecessor, offline but never removed, keeps the name and its routes; and from booting with
 * a single-use key its predecessor already spent.
 *
 * Tailscale names a new device `<name>-1` when a device called `<name>` already exists, and tagged
 * devices never expire, so without help the old one stays forever. Here Terraform owns the device:
 *
 * - `null_resource.<name>_revision` holds every input whose change replaces the instance. When one
 *   changes, the revision is replaced, which replaces the auth key (replace_triggered_by), whose new
 *   value replaces the instance (its user data changes).
 * - `data.tailscale_device.<name>` finds the node by hostname once the instance exists (it waits
 *   while the node installs Tailscale and joins), and `tailscale_device_authorization.<name>` holds
 *   its ID. That resource is replaced whenever the instance is (replace_triggered_by its id), before
 *   the old instance is destroyed. BUT at the pinned provider (v0.29.2) destroying it deletes nothing
 *   (its Delete is a no-op), so the old device keeps the name and the replacement joins as
 *   `<name>-1` (shown in the lab tailnet, docs/lab.md). The old device must be deleted by hand until
 *   this construct deletes it itself.
 *
 * Reboots change nothing: the node keeps its state directory and identity.
 */
import { TerraformResource, TerraformStack } from "cdktf";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { Resource as NullResource } from "@cdktf/provider-null/lib/resource";
import { Construct } from "constructs";
import { DataTailscaleDevice } from "../../.gen/providers/tailscale/data-tailscale-device";
import { DeviceAuthorization } from "../../.gen/providers/tailscale/device-authorization";
import { TailnetKey } from "../../.gen/providers/tailscale/tailnet-key";
import { resourceAddress } from "../terraform/address";
import { fail, requireHostname } from "../validation";

export interface NodeSuccessionProps {
  /** The hostname the node joins with (`tailscale up --hostname`): how the device is found. */
  readonly hostname: string;
  /**
   * Every input whose change replaces the node's instance (image, subnet, bootstrap script...), as
   * Terraform expressions or literals. A change replaces the revision, the key and the instance.
   */
  readonly replaceTriggers: Readonly<Record<string, string>>;
  /** Logical ID stem: `<name>_revision`, `data.tailscale_device.<name>`, `tailscale_device_authorization.<name>`. */
  readonly resourceName: string;
  /** How long an apply waits for a new node to join (a Go duration). @default "15m" */
  readonly joinTimeout?: string;
}

export class NodeSuccession extends Construct {
  /**
   * Replaced exactly when the instance must be. Escape hatch. (A null_resource, not terraform_data:
   * cdktf's terraform_data runs `terraform version` at every synthesis to check for 1.4.)
   */
  public readonly revision: NullResource;
  /** The node, found by hostname after its instance exists (set by `follow`). */
  public device?: DataTailscaleDevice;
  /** Holds the device ID (set by `follow`). Destroying it does NOT delete the device at provider v0.29.2. */
  public authorization?: DeviceAuthorization;
  private readonly props: NodeSuccessionProps;

  constructor(scope: Construct, id: string, props: NodeSuccessionProps) {
    super(scope, id);
    requireHostname("hostname", props.hostname);
    if (!/^[a-z][a-z0-9_]*$/.test(props.resourceName)) fail("resourceName", `${JSON.stringify(props.resourceName)} must be a Terraform identifier (a-z, 0-9, _)`);
    const timeout = props.joinTimeout ?? "15m";
    if (!/^(\d+h)?(\d+m)?(\d+s)?$/.test(timeout) || timeout === "" || /^0+[hms]?$/.test(timeout)) {
      fail("joinTimeout", `${JSON.stringify(timeout)} is not a duration such as "15m" or "1h30m"`);
    }
    this.props = { ...props, joinTimeout: timeout };
    const stack = TerraformStack.of(this);
    if (!stack.node.tryFindChild("null")) new NullProvider(stack, "null");
    this.revision = new NullResource(this, "revision", { triggers: { ...props.replaceTriggers } });
    this.revision.overrideLogicalId(`${props.resourceName}_revision`);
  }

  /** A new revision mints a new key: the old single-use key is spent and would not let a new node join. */
  renewKey(key: TailnetKey): void {
    key.lifecycle = { ...(key.lifecycle ?? {}), replaceTriggeredBy: [resourceAddress(this.revision)] };
  }

  /**
   * Looks the node up once `instance` exists and takes ownership of the device. Call once, after
   * creating the instance.
   */
  follow(instance: TerraformResource): void {
    if (this.device) fail(this.node.path, "follow() was already called");
    const name = this.props.resourceName;
    // depends_on defers the lookup to apply while the instance is being created or replaced; on a
    // plan without changes it reads the live device.
    this.device = new DataTailscaleDevice(this, "device", {
      hostname: this.props.hostname,
      waitFor: this.props.joinTimeout,
      dependsOn: [instance],
    });
    this.device.overrideLogicalId(name);
    this.authorization = new DeviceAuthorization(this, "authorization", {
      deviceId: this.device.nodeId,
      // Pre-authorised keys authorise the node already; this is a no-op there and approves it on
      // tailnets that require device approval.
      authorized: true,
      dependsOn: [instance],
      // `.id`, not the whole instance: an in-place update (tags, type) must not delete the device.
      lifecycle: { replaceTriggeredBy: [resourceAddress(instance, "id")] },
    });
    this.authorization.overrideLogicalId(name);
  }
}
