/**
 * What the walk of a model folder found last time, and each file's digest, kept so that an
 * unchanged re-synth of a model of 20,000 files does not list its folders, match excludes, build
 * and sort 20,000 entries and look each digest up again: it checks every file's identity (one
 * lstat each, as the digest cache does) and every folder's, and reuses the rest.
 *
 * Sound because a folder's listing cannot change without its own identity changing: creating,
 * removing or renaming an entry (a file, a folder, a link, a different type under the same name)
 * sets the folder's mtime and ctime. Each folder's identity is taken before it is listed, so a
 * change during the walk shows next time. Kept only when nothing can fool that:
 * - the walk met no symbolic link (a link's target can change without any folder of the walk
 *   changing);
 * - every folder and file changed at least SETTLE_NS before the walk started (a change within the
 *   same timestamp tick would leave the identity as it was: file-identity.ts);
 * - the key holds everything else the result depends on: the folder's real path, the destination
 *   prefix, the folder's own `.dockerignore` (as the walk applied it), the built-in exclude
 *   rules, this format and the versions of this library and of the dockerignore matcher;
 * - the folder is on a local file system (memoCanTrust): network and FUSE file systems may report
 *   cached or made-up folder times, and their clock is not this machine's.
 * A file found with another identity, a folder changed, a memo damaged or of another key: the
 * folder is walked and hashed as on a first synth (the digest cache still saves re-reading the
 * files that did not change).
 *
 * Kept in the private staging folder, one file per key (`folder-memo-<hash>.json`: the sha256 of
 * the JSON, then the JSON; a memo whose digest does not match is not used), touched when used;
 * memos unused for 7 days go with the other cleanup (staging-root.ts).
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_EXCLUDES, SECRET_EXCLUDES } from "./excludes";
import { identityKey, parseIdentityKey, settledBefore } from "./file-identity";
import { under } from "./under";

const FORMAT = "aml-function-deployment/folder-memo/v1";
export const FOLDER_MEMO_PREFIX = "folder-memo-";

/** What the memo of one walked folder depends on besides its files and folders. */
export interface FolderMemoKey {
  /** Real path of the walked folder. */
  readonly realRoot: string;
  readonly destPrefix: string;
  /** The folder's own `.dockerignore` lines. */
  readonly ownIgnore: readonly string[];
}

/** A walk, as the memo needs it. */
export interface WalkedFolder {
  /** Each listed folder (relative posix path, "" for the folder itself) with its identity before it was listed. */
  readonly folders: ReadonlyArray<readonly [string, string]>;
  /** True when the walk met a symbolic link (such a walk is never kept). */
  readonly sawLinks: boolean;
  readonly secretExcluded: readonly string[];
  readonly secretReincluded: readonly string[];
}

/** The files of the folder (sorted by relative path) with identity and digest, and the reports. */
export interface FolderMemo {
  /** Relative posix paths below the folder; the file is `<realRoot>/<rel>`. */
  readonly rels: string[];
  readonly ids: string[];
  readonly sha256s: string[];
  readonly secretExcluded: string[];
  readonly secretReincluded: string[];
}

interface Stored extends FolderMemo {
  readonly format: string;
  readonly key: string;
  readonly folders: Array<[string, string]>;
}

/**
 * Linux file system types (statfs f_type) whose folder times and inode numbers are the disk's
 * own: ext2/3/4, XFS, btrfs, tmpfs, overlayfs, ZFS, F2FS, bcachefs. Elsewhere (NFS, SMB, FUSE
 * mounts such as blobfuse2, 9p as in WSL, and other platforms) the folder is walked every time.
 */
const LOCAL_FILE_SYSTEMS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0x2fc12fc1, 0xf2f52010, 0xca451a4e]);

/** Whether a memo of the folder at `realRoot` can be trusted (see the top). */
export function memoCanTrust(realRoot: string): boolean {
  if (process.platform !== "linux") return false;
  try {
    return LOCAL_FILE_SYSTEMS.has(fs.statfsSync(realRoot).type);
  } catch {
    return false;
  }
}

/** This library's version and the dockerignore matcher's: their rules decide what a walk finds. */
let versions: string[] | undefined;

/** Read when a memo is first keyed, not when the library is loaded. */
function readVersions(): string[] {
  const versionOf = (file: string): string => {
    try {
      return String((JSON.parse(fs.readFileSync(file, "utf8")) as { version?: unknown }).version);
    } catch {
      return "unknown";
    }
  };
  let matcher = "unknown";
  try {
    matcher = versionOf(require.resolve("@balena/dockerignore/package.json"));
  } catch {
    // Not resolvable this way: the format and this library's version still key the memo.
  }
  // lib/image/staging (sources) or dist/lib/image/staging (compiled) below the package root.
  const own = [path.resolve(__dirname, "../../../package.json"), path.resolve(__dirname, "../../../../package.json")].find((f) => fs.existsSync(f));
  return [own === undefined ? "unknown" : versionOf(own), matcher];
}

function keyText(key: FolderMemoKey): string {
  return JSON.stringify([FORMAT, (versions ??= readVersions()), key.realRoot, key.destPrefix, key.ownIgnore, DEFAULT_EXCLUDES, SECRET_EXCLUDES]);
}

function memoFile(stagingRoot: string, text: string): string {
  return path.join(stagingRoot, `${FOLDER_MEMO_PREFIX}${createHash("sha256").update(text).digest("hex").slice(0, 32)}.json`);
}

/** The memo of the folder `key` names, when every folder and file still has its recorded identity. */
export function readFolderMemo(stagingRoot: string, key: FolderMemoKey): FolderMemo | undefined {
  const text = keyText(key);
  const file = memoFile(stagingRoot, text);
  let stored: Stored;
  try {
    // `<sha256 of the rest>\n<JSON>`: a damaged memo (a file left out of it would go unseen by
    // the checks below) is never used.
    const content = fs.readFileSync(file, "utf8");
    const json = content.slice(65);
    if (content.charCodeAt(64) !== 10 || createHash("sha256").update(json).digest("hex") !== content.slice(0, 64)) return undefined;
    stored = JSON.parse(json) as Stored;
  } catch {
    return undefined;
  }
  if (!isWellFormed(stored) || stored.format !== FORMAT || stored.key !== text) return undefined;
  try {
    for (const [rel, id] of stored.folders) if (identityKey(under(key.realRoot, rel)) !== id) return undefined;
    const { rels, ids } = stored;
    for (let i = 0; i < rels.length; i++) if (identityKey(under(key.realRoot, rels[i])) !== ids[i]) return undefined;
  } catch {
    // A file or folder gone.
    return undefined;
  }
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // Only the cleanup's clock.
  }
  return stored;
}

function isWellFormed(s: Stored): boolean {
  const strings = (a: unknown): boolean => Array.isArray(a) && a.every((x) => typeof x === "string");
  return (
    typeof s === "object" && s !== null && Array.isArray(s.folders) && s.folders.every((f) => Array.isArray(f) && f.length === 2 && strings(f)) &&
    strings(s.rels) && strings(s.ids) && strings(s.sha256s) && s.rels.length === s.ids.length && s.rels.length === s.sha256s.length &&
    s.sha256s.every((h) => /^[0-9a-f]{64}$/.test(h)) && strings(s.secretExcluded) && strings(s.secretReincluded)
  );
}

/**
 * Keeps what the walk `walked` of the folder `key` names found, with the files' identities and
 * digests (`memo.rels` sorted), when nothing could fool the next synth's check (see the top):
 * returns whether it was kept. `started` is when the walk began (ns, file-time clock). A memo is
 * only a shortcut: one that cannot be written (a full disk, no rights) is left out, silently.
 */
export function writeFolderMemo(stagingRoot: string, key: FolderMemoKey, walked: WalkedFolder, memo: FolderMemo, started: bigint): boolean {
  if (walked.sawLinks) return false;
  for (const [, id] of walked.folders) if (!settledBefore(parseIdentityKey(id), started)) return false;
  for (const id of memo.ids) if (!settledBefore(parseIdentityKey(id), started)) return false;
  const text = keyText(key);
  const file = memoFile(stagingRoot, text);
  const stored: Stored = {
    format: FORMAT,
    key: text,
    folders: walked.folders.map(([rel, id]) => [rel, id]),
    rels: memo.rels,
    ids: memo.ids,
    sha256s: memo.sha256s,
    secretExcluded: [...walked.secretExcluded],
    secretReincluded: [...walked.secretReincluded],
  };
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const json = JSON.stringify(stored);
  try {
    fs.writeFileSync(temp, `${createHash("sha256").update(json).digest("hex")}\n${json}`, { mode: 0o600 });
    fs.renameSync(temp, file);
    return true;
  } catch {
    fs.rmSync(temp, { force: true });
    return false;
  }
}
