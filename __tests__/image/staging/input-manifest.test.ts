/**
 * The inputs' manifests (lib/image/staging/input-manifest.ts), seen through the model folder's: an
 * unchanged re-synth takes the model's files from it without listing the folder, every change a
 * listing would see makes the next synth walk again, and every synth gives the fingerprint a
 * fresh walk gives.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BuildContextSpec, computeFingerprint, stagingRoot } from "../../../lib/image/build-context";
import { removeOldContexts } from "../../../lib/image/staging/staging-root";
import { ModelSource } from "../../../lib/model/model-source";
import { useStagingSandbox } from "../../staging-sandbox";
import { imageViewText, stageContext } from "../../context-view";
import { modelProject } from "../../model-project";

jest.mock("fs", () => {
  const actual = jest.requireActual("fs");
  return { ...actual, readdirSync: jest.fn(actual.readdirSync), statfsSync: jest.fn(actual.statfsSync), writeFileSync: jest.fn(actual.writeFileSync), openSync: jest.fn(actual.openSync) };
});

const sandbox = useStagingSandbox("input-manifest-test-");
let counter = 0;

// Files are trusted by identity only when they changed 2 s before the synth started (a change
// within one timestamp tick would not show): the synths below run "10 s later".
let clock: jest.SpyInstance | undefined;
beforeEach(() => {
  const real = Date.now.bind(Date);
  clock = jest.spyOn(Date, "now").mockImplementation(() => real() + 10_000);
});
afterEach(() => clock?.mockRestore());

function project(files: { [rel: string]: string } = { "d1/a.txt": "a", "d1/d2/b.txt": "b", "c.txt": "c" }): { root: string; model: string; spec: BuildContextSpec } {
  const root = path.join(sandbox(), `p${counter++}`);
  const { model, spec } = modelProject(root, files, { owner: "T", generatedFiles: { "app/host.json": "{}" } });
  return { root, model, spec };
}

const manifests = (): string[] => fs.readdirSync(stagingRoot()).filter((n) => n.startsWith("input-"));
/** The manifest of the model folder `model` (the other inputs have theirs too). */
const modelManifests = (model: string): string[] =>
  manifests().filter((n) => {
    const text = fs.readFileSync(path.join(stagingRoot(), n), "utf8");
    return text.includes(fs.realpathSync(model)) && text.includes("model/m/");
  });

/** Folders of `model` listed during `f`. */
function listingsOf(model: string, f: () => void): string[] {
  const readdir = fs.readdirSync as unknown as jest.Mock;
  readdir.mockClear();
  f();
  return readdir.mock.calls.map((c) => String(c[0])).filter((p) => p === model || p.startsWith(`${model}${path.sep}`));
}

describe("the model folder's manifest", () => {
  test("an unchanged re-synth lists none of the model's folders and gives the same fingerprint, files and image", () => {
    const { model, spec } = project();
    const first = stageContext(spec);
    expect(modelManifests(model)).toHaveLength(1);
    let again = first;
    expect(listingsOf(model, () => (again = stageContext(spec)))).toEqual([]);
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.files).toEqual(first.files);
    expect(imageViewText(again.directory)).toEqual(imageViewText(first.directory));
    expect(imageViewText(again.directory)["model/m/d1/d2/b.txt"]).toBe("b");
    // A walk without the manifest agrees.
    expect(computeFingerprint(spec)).toBe(first.fingerprint);
  });

  test("a context staged afresh from the manifest (big files as files, small ones in the pack) is the one a walk stages", () => {
    const big = "B".repeat(70 << 10);
    const { model, spec } = project({ "d1/a.txt": "a", "d1/big.bin": big, "c.txt": "c" });
    const first = stageContext(spec);
    const image = imageViewText(first.directory);
    expect(first.files.filter((f) => f.startsWith("model"))).toEqual(["model-small-files.tar", "model/m/d1/big.bin"]);
    const walkedArchive = first.context.writeArchive(path.join(sandbox(), `walked${counter++}.tar.gz`)).file;
    fs.rmSync(first.directory, { recursive: true });
    let again = first;
    expect(listingsOf(model, () => (again = stageContext(spec)))).toEqual([]);
    expect(again.files).toEqual(first.files);
    // The ACR build's archive, from the manifest's inputs, is the archive of the walk.
    const manifestArchive = again.context.writeArchive(path.join(sandbox(), `manifest${counter++}.tar.gz`)).file;
    expect(fs.readFileSync(manifestArchive).equals(fs.readFileSync(walkedArchive))).toBe(true);
    expect(imageViewText(again.directory)).toEqual(image);
    expect(image["model/m/d1/big.bin"]).toBe(big);
  });

  test.each<[string, (model: string) => void]>([
    ["a file added deep down", (m) => fs.writeFileSync(path.join(m, "d1", "d2", "new.txt"), "new")],
    ["a file removed", (m) => fs.rmSync(path.join(m, "d1", "a.txt"))],
    ["a file renamed", (m) => fs.renameSync(path.join(m, "c.txt"), path.join(m, "e.txt"))],
    ["a file replaced by a folder of the same name", (m) => (fs.rmSync(path.join(m, "c.txt")), fs.mkdirSync(path.join(m, "c.txt")), fs.writeFileSync(path.join(m, "c.txt", "x"), "c"))],
    ["a .dockerignore line added", (m) => fs.writeFileSync(path.join(m, ".dockerignore"), "d1/d2\n")],
    ["an empty folder added", (m) => fs.mkdirSync(path.join(m, "d1", "empty"))],
  ])("%s: the next synth walks again and agrees with a fresh walk", (_, change) => {
    const { model, spec } = project();
    const first = stageContext(spec);
    expect(modelManifests(model).length).toBeGreaterThan(0);
    change(model);
    let again = first;
    const listed = listingsOf(model, () => (again = stageContext(spec)));
    expect(listed).toContain(model);
    expect(again.fingerprint).toBe(computeFingerprint(spec));
    // The manifest written by that walk serves the synth after it.
    expect(listingsOf(model, () => expect(stageContext(spec).fingerprint).toBe(again.fingerprint))).toEqual([]);
  });

  test("a file edited in place, same size, mtime set back: read again (its identity changed), listed not again, and the fingerprint a fresh walk gives", () => {
    const { model, spec } = project();
    const first = stageContext(spec);
    const f = path.join(model, "d1", "d2", "b.txt");
    const { atime, mtime } = fs.statSync(f);
    fs.writeFileSync(f, "B");
    fs.utimesSync(f, atime, mtime);
    const open = fs.openSync as unknown as jest.Mock;
    open.mockClear();
    let again = first;
    expect(listingsOf(model, () => (again = stageContext(spec)))).toEqual([]);
    expect(open.mock.calls.map((c) => String(c[0]))).toContain(fs.realpathSync(f));
    expect(again.fingerprint).not.toBe(first.fingerprint);
    expect(again.fingerprint).toBe(computeFingerprint(spec));
    expect(imageViewText(again.directory)["model/m/d1/d2/b.txt"]).toBe("B");
  });

  test("the changes that alter the model alter the fingerprint (the manifest does not hide them)", () => {
    const { model, spec } = project();
    const first = stageContext(spec).fingerprint;
    fs.writeFileSync(path.join(model, "d1", "d2", "new.txt"), "new");
    const second = stageContext(spec).fingerprint;
    expect(second).not.toBe(first);
    expect(imageViewText(stageContext(spec).directory)["model/m/d1/d2/new.txt"]).toBe("new");
  });

  test("the secrets a walk left out are reported again when the manifest serves the synth", () => {
    const { model, spec } = project({ "a.txt": "a", ".env": "SECRET=1", "sub/id_rsa": "key" });
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      stageContext(spec);
      const walked = warn.mock.calls.map((c) => String(c[0]));
      warn.mockClear();
      expect(listingsOf(model, () => stageContext(spec))).toEqual([]);
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual(walked);
      expect(walked.join("\n")).toContain("model/m/.env, model/m/sub/id_rsa");
    } finally {
      warn.mockRestore();
    }
  });

  test("a model folder given as a link to it is served by its manifest too", () => {
    const { root, model, spec } = project();
    const link = path.join(root, "models", "link");
    fs.symlinkSync(model, link);
    const viaLink = { ...spec, model: ModelSource.fromLocalPath(link).resolve("T") };
    const first = stageContext(viaLink);
    expect(listingsOf(fs.realpathSync(model), () => expect(stageContext(viaLink).fingerprint).toBe(first.fingerprint))).toEqual([]);
  });

  test("a model folder on a file system that is not a local disk's (NFS here) is walked every time", () => {
    const { model, spec } = project();
    const first = stageContext(spec);
    const statfs = fs.statfsSync as unknown as jest.Mock;
    statfs.mockImplementation((p: string) => ({ ...jest.requireActual("fs").statfsSync(p), type: 0x6969 }));
    try {
      expect(listingsOf(model, () => expect(stageContext(spec).fingerprint).toBe(first.fingerprint))).toContain(model);
    } finally {
      statfs.mockImplementation(jest.requireActual("fs").statfsSync);
    }
  });

  test("a manifest that cannot be written (a full disk) leaves the synth as it is, and no temporary file", () => {
    const { model, spec } = project();
    const write = fs.writeFileSync as unknown as jest.Mock;
    const actual = jest.requireActual("fs").writeFileSync;
    write.mockImplementation((file: unknown, ...rest: unknown[]) => {
      if (path.basename(String(file)).startsWith("input-")) {
        actual(file, "partial");
        throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      }
      return actual(file, ...rest);
    });
    try {
      const before = manifests();
      const first = stageContext(spec);
      expect(first.fingerprint).toBe(computeFingerprint(spec));
      expect(manifests()).toEqual(before);
      expect(listingsOf(model, () => stageContext(spec))).toContain(model);
    } finally {
      write.mockImplementation(actual);
    }
  });

  test("a folder with a symbolic link is walked every time (a link's target can change unseen)", () => {
    const { model, spec } = project();
    fs.symlinkSync("a.txt", path.join(model, "d1", "link.txt"));
    const first = stageContext(spec);
    expect(listingsOf(model, () => expect(stageContext(spec).fingerprint).toBe(first.fingerprint))).toContain(model);
  });

  test("files changed less than 2 s before the synth: the listing is not kept for reuse", () => {
    clock!.mockRestore();
    clock = undefined;
    const { model, spec } = project();
    const first = stageContext(spec);
    expect(listingsOf(model, () => expect(stageContext(spec).fingerprint).toBe(first.fingerprint))).toContain(model);
  });

  test("a damaged or foreign manifest is ignored", () => {
    const { model, spec } = project();
    const first = stageContext(spec);
    // This model's manifest (earlier tests left theirs in the same staging folder).
    const [manifest] = modelManifests(model).map((n) => path.join(stagingRoot(), n));
    const stored = JSON.parse(fs.readFileSync(manifest, "utf8").slice(65));
    const sealed = (value: unknown): string => `${createHash("sha256").update(JSON.stringify(value)).digest("hex")}\n${JSON.stringify(value)}`;
    const damaged: Array<[string, string]> = [
      ["not JSON", "{"],
      // Damaged: a file left out, its seal no longer matching.
      ["a file missing", `${fs.readFileSync(manifest, "utf8").slice(0, 65)}${JSON.stringify({ ...stored, dests: stored.dests.slice(1), ids: stored.ids.slice(1), sha256s: stored.sha256s.slice(1) })}`],
      // Sealed but wrong in themselves.
      ["a digest that is not one", sealed({ ...stored, sha256s: stored.sha256s.map(() => "0".repeat(63)) })],
      ["another key", sealed({ ...stored, key: "other" })],
      ["lists of other lengths", sealed({ ...stored, dests: stored.dests.slice(1) })],
    ];
    for (const [what, text] of damaged) {
      fs.writeFileSync(manifest, text);
      expect([what, listingsOf(model, () => expect(stageContext(spec).fingerprint).toBe(first.fingerprint)).includes(model)]).toEqual([what, true]);
    }
  });

  test("manifests unused for 7 days are removed by the cleanup", () => {
    const { spec } = project();
    stageContext(spec);
    const before = manifests();
    expect(before.length).toBeGreaterThan(0);
    const old = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    for (const n of before) fs.utimesSync(path.join(stagingRoot(), n), old, old);
    removeOldContexts(stagingRoot(), "0".repeat(64));
    expect(manifests()).toEqual([]);
  });
});
