/**
 * The build context as one deterministic `.tar.gz`, for builds that upload it (ImageBuild.acrTask()).
 *
 * Deterministic: entries in the sorted order of the staged file list (relative paths, no folder
 * entries), written by tar.ts (mtime 1970-01-01, mode 0644, uid/gid 0, no owner names), gzip
 * headers without timestamp and with a fixed OS byte: the same files give the same bytes on any
 * machine and from any checkout path (for the same zlib, which Node bundles).
 *
 * Streamed straight from the inputs the context was hashed from (checked against their
 * identities), 1 MiB at a time, so a 1 GiB model never sits in memory and is never copied into a
 * staged folder. The model's small-files pack (tar.ts) is written the same way, as one entry.
 *
 * Compressed per file: models are mostly incompressible, and deflating those costs several times
 * the time of storing them for no smaller upload, so the byte entropy of each file's first 64 KiB
 * decides (tar.ts): near-random files are stored, the others use ARCHIVE_GZIP_LEVEL. The choice
 * depends on content only. The gzip file is a series of members (see MemberWriter).
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { sourceOf, StagedFile } from "./context-file";
import { OutputRecord } from "./output-record";
import { usePackFile } from "./small-files-pack";
import { TarWriter } from "./tar";

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

/** Bumped when the archive's bytes change, so a cached archive of an older layout is rewritten. */
const ARCHIVE_FORMAT = "aml-function-deployment/context-archive/v6";

/** What the archive of a context is and where it lies. */
export interface ContextArchive {
  /** Absolute path of the `.tar.gz`. */
  readonly file: string;
  /** Size in bytes. */
  readonly size: number;
  /** True when an existing, verified archive was reused instead of written. */
  readonly reused: boolean;
  /** Its record (`<archive>.json`). */
  readonly record: OutputRecord;
}

/**
 * Writes the archive of the context `files` (sorted) with content fingerprint `fingerprint` as
 * `file`, or reuses the one already written there for the same fingerprint, once its record
 * (`<archive>.json`, output-record.ts) verifies: a truncated, edited or replaced archive never
 * goes to the build. Not a hash of the archive: re-reading a 1 GiB archive on every synth would
 * cost what the cache saves, and the fingerprint already hashes the content. The archive is
 * written to a temporary file and renamed into place, and its record is written last, so an
 * interrupted write is never mistaken for a complete archive. An input file that is not the one
 * hashed any more fails the write with InputChangedError (tar.ts).
 */
export function writeContextArchive(files: readonly StagedFile[], fingerprint: string, file: string): ContextArchive {
  const sidecarFile = `${file}.json`;
  const record = new OutputRecord(sidecarFile, ARCHIVE_FORMAT, fingerprint, file, [""]);
  if (record.verify()) return { file, size: fs.statSync(file).size, reused: true, record };

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
    const tar = new TarWriter(gzip, ARCHIVE_GZIP_LEVEL);
    for (const f of files) {
      if ("pack" in f) {
        usePackFile(f, path.dirname(file), (pack) => tar.file(f.dest, pack, fs.statSync(pack).size, undefined, PACK_LEVEL));
      } else if (f.content !== undefined) {
        tar.content(f.dest, f.content);
      } else {
        tar.file(f.dest, sourceOf(f), f.size, f.id);
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
  record.recordIdentities();
  return { file, size, reused: false, record };
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
  /** Output buffer of stored members, reused: each is written before the next is made. */
  private stored = Buffer.alloc(0);

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
    if (this.level === 0 && typeof zlib.crc32 === "function") {
      const size = storedMemberSize(data.length);
      if (this.stored.length < size) this.stored = Buffer.allocUnsafe(size);
      return this.out(storedGzipMember(data, this.stored.subarray(0, size)));
    }
    // One output chunk that fits the member (stored data grows by 5 bytes per 64 KiB block plus
    // the gzip framing): zlib's default 16 KiB chunks would be copied once more into one buffer.
    const member = zlib.gzipSync(data, { level: this.level, chunkSize: Math.max(MIN_CHUNK, data.length + (data.length >> 10) + 1024) });
    member[9] = 255;
    this.out(member);
  }
}

/** Most bytes a stored deflate block holds. */
const STORED_BLOCK_BYTES = 0xffff;
/** gzip header: deflate, no flags, no timestamp, extra flags 4 (as zlib writes for its fastest levels), OS 255 ("unknown"). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255]);

function storedMemberSize(length: number): number {
  return GZIP_HEADER.length + length + 5 * Math.max(1, Math.ceil(length / STORED_BLOCK_BYTES)) + 8;
}

/**
 * `data` as a gzip member of stored deflate blocks (RFC 1951 3.2.4), framed here, into `out`
 * (of storedMemberSize bytes): the bytes zlib's level 0 gives, at a fraction of its cost for
 * incompressible models, most of an archive's bytes (zlib copies the data through its window
 * and computes the CRC; here one copy and zlib.crc32, Node 20.15 and later).
 */
export function storedGzipMember(data: Buffer, out: Buffer = Buffer.allocUnsafe(storedMemberSize(data.length))): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / STORED_BLOCK_BYTES));
  let at = GZIP_HEADER.copy(out, 0);
  for (let b = 0; b < blocks; b++) {
    const chunk = data.subarray(b * STORED_BLOCK_BYTES, (b + 1) * STORED_BLOCK_BYTES);
    // BFINAL on the last block, BTYPE 00 (stored), then LEN and its ones' complement.
    out[at] = b === blocks - 1 ? 1 : 0;
    out.writeUInt16LE(chunk.length, at + 1);
    out.writeUInt16LE(chunk.length ^ 0xffff, at + 3);
    at += 5 + chunk.copy(out, at + 5);
  }
  out.writeUInt32LE(zlib.crc32(data) >>> 0, at);
  out.writeUInt32LE(data.length >>> 0, at + 4);
  return out;
}
