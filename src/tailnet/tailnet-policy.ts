/**
 * One tailnet policy per tailnet, composed from the user's base and every system's contribution,
 * in the manner of aws-cdk-lib's IAM policy documents: systems call `contribute()` (or the add…
 * helpers) and the document is rendered once, at synth.
 *
 * - managed: one `tailscale_acl` writes the composed policy. Stacks that mint keys for its tags
 *   depend on the stack that owns it (same stack: `depends_on`).
 * - external: the user keeps the policy elsewhere (GitOps). The stack writes what the systems need
 *   beside its cdk.tf.json, and every key carries a plan-time precondition (the `tailscale_acl` data
 *   source) that its tags are owned, with an error that says what to add.
 */
import * as fs from "fs";
import * as path from "path";
import { Annotations, ISynthesisSession, ITerraformDependable, Lazy, TerraformStack } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { Acl } from "../../.gen/providers/tailscale/acl";
import { DataTailscaleAcl } from "../../.gen/providers/tailscale/data-tailscale-acl";
import { escapeTerraformTemplate } from "../terraform/template";
import { fail, requireOneOf, requireTailscaleTag } from "../validation";
import { PolicyBase } from "./policy/base";
import { ComposedPolicy, PolicyContribution, SourcedContribution, composePolicy } from "./policy/compose";
import { HujsonEditor } from "./policy/hujson";
import { Grant, NodeAttr, PolicyTest, SshRule, SshTest } from "./policy/types";
import { tailscaleProvider } from "./provider";

export type PolicyMode = "managed" | "external";

export interface TailnetPolicyProps {
  /**
   * The tailnet this policy is for. An app has at most one TailnetPolicy per tailnet; give the
   * tailnet's name when one app manages several. @default "-" (the API key's own tailnet)
   */
  readonly tailnet?: string;
  /** Who writes the policy file. @default "managed" */
  readonly mode?: PolicyMode;
  /**
   * The user's own policy, kept verbatim (comments included); contributions are added to it.
   * @default PolicyBase.newTailnetDefault() in managed mode; PolicyBase.empty() in external mode
   */
  readonly base?: PolicyBase;
  /**
   * Let the first apply replace a policy that was edited by hand (managed mode). Off by default:
   * the provider then only writes over the untouched default policy and refuses otherwise. Put your
   * current policy in `base` before turning this on. @default false
   */
  readonly overwriteExistingPolicy?: boolean;
  /** When the base contradicts a system's isolation promise: "warn" (leave it out) or "fail". @default "warn" */
  readonly baseContradictions?: "warn" | "fail";
  /** Logical ID of the `tailscale_acl` resource. @default "policy" */
  readonly resourceName?: string;
}

/** External mode: the file synthesis writes beside the stack's cdk.tf.json. */
export const POLICY_FRAGMENT_FILE = "tailnet-policy.fragment.hujson";

/** What a key resource needs so that its tags are owned before it is minted. */
export interface KeyMintingGuard {
  readonly dependsOn?: ITerraformDependable[];
}

const registries = new WeakMap<IConstruct, Map<string, TailnetPolicy>>();

export class TailnetPolicy extends Construct {
  /** The app's policy for `tailnet`, if one was created. */
  static of(scope: IConstruct, tailnet = "-"): TailnetPolicy | undefined {
    return registries.get(scope.node.root)?.get(tailnet);
  }

  /**
   * The policy a system contributes to: the shared one it was given, or one of its own, created here
   * from props (the system then owns its tailnet's `tailscale_acl`, as `resourceName`).
   */
  static use(scope: Construct, id: string, given: TailnetPolicy | TailnetPolicyProps | undefined, resourceName: string): TailnetPolicy {
    return given instanceof TailnetPolicy ? given : new TailnetPolicy(scope, id, { resourceName, ...given });
  }

  /** What every policy of the app warns about (promises its base contradicts), for the synth command. */
  static warningsOf(scope: IConstruct): string[] {
    return [...(registries.get(scope.node.root)?.values() ?? [])].flatMap((p) => p.compose().warnings.map((w) => `tailnet policy "${p.tailnet}": ${w}`));
  }

  readonly tailnet: string;
  readonly mode: PolicyMode;
  readonly base: PolicyBase;
  /** The `tailscale_acl` (managed mode). Escape hatch. */
  readonly acl?: Acl;
  readonly fragmentFile: string;
  private readonly stack: TerraformStack;
  private readonly contributions: SourcedContribution[] = [];
  private readonly baseContradictions: "warn" | "fail";
  private composed?: ComposedPolicy;

  constructor(scope: Construct, id: string, props: TailnetPolicyProps = {}) {
    super(scope, id);
    this.tailnet = props.tailnet ?? "-";
    if (!/^(-|[A-Za-z0-9._@-]+)$/.test(this.tailnet)) fail("tailnetPolicy.tailnet", `${JSON.stringify(this.tailnet)} is not "-" or a tailnet name`);
    this.mode = requireOneOf("tailnetPolicy.mode", props.mode ?? "managed", ["managed", "external"] as const);
    this.baseContradictions = requireOneOf("tailnetPolicy.baseContradictions", props.baseContradictions ?? "warn", ["warn", "fail"] as const);
    this.base = props.base ?? (this.mode === "managed" ? PolicyBase.newTailnetDefault() : PolicyBase.empty());
    this.fragmentFile = POLICY_FRAGMENT_FILE;
    if (this.mode === "external" && props.overwriteExistingPolicy !== undefined) {
      fail("tailnetPolicy.overwriteExistingPolicy", "only applies to mode \"managed\" (in external mode nothing writes the policy)");
    }
    this.stack = TerraformStack.of(this);

    // One policy file per tailnet: a second writer would erase the first's rules on every apply.
    const root = this.node.root;
    const registry = registries.get(root) ?? new Map<string, TailnetPolicy>();
    registries.set(root, registry);
    const prior = registry.get(this.tailnet);
    if (prior) {
      fail(
        "tailnetPolicy",
        `${prior.node.path} and ${this.node.path} both hold the policy of tailnet "${this.tailnet}"; a tailnet has one policy file: create one TailnetPolicy and pass it to every system`,
      );
    }
    registry.set(this.tailnet, this);
    // Warnings (promises the base makes void) as cdktf annotations: the cdktf CLI prints them.
    this.node.addValidation({
      validate: () => {
        for (const w of this.compose().warnings) Annotations.of(this).addWarning(w);
        return [];
      },
    });

    if (this.mode === "managed") {
      tailscaleProvider(this);
      this.acl = new Acl(this, "acl", {
        acl: Lazy.stringValue({ produce: () => escapeTerraformTemplate(this.renderPolicy()) }),
        overwriteExistingContent: props.overwriteExistingPolicy ?? false,
      });
      this.acl.overrideLogicalId(props.resourceName ?? "policy");
    } else {
      this.writeBesideStack(this.stack, this.fragmentFile, () => this.renderFragment());
    }
  }

  /**
   * Adds a system's rules; `contributor` names it in conflicts. The policy is composed again at once,
   * so a conflict fails right here, at the contributing construct, not later at render.
   */
  contribute(contributor: IConstruct, contribution: PolicyContribution): void {
    if (this.composed) fail("tailnetPolicy", `${contributor.node.path} contributed after the policy was rendered`);
    this.contributions.push({ ...contribution, source: contributor.node.path });
    try {
      this.composeNow();
    } catch (e) {
      this.contributions.pop();
      throw e;
    }
  }

  addTagOwner(contributor: IConstruct, tag: string, owners: readonly string[]): void {
    requireTailscaleTag("tagOwners", tag);
    this.contribute(contributor, { tagOwners: { [tag]: owners } });
  }
  addGrant(contributor: IConstruct, grant: Grant): void {
    this.contribute(contributor, { grants: [grant] });
  }
  addSshRule(contributor: IConstruct, rule: SshRule): void {
    this.contribute(contributor, { ssh: [rule] });
  }
  addRouteApprover(contributor: IConstruct, cidr: string, approvers: readonly string[]): void {
    this.contribute(contributor, { autoApprovers: { routes: { [cidr]: approvers } } });
  }
  addExitNodeApprover(contributor: IConstruct, approvers: readonly string[]): void {
    this.contribute(contributor, { autoApprovers: { exitNode: approvers } });
  }
  addNodeAttr(contributor: IConstruct, nodeAttr: NodeAttr): void {
    this.contribute(contributor, { nodeAttrs: [nodeAttr] });
  }
  addTest(contributor: IConstruct, test: PolicyTest): void {
    this.contribute(contributor, { tests: [test] });
  }
  addSshTest(contributor: IConstruct, test: SshTest): void {
    this.contribute(contributor, { sshTests: [test] });
  }

  /**
   * Call from a construct that mints auth keys for `tags`: returns what its key resource needs so
   * the tags are owned first, and checks at synth that the composed policy owns them.
   */
  guardKeys(consumer: IConstruct, tags: readonly string[]): KeyMintingGuard {
    tags.forEach((t, i) => requireTailscaleTag(`tags[${i}]`, t));
    const owned = this.composeNow().value.tagOwners ?? {};
    const missing = tags.filter((t) => !(t in owned));
    if (missing.length) {
      fail(consumer.node.path, `mints keys for ${missing.join(", ")}, which the tailnet policy does not own; contribute a tagOwners entry before creating the keys`);
    }
    const consumerStack = TerraformStack.of(consumer);
    if (this.mode === "managed") {
      if (consumerStack === this.stack) return { dependsOn: [this.acl!] };
      consumerStack.addDependency(this.stack);
      return {};
    }
    // One check per stack, on the data source that reads the live policy: one clear error, not
    // one per key. Keys wait for it, so none is minted for an unowned tag.
    const check = policyCheck(consumerStack, this);
    check.tags.push(...tags.filter((t) => !check.tags.includes(t)));
    check.consumers.push(consumer.node.path);
    return { dependsOn: [check.data] };
  }

  /** The composed policy, final once rendered (no contribution is accepted after that). */
  compose(): ComposedPolicy {
    this.composed ??= this.composeNow();
    return this.composed;
  }

  private composeNow(): ComposedPolicy {
    return composePolicy(this.base, this.contributions, { baseContradictions: this.baseContradictions });
  }

  /** External mode: HuJSON with only what the systems add, to merge into the policy kept elsewhere. */
  renderFragment(): string {
    const c = this.compose();
    const editor = new HujsonEditor("{\n}\n");
    const a = c.additions;
    editor.addToObject(["tagOwners"], Object.entries(a.tagOwners ?? {}) as [string, string[]][]);
    editor.appendToArray(["grants"], a.grants ?? []);
    editor.appendToArray(["ssh"], a.ssh ?? []);
    editor.addToObject(["autoApprovers", "routes"], Object.entries(a.autoApprovers?.routes ?? {}) as [string, string[]][]);
    editor.appendToArray(["autoApprovers", "exitNode"], a.autoApprovers?.exitNode ?? []);
    editor.appendToArray(["nodeAttrs"], a.nodeAttrs ?? []);
    editor.appendToArray(["tests"], a.tests ?? []);
    editor.appendToArray(["sshTests"], a.sshTests ?? []);
    editor.prependComment([
      `What the systems need in the policy of tailnet "${this.tailnet}", which is kept outside this app.`,
      "Merge each entry into your policy file (sections with the same name), save it, then plan.",
      `Contributed by: ${c.contributors.join(", ") || "nothing"}.`,
      ...c.warnings.map((w) => `Note: ${w}`),
    ]);
    return editor.toString();
  }

  /** The text the `tailscale_acl` writes (managed mode), headed by where it comes from. */
  renderPolicy(): string {
    const c = this.compose();
    const editor = new HujsonEditor(c.text);
    editor.prependComment([
      `Written by Terraform (tailscale_acl.${this.acl?.friendlyUniqueId ?? "policy"} in stack ${this.stack.node.id}) from the ${c.contributors.length ? "" : "unchanged "}${this.base.source}`,
      c.contributors.length ? `and what these systems add after its own entries: ${c.contributors.join(", ")}.` : "(no system added anything).",
      "Edit the base and apply again; changes made here are replaced by the next apply.",
    ]);
    return editor.toString();
  }

  private writeBesideStack(stack: TerraformStack, file: string, render: () => string): void {
    const inner = stack.synthesizer;
    stack.synthesizer = {
      synthesize(session: ISynthesisSession): void {
        inner.synthesize(session);
        const dir = path.join(session.outdir, session.manifest.forStack(stack).workingDirectory);
        fs.writeFileSync(path.join(dir, file), render());
      },
    };
  }
}

interface PolicyCheck {
  readonly data: DataTailscaleAcl;
  readonly tags: string[];
  readonly consumers: string[];
}
const checks = new WeakMap<TerraformStack, PolicyCheck>();

/**
 * One `tailscale_acl` data source per stack (external mode): it reads the tailnet's current policy
 * at plan time, and its postcondition requires every tag the stack mints keys for to be owned.
 */
function policyCheck(stack: TerraformStack, policy: TailnetPolicy): PolicyCheck {
  const existing = checks.get(stack);
  if (existing) return existing;
  tailscaleProvider(stack);
  const tags: string[] = [];
  const consumers: string[] = [];
  const tagList = () => `[${tags.map((t) => JSON.stringify(t)).join(", ")}]`;
  const missing = () => `setsubtract(${tagList()}, keys(try(jsondecode(self.json).tagOwners, {})))`;
  const data = new DataTailscaleAcl(stack, "tailnet-policy-check", {
    lifecycle: {
      postcondition: [
        {
          condition: Lazy.stringValue({ produce: () => `\${length(${missing()}) == 0}` }),
          errorMessage: Lazy.stringValue({
            produce: () =>
              `The tailnet policy does not own \${join(", ", ${missing()})}, which ${consumers.join(", ")} mint${consumers.length === 1 ? "s" : ""} auth keys for. ` +
              `Add them to its tagOwners (stacks/${TerraformStack.of(policy).node.id}/${policy.fragmentFile} in the synth output lists every entry the systems need), save the policy, and plan again.`,
          }),
        },
      ],
    },
  });
  data.overrideLogicalId("tailnet_policy");
  const check = { data, tags, consumers };
  checks.set(stack, check);
  return check;
}
