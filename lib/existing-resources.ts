/**
 * What can be read at synth from resources the user passes in (an existing account, namespace,
 * plan or registry): their inputs are literals when the user wrote them, tokens otherwise.
 */
import { Construct } from "constructs";
import { Token } from "cdktf";

/** The first candidate that is a literal known at synth (a string without tokens, or a boolean). */
export function knownInput(...candidates: unknown[]): string | boolean | undefined {
  for (const c of candidates) {
    if (typeof c === "boolean") return c;
    if (typeof c === "string" && !Token.isUnresolved(c)) return c;
  }
  return undefined;
}

/**
 * What tells an existing resource apart from others in a stack: its literal name, lower case
 * (names are global), else its construct path; undefined for a bare reference.
 */
export function existingResourceKey(ref: { readonly name: string }): string | undefined {
  const literal = knownInput((ref as { nameInput?: unknown }).nameInput, ref.name);
  if (typeof literal === "string") return literal.toLowerCase();
  return Construct.isConstruct(ref) ? ref.node.path : undefined;
}
