/**
 * Delivery of a router's configuration once both clouds exist: a null_resource per router whose
 * provisioners upload each rendered file (file provisioners: the contents hold the pre-shared keys
 * and the VRRP password, so Terraform treats them as sensitive and hides their output) and then run
 * the apply script (remote-exec: no secret in it, so its output shows). Its triggers are the
 * router's instance ID and a SHA-256 per file, so a changed configuration, a new VPN connection or
 * a new router re-runs it; Terraform marks the hashes of secret-bearing files sensitive, and the
 * plan shows the others changing.
 *
 * The files are rendered once with slot markers where AWS's values go; the markers are replaced by
 * references to the VPN connection's attributes (and the VRRP password's result), so the text is
 * escaped for Terraform's templates and the references stay live.
 */
import { Resource as NullResource } from "@cdktf/provider-null/lib/resource";
import { Construct } from "constructs";
import { escapeTerraformTemplate, fillTemplateSlots, hclQuotedTemplate } from "../../terraform/template";
import { RouterPlan, SiteToSitePlan } from "./plan";
import { renderApplyScript, renderRouterFiles, RouterFile, STAGING_DIR, stagedPath } from "./router-files";
import { RouterSecrets, RouterValues, TunnelValues } from "./values";
import { optionalSecret, requireSecret, Secret } from "../../terraform/secret";

export interface RouterConfigDeliveryProps {
  readonly plan: SiteToSitePlan;
  readonly router: RouterPlan;
  /** The router's instance ID (an expression): a new router gets its files again. */
  readonly instanceId: string;
  /** The router's public IPv4 (an expression): the SSH connection and IKE's local address. */
  readonly host: string;
  /** What AWS assigned to the router's VPN connection (expressions). */
  readonly tunnels: readonly [TunnelValues, TunnelValues];
  /** The VRRP password, a reference (never the password itself). */
  readonly vrrpPassword: Secret;
  /** Private key for SSH, a sensitive variable. @default none: ssh-agent */
  readonly sshPrivateKey?: Secret;
  /** Whether SSH uses the agent: "true", "false" or a bool expression. @default "true" when no private key */
  readonly sshAgent?: string;
}

// Markers: identifiers that occur nowhere else in the files, none a prefix of another.
const slot = (name: string) => `S2SSLOT${name}X`;
const PUBLIC = slot("PUBLICADDRESS");
const VRRP = slot("VRRPPASSWORD");
const T = (i: number, what: string) => slot(`T${i}${what}`);
const TUNNEL_FIELDS: readonly (keyof TunnelValues)[] = ["outsideAddress", "presharedKey", "insideCidr", "cgwInsideAddress", "vgwInsideAddress", "bgpAsn"];

/** The router's values as markers (what the renderers see) and the expressions that replace them. */
export function routerSlots(props: Pick<RouterConfigDeliveryProps, "host" | "tunnels" | "vrrpPassword">): {
  values: RouterValues;
  secrets: RouterSecrets;
  slots: Record<string, string>;
} {
  const slots: Record<string, string> = { [PUBLIC]: props.host, [VRRP]: requireSecret("vrrpPassword", props.vrrpPassword) };
  const tunnels = props.tunnels.map((tv, n) => {
    const marked = {} as Record<keyof TunnelValues, string>;
    for (const f of TUNNEL_FIELDS) {
      marked[f] = T(n + 1, f.toUpperCase());
      // The pre-shared key is a secret: only AWS's attribute, never a key typed in.
      slots[marked[f]] = f === "presharedKey" ? Secret.fromReference(tv[f], `tunnels[${n}].presharedKey`).expression : tv[f];
    }
    return marked as TunnelValues;
  }) as unknown as [TunnelValues, TunnelValues];
  return { values: { publicAddress: PUBLIC, tunnels }, secrets: { vrrpPassword: VRRP }, slots };
}

/** A rendered file as a Terraform template: escaped, with the markers it holds replaced. */
export function fileTemplate(file: RouterFile, slots: Record<string, string>): string {
  const present = Object.fromEntries(Object.entries(slots).filter(([marker]) => file.content.includes(marker)));
  return fillTemplateSlots(file.content, present);
}

export class RouterConfigDelivery extends Construct {
  public readonly resource: NullResource;
  /** The files as delivered (templates with live references), in install order. */
  public readonly files: readonly { readonly file: RouterFile; readonly template: string }[];

  constructor(scope: Construct, id: string, props: RouterConfigDeliveryProps) {
    super(scope, id);
    const { plan, router } = props;
    const { values, secrets, slots } = routerSlots(props);
    const sshPrivateKey = optionalSecret("sshPrivateKey", props.sshPrivateKey);
    this.files = renderRouterFiles(plan, router, values, secrets, { dataplane: "xfrm" }).map((file) => ({ file, template: fileTemplate(file, slots) }));

    const triggers: Record<string, string> = { instance: props.instanceId };
    for (const { file, template } of this.files) triggers[file.name] = `\${sha256(${hclQuotedTemplate(template)})}`;
    const script = escapeTerraformTemplate(renderApplyScript(plan, router));
    triggers.apply = `\${sha256(${hclQuotedTemplate(script)})}`;

    this.resource = new NullResource(this, "delivery", {
      triggers,
      connection: {
        type: "ssh",
        user: "root",
        host: props.host,
        ...(sshPrivateKey ? { privateKey: sshPrivateKey } : {}),
        agent: props.sshAgent ?? String(!sshPrivateKey),
        timeout: "10m",
      },
      provisioners: [
        // A root-only directory for the files, so a secret never lands readable by others.
        { type: "remote-exec" as const, inline: [`install -d -m 0700 ${STAGING_DIR}`] },
        ...this.files.map(({ file, template }) => ({ type: "file" as const, content: template, destination: stagedPath(file.name) })),
        // Terraform uploads inline commands as one script; the first line picks bash.
        { type: "remote-exec" as const, inline: ["#!/bin/bash", script] },
      ],
    });
    this.resource.overrideLogicalId(`${router.key}_config`);
  }
}
