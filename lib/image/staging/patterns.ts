/**
 * Fast matching of the built-in exclude patterns. They all have the form `**\/<name>` or
 * `**\/<dir>/<name>` (no other wildcards than `*` and `?` inside a segment), so one regular
 * expression on the last two segments of the relative path decides them; running every pattern
 * through the generic dockerignore matcher for each of 20,000 files costs more than the rest of an
 * unchanged synth, and the regular expression on the whole path costs more than on its tail.
 */

/** Something that decides a relative posix path. */
export interface PathMatcher {
  test(rel: string): boolean;
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

/** The last two segments of a relative path (all of it when it has fewer). */
function lastTwoSegments(rel: string): string {
  const last = rel.lastIndexOf("/");
  if (last < 0) return rel;
  const before = rel.lastIndexOf("/", last - 1);
  return before < 0 ? rel : rel.slice(before + 1);
}

/** A matcher equivalent to the given `**\/...` patterns for paths relative to the folder. */
export function compileAnywherePatterns(patterns: readonly string[]): PathMatcher {
  const alternatives = patterns.map((p) => {
    const segments = p.slice(3).split("/");
    if (!p.startsWith("**/") || p.slice(3).includes("**") || /[[\]!\\]/.test(p) || segments.length > 2) {
      throw new Error(`built-in exclude ${p} is not of the form **/<name>[/<name>]`);
    }
    return segments.map(segmentToRegex).join("/");
  });
  // Case-insensitive like the dockerignore matcher (its default), so `.ENV` or `ID_RSA` is left
  // out whether or not the folder has a `.dockerignore` of its own.
  const re = new RegExp(`(?:^|/)(?:${alternatives.join("|")})$`, "i");
  // No pattern spans more than two segments, so the tail decides as the whole path would.
  return { test: (rel) => re.test(lastTwoSegments(rel)) };
}
