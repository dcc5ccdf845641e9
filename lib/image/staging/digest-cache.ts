/**
 * sha256 of file contents, cached by file identity (device, inode, size, mtime, ctime in ns) so
 * that an unchanged model is not read again on the next synth. A file is only cached when it had
 * not changed for SETTLE_NS before hashing began (a change right after hashing could otherwise
 * keep the same timestamps); files changed more recently are re-hashed every time.
 *
 * The cache file lives in the private staging root (0700, owner checked), so only this user can
 * change it. It is written atomically (temp file + rename) and only when something new was hashed.
 * Its entries are flat `[identityKey, sha256, ...]` string pairs: for 20,000 files, loading them
 * costs a few milliseconds, where an object per file cost more than the lookups it saves.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { identityKey, nowNs, parseIdentityKey, settledBefore } from "./file-identity";

const FORMAT = "aml-function-deployment/digest-cache/v2";
/** Upper bound on cached files; the ones used by the latest synth are kept first. */
const MAX_ENTRIES = 500_000;

/** One read buffer for all files: allocating 1 MiB per file costs more than hashing 4 KiB. */
const buffer = Buffer.allocUnsafe(1 << 20);

/** sha256 of a file's content, read in 1 MiB chunks. */
export function hashFileContent(file: string): string {
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    let read: number;
    while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

/** `dev:ino` of an identity key: which file it is, whatever its content. */
function inodeOf(key: string): string {
  return key.slice(0, key.indexOf(":", key.indexOf(":") + 1));
}

export interface DigestCacheOptions {
  /**
   * The clock that decides whether a file has settled (tests move it forward instead of waiting).
   * @default the wall clock
   */
  readonly now?: () => bigint;
}

export class DigestCache {
  /** sha256 by identity key, as loaded. */
  private readonly old = new Map<string, string>();
  /** sha256 by identity key, of the files this synth hashed (saved first). */
  private readonly used = new Map<string, string>();
  /**
   * Keys this synth found in `old` (saved next). An array, not a second map: with 20,000 files,
   * one more map insertion per file cost more than everything else the cache does per file.
   */
  private readonly hits: string[] = [];
  private readonly now: () => bigint;
  private dirty = false;
  /** How many files were read (for tests and the bench). */
  public hashedFiles = 0;

  /** @param file the cache file; undefined = no persistent cache (every file is hashed). */
  constructor(private readonly file?: string, options: DigestCacheOptions = {}) {
    this.now = options.now ?? nowNs;
    if (file === undefined || !fs.existsSync(file)) return;
    try {
      const data = JSON.parse(fs.readFileSync(file, "utf8")) as { format?: unknown; entries?: unknown };
      if (data.format !== FORMAT || !Array.isArray(data.entries)) return;
      const entries = data.entries as unknown[];
      for (let i = 0; i + 1 < entries.length; i += 2) {
        const key = entries[i];
        const sha256 = entries[i + 1];
        // A damaged entry is skipped, never used.
        if (typeof key === "string" && typeof sha256 === "string" && sha256.length === 64) this.old.set(key, sha256);
      }
    } catch {
      // A damaged cache is only a cache: start empty.
      this.old.clear();
    }
  }

  /**
   * The sha256 of `file` and its identity (an identityKey string), from the cache when a file
   * with this exact identity was hashed before.
   */
  public digest(file: string): { sha256: string; id: string } {
    const id = identityKey(file);
    const hit = this.old.get(id);
    if (hit !== undefined) {
      this.hits.push(id);
      return { sha256: hit, id };
    }
    const hashed = this.used.get(id);
    if (hashed !== undefined) return { sha256: hashed, id };
    const started = this.now();
    const sha256 = hashFileContent(file);
    this.hashedFiles++;
    // Cache only what did not change while (or shortly before) it was read.
    if (identityKey(file) === id && settledBefore(parseIdentityKey(id), started)) {
      this.used.set(id, sha256);
      this.dirty = true;
    }
    return { sha256, id };
  }

  /** Writes the cache when something new was hashed. */
  public save(): void {
    if (this.file === undefined || !this.dirty) return;
    const entries: string[] = [];
    const current = new Set<string>();
    const saved = new Set<string>();
    for (const [key, sha256] of this.used) {
      entries.push(key, sha256);
      saved.add(key);
      current.add(inodeOf(key));
    }
    for (const key of this.hits) {
      if (saved.has(key)) continue;
      entries.push(key, this.old.get(key)!);
      saved.add(key);
      current.add(inodeOf(key));
    }
    // Then older entries, except earlier identities of the files just used (they changed).
    for (const [key, sha256] of this.old) {
      if (entries.length >= 2 * MAX_ENTRIES) break;
      if (!saved.has(key) && !current.has(inodeOf(key))) entries.push(key, sha256);
    }
    const temp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    fs.writeFileSync(temp, JSON.stringify({ format: FORMAT, entries }), { mode: 0o600 });
    fs.renameSync(temp, this.file);
    this.dirty = false;
  }
}
