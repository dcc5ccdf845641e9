/**
 * Copies that do not cost more disk than the data: a reflink where the file system supports it
 * (btrfs, XFS, APFS); for a file with holes (fewer allocated blocks than bytes) a chunked copy
 * that leaves all-zero 1 MiB blocks as holes, so a sparse 3 GB file stays sparse; otherwise the
 * kernel's own copy. Memory stays bounded (one 1 MiB buffer).
 */
import * as fs from "fs";

const CHUNK = 1 << 20;
const ZEROS = Buffer.alloc(CHUNK);

/** Remembers, per process, whether reflinks failed, so 20,000 small files don't each try. */
let reflinkWorks = true;

function sparseCopy(src: string, dest: string, mode: number): void {
  const input = fs.openSync(src, "r");
  try {
    const output = fs.openSync(dest, "wx", mode);
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      let offset = 0;
      let read: number;
      while ((read = fs.readSync(input, buffer, 0, CHUNK, offset)) > 0) {
        const chunk = buffer.subarray(0, read);
        if (!chunk.equals(ZEROS.subarray(0, read))) {
          let written = 0;
          while (written < read) written += fs.writeSync(output, chunk, written, read - written, offset + written);
        }
        offset += read;
      }
      // Holes at the end need the length set explicitly.
      fs.ftruncateSync(output, offset);
    } finally {
      fs.closeSync(output);
    }
  } finally {
    fs.closeSync(input);
  }
}

/** Copies `src` to the new file `dest` (which must not exist) with `mode`. */
export function copyFileEconomically(src: string, dest: string, mode: number): void {
  if (reflinkWorks) {
    try {
      fs.copyFileSync(src, dest, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE_FORCE);
      fs.chmodSync(dest, mode);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST" || code === "ENOENT" || code === "EACCES") throw e;
      reflinkWorks = false;
      fs.rmSync(dest, { force: true });
    }
  }
  const st = fs.statSync(src);
  if (st.blocks * 512 < st.size) {
    // Holes (fewer blocks than bytes): copy data blocks only.
    sparseCopy(src, dest, mode);
    // The umask may have narrowed the mode given to open.
    fs.chmodSync(dest, mode);
  } else {
    // Dense: the kernel's copy (copy_file_range/sendfile) is as fast as `cp`. It gives the
    // copy the source's mode exactly (fchmod, no umask), so chmod only when that differs.
    fs.copyFileSync(src, dest, fs.constants.COPYFILE_EXCL);
    if ((st.mode & 0o7777) !== mode) fs.chmodSync(dest, mode);
  }
}

/**
 * Makes `dest` the same content as `src`: a hard link when both are on the same file system
 * (no bytes written), otherwise an economical copy. Returns how it was done.
 */
export function linkOrCopy(src: string, dest: string, mode: number): "link" | "copy" {
  try {
    fs.linkSync(src, dest);
    return "link";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || code === "ENOENT") throw e;
  }
  copyFileEconomically(src, dest, mode);
  return "copy";
}
