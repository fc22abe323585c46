/**
 * Tailscale peer relays: a node of your own relays traffic between peers that can't reach each other
 * directly (clients 1.86+), instead of Tailscale's DERP servers. Two things make one work: the node
 * runs a relay server (`tailscale set --relay-server-port=<udp>`, rendered by the node bootstrap),
 * and the policy grants the application capability `tailscale.com/cap/relay` with the nodes that
 * may use the relay as `src` and the relay as `dst` (https://tailscale.com/kb/1591/peer-relays; in
 * the client, a relay serves an allocation only from a peer holding that capability towards it:
 * tailscale/tailscale v1.102.3 wgengine/magicsock/magicsock.go, nodeHasCap(c.filt, peer, c.self,
 * tailcfg.PeerCapabilityRelay)). The control server derives the reverse `relay-target` capability.
 */
import { PolicyContribution } from "./policy/compose";
import { fail, requireTailscaleTag } from "../validation";

export const PEER_RELAY_CAPABILITY = "tailscale.com/cap/relay";
/** A UDP port clear of tailscaled's 41641 and of the usual service ports. */
export const DEFAULT_PEER_RELAY_PORT = 40000;
export { PEER_RELAY_MIN_VERSION } from "./bootstrap";

export interface PeerRelayPolicyOptions {
  /** Tag the relay nodes carry. */
  readonly relayTag: string;
  /** Who may relay through them (tags, groups, users, autogroups). */
  readonly clients: readonly string[];
  /** Who owns the relay tag. */
  readonly owners: readonly string[];
}

/** The relay tag and the grant that lets `clients` use the tagged nodes as peer relays. */
export function peerRelayPolicy(o: PeerRelayPolicyOptions): PolicyContribution {
  requireTailscaleTag("peerRelays.tag", o.relayTag);
  if (o.clients.length === 0) fail("peerRelays.clients", "must name at least one source allowed to use the relays (e.g. the mesh tag)");
  return {
    tagOwners: { [o.relayTag]: [...o.owners] },
    grants: [{ src: [...o.clients], dst: [o.relayTag], app: { [PEER_RELAY_CAPABILITY]: [] } }],
  };
}
