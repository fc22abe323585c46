/**
 * Per-node resources are one for_each resource per region group (`<type>.<base>_<group>`, see
 * NodeMap); tests read them back here. The guard at the old address `<type>.<base>` (for_each over
 * nothing) is not a group.
 */
type Blocks = Record<string, Record<string, any>>;

/** `{ us_ord: block, ... }` of `<type>.<base>_<group>` in a synthesized stack. */
export function groupBlocks(doc: { resource?: Record<string, Blocks> }, type: string, base: string): Record<string, any> {
  const byName = doc.resource?.[type] ?? {};
  return Object.fromEntries(
    Object.entries(byName)
      .filter(([name]) => name.startsWith(`${base}_`) && /^[a-z0-9_]+$/.test(name.slice(base.length + 1)))
      .map(([name, block]) => [name.slice(base.length + 1), block]),
  );
}

/** The one group's block, for stacks whose nodes are all in one region; fails otherwise. */
export function onlyGroup(doc: { resource?: Record<string, Blocks> }, type: string, base: string): any {
  const groups = Object.values(groupBlocks(doc, type, base));
  if (groups.length !== 1) throw new Error(`expected one ${type}.${base}_<group>, found ${groups.length}`);
  return groups[0];
}

/** Every node of a grouped stack: name, region and group, read from the groups' locals (`<base>_<group>`). */
export function groupedNodes(doc: { resource?: Record<string, Blocks>; locals?: Record<string, any> }, base: string): { name: string; region: string; group: string }[] {
  return Object.keys(groupBlocks(doc, "linode_instance", base)).flatMap((group) =>
    Object.entries<string>(doc.locals?.[`${base}_${group}`] ?? {}).map(([name, region]) => ({ name, region, group })),
  );
}
