import { invalid } from "../errors";

const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,126}$/;

/** Function names become folder names in the image and path segments in the portal. */
export function validateFunctionName(owner: string, prop: string, name: string): void {
  if (typeof name !== "string" || !FUNCTION_NAME.test(name)) {
    invalid(owner, prop, name, "not a valid function name", "1–127 letters, digits, '-' and '_', starting with a letter");
  }
}
