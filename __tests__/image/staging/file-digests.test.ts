/**
 * File digests (issue 8, synth cost): a file whose identity is unchanged is not read again
 * (lib/image/staging/input-manifest.ts), whatever else changed beside it, and only a file that
 * had settled is trusted by identity; reading a file hashes all of it
 * (lib/image/staging/file-identity.ts).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { computeFingerprint, prepareBuildContext } from "../../../lib/image/build-context";
import { hashFileContent, identityKey, nextReadSize } from "../../../lib/image/staging/file-identity";
import { useStagingSandbox } from "../../staging-sandbox";
import { modelProject } from "../../model-project";

jest.mock("fs", () => {
  const actual = jest.requireActual("fs");
  return { ...actual, openSync: jest.fn(actual.openSync) };
});

const sandbox = useStagingSandbox("file-digests-");
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

// Files are trusted by identity only when they changed 2 s before the synth started: the synths
// below run "10 s later" unless a test says otherwise.
let clock: jest.SpyInstance | undefined;
beforeEach(() => {
  const real = Date.now.bind(Date);
  clock = jest.spyOn(Date, "now").mockImplementation(() => real() + 10_000);
});
afterEach(() => clock?.mockRestore());

let counter = 0;
/** A project whose model folder holds `count` files with distinct content. */
function project(count: number): { model: string; spec: ReturnType<typeof modelProject>["spec"] } {
  const files: { [rel: string]: string } = {};
  for (let i = 0; i < count; i++) files[`d${i % 3}/f${String(i).padStart(4, "0")}.bin`] = `content ${counter} ${i}`;
  return modelProject(path.join(sandbox(), `p${counter++}`), files);
}

/** How many files below `model` a synth of `spec` read. */
function reads(model: string, spec: Parameters<typeof prepareBuildContext>[0]): number {
  const open = fs.openSync as unknown as jest.Mock;
  open.mockClear();
  prepareBuildContext(spec);
  const real = fs.realpathSync(model);
  return open.mock.calls.filter((c) => String(c[0]).startsWith(`${real}${path.sep}`)).length;
}

describe("the digests of an input's files", () => {
  test("an unchanged model is not read again", () => {
    const { model, spec } = project(200);
    expect(reads(model, spec)).toBe(200);
    expect(reads(model, spec)).toBe(0);
    expect(reads(model, spec)).toBe(0);
  });

  test("two deployments' models: each is answered from its own manifest, whichever synth ran last", () => {
    const a = project(50);
    const b = project(50);
    expect(reads(a.model, a.spec)).toBe(50);
    expect(reads(b.model, b.spec)).toBe(50);
    expect(reads(a.model, a.spec)).toBe(0);
    expect(reads(b.model, b.spec)).toBe(0);
  });

  test("new or changed files among known ones: only those are read, and the fingerprint is a fresh walk's", () => {
    const { model, spec } = project(40);
    expect(reads(model, spec)).toBe(40);
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(model, "d1", `new${i}.bin`), `new ${i}`);
    expect(reads(model, spec)).toBe(30);
    const changed = path.join(model, "d2", "f0005.bin");
    fs.writeFileSync(changed, "changed");
    expect(reads(model, spec)).toBe(1);
    expect(prepareBuildContext(spec).fingerprint).toBe(computeFingerprint(spec));
  });

  test("a file changed less than 2 s before the synth is read every time; once settled, not any more", () => {
    clock!.mockRestore();
    clock = undefined;
    const { model, spec } = project(3);
    expect(reads(model, spec)).toBe(3);
    expect(reads(model, spec)).toBe(3);
    const real = Date.now.bind(Date);
    clock = jest.spyOn(Date, "now").mockImplementation(() => real() + 10_000);
    expect(reads(model, spec)).toBe(3);
    expect(reads(model, spec)).toBe(0);
  });

  test("a file edited with its size and mtime kept is read again (its ctime moved), and its new digest counts", () => {
    const { model, spec } = project(3);
    const before = prepareBuildContext(spec).fingerprint;
    const file = path.join(model, "d0", "f0000.bin");
    const { atime, mtime, size } = fs.statSync(file);
    fs.writeFileSync(file, "x".repeat(size));
    fs.utimesSync(file, atime, mtime);
    expect(reads(model, spec)).toBe(1);
    expect(prepareBuildContext(spec).fingerprint).not.toBe(before);
    expect(prepareBuildContext(spec).fingerprint).toBe(computeFingerprint(spec));
  });
});

describe("reading a file for its digest", () => {
  test("the whole file is hashed, its size is told before the read, and the identity is the open file's", () => {
    const f = path.join(sandbox(), `f${counter++}.bin`);
    fs.writeFileSync(f, "0123456789");
    const told: number[] = [];
    const { sha256, identity } = hashFileContent(f, (size) => told.push(size));
    expect(sha256).toBe(sha("0123456789"));
    expect(identity).toBe(identityKey(f));
    expect(told).toEqual([10]);
    const big = path.join(path.dirname(f), "big.bin");
    fs.writeFileSync(big, Buffer.alloc((2 << 20) + 7, 1));
    expect(hashFileContent(big).sha256).toBe(createHash("sha256").update(fs.readFileSync(big)).digest("hex"));
  });

  test("read sizes: one byte past the size seen, whole buffers once a file grew past it", () => {
    const MiB = 1 << 20;
    expect(nextReadSize(0, 4096, MiB)).toBe(4097);
    expect(nextReadSize(0, 0, MiB)).toBe(1);
    expect(nextReadSize(0, 5 * MiB, MiB)).toBe(MiB);
    expect(nextReadSize(5 * MiB, 5 * MiB, MiB)).toBe(1);
    // Grown past the size seen (hint 0, 8 MB file): never a byte per call.
    for (const total of [1, 2, 4097, 8_000_000]) expect(nextReadSize(total, 0, MiB)).toBe(MiB);
    expect(nextReadSize(4097, 4096, MiB)).toBe(MiB);
  });
});
