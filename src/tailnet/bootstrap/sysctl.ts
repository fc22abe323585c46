/**
 * sysctl.d files the bootstrap installs. Pure text; the script compares before it writes.
 */

import { validateIntegerRange } from "./validate";

export const SYSCTL_TUNING_PATH = "/etc/sysctl.d/90-mesh-tuning.conf";
export const SYSCTL_FORWARDING_PATH = "/etc/sysctl.d/90-mesh-forwarding.conf";

export interface TuningSysctlOptions {
  /**
   * Largest socket buffer in bytes (rmem/wmem max and the tcp_rmem/tcp_wmem ceiling). Default 64 MiB:
   * one bandwidth-delay product of ~3.6 Gbit/s at 150 ms RTT, the longest inter-region paths of the mesh.
   */
  maxBufferBytes?: number;
}

/** BBR + fq and large buffer ceilings for long fat paths; min/default sizes stay at the kernel's. */
export function renderTuningSysctl(o: TuningSysctlOptions = {}): string {
  const max = validateIntegerRange("tuning.maxBufferBytes", o.maxBufferBytes ?? 64 * 1024 * 1024, 4 * 1024 * 1024, 2 ** 30);
  return [
    "# Managed by the mesh node bootstrap; changes are overwritten on the next run.",
    "# Long fat paths (inter-region RTT up to ~150 ms): pace with fq, use BBR, allow large windows.",
    "net.core.default_qdisc = fq",
    "net.ipv4.tcp_congestion_control = bbr",
    `net.core.rmem_max = ${max}`,
    `net.core.wmem_max = ${max}`,
    `net.ipv4.tcp_rmem = 4096 131072 ${max}`,
    `net.ipv4.tcp_wmem = 4096 16384 ${max}`,
    "",
  ].join("\n");
}

/** Forwarding for a subnet router (Tailscale needs both families when advertising routes). */
export function renderForwardingSysctl(): string {
  return [
    "# Managed by the mesh node bootstrap: this node advertises subnet routes.",
    "net.ipv4.ip_forward = 1",
    "net.ipv6.conf.all.forwarding = 1",
    "",
  ].join("\n");
}
