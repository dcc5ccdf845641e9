import { ValidationError } from "../lib/errors";

/** The message of the error `fn` throws; fails the test when it throws nothing. */
export function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}

/** The message of the ValidationError `fn` throws; fails the test when it throws nothing or another error. */
export function validationMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error("expected a ValidationError");
}
