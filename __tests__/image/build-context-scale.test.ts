/**
 * Issue 7 item 3: many files do not crash synth, and a sparse file is not written out in full
 * (neither in the staged context nor in the stack's assets).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BuildContextSpec, computeFingerprint } from "../../lib/image/build-context";
import { stackAsset } from "../../lib/image/stack-asset";
import { walkFolder } from "../../lib/image/staging/walk";
import { resolveEntryScript } from "../../lib/entry-script";
import { ModelSource } from "../../lib/model/model-source";
import { TerraformOutput, TerraformStack, Testing } from "cdktf";
import { useStagingSandbox } from "../staging-sandbox";
import { imageView, packEntries, stageContext } from "../context-view";
import { writeFiles } from "../model-project";

jest.setTimeout(180_000);

const sandbox = useStagingSandbox("build-context-scale-");

function project(name: string): string {
  const root = path.join(sandbox(), name);
  writeFiles(root, {
    "scoring-image/Dockerfile": "FROM python\n",
    "scoring-image/requirements.txt": "azure-functions\n",
    "scoring-image/aml_host/server.py": "print('host')\n",
    "src/score.py": "def init():\n    pass\n\ndef run(data):\n    return data\n",
  });
  return root;
}

function spec(root: string, model: string): BuildContextSpec {
  return {
    scoringImageDir: path.join(root, "scoring-image"),
    model: ModelSource.fromLocalPath(model).resolve("T"),
    entryScript: resolveEntryScript("T", path.join(root, "src", "score.py")),
    requirementsTxt: "",
    generatedFiles: {},
    buildArgs: {},
    platform: "linux/amd64",
  };
}

/** Allocated size in bytes (st_blocks are 512-byte units). */
const allocated = (p: string): number => fs.statSync(p).blocks * 512;

test("a model folder with 5,000 files stages, and the next synth reuses it as it is (the bench runs 20,000 and 200,000)", () => {
  const root = project("many");
  const model = path.join(root, "models", "many");
  for (let d = 0; d < 5; d++) {
    const dir = path.join(model, `d${String(d).padStart(2, "0")}`);
    fs.mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 1000; f++) fs.writeFileSync(path.join(dir, `f${f}.txt`), `${d}/${f}`);
  }
  const staged = stageContext(spec(root, model));
  // All 5,000 are small: one pack in the context, every file in it, in order, with its folders.
  expect(staged.files.filter((f) => f.startsWith("model"))).toEqual(["model-small-files.tar", "model/.packed"]);
  const pack = path.join(staged.directory, "model-small-files.tar");
  const entries = packEntries(pack);
  expect(entries.filter((e) => !e.endsWith("/")).length).toBe(5_000);
  expect(entries.slice(0, 4)).toEqual(["./", "many/", "many/d00/", "many/d00/f0.txt"]);
  expect(imageView(staged.directory)["model/many/d04/f999.txt"].toString("utf8")).toBe("4/999");
  // Reused as it is on the next synth (verified by identity, not rewritten).
  const ino = fs.statSync(pack).ino;
  const again = stageContext(spec(root, model));
  expect(again.fingerprint).toBe(staged.fingerprint);
  expect(fs.statSync(path.join(again.directory, "model-small-files.tar")).ino).toBe(ino);
});

test("150,000 files (more than one call's arguments can spread) give a fingerprint without crashing", () => {
  const root = project("links");
  const model = path.join(root, "models", "links");
  // 1,000 real files, reached through 150 folders (149 of them links to the first): the walk
  // lists, and the fingerprint hashes, 150,000 context paths. Much cheaper to make than 150,000
  // files, and the same for everything after the listing.
  const first = path.join(model, "d0");
  fs.mkdirSync(first, { recursive: true });
  for (let f = 0; f < 1000; f++) fs.writeFileSync(path.join(first, `${f}`), `file ${f}`);
  for (let d = 1; d < 150; d++) fs.symlinkSync("d0", path.join(model, `d${d}`));
  expect(walkFolder({ owner: "T", prop: "model", root: model, destPrefix: "model/links/" }).entries).toHaveLength(150_000);
  // Collecting, sorting and hashing all of them, without a spread that overflows the stack.
  expect(computeFingerprint(spec(root, model))).toMatch(/^[0-9a-f]{64}$/);
});

test("a sparse 1 GiB model file stays sparse in the staged context and the stack asset (the bench runs 3 GB)", () => {
  const root = project("sparse");
  const model = path.join(root, "models", "big.bin");
  fs.mkdirSync(path.dirname(model), { recursive: true });
  // 1 GiB, all hole except 1 MiB of data in the middle.
  const size = 1024 ** 3;
  const fd = fs.openSync(model, "w");
  try {
    fs.ftruncateSync(fd, size);
    fs.writeSync(fd, Buffer.alloc(1 << 20, 7), 0, 1 << 20, size / 2);
  } finally {
    fs.closeSync(fd);
  }
  expect(allocated(model)).toBeLessThan(16 * 1024 ** 2);
  const staged = stageContext(spec(root, model));
  const stagedModel = path.join(staged.directory, "model", "big.bin");
  expect(fs.statSync(stagedModel).size).toBe(size);
  expect(allocated(stagedModel)).toBeLessThan(16 * 1024 ** 2);
  // The data survived at its offset.
  const check = Buffer.alloc(16);
  const rfd = fs.openSync(stagedModel, "r");
  try {
    fs.readSync(rfd, check, 0, 16, size / 2 + 100);
  } finally {
    fs.closeSync(rfd);
  }
  expect(check.equals(Buffer.alloc(16, 7))).toBe(true);

  const stack = new TerraformStack(Testing.app(), "sparse");
  const asset = stackAsset(stack, "context", { path: staged.directory, kind: "directory", fingerprint: staged.fingerprint, files: staged.files });
  // Used by the configuration, as the builds use theirs (an asset nothing refers to is removed).
  new TerraformOutput(stack, "context_path", { value: asset.relativePath });
  const out = Testing.fullSynth(stack);
  const assetDir = path.join(out, "stacks", "sparse", ...asset.relativePath.split("/"));
  // Staged context + asset together: `du` counts hard-linked blocks once.
  const du = execFileSync("du", ["-sk", staged.directory, assetDir], { encoding: "utf8" });
  const kib = du.trim().split("\n").reduce((sum, line) => sum + Number(line.split("\t")[0]), 0);
  expect(kib).toBeLessThan(16 * 1024);
  expect(fs.statSync(path.join(assetDir, "model", "big.bin")).size).toBe(size);
});
