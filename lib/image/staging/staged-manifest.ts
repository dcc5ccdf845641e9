/**
 * The record of a staged context: every file and every folder with the identity it had when it
 * was written. A staged context is reused only when all of them still have that identity, so a
 * planted or edited file (even with its mtime set back: ctime cannot be) makes the next synth
 * stage afresh. A file added to or removed from a folder changes that folder's mtime and ctime,
 * so folders stand in for listing their contents. Checking costs one lstat per file and folder;
 * the big files are never read again.
 *
 * Layout: the sha256 of the file list, then one identityKey string per file and per folder in
 * list order (no path per row: the list is what the caller expects, and its digest must match),
 * so loading the record of 20,000 files is one small JSON parse.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import { identityKey } from "./file-identity";
import { under } from "./under";

const FORMAT = "aml-function-deployment/staged-manifest/v3";

interface Manifest {
  readonly format: string;
  /** sha256 of the context paths, each followed by a NUL. */
  readonly list: string;
  /** identityKey of each file, in the order of the list. */
  readonly files: string[];
  /** identityKey of each folder, in the order of foldersOf(list); "" is the context itself. */
  readonly folders: string[];
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

function listDigest(files: readonly string[]): string {
  const hash = createHash("sha256");
  // Joined in slices: one update per path costs more than the hashing itself.
  for (let i = 0; i < files.length; i += 4096) hash.update(`${files.slice(i, i + 4096).join("\0")}\0`);
  return hash.digest("hex");
}

/** Records the identities of `files` (context paths) and their folders under `directory`. */
export function recordManifest(directory: string, files: readonly string[], manifestFile: string): void {
  const manifest: Manifest = {
    format: FORMAT,
    list: listDigest(files),
    files: files.map((f) => identityKey(under(directory, f))),
    folders: foldersOf(files).map((d) => identityKey(under(directory, d))),
  };
  const temp = `${manifestFile}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(manifest), { mode: 0o600 });
  fs.renameSync(temp, manifestFile);
}

/**
 * True when `directory` holds exactly `files`, each file and folder with the identity recorded in
 * `manifestFile`.
 */
export function verifyManifest(directory: string, files: readonly string[], manifestFile: string): boolean {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as Manifest;
  } catch {
    return false;
  }
  if (typeof manifest !== "object" || manifest === null || manifest.format !== FORMAT || !Array.isArray(manifest.files) || !Array.isArray(manifest.folders)) return false;
  if (manifest.files.length !== files.length || manifest.list !== listDigest(files)) return false;
  const folders = foldersOf(files);
  if (manifest.folders.length !== folders.length) return false;
  try {
    for (let i = 0; i < folders.length; i++) if (identityKey(under(directory, folders[i])) !== manifest.folders[i]) return false;
    for (let i = 0; i < files.length; i++) if (identityKey(under(directory, files[i])) !== manifest.files[i]) return false;
    return true;
  } catch {
    return false;
  }
}
