import * as fs from "fs";
import * as path from "path";
import { Token } from "cdktf";
import { ModelSource } from "../../lib/model/model-source";
import { message } from "../error-message";
import { tempDir } from "../temp-dirs";

jest.mock("fs", () => {
  const actual = jest.requireActual("fs");
  return { ...actual, accessSync: jest.fn(actual.accessSync) };
});

const ALLOWED = "Allowed: a path (absolute, or relative to the current working directory) to an existing, readable model file or non-empty folder";

let dir: string;
beforeAll(() => {
  dir = tempDir("model-source-");
  fs.writeFileSync(path.join(dir, "model.pkl"), "weights");
  fs.mkdirSync(path.join(dir, "bundle"));
  fs.writeFileSync(path.join(dir, "bundle", "a.bin"), "a");
  fs.mkdirSync(path.join(dir, "empty"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a file resolves to kind file with its basename", () => {
  const r = ModelSource.fromLocalPath(path.join(dir, "model.pkl")).resolve("D");
  expect(r).toEqual({ absolutePath: path.join(dir, "model.pkl"), kind: "file", basename: "model.pkl" });
});

test("a folder resolves to kind directory", () => {
  const r = ModelSource.fromLocalPath(path.join(dir, "bundle")).resolve("D");
  expect(r).toEqual({ absolutePath: path.join(dir, "bundle"), kind: "directory", basename: "bundle" });
});

test("relative paths resolve against process.cwd()", () => {
  const spy = jest.spyOn(process, "cwd").mockReturnValue(dir);
  try {
    const r = ModelSource.fromLocalPath("bundle/a.bin").resolve("D");
    expect(r.absolutePath).toBe(path.join(dir, "bundle", "a.bin"));
    expect(r.basename).toBe("a.bin");
  } finally {
    spy.mockRestore();
  }
});

test("a missing path names model, the value and what is allowed", () => {
  const given = path.join(dir, "nope.pkl");
  const m = message(() => ModelSource.fromLocalPath(given).resolve("MyDeployment"));
  expect(m).toContain(`MyDeployment: invalid model ${JSON.stringify(given)}: nothing exists at`);
  expect(m).toContain(ALLOWED);
});

test("an empty folder is rejected", () => {
  const given = path.join(dir, "empty");
  const m = message(() => ModelSource.fromLocalPath(given).resolve("D"));
  expect(m).toContain(`invalid model ${JSON.stringify(given)}: the folder`);
  expect(m).toContain("is empty");
  expect(m).toContain(ALLOWED);
});

test("an unreadable file is rejected", () => {
  const given = path.join(dir, "model.pkl");
  (fs.accessSync as jest.Mock).mockImplementationOnce(() => {
    throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
  });
  const m = message(() => ModelSource.fromLocalPath(given).resolve("D"));
  expect(m).toContain(`invalid model ${JSON.stringify(given)}: the file`);
  expect(m).toContain("is not readable (EACCES)");
  expect(m).toContain(ALLOWED);
});

test("an unreadable folder is rejected", () => {
  const given = path.join(dir, "bundle");
  (fs.accessSync as jest.Mock).mockImplementationOnce(() => {
    throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
  });
  expect(() => ModelSource.fromLocalPath(given).resolve("D")).toThrow(/invalid model .*bundle": the folder .* is not readable \(EACCES\)/);
});

test("something that is neither file nor folder is rejected", () => {
  // /dev/null is a character device on Linux and macOS.
  const m = message(() => ModelSource.fromLocalPath("/dev/null").resolve("D"));
  expect(m).toContain('invalid model "/dev/null": /dev/null is neither a regular file nor a folder');
  expect(m).toContain(ALLOWED);
});

test("empty paths and tokens are rejected", () => {
  expect(message(() => ModelSource.fromLocalPath("").resolve("D"))).toContain('invalid model "": the path is empty');
  expect(message(() => ModelSource.fromLocalPath(Token.asString({ Ref: "m" })).resolve("D"))).toContain("the path is a token");
});

test("resolve does not read the file contents", () => {
  const spy = jest.spyOn(fs, "readFileSync");
  ModelSource.fromLocalPath(path.join(dir, "model.pkl")).resolve("D");
  expect(spy).not.toHaveBeenCalled();
  spy.mockRestore();
});
