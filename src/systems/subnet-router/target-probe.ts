/**
 * The private target's user data: a static page served by Python's http.server on one TCP port,
 * so a tailnet client can prove the path with `curl http://<target>:<port>/` (and ping). It needs
 * no package (python3 ships with Ubuntu and Amazon Linux 2023) and no internet. http.server logs
 * each client's address, which shows what source the router's SNAT setting leaves.
 */
import { requireIntegerInRange } from "../../validation";

export const PROBE_DIRECTORY = "/var/lib/subnet-probe";
export const PROBE_UNIT = "subnet-probe.service";

/** The server's argv; the unit and the rehearsal run exactly this. */
export function probeServerCommand(port: number, directory = PROBE_DIRECTORY, python = "/usr/bin/python3"): string[] {
  requireIntegerInRange("target.port", port, 1, 65535);
  return [python, "-m", "http.server", String(port), "--directory", directory];
}

export function renderProbeUnit(port: number): string {
  return [
    "[Unit]",
    "Description=Static page for subnet router reachability checks",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStart=${probeServerCommand(port).join(" ")}`,
    "DynamicUser=yes",
    "Restart=on-failure",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** Cloud-init user data for the target (bash). */
export function renderTargetUserData(port: number): string {
  return [
    "#!/bin/bash",
    "# Subnet router target: a static page for reachability checks through the router.",
    "set -euo pipefail",
    `install -d -m 755 ${PROBE_DIRECTORY}`,
    `printf 'subnet-router target %s\\n' "$(hostname)" >${PROBE_DIRECTORY}/index.html`,
    `cat >/etc/systemd/system/${PROBE_UNIT} <<'PROBE_UNIT_EOF'`,
    renderProbeUnit(port).trimEnd(),
    "PROBE_UNIT_EOF",
    "systemctl daemon-reload",
    `systemctl enable --now ${PROBE_UNIT}`,
    "",
  ].join("\n");
}
