/**
 * The model's small files, packed into one uncompressed tar in the build context, which the
 * Dockerfile unpacks with `ADD` into the model folder. A model of 20,000 small files staged as
 * 20,000 files costs a create, a write and, on every later synth, an lstat per file (the staged
 * copies are checked because the stack asset shares their inodes); one tar is one file to write,
 * link and check. Big files stay files in `model/`: they are few, they are copied with
 * copy_file_range or kept sparse (copy-file.ts), and a tar would hold every byte.
 *
 * Layout: a `./` folder entry first (so the tar is never empty: Docker unpacks only what it
 * recognises as a tar archive, and an empty one is not), then for each packed file, in the sorted
 * order of the context, the folder entries it needs that are not yet written, then the file.
 * Paths are relative to the model folder in the image, e.g. `churn/model.joblib`. Entries as in
 * tar.ts: the same files give the same bytes anywhere.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ContextFile, SmallFilesPack, sourceOf } from "./context-file";
import { identityKey } from "./file-identity";
import { TarSink, TarWriter } from "./tar";

export const SMALL_FILES_PACK = "model-small-files.tar";

/** Model files of up to this many bytes go into the pack. */
export const PACK_FILE_MAX_BYTES = 64 * 1024;

/** Where the model's files are in the build context; the pack holds paths below it. */
export const MODEL_PREFIX = "model/";

const FILE_MODE = 0o644;

/** The folder entries to write before the file `packPath`, given those already written. */
function newFolders(packPath: string, written: Set<string>): string[] {
  const out: string[] = [];
  for (let i = packPath.indexOf("/"); i > 0; i = packPath.indexOf("/", i + 1)) {
    const folder = packPath.slice(0, i + 1);
    if (!written.has(folder)) {
      written.add(folder);
      out.push(folder);
    }
  }
  return out;
}

/** The pack as a new file (mode 0644), written one member at a time, in the pack's order, in 1 MiB writes. */
class PackFile {
  private readonly fd: number;
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private readonly writer: TarWriter;
  /** Folder entries written so far. */
  private readonly folders = new Set<string>();

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "wx", FILE_MODE);
    fs.fchmodSync(this.fd, FILE_MODE);
    // Tar headers are small writes: collected into 1 MiB ones.
    const sink: TarSink = {
      setLevel: () => undefined,
      write: (bytes) => {
        if (this.used + bytes.length > this.buffer.length) this.flush();
        if (bytes.length >= this.buffer.length) this.writeAll(bytes);
        else this.used += bytes.copy(this.buffer, this.used);
      },
    };
    this.writer = new TarWriter(sink, 0);
    this.writer.directory("./");
  }

  /** A member, from `bytes` or else read from its source, which must still be the file hashed (InputChangedError). */
  public add(m: ContextFile, bytes = m.content): void {
    const packPath = m.dest.slice(MODEL_PREFIX.length);
    for (const folder of newFolders(packPath, this.folders)) this.writer.directory(folder);
    if (bytes !== undefined) this.writer.content(packPath, bytes);
    else this.writer.file(packPath, sourceOf(m), m.size, m.id);
  }

  /** Ends the pack and closes the file; removes it instead when `complete` is false. */
  public close(complete: boolean): void {
    try {
      if (complete) {
        this.writer.end();
        this.flush();
      }
    } finally {
      fs.closeSync(this.fd);
      if (!complete) fs.rmSync(this.file, { force: true });
    }
  }

  private flush(): void {
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Buffer): void {
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.fd, bytes, written, bytes.length - written);
  }
}

/** The file of the pack written while hashing, when there is one and it is still the file written. */
function writtenPack(pack: SmallFilesPack): string | undefined {
  try {
    return pack.written !== undefined && identityKey(pack.written.file) === pack.written.identity ? pack.written.file : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the pack as the new file `target`: the one written while hashing moved there, or written from its members. */
export function writeSmallFilesPackFile(target: string, pack: SmallFilesPack): void {
  const written = writtenPack(pack);
  if (written !== undefined) {
    fs.renameSync(written, target);
    return;
  }
  const file = new PackFile(target);
  let complete = false;
  try {
    for (const m of pack.pack) file.add(m);
    complete = true;
  } finally {
    file.close(complete);
  }
}

/** Calls `use` with a file that holds the pack: the one written while hashing, or one written now in `dir` (removed after). */
export function usePackFile(pack: SmallFilesPack, dir: string, use: (file: string) => void): void {
  const written = writtenPack(pack);
  if (written !== undefined) return use(written);
  const made = path.join(dir, `.staging-pack-${process.pid}-${randomBytes(6).toString("hex")}.tar`);
  try {
    writeSmallFilesPackFile(made, pack);
    use(made);
  } finally {
    fs.rmSync(made, { force: true });
  }
}

/** Removes the pack written while hashing, unless it was taken. */
export function dropWrittenPack(pack: SmallFilesPack): void {
  if (pack.written === undefined) return;
  fs.rmSync(pack.written.file, { force: true });
}

/**
 * The pack, written while the model's files are hashed (a first synth reads them anyway, and
 * reading 20,000 small files again costs more than the synth budgets leave): to a temporary file
 * in the staging root, which staging moves into the folder or the archive copies into its entry
 * (one not used is removed with the staging root's other leftovers, staging-root.ts).
 * Given up as soon as a small file's bytes are not at hand (its digest came from an input's
 * manifest): the pack is then written from the files when it is needed.
 */
export class PackWhileHashing {
  private file?: PackFile;
  private given = false;
  private last = "";

  constructor(private readonly stagingRoot: string) {}

  /** The model's next file in context order, with its bytes as hashed when it was read whole. */
  public add(m: ContextFile, bytes: Buffer | undefined): void {
    if (this.given || m.size > PACK_FILE_MAX_BYTES) return;
    if (bytes === undefined || m.dest <= this.last) {
      this.giveUp();
      return;
    }
    this.file ??= new PackFile(path.join(this.stagingRoot, `.staging-pack-${process.pid}-${randomBytes(6).toString("hex")}.tar`));
    this.file.add(m, bytes);
    this.last = m.dest;
  }

  /** Removes what was written (the pack will be written from the files, if at all). */
  public giveUp(): void {
    this.file?.close(false);
    this.file = undefined;
    this.given = true;
  }

  /** The pack file and its identity, complete, when it was written. */
  public finish(): { readonly file: string; readonly identity: string } | undefined {
    if (this.given || this.file === undefined) return undefined;
    const { file } = this.file;
    this.file.close(true);
    return { file, identity: identityKey(file) };
  }
}
