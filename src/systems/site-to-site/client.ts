/**
 * A client on the VLAN: its systemd-networkd file for the VLAN interface (its address and the
 * article's route, the AWS VPC through the virtual IP), and the user data that installs it at
 * first boot. Linode's Network Helper is off on clients: it rewrites network files at every boot.
 * The public interface keeps the image's own DHCP configuration.
 */
import { ClientPlan, SiteToSitePlan } from "./plan";
import { prefixLength } from "../../validation";

/** The article's file name (05 sorts before the image's own files, so it wins for eth1). */
export function clientNetworkdPath(plan: SiteToSitePlan): string {
  return `/etc/systemd/network/05-${plan.interfaces.vlan}.network`;
}

export function renderClientNetworkd(plan: SiteToSitePlan, client: ClientPlan): string {
  return [
    `# Managed by the site-to-site stack: ${client.label} on the VLAN; the AWS VPC through the VRRP address.`,
    "[Match]",
    `Name=${plan.interfaces.vlan}`,
    "",
    "[Network]",
    `Address=${client.vlanAddress}/${prefixLength(plan.vlan.cidr)}`,
    "",
    "[Route]",
    `Destination=${plan.aws.vpcCidr}`,
    `Gateway=${plan.virtualIp}`,
    "",
  ].join("\n");
}

/** The `[Network] Address=` and `[Route]` entries of a networkd file (what the rehearsal applies). */
export function parseNetworkd(text: string): { addresses: string[]; routes: { destination: string; gateway: string }[] } {
  const addresses: string[] = [];
  const routes: { destination: string; gateway: string }[] = [];
  let section = "";
  let route: { destination?: string; gateway?: string } | undefined;
  const flush = () => {
    if (route) {
      if (!route.destination || !route.gateway) throw new Error("a [Route] section needs Destination= and Gateway=");
      routes.push({ destination: route.destination, gateway: route.gateway });
    }
    route = undefined;
  };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const sec = /^\[(\w+)\]$/.exec(line);
    if (sec) {
      flush();
      section = sec[1];
      if (section === "Route") route = {};
      continue;
    }
    const [key, value] = line.split("=", 2);
    if (section === "Network" && key === "Address") addresses.push(value);
    if (section === "Route" && route && key === "Destination") route.destination = value;
    if (section === "Route" && route && key === "Gateway") route.gateway = value;
  }
  flush();
  return { addresses, routes };
}

/** First-boot script (cloud-init user data): writes the networkd file and applies it. */
export function renderClientUserData(plan: SiteToSitePlan, client: ClientPlan): string {
  const path = clientNetworkdPath(plan);
  const dev = plan.interfaces.vlan;
  return [
    "#!/bin/bash",
    `# Managed by the site-to-site stack: ${client.label} routes ${plan.aws.vpcCidr} through ${plan.virtualIp} on the VLAN.`,
    "set -euo pipefail",
    "umask 022",
    "mkdir -p /etc/systemd/network",
    `tmp=$(mktemp /etc/systemd/network/.s2s.XXXXXX)`,
    `cat > "$tmp" <<'S2S_NETWORKD_EOF'`,
    renderClientNetworkd(plan, client).trimEnd(),
    "S2S_NETWORKD_EOF",
    `if cmp -s "$tmp" '${path}'; then rm -f "$tmp"; else chmod 644 "$tmp"; mv "$tmp" '${path}'; fi`,
    "systemctl enable --now systemd-networkd",
    "networkctl reload",
    `networkctl reconfigure ${dev}`,
    `echo "s2s-client: ${dev} $(ip -4 -brief addr show dev ${dev} | awk '{print $3}'), route: $(ip route show ${plan.aws.vpcCidr})"`,
    "",
  ].join("\n");
}
