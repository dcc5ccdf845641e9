import * as fs from "fs";
import * as path from "path";
import * as tar from "tar";
import { BuildContextSpec, computeFingerprint, DEFAULT_EXCLUDES, stagingRoot } from "../../lib/image/build-context";
import { ModelSource } from "../../lib/model/model-source";
import { resolveEntryScript } from "../../lib/entry-script";
import dockerignore from "@balena/dockerignore";
import { compileAnywherePatterns } from "../../lib/image/staging/patterns";
import { SECRET_EXCLUDES } from "../../lib/image/staging/excludes";
import { tempDir } from "../temp-dirs";
import { imageViewText, packEntries, stageContext } from "../context-view";
import { writeFiles } from "../model-project";

jest.mock("fs", () => {
  const actual = jest.requireActual("fs");
  return { ...actual, renameSync: jest.fn(actual.renameSync) };
});

const SCRIPT = "def init():\n    pass\n\ndef run(data):\n    return data\n";

let work: string;
beforeAll(() => {
  work = tempDir("build-context-test-");
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

let counter = 0;

/** A fresh project: fake scoring-image folder, a model folder and a source folder. */
function project(): string {
  const root = path.join(work, `p${counter++}`);
  writeFiles(root, {
    "scoring-image/Dockerfile": "ARG PYTHON_VERSION\nFROM python\n",
    "scoring-image/requirements.txt": "azure-functions\n",
    "scoring-image/host.json": "{}",
    "scoring-image/.dockerignore": "**/tests\n",
    "scoring-image/aml_host/__init__.py": "",
    "scoring-image/aml_host/server.py": "print('host')\n",
    "scoring-image/aml_host/tests/test_server.py": "assert True\n",
    "scoring-image/aml_host/__pycache__/server.cpython-311.pyc": "bytecode",
    "scoring-image/adapters/http.py": "# http\n",
    "scoring-image/notes.md": "not copied\n",
    "src/score.py": SCRIPT,
    "src/util/helpers.py": "X = 1\n",
    "src/.DS_Store": "junk",
    "models/bundle/weights.bin": "0123456789",
    "models/bundle/config.json": "{\"a\": 1}",
  });
  return root;
}

function spec(root: string, overrides: Partial<BuildContextSpec> = {}): BuildContextSpec {
  return {
    scoringImageDir: path.join(root, "scoring-image"),
    model: ModelSource.fromLocalPath(path.join(root, "models", "bundle")).resolve("T"),
    entryScript: resolveEntryScript("T", path.join(root, "src", "score.py")),
    requirementsTxt: "numpy==1.26.4\n",
    generatedFiles: {
      "app/host.json": "{\"version\": \"2.0\"}",
      "app/score/function.json": "{\"bindings\": []}",
      "app/score/__init__.py": "from adapters.http import main\n",
      "app/score/aml.json": "{}",
    },
    buildArgs: { PYTHON_VERSION: "3.11", AZUREML_ENTRY_SCRIPT: "source/score.py" },
    platform: "linux/amd64",
    ...overrides,
  };
}

function readTree(dir: string): { [rel: string]: string } {
  const out: { [rel: string]: string } = {};
  const walk = (abs: string, rel: string): void => {
    for (const name of fs.readdirSync(abs).sort()) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      if (fs.statSync(a).isDirectory()) walk(a, r);
      else out[r] = fs.readFileSync(a, "utf8");
    }
  };
  walk(dir, "");
  // Sorted as whole paths, as the staged file list is ("model-x.tar" before "model/a").
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The files as the image gets them (the model's small files unpacked from the pack). */
const EXPECTED_IN_IMAGE = [
  "Dockerfile",
  "app/adapters/http.py",
  "app/aml_host/__init__.py",
  "app/aml_host/server.py",
  "app/host.json",
  "app/score/__init__.py",
  "app/score/aml.json",
  "app/score/function.json",
  "host-requirements.txt",
  "model/bundle/config.json",
  "model/bundle/weights.bin",
  "requirements.txt",
  "source/score.py",
  "source/util/helpers.py",
];

/** The files as staged: both model files are small, so they are in the pack. */
const EXPECTED_FILES = [
  ...EXPECTED_IN_IMAGE.filter((f) => !f.startsWith("model/") && f < "model"),
  "model-small-files.tar",
  "model/.packed",
  ...EXPECTED_IN_IMAGE.filter((f) => !f.startsWith("model/") && f > "model"),
];

describe("layout", () => {
  test("matches the contract with the Python side", () => {
    const root = project();
    const staged = stageContext(spec(root));
    expect(staged.files).toEqual(EXPECTED_FILES);
    expect(staged.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(staged.directory).toBe(path.join(stagingRoot(), staged.fingerprint));
    const tree = readTree(staged.directory);
    expect(Object.keys(tree)).toEqual(EXPECTED_FILES);
    expect(tree["host-requirements.txt"]).toBe("azure-functions\n");
    expect(tree["requirements.txt"]).toBe("numpy==1.26.4\n");
    expect(tree["Dockerfile"]).toBe("ARG PYTHON_VERSION\nFROM python\n");
    expect(tree["source/score.py"]).toBe(SCRIPT);
    expect(tree["app/score/function.json"]).toBe("{\"bindings\": []}");
    expect(tree["model/.packed"]).toBe("");
    expect(packEntries(path.join(staged.directory, "model-small-files.tar"))).toEqual(["./", "bundle/", "bundle/config.json", "bundle/weights.bin"]);
    const image = imageViewText(staged.directory);
    expect(Object.keys(image)).toEqual(EXPECTED_IN_IMAGE);
    expect(image["model/bundle/weights.bin"]).toBe("0123456789");
    expect(image["model/bundle/config.json"]).toBe("{\"a\": 1}");
  });

  test("model files over 64 KiB stay files in model/, smaller ones go into the pack, each with its folders", () => {
    const root = project();
    const big = Buffer.alloc(64 * 1024 + 1, 7);
    const edge = Buffer.alloc(64 * 1024, 9);
    fs.mkdirSync(path.join(root, "models", "bundle", "deep", "er"), { recursive: true });
    fs.writeFileSync(path.join(root, "models", "bundle", "deep", "big.bin"), big);
    fs.writeFileSync(path.join(root, "models", "bundle", "deep", "er", "edge.bin"), edge);
    const staged = stageContext(spec(root));
    expect(staged.files.filter((f) => f.startsWith("model"))).toEqual(["model-small-files.tar", "model/bundle/deep/big.bin"]);
    expect(packEntries(path.join(staged.directory, "model-small-files.tar"))).toEqual(["./", "bundle/", "bundle/config.json", "bundle/deep/", "bundle/deep/er/", "bundle/deep/er/edge.bin", "bundle/weights.bin"]);
    const image = imageViewText(staged.directory);
    expect(Object.keys(image).filter((f) => f.startsWith("model/"))).toEqual(["model/bundle/config.json", "model/bundle/deep/big.bin", "model/bundle/deep/er/edge.bin", "model/bundle/weights.bin"]);
    expect(image["model/bundle/deep/er/edge.bin"]).toBe(edge.toString("utf8"));
    // The sizes the archive writer gives each entry are the staged files' sizes, the pack's included.
    const sizes: { [rel: string]: number } = {};
    tar.t({ file: staged.context.writeArchive(path.join(work, `sizes${counter++}.tar.gz`)).file, sync: true, onReadEntry: (e) => (sizes[e.path] = e.size) });
    expect(sizes["model-small-files.tar"]).toBe(fs.statSync(path.join(staged.directory, "model-small-files.tar")).size);
    expect(sizes["model/bundle/deep/big.bin"]).toBe(big.length);
  });

  test("a model file lands at model/<basename>", () => {
    const root = project();
    writeFiles(root, { "models/model.pkl": "pickle" });
    const staged = stageContext(spec(root, { model: ModelSource.fromLocalPath(path.join(root, "models", "model.pkl")).resolve("T") }));
    expect(staged.files.filter((f) => f.startsWith("model"))).toEqual(["model-small-files.tar", "model/.packed"]);
    expect(packEntries(path.join(staged.directory, "model-small-files.tar"))).toEqual(["./", "model.pkl"]);
    expect(imageViewText(staged.directory)["model/model.pkl"]).toBe("pickle");
  });

  test("a model inside the source folder is not copied twice", () => {
    const root = project();
    writeFiles(root, { "src/model.pkl": "pickle" });
    const staged = stageContext(spec(root, { model: ModelSource.fromLocalPath(path.join(root, "src", "model.pkl")).resolve("T") }));
    expect(Object.keys(imageViewText(staged.directory))).toContain("model/model.pkl");
    expect(staged.files).not.toContain("source/model.pkl");
  });

  test("staged files have mode 0644", () => {
    const root = project();
    fs.chmodSync(path.join(root, "src", "score.py"), 0o755);
    const staged = stageContext(spec(root));
    expect(fs.statSync(path.join(staged.directory, "source", "score.py")).mode & 0o777).toBe(0o644);
  });
});

describe("fingerprint", () => {
  test("same inputs twice give the same fingerprint and the same staged tree", () => {
    const root = project();
    const a = stageContext(spec(root));
    const treeA = readTree(a.directory);
    const b = stageContext(spec(root));
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.directory).toBe(a.directory);
    expect(readTree(b.directory)).toEqual(treeA);
    expect(computeFingerprint(spec(root))).toBe(a.fingerprint);
  });

  test("a copy at another absolute path, with other mtimes, gives the same fingerprint", () => {
    const a = project();
    const b = project();
    const past = new Date(2001, 1, 1);
    fs.utimesSync(path.join(b, "src", "score.py"), past, past);
    fs.utimesSync(path.join(b, "models", "bundle", "weights.bin"), past, past);
    expect(computeFingerprint(spec(b))).toBe(computeFingerprint(spec(a)));
  });

  test("directory listing order does not matter", () => {
    const a = project();
    const b = project();
    // Create the same files in b in another order.
    fs.rmSync(path.join(b, "models", "bundle"), { recursive: true });
    writeFiles(b, { "models/bundle/config.json": "{\"a\": 1}" });
    writeFiles(b, { "models/bundle/weights.bin": "0123456789" });
    expect(computeFingerprint(spec(b))).toBe(computeFingerprint(spec(a)));
  });

  const changes: Array<[string, (root: string) => Partial<BuildContextSpec>]> = [
    ["a model byte", (r) => (writeFiles(r, { "models/bundle/weights.bin": "0123456788" }), {})],
    ["an entry script byte", (r) => (writeFiles(r, { "src/score.py": SCRIPT.replace("data", "date") }), {})],
    ["a source helper byte", (r) => (writeFiles(r, { "src/util/helpers.py": "X = 2\n" }), {})],
    ["a scoring-image byte", (r) => (writeFiles(r, { "scoring-image/aml_host/server.py": "print('Host')\n" }), {})],
    ["the Dockerfile", (r) => (writeFiles(r, { "scoring-image/Dockerfile": "FROM python:3\n" }), {})],
    ["the requirements", () => ({ requirementsTxt: "numpy==1.26.5\n" })],
    ["a generated file", (r) => ({ generatedFiles: { ...spec(r).generatedFiles, "app/score/aml.json": "{ }" } })],
    ["a build arg value", () => ({ buildArgs: { PYTHON_VERSION: "3.12", AZUREML_ENTRY_SCRIPT: "source/score.py" } })],
    ["a build arg name", () => ({ buildArgs: { PYTHON_VERSION: "3.11", AZUREML_ENTRY: "source/score.py" } })],
    ["the platform", () => ({ platform: "linux/arm64" })],
    ["a renamed model file", (r) => (fs.renameSync(path.join(r, "models/bundle/weights.bin"), path.join(r, "models/bundle/weights2.bin")), {})],
    ["a renamed source file", (r) => (fs.renameSync(path.join(r, "src/util/helpers.py"), path.join(r, "src/util/helper.py")), {})],
    ["a new source file", (r) => (writeFiles(r, { "src/extra.py": "" }), {})],
  ];

  test.each(changes)("changes when %s changes", (_label, change) => {
    const root = project();
    const before = computeFingerprint(spec(root));
    const overrides = change(root);
    expect(computeFingerprint(spec(root, overrides))).not.toBe(before);
  });

  test("moving bytes between the path and the content does not collide", () => {
    const root = project();
    const a = computeFingerprint(spec(root, { generatedFiles: { "app/ab": "c" } }));
    const b = computeFingerprint(spec(root, { generatedFiles: { "app/a": "bc" } }));
    expect(a).not.toBe(b);
  });
});

describe("excludes", () => {
  test("the documented defaults are exported", () => {
    expect(DEFAULT_EXCLUDES).toEqual(expect.arrayContaining(["**/__pycache__", "**/*.pyc", "**/.git", "**/.DS_Store", "**/.ipynb_checkpoints"]));
  });

  test("the fast matcher of the built-in rules decides every path as the dockerignore matcher does", () => {
    const builtins = [...DEFAULT_EXCLUDES, ...SECRET_EXCLUDES];
    const fast = compileAnywherePatterns(builtins);
    const reference = dockerignore().add(builtins);
    const names = [".env", ".env.local", "a.env", ".envrc", "x.pem", "pem", "x.pyc", "__pycache__", "node_modules", "node_modules_x", "config", "config.json", "gcloud", "credentials", "credentials.txt", "id_rsa", "id_rsa.pub", "c.tfstate", "c.tfstate.backup", "tfstate", "vars.tfvars.json", ".git", ".gitignore", "model.bin", ".ENV", "ID_RSA", "Secrets.JSON", "Cert.PEM", "model.BIN"];
    const parents = ["", "a/", "a/b/", ".config/", "a/.config/", ".kube/", "a/b/.kube/", ".docker/", "docker/", "x.config/", "a/.config/x/", "A/.AWS/", ".Config/"];
    let checked = 0;
    for (const parent of parents) {
      for (const name of names) {
        const rel = `${parent}${name}`;
        // The walk never asks about a path below a folder the rules already left out.
        const segments = rel.split("/");
        if (segments.slice(1).some((_, i) => reference.ignores(segments.slice(0, i + 1).join("/")))) continue;
        expect([rel, fast.test(rel)]).toEqual([rel, reference.ignores(rel)]);
        // The per-folder form the walk uses decides the same.
        expect([rel, fast.inFolder(parent.replace(/\/$/, ""))(name)]).toEqual([rel, reference.ignores(rel)]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  test("files excluded by defaults or .dockerignore neither appear nor change the fingerprint", () => {
    const root = project();
    const before = stageContext(spec(root));
    writeFiles(root, {
      "src/__pycache__/score.cpython-311.pyc": "x",
      "src/util/old.pyc": "x",
      "src/.git/HEAD": "ref",
      "src/nb/.ipynb_checkpoints/a.py": "x",
      "models/bundle/.DS_Store": "x",
      "scoring-image/adapters/tests/test_http.py": "x",
      "src/.dockerignore": "data/\n*.log\n",
      "src/data/big.csv": "1,2,3\n",
      "src/run.log": "log",
    });
    // More ignored files later: still the same fingerprint.
    const withIgnore = computeFingerprint(spec(root));
    writeFiles(root, { "src/data/other.csv": "4\n", "src/debug.log": "more" });
    expect(computeFingerprint(spec(root))).toBe(withIgnore);
    const staged = stageContext(spec(root));
    expect(staged.files).toEqual(before.files);
    expect(staged.files.some((f) => f.includes(".dockerignore"))).toBe(false);
    // Same kept files, same bytes: the ignored files and the .dockerignore left no trace.
    expect(staged.fingerprint).toBe(before.fingerprint);
  });

  test("a ! exception in .dockerignore re-includes a file", () => {
    const root = project();
    writeFiles(root, { "src/.dockerignore": "*.json\n!keep.json\n", "src/keep.json": "{}", "src/drop.json": "{}" });
    const staged = stageContext(spec(root));
    expect(staged.files).toContain("source/keep.json");
    expect(staged.files).not.toContain("source/drop.json");
  });

  test("a ! exception can re-include a file inside an excluded folder", () => {
    const root = project();
    writeFiles(root, { "models/bundle/.dockerignore": "extras\n!extras/needed.txt\n", "models/bundle/extras/needed.txt": "n", "models/bundle/extras/other.txt": "o" });
    const staged = stageContext(spec(root));
    const image = Object.keys(imageViewText(staged.directory));
    expect(image).toContain("model/bundle/extras/needed.txt");
    expect(image).not.toContain("model/bundle/extras/other.txt");
  });

  test("scoring-image/.dockerignore applies to aml_host and adapters", () => {
    const root = project();
    writeFiles(root, { "scoring-image/.dockerignore": "**/tests\nadapters/blob.py\n", "scoring-image/adapters/blob.py": "x" });
    const staged = stageContext(spec(root));
    expect(staged.files).not.toContain("app/adapters/blob.py");
    expect(staged.files).not.toContain("app/aml_host/tests/test_server.py");
    expect(staged.files).toContain("app/adapters/http.py");
  });
});

describe("symbolic links", () => {
  test("a link to a file inside the folder is copied as a file", () => {
    const root = project();
    fs.symlinkSync(path.join(root, "src", "util", "helpers.py"), path.join(root, "src", "alias.py"));
    const staged = stageContext(spec(root));
    const copied = path.join(staged.directory, "source", "alias.py");
    expect(fs.lstatSync(copied).isFile()).toBe(true);
    expect(fs.readFileSync(copied, "utf8")).toBe("X = 1\n");
  });

  test("a link pointing outside its folder is rejected", () => {
    const root = project();
    writeFiles(root, { "secret.txt": "s" });
    fs.symlinkSync(path.join(root, "secret.txt"), path.join(root, "src", "secret.txt"));
    expect(() => computeFingerprint(spec(root))).toThrow(/invalid entryScript .*: symbolic link secret\.txt points outside its folder .*Allowed: symbolic links to files and folders inside/);
  });

  test("a link that loops to its parent is rejected", () => {
    const root = project();
    fs.symlinkSync(path.join(root, "src"), path.join(root, "src", "util", "loop"));
    expect(() => computeFingerprint(spec(root))).toThrow(/symbolic link util\/loop makes a cycle/);
  });

  test("a broken link is rejected", () => {
    const root = project();
    fs.symlinkSync(path.join(root, "src", "gone.py"), path.join(root, "src", "dangling.py"));
    expect(() => computeFingerprint(spec(root))).toThrow(/symbolic link dangling\.py is broken/);
  });
});

describe("validation", () => {
  test.each(["../escape.txt", "/abs.txt", "app//x", "app/./x", ""])("generated file path %j is rejected", (p) => {
    const root = project();
    expect(() => computeFingerprint(spec(root, { generatedFiles: { [p]: "x" } }))).toThrow(`invalid generatedFiles ${JSON.stringify(p)}: not a normalized relative path. Allowed: relative posix paths`);
  });

  test("a generated file colliding with a staged file is rejected", () => {
    const root = project();
    expect(() => computeFingerprint(spec(root, { generatedFiles: { "requirements.txt": "x" } }))).toThrow(/invalid generatedFiles "requirements.txt": two files of the build context have this path/);
    expect(() => computeFingerprint(spec(root, { generatedFiles: { source: "x" } }))).toThrow(/invalid generatedFiles "source": it is a file but source\/score.py needs it to be a folder/);
  });

  test("a bad build arg name is rejected", () => {
    const root = project();
    expect(() => computeFingerprint(spec(root, { buildArgs: { "BAD-NAME": "x" } }))).toThrow(/invalid buildArgs "BAD-NAME": not a valid build argument name. Allowed: letters, digits and underscores/);
  });

  test("a scoring-image folder without a Dockerfile is rejected", () => {
    const root = project();
    fs.rmSync(path.join(root, "scoring-image", "Dockerfile"));
    expect(() => computeFingerprint(spec(root, { owner: "MyDeployment" }))).toThrow(/^MyDeployment: invalid scoringImageDir ".*scoring-image": Dockerfile is missing. Allowed: the scoring-image folder/);
  });
});

describe("staging", () => {
  test("an existing staged folder is reused; one with a file missing or added is rebuilt", () => {
    const root = project();
    writeFiles(root, { "src/unique.txt": `${Date.now()}-${Math.random()}` });
    const first = stageContext(spec(root));
    const scoreIno = fs.statSync(path.join(first.directory, "source", "score.py")).ino;
    // Reused: the very same file is still there.
    expect(fs.statSync(path.join(stageContext(spec(root)).directory, "source", "score.py")).ino).toBe(scoreIno);
    fs.rmSync(path.join(first.directory, "source", "score.py"));
    const again = stageContext(spec(root));
    expect(fs.readFileSync(path.join(again.directory, "source", "score.py"), "utf8")).toBe(SCRIPT);
    const marker = path.join(again.directory, "source", "planted.py");
    fs.writeFileSync(marker, "import os\n");
    const third = stageContext(spec(root));
    expect(fs.existsSync(path.join(third.directory, "source", "planted.py"))).toBe(false);
    expect(readTree(third.directory)["source/score.py"]).toBe(SCRIPT);
  });

  test("leaves no temporary staging folders behind", () => {
    const root = project();
    writeFiles(root, { "src/unique.txt": `${Date.now()}-${Math.random()}` });
    const staged = stageContext(spec(root));
    const leftovers = fs.readdirSync(path.dirname(staged.directory)).filter((n) => n.startsWith(`.staging-${staged.fingerprint.slice(0, 12)}`));
    expect(leftovers).toEqual([]);
  });

  test("a concurrent writer's unverified folder is replaced by a verified one", () => {
    const root = project();
    writeFiles(root, { "src/unique.txt": `${Date.now()}-${Math.random()}` });
    const fingerprint = computeFingerprint(spec(root));
    const target = path.join(stagingRoot(), fingerprint);
    const realRename = jest.requireActual("fs").renameSync as typeof fs.renameSync;
    let raced = false;
    (fs.renameSync as jest.Mock).mockImplementation((from: string, to: string) => {
      // Simulate another process: it renamed its own (here: bogus) folder into place first.
      if (to === target && !raced) {
        raced = true;
        fs.mkdirSync(path.join(to, "winner"), { recursive: true });
        fs.writeFileSync(path.join(to, "winner", "x"), "x");
      }
      realRename(from, to);
    });
    let staged;
    try {
      staged = stageContext(spec(root));
    } finally {
      (fs.renameSync as jest.Mock).mockImplementation(realRename);
    }
    expect(raced).toBe(true);
    expect(staged.directory).toBe(target);
    expect(fs.existsSync(path.join(target, "winner"))).toBe(false);
    expect(Object.keys(readTree(target))).toEqual(staged.files);
    expect(fs.readdirSync(path.dirname(target)).filter((n) => n.startsWith(`.staging-${fingerprint.slice(0, 12)}`))).toEqual([]);
  });
});
