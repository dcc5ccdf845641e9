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

export function identityOf(file: string): FileIdentity {
  const s = fs.lstatSync(file, { bigint: true });
  return { dev: s.dev.toString(), ino: s.ino.toString(), size: Number(s.size), mtimeNs: s.mtimeNs.toString(), ctimeNs: s.ctimeNs.toString() };
}

/**
 * The same identity as one string, `dev:ino:size:mtimeNs:ctimeNs`: cheaper to record, load and
 * compare for tens of thousands of files than an object per file. Equal strings = same identity.
 */
export function identityKey(file: string): string {
  const s = fs.lstatSync(file, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** The identity an {@link identityKey} string stands for. */
export function parseIdentityKey(key: string): FileIdentity {
  const [dev, ino, size, mtimeNs, ctimeNs] = key.split(":");
  return { dev, ino, size: Number(size), mtimeNs, ctimeNs };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
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
