/** The message of the error `fn` throws; fails the test when it throws nothing. */
export function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
}
