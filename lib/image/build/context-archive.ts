/**
 * The staged build context as one deterministic `.tar.gz`, for builds that upload the context
 * (ImageBuild.acrTask()).
 *
 * Deterministic: entries in the sorted order of the staged file list (relative paths, no directory
 * entries), mtime fixed at 1970-01-01, mode 0644, uid/gid 0, empty uname/gname, no atime/ctime, gzip
 * headers without timestamp and with a fixed OS byte. The same staged files give the same bytes on
 * any machine and from any checkout path (for the same zlib, which Node bundles).
 *
 * Streamed: each file is read in 1 MiB chunks and every compressed chunk is written to disk (and
 * hashed) as it is produced, so a 1 GiB model never sits in memory. The tar format itself (ustar
 * headers, pax headers for long paths) comes from the `tar` package's Header and Pax classes; its
 * synchronous packer is not used because it reads a whole file into memory before emitting it,
 * and synth is synchronous.
 *
 * Compression, per entry: models are mostly incompressible (float arrays, already-compressed
 * formats), and deflating incompressible bytes costs ~8x the time of storing them (bench/archive.js:
 * 1 GiB of random bytes takes 25 s at level 1 and 3 s stored on 2 cores) for no smaller upload. So
 * each file's first 64 KiB is test-compressed: files that shrink by less than 10% are stored
 * (level 0), the others use ARCHIVE_GZIP_LEVEL. The choice depends on content only, so the bytes
 * stay deterministic. The gzip file is a series of members (see MemberWriter).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { Header, Pax } from "tar";

/**
 * gzip level of the files that compress (code, text, compressible models): the fastest level;
 * higher ones save a few percent more for several times the CPU.
 */
export const ARCHIVE_GZIP_LEVEL = 1;

/** Bytes of each file test-compressed to decide between storing and deflating it. */
const PROBE_BYTES = 64 * 1024;
/** A file is deflated when its probe shrinks to at most this fraction. */
const DEFLATE_WHEN_RATIO_AT_MOST = 0.9;

/** Bumped when the archive layout changes, so a cached archive of an older layout is rewritten. */
const ARCHIVE_FORMAT = "aml-function-deployment/context-archive/v1";

/** Fixed modification time of every entry. */
const EPOCH = new Date(0);

/** Mode of every entry: the staged files are data, never executables. */
const FILE_MODE = 0o644;

/** What the archive of a staged context is and where it lies. */
export interface ContextArchive {
  /** Absolute path of the `.tar.gz`. */
  readonly file: string;
  /** sha256 of the archive's bytes (hex). */
  readonly sha256: string;
  /** Size in bytes. */
  readonly size: number;
  /** True when an existing, verified archive was reused instead of written. */
  readonly reused: boolean;
}

/** The staged context to archive. */
export interface ArchiveSource {
  /** Absolute path of the staged context. */
  readonly directory: string;
  /** Its content fingerprint (the archive is cached under it). */
  readonly fingerprint: string;
  /** Relative posix paths of every staged file, sorted. */
  readonly files: readonly string[];
}

export interface ArchiveOptions {
  /**
   * gzip level, 0–9.
   * @default ARCHIVE_GZIP_LEVEL (1)
   */
  readonly gzipLevel?: number;
  /**
   * Where the archive is written.
   * @default `<staged context>.tar.gz`, next to the staged context
   */
  readonly file?: string;
}

interface Sidecar {
  readonly format: string;
  readonly fingerprint: string;
  readonly gzipLevel: number;
  readonly size: number;
  readonly sha256: string;
}

/**
 * Writes the archive of a staged context, or reuses the one already written for the same
 * fingerprint. An existing archive is reused only when its sidecar (`<archive>.sha256.json`) names
 * the same format, fingerprint and gzip level and its size on disk matches the sidecar; anything
 * else is rewritten. The archive is written to a temporary file and renamed into place, and the
 * sidecar is written last, so an interrupted write is never mistaken for a complete archive.
 */
export function writeContextArchive(source: ArchiveSource, options: ArchiveOptions = {}): ContextArchive {
  const gzipLevel = options.gzipLevel ?? ARCHIVE_GZIP_LEVEL;
  if (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9) throw new RangeError(`gzip level ${gzipLevel} is not a whole number from 0 to 9`);
  const file = options.file ?? `${source.directory}.tar.gz`;
  const sidecarFile = `${file}.sha256.json`;

  const cached = readSidecar(sidecarFile);
  if (cached && cached.format === ARCHIVE_FORMAT && cached.fingerprint === source.fingerprint && cached.gzipLevel === gzipLevel && sizeOf(file) === cached.size) {
    return { file, sha256: cached.sha256, size: cached.size, reused: true };
  }

  fs.rmSync(sidecarFile, { force: true });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  const hash = createHash("sha256");
  let size = 0;
  const fd = fs.openSync(temp, "w", 0o644);
  const write = (bytes: Buffer): void => {
    hash.update(bytes);
    size += bytes.length;
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
  };
  const gzip = new MemberWriter(write);
  try {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (const rel of source.files) {
      const absolute = path.join(source.directory, ...rel.split("/"));
      const entrySize = fs.statSync(absolute).size;
      gzip.setLevel(gzipLevel === 0 || isIncompressible(absolute) ? 0 : gzipLevel);
      const fields = { path: rel, mode: FILE_MODE, uid: 0, gid: 0, uname: "", gname: "", size: entrySize, mtime: EPOCH, type: "File" as const };
      const header = new Header(fields);
      // encode() is true when a field does not fit ustar (paths over 100/155 characters): a pax
      // header with the same (fixed) fields goes first.
      if (header.encode()) gzip.write(new Pax({ path: rel, size: entrySize, mtime: EPOCH }).encode());
      gzip.write(header.block!);
      const input = fs.openSync(absolute, "r");
      try {
        let remaining = entrySize;
        while (remaining > 0) {
          const read = fs.readSync(input, buffer, 0, Math.min(buffer.length, remaining), null);
          if (read === 0) throw new Error(`${absolute} became shorter while it was archived`);
          gzip.write(buffer.subarray(0, read));
          remaining -= read;
        }
      } finally {
        fs.closeSync(input);
      }
      const padding = (BLOCK - (entrySize % BLOCK)) % BLOCK;
      if (padding > 0) gzip.write(Buffer.alloc(padding));
    }
    // End of archive: two zero blocks.
    gzip.setLevel(gzipLevel);
    gzip.write(Buffer.alloc(2 * BLOCK));
    gzip.end();
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(temp, file);
  const sha256 = hash.digest("hex");
  const sidecar: Sidecar = { format: ARCHIVE_FORMAT, fingerprint: source.fingerprint, gzipLevel, size, sha256 };
  fs.writeFileSync(sidecarFile, `${JSON.stringify(sidecar)}\n`);
  return { file, sha256, size, reused: false };
}

/** tar block size. */
const BLOCK = 512;
/** Bytes read from a file at a time. */
const READ_BYTES = 1 << 20;

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
  private pending: Buffer[] = [];
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
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= MEMBER_BYTES) this.flush();
  }

  public end(): void {
    this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.member(data);
  }

  private member(data: Buffer): void {
    const member = zlib.gzipSync(data, { level: this.level });
    member[9] = 255;
    this.out(member);
  }
}

/** True when the first PROBE_BYTES of `file` do not shrink by at least 10% at gzip level 1. */
function isIncompressible(file: string): boolean {
  const fd = fs.openSync(file, "r");
  try {
    const probe = Buffer.allocUnsafe(PROBE_BYTES);
    const read = fs.readSync(fd, probe, 0, PROBE_BYTES, 0);
    if (read < 4096) return false;
    const deflated = zlib.deflateRawSync(probe.subarray(0, read), { level: 1 }).length;
    return deflated > read * DEFLATE_WHEN_RATIO_AT_MOST;
  } finally {
    fs.closeSync(fd);
  }
}

function readSidecar(file: string): Sidecar | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Sidecar;
  } catch {
    return undefined;
  }
}

function sizeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}
