/**
 * The build context staged as a folder, for builds that need its files (ImageBuild.localDocker()):
 * `<staging root>/<fingerprint>`, written to a temporary sibling and renamed into place (a reader
 * never sees a half-written context), every file mode 0644 and every folder 0755 whatever the
 * inputs had. Trusted after one check: its record (`<fingerprint>.manifest.json`,
 * output-record.ts) names every file and folder with its identity.
 */
import * as fs from "fs";
import * as path from "path";
import { sourceOf, StagedFile } from "./context-file";
import { copyFileEconomically } from "./copy-file";
import { identityKey } from "./file-identity";
import { OutputRecord } from "./output-record";
import { manifestPath } from "./staging-root";
import { writeSmallFilesPackFile } from "./small-files-pack";
import { InputChangedError, inputChanged } from "./tar";
import { under } from "./under";

// v4: one record format for the staged folder and the archive (output-record.ts).
const FORMAT = "aml-function-deployment/staged-folder/v4";
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

/** A staged context folder. */
export interface StagedFolder {
  /** Absolute path of the folder. */
  readonly directory: string;
  readonly record: OutputRecord;
}

/** The files' paths, then their folders' ("" is the context itself). */
function pathsOf(files: readonly StagedFile[]): string[] {
  const dirs = new Set<string>([""]);
  for (const { dest } of files) for (let i = dest.lastIndexOf("/"); i > 0 && !dirs.has(dest.slice(0, i)); i = dest.lastIndexOf("/", i - 1)) dirs.add(dest.slice(0, i));
  return [...files.map((f) => f.dest), ...[...dirs].sort()];
}

/**
 * Makes `<root>/<fingerprint>` hold exactly `files` (sorted), with a record that verifies: the
 * folder staged before when it verifies, else written afresh. An input that is not the file
 * hashed any more fails the synth (inputChanged).
 */
export function stageFolder(owner: string, root: string, fingerprint: string, files: readonly StagedFile[], copied?: (dest: string) => string | undefined): StagedFolder {
  const directory = path.join(root, fingerprint);
  const manifest = manifestPath(root, fingerprint);
  const record = new OutputRecord(manifest, FORMAT, fingerprint, directory, pathsOf(files));
  if (fs.existsSync(directory) && record.verify()) return { directory, record };
  fs.rmSync(manifest, { force: true });
  fs.rmSync(directory, { recursive: true, force: true });
  const temp = fs.mkdtempSync(path.join(root, `.staging-${fingerprint.slice(0, 12)}-`));
  try {
    writeFiles(owner, temp, files, copied);
    fs.chmodSync(temp, DIR_MODE);
    try {
      fs.renameSync(temp, directory);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!(code === "EEXIST" || code === "ENOTEMPTY" || code === "EPERM") || !fs.existsSync(directory)) throw e;
      // Another synth of this user staged the same fingerprint at the same time. Its folder is
      // kept only if it verifies; otherwise ours replaces it.
      if (!record.verify()) {
        fs.rmSync(directory, { recursive: true, force: true });
        fs.renameSync(temp, directory);
      }
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  if (!record.verify()) record.recordIdentities();
  return { directory, record };
}

function writeFiles(owner: string, dir: string, files: readonly StagedFile[], copied?: (dest: string) => string | undefined): void {
  const made = new Set<string>([dir]);
  const ensureDir = (d: string): void => {
    if (made.has(d)) return;
    ensureDir(path.dirname(d));
    fs.mkdirSync(d);
    fs.chmodSync(d, DIR_MODE);
    made.add(d);
  };
  for (const f of files) {
    const target = under(dir, f.dest);
    ensureDir(path.dirname(target));
    if ("pack" in f) {
      try {
        writeSmallFilesPackFile(target, f);
      } catch (e) {
        if (e instanceof InputChangedError) inputChanged(owner, e.file);
        throw e;
      }
    } else if (f.content !== undefined) {
      const fd = fs.openSync(target, "wx", FILE_MODE);
      try {
        fs.fchmodSync(fd, FILE_MODE);
        fs.writeFileSync(fd, f.content);
      } finally {
        fs.closeSync(fd);
      }
    } else {
      const source = sourceOf(f);
      // Copied while it was hashed (background-copy.ts): moved into place; else copied now.
      const copy = copied?.(f.dest);
      if (copy !== undefined) {
        fs.chmodSync(copy, FILE_MODE);
        fs.renameSync(copy, target);
      } else {
        try {
          copyFileEconomically(source, target, FILE_MODE);
        } catch (e) {
          // Gone or unreadable since it was hashed.
          const { code, path: failed } = e as NodeJS.ErrnoException;
          if (failed === source && (code === "ENOENT" || code === "EACCES" || code === "EPERM")) inputChanged(owner, source, undefined, code);
          throw e;
        }
      }
      // What was copied must be what was hashed.
      if (f.id !== undefined && identityKey(source) !== f.id) inputChanged(owner, source);
    }
  }
}
