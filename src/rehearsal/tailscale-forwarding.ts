/**
 * What tailscaled does in the kernel for a subnet router, as nftables rules for the rehearsal
 * (there is no tailscaled here). Its Linux firewall code marks packets that arrive from tailscale0
 * in FORWARD (0x40000 in the 0xff0000 mask) and, when `--snat-subnet-routes` is on (the default),
 * masquerades marked packets on the way out of any interface; with it off there is no masquerade
 * and the packets keep their tailnet source. The rules derive from the same option the router's
 * `tailscale up` flags come from.
 */
export interface ForwardingEmulationOptions {
  readonly snatSubnetRoutes: boolean;
  /** @default "tailscale0" */
  readonly tunDevice?: string;
  /** @default "tailscale-emulation" */
  readonly table?: string;
}

export const TAILSCALE_SUBNET_ROUTE_MARK = "0x00040000";
export const TAILSCALE_MARK_MASK = "0x00ff0000";

/** An `nft -f` ruleset. */
export function renderForwardingEmulation(o: ForwardingEmulationOptions): string {
  const dev = o.tunDevice ?? "tailscale0";
  const table = o.table ?? "tailscale-emulation";
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(dev)) throw new Error(`tunDevice "${dev}" is not an interface name`);
  return [
    `table ip ${table} {`,
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    `    iifname "${dev}" meta mark set meta mark & 0xff00ffff | ${TAILSCALE_SUBNET_ROUTE_MARK}`,
    "  }",
    ...(o.snatSubnetRoutes
      ? [
          "  chain postrouting {",
          "    type nat hook postrouting priority srcnat; policy accept;",
          `    meta mark & ${TAILSCALE_MARK_MASK} == ${TAILSCALE_SUBNET_ROUTE_MARK} masquerade`,
          "  }",
        ]
      : []),
    "}",
    "",
  ].join("\n");
}
