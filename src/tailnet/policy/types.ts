/**
 * The parts of a Tailscale policy file that systems contribute to. Field names are Tailscale's
 * (https://tailscale.com/kb/1337/policy-syntax); anything else in a user's file is kept untouched.
 */

/**
 * A grant: `src` may reach `dst` on the `ip` protocols and ports (e.g. "tcp:22", "*"), and/or holds
 * the application capabilities in `app` towards `dst` (e.g. `tailscale.com/cap/relay`: src may use
 * dst as a peer relay). Tailscale needs at least one of the two.
 */
export type Grant =
  | { readonly src: readonly string[]; readonly dst: readonly string[]; readonly ip: readonly string[]; readonly app?: GrantApp }
  | { readonly src: readonly string[]; readonly dst: readonly string[]; readonly ip?: undefined; readonly app: GrantApp };

/** Application capabilities of a grant: capability name → its parameters (often none: `[]`). */
export type GrantApp = Readonly<Record<string, readonly unknown[]>>;

/** A Tailscale SSH rule. `check` asks for a recent browser re-authentication; `accept` does not. */
export interface SshRule {
  readonly action: "accept" | "check";
  readonly src: readonly string[];
  readonly dst: readonly string[];
  readonly users: readonly string[];
  readonly checkPeriod?: string;
}

/** A node attribute assignment (`nodeAttrs` entry). */
export interface NodeAttr {
  readonly target: readonly string[];
  readonly attr: readonly string[];
}

/**
 * A policy test: connections from `src` that must be allowed (`accept`) or refused (`deny`),
 * each written `destination:port`. Tailscale evaluates every test on each save of the policy.
 */
export interface PolicyTest {
  readonly src: string;
  readonly proto?: string;
  readonly accept?: readonly string[];
  readonly deny?: readonly string[];
}

/** A Tailscale SSH test: as which local users `src` may (`accept`, `check`) or may not log in on `dst`. */
export interface SshTest {
  readonly src: string;
  readonly dst: readonly string[];
  readonly accept?: readonly string[];
  readonly check?: readonly string[];
  readonly deny?: readonly string[];
}

/** The policy document as far as this project reads or writes it. */
export interface PolicyObject {
  groups?: Record<string, string[]>;
  hosts?: Record<string, string>;
  tagOwners?: Record<string, string[]>;
  acls?: { action: string; src: string[]; dst: string[]; proto?: string }[];
  grants?: Grant[];
  ssh?: SshRule[];
  autoApprovers?: { routes?: Record<string, string[]>; exitNode?: string[] };
  nodeAttrs?: NodeAttr[];
  tests?: PolicyTest[];
  sshTests?: SshTest[];
  [key: string]: unknown;
}
