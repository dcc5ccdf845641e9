/**
 * Whether a blob trigger's output path gives every input blob a result blob of its own.
 *
 * How the Functions runtime binds the paths (WebJobs SDK `BindingTemplateSource`, used by the
 * blob extension's `ParameterizedBlobPathSource`): the input path becomes the case-sensitive
 * regular expression `^L0(?<t1>.*)L1(?<t2>.*)…Lk$` (literals escaped, each `{token}` a greedy
 * `.*`, which also matches '/'), matched against `container/blob name`; the output path is its
 * pattern with the captured values put in. Greedy matching gives each token the longest value
 * that still lets the rest match, taking the tokens from left to right. So a token after a
 * literal `L` never has `L` in `L + value` anywhere but at its start: in "{a}/{b}", {b} never
 * contains '/' (with one, {a} could have been longer); the first token has no such limit.
 *
 * The rule: the output name must be readable back into the token values (which give back the
 * input name, since the input name is its pattern with those values). Reading goes from both
 * ends of the output pattern inwards; a token can be read
 * - from the left end when the literal after it in the output contains the literal that precedes
 *   that token in the input (its value cannot hold it, so the first one found ends the value);
 * - from the right end when the literal before it in the output contains that input literal (the
 *   last one found starts the value);
 *   (for a literal that can overlap itself, such as "__", an occurrence could also straddle the
 *   value and the output literal: such cases are checked and refused, see readableFromLeft);
 * - from either end when its value is already known (the same token read elsewhere);
 * and the tokens left when no end can be read any further must all be one and the same token
 * (its length, hence its value, follows from the length of what is left). Values read back give
 * the input blob name, so two input blobs never write one result. The check is conservative: an
 * output it refuses may still be one-to-one in rare cases, but an output it accepts always is.
 */
import type { BlobPath } from "./blob-path-pattern";

/** The output pattern as tokens and the literals between them (`literals.length === tokens.length + 1`). */
interface Shape {
  readonly tokens: readonly string[];
  readonly literals: readonly string[];
}

function shapeOf(path: BlobPath): Shape {
  const tokens: string[] = [];
  const literals: string[] = [""];
  for (const s of path.segments) {
    if (s.kind === "token") {
      tokens.push(s.name);
      literals.push("");
    } else {
      literals[literals.length - 1] += s.text;
    }
  }
  return { tokens, literals };
}

/**
 * For each input token but the first: the literal just before it in the input pattern, which its
 * captured value never contains (greedy matching, see the file comment). Adjacent input tokens
 * are refused before this runs, so that literal is never empty.
 */
export function excludedLiterals(input: BlobPath): ReadonlyMap<string, string> {
  const excluded = new Map<string, string>();
  let first = true;
  input.segments.forEach((s, k) => {
    if (s.kind !== "token") return;
    const before = input.segments[k - 1];
    if (!first && before?.kind === "text") excluded.set(s.name, before.text);
    first = false;
  });
  return excluded;
}

/** Whether `a` ends with some non-empty proper prefix of `b` (an occurrence of `b` could start inside `a`'s tail). */
function tailStartsAnother(a: string, b: string): boolean {
  for (let e = 1; e < b.length && e <= a.length; e++) if (a.slice(a.length - e) === b.slice(0, e)) return true;
  return false;
}

/** Whether `a` starts with some non-empty proper suffix of `b` (an occurrence of `b` could end inside `a`'s head). */
function headEndsAnother(a: string, b: string): boolean {
  for (let e = 1; e < b.length && e <= a.length; e++) if (a.slice(0, e) === b.slice(b.length - e)) return true;
  return false;
}

/**
 * A token whose value never contains `excluded`, followed in the output by the literal `after`:
 * the first `excluded` inside `after` marks the end of its value, provided no occurrence can
 * begin inside the value and end inside `after`.
 */
function readableFromLeft(excluded: string | undefined, after: string): boolean {
  if (excluded === undefined) return false;
  const at = after.indexOf(excluded);
  return at >= 0 && !headEndsAnother(after.slice(0, at + excluded.length), excluded);
}

/**
 * A token whose value never contains `excluded`, preceded in the output by the literal `before`:
 * the last `excluded` inside `before` (and the text after it) marks the start of its value. When
 * `before` ends with it, the greedy rule itself (nothing but the start of `excluded + value` is
 * `excluded`) settles the boundary; otherwise no occurrence may begin in the rest of `before`
 * and end inside the value.
 */
function readableFromRight(excluded: string | undefined, before: string): boolean {
  if (excluded === undefined) return false;
  const at = before.lastIndexOf(excluded);
  if (at < 0) return false;
  const rest = before.slice(at + excluded.length);
  return rest.length === 0 || !tailStartsAnother(before.slice(at), excluded);
}

/** Where reading the output back got stuck: the first and last output token it could not read. */
export interface UnreadableTokens {
  readonly first: string;
  readonly last: string;
}

/**
 * Reads the output pattern back as described in the file comment. Returns undefined when every
 * result name gives back the token values (one result blob per input blob), otherwise the two
 * tokens at the ends of the part that could not be read.
 */
export function unreadableOutputTokens(input: BlobPath, output: BlobPath): UnreadableTokens | undefined {
  const excluded = excludedLiterals(input);
  const { tokens, literals } = shapeOf(output);
  const known = new Set<string>();
  let l = 0;
  let r = tokens.length - 1;
  for (;;) {
    const unknown = new Set(tokens.slice(l, r + 1).filter((t) => !known.has(t)));
    if (unknown.size <= 1) return undefined;
    // l < r here: two different unknown tokens are left. literals[j + 1] follows tokens[j].
    if (known.has(tokens[l]) || readableFromLeft(excluded.get(tokens[l]), literals[l + 1])) {
      known.add(tokens[l++]);
    } else if (known.has(tokens[r]) || readableFromRight(excluded.get(tokens[r]), literals[r])) {
      known.add(tokens[r--]);
    } else {
      return { first: tokens[l], last: tokens[r] };
    }
  }
}

/** Two input blob names (`container/name`) that write the same result blob, and that result. */
export interface BlobNameCollision {
  readonly inputs: readonly [string, string];
  readonly output: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The values the runtime captures from a blob name: greedy `.*` per token, as the runtime's regex. */
function capture(input: BlobPath, name: string): Map<string, string> | undefined {
  const source = input.segments.map((s) => (s.kind === "token" ? "(.*)" : escapeRegExp(s.text))).join("");
  const match = new RegExp(`^${source}$`).exec(name);
  if (match === null) return undefined;
  const values = new Map<string, string>();
  input.tokens.forEach((t, k) => values.set(t, match[k + 1]));
  return values;
}

function render(path: BlobPath, values: ReadonlyMap<string, string>): string {
  return path.segments.map((s) => (s.kind === "token" ? values.get(s.name)! : s.text)).join("");
}

/**
 * An example of two input blobs that write one result, for the error message: for two tokens
 * next to each other in the output, one input puts the literal between them into the first
 * token's value and the other into the second's. Each candidate is checked the way the runtime
 * binds it (greedy capture of the input name, then the output path), so an example is real.
 * Undefined when none of the candidates collides.
 */
export function collisionExample(input: BlobPath, output: BlobPath): BlobNameCollision | undefined {
  const { tokens, literals } = shapeOf(output);
  const used = new Set([...input.segments, ...output.segments].flatMap((s) => (s.kind === "text" ? [...s.text] : [])));
  const letters = [..."xyzuvwpqrstmnkjhgfedcba0123456789"].filter((c) => !used.has(c));
  if (letters.length < 3) return undefined;
  const [p, q, z] = letters;
  const fillers = letters.slice(3);
  for (let j = 0; j + 1 < tokens.length; j++) {
    const [a, b] = [tokens[j], tokens[j + 1]];
    if (a === b) continue;
    const between = literals[j + 1];
    const others = new Map(input.tokens.map((t, k) => [t, fillers[k % Math.max(fillers.length, 1)] ?? "f"]));
    const first = new Map(others).set(a, `${p}${between}${q}`).set(b, z);
    const second = new Map(others).set(a, p).set(b, `${q}${between}${z}`);
    const names = [render(input, first), render(input, second)];
    if (names[0] === names[1]) continue;
    const results = names.map((n) => {
      const values = capture(input, n);
      return values === undefined ? undefined : render(output, values);
    });
    if (results[0] !== undefined && results[0] === results[1]) {
      return { inputs: [`${input.container}/${names[0]}`, `${input.container}/${names[1]}`], output: `${output.container}/${results[0]}` };
    }
  }
  return undefined;
}
