/**
 * Fast matching of the built-in exclude patterns. They all have the form `**\/<name>` or
 * `**\/<dir>/<name>` (no other wildcards than `*` and `?` inside a segment), so regular
 * expressions on the last one or two segments of the relative path decide them; running every
 * pattern through the generic dockerignore matcher for each of 20,000 files costs more than the
 * rest of an unchanged synth, and a regular expression on the whole path costs more than on its
 * last segment.
 */

/** Something that decides a relative posix path. */
export interface PathMatcher {
  test(rel: string): boolean;
  /**
   * For the entries of one folder (`folderRel`, "" for the top): a test of an entry's name that
   * decides as `test` does on `<folderRel>/<name>`, with the work that depends on the folder done
   * once instead of once per entry.
   */
  inFolder(folderRel: string): (name: string) => boolean;
}

function segmentToRegex(seg: string): string {
  let out = "";
  for (const ch of seg) {
    if (ch === "*") out += "[^/]*";
    else if (ch === "?") out += "[^/]";
    else out += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return out;
}

/** A matcher equivalent to the given `**\/...` patterns for paths relative to the folder. */
export function compileAnywherePatterns(patterns: readonly string[]): PathMatcher {
  const names: string[] = [];
  const parents: string[] = [];
  const pairs: string[] = [];
  for (const p of patterns) {
    const segments = p.slice(3).split("/");
    if (!p.startsWith("**/") || p.slice(3).includes("**") || /[[\]!\\]/.test(p) || segments.length > 2) {
      throw new Error(`built-in exclude ${p} is not of the form **/<name>[/<name>]`);
    }
    if (segments.length === 1) {
      names.push(segmentToRegex(segments[0]));
    } else {
      parents.push(segmentToRegex(segments[0]));
      pairs.push(segments.map(segmentToRegex).join("/"));
    }
  }
  // Case-insensitive like the dockerignore matcher (its default), so `.ENV` or `ID_RSA` is left
  // out whether or not the folder has a `.dockerignore` of its own. Anchored at both ends: a
  // regular expression tried at one position instead of at every "/" of the path.
  const anchored = (alternatives: string[]): RegExp | undefined => (alternatives.length === 0 ? undefined : new RegExp(`^(?:${alternatives.join("|")})$`, "i"));
  const name = anchored(names);
  const parent = anchored(parents);
  const pair = anchored(pairs);
  // A one-segment pattern decides the last segment; a two-segment one the last two, and only
  // when the folder above matches its first segment (rarely: `.kube`, `.docker`, ...).
  const test = (rel: string): boolean => {
    const last = rel.lastIndexOf("/");
    if (name !== undefined && name.test(last < 0 ? rel : rel.slice(last + 1))) return true;
    if (pair === undefined || last < 0) return false;
    const before = rel.lastIndexOf("/", last - 1);
    return parent!.test(rel.slice(before + 1, last)) && pair.test(rel.slice(before + 1));
  };
  const nameOnly = (n: string): boolean => name !== undefined && name.test(n);
  return {
    test,
    inFolder: (folderRel) => {
      if (pair === undefined || folderRel === "" || !parent!.test(folderRel.slice(folderRel.lastIndexOf("/") + 1))) return nameOnly;
      return (n) => test(`${folderRel}/${n}`);
    },
  };
}

/**
 * A `.dockerignore` pattern (without its `!`) as a regular expression that decides one path by
 * itself, without the rule that a pattern matching a folder also matches everything below it:
 * the same translation as the dockerignore matcher's (Docker's `filepath.Match` with `**`),
 * case-insensitive like it, for posix paths relative to the folder.
 */
export function exactPattern(pattern: string): RegExp {
  let p = pattern.trim().replace(/^\/+/, "").replace(/\/+$/, "");
  p = p === "" ? p : p.split("/").filter((s) => s !== "" && s !== ".").join("/");
  let out = "^";
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === "*" && p[i + 1] === "*") {
      i++;
      if (p[i + 1] === "/") i++;
      out += p[i + 1] === undefined ? ".*" : "(.*/)?";
    } else if (ch === "*") out += "[^/]*";
    else if (ch === "?") out += "[^/]";
    else if (ch === "\\") {
      out += p[i + 1] === undefined ? "\\\\" : `\\${p[++i]}`;
    } else if (ch === "." || ch === "$") out += `\\${ch}`;
    // Anything else as the matcher (and Docker) take it: into the expression as it is.
    else out += ch;
  }
  try {
    return new RegExp(`${out}$`, "i");
  } catch {
    // A pattern the matcher cannot compile either: it names nothing.
    return /(?!)/;
  }
}
