/**
 * The model's small-files pack as a file: written from its members when the context is staged
 * (writePackFile), or while the files are hashed (PackWhileHashing, local build) and then moved
 * into the staged context (movePack). The bytes are the same either way: PackStream writes both.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { TarWriter } from "../build/tar-writer";
import type { PackMember } from "./pack-member";
import { PackStream, smallFilesPackSize, writeSmallFilesPack } from "./small-files-pack";

/**
 * Moves the pack written while hashing into the context, when it is there and of the pack's size
 * (the bytes are the same: PackStream writes both); false otherwise, and it is written again.
 */
export function movePack(written: string, target: string, members: readonly PackMember[], mode: number): boolean {
  try {
    if (fs.statSync(written).size !== smallFilesPackSize(members)) return false;
    fs.chmodSync(written, mode);
    fs.renameSync(written, target);
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(written, { force: true });
  }
}

/**
 * The small-files pack, written while the model's files are hashed: to a temporary file in the
 * staging root (`.staging-pack-*`, removed by the cleanup after an hour if a synth dies), moved
 * into the staged context when it is written. Abandoned (removed) as soon as a small file's bytes
 * are not at hand (from the digest cache, or read in more than one call): the pack is then
 * written at staging, from the files, as without it.
 */
export class PackWhileHashing {
  private readonly file: string;
  private readonly fd: number;
  private readonly sink: BufferedFileSink;
  private readonly pack: PackStream;

  constructor(root: string) {
    this.file = path.join(root, `.staging-pack-${process.pid}-${randomBytes(6).toString("hex")}.tar`);
    this.fd = fs.openSync(this.file, "wx", 0o600);
    this.sink = new BufferedFileSink(this.fd);
    this.pack = new PackStream(new TarWriter(this.sink, 0));
  }

  public content(packPath: string, bytes: Buffer): void {
    this.pack.content(packPath, bytes);
  }

  /** Gives up the pack; returns undefined, for `stream = stream.abandon()`. */
  public abandon(): undefined {
    fs.closeSync(this.fd);
    fs.rmSync(this.file, { force: true });
    return undefined;
  }

  /** The pack's path, complete. */
  public finish(): string {
    this.pack.end();
    this.sink.flush();
    fs.closeSync(this.fd);
    return this.file;
  }
}

/**
 * Writes the small-files pack as the new file `target` with `mode`, in 1 MiB writes. A member read
 * from its input that is not the file hashed any more throws InputChangedError (tar-writer.ts).
 */
export function writePackFile(target: string, members: readonly PackMember[], mode: number): void {
  const fd = fs.openSync(target, "wx", mode);
  try {
    fs.fchmodSync(fd, mode);
    const out = new BufferedFileSink(fd);
    writeSmallFilesPack(new TarWriter(out, 0), members);
    out.flush();
  } finally {
    fs.closeSync(fd);
  }
}

/** A TarSink into a file descriptor that collects small writes (tar headers) into 1 MiB ones. */
class BufferedFileSink {
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  private used = 0;

  constructor(private readonly fd: number) {}

  public setLevel(): void {}

  public write(bytes: Buffer): void {
    if (this.used + bytes.length > this.buffer.length) this.flush();
    if (bytes.length >= this.buffer.length) {
      this.writeAll(bytes);
      return;
    }
    bytes.copy(this.buffer, this.used);
    this.used += bytes.length;
  }

  public flush(): void {
    this.writeAll(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Buffer): void {
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.fd, bytes, written, bytes.length - written);
  }
}
