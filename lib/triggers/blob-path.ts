/**
 * Blob paths of the blob trigger and its output binding: `container/pattern`.
 *
 * The pattern is a blob name in which `{token}` stands for a part of the name that the runtime
 * captures from the triggering blob (the Functions binding-expression syntax; `{{` and `}}` are a
 * literal brace). Everything here runs at synth time so that a wrong path is reported before any
 * resource is created.
 */
import { invalid } from "../errors";
import { validateBlobContainerName } from "../naming";
import { collisionExample, unreadableOutputTokens } from "./blob-output-names";
import type { BlobPath, BlobPathSegment } from "./blob-path-pattern";

export type { BlobPath, BlobPathSegment } from "./blob-path-pattern";


/** Longest blob name Azure Storage accepts. */
const MAX_BLOB_NAME = 1024;
const TOKEN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Binding expressions that take a new value on every invocation. In an output path they would
 * give a retried blob a second output instead of overwriting the first.
 */
const PER_INVOCATION = /^(rand-guid|datetime(:.*)?|sys\.randguid|sys\.utcnow(:.*)?)$/i;

const PATH_ALLOWED = "\"<container>/<blob name pattern>\", e.g. \"input/{blobname}.json\": a container name, '/', then a non-empty blob name in which {token} captures part of the name ({{ and }} for literal braces)";

/**
 * Parses `container/pattern`. Throws a ValidationError naming `prop` when the path is not of that
 * form, the container name breaks the naming rule, or a brace is unbalanced.
 *
 * `tokenRule` decides which token names are accepted: input paths only take identifier-like names
 * (the runtime binds them to values captured from the blob name).
 */
export function parseBlobPath(owner: string, prop: string, path: string, tokenRule: "identifier" | "any" = "identifier"): BlobPath {
  if (typeof path !== "string") invalid(owner, prop, path, "a blob path must be a string", PATH_ALLOWED);
  const slash = path.indexOf("/");
  if (slash < 0) invalid(owner, prop, path, "there is no '/' between the container and the blob name pattern", PATH_ALLOWED);
  const container = path.slice(0, slash);
  const pattern = path.slice(slash + 1);
  if (container.length === 0) invalid(owner, prop, path, "the container name before the first '/' is empty", PATH_ALLOWED);
  if (container.includes("{") || container.includes("}")) {
    invalid(owner, prop, path, "the container part contains a {token}; the container is created at deploy time and needs a fixed name", PATH_ALLOWED);
  }
  validateBlobContainerName(owner, `${prop} (container part)`, container);
  if (pattern.length === 0) invalid(owner, prop, path, "the blob name pattern after the container is empty", PATH_ALLOWED);
  if (pattern.length > MAX_BLOB_NAME) invalid(owner, prop, path, `the blob name pattern is ${pattern.length} characters long; Azure allows ${MAX_BLOB_NAME}`, PATH_ALLOWED);
  if (pattern.startsWith("/") || pattern.includes("//")) {
    invalid(owner, prop, path, "the blob name pattern contains an empty path segment ('//' or a leading '/')", PATH_ALLOWED);
  }
  if ([...pattern].some((ch) => ch === "\\" || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
    invalid(owner, prop, path, "the blob name pattern contains a control character or a backslash", PATH_ALLOWED);
  }

  const segments: BlobPathSegment[] = [];
  const tokens: string[] = [];
  let text = "";
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "{" && pattern[i + 1] === "{") {
      text += "{";
      i += 2;
    } else if (c === "}" && pattern[i + 1] === "}") {
      text += "}";
      i += 2;
    } else if (c === "}") {
      invalid(owner, prop, path, `unmatched '}' at position ${slash + 1 + i}`, PATH_ALLOWED);
    } else if (c === "{") {
      const end = pattern.indexOf("}", i + 1);
      if (end < 0) invalid(owner, prop, path, `unmatched '{' at position ${slash + 1 + i}`, PATH_ALLOWED);
      const name = pattern.slice(i + 1, end);
      if (name.includes("{")) invalid(owner, prop, path, `nested '{' inside a token at position ${slash + 1 + i}`, PATH_ALLOWED);
      if (name.length === 0) invalid(owner, prop, path, "an empty token '{}'", PATH_ALLOWED);
      if (tokenRule === "identifier" && !TOKEN_NAME.test(name)) {
        invalid(owner, prop, path, `token {${name}} is not a name the trigger can capture`, "token names made of letters, digits and '_', not starting with a digit, e.g. {blobname}");
      }
      if (text.length > 0) segments.push({ kind: "text", text });
      text = "";
      segments.push({ kind: "token", name });
      tokens.push(name);
      i = end + 1;
    } else {
      text += c;
      i += 1;
    }
  }
  if (text.length > 0) segments.push({ kind: "text", text });
  return { path, container, pattern, segments, tokens };
}

/** Result of {@link validateBlobPaths}. */
export interface ValidatedBlobPaths {
  readonly input: BlobPath;
  readonly output: BlobPath;
}

/**
 * Validates the trigger's input path and output path together:
 * - both of the form `container/pattern` with valid container names;
 * - the input's tokens are distinct identifiers and never directly adjacent (`{a}{b}` cannot be
 *   split unambiguously);
 * - every token of the output is captured by the input (per-invocation values such as
 *   `{rand-guid}` or `{DateTime}` are refused: a retried blob would get a second output);
 * - every token of the input is used by the output, output tokens are not adjacent, and the
 *   result name can be read back into the token values (the rule is in `blob-output-names.ts`),
 *   so that two input blobs never write the same result blob;
 * - the output cannot re-trigger the function: when both use the same container, no blob name the
 *   output pattern can produce may match the input pattern.
 */
export function validateBlobPaths(owner: string, inputPath: string, outputPath: string): ValidatedBlobPaths {
  const input = parseBlobPath(owner, "inputPath", inputPath, "identifier");
  const output = parseBlobPath(owner, "outputPath", outputPath, "any");

  const seen = new Set<string>();
  for (const t of input.tokens) {
    if (seen.has(t)) invalid(owner, "inputPath", inputPath, `token {${t}} appears twice`, "each token name at most once in the input path");
    seen.add(t);
  }
  input.segments.forEach((s, k) => {
    const next = input.segments[k + 1];
    if (s.kind === "token" && next?.kind === "token") {
      invalid(owner, "inputPath", inputPath, `tokens {${s.name}} and {${next.name}} are adjacent, so the blob name cannot be split between them`, "tokens separated by literal text, e.g. \"input/{name}.{ext}\"");
    }
  });

  const defined = new Set(input.tokens);
  for (const t of output.tokens) {
    if (defined.has(t)) continue;
    if (PER_INVOCATION.test(t)) {
      invalid(
        owner,
        "outputPath",
        outputPath,
        `{${t}} takes a new value on every invocation, so a blob that is retried after a failure would produce a second result instead of overwriting the first`,
        `only tokens captured by inputPath ${describeTokens(input.tokens)}`,
      );
    }
    invalid(owner, "outputPath", outputPath, `token {${t}} is not defined by inputPath ${JSON.stringify(inputPath)}`, `only tokens captured by inputPath ${describeTokens(input.tokens)}`);
  }

  // Distinct input blobs must give distinct results: a result path that leaves out an input
  // token (or names a fixed blob) makes several inputs write to the same blob, each result
  // silently replacing the previous one.
  const used = new Set(output.tokens);
  const unused = input.tokens.filter((t) => !used.has(t));
  if (unused.length > 0) {
    invalid(
      owner,
      "outputPath",
      outputPath,
      `it does not use ${unused.map((t) => `{${t}}`).join(", ")} from inputPath ${JSON.stringify(inputPath)}, so input blobs that differ only there would write the same result blob and overwrite each other's results`,
      `an output path that uses every token of inputPath ${describeTokens(input.tokens)}, e.g. "output/${input.tokens.map((t) => `{${t}}`).join("-")}.json"`,
    );
  }
  output.segments.forEach((s, k) => {
    const next = output.segments[k + 1];
    if (s.kind === "token" && next?.kind === "token") {
      invalid(owner, "outputPath", outputPath, `tokens {${s.name}} and {${next.name}} are adjacent, so different inputs can give the same result name (a="1",b="23" and a="12",b="3" both give "123")`, "tokens separated by literal text, e.g. \"output/{name}-{ext}.json\"");
    }
  });

  refuseSharedResults(owner, input, output);

  if (input.container === output.container && patternsCanOverlap(input.segments, output.segments)) {
    invalid(
      owner,
      "outputPath",
      outputPath,
      `results written to container "${output.container}" can match inputPath ${JSON.stringify(inputPath)}, so every result would trigger the function again (an endless loop)`,
      "a different container, or an output pattern that no input blob name can match (e.g. a different extension, or a different folder such as \"data/in/{name}\" -> \"data/out/{name}\")",
    );
  }
  return { input, output };
}

/**
 * Refuses an output path under which two input blobs can write the same result blob: its result
 * names must give back the token values, read as `unreadableOutputTokens` describes. The message
 * shows two input blobs that collide, checked the way the runtime binds the paths.
 */
function refuseSharedResults(owner: string, input: BlobPath, output: BlobPath): void {
  const stuck = unreadableOutputTokens(input, output);
  if (stuck === undefined) return;
  const example = collisionExample(input, output);
  const collision = example === undefined ? "" : `: ${example.inputs[0]} and ${example.inputs[1]} both write ${example.output}`;
  const suggestion = input.container === output.container ? "" : `, e.g. ${JSON.stringify(`${output.container}/${input.pattern}`)} (the input pattern in the output container)`;
  invalid(
    owner,
    "outputPath",
    output.path,
    `two input blobs ${example === undefined ? "may" : "can"} write the same result blob, one result replacing the other${collision}. The runtime gives each token of inputPath the longest text that fits, so a token after the first may hold any text but the literal just before it in inputPath, and a result name here cannot be split back into {${stuck.first}} and {${stuck.last}}`,
    `an output path whose result names split back into the token values: two tokens next to each other separated by a literal that contains the literal before one of them in inputPath ${JSON.stringify(input.path)} (on the side of that token), which its value never holds${suggestion}`,
  );
}

function describeTokens(tokens: readonly string[]): string {
  return tokens.length === 0 ? "(it captures none: use a fixed output name or add a token to inputPath)" : `(${tokens.map((t) => `{${t}}`).join(", ")})`;
}

type Item = { readonly wild: true } | { readonly wild: false; readonly char: string };

function toItems(segments: readonly BlobPathSegment[]): Item[] {
  const items: Item[] = [];
  for (const s of segments) {
    if (s.kind === "token") items.push({ wild: true });
    else for (const char of s.text) items.push({ wild: false, char });
  }
  return items;
}

/**
 * Whether some blob name matches both patterns, treating every `{token}` as a wildcard that
 * matches any string, '/' and the empty string included. That is conservative: the runtime's
 * matching is at most as permissive, so "no overlap" here means the output can never re-trigger.
 *
 * Dynamic programming over (position in a, position in b): a wildcard either stops (skip it) or
 * absorbs the other pattern's next item. O(|a|·|b|) states.
 */
export function patternsCanOverlap(a: readonly BlobPathSegment[], b: readonly BlobPathSegment[]): boolean {
  const x = toItems(a);
  const y = toItems(b);
  const width = y.length + 1;
  // reachable[i * width + j]: the prefixes x[0..i) and y[0..j) can produce a common string.
  const reachable = new Uint8Array((x.length + 1) * width);
  reachable[0] = 1;
  for (let i = 0; i <= x.length; i++) {
    for (let j = 0; j <= y.length; j++) {
      if (!reachable[i * width + j]) continue;
      const xi = x[i];
      const yj = y[j];
      // A wildcard that matches nothing more.
      if (xi?.wild) reachable[(i + 1) * width + j] = 1;
      if (yj?.wild) reachable[i * width + j + 1] = 1;
      if (xi === undefined || yj === undefined) continue;
      if (xi.wild) reachable[i * width + j + 1] = 1; // x's wildcard absorbs y's next item
      if (yj.wild) reachable[(i + 1) * width + j] = 1; // y's wildcard absorbs x's next item
      if (!xi.wild && !yj.wild && xi.char === yj.char) reachable[(i + 1) * width + j + 1] = 1;
    }
  }
  return reachable[x.length * width + y.length] === 1;
}
