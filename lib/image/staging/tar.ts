/**
 * Writes deterministic tar entries into a sink: fixed mtime (1970-01-01), uid/gid 0, empty
 * uname/gname, mode 0644 for files and 0755 for folders, no atime/ctime. The tar format itself
 * (ustar headers, pax headers for long paths) comes from the `tar` package's Header and Pax
 * classes; its synchronous packer is not used because it reads a whole file into memory before
 * emitting it, and synth is synchronous.
 *
 * Two users: the context archive (context-archive.ts, a sink that compresses, with the level
 * decided per file from its first bytes) and the model's small-files pack (small-files-pack.ts).
 */
import * as fs from "fs";
import { Header, Pax } from "tar";
import { invalid } from "../../errors";
import { identityKeyOfOpenFile } from "./file-identity";

/** An input file that is not the one expected any more (longer, shorter or another identity). */
export class InputChangedError extends Error {
  constructor(
    public readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = "InputChangedError";
  }
}

/**
 * Refuses the synth for an input that is not the file hashed any more (changed, gone or
 * unreadable since): `while_` says what was being written, `detail` adds the cause.
 */
export function inputChanged(owner: string, file: string, while_ = "while it was being staged", detail?: string): never {
  return invalid(owner, "buildContext", file, `the file changed ${while_}${detail === undefined ? "" : ` (${detail})`}`, "files that do not change during synth (run synth again)");
}

/** Where the bytes go; `setLevel` sets the compression of the bytes written next. */
export interface TarSink {
  write(bytes: Buffer): void;
  /** A sink that does not compress ignores it. */
  setLevel(level: number): void;
}

/** tar block size. */
const BLOCK = 512;
/** Padding and the end-of-archive marker (two zero blocks). */
const ZERO_BLOCKS = Buffer.alloc(2 * BLOCK);
/** Bytes read from a file at a time. */
const READ_BYTES = 1 << 20;
/** Fixed modification time of every entry. */
const EPOCH = new Date(0);
/** Mode of every file entry: the context's files are data, never executables. */
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

/** Bytes at the start of each file that decide between storing and deflating it. */
const PROBE_BYTES = 64 * 1024;
/** Bits of entropy per byte below which a file is deflated (8 = random). */
const COMPRESSIBLE_BELOW_BITS = 7.5;
/** Bytes sampled from the probe to estimate it. */
const PROBE_SAMPLES = 1024;
/** Files shorter than this are deflated without a probe (too few bytes to tell; cheap anyway). */
const MIN_PROBE_BYTES = 256;

export class TarWriter {
  // One Header for all entries, only path, size, type and mode set per entry: its constructor
  // copies the fields through Object.entries/fromEntries/assign, which cost more per file than
  // encoding. encode() derives everything it writes from the fields (checksum and pax need included).
  private readonly header = new Header({ path: "", mode: FILE_MODE, uid: 0, gid: 0, uname: "", gname: "", size: 0, mtime: EPOCH, type: "File" });
  // Encoded into one reused, zeroed block (fields left unset stay zero): a fresh 512-byte buffer
  // per entry made the garbage collector the largest cost with 20,000 files.
  private readonly headerBlock = Buffer.alloc(BLOCK);
  /** Read buffer, made when the first file is read. */
  private buffer?: Buffer;

  /** @param gzipLevel level of the files that compress; 0 stores everything (and skips the probe). */
  constructor(
    private readonly sink: TarSink,
    private readonly gzipLevel: number,
  ) {}

  /** A folder entry (`rel` ends in "/"). */
  public directory(rel: string): void {
    this.sink.setLevel(this.gzipLevel);
    this.writeHeader(rel, 0, "Directory", DIR_MODE);
  }

  /** A file entry whose bytes are in memory. */
  public content(rel: string, content: Buffer): void {
    this.sink.setLevel(this.levelFor(content.subarray(0, PROBE_BYTES)));
    this.writeHeader(rel, content.length, "File", FILE_MODE);
    this.sink.write(content);
    this.pad(content.length);
  }

  /**
   * A file entry read from `absolute` in READ_BYTES chunks (never whole in memory). `size` is
   * what the file must hold: a file that turns out longer or shorter fails. With `identity`, the
   * open file must still have it after the read: it is the file that was hashed, unchanged.
   * `level` replaces the choice made from the file's first bytes.
   */
  public file(rel: string, absolute: string, size: number, identity?: string, level?: number): void {
    const buffer = (this.buffer ??= Buffer.allocUnsafe(READ_BYTES));
    let fd: number;
    try {
      fd = fs.openSync(absolute, "r");
    } catch (e) {
      // Gone or unreadable since it was hashed (or listed).
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EACCES" || code === "EPERM" || code === "EISDIR") throw new InputChangedError(absolute, `${absolute} could not be read again (${code}) while the build context was written (run synth again)`);
      throw e;
    }
    try {
      // A file that fits the buffer is read with one byte more asked for: getting it means the
      // file is longer than its recorded size.
      let read = readSome(fd, buffer, Math.min(buffer.length, size + 1), absolute, size);
      if (read > size) throw new InputChangedError(absolute, `${absolute} became longer while it was archived`);
      // The level is decided on the file's first bytes, before any of its bytes are written.
      this.sink.setLevel(level ?? this.levelFor(buffer.subarray(0, Math.min(read, PROBE_BYTES))));
      this.writeHeader(rel, size, "File", FILE_MODE);
      let remaining = size;
      while (remaining > 0) {
        this.sink.write(buffer.subarray(0, read));
        remaining -= read;
        if (remaining > 0) read = readSome(fd, buffer, Math.min(buffer.length, remaining), absolute, remaining);
      }
      this.pad(size);
      // What was archived must be what was hashed: the file read, as it is after the read.
      if (identity !== undefined && identityKeyOfOpenFile(fd) !== identity) throw new InputChangedError(absolute, `${absolute} changed while the build context archive was written (run synth again)`);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Zero bytes up to the next block after an entry of `size` bytes. */
  private pad(size: number): void {
    const padding = Math.ceil(size / BLOCK) * BLOCK - size;
    if (padding > 0) this.sink.write(ZERO_BLOCKS.subarray(0, padding));
  }

  /** End of archive: two zero blocks. */
  public end(): void {
    this.sink.setLevel(this.gzipLevel);
    this.sink.write(ZERO_BLOCKS);
  }

  private levelFor(sample: Buffer): number {
    return this.gzipLevel !== 0 && looksCompressible(sample) ? this.gzipLevel : 0;
  }

  private writeHeader(rel: string, size: number, type: "File" | "Directory", mode: number): void {
    const header = this.header;
    header.path = rel;
    header.size = size;
    header.type = type;
    header.mode = mode;
    this.headerBlock.fill(0);
    // encode() is true when a field does not fit ustar (paths over 100/155 characters): a pax
    // header with the same (fixed) fields goes first.
    if (header.encode(this.headerBlock, 0)) this.sink.write(new Pax({ path: rel, size, mtime: EPOCH }).encode());
    this.sink.write(this.headerBlock);
  }
}

/**
 * Reads up to `length` bytes; at least one while `expected` bytes are still due (a file that ends
 * early changed while it was archived).
 */
function readSome(fd: number, buffer: Buffer, length: number, file: string, expected: number): number {
  const read = fs.readSync(fd, buffer, 0, length, null);
  if (read === 0 && expected > 0) throw new InputChangedError(file, `${file} became shorter while it was archived`);
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
