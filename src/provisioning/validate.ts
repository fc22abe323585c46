/**
 * Validation for provisioning inputs. Every error names the option field and says what is allowed,
 * and never echoes a secret value back.
 */

import { isIPv4, isIPv6 } from "net";

/** Thrown for an option value the renderers refuse; `field` is the option's path, e.g. `advertiseTags[1]`. */
export class ProvisioningValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "ProvisioningValidationError";
  }
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** RFC 1123 label, lower case (Tailscale lower-cases names anyway; we refuse rather than surprise). */
export function validateHostname(field: string, value: unknown): string {
  if (typeof value !== "string" || !LABEL.test(value)) {
    throw new ProvisioningValidationError(
      field,
      `${JSON.stringify(value)} is not a valid RFC 1123 label ` +
        "(allowed: 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-')",
    );
  }
  return value;
}

const TAG = /^tag:[a-z][a-z0-9-]{0,62}$/;

/** ACL tags as `tailscale up --advertise-tags` accepts them: `tag:` then a letter, then letters/digits/'-'. */
export function validateTags(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new ProvisioningValidationError(field, "must be an array of tags like \"tag:mesh\" (may be empty)");
  }
  const seen = new Set<string>();
  value.forEach((tag, i) => {
    if (typeof tag !== "string" || !TAG.test(tag)) {
      throw new ProvisioningValidationError(
        `${field}[${i}]`,
        `${JSON.stringify(tag)} is not a valid tag (allowed: "tag:" followed by a lower-case letter, ` +
          "then up to 62 of a-z, 0-9 and '-')",
      );
    }
    if (seen.has(tag)) throw new ProvisioningValidationError(`${field}[${i}]`, `duplicate tag ${tag}`);
    seen.add(tag);
  });
  return [...value] as string[];
}

/**
 * The key ends up verbatim inside a single-quoted heredoc, so anything that could end the heredoc or
 * change how the line reads is refused. The message never contains the key.
 */
export function validateAuthKey(field: string, value: unknown, heredocDelimiter: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ProvisioningValidationError(field, "must be a non-empty string (a Tailscale auth key)");
  }
  if (value.includes("'")) {
    throw new ProvisioningValidationError(field, "must not contain a single quote (')");
  }
  if (/[\r\n]/.test(value)) {
    throw new ProvisioningValidationError(field, "must not contain a newline or carriage return");
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\s]/.test(value)) {
    throw new ProvisioningValidationError(field, "must not contain whitespace or control characters");
  }
  if (value === heredocDelimiter) {
    throw new ProvisioningValidationError(field, "must not equal the script's heredoc delimiter");
  }
  return value;
}

const VERSION = /^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,6}$/;

/** Tailscale's Debian package versions are plain `MAJOR.MINOR.PATCH`, e.g. 1.90.6. */
export function validateTailscaleVersion(field: string, value: unknown): string {
  if (typeof value !== "string" || !VERSION.test(value)) {
    throw new ProvisioningValidationError(
      field,
      `${JSON.stringify(value)} is not a Tailscale package version (allowed: MAJOR.MINOR.PATCH digits, e.g. "1.90.6")`,
    );
  }
  return value;
}

export function validatePort(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ProvisioningValidationError(field, `${JSON.stringify(value)} is not a TCP port (allowed: integer 1-65535)`);
  }
  return value;
}

export function validateIntegerRange(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ProvisioningValidationError(field, `${JSON.stringify(value)} is out of range (allowed: integer ${min}-${max})`);
  }
  return value;
}

export function validateOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new ProvisioningValidationError(
      field,
      `${JSON.stringify(value)} is not allowed (allowed: ${allowed.map((a) => JSON.stringify(a)).join(", ")})`,
    );
  }
  return value as T;
}

/** Parses an IPv6 address (already checked by net.isIPv6) into its 128-bit value. */
function ipv6ToBigInt(addr: string): bigint {
  let text = addr;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hextets.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const o = dotted[1].split(".").map(Number);
    text = text.slice(0, dotted.index) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const headParts = head ? head.split(":") : [];
  const tailParts = tail === undefined ? [] : tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : new Array(8 - headParts.length - tailParts.length).fill("0");
  return [...headParts, ...fill, ...tailParts].reduce((acc, h) => (acc << 16n) | BigInt(parseInt(h, 16)), 0n);
}

/**
 * CIDRs for `--advertise-routes`. Tailscale refuses prefixes with host bits set, and /0 means
 * "exit node", which is a different feature, so both are refused here with the canonical form.
 */
export function validateCidrs(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new ProvisioningValidationError(field, "must be an array of CIDR strings like \"10.0.0.0/16\"");
  }
  const seen = new Set<string>();
  value.forEach((cidr, i) => {
    const f = `${field}[${i}]`;
    const bad = (why: string): never => {
      throw new ProvisioningValidationError(f, `${JSON.stringify(cidr)} ${why}`);
    };
    if (typeof cidr !== "string") bad("is not a CIDR string (allowed: \"a.b.c.d/n\" or an IPv6 prefix)");
    const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr as string);
    if (!m) bad("is not a CIDR (allowed: \"a.b.c.d/n\" with n 1-32, or IPv6 \"x::/n\" with n 1-128)");
    const [, addr, lenText] = m as RegExpExecArray;
    const len = Number(lenText);
    if (isIPv4(addr) && !/(^|\.)0\d/.test(addr)) {
      if (len < 1 || len > 32) bad("has an IPv4 prefix length outside 1-32 (use an exit node for /0)");
      const value32 = addr.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
      const hostBits = len === 32 ? 0 : value32 % 2 ** (32 - len);
      if (hostBits !== 0) {
        const net = value32 - hostBits;
        const canon = [24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join(".");
        bad(`has host bits set (did you mean "${canon}/${len}"?)`);
      }
    } else if (isIPv6(addr)) {
      if (len < 1 || len > 128) bad("has an IPv6 prefix length outside 1-128 (use an exit node for ::/0)");
      const v = ipv6ToBigInt(addr);
      const mask = (1n << BigInt(128 - len)) - 1n;
      if ((v & mask) !== 0n) bad("has host bits set below the prefix length");
    } else {
      bad("does not start with a valid IPv4 or IPv6 address");
    }
    if (seen.has(cidr as string)) bad("is listed twice");
    seen.add(cidr as string);
  });
  return [...value] as string[];
}
