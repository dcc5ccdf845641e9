import * as fs from "fs";
import * as path from "path";
import { resolveEntryScript, scanTopLevelFunctions } from "../lib/entry-script";
import { message } from "./error-message";
import { tempDir } from "./temp-dirs";

jest.mock("fs", () => {
  const actual = jest.requireActual("fs");
  return { ...actual, readFileSync: jest.fn(actual.readFileSync) };
});

const ALLOWED = "Allowed: a path to a readable .py file that defines top-level `def init(` and `def run(`";

let dir: string;
beforeAll(() => {
  dir = tempDir("entry-script-");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

const GOOD = [
  "import os, json",
  "model = None",
  "def init():",
  "    global model",
  "    model = os.getenv('AZUREML_MODEL_DIR')",
  "",
  "@rawhttp",
  "def run(request):",
  "    return {'ok': True}",
  "",
].join("\n");

test("a valid script resolves to its folder and basename", () => {
  const p = write("proj/score.py", GOOD);
  expect(resolveEntryScript("D", p)).toEqual({ absolutePath: p, sourceDir: path.join(dir, "proj"), relativePath: "score.py", given: p });
});

test("relative paths resolve against process.cwd(); CRLF and a BOM are fine", () => {
  write("crlf/score.py", "\uFEFF" + GOOD.replace(/\n/g, "\r\n"));
  const spy = jest.spyOn(process, "cwd").mockReturnValue(dir);
  try {
    const r = resolveEntryScript("D", "crlf/score.py");
    expect(r.absolutePath).toBe(path.join(dir, "crlf", "score.py"));
    expect(r.relativePath).toBe("score.py");
  } finally {
    spy.mockRestore();
  }
});

test("type hints and spaces before the parenthesis are accepted", () => {
  const p = write("hints.py", "def init() -> None:\n    pass\n\n@input_schema('data', NumpyParameterType(x))\n@output_schema(y)\ndef run (data: list, request_headers=None):\n    return data\n");
  expect(resolveEntryScript("D", p).relativePath).toBe("hints.py");
});

test("a missing file names entryScript, the value and what is allowed", () => {
  const given = path.join(dir, "missing.py");
  const m = message(() => resolveEntryScript("MyDeployment", given));
  expect(m).toContain(`MyDeployment: invalid entryScript ${JSON.stringify(given)}: no file exists at`);
  expect(m).toContain(ALLOWED);
});

test("a file not ending in .py is rejected", () => {
  const given = write("score.txt", GOOD);
  const m = message(() => resolveEntryScript("D", given));
  expect(m).toContain(`invalid entryScript ${JSON.stringify(given)}: the file name does not end in .py`);
  expect(m).toContain(ALLOWED);
});

test("a folder named like a script is rejected", () => {
  fs.mkdirSync(path.join(dir, "folder.py"), { recursive: true });
  expect(message(() => resolveEntryScript("D", path.join(dir, "folder.py")))).toMatch(/folder\.py is not a regular file/);
});

test("an unreadable file is rejected", () => {
  const given = write("locked.py", GOOD);
  (fs.readFileSync as jest.Mock).mockImplementationOnce(() => {
    throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
  });
  const m = message(() => resolveEntryScript("D", given));
  expect(m).toContain(`invalid entryScript ${JSON.stringify(given)}: cannot read`);
  expect(m).toContain("(EACCES)");
  expect(m).toContain(ALLOWED);
});

test("missing init and run are both reported", () => {
  const given = write("nothing.py", "x = 1\n");
  const m = message(() => resolveEntryScript("D", given));
  expect(m).toContain(`invalid entryScript ${JSON.stringify(given)}`);
  expect(m).toContain("no top-level `def init(` found; no top-level `def run(` found");
  expect(m).toContain(ALLOWED);
});

test("nested or indented definitions do not count", () => {
  const given = write("nested.py", "def init():\n    pass\n\nclass Model:\n    def run(self, x):\n        return x\n\nif True:\n    def run(x):\n        return x\n");
  expect(message(() => resolveEntryScript("D", given))).toContain("no top-level `def run(` found");
});

test("definitions inside a docstring do not count", () => {
  const given = write("doc.py", '"""\nExample:\ndef run(data):\n    ...\n"""\ndef init():\n    pass\n');
  expect(message(() => resolveEntryScript("D", given))).toContain("no top-level `def run(` found");
});

test("async run is rejected with a specific message", () => {
  const given = write("async.py", "def init():\n    pass\n\nasync def run(data):\n    return data\n");
  const m = message(() => resolveEntryScript("D", given));
  expect(m).toContain("`run` is defined with `async def`");
  expect(m).toContain(ALLOWED);
});

test("a name that only starts with init/run does not count", () => {
  const given = write("prefix.py", "def init_model():\n    pass\ndef runner(x):\n    pass\n");
  expect(message(() => resolveEntryScript("D", given))).toContain("no top-level `def init(` found; no top-level `def run(` found");
});

test("scanTopLevelFunctions lists plain and async top-level defs", () => {
  const r = scanTopLevelFunctions("def a():\n  pass\nasync def b():\n  pass\n  def c():\n    pass\n");
  expect([...r.defs]).toEqual(["a"]);
  expect([...r.asyncDefs]).toEqual(["b"]);
});
