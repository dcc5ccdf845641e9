/**
 * Folders that must never be copied into an image as a whole: the file system root, a home
 * folder (keys, shell history, cloud credentials) and any folder that holds the project being
 * synthesized (its Terraform state, `cdktf.out` and `node_modules`): the one with `cdktf.json`,
 * or without one the one with `package.json`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { invalid } from "../../errors";

/** The nearest folder at or above `from` that holds `marker`, if any. */
function nearestWith(marker: string, from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, marker))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The project being synthesized: the nearest folder at or above `from` with a `cdktf.json`, else
 * (an app run without the cdktf CLI's layout) the nearest with a `package.json`.
 */
export function findProjectRoot(from: string = process.cwd()): { readonly dir: string; readonly marker: string } | undefined {
  for (const marker of ["cdktf.json", "package.json"]) {
    const dir = nearestWith(marker, from);
    if (dir !== undefined) return { dir, marker };
  }
  return undefined;
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** True when `folder` is `other` or one of its parents. */
function contains(folder: string, other: string): boolean {
  const rel = path.relative(folder, other);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Throws a ValidationError when `folder` (copied into the image as a whole) is `/`, a home
 * folder, or contains the cdktf project root or the staging root. `given` is the value the user
 * passed (the entry script's path, whose folder is copied); it defaults to the folder itself.
 */
export function refuseDangerousFolder(owner: string, prop: string, folder: string, stagingRoot: string, given: string = folder): void {
  const abs = real(folder);
  const allowed = "a folder that holds only what the image needs (e.g. a `scoring/` or `models/` folder inside the project), not `/`, a home folder or the project root";
  // Say which folder is meant when the value given is a file inside it.
  const subject = given === folder ? "it" : `its folder ${folder}, copied into the image as a whole,`;
  if (path.dirname(abs) === abs) invalid(owner, prop, given, `${subject} is the root of the file system`, allowed);
  const homes = new Set<string>(["/root", real(os.homedir())]);
  if (homes.has(abs) || /^\/home\/[^/]+$/.test(abs) || /^\/Users\/[^/]+$/.test(abs)) {
    invalid(owner, prop, given, `${subject} is a home folder`, allowed);
  }
  const project = findProjectRoot();
  if (project !== undefined && contains(abs, real(project.dir))) {
    const what = project.marker === "cdktf.json" ? "the cdktf project root" : "the project root (the folder with package.json)";
    invalid(owner, prop, given, `${subject} contains ${what} ${project.dir} (Terraform state, cdktf.out, node_modules)`, allowed);
  }
  if (contains(abs, real(stagingRoot))) {
    invalid(owner, prop, given, `${subject} contains the build-context staging folder ${stagingRoot}`, allowed);
  }
}
