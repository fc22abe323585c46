/**
 * Resources that used to be one for_each resource over every node (`<type>.<name>["<node>"]`) and
 * are now one per group of nodes (`<type>.<name>_<group>["<node>"]`). A state written by the old
 * layout must never be planned as "destroy every node, create every node", so each such resource
 * says what to do with old addresses:
 *
 * - `"guard"` (default): an inert resource at the old address, for_each over nothing, with
 *   `prevent_destroy`. With a new state it plans nothing and costs nothing; with an old state the
 *   plan stops at once ("Instance cannot be destroyed: <type>.<name>["<node>"]") before anything
 *   is changed. Then synthesize once with "move", apply, and go back to the default.
 * - `"move"`: a `moved` block per node, so the plan moves every object to its new address and
 *   changes nothing. Terraform checks moved blocks pairwise (O(N²) per plan), so they are meant for
 *   the one apply that migrates a state, not to stay.
 * - `"off"`: neither (a stack that never had the old layout).
 */
import { TerraformElement, TerraformIterator, TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { requireOneOf } from "../validation";
import { UNGROUPED_ADDRESS_MODES, UngroupedAddresses } from "./ungrouped-addresses";

export { guardHint, UNGROUPED_ADDRESS_MODES, UNGROUPED_ADDRESSES_ENV, ungroupedAddressesFromEnv, ungroupedGuards } from "./ungrouped-addresses";
export type { UngroupedAddresses } from "./ungrouped-addresses";

export interface RegroupedResourceProps {
  /** Resource type, e.g. `linode_instance`. */
  readonly type: string;
  /** Its name in the old layout, e.g. `node`. */
  readonly oldName: string;
  /** Every node's key (the for_each key, in both layouts) and the name of its new resource. */
  readonly moves: readonly { readonly key: string; readonly toName: string }[];
  /** @default "guard" */
  readonly mode?: UngroupedAddresses;
  /** Field named in errors. @default "ungroupedAddresses" */
  readonly field?: string;
  /**
   * Arguments the guard needs to pass validation (the type's required arguments), e.g. a region.
   * Never planned: the guard has no instance. @default none
   */
  readonly guardArguments?: Readonly<Record<string, unknown>>;
}

/** `moved` blocks, rendered as one list; cdktf concatenates lists from several elements. */
class MovedStatements extends TerraformElement {
  constructor(
    scope: Construct,
    id: string,
    private readonly statements: readonly { from: string; to: string }[],
  ) {
    super(scope, id);
  }

  toTerraform(): Record<string, unknown> {
    return { moved: this.statements.map((s) => ({ ...s })) };
  }

  toHclTerraform(): Record<string, unknown> {
    return this.toTerraform();
  }
}

/** What to do with one resource's old addresses (see the module comment). */
export class RegroupedResource extends Construct {
  /** The guard resource (mode "guard"), an escape hatch. */
  public readonly guard?: TerraformResource;
  public readonly mode: UngroupedAddresses;

  constructor(scope: Construct, id: string, props: RegroupedResourceProps) {
    super(scope, id);
    const field = props.field ?? "ungroupedAddresses";
    this.mode = requireOneOf(field, props.mode ?? "guard", UNGROUPED_ADDRESS_MODES);
    if (this.mode === "move") {
      const q = (k: string) => JSON.stringify(k);
      new MovedStatements(
        this,
        "moved",
        props.moves.map((m) => ({ from: `${props.type}.${props.oldName}[${q(m.key)}]`, to: `${props.type}.${m.toName}[${q(m.key)}]` })),
      );
    } else if (this.mode === "guard") {
      if (props.moves.some((m) => m.toName === props.oldName)) throw new Error(`RegroupedResource: ${props.type}.${props.oldName} is still in use`);
      const guard = new TerraformResource(this, "guard", { terraformResourceType: props.type });
      guard.overrideLogicalId(props.oldName);
      for (const [k, v] of Object.entries(props.guardArguments ?? {})) guard.addOverride(k, v);
      guard.addOverride("for_each", {});
      guard.addOverride("lifecycle", { prevent_destroy: true });
      this.guard = guard;
    }
  }
}

/** Nodes in groups, each with the iterator its for_each resources use (NodeMap is one). */
export interface GroupedNodes {
  readonly groups: readonly {
    readonly id: string;
    readonly iterator: TerraformIterator;
    readonly nodes: readonly { readonly name: string }[];
  }[];
}

/** Logical ID of a per-group resource: `<base>_<group id>`. */
export function groupResourceName(base: string, groupId: string): string {
  return `${base}_${groupId}`;
}

/** For RegroupedResource: each node's key and the name of its group's `<base>_<group>` resource. */
export function groupMoves(nodes: GroupedNodes, base: string): { key: string; toName: string }[] {
  return nodes.groups.flatMap((g) => g.nodes.map((n) => ({ key: n.name, toName: groupResourceName(base, g.id) })));
}
