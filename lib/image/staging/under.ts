/**
 * Joins a folder and a relative posix path. Where `/` is the separator this is a plain
 * concatenation: `path.join` normalizes every segment again, which for 20,000 context paths costs
 * more than the lstat calls they are built for. Both inputs are already normalized here (absolute
 * folders from path.resolve/realpath, context paths checked to have no `.`, `..` or empty segments).
 */
import * as path from "path";

export function under(directory: string, rel: string): string {
  if (rel === "") return directory;
  return path.sep === "/" ? `${directory}/${rel}` : path.join(directory, ...rel.split("/"));
}
