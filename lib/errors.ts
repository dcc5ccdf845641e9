/**
 * Synth-time validation errors.
 *
 * Every message names the construct, the property, the value that was given and what is
 * allowed, so a user can fix their input without reading this library's source.
 */
export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ValidationError";
  }
}

/** Renders a user-given value for an error message (strings quoted, long values cut). */
export function describeValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = "undefined";
  else if (typeof value === "string") text = JSON.stringify(value);
  // JSON would say null for NaN and Infinity, and the whole source text for a function.
  else if (typeof value === "number") text = String(value);
  else if (typeof value === "function") text = /^class\b/.test(Function.prototype.toString.call(value)) ? `class ${value.name || "(anonymous)"}` : `function ${value.name || "(anonymous)"}`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/**
 * Throws a ValidationError of the form
 * `<owner>: invalid <prop> <value>: <problem>. Allowed: <allowed>`.
 */
export function invalid(owner: string, prop: string, value: unknown, problem: string, allowed: string): never {
  throw new ValidationError(`${owner}: invalid ${prop} ${describeValue(value)}: ${problem}. Allowed: ${allowed}`);
}

/**
 * Throws the ValidationError above for `props` that are not an object (plain JavaScript callers
 * passing null or a string): without it the first property read would be a TypeError.
 */
export function checkPropsObject(owner: string, props: unknown, problem: string, allowed: string): void {
  if (typeof props !== "object" || props === null) invalid(owner, "props", props, problem, allowed);
}
