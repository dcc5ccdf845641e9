/**
 * A file's identity as the file system reports it: device, inode, size, modification and
 * status-change times in nanoseconds. Writing to a file changes its mtime and ctime; ctime
 * cannot be set back by a user (utimes sets it to "now"), so a file with the same identity
 * has not been changed in between (up to timestamp granularity: see SETTLE_NS).
 */
import * as fs from "fs";

export interface FileIdentity {
  readonly dev: string;
  readonly ino: string;
  readonly size: number;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

/** Files changed less than this long before they were read are not trusted by identity. */
export const SETTLE_NS = 2_000_000_000n;

/**
 * A file's identity as one string, `dev:ino:size:mtimeNs:ctimeNs`: cheaper to record, load and
 * compare for tens of thousands of files than an object per file. Equal strings = same identity.
 */
export function identityKey(file: string): string {
  return keyOf(fs.lstatSync(file, { bigint: true }));
}

/**
 * The {@link identityKey} of the file open as `fd`: the inode that was read, whatever the path
 * names by now (and no path lookup, which costs more than the call).
 */
export function identityKeyOfOpenFile(fd: number): string {
  return keyOf(fs.fstatSync(fd, { bigint: true }));
}

function keyOf(s: fs.BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/**
 * The size field of an {@link identityKey} string, without splitting it (read once per file of a
 * 20,000-file context).
 */
export function sizeInIdentityKey(key: string): number {
  const start = key.indexOf(":", key.indexOf(":") + 1) + 1;
  return Number(key.slice(start, key.indexOf(":", start)));
}

/** `dev:ino` of an {@link identityKey} string: which file it is, whatever its content. */
export function inodeInIdentityKey(key: string): string {
  return key.slice(0, key.indexOf(":", key.indexOf(":") + 1));
}

/** The identity an {@link identityKey} string stands for. */
export function parseIdentityKey(key: string): FileIdentity {
  const [dev, ino, size, mtimeNs, ctimeNs] = key.split(":");
  return { dev, ino, size: Number(size), mtimeNs, ctimeNs };
}

/** Wall-clock now in nanoseconds (the clock file times use). */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** True when the file changed long enough before `when` that a later change shows in its times. */
export function settledBefore(id: FileIdentity, when: bigint): boolean {
  const changed = BigInt(id.mtimeNs) > BigInt(id.ctimeNs) ? BigInt(id.mtimeNs) : BigInt(id.ctimeNs);
  return changed + SETTLE_NS <= when;
}
