/**
 * sha256 of file contents, cached by file identity (device, inode, size, mtime, ctime in ns) so
 * that an unchanged model is not read again on the next synth. A file is only cached when it had
 * not changed for SETTLE_NS before hashing began (a change right after hashing could otherwise
 * keep the same timestamps); files changed more recently are re-hashed every time.
 *
 * The cache file lives in the private staging root (0700, owner checked), so only this user can
 * change it. It is written atomically (temp file + rename) and only when something new was hashed.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { FileIdentity, identityOf, nowNs, sameIdentity, settledBefore } from "./file-identity";

const FORMAT = "aml-function-deployment/digest-cache/v1";
/** Upper bound on cached files; the ones used by the latest synth are kept first. */
const MAX_ENTRIES = 500_000;

interface Cached {
  readonly id: FileIdentity;
  readonly sha256: string;
}

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

export class DigestCache {
  private readonly old = new Map<string, Cached>();
  private readonly used = new Map<string, Cached>();
  private dirty = false;
  /** How many files were read (for tests and the bench). */
  public hashedFiles = 0;

  /** @param file the cache file; undefined = no persistent cache (every file is hashed). */
  constructor(private readonly file?: string) {
    if (file === undefined || !fs.existsSync(file)) return;
    try {
      const data = JSON.parse(fs.readFileSync(file, "utf8")) as { format?: string; entries?: Array<[string, string, number, string, string, string]> };
      if (data.format !== FORMAT || !Array.isArray(data.entries)) return;
      for (const [dev, ino, size, mtimeNs, ctimeNs, sha256] of data.entries) {
        this.old.set(`${dev}:${ino}`, { id: { dev, ino, size, mtimeNs, ctimeNs }, sha256 });
      }
    } catch {
      // A damaged cache is only a cache: start empty.
      this.old.clear();
    }
  }

  /** The sha256 of `file` and its identity, from the cache when the identity is unchanged. */
  public digest(file: string): { sha256: string; id: FileIdentity } {
    const id = identityOf(file);
    const key = `${id.dev}:${id.ino}`;
    const hit = this.used.get(key) ?? this.old.get(key);
    if (hit !== undefined && sameIdentity(hit.id, id)) {
      this.used.set(key, hit);
      return { sha256: hit.sha256, id };
    }
    const started = nowNs();
    const sha256 = hashFileContent(file);
    this.hashedFiles++;
    const after = identityOf(file);
    // Cache only what did not change while (or shortly before) it was read.
    if (sameIdentity(id, after) && settledBefore(id, started)) {
      this.used.set(key, { id, sha256 });
      this.dirty = true;
    }
    return { sha256, id };
  }

  /** Writes the cache when something new was hashed. */
  public save(): void {
    if (this.file === undefined || !this.dirty) return;
    const entries: Array<[string, string, number, string, string, string]> = [];
    const add = (c: Cached): void => void entries.push([c.id.dev, c.id.ino, c.id.size, c.id.mtimeNs, c.id.ctimeNs, c.sha256]);
    for (const c of this.used.values()) add(c);
    for (const [key, c] of this.old) {
      if (entries.length >= MAX_ENTRIES) break;
      if (!this.used.has(key)) add(c);
    }
    const temp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    fs.writeFileSync(temp, JSON.stringify({ format: FORMAT, entries }), { mode: 0o600 });
    fs.renameSync(temp, this.file);
    this.dirty = false;
  }
}
