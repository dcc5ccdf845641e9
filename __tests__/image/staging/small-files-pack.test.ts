/**
 * The model's small-files pack (lib/image/staging/small-files-pack.ts): a tar that Python's
 * tarfile (what the real-worker test unpacks with) and GNU tar read as the files given, also in
 * the ACR archive, and a member that is not the file hashed any more fails the write.
 */
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { prepareBuildContext, stagingRoot } from "../../../lib/image/build-context";
import type { ContextFile } from "../../../lib/image/staging/context-file";
import { identityKey } from "../../../lib/image/staging/file-identity";
import { SMALL_FILES_PACK, writeSmallFilesPackFile } from "../../../lib/image/staging/small-files-pack";
import { InputChangedError } from "../../../lib/image/staging/tar";
import { useStagingSandbox } from "../../staging-sandbox";
import { imageView, packEntries } from "../../context-view";
import { modelProject } from "../../model-project";

jest.mock("fs", () => {
  const actual = jest.requireActual("fs");
  return { ...actual, openSync: jest.fn(actual.openSync) };
});

const sandbox = useStagingSandbox("small-files-pack-test-");
let counter = 0;

/** A member of the pack: a context file below `model/`. */
type PackMember = ContextFile;

/** The pack of `members` as bytes. */
function pack(members: readonly PackMember[]): Buffer {
  const file = path.join(sandbox(), `pack${counter++}.tar`);
  try {
    writeSmallFilesPackFile(file, { dest: SMALL_FILES_PACK, pack: members });
    return fs.readFileSync(file);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

const text = (p: string, s: string): PackMember => ({ dest: `model/${p}`, size: Buffer.byteLength(s), content: Buffer.from(s) });

/** Python's tarfile listing of a tar: [name, type, mode, uid, gid, mtime, content as text]. */
function pythonList(file: string): Array<[string, string, number, number, number, number, string]> {
  const script = "import json,sys,tarfile\nt=tarfile.open(sys.argv[1],'r:')\nprint(json.dumps([[m.name,'dir' if m.isdir() else 'file' if m.isfile() else 'other',m.mode,m.uid,m.gid,m.mtime,t.extractfile(m).read().decode() if m.isfile() else ''] for m in t.getmembers()]))";
  const r = spawnSync("python3", ["-c", script, file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe("the small-files pack", () => {
  const long = `deep/${"d".repeat(120)}/${"e".repeat(140)}/weights-${"w".repeat(60)}.bin`;
  const members = [text("m/a-b", "dash"), text("m/a/x.json", "{}"), text("m/empty", ""), text(`m/${long}`, "long"), text("m/日本/é 1.txt", "unicode")].sort((a, b) => (a.dest < b.dest ? -1 : 1));

  test("Python's tarfile reads every file with its bytes, folders first, modes 0644/0755, root, mtime 0", () => {
    const file = path.join(sandbox(), `p${counter++}.tar`);
    fs.writeFileSync(file, pack(members));
    const listed = pythonList(file);
    expect(listed.map(([name, type]) => `${type} ${name}`)).toEqual([
      "dir .",
      "dir m",
      "file m/a-b",
      "dir m/a",
      "file m/a/x.json",
      "dir m/deep",
      `dir m/deep/${"d".repeat(120)}`,
      `dir m/deep/${"d".repeat(120)}/${"e".repeat(140)}`,
      `file m/${long}`,
      "file m/empty",
      "dir m/日本",
      "file m/日本/é 1.txt",
    ]);
    for (const [name, type, mode, uid, gid, mtime, content] of listed) {
      expect([mode, uid, gid, mtime]).toEqual([type === "dir" ? 0o755 : 0o644, 0, 0, 0]);
      const member = members.find((m) => m.dest === `model/${name}`);
      if (type === "file") expect(content).toBe(member!.content!.toString("utf8"));
    }
    // GNU tar agrees on the names (pax headers for the long ones).
    const gnu = spawnSync("tar", ["-tf", file], { encoding: "utf8" });
    expect(gnu.status).toBe(0);
    expect(gnu.stdout.split("\n").filter(Boolean)).toContain(`m/${long}`);
  });

  test("in the ACR archive, a pack with long and non-ASCII paths (pax headers) is whole, both as written while hashing and as written from the files", () => {
    const files: { [rel: string]: string } = { "a.txt": "a", "日本/é 1.txt": "unicode" };
    // The pax record holds the size too: for some path lengths its digits push the record over a
    // block boundary. Lengths around 100 and 512, with a 5-digit size.
    for (const n of [98, 99, 100, 101, 155, 156, 255, 256, 470, 500, 511, 512, 513]) {
      // Folders of 99 characters (a name holds 255 bytes at most), then the file's own name.
      const rel = `${"d".repeat(99)}/`.repeat(Math.floor((n - 10) / 100)) + `f${n}`;
      files[`${rel}${"p".repeat(n - rel.length - 4)}.bin`] = "x".repeat(10_000 + n);
    }
    const { spec } = modelProject(path.join(sandbox(), `long${counter++}`), files);
    const unpackedPack = (context: ReturnType<typeof prepareBuildContext>): { [rel: string]: string } => {
      const archive = context.writeArchive(path.join(sandbox(), `long${counter++}.tar.gz`)).file;
      const out = fs.mkdtempSync(path.join(sandbox(), "x-"));
      expect(spawnSync("python3", ["-m", "tarfile", "-e", archive, out]).status).toBe(0);
      const listed = pythonList(path.join(out, SMALL_FILES_PACK)).filter(([, type]) => type === "file");
      return Object.fromEntries(listed.map(([name, , , , , , content]) => [name, content]));
    };
    const expected = Object.fromEntries(Object.entries(files).map(([rel, text]) => [`m/${rel}`, text]));
    // Digests are kept only for files changed 2 s before the synth: run "10 s later".
    const real = Date.now.bind(Date);
    const clock = jest.spyOn(Date, "now").mockImplementation(() => real() + 10_000);
    const open = fs.openSync as unknown as jest.Mock;
    open.mockClear();
    const readsA = (): boolean => open.mock.calls.some((c) => String(c[0]).endsWith(`${path.sep}a.txt`));
    try {
      const first = prepareBuildContext(spec);
      expect(readsA()).toBe(true);
      expect(unpackedPack(first)).toEqual(expected);
      // The digests come from the manifest now: the pack is written from the files.
      open.mockClear();
      const again = prepareBuildContext(spec);
      expect(readsA()).toBe(false);
      expect(unpackedPack(again)).toEqual(expected);
      expect(readsA()).toBe(true);
    } finally {
      clock.mockRestore();
    }
  });

  test("without files it still holds its ./ entry, so it is never an empty file that Docker would not unpack", () => {
    const file = path.join(sandbox(), `empty${counter++}.tar`);
    fs.writeFileSync(file, pack([]));
    expect(fs.statSync(file).size).toBe(3 * 512);
    expect(pythonList(file).map(([name, type]) => `${type} ${name}`)).toEqual(["dir ."]);
    expect(packEntries(file)).toEqual(["./"]);
  });

  test("a member read from its file must still be the file hashed", () => {
    const file = path.join(sandbox(), `m${counter++}.bin`);
    fs.writeFileSync(file, "0123456789");
    const id = identityKey(file);
    const member: PackMember = { dest: "model/m/w.bin", size: 10, source: file, id };
    expect(pythonList(writeTo(pack([member])))[2][6]).toBe("0123456789");
    const { atime, mtime } = fs.statSync(file);
    fs.writeFileSync(file, "abcdefghij");
    fs.utimesSync(file, atime, mtime);
    expect(() => pack([member])).toThrow(InputChangedError);
    expect(() => pack([{ ...member, id: identityKey(file), size: 9 }])).toThrow(/became longer/);
    fs.rmSync(file);
    expect(() => pack([member])).toThrow(InputChangedError);
    expect(() => pack([member])).toThrow(/could not be read again \(ENOENT\)/);
  });

  function writeTo(bytes: Buffer): string {
    const file = path.join(sandbox(), `w${counter++}.tar`);
    fs.writeFileSync(file, bytes);
    return file;
  }
});

describe("staging the pack", () => {
  // Digests are kept only for files changed 2 s before the synth: run "10 s later".
  let clock: jest.SpyInstance | undefined;
  beforeEach(() => {
    const real = Date.now.bind(Date);
    clock = jest.spyOn(Date, "now").mockImplementation(() => real() + 10_000);
  });
  afterEach(() => clock?.mockRestore());

  const edit = (file: string): void => {
    const { atime, mtime } = fs.statSync(file);
    fs.writeFileSync(file, "abcdefghij");
    fs.utimesSync(file, atime, mtime);
  };

  test("written while the files are hashed: a small file edited before staging is staged as it was hashed", () => {
    const { model, spec } = modelProject(path.join(sandbox(), `hashed${counter++}`), { "a.bin": "a", "f.bin": "0123456789" });
    const context = prepareBuildContext(spec);
    edit(path.join(model, "f.bin"));
    expect(imageView(context.stageFolder().directory)["model/m/f.bin"].toString("utf8")).toBe("0123456789");
    expect(fs.readdirSync(stagingRoot()).filter((n) => n.startsWith(".staging-pack-"))).toEqual([]);
  });

  test("written from the files (their digests came from the manifest): a small file edited after it was hashed fails the synth with the file named", () => {
    const { model, spec } = modelProject(path.join(sandbox(), `edited${counter++}`), { "a.bin": "a", "f.bin": "0123456789" });
    fs.rmSync(prepareBuildContext(spec).stageFolder().directory, { recursive: true });
    const context = prepareBuildContext(spec);
    const edited = path.join(model, "f.bin");
    edit(edited);
    expect(() => context.stageFolder()).toThrow(`Deployment: invalid buildContext ${JSON.stringify(fs.realpathSync(edited))}: the file changed while it was being staged`);
  });

  test("the pack written while hashing and the pack written from the files are the same bytes", () => {
    const { spec } = modelProject(path.join(sandbox(), `same${counter++}`), { "a.txt": "a", "deep/er/b.json": "{}", "big.bin": Buffer.alloc(70 << 10, 5), "日本/c.txt": "unicode" });
    const packOf = (dir: string): Buffer => fs.readFileSync(path.join(dir, "model-small-files.tar"));
    const first = prepareBuildContext(spec).stageFolder().directory;
    const whileHashing = packOf(first);
    fs.rmSync(first, { recursive: true });
    // The digests come from the manifest now: nothing is read while hashing.
    const again = prepareBuildContext(spec).stageFolder().directory;
    expect(packOf(again).equals(whileHashing)).toBe(true);
    expect(packEntries(path.join(again, "model-small-files.tar"))).toEqual(["./", "m/", "m/a.txt", "m/deep/", "m/deep/er/", "m/deep/er/b.json", "m/日本/", "m/日本/c.txt"]);
  });
});
