/**
 * The build context as one deterministic `.tar.gz`, for builds that upload the context
 * (ImageBuild.acrTask()).
 *
 * Deterministic: entries in the sorted order of the staged file list (relative paths, no directory
 * entries), written by tar.ts (mtime fixed at 1970-01-01, mode 0644, uid/gid 0, empty
 * uname/gname, no atime/ctime), gzip headers without timestamp and with a fixed OS byte. The same
 * staged files give the same bytes on any machine and from any checkout path (for the same zlib,
 * which Node bundles).
 *
 * Streamed: each file is read in 1 MiB chunks straight from the inputs the context was hashed
 * from, checked against their identities, and every compressed chunk is written to disk as it is
 * produced, so a 1 GiB model never sits in memory and the context is never copied into a staged
 * folder. The model's small-files pack (tar.ts) is written the same way, as one entry.
 *
 * Compression, per file: models are mostly incompressible (float arrays, already-compressed
 * formats), and deflating incompressible bytes costs several times the time of storing them for
 * no smaller upload. So
 * the byte entropy of each file's first 64 KiB (estimated from 1,024 evenly spaced bytes) decides
 * (tar.ts): near-random files are stored (level 0), the others use ARCHIVE_GZIP_LEVEL. The
 * choice depends on content only, so the bytes stay deterministic. The gzip file is a series of
 * members (see MemberWriter).
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import type { StagedFile } from "./context-file";
import { identityKey, sizeInIdentityKey } from "./file-identity";
import { smallFilesPackSize, TarWriter, writeSmallFilesPack } from "./tar";

/**
 * gzip level of the files that compress (code, text, compressible models): the fastest level;
 * higher ones save a few percent more for several times the CPU.
 */
export const ARCHIVE_GZIP_LEVEL = 1;

/**
 * The model's small-files pack is stored, not deflated: its files are mostly model data, which
 * rarely compresses, and it is one entry with one level, whatever its files are.
 */
const PACK_LEVEL = 0;

/**
 * Bumped when the archive layout or the sidecar changes, so a cached archive of an older layout is
 * rewritten.
 */
const ARCHIVE_FORMAT = "aml-function-deployment/context-archive/v6";

/** What the archive of a context is and where it lies. */
export interface ContextArchive {
  /** Absolute path of the `.tar.gz`. */
  readonly file: string;
  /** Size in bytes. */
  readonly size: number;
  /** True when an existing, verified archive was reused instead of written. */
  readonly reused: boolean;
}

interface Sidecar {
  readonly format: string;
  readonly fingerprint: string;
  readonly gzipLevel: number;
  /** The archive file's identity (device, inode, size, mtime, ctime) right after it was written. */
  readonly identity: string;
}

/**
 * Writes the archive of the context `files` (sorted) with content fingerprint `fingerprint` as
 * `file`, or reuses the one already written there for the same fingerprint. An existing archive
 * is reused only when its sidecar (`<archive>.json`) names the same format and fingerprint and
 * the archive file still has the identity recorded there (file-identity.ts); anything else is
 * rewritten. A truncated, edited or replaced archive therefore never goes to the build, even with
 * the same size and its mtime set back (ctime cannot be set back). Not a hash of the archive:
 * re-reading a 1 GiB archive on every synth would cost what the cache saves, and the fingerprint
 * already hashes the content. The archive is written to a temporary file and renamed into place,
 * and the sidecar is written last, so an interrupted write is never mistaken for a complete
 * archive. Hard-linking the archive (into the stack's assets) changes its ctime: call
 * {@link refreshArchiveIdentity} right after that. An input file that is not the one hashed any
 * more fails the write with InputChangedError (tar.ts).
 */
export function writeContextArchive(files: readonly StagedFile[], fingerprint: string, file: string): ContextArchive {
  const gzipLevel = ARCHIVE_GZIP_LEVEL;
  const sidecarFile = `${file}.json`;
  const cached = readSidecar(sidecarFile);
  if (cached && cached.format === ARCHIVE_FORMAT && cached.fingerprint === fingerprint && cached.gzipLevel === gzipLevel && hasIdentity(file, cached.identity)) {
    return { file, size: sizeInIdentityKey(cached.identity), reused: true };
  }

  fs.rmSync(sidecarFile, { force: true });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  let size = 0;
  const fd = fs.openSync(temp, "w", 0o644);
  // The umask may have narrowed it; the asset in the stack folder is this very file.
  fs.fchmodSync(fd, 0o644);
  const write = (bytes: Buffer): void => {
    size += bytes.length;
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
  };
  const gzip = new MemberWriter(write);
  try {
    const tar = new TarWriter(gzip, gzipLevel);
    for (const f of files) {
      if ("pack" in f) {
        // The small-files pack, written as it is staged, straight into this entry.
        const packSize = smallFilesPackSize(f.pack);
        tar.beginFile(f.dest, packSize, PACK_LEVEL);
        writeSmallFilesPack(new TarWriter(gzip, PACK_LEVEL, tar.readBuffer), f.pack);
        tar.pad(packSize);
      } else if (f.content !== undefined) {
        tar.content(f.dest, f.content);
      } else {
        tar.file(f.dest, f.source!, f.size, f.id);
      }
    }
    tar.end();
    gzip.end();
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(temp, file);
  writeSidecar(sidecarFile, { format: ARCHIVE_FORMAT, fingerprint, gzipLevel, identity: identityKey(file) });
  return { file, size, reused: false };
}

/**
 * Records the archive's current identity in its sidecar again. Hard-linking the archive changes
 * its ctime; this keeps that from making the next synth rewrite it. Call it only right after such
 * a link, in the same process that wrote or verified the archive (whatever the file holds then is
 * trusted from now on).
 */
export function refreshArchiveIdentity(archive: ContextArchive): void {
  const sidecarFile = `${archive.file}.json`;
  const cached = readSidecar(sidecarFile);
  if (cached === undefined) return;
  writeSidecar(sidecarFile, { ...cached, identity: identityKey(archive.file) });
}

function writeSidecar(file: string, sidecar: Sidecar): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(sidecar)}\n`);
  fs.renameSync(temp, file);
}

/** Smallest output chunk for zlib (its default). */
const MIN_CHUNK = 16 * 1024;

/** Uncompressed bytes collected before they are written as one gzip member. */
const MEMBER_BYTES = 1 << 20;

/**
 * Writes a gzip file as a sequence of members (RFC 1952 allows any number; gunzip, Python's gzip
 * and tarfile, Go's compress/gzip and Node's zlib read them as one stream). Each member holds up to
 * MEMBER_BYTES of input (or one larger chunk) compressed at one level, so the level can change
 * between tar entries without reaching into zlib's stream internals. Node's one-shot gzip writes
 * no timestamp; the OS byte is set to 255 ("unknown") so Windows and Unix give the same bytes.
 */
class MemberWriter {
  private level = ARCHIVE_GZIP_LEVEL;
  private readonly pending = Buffer.allocUnsafe(MEMBER_BYTES);
  private pendingBytes = 0;

  constructor(private readonly out: (bytes: Buffer) => void) {}

  public setLevel(level: number): void {
    if (level !== this.level) this.flush();
    this.level = level;
  }

  public write(chunk: Buffer): void {
    if (chunk.length >= MEMBER_BYTES) {
      this.flush();
      this.member(chunk);
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      const copied = chunk.copy(this.pending, this.pendingBytes, offset);
      this.pendingBytes += copied;
      offset += copied;
      if (this.pendingBytes === MEMBER_BYTES) this.flush();
    }
  }

  public end(): void {
    this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const data = this.pending.subarray(0, this.pendingBytes);
    this.pendingBytes = 0;
    this.member(data);
  }

  private member(data: Buffer): void {
    // One output chunk that fits the member (stored data grows by 5 bytes per 64 KiB block plus
    // the gzip framing): zlib's default 16 KiB chunks would be copied once more into one buffer.
    const member = zlib.gzipSync(data, { level: this.level, chunkSize: Math.max(MIN_CHUNK, data.length + (data.length >> 10) + 1024) });
    member[9] = 255;
    this.out(member);
  }
}

function readSidecar(file: string): Sidecar | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Sidecar;
  } catch {
    return undefined;
  }
}

function hasIdentity(file: string, recorded: string | undefined): boolean {
  if (typeof recorded !== "string") return false;
  try {
    return identityKey(file) === recorded;
  } catch {
    return false;
  }
}
