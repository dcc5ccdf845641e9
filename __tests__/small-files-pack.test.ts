/**
 * The model's small-files pack (lib/image/staging/small-files-pack.ts): a tar that Python's
 * tarfile (what the real-worker test unpacks with) and GNU tar read as the files given, of the
 * size computed in advance, and a member that is not the file hashed any more fails the write.
 */
import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { prepareBuildContext, stagingRoot } from "../lib/image/build-context";
import type { ContextFile } from "../lib/image/staging/context-file";
import { identityKey } from "../lib/image/staging/file-identity";
import { smallFilesPackSize, writeSmallFilesPack } from "../lib/image/staging/small-files-pack";
import { InputChangedError, TarSink, TarWriter } from "../lib/image/staging/tar";
import { useStagingSandbox } from "./staging-sandbox";
import { imageView, packEntries } from "./context-view";
import { modelProject } from "./model-project";

const sandbox = useStagingSandbox("small-files-pack-test-");
let counter = 0;

/** A member of the pack: a context file below `model/`. */
type PackMember = ContextFile;

/** The pack of `members` as bytes. */
function pack(members: readonly PackMember[]): Buffer {
  const chunks: Buffer[] = [];
  const sink: TarSink = { write: (b) => chunks.push(Buffer.from(b)), setLevel: () => undefined };
  writeSmallFilesPack(new TarWriter(sink, 0), members);
  return Buffer.concat(chunks);
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

  test("its size is known before it is written, long paths (pax headers) included", () => {
    expect(pack(members).length).toBe(smallFilesPackSize(members));
    expect(pack([]).length).toBe(smallFilesPackSize([]));
    // The pax record holds the size too: for some path lengths its digits push the record over a
    // block boundary. Every length from 90 to 620, with a 5-digit size.
    const bytes = Buffer.alloc(10_000, 3);
    for (let n = 90; n <= 620; n++) {
      const one: PackMember[] = [{ dest: `model/m/${"p".repeat(n)}`, size: bytes.length, content: bytes }];
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
