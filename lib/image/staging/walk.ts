/**
 * Lists the files of a folder that go into the build context, without recursion (a deep tree
 * cannot exhaust the call stack) and without spreading large arrays (200,000 files are fine).
 *
 * Symbolic links are followed when they stay inside the folder; links that leave it, dangle or
 * loop are refused. Excludes are dockerignore patterns: DEFAULT_EXCLUDES and SECRET_EXCLUDES
 * first, then the folder's own `.dockerignore`.
 *
 * Two rules keep secrets out beyond plain dockerignore semantics (where a later `!` line wins):
 * - a link is left out when what it points to is (a `config.txt` linking to `.env` would
 *   otherwise ship the `.env`'s bytes under a harmless name), and so is everything reached
 *   through a linked folder whose real path is left out;
 * - a file the built-in rules match (a secret, `.git`, `node_modules`, ...) is re-included only by
 *   a `!` line that names such a path itself (`!.env`, `!certs/*.pem`, `!.aws/config`), not by
 *   one that re-includes a folder or everything (`!sub`, `!*`, the usual allow-list
 *   `.dockerignore`), and not below a named folder when it matches a rule of its own (see
 *   makeBuiltinPolicy). Secrets left out this way are reported like the others; secrets a `!`
 *   line did re-include are reported as kept.
 */
import * as fs from "fs";
import * as path from "path";
import dockerignore from "@balena/dockerignore";
import { invalid } from "../../errors";
import { DEFAULT_EXCLUDES, SECRET_EXCLUDES } from "./excludes";
import { identityKey } from "./file-identity";
import { compileAnywherePatterns, exactPattern, PathMatcher } from "./patterns";
import { under } from "./under";

const BUILTIN = compileAnywherePatterns([...DEFAULT_EXCLUDES, ...SECRET_EXCLUDES]);
const SECRET = compileAnywherePatterns(SECRET_EXCLUDES);

/** A file of the context found by a walk: its context path and its real path. */
export interface Entry {
  readonly dest: string;
  readonly source: string;
}

export interface WalkOptions {
  readonly owner: string;
  readonly prop: string;
  /** Absolute folder being copied. */
  readonly root: string;
  /** Destination prefix inside the context, e.g. "source/". */
  readonly destPrefix: string;
  /** Only files below these relative sub-folders (undefined = everything). */
  readonly only?: readonly string[];
  /** Absolute real paths to leave out. */
  readonly skip?: readonly string[];
  /**
   * The lines of the folder's own `.dockerignore`, when the caller read them already (so that
   * what it keys on and what the walk applies are the same read).
   * @default read from `<root>/.dockerignore`
   */
  readonly ownIgnore?: readonly string[];
}

export interface WalkResult {
  /** Files to stage, in no particular order. */
  readonly entries: Entry[];
  /**
   * Context paths (dest) left out by SECRET_EXCLUDES and not re-included by a `.dockerignore`;
   * a folder left out as a whole ends in "/".
   */
  readonly secretExcluded: string[];
  /** Context paths the secret rules match that a `!` line naming them re-included. */
  readonly secretReincluded: string[];
  /**
   * Every folder listed (relative posix path, "" for the folder itself) with its identityKey
   * taken before it was listed: a folder whose identity is unchanged has the same entries
   * (input-manifest.ts).
   */
  readonly folders: Array<[string, string]>;
  /** True when the walk met a symbolic link (followed or left out). */
  readonly sawLinks: boolean;
}

/** The lines of the folder's own `.dockerignore` (none when it has none). */
export function readOwnIgnore(root: string): string[] {
  const file = path.join(root, ".dockerignore");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split(/\r?\n/) : [];
}

/**
 * Whether a `!` line of the folder's own `.dockerignore` names a relative path itself (not a
 * folder above it, nor everything): how a file whose content looks like a credential is kept
 * on purpose, as a `!` line naming it keeps a file the secret rules match.
 */
export function namedByExceptionLine(own: readonly string[]): (rel: string) => boolean {
  const names = own
    .map((p) => p.trim())
    .filter((p) => p.startsWith("!") && p.length > 1)
    .map((p) => exactPattern(p.slice(1).trim()));
  return (rel) => names.some((n) => n.test(rel));
}

/** A folder still to visit; `parent` links give the chain of ancestors for cycle checks. */
interface Pending {
  readonly abs: string;
  readonly rel: string;
  /** Real path of this folder. */
  readonly real: string;
  readonly parent?: Pending;
  /** Reached through a symbolic link: its real path is not `<root>/<rel>`. */
  readonly linked?: boolean;
}

function isAncestor(p: Pending | undefined, real: string): boolean {
  for (let a = p; a !== undefined; a = a.parent) if (a.real === real) return true;
  return false;
}

/** The built-in rules, then the folder's own lines, in order: plain dockerignore semantics. */
function withOwnLines(own: string[]): ReturnType<typeof dockerignore> {
  return dockerignore().add([...DEFAULT_EXCLUDES, ...SECRET_EXCLUDES, ...own, "/.dockerignore"]);
}

/**
 * Decides whether a path is left out, with dockerignore semantics: `forFolder(folderRel)` gives
 * the test for the entries of one folder, called with an entry's relative path and its name.
 */
function makeIgnore(own: string[]): { forFolder: (folderRel: string) => (rel: string, name: string) => boolean; hasExceptions: boolean } {
  const hasExceptions = own.some((p) => p.trim().startsWith("!"));
  if (hasExceptions) {
    // A `!` line can re-include what the built-in rules leave out: evaluate everything in order.
    const ig = withOwnLines(own);
    const all = (rel: string): boolean => ig.ignores(rel);
    return { forFolder: () => all, hasExceptions };
  }
  const ownPatterns = own.filter((p) => p.trim() !== "" && !p.trim().startsWith("#"));
  const ig = ownPatterns.length > 0 ? dockerignore().add(ownPatterns) : undefined;
  // Without exceptions the walk never enters an ignored folder, so the built-in rules need to
  // look at the path itself only (and mostly at its name: BUILTIN.inFolder).
  return {
    forFolder: (folderRel) => {
      const builtin = BUILTIN.inFolder(folderRel);
      return (rel, name) => builtin(name) || rel === ".dockerignore" || (ig !== undefined && ig.ignores(rel));
    },
    hasExceptions,
  };
}

/** Every leading part of a relative path, whole segments: "a/b/c" -> ["a", "a/b", "a/b/c"]. */
function leadingParts(rel: string): string[] {
  const parts: string[] = [];
  for (let end = rel.indexOf("/"); end >= 0; end = rel.indexOf("/", end + 1)) parts.push(rel.slice(0, end));
  parts.push(rel);
  return parts;
}

/**
 * The built-in rules beyond dockerignore semantics (see the top), for one folder's own patterns.
 * A path is left out by a built-in rule when one of its leading parts matches the rule (`.git`,
 * `keys/id_rsa`, `.kube/config`) and no `!` line names that part or a deeper part of the path
 * itself: `!.aws/config` names `.aws/config` (and only it), `!.aws` the whole folder, `!*.pem`
 * the `.pem` files and folders but not an `id_rsa` inside a folder `keys.pem/`. Only `!` lines
 * whose pattern looks like a built-in exclude in one of its parts count (`!sub`, `!*` never).
 * `builtinLeftOut`: by any built-in rule; `secret`: by a secret rule (what is reported);
 * `reincluded`: a secret that `!` lines name; `leftOut`: by the folder's patterns (a folder above
 * it too) or by `builtinLeftOut`, for the real paths behind links.
 */
function makeBuiltinPolicy(own: string[]): {
  builtinLeftOut: (rel: string) => boolean;
  secret: (rel: string) => boolean;
  reincluded: (rel: string) => boolean;
  leftOut: (rel: string) => boolean;
} {
  const names = own
    .map((p) => p.trim())
    .filter((p) => p.startsWith("!") && p.length > 1)
    .map((p) => p.slice(1).trim())
    .filter((p) => leadingParts(p.replace(/^\/+|\/+$/g, "")).some((part) => BUILTIN.test(part)))
    .map(exactPattern);
  const unnamed = (matcher: PathMatcher, rel: string): boolean => {
    const parts = leadingParts(rel);
    for (let i = 0; i < parts.length; i++) {
      if (!matcher.test(parts[i])) continue;
      let named = false;
      for (let j = i; j < parts.length && !named; j++) named = names.some((n) => n.test(parts[j]));
      if (!named) return true;
    }
    return false;
  };
  let all: ReturnType<typeof dockerignore> | undefined;
  return {
    builtinLeftOut: (rel) => unnamed(BUILTIN, rel),
    secret: (rel) => unnamed(SECRET, rel),
    reincluded: (rel) => leadingParts(rel).some((part) => SECRET.test(part)) && !unnamed(SECRET, rel),
    leftOut: (rel) => {
      all ??= withOwnLines(own);
      return all.ignores(rel) || unnamed(BUILTIN, rel);
    },
  };
}

export function walkFolder(opts: WalkOptions): WalkResult {
  const own = opts.ownIgnore !== undefined ? [...opts.ownIgnore] : readOwnIgnore(opts.root);
  const { forFolder, hasExceptions } = makeIgnore(own);
  let policy: ReturnType<typeof makeBuiltinPolicy> | undefined;
  const builtins = (): ReturnType<typeof makeBuiltinPolicy> => (policy ??= makeBuiltinPolicy(own));
  const realRoot = fs.realpathSync(opts.root);
  const skip = new Set(opts.skip ?? []);
  const skipRoots = [...skip].map((s) => `${s}${path.sep}`);
  const entries: Entry[] = [];
  const secretExcluded: string[] = [];
  const secretReincluded: string[] = [];
  const folders: Array<[string, string]> = [];
  let sawLinks = false;
  /** The real path of something inside the folder, relative to it (posix). */
  const realRel = (real: string): string => path.relative(realRoot, real).split(path.sep).join("/");
  // Secret rules match a path or, when a `!` line made the walk enter left-out folders, one of
  // its folders: report the outermost one.
  const secretMatch = (rel: string): boolean => SECRET.test(rel);
  const underReportedFolder = (rel: string): boolean => {
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) if (SECRET.test(parts.slice(0, i).join("/"))) return true;
    return false;
  };

  const escapes = (real: string): boolean => {
    const inside = path.relative(realRoot, real);
    return inside === ".." || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside);
  };

  const stack: Pending[] = [{ abs: path.resolve(opts.root), rel: "", real: realRoot }];
  const below: Pending[] = [];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    // Before the listing: a change during the walk then shows as a changed folder next time.
    // The real path's identity: the folder given may be a link to it.
    folders.push([dir.rel, identityKey(dir.real)]);
    // Sorted so that the first bad link reported is the same on every machine.
    const dirents = fs.readdirSync(dir.abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Per folder, not per entry: the prefixes of its entries' paths and its exclude test.
    // Names from readdir have no separators, so joining is concatenating (see under.ts).
    const relPrefix = dir.rel === "" ? "" : `${dir.rel}/`;
    const realPrefix = `${dir.real}${path.sep}`;
    const destPrefix = `${opts.destPrefix}${relPrefix}`;
    const ignores = forFolder(dir.rel);
    for (const d of dirents) {
      const name = d.name;
      const rel = `${relPrefix}${name}`;
      // A name that is not UTF-8 comes back with U+FFFD in place of its bad bytes, a path that
      // names nothing: say so here rather than fail later on a path that does not exist.
      if (name.includes("\uFFFD") && !fs.existsSync(under(dir.abs, name))) {
        invalid(opts.owner, opts.prop, opts.root, `the name of ${rel} is not valid UTF-8`, "file and folder names in UTF-8 (rename the file)");
      }
      let real = `${realPrefix}${name}`;
      let isFile = d.isFile();
      // Regular files, by far the most entries, skip the other type checks.
      let isDir = !isFile && d.isDirectory();
      let viaLink = dir.linked === true;
      if (!isFile && !isDir) {
        if (d.isSymbolicLink()) {
          viaLink = true;
          sawLinks = true;
          const abs = under(dir.abs, name);
          let stat: fs.Stats;
          try {
            real = fs.realpathSync(abs);
            stat = fs.statSync(real);
          } catch {
            invalid(opts.owner, opts.prop, opts.root, `symbolic link ${rel} is broken`, "symbolic links to files and folders inside the copied folder");
          }
          if (escapes(real)) {
            invalid(opts.owner, opts.prop, opts.root, `symbolic link ${rel} points outside its folder (to ${real})`, `symbolic links to files and folders inside ${opts.root}`);
          }
          isDir = stat.isDirectory();
          isFile = stat.isFile();
        } else if (!d.isFIFO() && !d.isSocket() && !d.isBlockDevice() && !d.isCharacterDevice()) {
          // Unknown type from readdir (some file systems): ask lstat.
          const st = fs.lstatSync(under(dir.abs, name));
          isDir = st.isDirectory();
          isFile = st.isFile();
        }
      }
      // A skipped folder (the model, when it lies inside the entry script's folder) is staged by
      // its own walk, under its own .dockerignore: a link into it is left out here too.
      if (skip.size > 0 && (skip.has(real) || (viaLink && skipRoots.some((s) => real.startsWith(s))))) continue;
      // Behind a link: what it points to must not be left out (see the top).
      const target = viaLink ? realRel(real) : rel;
      // "" is the folder itself (a link to it makes a cycle, refused below).
      const hiddenTarget = target !== rel && target !== "" && builtins().leftOut(target);
      if (isDir) {
        if (ignores(rel, name) && !hasExceptions) {
          if (secretMatch(rel)) secretExcluded.push(`${opts.destPrefix}${rel}/`);
          continue;
        }
        if (isAncestor(dir, real)) {
          invalid(opts.owner, opts.prop, opts.root, `symbolic link ${rel} makes a cycle`, "symbolic links that do not point to one of their own parent folders");
        }
        if (hiddenTarget) {
          if (builtins().secret(target)) secretExcluded.push(`${opts.destPrefix}${rel}/ (links to ${target})`);
          continue;
        }
        below.push({ abs: under(dir.abs, name), rel, real, parent: dir, linked: viaLink });
        continue;
      }
      if (!isFile) {
        invalid(opts.owner, opts.prop, opts.root, `${rel} is neither a regular file nor a folder`, "regular files, folders and symbolic links to them");
      }
      if (ignores(rel, name)) {
        if (secretMatch(rel) || (hasExceptions && underReportedFolder(rel))) secretExcluded.push(`${opts.destPrefix}${rel}`);
        continue;
      }
      if (opts.only !== undefined && !opts.only.some((o) => rel === o || rel.startsWith(`${o}/`))) continue;
      // Re-included by a `!` line: only one that names the built-in match counts.
      if (hasExceptions && builtins().builtinLeftOut(rel)) {
        if (builtins().secret(rel)) secretExcluded.push(`${opts.destPrefix}${rel}`);
        continue;
      }
      if (hiddenTarget) {
        if (builtins().secret(target)) secretExcluded.push(`${opts.destPrefix}${rel} (links to ${target})`);
        continue;
      }
      if (hasExceptions && builtins().reincluded(rel)) secretReincluded.push(`${opts.destPrefix}${rel}`);
      entries.push({ dest: `${destPrefix}${name}`, source: real });
    }
    // Sub-folders in reverse, so they are visited in name order: the files come out nearly
    // sorted, and sorting them by context path later is little more than one pass.
    while (below.length > 0) stack.push(below.pop()!);
  }
  return { entries, secretExcluded, secretReincluded, folders, sawLinks };
}
