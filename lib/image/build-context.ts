/**
 * The Docker build context of the scoring image, as one pipeline: its inputs are walked and hashed
 * (staging/input-manifest.ts: one identity-keyed manifest per input, so an unchanged input is
 * neither read nor listed again), which gives the content fingerprint; then the build mode asks
 * for the form it builds from: the context staged as a folder (staging/stage-folder.ts) or
 * written as an archive (staging/context-archive.ts), each named by the fingerprint, trusted
 * after one check, and put into the stack's assets (stack-asset.ts).
 *
 * Fingerprint = sha256 over a format tag, the build options (build args, platform), the rule of
 * the model's small-files pack and, for every file of the context as the image gets it, in sorted
 * order, its context path, size and content sha256 (a small model file counts under its path in
 * `model/`, although it is staged inside the pack, whose bytes follow from those files). File
 * modes, mtimes, listing order and the absolute location of the inputs do not count, so the same
 * inputs give the same fingerprint on every machine.
 *
 * Excludes (staging/excludes.ts): DEFAULT_EXCLUDES and SECRET_EXCLUDES, then the `.dockerignore`
 * of the scoring-image folder, the model folder and the entry script's folder for that folder's
 * files (a `!` line re-includes a built-in exclude only when it names it, and links are left out
 * with what they point to: staging/walk.ts; the `.dockerignore` itself is not copied). Files the
 * secret rules left out, and those a `!` line re-included, are printed at synth. A model or source
 * folder that is `/`, a home folder or holds the cdktf project is refused (staging/folder-guard.ts).
 *
 * Credentials by content (staging/credential-scan.ts): every file of the entry script's folder
 * of up to 1 MiB is checked in the read that hashes it (and not again while it is unchanged:
 * its input manifest keeps digests only of files checked without a finding). A finding refuses
 * the synth, naming the file and the `.dockerignore` line that leaves it out, unless a `!` line
 * of that folder's `.dockerignore` names the file (then it is printed as kept). Refused rather
 * than warned about: a warning scrolls by while the image, readable by everyone who can pull it,
 * already holds the secret, and the fix (one `.dockerignore` line, or keeping it on purpose with
 * a `!` line) costs less than a leaked key.
 *
 * The folder or archive always matches its fingerprint: the model's small files go into their
 * pack as they are read for their digest (staging/small-files-pack.ts), and every other file is
 * read again from its input, which must still be the file hashed (same identity); a file changed
 * in between fails the synth by name.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { invalid } from "../errors";
import { ResolvedEntryScript } from "../entry-script";
import type { ResolvedModel } from "../model/model-target";
import type { BuildContext, ContextAsset, PreparedContext } from "./build/image-build-target";
import { stackAsset } from "./stack-asset";
import { ContextArchive, writeContextArchive } from "./staging/context-archive";
import type { OutputRecord } from "./staging/output-record";
import type { ContextFile, StagedFile } from "./staging/context-file";
import { DEFAULT_EXCLUDES, SECRET_EXCLUDES } from "./staging/excludes";
import { refuseDangerousFolder } from "./staging/folder-guard";
import { BACKGROUND_COPY_MIN_BYTES, BackgroundCopies } from "./staging/background-copy";
import { fileInput, folderInput, InputFiles, InputObserver } from "./staging/input-manifest";
import { StagedFolder, stageFolder } from "./staging/stage-folder";
import { preparePrivateRoot, removeOldContexts, stagingRoot, STAGING_DIR_ENV, touchContext } from "./staging/staging-root";
import { dropWrittenPack, MODEL_PREFIX, PACK_FILE_MAX_BYTES, PackWhileHashing, SMALL_FILES_PACK } from "./staging/small-files-pack";
import { InputChangedError, inputChanged } from "./staging/tar";
import { namedByExceptionLine, readOwnIgnore } from "./staging/walk";
import { findCredential, SCAN_MAX_BYTES, SCAN_VERSION } from "./staging/credential-scan";

export { DEFAULT_EXCLUDES, SECRET_EXCLUDES, stagingRoot, STAGING_DIR_ENV };

export interface BuildContextSpec {
  /** The scoring-image folder (Dockerfile, requirements.txt, aml_host/, adapters/, .dockerignore). */
  readonly scoringImageDir: string;
  /** Copied to `model/<basename>`; absent when the model is fetched at start instead. */
  readonly model?: ResolvedModel;
  /** Its sourceDir is copied to `source/`. */
  readonly entryScript: ResolvedEntryScript;
  /** Written as `requirements.txt`. */
  readonly requirementsTxt: string;
  /** Extra files by relative posix path, e.g. "app/score/function.json". */
  readonly generatedFiles: { readonly [relativePath: string]: string };
  /** Docker build args (part of the fingerprint). */
  readonly buildArgs: { readonly [name: string]: string };
  /** Target platform, e.g. "linux/amd64" (part of the fingerprint). */
  readonly platform: string;
  /** Construct path used in error messages (default "BuildContext"). */
  readonly owner?: string;
}

/** A file of the context with the sha256 of its content. */
type HashedFile = ContextFile & { readonly sha256: string };

// v3: the model's small files in one pack (staging/small-files-pack.ts).
const FORMAT = "aml-function-deployment/build-context/v3";
/**
 * In `model/` when every model file went into the pack: the Dockerfile's `COPY model/` needs the
 * folder (the pack's ADD unpacks into the same folder of the image afterwards). The other name
 * when the model itself is called `.packed`: its folder would be unpacked over the file.
 */
const PACKED_PLACEHOLDER = ".packed";
const PACKED_PLACEHOLDER_OTHER = ".packed-placeholder";
/** Where the Dockerfile puts the model; a source file there would replace model files. */
/** Where the entry script's folder goes in the context. */
const SOURCE_PREFIX = "source/";
/** Where the Dockerfile puts the model; a source file there would replace model files. */
const MODEL_DIR_IN_SOURCE = `${SOURCE_PREFIX}azureml-models`;
const NOT_USED = "paths not used by the scoring image, model or source files";

/** The build context of `spec` as a build mode gets it (ImageBuildTarget.context): read when it asks. */
export class ImageBuildContext implements BuildContext {
  private prepared?: PreparedBuildContext;

  constructor(private readonly spec: BuildContextSpec) {}

  public prepare(): PreparedContext {
    return (this.prepared ??= prepareBuildContext(this.spec));
  }

  public addFolderAsset(scope: Construct, id: string): ContextAsset {
    const context = (this.prepared ??= prepareBuildContext(this.spec, { folder: true }));
    const folder = context.stageFolder();
    return context.asset(scope, id, folder.directory, "directory", folder.record);
  }

  public addArchiveAsset(scope: Construct, id: string): ContextAsset {
    const context = (this.prepared ??= prepareBuildContext(this.spec));
    const archive = context.writeArchive();
    return context.asset(scope, id, archive.file, "file", archive.record);
  }
}

/** Copies of big model files made while they are hashed, by context path. */
interface Copies {
  readonly copies: BackgroundCopies;
  readonly jobs: Map<string, number>;
}

/** The context of `spec`, walked and fingerprinted: stage it or archive it with its methods. */
export class PreparedBuildContext implements PreparedContext {
  public readonly files: readonly string[];

  /** @param staged the files as staged, sorted; `secretExcluded` the context paths the secret rules left out. */
  constructor(
    private readonly owner: string,
    private readonly root: string,
    public readonly fingerprint: string,
    private readonly staged: readonly StagedFile[],
    public readonly secretExcluded: readonly string[],
    private readonly copies?: Copies,
  ) {
    this.files = staged.map((f) => f.dest);
  }

  /** Stages the context as `<staging root>/<fingerprint>` (or reuses it once it verifies). */
  public stageFolder(): StagedFolder {
    const copies = this.copies;
    try {
      return stageFolder(this.owner, this.root, this.fingerprint, this.staged, (dest) => {
        const job = copies?.jobs.get(dest);
        return job === undefined ? undefined : copies!.copies.take(job).file;
      });
    } finally {
      this.done();
    }
  }

  /** Writes the archive `file` (or reuses it once it verifies). */
  public writeArchive(file: string = path.join(this.root, `${this.fingerprint}.tar.gz`)): ContextArchive {
    try {
      return writeContextArchive(this.staged, this.fingerprint, file);
    } catch (e) {
      if (e instanceof InputChangedError) inputChanged(this.owner, e.file, "while the build context archive was written", e.message);
      throw e;
    } finally {
      this.done();
    }
  }

  /** The output at `output` as a stack asset, hard-linked where the file system allows. */
  public asset(scope: Construct, id: string, output: string, kind: "file" | "directory", record: OutputRecord): ContextAsset {
    const relativePath = stackAsset(scope, id, {
      path: output,
      kind,
      fingerprint: this.fingerprint,
      files: this.files,
      // The links changed the output's ctimes: record them, so the next synth trusts it again.
      afterWrite: () => record.recordIdentities(),
      sourceVersion: () => record.version(),
    }).relativePath;
    return { fingerprint: this.fingerprint, relativePath };
  }

  /** What was made while hashing is used once, by the first output written: the rest goes. */
  private done(): void {
    for (const f of this.staged) if ("pack" in f) dropWrittenPack(f);
    this.copies?.copies.close();
  }
}

/**
 * Walks and hashes the context `spec` describes, in the private staging root (created if needed),
 * prints what the secret rules left out, and marks the fingerprint as used (older contexts go).
 */
export function prepareBuildContext(spec: BuildContextSpec, options: { readonly folder?: boolean } = {}): PreparedBuildContext {
  const owner = spec.owner ?? "BuildContext";
  const root = preparePrivateRoot(owner);
  // For a folder, big model files are copied on another thread while they are hashed.
  const copies = options.folder === true ? { copies: new BackgroundCopies(root), jobs: new Map<string, number>() } : undefined;
  try {
    const { fingerprint, staged, secretExcluded, secretReincluded } = plan(spec, owner, root, root, copies);
    warnSecretExclusions(owner, secretExcluded, secretReincluded);
    touchContext(root, fingerprint);
    removeOldContexts(root, fingerprint);
    return new PreparedBuildContext(owner, root, fingerprint, staged, secretExcluded, copies);
  } catch (e) {
    copies?.copies.close();
    throw e;
  }
}

/** The fingerprint of the context `spec` describes, from a fresh walk that reads every file. */
export function computeFingerprint(spec: BuildContextSpec): string {
  return plan(spec, spec.owner ?? "BuildContext", stagingRoot()).fingerprint;
}

/** @param manifests where the inputs' manifests are kept, when they are used; `copies` where big model files are copied to while they are hashed. */
function plan(spec: BuildContextSpec, owner: string, root: string, manifests?: string, copies?: Copies): { fingerprint: string; staged: StagedFile[]; secretExcluded: string[]; secretReincluded: string[] } {
  for (const name of Object.keys(spec.buildArgs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) invalid(owner, "buildArgs", name, "not a valid build argument name", "letters, digits and underscores, not starting with a digit");
  }
  // A first synth reads the model's files anyway: the pack is written as they are read.
  const pack = manifests === undefined ? undefined : new PackWhileHashing(manifests);
  let copying: number | undefined;
  const model: InputObserver = {
    reading: (source, size) => {
      // Dense files only: a copy that keeps holes is made at staging (copy-file.ts).
      if (copies !== undefined && size >= BACKGROUND_COPY_MIN_BYTES && fs.statSync(source).blocks * 512 >= size) copying = copies.copies.start(source);
    },
    hashed: (f, bytes) => {
      pack?.add(f, bytes);
      if (copying !== undefined) copies!.jobs.set(f.dest, copying);
      copying = undefined;
    },
  };
  let collected: InputFiles;
  try {
    collected = collect(spec, owner, root, manifests, model);
  } catch (e) {
    pack?.giveUp();
    throw e;
  }
  const { files, secretExcluded, secretReincluded } = collected;
  const hash = createHash("sha256");
  hash.update(`${FORMAT}\0`);
  const args = Object.keys(spec.buildArgs).sort().map((k) => [k, spec.buildArgs[k]]);
  // The pack's rule is part of the layout: the pack itself follows from the files hashed below.
  hash.update(`${JSON.stringify({ buildArgs: args, platform: spec.platform, smallFilesPack: { name: SMALL_FILES_PACK, fileMaxBytes: PACK_FILE_MAX_BYTES } })}\0`);
  // The per-file records are hashed in batches: one update call per file costs more than hashing.
  // Then the files as staged: the model's input files of up to PACK_FILE_MAX_BYTES move into one
  // SMALL_FILES_PACK entry (always there, so the Dockerfile's ADD has it), and `model/` gets a
  // placeholder when no model file is left in it.
  let pending = "";
  for (const f of files) {
    pending += `${f.dest}\0${f.size}\0${f.sha256}\0`;
    if (pending.length >= 1 << 16) {
      hash.update(pending);
      pending = "";
    }
  }
  hash.update(pending);
  // The model's files are one run of the sorted list ("/" sorts just before "0").
  const from = lowerBound(files, MODEL_PREFIX);
  const to = lowerBound(files, "model0");
  const inPack = (f: HashedFile): boolean => f.content === undefined && f.size <= PACK_FILE_MAX_BYTES;
  const left = files.slice(from, to).filter((f) => !inPack(f));
  const members = left.length === 0 ? files.slice(from, to) : files.slice(from, to).filter(inPack);
  // The placeholder's name, unless a packed path is (or is below) it.
  const placeholder = `${MODEL_PREFIX}${PACKED_PLACEHOLDER}`;
  const taken = members.some((f) => f.dest.startsWith(placeholder) && (f.dest.length === placeholder.length || f.dest[placeholder.length] === "/"));
  const staged: StagedFile[] = ([] as StagedFile[]).concat(files.slice(0, from), left, files.slice(to));
  const written = pack?.finish();
  staged.push(written === undefined ? { dest: SMALL_FILES_PACK, pack: members } : { dest: SMALL_FILES_PACK, pack: members, written });
  if (left.length === 0) staged.push({ dest: `${MODEL_PREFIX}${taken ? PACKED_PLACEHOLDER_OTHER : PACKED_PLACEHOLDER}`, size: 0, content: Buffer.alloc(0) });
  return { fingerprint: hash.digest("hex"), staged: staged.sort(byDest), secretExcluded, secretReincluded };
}

function generated(dest: string, text: string): HashedFile {
  const content = Buffer.from(text, "utf8");
  return { dest, size: content.length, sha256: createHash("sha256").update(content).digest("hex"), content };
}

function byDest(a: { dest: string }, b: { dest: string }): number {
  return a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0;
}

/** Index of the first file whose dest is not below `key` (files sorted by dest). */
function lowerBound(files: readonly HashedFile[], key: string): number {
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

/** Every file of the context, hashed and sorted by dest, and the secret rules' reports (sorted). */
function collect(spec: BuildContextSpec, owner: string, root: string, manifests: string | undefined, model: InputObserver): InputFiles {
  const imageDir = path.resolve(spec.scoringImageDir);
  for (const required of ["Dockerfile", "requirements.txt"]) {
    if (!fs.existsSync(path.join(imageDir, required))) {
      invalid(owner, "scoringImageDir", spec.scoringImageDir, `${required} is missing`, "the scoring-image folder with Dockerfile, requirements.txt, aml_host/ and adapters/");
    }
  }
  // Single files, and the runs of the walked folders: each run sorted, and each before the next
  // (`app/`, `model/<name>/`, `source/`), so merging the few single files into them sorts all.
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
  const walked = ([] as HashedFile[]).concat(...runs);
  const parts: HashedFile[][] = [];
  let next = 0;
  for (const single of singles) {
    const at = lowerBound(walked, single.dest);
    parts.push(walked.slice(next, at), [single]);
    next = at;
  }
  parts.push(walked.slice(next));
  const files = ([] as HashedFile[]).concat(...parts);
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
function warnSecretExclusions(owner: string, excluded: readonly string[], reincluded: readonly string[]): void {
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
