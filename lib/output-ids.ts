/**
 * Logical ids of the stack outputs a deployment and its triggers create: `<prefix>_<output>`.
 *
 * The prefix is, for each deployment:
 * - its construct id made identifier-safe (`churn-http` → `churn_http`) when no other deployment
 *   of the stack has a construct id that gives the same;
 * - otherwise (a wrapper construct used twice: `churn/app` and `fraud/app`) its `name` made
 *   identifier-safe when it was given (`churn`), else its construct path below the stack
 *   (`team_b_svc`).
 *
 * So every deployment that synthesized before keeps its output ids (two deployments with the same
 * id were refused then), and the prefix never depends on the order the deployments were created:
 * it is decided at synth, when all of them are known. Adding a deployment whose id equals an
 * existing one's does rename that one's outputs (from `app_*` to `<name>_*`). Two prefixes that
 * still meet (one deployment's `name` is another's id) give the same output id twice, which the
 * stack checks refuse at synth, naming both outputs.
 */
import { IConstruct } from "constructs";
import { Lazy, TerraformStack } from "cdktf";

/** Per-stack register: identifier-safe construct id → the deployments that have it (a global symbol: one register per stack, whatever copy of this library registers). */
const PREFIXES = Symbol.for("@aml-functions/aml-function-deployment.output-prefixes");

interface Registered {
  /** Prefix when the id is shared: from the `name`, or from the construct path. */
  readonly fallback: string;
}

type WithPrefixes = TerraformStack & { [PREFIXES]?: Map<string, Registered[]> };

/** Letters, digits and `_` only: what a Terraform output name can safely be built from. */
function identifierSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, "_");
}

/**
 * Registers `deployment` (given `name`, if any) and returns the function that gives the logical
 * id of its output `output`: a token resolved at synth, by the rule above.
 */
export function outputIdsFor(deployment: IConstruct, name: string | undefined): (output: string) => string {
  const stack = TerraformStack.of(deployment) as WithPrefixes;
  const register = (stack[PREFIXES] ??= new Map<string, Registered[]>());
  const own = identifierSafe(deployment.node.id);
  const below = deployment.node.path.slice(stack.node.path.length + 1);
  const entry: Registered = { fallback: identifierSafe(name ?? below) };
  register.set(own, [...(register.get(own) ?? []), entry]);
  const prefix = (): string => ((register.get(own) ?? []).length > 1 ? entry.fallback : own);
  return (output: string) => Lazy.stringValue({ produce: () => `${prefix()}_${output}` });
}
