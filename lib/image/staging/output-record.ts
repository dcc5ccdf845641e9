/**
 * The record of an output of the pipeline (the staged folder, the archive): the identity of each
 * of its files and folders right after it was written, with the format and fingerprint it was
 * written for. An output is trusted only when every one still has that identity, so a planted,
 * edited or replaced file (even with its mtime set back: ctime cannot be) makes the synth write it
 * afresh; a file added to or removed from a folder changes the folder's identity. One lstat per
 * recorded path: big files are never read again.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import { identityKey } from "./file-identity";
import { under } from "./under";

/** The record of one output, kept in the file `file`. */
export class OutputRecord {
  /**
   * @param output the output's path; `paths` below it ("" is the output itself) are recorded.
   * @param format and `fingerprint`: what the output was written as, and for.
   */
  constructor(
    private readonly file: string,
    private readonly format: string,
    private readonly fingerprint: string,
    private readonly output: string,
    private readonly paths: readonly string[],
  ) {}

  /** True when the record is of this format and fingerprint, names exactly these paths, and each still has its identity. */
  public verify(): boolean {
    try {
      const r = JSON.parse(fs.readFileSync(this.file, "utf8")) as { format: string; fingerprint: string; paths: string[]; ids: string[] };
      if (r.format !== this.format || r.fingerprint !== this.fingerprint || r.paths.length !== this.paths.length || r.ids.length !== this.paths.length) return false;
      return this.paths.every((p, i) => r.paths[i] === p && identityKey(under(this.output, p)) === r.ids[i]);
    } catch {
      return false;
    }
  }

  /**
   * Records the identities (again). Hard-linking a file of the output (into the stack's assets)
   * changes its ctime: call this right after such a link, so the next synth still trusts it.
   */
  public recordIdentities(): void {
    const ids = this.paths.map((p) => identityKey(under(this.output, p)));
    const temp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify({ format: this.format, fingerprint: this.fingerprint, paths: this.paths, ids }), { mode: 0o600 });
    fs.renameSync(temp, this.file);
  }

  /** A token that changes whenever the output is written or its record refreshed: the sha256 of the record. */
  public version(): string {
    return createHash("sha256").update(fs.readFileSync(this.file)).digest("hex");
  }
}
