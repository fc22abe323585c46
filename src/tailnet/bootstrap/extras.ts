/**
 * System-specific additions to the node bootstrap: the extension point a system (an Erlang cluster,
 * a subnet router...) uses to install its packages, create its service account, write its files and
 * start its units on top of the tailnet node, with the same compare-then-act idempotence.
 *
 * Order in the script: units to mask, before any package is installed (so a package's own service
 * never starts); packages, with Tailscale; after `tailscale up`: system users, files, then units
 * (enabled and started; restarted when one of the files changed).
 */

import { ProvisioningValidationError } from "./validate";

/** A file the bootstrap keeps in place: replaced only when its content, mode or owner differ. */
export interface BootstrapFile {
  /** Absolute path, e.g. "/etc/erlang-cluster/vm.args". */
  readonly path: string;
  /** Permission bits in octal, e.g. "644", "0400", "755". */
  readonly mode: string;
  /**
   * "user" (group of the same name) or "user:group"; the account must exist when files are written
   * (a `systemUsers` entry, or one a package creates). @default root, as created
   */
  readonly owner?: string;
  /**
   * The bytes to write (a newline is added when missing). Written from a quoted heredoc through a
   * private temporary file: never on a command line, never readable by others while it is written.
   */
  readonly content: string;
}

/** A service account: no password, no login shell, a home directory it owns. */
export interface SystemUser {
  readonly name: string;
  /** Absolute path of its home directory (created, owned by the user). */
  readonly home: string;
}

export interface BootstrapExtras {
  /** Debian packages to install with Tailscale, e.g. ["erlang-base"] (NAME or NAME=VERSION). Default none. */
  extraPackages?: string[];
  /** Units to mask before packages are installed, so a package's own service never starts (e.g. "epmd.socket"). */
  maskUnits?: string[];
  /** Service accounts to create after `tailscale up`. */
  systemUsers?: SystemUser[];
  /** Files to write after the system users exist. */
  files?: BootstrapFile[];
  /** Units to enable and start last, in this order; restarted when a file of this list changed. */
  units?: string[];
}

export interface ResolvedBootstrapExtras {
  extraPackages: string[];
  maskUnits: string[];
  systemUsers: SystemUser[];
  /** Modes normalised to three digits, owners to "user:group". */
  files: Required<BootstrapFile>[];
  units: string[];
}

const PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/;
const UNIT = /^[A-Za-z0-9:_.@-]+\.(service|socket|timer|target|path|mount)$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const PATH = /^(\/[A-Za-z0-9._@+-]+)+$/;
const MODE = /^0?[0-7]{3}$/;

function list<T>(field: string, value: unknown, check: (item: unknown, field: string) => T, key: (t: T) => string = String): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ProvisioningValidationError(field, "must be an array");
  const seen = new Set<string>();
  return value.map((item, i) => {
    const t = check(item, `${field}[${i}]`);
    if (seen.has(key(t))) throw new ProvisioningValidationError(`${field}[${i}]`, `duplicate entry ${key(t)}`);
    seen.add(key(t));
    return t;
  });
}

function absolutePath(field: string, value: unknown): string {
  if (typeof value !== "string" || !PATH.test(value) || value.split("/").some((s) => s === "." || s === "..")) {
    throw new ProvisioningValidationError(field, `${JSON.stringify(value)} is not an absolute path (allowed: /segments of letters, digits, '.', '_', '@', '+', '-'; no '.' or '..' segments)`);
  }
  return value;
}

function unitName(item: unknown, field: string): string {
  if (typeof item !== "string" || !UNIT.test(item)) {
    throw new ProvisioningValidationError(field, `${JSON.stringify(item)} is not a systemd unit name (e.g. "epmd.socket", "app.service")`);
  }
  return item;
}

function userName(field: string, value: unknown): string {
  if (typeof value !== "string" || !USER.test(value) || value === "root") {
    throw new ProvisioningValidationError(field, `${JSON.stringify(value)} is not an unprivileged user name (a-z, 0-9, '_', '-'; not root)`);
  }
  return value;
}

export function resolveBootstrapExtras(o: BootstrapExtras): ResolvedBootstrapExtras {
  const extraPackages = list("extraPackages", o.extraPackages, (p, f) => {
    if (typeof p !== "string" || !PACKAGE.test(p)) {
      throw new ProvisioningValidationError(f, `${JSON.stringify(p)} is not a Debian package name (optionally NAME=VERSION)`);
    }
    return p;
  }, (p) => p.split("=")[0]);
  const maskUnits = list("maskUnits", o.maskUnits, unitName);
  const units = list("units", o.units, unitName);
  const clash = units.find((u) => maskUnits.includes(u));
  if (clash) throw new ProvisioningValidationError("units", `${clash} is also in maskUnits; a unit cannot be both started and masked`);
  const systemUsers = list(
    "systemUsers",
    o.systemUsers,
    (u, f) => {
      if (!u || typeof u !== "object") throw new ProvisioningValidationError(f, "must be { name, home }");
      const v = u as SystemUser;
      return { name: userName(`${f}.name`, v.name), home: absolutePath(`${f}.home`, v.home) };
    },
    (u) => u.name,
  );
  const files = list(
    "files",
    o.files,
    (x, f) => {
      if (!x || typeof x !== "object") throw new ProvisioningValidationError(f, "must be { path, mode, owner?, content }");
      const v = x as BootstrapFile;
      const path = absolutePath(`${f}.path`, v.path);
      if (typeof v.mode !== "string" || !MODE.test(v.mode)) {
        throw new ProvisioningValidationError(`${f}.mode`, `${JSON.stringify(v.mode)} is not an octal mode like "644" or "0400"`);
      }
      let owner = "";
      if (v.owner !== undefined) {
        const [user, group, more] = typeof v.owner === "string" ? v.owner.split(":") : [];
        if (more !== undefined || typeof v.owner !== "string") {
          throw new ProvisioningValidationError(`${f}.owner`, `${JSON.stringify(v.owner)} is not "user" or "user:group"`);
        }
        owner = `${userName(`${f}.owner`, user)}:${group === undefined ? user : userName(`${f}.owner`, group)}`;
      }
      if (typeof v.content !== "string") throw new ProvisioningValidationError(`${f}.content`, "must be a string");
      return { path, mode: v.mode.replace(/^0(?=[0-7]{3}$)/, ""), owner, content: v.content };
    },
    (x) => x.path,
  );
  return { extraPackages, maskUnits, systemUsers, files, units };
}

/** True when the options ask for anything beyond the base bootstrap. */
export function hasExtras(r: ResolvedBootstrapExtras): boolean {
  return r.maskUnits.length + r.systemUsers.length + r.files.length + r.units.length > 0;
}
