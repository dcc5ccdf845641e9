/**
 * The record of a staged context: every file and every folder with the identity it had when it
 * was written. A staged context is reused only when all of them still have that identity, so a
 * planted or edited file (even with its mtime set back: ctime cannot be) makes the next synth
 * stage afresh. A file added to or removed from a folder changes that folder's mtime and ctime,
 * so folders stand in for listing their contents. Checking costs one lstat per file and folder;
 * the big files are never read again.
 */
import * as fs from "fs";
import * as path from "path";
import { FileIdentity, identityOf, sameIdentity } from "./file-identity";

const FORMAT = "aml-function-deployment/staged-manifest/v2";

type Row = [string, string, string, number, string, string];

function fileOf(directory: string, dest: string): string {
  return path.join(directory, ...dest.split("/"));
}

function foldersOf(files: readonly string[]): string[] {
  const dirs = new Set<string>([""]);
  for (const f of files) {
    let i = f.lastIndexOf("/");
    while (i > 0) {
      const d = f.slice(0, i);
      if (dirs.has(d)) break;
      dirs.add(d);
      i = d.lastIndexOf("/");
    }
  }
  return [...dirs].sort();
}

function rowOf(directory: string, rel: string): Row {
  const id = identityOf(rel === "" ? directory : fileOf(directory, rel));
  return [rel, id.dev, id.ino, id.size, id.mtimeNs, id.ctimeNs];
}

/** Records the identities of `files` (context paths) and their folders under `directory`. */
export function recordManifest(directory: string, files: readonly string[], manifestFile: string): void {
  const rows: Row[] = files.map((f) => rowOf(directory, f));
  const dirs: Row[] = foldersOf(files).map((d) => rowOf(directory, d));
  const temp = `${manifestFile}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify({ format: FORMAT, files: rows, folders: dirs }), { mode: 0o600 });
  fs.renameSync(temp, manifestFile);
}

function matches(directory: string, row: Row): boolean {
  const [rel, dev, ino, size, mtimeNs, ctimeNs] = row;
  const recorded: FileIdentity = { dev, ino, size, mtimeNs, ctimeNs };
  return sameIdentity(identityOf(rel === "" ? directory : fileOf(directory, rel)), recorded);
}

/**
 * True when `directory` holds exactly `files`, each file and folder with the identity recorded in
 * `manifestFile`.
 */
export function verifyManifest(directory: string, files: readonly string[], manifestFile: string): boolean {
  let rows: Row[];
  let dirs: Row[];
  try {
    const data = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as { format?: string; files?: Row[]; folders?: Row[] };
    if (data.format !== FORMAT || !Array.isArray(data.files) || !Array.isArray(data.folders)) return false;
    rows = data.files;
    dirs = data.folders;
  } catch {
    return false;
  }
  if (rows.length !== files.length) return false;
  const expectedDirs = foldersOf(files);
  if (dirs.length !== expectedDirs.length) return false;
  try {
    for (let i = 0; i < dirs.length; i++) if (dirs[i][0] !== expectedDirs[i] || !matches(directory, dirs[i])) return false;
    for (let i = 0; i < rows.length; i++) if (rows[i][0] !== files[i] || !matches(directory, rows[i])) return false;
    return true;
  } catch {
    return false;
  }
}
