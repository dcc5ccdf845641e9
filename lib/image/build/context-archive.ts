/**
 * The staged build context as one deterministic `.tar.gz`, for builds that upload the context
 * (ImageBuild.acrTask()).
 *
 * Deterministic: entries in the sorted order of the staged file list (relative paths, no directory
 * entries), mtime fixed at 1970-01-01, mode 0644, uid/gid 0, empty uname/gname, no atime/ctime, gzip
 * headers without timestamp and with a fixed OS byte. The same staged files give the same bytes on
 * any machine and from any checkout path (for the same zlib, which Node bundles).
 *
 * Streamed: each file is read in 1 MiB chunks (from the staged folder, or straight from the inputs
 * the context was hashed from, checked against their identities) and every compressed chunk is
 * written to disk as it is produced, so a 1 GiB model never sits in memory. The tar format itself (ustar
 * headers, pax headers for long paths) comes from the `tar` package's Header and Pax classes; its
 * synchronous packer is not used because it reads a whole file into memory before emitting it,
 * and synth is synchronous.
 *
 * Compression, per entry: models are mostly incompressible (float arrays, already-compressed
 * formats), and deflating incompressible bytes costs ~8x the time of storing them (measured on
 * 2 cores: 1 GiB of random bytes takes ~25 s at level 1, ~3 s stored) for no smaller upload. So
 * the byte entropy of each file's first 64 KiB (estimated from 1,024 evenly spaced bytes) decides:
 * near-random files are stored (level 0), the others use ARCHIVE_GZIP_LEVEL. The choice depends on
 * content only, so the bytes stay deterministic. The gzip file is a series of members (see
 * MemberWriter).
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { Header, Pax } from "tar";
import { identityKey, identityKeyOfOpenFile, sizeInIdentityKey } from "../staging/file-identity";
import { under } from "../staging/under";

/**
 * gzip level of the files that compress (code, text, compressible models): the fastest level;
 * higher ones save a few percent more for several times the CPU.
 */
export const ARCHIVE_GZIP_LEVEL = 1;

/** Bytes at the start of each file that decide between storing and deflating it. */
const PROBE_BYTES = 64 * 1024;
/** Bits of entropy per byte below which a file is deflated (8 = random). */
const COMPRESSIBLE_BELOW_BITS = 7.5;
/** Bytes sampled from the probe to estimate it. */
const PROBE_SAMPLES = 1024;
/** Files shorter than this are deflated without a probe (too few bytes to tell; cheap anyway). */
const MIN_PROBE_BYTES = 256;

/**
 * Bumped when the archive layout or the sidecar changes, so a cached archive of an older layout is
 * rewritten.
 */
// v4: the archive file is 0644 whatever the umask (v3 archives written under umask 077 were
// 0600, and the stack asset, a hard link of it, could not be read by another user).
const ARCHIVE_FORMAT = "aml-function-deployment/context-archive/v4";

/** Fixed modification time of every entry. */
const EPOCH = new Date(0);

/** Mode of every entry: the staged files are data, never executables. */
const FILE_MODE = 0o644;

/** What the archive of a staged context is and where it lies. */
export interface ContextArchive {
  /** Absolute path of the `.tar.gz`. */
  readonly file: string;
  /** Size in bytes. */
  readonly size: number;
  /** True when an existing, verified archive was reused instead of written. */
  readonly reused: boolean;
}

/**
 * Where one file of the context can be read without staging it: an input file with the identity
 * it had when it was hashed (staging/file-identity.ts `identityKey`), or bytes made in memory.
 */
export type ArchiveInput = { readonly path: string; readonly identity: string } | { readonly content: Uint8Array };

/** The staged context to archive. */
export interface ArchiveSource {
  /**
   * Absolute path of the staged context. Read only when the archive is written, not when a
   * verified archive is reused (reading a StagedBuildContext's `directory` stages it).
   */
  readonly directory: string;
  /**
   * The same path, for the default archive name, when reading `directory` has a cost.
   * @default `directory`
   */
  readonly location?: string;
  /** Its content fingerprint (the archive is cached under it). */
  readonly fingerprint: string;
  /** Relative posix paths of every staged file, sorted. */
  readonly files: readonly string[];
  /**
   * Size in bytes of each file of `files` (one fstat per file less). A file found longer or
   * shorter than its size fails the write: it changed after it was staged.
   * @default each file's size from fstat
   */
  readonly sizes?: readonly number[];
  /**
   * Where each of `files` is read from instead of `directory` (with `sizes`, which must then be
   * given): the archive is written straight from the inputs, so the context never has to be
   * staged as a folder. An input file whose identity differs from the one given, after it was
   * read, fails the write: it changed after it was hashed, and the archive would not match the
   * fingerprint.
   * @default the files in `directory`
   */
  readonly inputs?: readonly ArchiveInput[];
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
  /** The archive file's identityKey (device, inode, size, mtime, ctime) right after it was written. */
  readonly identity: string;
}

/**
 * Writes the archive of a staged context, or reuses the one already written for the same
 * fingerprint. An existing archive is reused only when its sidecar (`<archive>.json`) names the
 * same format, fingerprint and gzip level and the archive file still has the identity recorded
 * there (device, inode, size, mtime and ctime in ns: staging/file-identity.ts); anything else is
 * rewritten. A truncated, edited or replaced archive therefore never goes to the build, even with
 * the same size and its mtime set back (ctime cannot be set back). Not a hash of the archive:
 * re-reading a 1 GiB archive on every synth would cost what the cache saves, and the fingerprint
 * already hashes the content. The archive is written to a temporary file and renamed into place,
 * and the sidecar is written last, so an interrupted write is never mistaken for a complete
 * archive. Hard-linking the archive (into the stack's assets) changes its ctime: call
 * {@link refreshArchiveIdentity} right after that.
 */
export function writeContextArchive(source: ArchiveSource, options: ArchiveOptions = {}): ContextArchive {
  const gzipLevel = options.gzipLevel ?? ARCHIVE_GZIP_LEVEL;
  if (!Number.isInteger(gzipLevel) || gzipLevel < 0 || gzipLevel > 9) throw new RangeError(`gzip level ${gzipLevel} is not a whole number from 0 to 9`);
  const file = options.file ?? `${source.location ?? source.directory}.tar.gz`;
  const sidecarFile = `${file}.json`;

  const cached = readSidecar(sidecarFile);
  if (cached && cached.format === ARCHIVE_FORMAT && cached.fingerprint === source.fingerprint && cached.gzipLevel === gzipLevel && hasIdentity(file, cached.identity)) {
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
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    const headerBlock = Buffer.alloc(BLOCK);
    // One Header for all entries, only path and size set per file: its constructor copies the
    // fields through Object.entries/fromEntries/assign, which cost more per file than encoding.
    // encode() derives everything it writes from the fields (checksum and pax need included).
    const header = new Header({ path: "", mode: FILE_MODE, uid: 0, gid: 0, uname: "", gname: "", size: 0, mtime: EPOCH, type: "File" });
    const sizes = source.sizes;
    const inputs = source.inputs;
    if (sizes !== undefined && sizes.length !== source.files.length) throw new RangeError(`${sizes.length} sizes for ${source.files.length} files`);
    if (inputs !== undefined && (sizes === undefined || inputs.length !== source.files.length)) throw new RangeError(`inputs need a size each: ${inputs.length} inputs, ${sizes?.length ?? "no"} sizes, ${source.files.length} files`);
    // Read `directory` (which may stage the context) only when the files come from there.
    const directory = inputs === undefined ? source.directory : "";
    const writeHeader = (rel: string, entrySize: number): void => {
      header.path = rel;
      header.size = entrySize;
      // Encoded into one reused, zeroed block (fields left unset stay zero): a fresh 512-byte
      // buffer per entry made the garbage collector the largest cost with 20,000 files.
      headerBlock.fill(0);
      // encode() is true when a field does not fit ustar (paths over 100/155 characters): a pax
      // header with the same (fixed) fields goes first.
      if (header.encode(headerBlock, 0)) gzip.write(new Pax({ path: rel, size: entrySize, mtime: EPOCH }).encode());
      gzip.write(headerBlock);
    };
    const pad = (entrySize: number): void => {
      const padding = (BLOCK - (entrySize % BLOCK)) % BLOCK;
      if (padding > 0) gzip.write(ZERO_BLOCKS.subarray(0, padding));
    };
    for (let i = 0; i < source.files.length; i++) {
      const rel = source.files[i];
      const input = inputs?.[i];
      if (input !== undefined && "content" in input) {
        // A Uint8Array in the public type (no Node types needed to compile against it); a view.
        const content = Buffer.from(input.content.buffer, input.content.byteOffset, input.content.byteLength);
        if (content.length !== sizes![i]) throw new RangeError(`${rel}: ${content.length} bytes given for a size of ${sizes![i]}`);
        gzip.setLevel(gzipLevel !== 0 && looksCompressible(content.subarray(0, PROBE_BYTES)) ? gzipLevel : 0);
        writeHeader(rel, content.length);
        gzip.write(content);
        pad(content.length);
        continue;
      }
      const absolute = input === undefined ? under(directory, rel) : input.path;
      const fileInput = fs.openSync(absolute, "r");
      try {
        const entrySize = sizes === undefined ? fs.fstatSync(fileInput).size : sizes[i];
        // A file that fits the buffer is read with one byte more asked for: getting it means
        // the file is longer than its recorded size.
        let read = readSome(fileInput, buffer, Math.min(buffer.length, entrySize + 1), absolute, entrySize);
        if (read > entrySize) throw new Error(`${absolute} became longer while it was archived`);
        // The level is decided on the file's first bytes, before any of its bytes are written.
        gzip.setLevel(gzipLevel !== 0 && looksCompressible(buffer.subarray(0, Math.min(read, PROBE_BYTES))) ? gzipLevel : 0);
        writeHeader(rel, entrySize);
        let remaining = entrySize;
        while (remaining > 0) {
          gzip.write(buffer.subarray(0, read));
          remaining -= read;
          if (remaining > 0) read = readSome(fileInput, buffer, Math.min(buffer.length, remaining), absolute, remaining);
        }
        pad(entrySize);
        // What was archived must be what was hashed: the file read, as it is after the read.
        if (input !== undefined && identityKeyOfOpenFile(fileInput) !== input.identity) throw new Error(`${input.path} changed while the build context archive was written (run synth again)`);
      } finally {
        fs.closeSync(fileInput);
      }
    }
    // End of archive: two zero blocks.
    gzip.setLevel(gzipLevel);
    gzip.write(ZERO_BLOCKS);
    gzip.end();
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(temp, file);
  writeSidecar(sidecarFile, { format: ARCHIVE_FORMAT, fingerprint: source.fingerprint, gzipLevel, identity: identityKey(file) });
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

/** tar block size. */
const BLOCK = 512;
/** Padding and the end-of-archive marker (two zero blocks). */
const ZERO_BLOCKS = Buffer.alloc(2 * BLOCK);
/** Bytes read from a file at a time. */
const READ_BYTES = 1 << 20;

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

/**
 * Reads up to `length` bytes; at least one while `expected` bytes are still due (a file that ends
 * early changed while it was archived).
 */
function readSome(fd: number, buffer: Buffer, length: number, file: string, expected: number): number {
  const read = fs.readSync(fd, buffer, 0, length, null);
  if (read === 0 && expected > 0) throw new Error(`${file} became shorter while it was archived`);
  return read;
}

/**
 * Whether deflate will pay off on bytes like `sample`: their order-0 entropy, estimated from at
 * most PROBE_SAMPLES evenly spaced bytes, is below COMPRESSIBLE_BELOW_BITS per byte (less the
 * estimator's known low bias for few samples, (256-1)/(2 m ln 2) bits). Random data and compressed
 * formats sit near 8 bits; text and code well below. An entropy count rather than a trial
 * compression, because zlib's set-up per call dominated with tens of thousands of small files.
 */
function looksCompressible(sample: Buffer): boolean {
  const n = sample.length;
  if (n < MIN_PROBE_BYTES) return true;
  const stride = Math.ceil(n / PROBE_SAMPLES);
  const counts = COUNTS.fill(0);
  let m = 0;
  for (let i = 0; i < n; i += stride, m++) counts[sample[i]]++;
  // Entropy in bits = m*log2(m) - sum(c*log2(c)), c*log2(c) from a table (m <= PROBE_SAMPLES).
  let sum = 0;
  for (let b = 0; b < 256; b++) sum += C_LOG2_C[counts[b]];
  const bits = (C_LOG2_C[m] - sum) / m;
  return bits < COMPRESSIBLE_BELOW_BITS - 255 / (2 * m * Math.LN2);
}

const COUNTS = new Uint32Array(256);
const C_LOG2_C = Float64Array.from({ length: PROBE_SAMPLES + 1 }, (_, c) => (c === 0 ? 0 : c * Math.log2(c)));

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
