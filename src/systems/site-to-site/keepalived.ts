/**
 * keepalived (VRRPv2) for a router: the article's block (Instance1 MASTER 100 / Instance2 BACKUP 99,
 * virtual_router_id, advert_int 1, PASS authentication, the VIP on the VLAN interface) with a
 * generated password instead of the literal "password".
 *
 * PASS authentication carries the password in clear text in every advertisement, in an 8-octet
 * field: it keeps a misconfigured neighbour out, not an attacker on the VLAN. keepalived truncates a
 * longer password to 8 characters (and `keepalived -t` then fails with "Truncating auth_pass to 8
 * characters"), and its parser ends a line at '#' or '!', so the password is 8 letters and digits.
 */
import { RouterPlan, SiteToSitePlan } from "./plan";
import { RouterSecrets } from "./values";

export const KEEPALIVED_CONF_PATH = "/etc/keepalived/keepalived.conf";
/** PASS authentication's limit (RFC 2338's 8-octet authentication data). */
export const VRRP_PASSWORD_LENGTH = 8;

export function renderKeepalivedConf(plan: SiteToSitePlan, router: RouterPlan, secrets: RouterSecrets): string {
  return [
    `# Managed by the site-to-site stack: ${router.name}, ${router.state} of the VLAN gateway ${plan.virtualIp}.`,
    "global_defs {",
    `    router_id ${router.name}`,
    "}",
    `vrrp_instance ${router.vrrpInstance} {`,
    `    state ${router.state}`,
    `    interface ${plan.interfaces.vlan}`,
    `    virtual_router_id ${plan.virtualRouterId}`,
    `    priority ${router.priority}`,
    "    advert_int 1",
    "    authentication {",
    "        auth_type PASS",
    `        auth_pass ${secrets.vrrpPassword}`,
    "    }",
    "    virtual_ipaddress {",
    `        ${plan.virtualIp}`,
    "    }",
    "}",
    "",
  ].join("\n");
}
