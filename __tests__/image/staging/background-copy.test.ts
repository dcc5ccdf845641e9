/**
 * Copies of big model files made on a worker thread while they are hashed, for a context staged
 * as a folder (local build): lib/image/staging/background-copy.ts and its use in
 * lib/image/build-context.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { BuildContextSpec, ImageBuildContext, prepareBuildContext, stagingRoot } from "../../../lib/image/build-context";
import { BackgroundCopies } from "../../../lib/image/staging/background-copy";
import { useStagingSandbox } from "../../staging-sandbox";
import { modelProject } from "../../model-project";

const sandbox = useStagingSandbox("background-copy-test-");
let counter = 0;

const leftovers = (): string[] => fs.readdirSync(stagingRoot()).filter((n) => n.startsWith(".staging-copy-"));

describe("BackgroundCopies", () => {
  test("copies on the worker and hands the copy over; a failed copy is reported, not thrown", () => {
    const dir = path.join(sandbox(), `unit${counter++}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(stagingRoot(), { recursive: true, mode: 0o700 });
    const src = path.join(dir, "a.bin");
    fs.writeFileSync(src, Buffer.alloc(1 << 20, 9));
    const copies = new BackgroundCopies(stagingRoot());
    const ok = copies.start(src);
    const missing = copies.start(path.join(dir, "missing.bin"));
    const later = copies.start(src);
    const got = copies.take(ok);
    expect(fs.readFileSync(got.file!).equals(fs.readFileSync(src))).toBe(true);
    expect(copies.take(missing)).toEqual({ error: expect.stringContaining("ENOENT") });
    // One not taken: close waits for it and removes it, with the worker's folder.
    expect(leftovers()).toHaveLength(1);
    void later;
    copies.close();
    expect(leftovers()).toEqual([]);
  });
});

describe("staging a big model file (local build)", () => {
  // Each project's big file has its own bytes: the same bytes would give the same fingerprint,
  // and an already staged context is reused without a copy.
  function project(): { root: string; spec: BuildContextSpec; big: string } {
    const fill = 10 + counter;
    const root = path.join(sandbox(), `p${counter++}`);
    const { model, spec } = modelProject(root, { "small.txt": "s", "weights.bin": Buffer.alloc(40 << 20, fill) });
    return { root, spec, big: path.join(model, "weights.bin") };
  }

  test("is copied while it is hashed, moved into the staged context, and nothing is left behind", () => {
    const { spec, big } = project();
    const context = prepareBuildContext(spec, { folder: true });
    // Started during the hash, collected when the folder is staged.
    expect(leftovers()).toHaveLength(1);
    const staged = path.join(context.stageFolder().directory, "model", "m", "weights.bin");
    expect(fs.readFileSync(staged).equals(fs.readFileSync(big))).toBe(true);
    expect(fs.statSync(staged).mode & 0o777).toBe(0o644);
    expect(fs.statSync(staged).ino).not.toBe(fs.statSync(big).ino);
    expect(leftovers()).toEqual([]);
  });

  test("a big file changed after it was hashed fails the synth by name, even with its size and mtime kept", () => {
    const { spec, big } = project();
    const context = prepareBuildContext(spec, { folder: true });
    const { atime, mtime } = fs.statSync(big);
    fs.writeFileSync(big, Buffer.alloc(40 << 20, 255));
    fs.utimesSync(big, atime, mtime);
    expect(() => context.stageFolder()).toThrow(`Deployment: invalid buildContext ${JSON.stringify(fs.realpathSync(big))}: the file changed while it was being staged`);
    expect(leftovers()).toEqual([]);
  });

  test("a copy not needed (the context was staged before) is removed", () => {
    const { spec } = project();
    const first = prepareBuildContext(spec, { folder: true });
    const firstDirectory = first.stageFolder().directory;
    // Hashed again (no input manifests), but the staged context verifies.
    for (const n of fs.readdirSync(stagingRoot()).filter((n) => n.startsWith("input-"))) fs.rmSync(path.join(stagingRoot(), n));
    const again = prepareBuildContext(spec, { folder: true });
    expect(leftovers()).toHaveLength(1);
    expect(again.stageFolder().directory).toBe(firstDirectory);
    expect(leftovers()).toEqual([]);
  });

  test("a sparse big file is not copied on the worker (the copy at staging keeps its holes)", () => {
    const { spec, big } = project();
    fs.rmSync(big);
    const fd = fs.openSync(big, "w");
    fs.ftruncateSync(fd, 64 << 20);
    fs.writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, 32 << 20);
    fs.closeSync(fd);
    const context = prepareBuildContext(spec, { folder: true });
    expect(leftovers()).toEqual([]);
    const staged = path.join(context.stageFolder().directory, "model", "m", "weights.bin");
    expect(fs.statSync(staged).blocks * 512).toBeLessThan(4 << 20);
    expect(fs.readFileSync(staged).equals(fs.readFileSync(big))).toBe(true);
  });

  test("a context that is not staged as a folder (the ACR build's archive) copies nothing", () => {
    const { spec } = project();
    const context = prepareBuildContext(spec);
    expect(leftovers()).toEqual([]);
    expect(fs.existsSync(context.writeArchive(path.join(sandbox(), `archive${counter++}.tar.gz`)).file)).toBe(true);
  });

  test("the build mode's context reads nothing until the mode asks for it", () => {
    const { spec } = project();
    // A prepared context is marked as used: `<fingerprint>.used`.
    const used = (): string[] => fs.readdirSync(stagingRoot()).filter((n) => n.endsWith(".used"));
    const before = used();
    const context = new ImageBuildContext(spec);
    expect(used()).toEqual(before);
    const { fingerprint } = context.prepare();
    expect(used().sort()).toEqual([...before, `${fingerprint}.used`].sort());
  });
});
