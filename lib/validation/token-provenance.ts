/**
 * Which cdktf tokens a user value may carry.
 *
 * cdktf stands for a value known only at apply time (a resource attribute, a variable, a
 * function call) with a marker in the string: `${TfToken[TOKEN.21]}`, numbered in creation order
 * across the process. At synth it replaces every such marker in every string with the token it
 * names, whoever wrote the string. So a user value that merely looks like a marker (a tag value
 * `${TfToken[TOKEN.21]}` read from a config file) becomes a reference to whatever the 21st token
 * is: the registry push password of the local build, the App Insights connection string, or
 * anything else the library made. Escaping `${` (terraform-literal.ts) cannot help: the marker is
 * resolved by cdktf before Terraform sees the text. Numbers are markers too (a double with
 * cdktf's bit pattern, also when written in a string as `-1.8881545897087736e+289`), and so are
 * the list and map markers `#{TfToken[...]}` and `&{TfToken[...]}`.
 *
 * A genuine token and a forged marker are the same string, so the rule is about where the token
 * came from. A marker in a user value is accepted only when it names a token that
 * - exists in this app (cdktf would otherwise fail at synth with a stack trace), and
 * - was not made by this library while it built a deployment (markNotForUsers), unless it is one
 *   of the deployment's public values (its `resourceGroupName`, `scoringUrl`, image reference).
 * Everything the user's code made is accepted: references to their resources, variables, Fn
 * calls, Lazy values, and the attributes of a deployment's resources read after it was built
 * (`deployment.functionApp.defaultHostname` makes a new token on each read). The values of a
 * deployment are checked before it makes anything, so none of its own tokens exists yet then.
 * List and map markers inside a string are refused outright: cdktf cannot resolve them there.
 *
 * What this cannot tell apart: a forged marker naming a token the user's code made for another
 * purpose (e.g. an output of their own storage account's key). The marker is resolved the same
 * way as the genuine one; keep such values out of text that comes from outside the code.
 * A deployment whose construction failed marks nothing (its resources are only synthesized if
 * the app catches the error and goes on).
 */
import { Construct } from "constructs";
import { Lazy, Tokenization } from "cdktf";
import { invalid } from "../errors";

/** cdktf's string-token marker (`VALID_KEY_CHARS` of cdktf's encoding): the key is `<hint>.<number>`. */
const STRING_MARKER = /\$\{TfToken\[([a-zA-Z0-9:._-]+)\]\}/g;
/** cdktf's list and map markers, which cannot be resolved inside a string. */
const LIST_OR_MAP_MARKER = /[#&]\{TfToken\[[a-zA-Z0-9:._-]+\]\}/;
/** How cdktf finds encoded numbers in a string (its NUMBER_TOKEN_REGEX). */
const NUMBER_IN_STRING = /[-|\d|.+]+(e[-|\d|.|e|E|+]+)/g;

interface Provenance {
  /** Token numbers [from, to) made by this library while it built deployments. */
  readonly libraryRanges: Array<readonly [number, number]>;
  /** Token numbers of the deployments' public values (users may pass those on). */
  readonly publicTokens: Set<number>;
}

/**
 * Kept on the global object, like cdktf's token map: a second copy of this library in the same
 * app (two versions installed) shares the token numbers, so it must share what they mean.
 */
const KEY = Symbol.for("@aml-functions/aml-function-deployment.token-provenance");
const { libraryRanges, publicTokens } = ((globalThis as unknown as { [KEY]?: Provenance })[KEY] ??= { libraryRanges: [], publicTokens: new Set() });

/**
 * The number the next token will get. Asks cdktf for one (a Lazy that is never used): cdktf
 * keeps its counter private, and every token takes the next number of one counter.
 */
export function nextTokenNumber(): number {
  const marker = Lazy.stringValue({ produce: () => "" });
  const m = /\.(\d+)\]\}$/.exec(marker);
  if (m === null) throw new Error(`cdktf token marker of an unknown form: ${marker}`);
  return Number(m[1]) + 1;
}

/**
 * Marks the tokens made since `from` (a nextTokenNumber() taken when a deployment began) as the
 * library's, except those in `publicValues` (strings, or objects of strings, a deployment hands
 * to its users).
 */
export function markNotForUsers(from: number, publicValues: readonly unknown[]): void {
  libraryRanges.push([from, nextTokenNumber()]);
  for (const value of publicValues) {
    const strings = typeof value === "string" ? [value] : value !== null && typeof value === "object" ? Object.values(value).filter((v): v is string => typeof v === "string") : [];
    for (const s of strings) for (const m of s.matchAll(STRING_MARKER)) publicTokens.add(numberOfKey(m[1]));
  }
}

function numberOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf(".") + 1));
}

/** The token number a double encodes (cdktf's createTokenDouble, string or list form), or undefined. */
function numberTokenIndex(n: number): number | undefined {
  const words = new Uint32Array(new Float64Array([n]).buffer);
  const tag = words[1] >>> 16;
  if (tag !== 0xfdff && tag !== 0xfbff) return undefined;
  return words[0] + (words[1] & 0xffff) * 2 ** 32;
}

const ALLOWED = "literal text, or tokens your code made (references to your resources, variables, Fn calls) and a deployment's public values";

function byLibrary(index: number): boolean {
  return !publicTokens.has(index) && libraryRanges.some(([from, to]) => index >= from && index < to);
}

function checkString(owner: string, prop: string, value: string): void {
  if (!value.includes("TfToken[") && !/\de/i.test(value)) return;
  if (LIST_OR_MAP_MARKER.test(value)) {
    invalid(owner, prop, value, "contains a cdktf list or map token marker (#{TfToken[...]} or &{TfToken[...]}), which cdktf cannot resolve inside a string", ALLOWED);
  }
  for (const m of value.matchAll(STRING_MARKER)) {
    let known = true;
    try {
      Tokenization.reverseString(m[0]);
    } catch {
      known = false;
    }
    const index = numberOfKey(m[1]);
    if (!known || Number.isNaN(index)) {
      invalid(owner, prop, value, `${m[0]} has the form of a cdktf token but names none this app made; cdktf would resolve it as a reference`, ALLOWED);
    }
    if (byLibrary(index)) {
      invalid(owner, prop, value, `${m[0]} names a value this library made inside a deployment (such as a password or connection string), not one your code passed; cdktf would resolve it as a reference to it`, ALLOWED);
    }
  }
  for (const m of value.matchAll(NUMBER_IN_STRING)) checkNumber(owner, prop, parseFloat(m[0]), value, m[0]);
}

function checkNumber(owner: string, prop: string, n: number, shown: unknown = n, text: string = String(n)): void {
  const index = numberTokenIndex(n);
  if (index === undefined) return;
  let known = true;
  try {
    known = Tokenization.reverseNumber(n) !== undefined || Tokenization.reverseNumberList([n]) !== undefined;
  } catch {
    known = false;
  }
  if (!known) invalid(owner, prop, shown, `${text} is how cdktf writes a number token, but it names none this app made`, ALLOWED);
  if (byLibrary(index)) invalid(owner, prop, shown, `${text} is a cdktf number token that names a value this library made inside a deployment, not one your code passed`, ALLOWED);
}

/** `a.props.b` reads better as `a.b`: library classes keep their props in a `props` field. */
function join(prop: string, key: string): string {
  if (prop === "") return key;
  return key === "props" ? prop : `${prop}.${key}`;
}

/**
 * Refuses a value that holds a cdktf token marker a user value may not carry (see the top),
 * naming the property (e.g. `tags.env`, `triggers[0].inputPath`) and the value. Walks strings,
 * numbers, map keys, arrays and the fields of objects (plain ones and the library's trigger,
 * model and build objects); constructs and tokens themselves (objects) are code, not text, and
 * are not walked.
 */
export function refuseForgedTokens(owner: string, prop: string, value: unknown, seen: Set<object> = new Set()): void {
  if (typeof value === "string") return checkString(owner, prop, value);
  if (typeof value === "number") return checkNumber(owner, prop, value);
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  if (Construct.isConstruct(value) || Tokenization.isResolvable(value) || Buffer.isBuffer(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((v, i) => refuseForgedTokens(owner, `${prop}[${i}]`, v, seen));
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    checkString(owner, prop === "" ? "property name" : `${prop} name`, key);
    refuseForgedTokens(owner, join(prop, key), v, seen);
  }
}
