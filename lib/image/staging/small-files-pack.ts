/**
 * The model's small files, packed into one uncompressed tar in the build context
 * (`model-small-files.tar`), which the Dockerfile unpacks with `ADD` into the model folder.
 *
 * Why: a model of 20,000 small files staged as 20,000 files costs a create, a write and, on every
 * later synth, an lstat per file (the staged copies are checked because the stack asset shares
 * their inodes), which the synth budgets of issue 8 cannot afford. One tar is one file to write,
 * link and check. Big files stay files in `model/`: they are few, they are copied with
 * copy_file_range or kept sparse (staging/copy-file.ts), and a tar would hold every byte.
 *
 * Layout: a `./` folder entry first (so the tar is never empty: Docker unpacks only what it
 * recognises as a tar archive, and an empty one is not), then for each packed file, in the sorted
 * order of the context, the folder entries it needs that are not yet written, then the file.
 * Paths are relative to the model folder in the image (`/var/azureml-app/azureml-models`), e.g.
 * `churn/model.joblib`. Entries as in tar-writer.ts (mode 0644/0755, uid/gid 0, mtime 1970): the
 * same files give the same bytes anywhere.
 */
import { BLOCK, headerSize, paddedSize, TarWriter } from "../build/tar-writer";
import type { PackMember } from "./pack-member";

export type { PackMember };

/** Name of the pack in the build context. */
export const SMALL_FILES_PACK = "model-small-files.tar";

/** Model files of up to this many bytes go into the pack. */
export const PACK_FILE_MAX_BYTES = 64 * 1024;

/** Where the model's files are in the build context; the pack holds paths below it. */
export const MODEL_PREFIX = "model/";

/** The folder entries to write before `file`, given those already written. */
function newFolders(file: string, written: Set<string>): string[] {
  const out: string[] = [];
  let i = file.indexOf("/");
  while (i > 0) {
    const folder = file.slice(0, i + 1);
    if (!written.has(folder)) {
      written.add(folder);
      out.push(folder);
    }
    i = file.indexOf("/", i + 1);
  }
  return out;
}

/** Size in bytes of the pack of `members` (sorted by path). */
export function smallFilesPackSize(members: readonly PackMember[]): number {
  const written = new Set<string>();
  let size = BLOCK; // "./"
  for (const m of members) {
    for (const folder of newFolders(m.path, written)) size += headerSize(folder, 0, "Directory");
    size += headerSize(m.path, m.size) + paddedSize(m.size);
  }
  return size + 2 * BLOCK;
}

/**
 * Writes a pack one file at a time, in the pack's order (sorted by path): `./` when made, the
 * folder entries each file needs before it, the end marker on `end()`. writeSmallFilesPack uses
 * it, and so does a synth that writes the pack while it hashes the files (build-context.ts), so
 * both give the same bytes.
 */
export class PackStream {
  private readonly written = new Set<string>();

  constructor(private readonly writer: TarWriter) {
    writer.directory("./");
  }

  /** A file whose bytes are in memory. */
  public content(packPath: string, content: Buffer): void {
    this.folders(packPath);
    this.writer.content(packPath, content);
  }

  /** A file read from its input, which must still be the file hashed (tar-writer.ts). */
  public file(packPath: string, absolute: string, size: number, identity: string): void {
    this.folders(packPath);
    this.writer.file(packPath, absolute, size, identity);
  }

  public end(): void {
    this.writer.end();
  }

  private folders(packPath: string): void {
    for (const folder of newFolders(packPath, this.written)) this.writer.directory(folder);
  }
}

/**
 * Writes the pack of `members` (sorted by path) with `writer`, end marker included. An input
 * file that is not the one hashed any more (size or identity) fails the write.
 */
export function writeSmallFilesPack(writer: TarWriter, members: readonly PackMember[]): void {
  const pack = new PackStream(writer);
  for (const m of members) {
    const input = m.input;
    if ("content" in input) {
      const content = Buffer.from(input.content.buffer, input.content.byteOffset, input.content.byteLength);
      if (content.length !== m.size) throw new RangeError(`${m.path}: ${content.length} bytes given for a size of ${m.size}`);
      pack.content(m.path, content);
    } else {
      pack.file(m.path, input.path, m.size, input.identity);
    }
  }
  pack.end();
}
