/**
 * Secrets as references. A construct that needs a secret (an auth key, a root password, an SSH
 * private key, a cookie) takes a `Secret`, never a string: a Secret can only be made from a sensitive
 * Terraform variable without a default or from a reference to what a resource makes
 * (`${random_password.x.result}`), so the value itself never reaches the synthesized JSON. The check
 * runs at run time too (`requireSecret`), since JavaScript callers and `as any` bypass the types.
 */
import { DefaultTokenResolver, StringConcat, TerraformLocal, TerraformResource, TerraformVariable, Tokenization } from "cdktf";
import { Construct } from "constructs";
import { fail } from "../validation";

/** Marks Secrets made by any copy of this module (a second copy of the project in one process). */
const BRAND: unique symbol = Symbol.for("linode-tailnet-cdktf.Secret");
/** Marks PerNodeSecrets the same way. */
const BRAND_PER_NODE: unique symbol = Symbol.for("linode-tailnet-cdktf.PerNodeSecret");

/**
 * A resource attribute reference as Terraform writes it: `${<type>.<name>[<key>].<attr>...}` or the
 * same under `data.`. Nothing else: no function call, no quoted literal, no `local.`/`each.`/`self.`
 * value (which may hold literal text), no `var.` (Secret.fromVariable checks that it is sensitive).
 */
const RESOURCE_REFERENCE =
  /^\$\{(?:data\.)?(?!(?:var|local|each|self|path|terraform|count|module)\.)[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*(?:\[(?:each\.key|\d+)\])?(?:\.[A-Za-z_][A-Za-z0-9_]*)+\}$/;

/** A cdktf token standing for a variable's value (older Secrets held one). */
const TOKEN = /^\$\{TfToken\[TOKEN\.\d+\]\}$/;

/** A variable's value as Terraform writes it; only Secret.fromVariable makes one (it checks the variable). */
const VARIABLE_REFERENCE = /^\$\{var\.[A-Za-z_][A-Za-z0-9_-]*\}$/;

/**
 * Expressions made by Secret.fromEachAttribute: a local that this module itself filled from a
 * resource's attribute. A `local.` expression is trusted only when it is one of these.
 */
const PER_KEY_LOCALS = new Set<string>();

const HOW = 'a Secret from a sensitive variable (Secret.fromVariable) or a resource attribute (Secret.fromAttribute, or Secret.fromReference("${random_password.x.result}"))';

export class Secret {
  /** The value of a sensitive variable without a default (TF_VAR_<name> at plan time). */
  static fromVariable(variable: TerraformVariable, field = "secret"): Secret {
    if (!(variable instanceof TerraformVariable)) fail(field, `is not a Terraform variable; a secret must be ${HOW} (value not shown)`);
    const name = variable.friendlyUniqueId;
    if (variable.sensitive !== true) {
      fail(field, `variable ${name} is not sensitive: declare it with sensitive: true, or Terraform prints its value in plans and logs`);
    }
    // A default is written to the JSON; only null (Token.nullValue(): "use ssh-agent") is no value.
    if (variable.default !== undefined && !isNullToken(variable)) {
      fail(field, `variable ${name} has a default, which would be written to the synthesized JSON: give it none (value not shown)`);
    }
    // As text, not a cdktf token: a secret often goes inside a larger expression (a template slot),
    // where cdktf would resolve a token wrongly.
    return new Secret(`\${var.${name}}`, `var.${name}`);
  }

  /** An attribute of a resource in this configuration, e.g. a random_password's `result`. */
  static fromAttribute(resource: TerraformResource, attribute: string, field = "secret"): Secret {
    if (!(resource instanceof TerraformResource)) fail(field, `is not a Terraform resource; a secret must be ${HOW} (value not shown)`);
    return Secret.fromReference(`\${${resource.terraformResourceType}.${resource.friendlyUniqueId}.${attribute}}`, field);
  }

  /**
   * A reference written out: `${<type>.<name>.<attr>}`, `${<type>.<name>[each.key].<attr>}` or
   * `${data.<type>.<name>.<attr>}`; anything else (literal text, a function of literals) is refused.
   */
  static fromReference(expression: string, field = "secret"): Secret {
    if (typeof expression !== "string" || !RESOURCE_REFERENCE.test(expression)) {
      fail(field, `is not a reference to a resource attribute ("\${<type>.<name>.<attribute>}"); a secret must be ${HOW}, never literal text (value not shown)`);
    }
    return new Secret(expression, expression.slice(2, -1));
  }

  /**
   * Each instance's `attribute` of a for_each resource, for a resource iterating over the same keys:
   * `${local.<localName>[each.key]}`, read from one map (`{ for k, v in <type>.<name> : k => v.<attr> }`)
   * built once. Referencing `<type>.<name>[each.key]` instead makes Terraform 1.11 build the whole
   * resource for every instance that reads it (hashicorp/terraform#26355): O(N²) in plan.
   */
  static fromEachAttribute(scope: Construct, id: string, resource: { type: string; name: string }, attribute: string, localName: string, field = "secret"): Secret {
    const source = `\${${resource.type}.${resource.name}[each.key].${attribute}}`;
    if (!RESOURCE_REFERENCE.test(source)) fail(field, `is not a reference to a resource attribute (${resource.type}.${resource.name}.${attribute})`);
    if (!/^[a-z][a-z0-9_]*$/.test(localName)) fail(field, `local name ${JSON.stringify(localName)} must be a Terraform identifier`);
    new TerraformLocal(scope, id, `\${{ for k, v in ${resource.type}.${resource.name} : k => v.${attribute} }}`).overrideLogicalId(localName);
    const expression = `\${local.${localName}[each.key]}`;
    PER_KEY_LOCALS.add(expression);
    return new Secret(expression, `${resource.type}.${resource.name}[each.key].${attribute}`);
  }

  // Read by isSecret through the symbol.
  // eslint-disable-next-line no-unused-private-class-members
  protected readonly [BRAND] = true;

  private constructor(
    /** What goes in the configuration: a reference, never the value. */
    public readonly expression: string,
    /** The reference, for messages (`var.x`, `random_password.y.result`). */
    public readonly source: string,
  ) {
    Object.freeze(this);
  }

  /** The reference (never a value), so a Secret in a template string stays a reference. */
  toString(): string {
    return this.expression;
  }

  toJSON(): string {
    return this.expression;
  }
}

/** A default of Token.nullValue() ("no value: use ssh-agent"), which resolves to null. */
function isNullToken(variable: TerraformVariable): boolean {
  const d: unknown = variable.default;
  if (d === null) return true;
  if (!Tokenization.isResolvable(d)) return false;
  try {
    return Tokenization.resolve(d, { scope: variable, resolver: new DefaultTokenResolver(new StringConcat()) }) === null;
  } catch {
    return false;
  }
}

/** True for a Secret made by this or another copy of this module. */
export function isSecret(value: unknown): value is Secret {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * The expression of a secret prop, checked at run time: a string (a literal key, a password typed
 * in) or anything else not made by Secret fails naming the field, without showing the value.
 */
export function requireSecret(field: string, value: unknown): string {
  // The brand is shared across copies (Symbol.for), so it can be forged: the expression must still
  // be a reference or a variable's token, whatever object carries it.
  const expression = isSecret(value) ? (value as { expression?: unknown }).expression : undefined;
  const trusted =
    typeof expression === "string" &&
    (RESOURCE_REFERENCE.test(expression) || TOKEN.test(expression) || VARIABLE_REFERENCE.test(expression) || PER_KEY_LOCALS.has(expression));
  if (!trusted) {
    const kind = typeof value === "string" ? "literal text" : value === null ? "null" : typeof value;
    fail(field, `is ${kind}, not a Secret: a secret must be ${HOW}, so its value never lands in the synthesized JSON (value not shown)`);
  }
  return expression;
}

/** Like requireSecret, for an optional prop. */
export function optionalSecret(field: string, value: unknown): string | undefined {
  return value === undefined ? undefined : requireSecret(field, value);
}

/**
 * A secret with its own value on every node, for nodes kept in groups (one for_each resource per
 * group, see NodeMap): a Secret per group, each valid inside a resource iterating over that group.
 * Made with PerNodeSecret.fromEachAttribute; a plain Secret stands for the same value on every node.
 */
export class PerNodeSecret {
  /**
   * `attribute` of the per-group for_each resources `<type>.<resourceName(group)>`, each group read
   * through a map of its own built once (Secret.fromEachAttribute): a node never depends on the
   * resources of another group, so planning stays linear in the number of nodes.
   */
  static fromEachAttribute(
    scope: Construct,
    id: string,
    groups: readonly { readonly id: string }[],
    resource: { type: string; name: (groupId: string) => string },
    attribute: string,
    localName: (groupId: string) => string,
    field = "secret",
  ): PerNodeSecret {
    const byGroup = new Map<string, Secret>();
    for (const g of groups) {
      byGroup.set(g.id, Secret.fromEachAttribute(scope, `${id}-${g.id}`, { type: resource.type, name: resource.name(g.id) }, attribute, localName(g.id), field));
    }
    return new PerNodeSecret(byGroup, `${resource.type}.${resource.name("<group>")}[each.key].${attribute}`);
  }

  // Read by isPerNodeSecret through the symbol.
  // eslint-disable-next-line no-unused-private-class-members
  protected readonly [BRAND_PER_NODE] = true;

  private constructor(
    private readonly byGroup: ReadonlyMap<string, Secret>,
    /** What it reads, for messages. */
    public readonly source: string,
  ) {
    Object.freeze(this);
  }

  /** Group IDs it has a value for. */
  get groups(): string[] {
    return [...this.byGroup.keys()];
  }

  /** The Secret for the nodes of one group; fails naming `field` when the group is not covered. */
  forGroup(groupId: string, field = "secret"): Secret {
    const s = this.byGroup.get(groupId);
    if (!s) fail(field, `has no value for node group ${JSON.stringify(groupId)} (it covers: ${this.groups.join(", ") || "none"}); make it from the same node map`);
    return s;
  }
}


export function isPerNodeSecret(value: unknown): value is PerNodeSecret {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND_PER_NODE] === true;
}

/** A secret that may differ per node: the same Secret everywhere, or one per group of nodes. */
export type NodeSecret = Secret | PerNodeSecret;

/** The expression of a per-node secret prop for the nodes of one group, checked like requireSecret. */
export function requireNodeSecret(field: string, value: unknown, groupId: string): string {
  if (!isPerNodeSecret(value)) return requireSecret(field, value);
  // The brand can be forged (Symbol.for): what it hands out is checked like any Secret.
  const forGroup = (value as { forGroup?: unknown }).forGroup;
  if (typeof forGroup !== "function") return requireSecret(field, undefined);
  return requireSecret(field, forGroup.call(value, groupId, field));
}
