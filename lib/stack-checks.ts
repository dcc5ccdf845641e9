import { IConstruct } from "constructs";
import { Aspects, DefaultTokenResolver, IAspect, StringConcat, TerraformOutput, TerraformStack, Tokenization } from "cdktf";
import { ValidationError } from "./errors";
import { reconcileProviders } from "./providers";

/**
 * The synth-time checks of a stack that holds deployments: providers (lib/providers.ts) and
 * output ids that are unique in the stack.
 *
 * Registered twice on purpose, and idempotent: as an aspect, which `Testing.synth` runs (it
 * skips validations), and as a construct validation, which `App.synth` runs whatever copy of
 * cdktf the app uses (aspects are kept in a per-copy registry, so a second copy of cdktf would
 * never see an aspect registered by the library's copy).
 */
const REGISTERED = Symbol.for("@aml-functions/aml-function-deployment.stack-checks");

/** Problems of the stack, one message each; empty when all is well. */
export function checkStack(stack: IConstruct): string[] {
  return [...reconcileProviders(stack), ...duplicateOutputIds(stack)];
}

/**
 * Two outputs with the same logical id: Terraform JSON keeps only the last one, silently. Found
 * by shape (`TerraformOutput.isTerraformOutput`), so outputs of another cdktf copy count too.
 * Ids are resolved: a deployment's output ids are tokens until synth (lib/output-ids.ts).
 */
export function duplicateOutputIds(stack: IConstruct): string[] {
  const byId = new Map<string, string[]>();
  const resolve = (id: string): string => String(Tokenization.resolve(id, { scope: stack, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) }));
  for (const c of stack.node.findAll()) {
    if (!TerraformOutput.isTerraformOutput(c)) continue;
    const id = resolve((c as TerraformOutput).friendlyUniqueId);
    byId.set(id, [...(byId.get(id) ?? []), c.node.path]);
  }
  return [...byId.entries()]
    .filter(([, paths]) => paths.length > 1)
    .map(([id, paths]) => `Output id ${JSON.stringify(id)} is used by ${paths.map((p) => `"${p}"`).join(" and ")}: Terraform would keep only one of them. Give the outputs distinct ids (a deployment's outputs take its construct id, or its \`name\` when another deployment of the stack has the same construct id).`);
}

class StackChecks implements IAspect {
  public visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    const problems = checkStack(node);
    if (problems.length > 0) throw new ValidationError(problems.join("\n"));
  }
}

/** Registers the checks on `stack` once. */
export function registerStackChecks(scope: IConstruct): void {
  const stack = TerraformStack.of(scope);
  const state = stack as TerraformStack & { [REGISTERED]?: boolean };
  if (state[REGISTERED]) return;
  state[REGISTERED] = true;
  Aspects.of(stack).add(new StackChecks());
  stack.node.addValidation({ validate: () => checkStack(stack) });
}
