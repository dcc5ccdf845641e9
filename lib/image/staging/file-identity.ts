/**
 * What a file is: its identity as the file system reports it, and the sha256 of its content.
 *
 * The identity is device, inode, size, modification and status-change times in nanoseconds, as
 * one string `dev:ino:size:mtimeNs:ctimeNs` (cheaper to record and compare for tens of thousands
 * of files than an object each). Writing to a file changes its mtime and ctime; ctime cannot be
 * set back by a user (utimes sets it to "now"), so a file with the same identity has not been
 * changed in between, up to timestamp granularity: see SETTLE_NS.
 */
import { createHash } from "crypto";
import * as fs from "fs";

/** Files changed less than this long before they were read are not trusted by identity. */
export const SETTLE_NS = 2_000_000_000n;

function keyOf(s: fs.BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** The identity of the file (or folder) at `file`, not following a link. */
export function identityKey(file: string): string {
  return keyOf(fs.lstatSync(file, { bigint: true }));
}

/** The identity of the file open as `fd`: the inode that was read, whatever the path names by now. */
export function identityKeyOfOpenFile(fd: number): string {
  return keyOf(fs.fstatSync(fd, { bigint: true }));
}

/** The size field of an identity, without splitting it (read once per file of a 20,000-file context). */
export function sizeInIdentityKey(key: string): number {
  const start = key.indexOf(":", key.indexOf(":") + 1) + 1;
  return Number(key.slice(start, key.indexOf(":", start)));
}

/** Wall-clock now in nanoseconds (the clock file times use). */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** True when the file with identity `key` changed long enough before `when` that a later change shows in its times. */
export function settledBefore(key: string, when: bigint): boolean {
  const [, , , mtimeNs, ctimeNs] = key.split(":");
  const changed = BigInt(mtimeNs) > BigInt(ctimeNs) ? BigInt(mtimeNs) : BigInt(ctimeNs);
  return changed + SETTLE_NS <= when;
}

/** One read buffer for all files: allocating 1 MiB per file costs more than hashing 4 KiB. */
const buffer = Buffer.allocUnsafe(1 << 20);

/**
 * How many bytes to ask for next, having read `total` of a file whose size was seen as `size`:
 * up to one byte past that size (getting it means the file grew), then, once past it, whole
 * buffers (a file growing while it is read must not be read a byte per call).
 */
export function nextReadSize(total: number, size: number, bufferLength: number): number {
  return total <= size ? Math.min(bufferLength, size - total + 1) : bufferLength;
}

/**
 * sha256 of a file's content, read in 1 MiB chunks, with the identity of the open file taken
 * before the read (the inode read, whatever the path names by now) and `whole`, a view of its bytes
 * when one read got them all (valid until the next call). `beforeRead` is told the size first.
 * A write during the read leaves that identity behind: the digest is then trusted under an
 * identity the file never has again, and a copy checked against it fails (stage-folder.ts, tar.ts).
 * A file whose size changed during the read gets the identity it has after it.
 */
export function hashFileContent(file: string, beforeRead?: (size: number) => void): { sha256: string; identity: string; whole?: Buffer } {
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    let identity = identityKeyOfOpenFile(fd);
    const size = sizeInIdentityKey(identity);
    beforeRead?.(size);
    let total = 0;
    let reads = 0;
    for (;;) {
      // A short read that ends at the size seen is the end: no call to find it.
      const asked = nextReadSize(total, size, buffer.length);
      const read = fs.readSync(fd, buffer, 0, asked, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      total += read;
      reads++;
      if (read < asked && total === size) break;
    }
    if (total !== size) identity = identityKeyOfOpenFile(fd);
    return { sha256: hash.digest("hex"), identity, whole: reads <= 1 ? buffer.subarray(0, total) : undefined };
  } finally {
    fs.closeSync(fd);
  }
}
