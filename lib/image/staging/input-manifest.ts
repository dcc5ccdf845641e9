/**
 * The one identity-keyed manifest of the build context's inputs: for each input (a folder that is
 * walked, or a single file) its files with identity and sha256, kept in the private staging root
 * as `input-<hash of the key>.json` (the sha256 of the JSON, then the JSON). A file whose identity
 * is unchanged is not read again; an unchanged folder is not listed again either.
 *
 * A listing cannot change without the folder's own identity changing (creating, removing or
 * renaming an entry sets its mtime and ctime), and each folder's identity is taken before it is
 * listed. So a folder's listing stands for a walk when every listed folder still has its identity,
 * provided nothing could fool that: the walk met no symbolic link (a target can change unseen),
 * every folder and file had settled before the walk (SETTLE_NS), the folder is on a local file
 * system (network and FUSE ones may report cached folder times), and the key holds everything
 * else the walk depends on (real path, prefix, options, its `.dockerignore`, the built-in rules,
 * this format and this library's version). A digest is kept only for a file that had settled
 * before it was read, under the identity it had then: a file written while it was read has
 * another identity from then on, so that digest is never used. Touched when used; unused for 7
 * days, a manifest goes with the cleanup (staging-root.ts). One that cannot be written is left
 * out: it is only a shortcut.
 *
 * An input whose files are also checked by content (the entry script's folder: credential-scan.ts)
 * is scanned in the read that hashes each file, and its manifest's key holds the scan's version: a
 * digest in it then means "read, and held no finding". A file with a finding gets no digest in the
 * manifest, so it is read and reported on every synth; a file hashed under another key (as part of
 * the model, or under older rules) is read once more.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { ContextFile } from "./context-file";
import type { CredentialFinding } from "./credential-scan";
import { DEFAULT_EXCLUDES, SECRET_EXCLUDES } from "./excludes";
import { hashFileContent, identityKey, nowNs, settledBefore, sizeInIdentityKey } from "./file-identity";
import { under } from "./under";
import { readOwnIgnore, walkFolder, WalkOptions } from "./walk";

const FORMAT = "aml-function-deployment/input-manifest/v1";
export const INPUT_MANIFEST_PREFIX = "input-";

interface Stored {
  readonly format: string;
  readonly key: string;
  /** Each listed folder with its identity before it was listed; absent when the listing may not stand for a walk. */
  readonly folders?: Array<[string, string]>;
  /** The files: context path (the input's prefix, then the path below it), identity, sha256 ("" when not known). */
  readonly dests: string[];
  readonly ids: string[];
  readonly sha256s: string[];
  readonly secretExcluded: string[];
  readonly secretReincluded: string[];
}

/** The files of one input, hashed, and what the secret rules left out or let in. */
export interface InputFiles {
  readonly files: Array<ContextFile & { readonly sha256: string }>;
  readonly secretExcluded: string[];
  readonly secretReincluded: string[];
  /** The files whose content the scan found something in (only with a scan), in order. */
  readonly findings?: Array<{ readonly dest: string; readonly finding: CredentialFinding }>;
}

/** A check of each file's content in the read that hashes it (see the top). */
export interface ContentScan {
  /** In the manifest's key: a new version has every file scanned again. */
  readonly version: string;
  /** The finding in a file's bytes (read whole, in one call), or undefined. */
  readonly scan: (bytes: Buffer) => CredentialFinding | undefined;
}

/**
 * Linux file system types (statfs f_type) whose folder times and inode numbers are the disk's
 * own: ext2/3/4, XFS, btrfs, tmpfs, overlayfs, ZFS, F2FS, bcachefs.
 */
const LOCAL_FILE_SYSTEMS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0x2fc12fc1, 0xf2f52010, 0xca451a4e]);

/** Whether the listing of the folder at `realRoot` can stand for a walk (see the top). */
function listingCanTrust(realRoot: string): boolean {
  if (process.platform !== "linux") return false;
  try {
    return LOCAL_FILE_SYSTEMS.has(fs.statfsSync(realRoot).type);
  } catch {
    return false;
  }
}

/** This library's version: its walk and rules decide what a walk finds (the dockerignore matcher is pinned). */
let version: string | undefined;

function readVersion(): string {
  // lib/image/staging (sources) or dist/lib/image/staging (compiled) below the package root.
  for (const up of ["../../..", "../../../.."]) {
    try {
      return String((JSON.parse(fs.readFileSync(path.resolve(__dirname, up, "package.json"), "utf8")) as { version?: unknown }).version);
    } catch {
      // Not there: one level up.
    }
  }
  return "unknown";
}

function manifestFile(stagingRoot: string, key: string): string {
  return path.join(stagingRoot, `${INPUT_MANIFEST_PREFIX}${createHash("sha256").update(key).digest("hex").slice(0, 32)}.json`);
}

function isWellFormed(s: Stored): boolean {
  const strings = (a: unknown): boolean => Array.isArray(a) && a.every((x) => typeof x === "string");
  return (
    typeof s === "object" && s !== null && (s.folders === undefined || (Array.isArray(s.folders) && s.folders.every((f) => Array.isArray(f) && f.length === 2 && strings(f)))) &&
    strings(s.dests) && strings(s.ids) && strings(s.sha256s) && s.dests.length === s.ids.length && s.dests.length === s.sha256s.length &&
    s.sha256s.every((h) => h.length === 64 || h === "") && strings(s.secretExcluded) && strings(s.secretReincluded)
  );
}

/** The manifest of `key`, when it is sealed, well formed and of this key. */
function readManifest(file: string, key: string): Stored | undefined {
  try {
    // The seal is checked on the bytes as read: hashing the decoded text would encode it again.
    const bytes = fs.readFileSync(file);
    if (bytes[64] !== 10 || createHash("sha256").update(bytes.subarray(65)).digest("hex") !== bytes.toString("latin1", 0, 64)) return undefined;
    const stored = JSON.parse(bytes.toString("utf8", 65)) as Stored;
    return isWellFormed(stored) && stored.format === FORMAT && stored.key === key ? stored : undefined;
  } catch {
    return undefined;
  }
}

/** Marks the manifest as used now (for the cleanup). */
function touch(file: string): void {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // Only the cleanup's clock.
  }
}

/** Writes the manifest `file`. */
function keep(file: string, stored: Stored): void {
  const json = Buffer.from(JSON.stringify(stored), "utf8");
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    fs.writeFileSync(temp, Buffer.concat([Buffer.from(`${createHash("sha256").update(json).digest("hex")}\n`), json]), { mode: 0o600 });
    fs.renameSync(temp, file);
  } catch {
    fs.rmSync(temp, { force: true });
  }
}

/** What listing an input found: its files (context paths, and real paths or the folder they are below) and folders. */
interface Listing {
  readonly realRoot: string;
  readonly dests: string[];
  readonly sources?: readonly string[];
  readonly from?: ContextFile["from"];
  readonly folders?: Array<[string, string]>;
  readonly sawLinks: boolean;
  readonly secretExcluded: string[];
  readonly secretReincluded: string[];
  /** True when it is the manifest's own listing (nothing was walked, or a single file). */
  readonly reused: boolean;
}

/** Told about the files of an input as they are hashed. */
export interface InputObserver {
  /** A file about to be read for its digest (not one whose digest is known). */
  reading?(source: string, size: number): void;
  /** Each file, in order, with its bytes when it was read whole and unchanged (valid during the call). */
  hashed?(file: ContextFile, bytes: Buffer | undefined): void;
}

/**
 * Hashes the files of one input, reusing the digests (and, for a folder, the listing) of its
 * manifest in `stagingRoot` (none: every file is read).
 */
function hashInput(stagingRoot: string | undefined, key: string, list: (previous?: Stored) => Listing, observer?: InputObserver, scan?: ContentScan): InputFiles {
  const file = stagingRoot === undefined ? undefined : manifestFile(stagingRoot, key);
  const before = file === undefined ? undefined : readManifest(file, key);
  const started = nowNs();
  const listed = list(before);
  const { dests, sources, from } = listed;
  // The manifest's own files, in its order (`dests` are its), when its listing was reused.
  const inOrder = listed.reused ? before : undefined;
  let known: Map<string, string> | undefined;
  const ids: string[] = [];
  const sha256s: string[] = [];
  const files: InputFiles["files"] = [];
  const findings: NonNullable<InputFiles["findings"]> = [];
  let allTrusted = true;
  // The manifest as it is, when its listing was reused and every file kept its identity.
  let same = inOrder !== undefined && inOrder.dests.length === dests.length;
  for (let i = 0; i < dests.length; i++) {
    const source = sources !== undefined ? sources[i] : under(from!.root, dests[i].slice(from!.prefixLength));
    // With a manifest, the identity first: a file that kept it is not read. Without one, the
    // read takes it from the open file.
    let id = before === undefined ? undefined : identityKey(source);
    // The manifest's own string when it is the same: the one just made is then short-lived.
    if (inOrder !== undefined && inOrder.ids[i] === id) id = inOrder.ids[i];
    let sha256 = inOrder !== undefined && inOrder.ids[i] === id && inOrder.sha256s[i] !== "" ? inOrder.sha256s[i] : undefined;
    if (sha256 === undefined && id !== undefined) {
      same = false;
      if (known === undefined) {
        known = new Map<string, string>();
        for (let j = 0; j < before!.ids.length; j++) if (before!.sha256s[j] !== "") known.set(before!.ids[j], before!.sha256s[j]);
      }
      sha256 = known.get(id);
    }
    let trusted = sha256 !== undefined;
    let bytes: Buffer | undefined;
    if (sha256 === undefined) {
      const read = hashFileContent(source, (size) => observer?.reading?.(source, size));
      sha256 = read.sha256;
      bytes = read.whole;
      // Kept only for a file that had settled, and is the one whose identity was taken.
      trusted = (id === undefined || read.identity === id) && settledBefore(read.identity, started);
      id = read.identity;
      // Scanned in the bytes just read; a file with a finding keeps no digest (see the top).
      const finding = scan !== undefined && bytes !== undefined ? scan.scan(bytes) : undefined;
      if (finding !== undefined) {
        findings.push({ dest: dests[i], finding });
        trusted = false;
      }
    }
    const size = sizeInIdentityKey(id!);
    allTrusted &&= trusted;
    ids.push(id!);
    sha256s.push(trusted ? sha256 : "");
    const file = sources !== undefined ? { dest: dests[i], size, sha256, source, id } : { dest: dests[i], size, sha256, from, id };
    files.push(file);
    observer?.hashed?.(file, bytes);
  }
  const { folders, secretExcluded, secretReincluded } = listed;
  const reusable = folders !== undefined && !listed.sawLinks && allTrusted && folders.every(([, id]) => settledBefore(id, started)) && listingCanTrust(listed.realRoot);
  const found = scan === undefined ? {} : { findings };
  if (file === undefined || !sha256s.some((h) => h !== "")) return { files, secretExcluded, secretReincluded, ...found };
  if (same && reusable === (before!.folders !== undefined)) touch(file);
  else keep(file, { format: FORMAT, key, ...(reusable ? { folders } : {}), dests, ids, sha256s, secretExcluded, secretReincluded });
  return { files, secretExcluded, secretReincluded, ...found };
}

/** A single input file (`realPath`, no link) as the context file `dest`. */
export function fileInput(stagingRoot: string | undefined, dest: string, realPath: string, observer?: InputObserver): InputFiles {
  const key = JSON.stringify([FORMAT, "file", realPath]);
  return hashInput(stagingRoot, key, () => ({ realRoot: realPath, sources: [realPath], dests: [dest], sawLinks: false, secretExcluded: [], secretReincluded: [], reused: true }), observer);
}

/**
 * The files of a folder as the walk (walk.ts) finds them, or as its manifest recorded them when
 * every folder and file still has its recorded identity.
 */
export function folderInput(stagingRoot: string | undefined, opts: WalkOptions, observer?: InputObserver, scan?: ContentScan): InputFiles {
  const ownIgnore = opts.ownIgnore ?? readOwnIgnore(opts.root);
  const realRoot = fs.realpathSync(opts.root);
  const key = JSON.stringify([FORMAT, (version ??= readVersion()), realRoot, opts.destPrefix, opts.only ?? null, opts.skip ?? null, ownIgnore, DEFAULT_EXCLUDES, SECRET_EXCLUDES, ...(scan === undefined ? [] : [scan.version])]);
  return hashInput(stagingRoot, key, (previous) => {
    if (previous?.folders !== undefined && listingCanTrust(realRoot)) {
      if (unchangedFolders(realRoot, previous)) return { realRoot, from: { root: realRoot, prefixLength: opts.destPrefix.length }, dests: previous.dests, folders: previous.folders, sawLinks: false, secretExcluded: previous.secretExcluded, secretReincluded: previous.secretReincluded, reused: true };
    }
    const walked = walkFolder({ ...opts, ownIgnore });
    // Sorted as the context will be: a listing reused later is then one sorted run of it.
    walked.entries.sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
    return { realRoot, sources: walked.entries.map((e) => e.source), dests: walked.entries.map((e) => e.dest), folders: walked.folders, sawLinks: walked.sawLinks, secretExcluded: walked.secretExcluded, secretReincluded: walked.secretReincluded, reused: false };
  }, observer, scan);
}

/** True when every recorded folder still has its recorded identity. */
function unchangedFolders(realRoot: string, stored: Stored): boolean {
  try {
    return stored.folders!.every(([rel, id]) => identityKey(under(realRoot, rel)) === id);
  } catch {
    // A folder gone.
    return false;
  }
}
