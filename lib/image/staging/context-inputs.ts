/**
 * The files of the build context, from its inputs: the scoring-image folder's Dockerfile,
 * requirements and host code, the model, the entry script's folder and the generated files, each
 * hashed through its identity-keyed manifest (input-manifest.ts), all sorted by context path, and
 * checked against each other (a path given twice, a file where a folder is needed, a source
 * folder that would replace the model's files).
 *
 * Excludes (excludes.ts): DEFAULT_EXCLUDES and SECRET_EXCLUDES, then the `.dockerignore` of the
 * scoring-image folder, the model folder and the entry script's folder for that folder's files (a
 * `!` line re-includes a built-in exclude only when it names it, and links are left out with what
 * they point to: walk.ts; the `.dockerignore` itself is not copied). Files the secret rules left
 * out, and those a `!` line re-included, are printed at synth. A model or source folder that is
 * `/`, a home folder or holds the cdktf project is refused (folder-guard.ts).
 *
 * Credentials by content (credential-scan.ts): every file of the entry script's folder of up to
 * 1 MiB is checked in the read that hashes it (and not again while it is unchanged: its input
 * manifest keeps digests only of files checked without a finding). A finding refuses the synth,
 * naming the file and the `.dockerignore` line that leaves it out, unless a `!` line of that
 * folder's `.dockerignore` names the file (then it is printed as kept). Refused rather than warned
 * about: a warning scrolls by while the image, readable by everyone who can pull it, already holds
 * the secret, and the fix (one `.dockerignore` line, or keeping it on purpose with a `!` line)
 * costs less than a leaked key.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { invalid } from "../../errors";
import type { BuildContextSpec } from "../build-context-spec";
import type { ContextFile } from "./context-file";
import { findCredential, SCAN_MAX_BYTES, SCAN_VERSION } from "./credential-scan";
import { refuseDangerousFolder } from "./folder-guard";
import { fileInput, folderInput, InputFiles, InputObserver } from "./input-manifest";
import { MODEL_PREFIX, SMALL_FILES_PACK } from "./small-files-pack";
import { namedByExceptionLine, readOwnIgnore } from "./walk";

/** A file of the context with the sha256 of its content. */
export type HashedFile = ContextFile & { readonly sha256: string };

/** Where the entry script's folder goes in the context. */
const SOURCE_PREFIX = "source/";
/** Where the Dockerfile puts the model; a source file there would replace model files. */
const MODEL_DIR_IN_SOURCE = `${SOURCE_PREFIX}azureml-models`;
const NOT_USED = "paths not used by the scoring image, model or source files";

function generated(dest: string, text: string): HashedFile {
  const content = Buffer.from(text, "utf8");
  return { dest, size: content.length, sha256: createHash("sha256").update(content).digest("hex"), content };
}

export function byDest(a: { dest: string }, b: { dest: string }): number {
  return a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0;
}

/** Index of the first file whose dest is not below `key` (files sorted by dest). */
export function lowerBound(files: readonly HashedFile[], key: string): number {
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (files[mid].dest < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The entry script folder's files are scanned for credentials as they are hashed (see the top). */
const CONTENT_SCAN = { version: SCAN_VERSION, scan: (bytes: Buffer) => (bytes.length <= SCAN_MAX_BYTES ? findCredential(bytes) : undefined) };

/**
 * Every file of the context, hashed and sorted by dest, and the secret rules' reports (sorted).
 * `manifests`: where the inputs' manifests are kept (none: every file is read); `model` is told
 * about the model's files as they are hashed.
 */
export function collectInputs(spec: BuildContextSpec, owner: string, root: string, manifests: string | undefined, model: InputObserver): InputFiles {
  for (const name of Object.keys(spec.buildArgs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) invalid(owner, "buildArgs", name, "not a valid build argument name", "letters, digits and underscores, not starting with a digit");
  }
  const imageDir = path.resolve(spec.scoringImageDir);
  for (const required of ["Dockerfile", "requirements.txt"]) {
    if (!fs.existsSync(path.join(imageDir, required))) {
      invalid(owner, "scoringImageDir", spec.scoringImageDir, `${required} is missing`, "the scoring-image folder with Dockerfile, requirements.txt, aml_host/ and adapters/");
    }
  }
  // Single files, and the runs of the walked folders.
  const singles: HashedFile[] = [];
  const runs: HashedFile[][] = [];
  const secretExcluded: string[] = [];
  const secretReincluded: string[] = [];
  const add = (r: InputFiles, to: "run" | "singles"): void => {
    if (to === "run") runs.push(r.files);
    else singles.push(...r.files);
    // One push per item: spreading 200,000 arguments would overflow the call stack.
    for (const x of r.secretExcluded) secretExcluded.push(x);
    for (const x of r.secretReincluded) secretReincluded.push(x);
  };
  // Real paths, like the walked files: a link's own identity would not be the file's.
  add(fileInput(manifests, "Dockerfile", fs.realpathSync(path.join(imageDir, "Dockerfile"))), "singles");
  add(fileInput(manifests, "host-requirements.txt", fs.realpathSync(path.join(imageDir, "requirements.txt"))), "singles");
  singles.push(generated("requirements.txt", spec.requirementsTxt));
  add(folderInput(manifests, { owner, prop: "scoringImageDir", root: imageDir, destPrefix: "app/", only: ["aml_host", "adapters"] }), "run");

  const { model: resolved } = spec;
  if (resolved === undefined) {
    // Fetched at start: the image still needs the folder the Dockerfile copies.
    singles.push(generated("model/.fetched-at-start", ""));
  } else if (resolved.kind === "file") {
    add(fileInput(manifests, `${MODEL_PREFIX}${resolved.basename}`, fs.realpathSync(resolved.absolutePath), model), "singles");
  } else {
    refuseDangerousFolder(owner, "model", resolved.absolutePath, root);
    add(folderInput(manifests, { owner, prop: "model", root: resolved.absolutePath, destPrefix: `${MODEL_PREFIX}${resolved.basename}/`, ownIgnore: readOwnIgnore(resolved.absolutePath) }, model), "run");
  }

  refuseDangerousFolder(owner, "entryScript", spec.entryScript.sourceDir, root, spec.entryScript.given ?? spec.entryScript.absolutePath);
  const skip = resolved === undefined ? [] : [fs.realpathSync(resolved.absolutePath)];
  const sourceDir = spec.entryScript.sourceDir;
  const sourceIgnore = readOwnIgnore(sourceDir);
  const source = folderInput(manifests, { owner, prop: "entryScript", root: sourceDir, destPrefix: SOURCE_PREFIX, skip, ownIgnore: sourceIgnore }, undefined, CONTENT_SCAN);
  add(source, "run");
  const named = namedByExceptionLine(sourceIgnore);
  for (const { dest, finding } of source.findings ?? []) {
    const rel = dest.slice(SOURCE_PREFIX.length);
    if (!named(rel)) {
      invalid(
        owner,
        "entryScript",
        path.join(sourceDir, ...rel.split("/")),
        `${rel} in the entry script's folder holds what looks like ${finding.what} (${finding.marker}...); every file of that folder goes into the image, which everyone who can pull it can read`,
        `no credentials in the image: leave the file out with a line \`${rel}\` in ${path.join(sourceDir, ".dockerignore")} and give the app its secrets at run time (app settings with Key Vault references, the managed identity); a line \`!${rel}\` there keeps it in the image on purpose`,
      );
    }
    if (!secretReincluded.includes(dest)) secretReincluded.push(`${dest} (holds what looks like ${finding.what})`);
  }

  for (const rel of Object.keys(spec.generatedFiles)) {
    if (rel === "" || rel.startsWith("/") || rel.includes("\\") || rel.split("/").some((s) => s === "" || s === "." || s === "..")) {
      invalid(owner, "generatedFiles", rel, "not a normalized relative path", "relative posix paths without '.', '..' or empty segments, e.g. \"app/score/function.json\"");
    }
    singles.push(generated(rel, spec.generatedFiles[rel]));
  }

  singles.sort(byDest);
  // The walked runs come out nearly sorted (walk.ts): sorting them with the singles is one pass.
  const files = ([] as HashedFile[]).concat(singles, ...runs).sort(byDest);
  const modelDirPrefix = `${MODEL_DIR_IN_SOURCE}/`;
  for (let i = 0; i < files.length; i++) {
    const dest = files[i].dest;
    // Sorted: a path given twice is next to itself.
    if (i > 0 && files[i - 1].dest === dest) invalid(owner, "generatedFiles", dest, "two files of the build context have this path", NOT_USED);
    if (dest === SMALL_FILES_PACK || dest.startsWith(`${SMALL_FILES_PACK}/`)) invalid(owner, "generatedFiles", dest, `${SMALL_FILES_PACK} is the pack of the model's small files`, NOT_USED);
    if (dest.startsWith(modelDirPrefix)) {
      invalid(owner, "entryScript", spec.entryScript.sourceDir, `its folder holds ${dest.slice("source/".length)}: the image copies the entry script's folder to /var/azureml-app, so it would replace files of the model in /var/azureml-app/azureml-models`, "an entry script folder without an azureml-models/ sub-folder (rename it, or leave it out with a .dockerignore line `azureml-models`)");
    }
  }
  // A file that another path needs as a folder. Files of one walked folder cannot clash with
  // each other (they come from a real tree), so only the few fixed and generated files are
  // checked, both ways, each by binary search in the sorted list (the paths below a folder are
  // one run of it, starting where `<folder>/` would be).
  const clash = (parent: string, child: string): never => invalid(owner, "generatedFiles", parent, `it is a file but ${child} needs it to be a folder`, NOT_USED);
  for (const p of singles.filter((f) => f.content !== undefined || !f.dest.includes("/"))) {
    const prefix = `${p.dest}/`;
    const below = lowerBound(files, prefix);
    if (below < files.length && files[below].dest.startsWith(prefix)) clash(p.dest, files[below].dest);
    const parts = p.dest.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const at = lowerBound(files, parent);
      if (at < files.length && files[at].dest === parent) clash(parent, p.dest);
    }
  }
  return { files, secretExcluded: secretExcluded.sort(), secretReincluded: secretReincluded.sort() };
}

/**
 * Prints, on stderr, every file the secret rules left out and every one a `!` line re-included:
 * all of them, however many (a cut list could hide exactly the state file someone looks for).
 */
export function warnSecretExclusions(owner: string, excluded: readonly string[], reincluded: readonly string[]): void {
  if (excluded.length > 0) {
    console.warn(
      `${owner}: left out of the image because they look like secrets or Terraform state: ${excluded.join(", ")}. ` +
        "Re-include one with a `!` line naming it in that folder's .dockerignore (e.g. `!.env`; `!folder` or `!*` do not re-include secrets) if the image really needs it.",
    );
  }
  if (reincluded.length > 0) {
    console.warn(`${owner}: in the image although they look like secrets, because a \`!\` line of a .dockerignore names them: ${reincluded.join(", ")}.`);
  }
}
