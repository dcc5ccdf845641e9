/**
 * Helpers of the enum-like classes (PlanSku, PythonVersion, HttpAuthLevel, ...): closed sets of
 * instances made by a private constructor. A prop of such a type also takes the name of an
 * instance as a string, so that plain JavaScript and configuration-driven callers need not import
 * the class; anything else is refused at synth, naming the prop and what it allows.
 */
import { invalid } from "../errors";

/** The member named `value`, ignoring case and surrounding blanks; undefined when none is. */
export function findByName<T>(members: readonly T[], nameOf: (member: T) => string, value: unknown): T | undefined {
  if (typeof value !== "string") return undefined;
  const key = value.trim().toLowerCase();
  return members.find((member) => nameOf(member).toLowerCase() === key);
}

/**
 * The member named `value` (see findByName), or a ValidationError
 * `<owner>: invalid <prop> <value>: <problem>. Allowed: <allowed>`; `allowed` defaults to the
 * members' names.
 */
export function memberNamed<T>(owner: string, prop: string, value: unknown, members: readonly T[], nameOf: (member: T) => string, problem: string, allowed?: string): T {
  const found = findByName(members, nameOf, value);
  if (found === undefined) invalid(owner, prop, value, problem, allowed ?? members.map(nameOf).join(", "));
  return found;
}

/** An enum-like class, as a prop that takes one of its instances needs it. */
export interface EnumLikeClass<T extends object> {
  /** What its instances inherit from (the `instanceof` test). */
  readonly prototype: T;
  /** Its lookup by name, which throws a ValidationError naming `owner` for an unknown name. */
  of(name: string, owner: string): T;
}

/** How a prop refuses a value that is neither an instance nor a name. */
export interface NotAnInstance {
  readonly problem: string;
  readonly allowed: string;
}

/**
 * The value of a prop that takes an instance of `cls` or its name: a name is looked up with
 * `cls.of`, an instance is kept, an unset prop gives `fallback`, anything else is refused with
 * `notAnInstance`. `null` reads as unset only where there is a fallback: a prop without one has
 * no value that `null` could stand for.
 */
export function coerce<T extends object>(owner: string, prop: string, value: unknown, cls: EnumLikeClass<T>, fallback: T, notAnInstance: NotAnInstance): T;
export function coerce<T extends object>(owner: string, prop: string, value: unknown, cls: EnumLikeClass<T>, fallback: undefined, notAnInstance: NotAnInstance): T | undefined;
export function coerce<T extends object>(owner: string, prop: string, value: unknown, cls: EnumLikeClass<T>, fallback: T | undefined, notAnInstance: NotAnInstance): T | undefined {
  if (typeof value === "string") return cls.of(value, owner);
  const chosen = fallback === undefined ? value : (value ?? fallback);
  if (chosen === undefined) return undefined;
  if (typeof chosen !== "object" || chosen === null || !Object.prototype.isPrototypeOf.call(cls.prototype, chosen)) {
    invalid(owner, prop, value, notAnInstance.problem, notAnInstance.allowed);
  }
  return chosen as T;
}
