/**
 * Where staged build contexts live, and keeping that place private and small.
 *
 * Default: `$XDG_CACHE_HOME/aml-function-deployment` or `~/.cache/aml-function-deployment`
 * (on the same file system as most projects, so the stack asset can hard-link instead of copy);
 * `<tmpdir>/aml-function-deployment-<uid>` when there is no usable home folder;
 * `AML_FUNCTION_STAGING_DIR` relocates it. The folder must be a real folder (not a link),
 * owned by the current user, and not group- or world-accessible: it is created with mode 0700,
 * a folder of ours with wider rights is narrowed to 0700, one owned by someone else is refused
 * (anyone who can write there could plant code into an image that is then pushed as ours).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { INPUT_MANIFEST_PREFIX } from "./input-manifest";
import { invalid } from "../../errors";

export const STAGING_DIR_ENV = "AML_FUNCTION_STAGING_DIR";

/** Contexts used within this time are never removed (another synth may be using them). */
const MIN_AGE_MS = 60 * 60 * 1000;
/** Contexts unused for longer than this are removed. */
const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** Beyond this many contexts, the least recently used ones (older than MIN_AGE_MS) are removed. */
const KEEP_RECENT = 20;

/** Files earlier versions kept here that nothing reads any more. */
const RETIRED_FILES = new Set(["file-digests.json", "file-digests.txt"]);
const RETIRED_PREFIX = "folder-memo-";

/** The staging root this process uses (see the module comment). */
export function stagingRoot(): string {
  const fromEnv = process.env[STAGING_DIR_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== "") return path.resolve(fromEnv);
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, "aml-function-deployment");
  let home = "";
  try {
    home = os.homedir();
  } catch {
    home = "";
  }
  if (home !== "" && home !== "/" && fs.existsSync(home)) return path.join(home, ".cache", "aml-function-deployment");
  const uid = typeof process.getuid === "function" ? process.getuid() : os.userInfo().username;
  return path.join(os.tmpdir(), `aml-function-deployment-${uid}`);
}

/** Creates the staging root if needed and checks it is private; returns it. */
export function preparePrivateRoot(owner: string, root: string = stagingRoot()): string {
  const allowed = `a folder owned by this user with no group or other access (mode 0700); set ${STAGING_DIR_ENV} to relocate it`;
  fs.mkdirSync(path.dirname(root), { recursive: true });
  try {
    fs.mkdirSync(root, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const st = fs.lstatSync(root);
  if (st.isSymbolicLink()) invalid(owner, STAGING_DIR_ENV, root, "the staging folder is a symbolic link", allowed);
  if (!st.isDirectory()) invalid(owner, STAGING_DIR_ENV, root, "the staging folder is not a folder", allowed);
  if (typeof process.getuid === "function") {
    if (st.uid !== process.getuid()) invalid(owner, STAGING_DIR_ENV, root, `the staging folder is owned by uid ${st.uid}, not by this user (uid ${process.getuid()})`, allowed);
    if ((st.mode & 0o077) !== 0) {
      fs.chmodSync(root, 0o700);
      if ((fs.lstatSync(root).mode & 0o077) !== 0) invalid(owner, STAGING_DIR_ENV, root, "the staging folder is accessible to other users and cannot be made private", allowed);
    }
  }
  return root;
}

/** Path of the manifest that records what was staged for `fingerprint`. */
export function manifestPath(root: string, fingerprint: string): string {
  return path.join(root, `${fingerprint}.manifest.json`);
}

/** Path of the marker whose mtime says when a context without a manifest was last used. */
function usedMarkerPath(root: string, fingerprint: string): string {
  return path.join(root, `${fingerprint}.used`);
}

/**
 * Marks a context as used now (cleanup removes the least recently used): its manifest's mtime,
 * or, for a context that was never staged as a folder (the ACR build archives straight from the
 * inputs), an empty `<fingerprint>.used` marker's.
 */
export function touchContext(root: string, fingerprint: string): void {
  const now = new Date();
  try {
    fs.utimesSync(manifestPath(root, fingerprint), now, now);
    return;
  } catch {
    // No manifest: the marker below.
  }
  const marker = usedMarkerPath(root, fingerprint);
  try {
    fs.utimesSync(marker, now, now);
  } catch {
    fs.writeFileSync(marker, "", { mode: 0o600 });
  }
}

/** A context's name: a fingerprint, as a folder or as the start of `<fingerprint>.<what>`. */
const CONTEXT_ENTRY = /^([0-9a-f]{64})(?:\..+)?$/;

/**
 * Removes old contexts: those unused for MAX_AGE_MS, and beyond the KEEP_RECENT most recently
 * used those older than MIN_AGE_MS, each with everything named after it (its folder, manifest,
 * usage marker and the files derived from it, e.g. the ACR build's archive and its sidecar);
 * also temporary folders of interrupted stagings, input manifests unused for MAX_AGE_MS, and
 * files of earlier versions (RETIRED_FILES).
 * A context was last used when its manifest or usage marker was last touched (touchContext), or
 * else when its newest file changed. `keep` is never removed.
 */
export function removeOldContexts(root: string, keep: string): void {
  const now = Date.now();
  const byContext = new Map<string, string[]>();
  const removeIfOlder = (abs: string, ms: number): void => {
    try {
      if (now - fs.lstatSync(abs).mtimeMs > ms) fs.rmSync(abs, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  };
  for (const name of fs.readdirSync(root)) {
    const abs = path.join(root, name);
    if (RETIRED_FILES.has(name) || name.startsWith(RETIRED_PREFIX)) fs.rmSync(abs, { force: true });
    // An input's manifest is touched whenever a synth uses it (input-manifest.ts).
    else if (name.startsWith(INPUT_MANIFEST_PREFIX)) removeIfOlder(abs, MAX_AGE_MS);
    else if (name.startsWith(".staging-")) removeIfOlder(abs, MIN_AGE_MS);
    else {
      const match = CONTEXT_ENTRY.exec(name);
      if (match === null || match[1] === keep) continue;
      const names = byContext.get(match[1]);
      if (names === undefined) byContext.set(match[1], [name]);
      else names.push(name);
    }
  }
  const mtimeOf = (file: string): number | undefined => {
    try {
      return fs.lstatSync(file).mtimeMs;
    } catch {
      return undefined;
    }
  };
  const contexts: Array<{ name: string; used: number; names: string[] }> = [];
  for (const [name, names] of byContext) {
    const marked = [mtimeOf(manifestPath(root, name)), mtimeOf(usedMarkerPath(root, name))].filter((t): t is number => t !== undefined);
    const used = marked.length > 0 ? Math.max(...marked) : Math.max(0, ...names.map((n) => mtimeOf(path.join(root, n)) ?? 0));
    contexts.push({ name, used, names });
  }
  contexts.sort((a, b) => b.used - a.used || (a.name < b.name ? -1 : 1));
  contexts.forEach((c, i) => {
    const age = now - c.used;
    if (age > MAX_AGE_MS || (i >= KEEP_RECENT - 1 && age > MIN_AGE_MS)) {
      for (const n of c.names) fs.rmSync(path.join(root, n), { recursive: true, force: true });
    }
  });
}
