/**
 * systemd units (and the small helper one of them runs) installed by the node bootstrap.
 */

import { validatePort } from "./validate";

export const IPERF3_UNIT_NAME = "iperf3-tailnet.service";
export const IPERF3_UNIT_PATH = `/etc/systemd/system/${IPERF3_UNIT_NAME}`;
export const UDP_GRO_UNIT_NAME = "mesh-udp-gro.service";
export const UDP_GRO_UNIT_PATH = `/etc/systemd/system/${UDP_GRO_UNIT_NAME}`;
export const UDP_GRO_HELPER_PATH = "/usr/local/sbin/mesh-udp-gro";

export interface Iperf3UnitOptions {
  /** TCP/UDP port iperf3 listens on; default 5201. */
  port?: number;
}

/**
 * iperf3 server bound to the tailnet IPv4 only, so measurements never go to the public address.
 * The address is looked up when the service starts (it is not known at render time); until tailscaled
 * has one, the start fails and systemd retries every 5 s without a start limit.
 */
export function renderIperf3Unit(o: Iperf3UnitOptions = {}): string {
  const port = validatePort("iperf3.port", o.port ?? 5201);
  // `$$` is systemd's escape for a literal `$`; the shell then sees `$(...)` and `$addr`.
  const exec =
    "/bin/sh -c 'addr=$$(/usr/bin/tailscale ip -4 | head -n 1) && [ -n \"$$addr\" ] && " +
    `exec /usr/bin/iperf3 --server --bind "$$addr" --port ${port}'`;
  const lines = [
    "# Managed by the mesh node bootstrap.",
    "[Unit]",
    "Description=iperf3 server on this node's tailnet IPv4 address",
    "Documentation=man:iperf3(1)",
    "Requires=tailscaled.service",
    "After=tailscaled.service network-online.target",
    "Wants=network-online.target",
    "StartLimitIntervalSec=0",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec}`,
    "Restart=on-failure",
    "RestartSec=5",
    // Unprivileged: the tailscale CLI may read status as any user; iperf3 needs nothing else.
    "DynamicUser=yes",
    "NoNewPrivileges=yes",
    ...(port < 1024 ? ["AmbientCapabilities=CAP_NET_BIND_SERVICE"] : []),
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return lines.join("\n");
}

/** Runs the GRO helper once per boot, after the network is up (ethtool settings do not persist). */
export function renderUdpGroUnit(): string {
  return [
    "# Managed by the mesh node bootstrap.",
    "[Unit]",
    "Description=UDP GRO forwarding on the default-route NIC (Tailscale throughput)",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${UDP_GRO_HELPER_PATH}`,
    "RemainAfterExit=yes",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * Helper that turns on rx-udp-gro-forwarding (and off rx-gro-list) on the default-route NIC when the
 * kernel offers it. It checks first and never fails; its single output line starts with
 * `mesh-udp-gro: changed`, `unchanged` or `skipped`, which the bootstrap counts.
 */
export function renderUdpGroScript(): string {
  return `#!/bin/bash
# Managed by the mesh node bootstrap. Enables UDP GRO forwarding on the NIC that carries the IPv4
# default route, which raises tailscaled's UDP throughput. Checks first; never fails the caller.
set -uo pipefail

iface=$(ip -o -4 route show to default 2>/dev/null |
  awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
if [ -z "$iface" ]; then
  echo "mesh-udp-gro: skipped (no IPv4 default route)"
  exit 0
fi
if ! command -v ethtool >/dev/null 2>&1; then
  echo "mesh-udp-gro: skipped (ethtool not installed)"
  exit 0
fi
if ! features=$(ethtool -k "$iface" 2>/dev/null); then
  echo "mesh-udp-gro: skipped (ethtool -k $iface failed)"
  exit 0
fi

# feature NAME: prints the state ("on", "off", "off [fixed]", ...) or nothing when the kernel lacks it.
feature() {
  printf '%s\\n' "$features" | awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }'
}

gro_forwarding=$(feature rx-udp-gro-forwarding)
gro_list=$(feature rx-gro-list)
case $gro_forwarding in
  "")
    echo "mesh-udp-gro: skipped (kernel offers no rx-udp-gro-forwarding on $iface)"
    exit 0
    ;;
  *fixed*)
    echo "mesh-udp-gro: skipped (rx-udp-gro-forwarding is fixed on $iface)"
    exit 0
    ;;
esac

args=()
if [ "\${gro_forwarding%% *}" != on ]; then
  args+=(rx-udp-gro-forwarding on)
fi
if [ "$gro_list" = on ]; then
  args+=(rx-gro-list off)
fi
if [ "\${#args[@]}" -eq 0 ]; then
  echo "mesh-udp-gro: unchanged $iface"
  exit 0
fi
if ethtool -K "$iface" "\${args[@]}"; then
  echo "mesh-udp-gro: changed $iface (\${args[*]})"
else
  echo "mesh-udp-gro: skipped (ethtool -K $iface \${args[*]} failed)"
fi
exit 0
`;
}
