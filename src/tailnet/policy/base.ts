/**
 * Where the user's own policy (the base of the composed one) comes from: a HuJSON file, an object,
 * or the policy a new tailnet starts with.
 */
import { readFileSync } from "fs";
import { basename } from "path";
import { fail } from "../../validation";
import { BasePolicy } from "./compose";

/**
 * What a new tailnet starts with: every device reaches every other, and members use Tailscale SSH
 * on their own devices after a browser check. The example app's tailnet-policy.hujson starts equal
 * to this (a test keeps them equal).
 */
export const NEW_TAILNET_POLICY = `{
	"grants": [
		// Every device of the tailnet may reach every other.
		{"src": ["*"], "dst": ["*"], "ip": ["*"]},
	],
	"ssh": [
		// Members may SSH into their own devices after a browser check.
		{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["autogroup:nonroot", "root"]},
	],
}
`;

export class PolicyBase implements BasePolicy {
  /** The user's policy file (HuJSON or JSON), read now. Only the file's name appears in messages. */
  static fromFile(file: string): PolicyBase {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      fail("tailnetPolicy.base", `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return new PolicyBase(text, `base policy (${basename(file)})`);
  }

  /** A policy given as an object (rendered as JSON, two-space indent). */
  static fromObject(policy: Record<string, unknown>, name = "object"): PolicyBase {
    if (!policy || typeof policy !== "object" || Array.isArray(policy)) fail("tailnetPolicy.base", "must be an object");
    return new PolicyBase(`${JSON.stringify(policy, null, 2)}\n`, `base policy (${name})`);
  }

  /** HuJSON text. */
  static fromText(text: string, name = "text"): PolicyBase {
    return new PolicyBase(text, `base policy (${name})`);
  }

  /** The policy a new tailnet starts with (allow-all, SSH to one's own devices). */
  static newTailnetDefault(): PolicyBase {
    return new PolicyBase(NEW_TAILNET_POLICY, "base policy (new-tailnet default)");
  }

  /** Nothing: only the systems' own rules, so everything else is denied. */
  static empty(): PolicyBase {
    return new PolicyBase("{}\n", "base policy (empty)");
  }

  private constructor(
    readonly text: string,
    readonly source: string,
  ) {}
}
