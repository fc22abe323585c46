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
 * The lookup must find this node and no other. At tailscale/terraform-provider-tailscale v0.29.2
 * (tailscale/data_source_device.go, Read) `data.tailscale_device` lists the devices whose hostname
 * matches and takes the first (`selected = &devices[0]`), whoever made it: a hand-built device or
 * another stack's node of the same hostname, or the predecessor of a replaced node, would be adopted.
 * So `data.tailscale_devices.<name>` lists them all once the node has appeared (same hostname
 * filter, tailscale/data_source_devices.go) and a postcondition stops the apply unless exactly one
 * device has the hostname and it carries the node's tags; the authorization, which waits for that
 * check, takes the device the wait found.
 * Within one app, two nodes with one hostname fail at synthesis.
 *
 * Reboots change nothing: the node keeps its state directory and identity.
 */
import { TerraformResource, TerraformStack } from "cdktf";
import { NullProvider } from "@cdktf/provider-null/lib/provider";
import { Resource as NullResource } from "@cdktf/provider-null/lib/resource";
import { Construct } from "constructs";
import { DataTailscaleDevice } from "../../.gen/providers/tailscale/data-tailscale-device";
import { DataTailscaleDevices } from "../../.gen/providers/tailscale/data-tailscale-devices";
import { DeviceAuthorization } from "../../.gen/providers/tailscale/device-authorization";
import { TailnetKey } from "../../.gen/providers/tailscale/tailnet-key";
import { resourceAddress } from "../terraform/address";
import { fail, requireHostname, requireJoinTimeout, requireTailscaleTag } from "../validation";
import { IConstruct } from "constructs";

export interface NodeSuccessionProps {
  /** The hostname the node joins with (`tailscale up --hostname`): how the device is found. */
  readonly hostname: string;
  /** The tags the node joins with: the device found must carry them. */
  readonly tags: readonly string[];
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
  /** Every device with the hostname, checked to be exactly this node (set by `follow`). */
  public devices?: DataTailscaleDevices;
  /** Holds the device ID (set by `follow`). Destroying it does NOT delete the device at provider v0.29.2. */
  public authorization?: DeviceAuthorization;
  private readonly props: NodeSuccessionProps;

  constructor(scope: Construct, id: string, props: NodeSuccessionProps) {
    super(scope, id);
    requireHostname("hostname", props.hostname);
    if (!Array.isArray(props.tags) || props.tags.length === 0) fail("tags", "must list the tags the node joins with (the device found must carry them)");
    props.tags.forEach((t, i) => requireTailscaleTag(`tags[${i}]`, t));
    claimHostname(this, props.hostname);
    if (!/^[a-z][a-z0-9_]*$/.test(props.resourceName)) fail("resourceName", `${JSON.stringify(props.resourceName)} must be a Terraform identifier (a-z, 0-9, _)`);
    const timeout = props.joinTimeout ?? "15m";
    // The provider's wait_for must parse as a Go duration above 1s.
    requireJoinTimeout("joinTimeout", timeout);
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
    const hostname = this.props.hostname;
    const tags = `[${this.props.tags.map((t) => JSON.stringify(t)).join(", ")}]`;
    // Read once the node has appeared (after the wait above): every device with the hostname.
    this.devices = new DataTailscaleDevices(this, "devices", {
      filter: [{ name: "hostname", values: [hostname] }],
      dependsOn: [this.device],
      lifecycle: {
        postcondition: [
          {
            // A list block is never unknown in a plan (an empty list stands in until the read at
            // apply), so the checks wait for the read's own id: unknown until then, so deferred.
            condition: "${self.id == null ? true : length(self.devices) == 1}",
            errorMessage:
              `\${length(self.devices)} devices in the tailnet have the hostname ${hostname}; this stack would take one it may not own. ` +
              `Remove the others (an old or hand-built device, or another stack's node) from the tailnet, or give this node another hostname, and apply again.`,
          },
          {
            condition: `\${self.id == null ? true : length(self.devices) != 1 ? true : length(setsubtract(${tags}, self.devices[0].tags)) == 0}`,
            errorMessage: `The device with the hostname ${hostname} does not carry ${this.props.tags.join(", ")}: it is not the node this stack made. Remove or rename it, and apply again.`,
          },
        ],
      },
    });
    this.devices.overrideLogicalId(name);
    this.authorization = new DeviceAuthorization(this, "authorization", {
      // The device the wait found, once the check above has passed (exactly one with the hostname).
      deviceId: this.device.nodeId,
      // Pre-authorised keys authorise the node already; this is a no-op there and approves it on
      // tailnets that require device approval.
      authorized: true,
      dependsOn: [instance, this.devices],
      // `.id`, not the whole instance: an in-place update (tags, type) must not delete the device.
      lifecycle: { replaceTriggeredBy: [resourceAddress(instance, "id")] },
    });
    this.authorization.overrideLogicalId(name);
  }
}

/** Hostnames of the nodes each app looks up: two with one hostname would find each other's device. */
const hostnames = new WeakMap<IConstruct, Map<string, string>>();
function claimHostname(scope: IConstruct, hostname: string): void {
  const root = scope.node.root;
  const seen = hostnames.get(root) ?? new Map<string, string>();
  hostnames.set(root, seen);
  const other = seen.get(hostname);
  if (other !== undefined && other !== scope.node.path) {
    fail("hostname", `${JSON.stringify(hostname)} is also the hostname of ${other}; each node's device is found by hostname, so each needs its own`);
  }
  seen.set(hostname, scope.node.path);
}
