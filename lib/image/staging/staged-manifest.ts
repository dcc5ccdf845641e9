/**
 * The record of a staged context: every file with the identity it had when it was written. A
 * staged context is reused only when every file still has that identity and there is no other
 * file in it, so a planted or edited file (even with its mtime set back: ctime cannot be) makes
 * the next synth stage afresh. Checking identities costs one lstat per file; the big files are
 * never read again.
 */
import * as fs from "fs";
import * as path from "path";
import { FileIdentity, identityOf, sameIdentity } from "./file-identity";

const FORMAT = "aml-function-deployment/staged-manifest/v1";

type Row = [string, string, string, number, string, string];

function fileOf(directory: string, dest: string): string {
  return path.join(directory, ...dest.split("/"));
}

/** Records the identities of `files` (context paths) under `directory` into `manifestFile`. */
export function recordManifest(directory: string, files: readonly string[], manifestFile: string): void {
  const rows: Row[] = [];
  for (const dest of files) {
    const id = identityOf(fileOf(directory, dest));
    rows.push([dest, id.dev, id.ino, id.size, id.mtimeNs, id.ctimeNs]);
  }
  const temp = `${manifestFile}.${process.pid}.tmp`;
  fs.writeFileSync(temp, JSON.stringify({ format: FORMAT, files: rows }), { mode: 0o600 });
  fs.renameSync(temp, manifestFile);
}

/** Lists every non-folder below `directory` as context paths, without recursion. */
function listFiles(directory: string): string[] | undefined {
  const out: string[] = [];
  const pending: Array<[string, string]> = [[directory, ""]];
  while (pending.length > 0) {
    const [abs, rel] = pending.pop()!;
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = rel === "" ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) pending.push([path.join(abs, d.name), r]);
      else if (d.isFile()) out.push(r);
      else return undefined; // links, devices, sockets: never staged by us
    }
  }
  return out;
}

/**
 * True when `directory` holds exactly `files`, each with the identity recorded in `manifestFile`.
 */
export function verifyManifest(directory: string, files: readonly string[], manifestFile: string): boolean {
  let rows: Row[];
  try {
    const data = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as { format?: string; files?: Row[] };
    if (data.format !== FORMAT || !Array.isArray(data.files)) return false;
    rows = data.files;
  } catch {
    return false;
  }
  if (rows.length !== files.length) return false;
  try {
    for (let i = 0; i < rows.length; i++) {
      const [dest, dev, ino, size, mtimeNs, ctimeNs] = rows[i];
      if (dest !== files[i]) return false;
      const recorded: FileIdentity = { dev, ino, size, mtimeNs, ctimeNs };
      if (!sameIdentity(identityOf(fileOf(directory, dest)), recorded)) return false;
    }
    const present = listFiles(directory);
    return present !== undefined && present.length === files.length;
  } catch {
    return false;
  }
}
