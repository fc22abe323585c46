/**
 * The modes for states from the layout before per-node resources were grouped (see regrouping.ts),
 * and how a plan stopped by a guard is recognised. No cdktf here: the offline harness reads it.
 */
import { requireOneOf } from "../validation";

export type UngroupedAddresses = "guard" | "move" | "off";

export const UNGROUPED_ADDRESS_MODES = ["guard", "move", "off"] as const;

/** The environment variable `npm run synth` reads the mode of the app's stacks from. */
export const UNGROUPED_ADDRESSES_ENV = "TAILNET_UNGROUPED_ADDRESSES";

/** The mode from TAILNET_UNGROUPED_ADDRESSES; unset is the default ("guard"). */
export function ungroupedAddressesFromEnv(env: NodeJS.ProcessEnv): UngroupedAddresses | undefined {
  const v = env[UNGROUPED_ADDRESSES_ENV];
  return v === undefined || v === "" ? undefined : requireOneOf(UNGROUPED_ADDRESSES_ENV, v, UNGROUPED_ADDRESS_MODES);
}

/** The guards in a synthesized config: `<type>.<name>` blocks for_each over nothing with prevent_destroy. */
export function ungroupedGuards(config: { resource?: Record<string, Record<string, Record<string, unknown>>> }): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries(config.resource ?? {})) {
    for (const [name, block] of Object.entries(byName)) {
      const fe = block.for_each;
      const lc = block.lifecycle as { prevent_destroy?: unknown } | undefined;
      if (fe && typeof fe === "object" && Object.keys(fe).length === 0 && lc?.prevent_destroy === true) out.push(`${type}.${name}`);
    }
  }
  return out;
}

/**
 * What a failed plan means when a guard stopped it: the state holds nodes at the old addresses.
 * Undefined when no guard is named in `errors`.
 */
export function guardHint(config: Parameters<typeof ungroupedGuards>[0], errors: string): string | undefined {
  const hit = ungroupedGuards(config).filter((g) => errors.includes(`${g}[`));
  if (hit.length === 0) return undefined;
  return (
    `${hit.join(", ")}: the state holds nodes at the addresses of the layout with one resource for all nodes; nothing was changed. ` +
    `Synthesize once with ${UNGROUPED_ADDRESSES_ENV}=move (or ungroupedAddresses: "move"), plan (every node moves, none is replaced) and apply, then synthesize again without it.`
  );
}
