/**
 * What AWS decides when it creates a VPN connection, as the routers' renderers take it: plain
 * strings that are Terraform references in the stack (`${aws_vpn_connection.router_1.tunnel1_address}`,
 * kept live through template slots) and literal addresses and keys in the rehearsal.
 */

/** One tunnel of a VPN connection (AWS's tunnel1_* or tunnel2_* attributes). */
export interface TunnelValues {
  /** AWS's outside (public) address of the tunnel: the IKE peer. */
  readonly outsideAddress: string;
  /** The tunnel's pre-shared key (sensitive). */
  readonly presharedKey: string;
  /** The inside /30, e.g. 169.254.10.0/30. */
  readonly insideCidr: string;
  /** The router's inside address (the /30's second address). */
  readonly cgwInsideAddress: string;
  /** AWS's inside address (the /30's first), the eBGP neighbour. */
  readonly vgwInsideAddress: string;
  /** AWS's BGP AS number on this tunnel. */
  readonly bgpAsn: string;
}

/** Everything a router's configuration needs beyond the plan. */
export interface RouterValues {
  /** The router's public IPv4 (eth0): IKE's local address and identity, the customer gateway's address. */
  readonly publicAddress: string;
  readonly tunnels: readonly [TunnelValues, TunnelValues];
}

/** The router's secrets that are not AWS's: the VRRP password (sensitive). */
export interface RouterSecrets {
  readonly vrrpPassword: string;
}
