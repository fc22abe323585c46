/**
 * Connection settings as they may appear in an error line: a URL or a libpq connection string with
 * its credentials taken out. An error that echoes what the user gave must not print the secret the
 * user put in the wrong place.
 */

/**
 * Parameter names that carry a secret, in a URL query or a libpq `key=value` string: libpq's
 * `password`, `sslpassword`, `oauth_client_secret`, `scram_client_key`, `scram_server_key`, and
 * anything named like a password, secret, token, credential or signature (S3 presigned URLs carry
 * `X-Amz-Signature` and `X-Amz-Credential`).
 */
export const SECRET_PARAM = /pass|secret|token|credential|signature|scram|^sig$|^key$|apikey|api_key|auth/i;

export const HIDDEN = "(hidden)";

/** `text` with userinfo and secret-looking parameter values replaced by (hidden); never throws. */
export function redactConnection(text: string): string {
  if (typeof text !== "string") return String(text);
  let out = text;
  // userinfo of any scheme://user:pass@host, parseable or not.
  out = out.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#\s@]*@/g, `$1${HIDDEN}@`);
  // Secret-looking query parameters (?password=…, &X-Amz-Signature=…), in any encoding of the name.
  out = out.replace(/([?&;])([^=&#\s]*)=([^&#\s]*)/g, (m, sep: string, name: string) => (SECRET_PARAM.test(safeDecode(name)) ? `${sep}${name}=${HIDDEN}` : m));
  // libpq key=value pairs, quoted or not.
  out = out.replace(/(^|\s)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)/g, (m, lead: string, name: string, eq: string) =>
    SECRET_PARAM.test(name) ? `${lead}${name}${eq}${HIDDEN}` : m,
  );
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** A connection setting for a one-line message: redacted, JSON-quoted, shortened. */
export function showConnection(text: unknown, max = 120): string {
  const shown = JSON.stringify(redactConnection(typeof text === "string" ? text : String(text)));
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown;
}
