/**
 * Which mesh nodes are Tailscale peer relays, resolved at synth time: every node, the nodes of some
 * regions, or the placement of src/tailnet/relay-placement.ts ("placed": the fewest relays that keep every
 * relayed pair as close to its direct fibre limit as a relay in every region would).
 */
import { NodeInfo } from "../../linode/tailscale-nodes";
import { PolicyContribution } from "../../tailnet/policy/compose";
import { DEFAULT_PEER_RELAY_PORT, PEER_RELAY_MIN_VERSION, peerRelayPolicy } from "../../tailnet/peer-relay";
import { versionAtLeast } from "../../tailnet/bootstrap";
import { fail, requireIntegerInRange, requireNonEmpty, requireRegion, requireTailscaleTag, requireUnique } from "../../validation";
import { place, sitesFromRegions } from "../../tailnet/relay-placement";

export interface MeshPeerRelayOptions {
  /**
   * Which nodes relay: "all"; "placed" (computed from the nodes' regions, see `npm run placement`);
   * or the nodes in the listed regions.
   */
  readonly relays: "all" | "placed" | { readonly regions: readonly string[] };
  /** UDP port of the relay servers (opened in the firewall). @default 40000 */
  readonly port?: number;
  /** Tag the relay nodes carry besides the mesh tag. @default "tag:mesh-relay" */
  readonly tag?: string;
  /** Who may use the relays (grant `src`). @default the mesh tag */
  readonly clients?: readonly string[];
}

export interface ResolvedMeshPeerRelays {
  /** Relay node names, in node order. */
  readonly nodes: readonly string[];
  readonly port: number;
  readonly tag: string;
  /** The relay tag's owners and the `tailscale.com/cap/relay` grant. */
  readonly policy: (meshTag: string, admins: readonly string[]) => PolicyContribution;
}

export function resolveMeshPeerRelays(o: MeshPeerRelayOptions, nodes: readonly NodeInfo[], tailscaleVersion?: string): ResolvedMeshPeerRelays {
  const port = o.port ?? DEFAULT_PEER_RELAY_PORT;
  requireIntegerInRange("peerRelays.port", port, 1, 65535);
  if (port === 41641) fail("peerRelays.port", "41641 is tailscaled's WireGuard port; give the relay server its own UDP port (e.g. 40000)");
  const tag = o.tag ?? "tag:mesh-relay";
  requireTailscaleTag("peerRelays.tag", tag);
  if (tailscaleVersion !== undefined && !versionAtLeast(tailscaleVersion, PEER_RELAY_MIN_VERSION)) {
    fail("tailscaleVersion", `${JSON.stringify(tailscaleVersion)} is too old for peer relays (allowed: ${PEER_RELAY_MIN_VERSION} or later, or no pin)`);
  }
  let names: string[];
  if (o.relays === "all") names = nodes.map((n) => n.name);
  else if (o.relays === "placed") {
    // Placed over distinct regions (nodes of one region relay alike), then the first node of each
    // chosen region: the search stays bounded by the catalog, however many nodes a region has.
    const regions = [...new Set(nodes.map((n) => n.region))];
    const chosen = new Set(place(sitesFromRegions(regions), "placed").relays);
    names = regions.filter((r) => chosen.has(r)).map((r) => nodes.find((n) => n.region === r)!.name);
    names = nodes.filter((n) => names.includes(n.name)).map((n) => n.name);
    if (names.length === 0) {
      fail("peerRelays.relays", `"placed" found no relay that beats Tailscale's DERP servers for these regions; list regions or use "all"`);
    }
  } else if (typeof o.relays === "object" && o.relays !== null && Array.isArray(o.relays.regions)) {
    const regions = o.relays.regions;
    requireNonEmpty("peerRelays.relays.regions", regions);
    regions.forEach((r, i) => requireRegion(`peerRelays.relays.regions[${i}]`, r));
    requireUnique("peerRelays.relays.regions", regions);
    regions.forEach((r, i) => {
      if (!nodes.some((n) => n.region === r)) fail(`peerRelays.relays.regions[${i}]`, `${JSON.stringify(r)} has no node in this mesh`);
    });
    names = nodes.filter((n) => regions.includes(n.region)).map((n) => n.name);
  } else {
    fail("peerRelays.relays", `${JSON.stringify(o.relays)} is not "all", "placed" or { regions: [...] }`);
  }
  const clients = o.clients;
  if (clients) clients.forEach((c, i) => (c.startsWith("tag:") ? requireTailscaleTag(`peerRelays.clients[${i}]`, c) : undefined));
  return {
    nodes: names,
    port,
    tag,
    policy: (meshTag, admins) => peerRelayPolicy({ relayTag: tag, clients: clients ?? [meshTag], owners: admins }),
  };
}
