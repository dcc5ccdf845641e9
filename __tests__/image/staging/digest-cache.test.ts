/**
 * The digest cache's lookups (issue 8, synth cost): an unchanged model is answered from the cache
 * whatever order its files are asked in, a damaged line is never used, and a cache shared by
 * several deployments answers each of them.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { DigestCache, hashFileContent, nextReadSize } from "../../../lib/image/staging/digest-cache";
import { KeptBytes } from "../../../lib/image/staging/kept-bytes";
import { identityKey } from "../../../lib/image/staging/file-identity";
import { useStagingSandbox } from "../../staging-sandbox";

const sandbox = useStagingSandbox("digest-cache-");
/** A clock 2.1 s ahead, so files written just now count as settled (cacheable). */
const later = (): bigint => BigInt(Date.now()) * 1_000_000n + 2_100_000_000n;
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

let counter = 0;
/** `count` files with distinct content; returns their paths in name order. */
function files(count: number): string[] {
  const dir = path.join(sandbox(), `set${counter++}`);
  fs.mkdirSync(dir);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const f = path.join(dir, `f${String(i).padStart(4, "0")}.bin`);
    fs.writeFileSync(f, `content ${i}`);
    out.push(f);
  }
  return out;
}

function cacheFile(): string {
  return path.join(sandbox(), `cache${counter++}.txt`);
}

/** Asks a fresh cache for `order`; returns how many files it had to read. */
function ask(file: string, order: readonly string[]): number {
  const cache = new DigestCache(file, { now: later });
  for (const f of order) expect(cache.digest(f).sha256).toBe(sha(fs.readFileSync(f, "utf8")));
  cache.save();
  return cache.hashedFiles;
}

test("an unchanged set is answered from the cache in the order it was saved, reversed, or shuffled", () => {
  const set = files(200);
  const file = cacheFile();
  expect(ask(file, set)).toBe(200);
  expect(ask(file, set)).toBe(0);
  expect(ask(file, [...set].reverse())).toBe(0);
  const shuffled = set.map((f, i) => [f, (i * 7919) % 200] as const).sort((a, b) => a[1] - b[1]).map(([f]) => f);
  expect(ask(file, shuffled)).toBe(0);
});

test("two deployments' files in one cache: each is answered, whichever saved last", () => {
  const a = files(50);
  const b = files(50);
  const file = cacheFile();
  expect(ask(file, a)).toBe(50);
  expect(ask(file, b)).toBe(50);
  // The file now holds b's lines first: a's lookups find their place and follow it.
  expect(ask(file, a)).toBe(0);
  expect(ask(file, b)).toBe(0);
  expect(ask(file, [...b, ...a])).toBe(0);
});

test("a new or changed model among known files: only the new files are read, the rest still hit", () => {
  const known = files(40);
  const file = cacheFile();
  expect(ask(file, known)).toBe(40);
  // More unknown files than the cache searches for before it builds its map.
  const fresh = files(30);
  expect(ask(file, [...known.slice(0, 20), ...fresh, ...known.slice(20)])).toBe(30);
  fs.writeFileSync(known[5], "changed");
  expect(ask(file, known)).toBe(1);
});

test("a damaged line is never used: that file is read again, the others still hit", () => {
  const set = files(10);
  const file = cacheFile();
  expect(ask(file, set)).toBe(10);
  const lines = fs.readFileSync(file, "latin1").split("\n");
  const third = lines.findIndex((l) => l.startsWith(`${identityKey(set[2])} `));
  const fifth = lines.findIndex((l) => l.startsWith(`${identityKey(set[4])} `));
  // A wrong digest that looks like one (all hex, one character short) and one that is not hex.
  lines[third] = `${identityKey(set[2])} ${"a".repeat(63)}`;
  lines[fifth] = `${identityKey(set[4])} ${"z".repeat(64)}`;
  fs.writeFileSync(file, lines.join("\n"));
  expect(ask(file, set)).toBe(2);
  // Saved again with the right digests.
  expect(ask(file, set)).toBe(0);
});

test("a cache of another format, or cut off in the middle of a line, is only a cache", () => {
  const set = files(5);
  const file = cacheFile();
  fs.writeFileSync(file, JSON.stringify({ format: "aml-function-deployment/digest-cache/v2", entries: [identityKey(set[0]), sha("x")] }));
  expect(ask(file, set)).toBe(5);
  const text = fs.readFileSync(file, "latin1");
  fs.writeFileSync(file, text.slice(0, text.length - 20));
  // The last line lost its end: that file is read again, the others hit.
  expect(ask(file, set)).toBe(1);
});

test("the saved file lists this synth's files first, in the order asked", () => {
  const set = files(3);
  const file = cacheFile();
  ask(file, [set[2], set[0], set[1]]);
  const keys = fs.readFileSync(file, "latin1").trimEnd().split("\n").slice(1).map((l) => l.split(" ")[0]);
  expect(keys).toEqual([identityKey(set[2]), identityKey(set[0]), identityKey(set[1])]);
});

describe("the digest cache", () => {
  test("an unchanged, settled file is not read again; a changed one is", () => {
    const dir = fs.mkdtempSync(path.join(sandbox(), "digest-"));
    const file = path.join(dir, "model.bin");
    fs.writeFileSync(file, "a".repeat(1000));
    const cacheFile = path.join(dir, "cache.json");
    // Fresh files are always re-hashed (a change within the same timestamp tick would not show).
    const c0 = new DigestCache(cacheFile);
    const d0 = c0.digest(file).sha256;
    c0.save();
    const again = new DigestCache(cacheFile);
    expect(again.digest(file).sha256).toBe(d0);
    expect(again.hashedFiles).toBe(1);
    // 2.1 s later (a clock moved forward instead of waiting): settled, so cached from now on.
    const c1 = new DigestCache(cacheFile, { now: later });
    expect(c1.digest(file).sha256).toBe(d0);
    expect(c1.hashedFiles).toBe(1);
    c1.save();
    const c2 = new DigestCache(cacheFile, { now: later });
    expect(c2.digest(file).sha256).toBe(d0);
    expect(c2.hashedFiles).toBe(0);
    // Same size, mtime set back: ctime still moves, so it is read again.
    const { atime, mtime } = fs.statSync(file);
    fs.writeFileSync(file, "b".repeat(1000));
    fs.utimesSync(file, atime, mtime);
    const c3 = new DigestCache(cacheFile, { now: later });
    expect(c3.digest(file).sha256).not.toBe(d0);
    expect(c3.hashedFiles).toBe(1);
    // The changed file's old entry is dropped when the cache is saved again.
    c3.save();
    const saved = fs.readFileSync(cacheFile, "utf8").trimEnd().split("\n");
    expect(saved).toEqual(["aml-function-deployment/digest-cache/v3", `${identityKey(file)} ${c3.digest(file).sha256}`]);
  });

  test("a damaged cache file is ignored", () => {
    const dir = fs.mkdtempSync(path.join(sandbox(), "digest-"));
    fs.writeFileSync(path.join(dir, "m"), "x");
    fs.writeFileSync(path.join(dir, "cache.json"), "{not json");
    const c = new DigestCache(path.join(dir, "cache.json"));
    expect(c.digest(path.join(dir, "m")).sha256).toBe("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
  });
});

describe("reading a file for its digest", () => {
  test("the whole file is hashed whatever size was seen, and the identity is the file's after the read", () => {
    const [f] = files(1);
    fs.writeFileSync(f, "0123456789");
    for (const seen of [0, 3, 9, 10, 11, 5000]) {
      const { sha256, identity } = hashFileContent(f, seen);
      expect(sha256).toBe(sha("0123456789"));
      expect(identity).toBe(identityKey(f));
    }
    const big = path.join(path.dirname(f), "big.bin");
    fs.writeFileSync(big, Buffer.alloc((2 << 20) + 7, 1));
    expect(hashFileContent(big, (2 << 20) + 7).sha256).toBe(createHash("sha256").update(fs.readFileSync(big)).digest("hex"));
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

  test("a small file's bytes are kept as they were hashed; a file that changed between lookup and read is not kept", () => {
    const [f, g] = files(2);
    const keep = new KeptBytes();
    const cache = new DigestCache(undefined, { now: later });
    const first = cache.digest(f, keep);
    expect(first.content?.toString()).toBe("content 0");
    expect(keep.keptBytes).toBe("content 0".length);
    // Asked again in the same synth: answered without reading, so nothing new is kept.
    expect(cache.digest(f, keep).content).toBeUndefined();
    // The file read is not the one looked up (a link's identity is looked up, its target is
    // read): the digest is the target's, but its bytes are not kept.
    const link = `${g}.link`;
    fs.symlinkSync(g, link);
    const linked = cache.digest(link, keep);
    expect(linked.sha256).toBe(sha("content 1"));
    expect(linked.content).toBeUndefined();
    expect(keep.keptBytes).toBe("content 0".length);
  });
});

describe("kept bytes", () => {
  test("copies of files up to 64 KiB, 64 MiB in all, and nothing once the budget is spent", () => {
    const keep = new KeptBytes();
    const small = Buffer.from("abc");
    const kept = keep.keep(small)!;
    small[0] = 0x78;
    expect(kept.toString()).toBe("abc");
    expect(keep.keep(Buffer.alloc((64 << 10) + 1))).toBeUndefined();
    const full = Buffer.alloc(64 << 10, 7);
    let count = 0;
    while (keep.keep(full) !== undefined) count++;
    // 3 bytes + 1023 × 64 KiB fit into 64 MiB; the 1024th does not.
    expect(count).toBe(1023);
    expect(keep.keptBytes).toBe(3 + 1023 * (64 << 10));
    const left = (64 << 20) - keep.keptBytes;
    expect(keep.keep(Buffer.alloc(left + 1))).toBeUndefined();
    expect(keep.keep(Buffer.alloc(left, 1))?.length).toBe(left);
    expect(keep.keep(Buffer.from("x"))).toBeUndefined();
  });
});
