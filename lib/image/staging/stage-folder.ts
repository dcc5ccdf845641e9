/**
 * The build context staged as a folder, for builds that need its files (ImageBuild.localDocker()):
 * `<staging root>/<fingerprint>`, written to a temporary sibling and renamed into place (a reader
 * never sees a half-written context), every file mode 0644 and every folder 0755 whatever the
 * inputs had.
 *
 * Named by fingerprint and trusted after one check: its record (`<fingerprint>.manifest.json`)
 * holds every file and folder with the identity it had when it was written, and a staged folder
 * is reused only when all of them still have it, so a planted or edited file (even with its mtime
 * set back: ctime cannot be) makes the synth stage afresh. A file added or removed changes its
 * folder's identity, so folders stand in for listing their contents. The check costs one lstat
 * per staged file and folder (the model's small files are one pack); big files are never read.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { StagedFile } from "./context-file";
import { copyFileEconomically } from "./copy-file";
import { identityKey } from "./file-identity";
import { manifestPath } from "./staging-root";
import { InputChangedError, inputChanged, writeSmallFilesPackFile } from "./tar";
import { under } from "./under";

// v4: paths and identities side by side (v3 kept a digest of the path list).
const FORMAT = "aml-function-deployment/staged-manifest/v4";
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

interface Manifest {
  readonly format: string;
  /** Context paths of the files, then of the folders ("" is the context itself), each with its identity. */
  readonly files: string[];
  readonly folders: string[];
  readonly ids: string[];
}

/** A staged context folder. */
export interface StagedFolder {
  /** Absolute path of the folder. */
  readonly directory: string;
  /**
   * Records the staged files' identities again. Hard-linking a staged file (into the stack's
   * assets) changes its ctime; this keeps that from invalidating the folder on the next synth.
   * Call it only right after such a link.
   */
  recordIdentities(): void;
  /** A token that changes whenever the folder is written or its files are touched: the sha256 of its record. */
  version(): string;
}

function foldersOf(files: readonly string[]): string[] {
  const dirs = new Set<string>([""]);
  for (const f of files) for (let i = f.lastIndexOf("/"); i > 0 && !dirs.has(f.slice(0, i)); i = f.lastIndexOf("/", i - 1)) dirs.add(f.slice(0, i));
  return [...dirs].sort();
}

function record(directory: string, files: readonly string[], manifestFile: string): void {
  const folders = foldersOf(files);
  const manifest: Manifest = { format: FORMAT, files: [...files], folders, ids: [...files, ...folders].map((f) => identityKey(under(directory, f))) };
  const temp = `${manifestFile}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(manifest), { mode: 0o600 });
  fs.renameSync(temp, manifestFile);
}

/** True when `directory` holds exactly `files`, each file and folder with its recorded identity. */
function verify(directory: string, files: readonly string[], manifestFile: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Manifest;
    if (m.format !== FORMAT || m.files.length !== files.length || files.some((f, i) => m.files[i] !== f)) return false;
    const all = [...files, ...m.folders];
    return m.ids.length === all.length && all.every((f, i) => identityKey(under(directory, f)) === m.ids[i]);
  } catch {
    return false;
  }
}

/**
 * Makes `<root>/<fingerprint>` hold exactly `files` (sorted), with a record that verifies: the
 * folder staged before when it verifies, else written afresh. An input that is not the file
 * hashed any more fails the synth (inputChanged).
 */
export function stageFolder(owner: string, root: string, fingerprint: string, files: readonly StagedFile[]): StagedFolder {
  const directory = path.join(root, fingerprint);
  const manifest = manifestPath(root, fingerprint);
  const paths = files.map((f) => f.dest);
  const staged: StagedFolder = {
    directory,
    recordIdentities: () => record(directory, paths, manifest),
    version: () => createHash("sha256").update(fs.readFileSync(manifest)).digest("hex"),
  };
  if (fs.existsSync(directory) && verify(directory, paths, manifest)) return staged;
  fs.rmSync(manifest, { force: true });
  fs.rmSync(directory, { recursive: true, force: true });
  const temp = fs.mkdtempSync(path.join(root, `.staging-${fingerprint.slice(0, 12)}-`));
  try {
    writeFiles(owner, temp, files);
    fs.chmodSync(temp, DIR_MODE);
    try {
      fs.renameSync(temp, directory);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!(code === "EEXIST" || code === "ENOTEMPTY" || code === "EPERM") || !fs.existsSync(directory)) throw e;
      // Another synth of this user staged the same fingerprint at the same time. Its folder is
      // kept only if it verifies; otherwise ours replaces it.
      if (!verify(directory, paths, manifest)) {
        fs.rmSync(directory, { recursive: true, force: true });
        fs.renameSync(temp, directory);
      }
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  if (!verify(directory, paths, manifest)) record(directory, paths, manifest);
  return staged;
}

function writeFiles(owner: string, dir: string, files: readonly StagedFile[]): void {
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
        writeSmallFilesPackFile(target, f.pack, FILE_MODE);
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
      const source = f.source!;
      try {
        copyFileEconomically(source, target, FILE_MODE);
      } catch (e) {
        // Gone or unreadable since it was hashed.
        const { code, path: failed } = e as NodeJS.ErrnoException;
        if (failed === source && (code === "ENOENT" || code === "EACCES" || code === "EPERM")) inputChanged(owner, source, undefined, code);
        throw e;
      }
      // What was copied must be what was hashed.
      if (f.id !== undefined && identityKey(source) !== f.id) inputChanged(owner, source);
    }
  }
}
