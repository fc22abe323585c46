/**
 * Validation for provisioning inputs. Every error names the option field and says what is allowed,
 * and never echoes a secret value back.
 */

import {
  HOSTNAME_PATTERN,
  HOSTNAME_RULE,
  TAG_PATTERN,
  TAG_RULE,
  ValidationError,
  parseCidr,
  requireIntegerInRange,
  requireOneOf,
} from "../../validation";

const ProvisioningValidationError = ValidationError;

/** Provisioning errors are the project's ValidationError: `field` names the option, e.g. `advertiseTags[1]`. */
export { ValidationError as ProvisioningValidationError };

/** RFC 1123 label, lower case (Tailscale lower-cases names anyway; we refuse rather than surprise). */
export function validateHostname(field: string, value: unknown): string {
  if (typeof value !== "string" || !HOSTNAME_PATTERN.test(value)) {
    throw new ProvisioningValidationError(field, `${JSON.stringify(value)} is not a valid RFC 1123 label (allowed: ${HOSTNAME_RULE})`);
  }
  return value;
}

/** ACL tags as `tailscale up --advertise-tags` accepts them: `tag:` then a letter, then letters/digits/'-'. */
export function validateTags(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new ProvisioningValidationError(field, "must be an array of tags like \"tag:mesh\" (may be empty)");
  }
  const seen = new Set<string>();
  value.forEach((tag, i) => {
    if (typeof tag !== "string" || !TAG_PATTERN.test(tag)) {
      throw new ProvisioningValidationError(`${field}[${i}]`, `${JSON.stringify(tag)} is not a valid tag (allowed: ${TAG_RULE})`);
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

export const validateIntegerRange = requireIntegerInRange;
export const validateOneOf = requireOneOf;

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
    const asHost = parseCidr(`${addr}/${addr.includes(":") ? 128 : 32}`);
    if (!asHost) bad("does not start with a valid IPv4 or IPv6 address");
    const width = asHost!.version === 4 ? 32 : 128;
    if (len < 1 || len > width) {
      bad(`has an IPv${asHost!.version} prefix length outside 1-${width} (use an exit node for /0)`);
    }
    if (!parseCidr(cidr as string)) {
      const net = asHost!.bits & ~((1n << BigInt(width - len)) - 1n);
      bad(
        asHost!.version === 4
          ? `has host bits set (did you mean "${[24n, 16n, 8n, 0n].map((sh) => (net >> sh) & 255n).join(".")}/${len}"?)`
          : "has host bits set below the prefix length",
      );
    }
    if (seen.has(cidr as string)) bad("is listed twice");
    seen.add(cidr as string);
  });
  return [...value] as string[];
}

/** Unprivileged local user names: a letter or underscore, then up to 31 of a-z, 0-9, '_' and '-'; not root. */
export function validateLocalUsers(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw new ProvisioningValidationError(field, "must be an array of user names");
  const seen = new Set<string>();
  value.forEach((u, i) => {
    if (typeof u !== "string" || !/^[a-z_][a-z0-9_-]{0,31}$/.test(u) || u === "root") {
      throw new ProvisioningValidationError(`${field}[${i}]`, `${JSON.stringify(u)} is not an unprivileged user name (a-z, 0-9, '_', '-'; not root)`);
    }
    if (seen.has(u)) throw new ProvisioningValidationError(`${field}[${i}]`, `duplicate user ${u}`);
    seen.add(u);
  });
  return [...value] as string[];
}
