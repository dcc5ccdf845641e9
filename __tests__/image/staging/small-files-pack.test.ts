/**
 * The model's small-files pack (lib/image/staging/small-files-pack.ts): a tar that Python's
 * tarfile (what the real-worker test unpacks with) and GNU tar read as the files given, of the
 * size computed in advance, and a member that is not the file hashed any more fails the write.
 */
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { BuildContextSpec, stageBuildContext, stagingRoot } from "../../../lib/image/build-context";
import { InputChangedError, TarSink, TarWriter } from "../../../lib/image/build/tar-writer";
import { identityKey } from "../../../lib/image/staging/file-identity";
import { PackMember, smallFilesPackSize, writeSmallFilesPack } from "../../../lib/image/staging/small-files-pack";
import { useStagingSandbox } from "../../staging-sandbox";
import { packEntries } from "../../context-view";
import { modelProject } from "../../model-project";

const sandbox = useStagingSandbox("small-files-pack-test-");
let counter = 0;

/** The pack of `members` as bytes. */
function pack(members: readonly PackMember[]): Buffer {
  const chunks: Buffer[] = [];
  const sink: TarSink = { write: (b) => chunks.push(Buffer.from(b)), setLevel: () => undefined };
  writeSmallFilesPack(new TarWriter(sink, 0), members);
  return Buffer.concat(chunks);
}

const text = (p: string, s: string): PackMember => ({ path: p, size: Buffer.byteLength(s), input: { content: Buffer.from(s) } });

/** Python's tarfile listing of a tar: [name, type, mode, uid, gid, mtime, content as text]. */
function pythonList(file: string): Array<[string, string, number, number, number, number, string]> {
  const script = "import json,sys,tarfile\nt=tarfile.open(sys.argv[1],'r:')\nprint(json.dumps([[m.name,'dir' if m.isdir() else 'file' if m.isfile() else 'other',m.mode,m.uid,m.gid,m.mtime,t.extractfile(m).read().decode() if m.isfile() else ''] for m in t.getmembers()]))";
  const r = spawnSync("python3", ["-c", script, file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe("the small-files pack", () => {
  const long = `deep/${"d".repeat(120)}/${"e".repeat(140)}/weights-${"w".repeat(60)}.bin`;
  const members = [text("m/a-b", "dash"), text("m/a/x.json", "{}"), text("m/empty", ""), text(`m/${long}`, "long"), text("m/日本/é 1.txt", "unicode")].sort((a, b) => (a.path < b.path ? -1 : 1));

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
      const member = members.find((m) => m.path === name);
      if (type === "file") expect(content).toBe(Buffer.from((member!.input as { content: Uint8Array }).content).toString("utf8"));
    }
    // GNU tar agrees on the names (pax headers for the long ones).
    const gnu = spawnSync("tar", ["-tf", file], { encoding: "utf8" });
    expect(gnu.status).toBe(0);
    expect(gnu.stdout.split("\n").filter(Boolean)).toContain(`m/${long}`);
  });

  test("its size is known before it is written, long paths (pax headers) included", () => {
    expect(pack(members).length).toBe(smallFilesPackSize(members));
    expect(pack([]).length).toBe(smallFilesPackSize([]));
    // The pax record holds the size too: for some path lengths its digits push the record over a
    // block boundary. Every length from 90 to 620, with a 5-digit size.
    const bytes = Buffer.alloc(10_000, 3);
    for (let n = 90; n <= 620; n++) {
      const one: PackMember[] = [{ path: `m/${"p".repeat(n)}`, size: bytes.length, input: { content: bytes } }];
      expect([n, pack(one).length]).toEqual([n, smallFilesPackSize(one)]);
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
    const member: PackMember = { path: "m/w.bin", size: 10, input: { path: file, identity: id } };
    expect(pythonList(writeTo(pack([member])))[2][6]).toBe("0123456789");
    const { atime, mtime } = fs.statSync(file);
    fs.writeFileSync(file, "abcdefghij");
    fs.utimesSync(file, atime, mtime);
    expect(() => pack([member])).toThrow(InputChangedError);
    expect(() => pack([{ ...member, input: { path: file, identity: identityKey(file) }, size: 9 }])).toThrow(/became longer/);
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

describe("the pack written while the model is hashed (local build)", () => {
  // Digests and memos are kept only for files changed 2 s before the synth: run "10 s later".
  let clock: jest.SpyInstance | undefined;
  beforeEach(() => {
    const real = Date.now.bind(Date);
    clock = jest.spyOn(Date, "now").mockImplementation(() => real() + 10_000);
  });
  afterEach(() => clock?.mockRestore());

  const MODEL = { "a.txt": "a", "deep/er/b.json": "{}", "big.bin": Buffer.alloc(70 << 10, 5), "日本/c.txt": "unicode" };

  /** A new project (written once); its spec with or without the pack written while hashing. */
  function newProject(): (packWhileHashing: boolean) => BuildContextSpec {
    const { spec } = modelProject(path.join(sandbox(), `stream${counter++}`), MODEL);
    return (packWhileHashing) => ({ ...spec, packWhileHashing });
  }

  const leftovers = (): string[] => fs.readdirSync(stagingRoot()).filter((n) => n.startsWith(".staging-pack-"));
  const packOf = (dir: string): Buffer => fs.readFileSync(path.join(dir, "model-small-files.tar"));

  test("gives the pack that staging writes from the files, and leaves no temporary file", () => {
    const specFor = newProject();
    const streamed = stageBuildContext(specFor(true));
    // Written while hashing, before the folder is staged; moved into it when it is.
    expect(leftovers().length).toBe(1);
    const streamedPack = packOf(streamed.directory);
    expect(leftovers()).toEqual([]);
    fs.rmSync(streamed.directory, { recursive: true });
    // The same context staged without it (the memo serves the walk; the pack comes from the files).
    const plain = stageBuildContext(specFor(false));
    expect(plain.fingerprint).toBe(streamed.fingerprint);
    expect(packOf(plain.directory).equals(streamedPack)).toBe(true);
    expect(packEntries(path.join(plain.directory, "model-small-files.tar"))).toEqual(["./", "m/", "m/a.txt", "m/deep/", "m/deep/er/", "m/deep/er/b.json", "m/日本/", "m/日本/c.txt"]);
  });

  test("is given up when a file's digest comes from the cache (not read), and staging writes the pack as before", () => {
    const specFor = newProject();
    const first = stageBuildContext(specFor(true));
    const pack = packOf(first.directory);
    // No memo and no staged context: the walk runs, the digests come from the cache.
    for (const n of fs.readdirSync(stagingRoot()).filter((n) => n.startsWith("folder-memo-"))) fs.rmSync(path.join(stagingRoot(), n));
    fs.rmSync(first.directory, { recursive: true });
    const again = stageBuildContext(specFor(true));
    expect(leftovers()).toEqual([]);
    expect(packOf(again.directory).equals(pack)).toBe(true);
  });

  test("is removed when the context is already staged", () => {
    const specFor = newProject();
    const first = stageBuildContext(specFor(true));
    void first.directory;
    // A new synth that reads the model again (memo gone) but finds the context staged.
    for (const n of fs.readdirSync(stagingRoot()).filter((n) => n.startsWith("folder-memo-") || n === "file-digests.txt")) fs.rmSync(path.join(stagingRoot(), n));
    const again = stageBuildContext(specFor(true));
    expect(leftovers().length).toBe(1);
    expect(again.directory).toBe(first.directory);
    expect(leftovers()).toEqual([]);
  });
});

describe("staging the pack", () => {
  test("a small file past the kept-bytes budget, edited after it was hashed, fails the synth with the file named", () => {
    // 1,100 files of 64 KiB: more than the 64 MiB kept from hashing, so the last ones are read
    // again when the pack is written, and must be the files hashed.
    const block = Buffer.alloc(64 * 1024, 1);
    const files: { [rel: string]: Buffer } = {};
    for (let i = 0; i < 1100; i++) files[`f${String(i).padStart(4, "0")}.bin`] = block;
    const { model, spec } = modelProject(path.join(sandbox(), `budget${counter++}`), files);
    const context = stageBuildContext(spec);
    const last = path.join(model, "f1099.bin");
    const { atime, mtime } = fs.statSync(last);
    fs.writeFileSync(last, Buffer.alloc(64 * 1024, 2));
    fs.utimesSync(last, atime, mtime);
    expect(() => context.directory).toThrow(`Deployment: invalid buildContext ${JSON.stringify(fs.realpathSync(last))}: the file changed while it was being staged`);
  });
});
