import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import * as tar from "tar";
import * as zlib from "zlib";
import { PreparedBuildContext, prepareBuildContext, stagingRoot } from "../../../lib/image/build-context";
import { ContextArchive, storedGzipMember, writeContextArchive } from "../../../lib/image/staging/context-archive";
import { ModelSource } from "../../../lib/model/model-source";
import { resolveEntryScript } from "../../../lib/entry-script";
import { REPO } from "../../helpers";
import { useStagingSandbox } from "../../staging-sandbox";

// A folder of its own, with the staging root inside it: staged contexts of earlier runs (or of
// other test files) must not decide what these tests see.
const sandbox = useStagingSandbox("context-archive-test-");
let work: string;
beforeAll(() => {
  work = sandbox();
});

/** A copy of the repository's scoring image and churn example under `root` (a "checkout"). */
function checkout(root: string, extraSourceFiles: { [rel: string]: string } = {}): string {
  fs.cpSync(path.join(REPO, "scoring-image"), path.join(root, "scoring-image"), { recursive: true, filter: (p) => !p.includes("__pycache__") });
  fs.cpSync(path.join(REPO, "examples", "churn"), path.join(root, "examples", "churn"), { recursive: true });
  for (const [rel, text] of Object.entries(extraSourceFiles)) {
    const p = path.join(root, "examples", "churn", "scoring", ...rel.split("/"));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return root;
}

function stage(root: string): PreparedBuildContext {
  return prepareBuildContext({
    owner: "T",
    scoringImageDir: path.join(root, "scoring-image"),
    model: ModelSource.fromLocalPath(path.join(root, "examples", "churn", "models", "churn")).resolve("T"),
    entryScript: resolveEntryScript("T", path.join(root, "examples", "churn", "scoring", "score.py")),
    requirementsTxt: "scikit-learn==1.2.1\n",
    generatedFiles: { "app/score/function.json": "{\"bindings\": []}\n" },
    buildArgs: { AZUREML_ENTRY_SCRIPT: "score.py", PYTHON_VERSION: "3.11" },
    platform: "linux/amd64",
  });
}

/** Every file under `dir` by relative posix path, with its bytes. */
function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p).split(path.sep).join("/"), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function archiveAt(context: PreparedBuildContext, name: string): ContextArchive {
  return context.writeArchive(path.join(work, name, "context.tar.gz"));
}

/** The archive of the files `files` (relative posix paths) of the folder `dir`, as `file`. */
function archiveOfFolder(dir: string, files: readonly string[], fingerprint: string, file: string): ContextArchive {
  return writeContextArchive(files.map((f) => ({ dest: f, size: fs.statSync(path.join(dir, f)).size, source: path.join(dir, f) })), fingerprint, file);
}

describe("the context archive", () => {
  test("same staged inputs give the same bytes, written twice and from two checkout paths with other mtimes and modes", () => {
    const a = stage(checkout(path.join(work, "checkout-a")));
    const b = checkout(path.join(work, "somewhere", "else", "checkout-b"));
    for (const [rel] of filesUnder(b)) {
      const p = path.join(b, rel);
      fs.utimesSync(p, new Date("2031-05-06T07:08:09Z"), new Date("2031-05-06T07:08:09Z"));
      fs.chmodSync(p, 0o755);
    }
    const fromB = stage(b);
    expect(fromB.fingerprint).toBe(a.fingerprint);

    const first = archiveAt(a, "first");
    const firstBytes = fs.readFileSync(first.file);
    fs.rmSync(path.join(work, "first"), { recursive: true });
    const again = archiveAt(a, "first");
    expect(again.reused).toBe(false);
    expect(fs.readFileSync(again.file).equals(firstBytes)).toBe(true);
    expect(fs.readFileSync(archiveAt(fromB, "moved").file).equals(firstBytes)).toBe(true);
  });

  test("holds exactly the staged files, with their bytes, mode 0644, mtime 0, uid/gid 0 and no owner names", async () => {
    const context = stage(checkout(path.join(work, "checkout-c")));
    const archive = archiveAt(context, "contents");
    const entries: { path: string; type: string; mode?: number; mtime?: Date; uid?: number; gid?: number; uname?: string; gname?: string }[] = [];
    await tar.t({ file: archive.file, onReadEntry: (e) => entries.push({ path: e.path, type: e.type, mode: e.mode, mtime: e.mtime, uid: e.uid, gid: e.gid, uname: e.uname, gname: e.gname }) });
    expect(entries.map((e) => e.path)).toEqual(context.files);
    for (const e of entries) {
      expect(e).toMatchObject({ type: "File", mode: 0o644, uid: 0, gid: 0 });
      expect(e.mtime?.getTime()).toBe(0);
      expect(e.uname ?? "").toBe("");
      expect(e.gname ?? "").toBe("");
    }
    const out = path.join(work, "extracted-node");
    fs.mkdirSync(out);
    await tar.x({ file: archive.file, cwd: out });
    expect(filesUnder(out)).toEqual(filesUnder(context.stageFolder().directory));
  });

  test("Python's tarfile (what the ACR task unpacks with) extracts the same files", () => {
    const context = stage(checkout(path.join(work, "checkout-d")));
    const archive = archiveAt(context, "python");
    const out = path.join(work, "extracted-python");
    const r = spawnSync("python3", ["-m", "tarfile", "-e", archive.file, out], { encoding: "utf8" });
    expect(r.stderr.replace(/.*DeprecationWarning.*\n?/g, "")).toBe("");
    expect(r.status).toBe(0);
    expect(filesUnder(out)).toEqual(filesUnder(context.stageFolder().directory));
  });

  test(".dockerignore and the default excludes of the source folder are honoured", async () => {
    const root = checkout(path.join(work, "checkout-e"), {
      ".dockerignore": "secrets/\n*.local\n",
      "secrets/key.txt": "not for the image",
      "settings.local": "not for the image",
      "__pycache__/score.cpython-311.pyc": "bytecode",
      ".git/config": "[core]",
      "helpers.py": "X = 1\n",
    });
    const context = stage(root);
    const listed: string[] = [];
    await tar.t({ file: archiveAt(context, "ignored").file, onReadEntry: (e) => listed.push(e.path) });
    expect(listed).toContain("source/helpers.py");
    expect(listed.filter((p) => /secrets|\.local$|__pycache__|\.git\/|\.dockerignore/.test(p))).toEqual([]);
  });

  test("a path longer than ustar allows goes through a pax header and extracts intact", async () => {
    const long = `${"deep/".repeat(30)}weights.bin`;
    const dir = path.join(work, "long-src");
    fs.mkdirSync(path.join(dir, path.dirname(long)), { recursive: true });
    fs.writeFileSync(path.join(dir, long), "w");
    const archive = archiveOfFolder(dir, [long], "long", path.join(work, "long.tar.gz"));
    const out = path.join(work, "long-out");
    fs.mkdirSync(out);
    await tar.x({ file: archive.file, cwd: out });
    expect(fs.readFileSync(path.join(out, long), "utf8")).toBe("w");
    const again = archiveOfFolder(dir, [long], "long", path.join(work, "long2.tar.gz"));
    expect(fs.readFileSync(again.file).equals(fs.readFileSync(archive.file))).toBe(true);
  });

  test("incompressible files are stored, compressible ones deflated", () => {
    const dir = path.join(work, "mixed");
    fs.mkdirSync(dir);
    const noise = randomBytes(4 << 20);
    fs.writeFileSync(path.join(dir, "noise.bin"), noise);
    fs.writeFileSync(path.join(dir, "text.txt"), "the same line again\n".repeat(200_000));
    const onlyNoise = archiveOfFolder(dir, ["noise.bin"], "n", path.join(work, "noise.tar.gz"));
    const onlyText = archiveOfFolder(dir, ["text.txt"], "t", path.join(work, "text.tar.gz"));
    // Stored: the data plus tar blocks and a few bytes of gzip framing per MiB, never more.
    expect(onlyNoise.size).toBeGreaterThan(noise.length);
    expect(onlyNoise.size).toBeLessThan(noise.length + 4096);
    // Its stored members (framed by the writer, not by zlib) are valid gzip: gzip's own check
    // passes, and the tar inside holds the file's bytes.
    const check = spawnSync("gzip", ["-t", onlyNoise.file], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    const tarBytes = zlib.gunzipSync(fs.readFileSync(onlyNoise.file));
    expect(tarBytes.subarray(512, 512 + noise.length).equals(noise)).toBe(true);
    // Deflated: 4 MB of repeated text shrinks to a small fraction.
    expect(onlyText.size).toBeLessThan(4_000_000 / 20);
  });

  test("a stored member framed by the writer is byte for byte zlib's level 0 (what Node before 20.15 writes)", () => {
    for (const size of [0, 1, 100, 65_535, 65_536, 200_000, 1 << 20, (1 << 20) + 5]) {
      const data = randomBytes(size);
      // With one output chunk for the whole member, as the writer calls zlib (zlib's block sizes
      // follow its output space).
      const zlibs = zlib.gzipSync(data, { level: 0, chunkSize: Math.max(16 * 1024, size + (size >> 10) + 1024) });
      // The writer sets the OS byte of every member to 255, zlib's own members included.
      zlibs[9] = 255;
      expect([size, storedGzipMember(data).equals(zlibs)]).toEqual([size, true]);
    }
  });

  test("a verified archive of the same fingerprint is reused; a damaged one or a missing sidecar is rewritten", () => {
    const context = stage(checkout(path.join(work, "checkout-f")));
    const first = archiveAt(context, "cache");
    const inode = fs.statSync(first.file).ino;
    const reused = archiveAt(context, "cache");
    expect(reused).toMatchObject({ reused: true, size: first.size });
    expect(fs.statSync(first.file).ino).toBe(inode);

    fs.truncateSync(first.file, first.size - 10);
    const repaired = archiveAt(context, "cache");
    expect(repaired.reused).toBe(false);
    expect(fs.statSync(first.file).size).toBe(first.size);

    fs.rmSync(`${first.file}.json`);
    expect(archiveAt(context, "cache").reused).toBe(false);
    // Another fingerprint at the same path is never taken for this one.
    expect(archiveOfFolder(work, [], "other", first.file).reused).toBe(false);
  });

  test("an archive replaced or edited with bytes of the same size is rewritten, even with its mtime set back", () => {
    const context = stage(checkout(path.join(work, "checkout-g")));
    const first = archiveAt(context, "tampered");
    const good = fs.readFileSync(first.file);
    const { mtime } = fs.statSync(first.file);
    const planted = Buffer.alloc(good.length, 0x41);

    // Replaced by another file (new inode) of the same size and mtime.
    const other = `${first.file}.planted`;
    fs.writeFileSync(other, planted);
    fs.utimesSync(other, mtime, mtime);
    fs.renameSync(other, first.file);
    expect(fs.statSync(first.file).size).toBe(first.size);
    const afterReplace = archiveAt(context, "tampered");
    expect(afterReplace.reused).toBe(false);
    expect(fs.readFileSync(first.file).equals(good)).toBe(true);

    // Overwritten in place (same inode), mtime set back to what the sidecar recorded: only the
    // ctime tells (the pause makes it differ on file systems with coarse timestamps).
    const recorded = fs.statSync(first.file, { bigint: true });
    const reference = `${first.file}.times`;
    fs.writeFileSync(reference, "");
    // `touch -r` copies the times to the nanosecond (fs.utimes cannot).
    spawnSync("touch", ["-r", first.file, reference]);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    fs.writeFileSync(first.file, planted);
    expect(spawnSync("touch", ["-r", reference, first.file]).status).toBe(0);
    const edited = fs.statSync(first.file, { bigint: true });
    expect([edited.ino, edited.size, edited.mtimeNs]).toEqual([recorded.ino, recorded.size, recorded.mtimeNs]);
    const afterEdit = archiveAt(context, "tampered");
    expect(afterEdit.reused).toBe(false);
    expect(fs.readFileSync(first.file).equals(good)).toBe(true);
    expect(archiveAt(context, "tampered").reused).toBe(true);
  });

  test("a hard link to the archive (the stack asset) keeps it reusable once its identity is refreshed", () => {
    const context = stage(checkout(path.join(work, "checkout-h")));
    const first = archiveAt(context, "linked");
    const link = path.join(work, "linked", "asset.tar.gz");
    fs.linkSync(first.file, link);
    // The link changed the archive's ctime: without a refresh it no longer matches its sidecar.
    const unrefreshed = archiveAt(context, "linked");
    expect(unrefreshed.reused).toBe(false);
    fs.rmSync(link);
    fs.linkSync(unrefreshed.file, link);
    unrefreshed.record.recordIdentities();
    const reused = archiveAt(context, "linked");
    expect(reused.reused).toBe(true);
    expect(fs.statSync(reused.file).ino).toBe(fs.statSync(link).ino);
  });

  test("a file found longer or shorter than the size it was hashed with fails the write", () => {
    const dir = path.join(work, "sized");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "score.py"), "print(1)\n");
    const file = (size: number) => [{ dest: "source/score.py", size, source: path.join(dir, "score.py") }];
    expect(() => writeContextArchive(file(8), "l", path.join(work, "longer", "c.tar.gz"))).toThrow(/score\.py became longer while it was archived/);
    expect(() => writeContextArchive(file(10), "s", path.join(work, "shorter", "c.tar.gz"))).toThrow(/score\.py became shorter while it was archived/);
    expect(fs.existsSync(path.join(work, "longer", "c.tar.gz"))).toBe(false);
  });

  test("written straight from the inputs: the files of the staged folder, and the folder is never staged", async () => {
    // A file of its own, so no other test staged this fingerprint as a folder.
    const root = checkout(path.join(work, "checkout-i"), { "only-here.txt": "archived from the inputs\n" });
    const context = stage(root);
    const fromInputs = archiveAt(context, "from-inputs");
    // Not staged: the archive did not need the folder.
    const folder = path.join(stagingRoot(), context.fingerprint);
    expect(fs.existsSync(folder)).toBe(false);
    const out = path.join(work, "from-inputs-out");
    fs.mkdirSync(out);
    await tar.x({ file: fromInputs.file, cwd: out });
    expect(filesUnder(out)).toEqual(filesUnder(context.stageFolder().directory));
  });

  test("a small input changed after it was hashed fails the write, even with its size and mtime kept", () => {
    const root = checkout(path.join(work, "checkout-k"));
    const script = path.join(root, "examples", "churn", "scoring", "score.py");
    const context = stage(root);
    const { atime, mtime, size } = fs.statSync(script);
    fs.writeFileSync(script, "x".repeat(size));
    fs.utimesSync(script, atime, mtime);
    const file = path.join(work, "kept", "c.tar.gz");
    expect(() => context.writeArchive(file)).toThrow(/invalid buildContext ".*score\.py": the file changed while the build context archive was written \(.*score\.py changed while the build context archive was written \(run synth again\)\)/);
    expect(fs.existsSync(file)).toBe(false);
  });

  test("a big input changed after it was hashed fails the write, even with its size and mtime kept", () => {
    const root = checkout(path.join(work, "checkout-c"), { "big.bin": "b".repeat(100 << 10) });
    const big = path.join(root, "examples", "churn", "scoring", "big.bin");
    const context = stage(root);
    const { atime, mtime, size } = fs.statSync(big);
    fs.writeFileSync(big, "x".repeat(size));
    fs.utimesSync(big, atime, mtime);
    const file = path.join(work, "changed", "c.tar.gz");
    expect(() => context.writeArchive(file)).toThrow(/big\.bin changed while the build context archive was written \(run synth again\)/);
    expect(fs.existsSync(file)).toBe(false);
  });

});
