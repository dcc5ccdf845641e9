import { ValidationError } from "../lib/errors";
import { parseBlobPath, patternsCanOverlap, validateBlobPaths } from "../lib/triggers/blob-path";
import { message } from "./error-message";

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
    ["input/{a}-{b}.json", "output/{b}_{a}.json"],
    ["input/{a}-{b}.json", "output/{a}/{b}.json"],
    ["input/{name}.json", "output/{name}-{name}.json"],
    ["input/batch.json", "output/batch.json"],
  ])("%s -> %s is accepted", (input, output) => {
    expect(() => validateBlobPaths(OWNER, input, output)).not.toThrow();
  });
});
