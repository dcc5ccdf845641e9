import { ValidationError } from "../../lib/errors";
import { parseBlobPath, patternsCanOverlap, validateBlobPaths } from "../../lib/triggers/blob-path";
import { message } from "../error-message";

const OWNER = "BlobTrigger";

function overlap(a: string, b: string): boolean {
  return patternsCanOverlap(parseBlobPath(OWNER, "a", `c0n/${a}`, "any").segments, parseBlobPath(OWNER, "b", `c0n/${b}`, "any").segments);
}

describe("parseBlobPath", () => {
  test("splits container and pattern and extracts tokens in order", () => {
    const p = parseBlobPath(OWNER, "inputPath", "input/{blobname}.{ext}");
    expect(p.container).toBe("input");
    expect(p.pattern).toBe("{blobname}.{ext}");
    expect(p.tokens).toEqual(["blobname", "ext"]);
    expect(p.segments).toEqual([
      { kind: "token", name: "blobname" },
      { kind: "text", text: "." },
      { kind: "token", name: "ext" },
    ]);
  });

  test("keeps sub-folders in the pattern and reads {{ }} as literal braces", () => {
    const p = parseBlobPath(OWNER, "inputPath", "data/in/{{raw}}/{name}");
    expect(p.container).toBe("data");
    expect(p.pattern).toBe("in/{{raw}}/{name}");
    expect(p.tokens).toEqual(["name"]);
    expect(p.segments[0]).toEqual({ kind: "text", text: "in/{raw}/" });
  });

  test.each([
    ["input", "no '/'"],
    ["/x.json", "container name before the first '/' is empty"],
    ["input/", "blob name pattern after the container is empty"],
    ["In_put/{a}", "only lowercase letters, digits and hyphens"],
    ["ab/{a}", "length 2 is outside 3-63"],
    ["in--put/{a}", "consecutive hyphens"],
    ["{c}/x", "the container part contains a {token}"],
    ["input/{a", "unmatched '{'"],
    ["input/a}", "unmatched '}'"],
    ["input/{}", "an empty token"],
    ["input//{a}", "empty path segment"],
    ["input/{a-b}", "token {a-b} is not a name the trigger can capture"],
    ["input/{1a}", "token {1a}"],
  ])("refuses %s", (path, problem) => {
    expect(() => parseBlobPath(OWNER, "inputPath", path)).toThrow(ValidationError);
    expect(() => parseBlobPath(OWNER, "inputPath", path)).toThrow(problem);
  });

  test("messages name the owner, the prop, the value and what is allowed", () => {
    expect(() => parseBlobPath(OWNER, "outputPath", "nocontainer")).toThrow(
      /^BlobTrigger: invalid outputPath "nocontainer": there is no '\/' .*\. Allowed: "<container>\/<blob name pattern>"/,
    );
  });

  test("refuses a pattern longer than Azure's 1024-character blob name limit", () => {
    expect(() => parseBlobPath(OWNER, "inputPath", `input/${"a".repeat(1025)}`)).toThrow("Azure allows 1024");
  });
});

describe("patternsCanOverlap", () => {
  test.each([
    ["{name}.json", "{name}_out.json", true],
    ["{a}.csv", "{a}.json", false],
    ["in/{name}", "out/{name}", false],
    ["{name}", "anything.txt", true],
    ["in-{a}", "{a}-out", true],
    ["x{a}y", "x{b}z", false],
    ["a.json", "a.json", true],
    ["a.json", "b.json", false],
    ["{a}/{b}.json", "results/{a}.json", true],
    ["{a}.json", "{a}.json.out", false],
    ["pre{a}", "{b}post", true],
    ["abc", "{a}{b}{c}", true],
    ["ab", "a{x}c", false],
  ])("%s vs %s -> %s", (a, b, expected) => {
    expect(overlap(a, b)).toBe(expected);
    expect(overlap(b, a)).toBe(expected);
  });
});

describe("validateBlobPaths", () => {
  test("accepts the defaults of the retired feature", () => {
    const { input, output } = validateBlobPaths(OWNER, "input/{blobname}.json", "output/{blobname}_out.json");
    expect(input.container).toBe("input");
    expect(output.container).toBe("output");
    expect(output.tokens).toEqual(["blobname"]);
  });

  test("accepts the same container when the output cannot match the input", () => {
    expect(() => validateBlobPaths(OWNER, "data/in/{name}", "data/out/{name}")).not.toThrow();
    expect(() => validateBlobPaths(OWNER, "input/{a}.csv", "input/{a}.json")).not.toThrow();
  });

  test("refuses an output that re-triggers the function, with a clear message", () => {
    expect(() => validateBlobPaths(OWNER, "input/{name}.json", "input/{name}_out.json")).toThrow(
      /BlobTrigger: invalid outputPath "input\/\{name\}_out\.json": results written to container "input" can match inputPath "input\/\{name\}\.json", so every result would trigger the function again \(an endless loop\)\. Allowed: a different container/,
    );
  });

  test("refuses output tokens the input does not define", () => {
    expect(() => validateBlobPaths(OWNER, "input/{name}.json", "output/{other}.json")).toThrow(
      'invalid outputPath "output/{other}.json": token {other} is not defined by inputPath "input/{name}.json". Allowed: only tokens captured by inputPath ({name})',
    );
  });

  test.each(["{rand-guid}", "{DateTime}", "{sys.randguid}", "{sys.utcnow}"])("refuses the per-invocation expression %s in the output", (expr) => {
    expect(() => validateBlobPaths(OWNER, "input/{name}.json", `output/${expr}.json`)).toThrow("a blob that is retried after a failure would produce a second result");
  });

  test("refuses duplicate and adjacent input tokens", () => {
    expect(() => validateBlobPaths(OWNER, "input/{a}-{a}", "output/{a}")).toThrow("token {a} appears twice");
    expect(() => validateBlobPaths(OWNER, "input/{a}{b}", "output/{a}")).toThrow("tokens {a} and {b} are adjacent");
  });

  test("validates the output container name with the container rule", () => {
    expect(() => validateBlobPaths(OWNER, "input/{a}", "Output/{a}")).toThrow('invalid outputPath (container part) "Output"');
  });

  test("a fixed output name is allowed when the input has no token", () => {
    expect(() => validateBlobPaths(OWNER, "input/batch.json", "output/batch.json")).not.toThrow();
    expect(() => validateBlobPaths(OWNER, "input/batch.json", "output/{x}.json")).toThrow("it captures none");
  });
});

describe("distinct inputs never share a result blob (issue 7, item 10)", () => {
  test.each<[string, string, string]>([
    ["input/{a}-{b}.json", "output/{a}.json", "does not use {b} from inputPath"],
    ["input/{blobname}.json", "output/result.json", "does not use {blobname} from inputPath"],
    ["input/{blobname}.{blobextension}", "output/{blobname}.out", "does not use {blobextension}"],
    ["input/{a}/{b}/{c}.json", "output/{b}.json", "does not use {a}, {c}"],
    ["input/{a}-{b}.json", "output/{a}{b}.json", "tokens {a} and {b} are adjacent"],
  ])("%s -> %s is refused", (input, output, problem) => {
    const m = message(() => validateBlobPaths(OWNER, input, output));
    expect(m).toContain(`BlobTrigger: invalid outputPath ${JSON.stringify(output)}: `);
    expect(m).toContain(problem);
    expect(m).toContain("Allowed: ");
  });

  test("the message explains the overwrite and shows a path that works", () => {
    expect(() => validateBlobPaths(OWNER, "input/{a}-{b}.json", "output/{a}.json")).toThrow(
      'input blobs that differ only there would write the same result blob and overwrite each other\'s results. Allowed: an output path that uses every token of inputPath ({a}, {b}), e.g. "output/{a}-{b}.json"',
    );
  });

  test.each<[string, string]>([
    ["input/{a}-{b}.json", "output/{a}-{b}.json"],
    ["input/{a}-{b}.json", "output/{a}/-{b}.json"],
    ["input/{name}.json", "output/{name}-{name}.json"],
    ["input/batch.json", "output/batch.json"],
  ])("%s -> %s is accepted", (input, output) => {
    expect(() => validateBlobPaths(OWNER, input, output)).not.toThrow();
  });
});

/**
 * What the Functions runtime does with the paths (WebJobs SDK BindingTemplateSource): the input
 * pattern as `^literal(?<token>.*)literal…$`, matched against `container/name`; the output is its
 * pattern with the captured values put in. Written here from the parsed segments, independently
 * of the rule under test.
 */
function runtime(inputPath: string, outputPath: string) {
  const input = parseBlobPath(OWNER, "inputPath", inputPath);
  const output = parseBlobPath(OWNER, "outputPath", outputPath, "any");
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const source = input.segments.map((s) => (s.kind === "token" ? "(.*)" : escape(s.text))).join("");
  const regex = new RegExp(`^${escape(input.container)}/${source}$`);
  const nameOf = (values: Map<string, string>) => `${input.container}/${input.segments.map((s) => (s.kind === "token" ? values.get(s.name) : s.text)).join("")}`;
  const resultOf = (name: string) => {
    const m = regex.exec(name)!;
    const values = new Map(input.tokens.map((t, k) => [t, m[k + 1]]));
    return `${output.container}/${output.segments.map((s) => (s.kind === "token" ? values.get(s.name) : s.text)).join("")}`;
  };
  return { input, nameOf, resultOf };
}

/**
 * Goes through every input blob name whose token values are strings of `x` and the characters of
 * the paths' literals, as long as the number of names stays near 10,000; returns the first two
 * that share a result, if any.
 */
function sharedResult(inputPath: string, outputPath: string): [string, string] | undefined {
  const { input, nameOf, resultOf } = runtime(inputPath, outputPath);
  const output = parseBlobPath(OWNER, "outputPath", outputPath, "any");
  const alphabet = [...new Set(["x", ...[...input.segments, ...output.segments].flatMap((s) => (s.kind === "text" ? [...s.text] : []))])];
  const words = [""];
  for (let n = 1; n <= 6; n++) {
    const longer = words.filter((w) => w.length === n - 1).flatMap((w) => alphabet.map((c) => w + c));
    if (n > 1 && (words.length + longer.length) ** input.tokens.length > 10_000) break;
    words.push(...longer);
  }
  const seen = new Map<string, string>();
  const tuple = input.tokens.map(() => 0);
  for (;;) {
    const name = nameOf(new Map(input.tokens.map((t, k) => [t, words[tuple[k]]])));
    const result = resultOf(name);
    const other = seen.get(result);
    if (other !== undefined && other !== name) return [other, name];
    seen.set(result, name);
    let k = 0;
    while (k < tuple.length && ++tuple[k] === words.length) tuple[k++] = 0;
    if (k === tuple.length) return undefined;
  }
}

describe("one result blob per input blob, whatever the tokens' positions (issue 15, item 7)", () => {
  test("the reproduction: input/{a}/{b} -> output/{a}-{b} is refused, naming two inputs that collide", () => {
    const m = message(() => validateBlobPaths(OWNER, "input/{a}/{b}", "output/{a}-{b}"));
    expect(m).toContain('BlobTrigger: invalid outputPath "output/{a}-{b}": two input blobs can write the same result blob, one result replacing the other: input/x-y/z and input/x/y-z both write output/x-y-z.');
    expect(m).toContain("cannot be split back into {a} and {b}");
    expect(m).toContain('Allowed: an output path whose result names split back into the token values');
    expect(m).toContain('e.g. "output/{a}/{b}" (the input pattern in the output container)');
    // The example is what the runtime does.
    const { resultOf } = runtime("input/{a}/{b}", "output/{a}-{b}");
    expect(resultOf("input/x-y/z")).toBe("output/x-y-z");
    expect(resultOf("input/x/y-z")).toBe("output/x-y-z");
  });

  test.each<[string, string, string]>([
    // Accepted before: {a} may contain '/', {b} may contain '_'.
    ["input/{a}-{b}.json", "output/{a}/{b}.json", "input/x/y-z.json and input/x-y/z.json both write output/x/y/z.json"],
    ["input/{a}-{b}.json", "output/{b}_{a}.json", "input/z-x_y.json and input/y_z-x.json both write output/x_y_z.json"],
    ["input/{a}/{b}", "output/{a}.{b}", "input/x.y/z and input/x/y.z both write output/x.y.z"],
    ["input/{blobname}.{blobextension}", "output/{blobname}-{blobextension}.json", "both write output/"],
    ["input/{a}/{b}/{c}", "output/{a}-{b}-{c}", "both write output/"],
  ])("%s -> %s is refused: %s", (input, output, example) => {
    const m = message(() => validateBlobPaths(OWNER, input, output));
    expect(m).toContain(`BlobTrigger: invalid outputPath ${JSON.stringify(output)}: two input blobs can write the same result blob`);
    expect(m).toContain(example);
    const [first, second] = /: (\S+) and (\S+) both write (\S+)\./.exec(m)!.slice(1, 3);
    const { resultOf } = runtime(input, output);
    expect(first).not.toBe(second);
    expect(resultOf(first)).toBe(resultOf(second));
  });

  test.each<[string, string]>([
    ["input/{blobname}.json", "output/{blobname}_out.json"],
    ["input/{a}/{b}", "output/{a}/{b}"],
    ["input/{a}/{b}", "output/{a}/x-{b}.json"],
    ["input/{a}/{b}", "output/{b}/{a}"],
    ["input/{a}/{b}/{c}", "output/{c}/{a}/{b}"],
    ["input/{blobname}.{blobextension}", "output/{blobname}.{blobextension}.out"],
    ["input/{blobname}.{blobextension}", "output/{blobextension}/{blobname}.{blobextension}"],
    ["input/{a}__{b}", "output/{a}__{b}"],
    ["input/{name}.json", "output/{name}-{name}.json"],
  ])("%s -> %s is accepted, and no two input names share a result", (input, output) => {
    expect(() => validateBlobPaths(OWNER, input, output)).not.toThrow();
    expect(sharedResult(input, output)).toBeUndefined();
  });

  test("a literal that overlaps itself: input/{a}__{b} -> output/{b}__{a} is refused (where {b} ends cannot be told)", () => {
    const m = message(() => validateBlobPaths(OWNER, "input/{a}__{b}", "output/{b}__{a}.r"));
    expect(m).toContain('invalid outputPath "output/{b}__{a}.r": two input blobs may write the same result blob');
    expect(m).toContain('e.g. "output/{a}__{b}"');
    const { resultOf } = runtime("input/{a}__{b}", "output/{b}__{a}.r");
    expect(resultOf("input/y__x_")).toBe("output/x___y.r");
    expect(resultOf("input/_y__x")).toBe("output/x___y.r");
  });

  test("the documented input/{blobname}.{blobextension} with output/{blobname}.out stays refused: it drops {blobextension}", () => {
    expect(() => validateBlobPaths(OWNER, "input/{blobname}.{blobextension}", "output/{blobname}.out")).toThrow("does not use {blobextension}");
    expect(sharedResult("input/{blobname}.{blobextension}", "output/{blobname}.{blobextension}.out")).toBeUndefined();
  });

  test("every output accepted over many token orders and literals gives one result per input (checked by enumeration)", () => {
    const literals = ["/", "-", ".", "_", "__", "-/", "/x-", "aba", ""];
    let state = 7;
    const next = (n: number) => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    let accepted = 0;
    let refused = 0;
    for (let round = 0; round < 160; round++) {
      const names = ["a", "b", "c"].slice(0, 2 + next(2));
      const order = [...names].sort(() => next(3) - 1);
      const pick = () => literals[next(literals.length - 1)];
      const inputPath = `input/${names.map((t) => `{${t}}`).join(pick())}`;
      const outputPath = `output/${order.map((t) => `{${t}}`).join(literals[next(literals.length)])}.r`;
      let ok = true;
      try {
        validateBlobPaths(OWNER, inputPath, outputPath);
      } catch (e) {
        expect((e as Error).message).toMatch(/invalid (outputPath|inputPath)/);
        ok = false;
      }
      if (!ok) {
        refused++;
        continue;
      }
      accepted++;
      expect([inputPath, outputPath, sharedResult(inputPath, outputPath)]).toEqual([inputPath, outputPath, undefined]);
    }
    // The sample holds both kinds.
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });
});
