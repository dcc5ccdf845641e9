import { invalid } from "../errors";

/**
 * A trigger's connection: the prefix of its identity-based settings (`<prefix>__credential`,
 * `<prefix>__clientId`, ...). Single `_` only, because `__` separates the prefix from the part.
 */
const CONNECTION_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$/;

/**
 * The `connectionName` prop of a trigger, or its default: `base` for the trigger's default
 * function, else `<base>_<function name>` (hyphens as `_`, cut to 64 characters), so that two
 * triggers of one kind in an app get two connections.
 */
export function resolveConnectionName(owner: string, given: string | undefined, base: string, functionName: string, defaultFunctionName: string): string {
  const name = given ?? (functionName === defaultFunctionName ? base : `${base}_${functionName.replace(/-/g, "_").replace(/_+/g, "_")}`.slice(0, 64).replace(/_+$/, ""));
  if (typeof name !== "string" || !CONNECTION_NAME.test(name) || name.length > 64) {
    invalid(owner, "connectionName", name, "not usable as an app setting prefix", "1-64 letters, digits and single '_', starting with a letter ('__' separates the prefix from the setting name)");
  }
  return name;
}
