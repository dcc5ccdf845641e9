/**
 * Stages the Docker build context of the scoring image and computes its content fingerprint.
 *
 * Fingerprint = sha256 over a format tag, the build options (build args, platform), the rule of
 * the model's small-files pack and, for every file of the context as the image gets it, in sorted
 * order, its context path, size and content sha256 (a small model file counts under its path in
 * `model/`, although it is staged inside the pack, whose bytes follow from those files). File modes, mtimes,
 * listing order and the absolute location of the inputs do not count, so the same inputs give the
 * same fingerprint on every machine. Content hashes come from a cache keyed by file identity
 * (staging/digest-cache.ts), so an unchanged model is not read again.
 *
 * Excludes (staging/excludes.ts): DEFAULT_EXCLUDES and SECRET_EXCLUDES, then the `.dockerignore`
 * of the scoring-image folder, the model folder and the entry script's folder for that folder's
 * files (a `!` line re-includes a built-in exclude only when it names it, and links are left out
 * with what they point to: staging/walk.ts; the `.dockerignore` itself is not copied). Files the
 * secret rules left out, and those a `!` line re-included, are printed at synth. A model or source folder that is `/`, a home folder or
 * holds the cdktf project is refused (staging/folder-guard.ts).
 *
 * Credentials by content (staging/credential-scan.ts): every file of the entry script's folder
 * of up to 1 MiB is checked in the read that hashes it (and not again while it is unchanged:
 * the digest cache keeps only files checked without a finding). A finding refuses the synth,
 * naming the file and the `.dockerignore` line that leaves it out, unless a `!` line of that
 * folder's `.dockerignore` names the file (then it is printed as kept). Refused rather than
 * warned about: a warning scrolls by while the image, readable by everyone who can pull it,
 * already holds the secret, and the fix (one `.dockerignore` line, or keeping it on purpose
 * with a `!` line) costs less than a leaked key.
 *
 * Staging (staging/staging-root.ts): into `<staging root>/<fingerprint>`, a private per-user
 * folder. A context is written to a temporary sibling and renamed into place; every file gets
 * mode 0644 and every folder 0755, whatever the inputs had. Small files read for their digest
 * keep their bytes (staging/kept-bytes.ts, bounded), and staging and the ACR archive write those
 * from memory: they are what was hashed, so the folder or archive matches the fingerprint even
 * if the file changes in between; other files are read again and must still be the file hashed. An existing context is reused only
 * when every file still has the identity recorded when it was written (staged-manifest.ts).
 * Staging happens when the context's `directory` is first read (the local build does, for its
 * stack asset). The ACR build never reads it: it writes its archive straight from `inputs` (and
 * reuses a verified archive of the same fingerprint), so no copy of the model is made for it.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { invalid } from "../errors";
import type { ArchiveInput } from "./build/context-archive";
import { ResolvedEntryScript } from "../entry-script";
import type { ResolvedModel } from "../model/model-target";
import { copyFileEconomically } from "./staging/copy-file";
import { DigestCache } from "./staging/digest-cache";
import { DEFAULT_EXCLUDES, SECRET_EXCLUDES } from "./staging/excludes";
import { identityKey, nowNs, sizeInIdentityKey } from "./staging/file-identity";
import { KeptBytes } from "./staging/kept-bytes";
import { MODEL_PREFIX, PACK_FILE_MAX_BYTES, PackMember, SMALL_FILES_PACK, smallFilesPackSize } from "./staging/small-files-pack";
import { movePack, PackWhileHashing, writePackFile } from "./staging/pack-file";
import { InputChangedError } from "./build/tar-writer";
import { refuseDangerousFolder } from "./staging/folder-guard";
import { recordManifest, verifyManifest } from "./staging/staged-manifest";
import { manifestPath, preparePrivateRoot, removeOldContexts, stagingRoot, STAGING_DIR_ENV, touchContext } from "./staging/staging-root";
import { under } from "./staging/under";
import { Entry, namedByExceptionLine, readOwnIgnore, walkFolder, WalkResult } from "./staging/walk";
import { findCredential } from "./staging/credential-scan";
import { FolderMemo, FolderMemoKey, memoCanTrust, readFolderMemo, writeFolderMemo } from "./staging/folder-memo";
import { BACKGROUND_COPY_MIN_BYTES, BackgroundCopies } from "./staging/background-copy";

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
  /**
   * Write the model's small-files pack while the model is hashed, for a build that stages the
   * context folder (the local Docker build): the small files' bytes then go straight into the
   * pack instead of being kept in memory until the folder is staged.
   * @default false (the ACR build archives from the inputs and needs no staged pack)
   */
  readonly packWhileHashing?: boolean;
}

export interface StagedBuildContext {
  /**
   * Absolute path of the staged context. Reading it stages the context (verifies the one already
   * staged for this fingerprint, or writes it): read it only when the folder's files are needed.
   */
  readonly directory: string;
  /**
   * The same path, without staging: for names derived from it (e.g. the archive next to it).
   * @default `directory` (contexts made elsewhere than stageBuildContext)
   */
  readonly location?: string;
  /** 64 hex digits. */
  readonly fingerprint: string;
  /** Sorted relative posix paths of every staged file. */
  readonly files: string[];
  /**
   * Size in bytes of each file of `files`, as hashed for the fingerprint (the archive writer uses
   * them instead of asking the file system again).
   * @default unknown (read from the files)
   */
  readonly sizes?: number[];
  /**
   * Where each file of `files` can be read without staging the context: the input file with the
   * identity it had when it was hashed, or the bytes generated for it. The ACR build writes its
   * archive from these, so its context is never copied into a staged folder.
   * @default unknown (read the files from `directory`)
   */
  readonly inputs?: readonly ArchiveInput[];
  /**
   * Context paths the secret rules (SECRET_EXCLUDES) left out, sorted; a folder left out as a
   * whole ends in "/", a link left out for what it points to is followed by " (links to
   * <target>)". Printed as a warning at synth.
   */
  readonly secretExcluded?: string[];
}

/** One file of the context: an input file, generated bytes, or the model's small-files pack. */
type Planned = PlannedFile | PlannedPack;

interface PlannedFile {
  readonly entry: Entry;
  /** Its copy, started on another thread while it was hashed (staging/background-copy.ts). */
  readonly copy?: number;
  /** Identity (identityKey) of the source file when it was hashed (undefined for generated content). */
  readonly id?: string;
  /** The source file's bytes as hashed, when they were kept (staging/kept-bytes.ts). */
  readonly kept?: Buffer;
}

interface PlannedPack {
  /** SMALL_FILES_PACK. */
  readonly dest: string;
  /** Its files, sorted by path. */
  readonly pack: PackMember[];
  /** The pack, already written while the files were hashed (a temporary file in the staging root). */
  readonly written?: string;
}

function destOf(p: Planned): string {
  return "pack" in p ? p.dest : p.entry.dest;
}

interface Plan {
  /** The files as staged (made when first read). */
  readonly planned: Planned[];
  /** Copies of big files started while they were hashed, when any. */
  readonly copies?: BackgroundCopies;
  readonly fingerprint: string;
  readonly secretExcluded: string[];
  readonly secretReincluded: string[];
}

// v3: the model's small files in one pack (staging/small-files-pack.ts).
const FORMAT = "aml-function-deployment/build-context/v3";
const DIGEST_CACHE_FILE = "file-digests.txt";
/**
 * In `model/` when every model file went into the pack: the Dockerfile's `COPY model/` needs the
 * folder (the pack's ADD unpacks into the same folder of the image afterwards). The other name
 * when the model itself is called `.packed`: its folder would be unpacked over the file.
 */
const PACKED_PLACEHOLDER = ".packed";
const PACKED_PLACEHOLDER_OTHER = ".packed-placeholder";
/** Where the entry script's folder goes in the context. */
const SOURCE_PREFIX = "source/";
/** Where the Dockerfile puts the model; a source file there would replace model files. */
const MODEL_DIR_IN_SOURCE = `${SOURCE_PREFIX}azureml-models`;

function checkRelativePath(owner: string, p: string): void {
  const allowed = "relative posix paths without '.', '..' or empty segments, e.g. \"app/score/function.json\"";
  if (p === "" || p.startsWith("/") || p.includes("\\") || p.split("/").some((s) => s === "" || s === "." || s === "..")) {
    invalid(owner, "generatedFiles", p, "not a normalized relative path", allowed);
  }
}

function byDest(a: Entry, b: Entry): number {
  return a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0;
}

/** Index of the first entry whose dest is not below `key` (entries sorted by dest). */
function lowerBound(entries: readonly Entry[], key: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid].dest < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The model folder's files from its memo (staging/folder-memo.ts) instead of a walk. */
interface ModelRun {
  /** `model/<basename>/`. */
  readonly prefix: string;
  readonly realRoot: string;
  readonly memo: FolderMemo;
}

/** A model folder that was walked, for keeping its memo after its files are hashed. */
interface ModelWalk {
  readonly prefix: string;
  readonly key: FolderMemoKey;
  readonly walked: WalkResult;
}

interface Collected {
  /** Every file of the context, sorted by dest; without the model's files when `modelRun` has them. */
  readonly entries: Entry[];
  readonly secretExcluded: string[];
  readonly secretReincluded: string[];
  readonly modelRun?: ModelRun;
  readonly modelWalk?: ModelWalk;
  /** Whether a `!` line of the entry script folder's `.dockerignore` names a path of that folder. */
  readonly sourceNamed: (rel: string) => boolean;
}

/**
 * @param memoRoot where folder memos are kept, when the model folder may use one (its files then
 *   form one run of the sorted list that nothing else enters: no generated file in `model`).
 */
function collect(spec: BuildContextSpec, root: string, memoRoot?: string): Collected {
  const owner = spec.owner ?? "BuildContext";
  const imageDir = path.resolve(spec.scoringImageDir);
  for (const required of ["Dockerfile", "requirements.txt"]) {
    if (!fs.existsSync(path.join(imageDir, required))) {
      invalid(owner, "scoringImageDir", spec.scoringImageDir, `${required} is missing`, "the scoring-image folder with Dockerfile, requirements.txt, aml_host/ and adapters/");
    }
  }
  const entries: Entry[] = [
    // Real paths, like the walked files: a link's own identity would not be the file's.
    { dest: "Dockerfile", source: fs.realpathSync(path.join(imageDir, "Dockerfile")) },
    { dest: "host-requirements.txt", source: fs.realpathSync(path.join(imageDir, "requirements.txt")) },
    { dest: "requirements.txt", content: Buffer.from(spec.requirementsTxt, "utf8") },
  ];
  const secretExcluded: string[] = [];
  const secretReincluded: string[] = [];
  let modelRun: ModelRun | undefined;
  let modelWalk: ModelWalk | undefined;
  const add = (r: WalkResult): void => {
    // One push per item: spreading 200,000 arguments would overflow the call stack.
    for (const e of r.entries) entries.push(e);
    for (const s of r.secretExcluded) secretExcluded.push(s);
    for (const s of r.secretReincluded) secretReincluded.push(s);
  };
  add(walkFolder({ owner, prop: "scoringImageDir", root: imageDir, destPrefix: "app/", only: ["aml_host", "adapters"] }));

  const model = spec.model;
  if (model === undefined) {
    // Fetched at start: the image still needs the folder the Dockerfile copies.
    entries.push({ dest: "model/.fetched-at-start", content: Buffer.alloc(0) });
  } else if (model.kind === "file") {
    entries.push({ dest: `model/${model.basename}`, source: fs.realpathSync(model.absolutePath) });
  } else {
    refuseDangerousFolder(owner, "model", model.absolutePath, root);
    const prefix = `${MODEL_PREFIX}${model.basename}/`;
    const realRoot = fs.realpathSync(model.absolutePath);
    const ownIgnore = readOwnIgnore(model.absolutePath);
    const key: FolderMemoKey | undefined = memoRoot === undefined || !memoCanTrust(realRoot) ? undefined : { realRoot, destPrefix: prefix, ownIgnore };
    const memo = key === undefined ? undefined : readFolderMemo(memoRoot!, key);
    if (memo !== undefined) {
      modelRun = { prefix, realRoot: key!.realRoot, memo };
      for (const s of memo.secretExcluded) secretExcluded.push(s);
      for (const s of memo.secretReincluded) secretReincluded.push(s);
    } else {
      const walked = walkFolder({ owner, prop: "model", root: model.absolutePath, destPrefix: prefix, ownIgnore });
      add(walked);
      if (key !== undefined) modelWalk = { prefix, key, walked };
    }
  }

  refuseDangerousFolder(owner, "entryScript", spec.entryScript.sourceDir, root, spec.entryScript.given ?? spec.entryScript.absolutePath);
  const skip = model === undefined ? [] : [fs.realpathSync(model.absolutePath)];
  const sourceIgnore = readOwnIgnore(spec.entryScript.sourceDir);
  add(walkFolder({ owner, prop: "entryScript", root: spec.entryScript.sourceDir, destPrefix: SOURCE_PREFIX, skip, ownIgnore: sourceIgnore }));

  for (const rel of Object.keys(spec.generatedFiles)) {
    checkRelativePath(owner, rel);
    entries.push({ dest: rel, content: Buffer.from(spec.generatedFiles[rel], "utf8") });
  }

  entries.sort(byDest);
  const modelDirPrefix = `${MODEL_DIR_IN_SOURCE}/`;
  for (let i = 0; i < entries.length; i++) {
    const dest = entries[i].dest;
    // Sorted: a path given twice is next to itself.
    if (i > 0 && entries[i - 1].dest === dest) invalid(owner, "generatedFiles", dest, "two files of the build context have this path", "paths not used by the scoring image, model or source files");
    if (dest === SMALL_FILES_PACK || dest.startsWith(`${SMALL_FILES_PACK}/`)) invalid(owner, "generatedFiles", dest, `${SMALL_FILES_PACK} is the pack of the model's small files`, "paths not used by the scoring image, model or source files");
    if (dest.startsWith(modelDirPrefix)) {
      invalid(owner, "entryScript", spec.entryScript.sourceDir, `its folder holds ${dest.slice("source/".length)}: the image copies the entry script's folder to /var/azureml-app, so it would replace files of the model in /var/azureml-app/azureml-models`, "an entry script folder without an azureml-models/ sub-folder (rename it, or leave it out with a .dockerignore line `azureml-models`)");
    }
  }
  // A file that another path needs as a folder. Files of one walked folder cannot clash with
  // each other (they come from a real tree), so only the few fixed and generated files are
  // checked, both ways, each by binary search in the sorted list (the paths below a folder are
  // one run of it, starting where `<folder>/` would be).
  const placed = entries.filter((e) => !("source" in e) || !e.dest.includes("/"));
  const clash = (parent: string, child: string): never => invalid(owner, "generatedFiles", parent, `it is a file but ${child} needs it to be a folder`, "paths not used by the scoring image, model or source files");
  for (const p of placed) {
    const prefix = `${p.dest}/`;
    const below = lowerBound(entries, prefix);
    if (below < entries.length && entries[below].dest.startsWith(prefix)) clash(p.dest, entries[below].dest);
    const parts = p.dest.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const at = lowerBound(entries, parent);
      if (at < entries.length && entries[at].dest === parent) clash(parent, p.dest);
    }
  }
  secretExcluded.sort();
  secretReincluded.sort();
  return { entries, secretExcluded, secretReincluded, modelRun, modelWalk, sourceNamed: namedByExceptionLine(sourceIgnore) };
}

function plan(spec: BuildContextSpec, root: string, cache: DigestCache, keep?: KeptBytes, memoRoot?: string): Plan {
  const owner = spec.owner ?? "BuildContext";
  for (const name of Object.keys(spec.buildArgs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) invalid(owner, "buildArgs", name, "not a valid build argument name", "letters, digits and underscores, not starting with a digit");
  }
  const started = nowNs();
  // A generated file in `model` would enter the model's run of the sorted list: no memo then.
  const generatedInModel = Object.keys(spec.generatedFiles).some((rel) => rel === "model" || rel.startsWith(MODEL_PREFIX));
  const { entries, secretExcluded, secretReincluded, modelRun, modelWalk, sourceNamed } = collect(spec, root, generatedInModel ? undefined : memoRoot);
  const sourceDir = spec.entryScript.sourceDir;
  let keptByContent = false;
  const hash = createHash("sha256");
  hash.update(`${FORMAT}\0`);
  const args = Object.keys(spec.buildArgs).sort().map((k) => [k, spec.buildArgs[k]]);
  // The pack's rule is part of the layout: the pack itself follows from the files hashed below.
  hash.update(`${JSON.stringify({ buildArgs: args, platform: spec.platform, smallFilesPack: { name: SMALL_FILES_PACK, fileMaxBytes: PACK_FILE_MAX_BYTES } })}\0`);
  const planned: PlannedFile[] = [];
  // The pack written as the model's small files are hashed, when asked for and the model is read.
  let stream: PackWhileHashing | undefined = spec.packWhileHashing === true && spec.model !== undefined && modelRun === undefined ? new PackWhileHashing(root) : undefined;
  // Big model files are copied for staging on another thread while they are hashed (same case).
  const copies = stream !== undefined ? new BackgroundCopies(root) : undefined;
  let copyJob: number | undefined;
  const copyIfBig = (source: string, id: string): void => {
    if (sizeInIdentityKey(id) < BACKGROUND_COPY_MIN_BYTES) return;
    const st = fs.statSync(source);
    // Dense files only: a copy that keeps holes is made at staging (copy-file.ts).
    if (st.blocks * 512 >= st.size) copyJob = copies!.start(source);
  };
  // What the model folder's memo will hold, when it was walked (and nothing untrusted was read).
  let forMemo: { rels: string[]; ids: string[]; sha256s: string[] } | undefined = modelWalk === undefined ? undefined : { rels: [], ids: [], sha256s: [] };
  // The per-file records are hashed in batches: one update call per file cost more than hashing.
  let pending = "";
  const flush = (): void => {
    if (pending.length >= 1 << 16) {
      hash.update(pending);
      pending = "";
    }
  };
  const hashEntries = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const entry = entries[i];
      if ("content" in entry) {
        const sha256 = createHash("sha256").update(entry.content).digest("hex");
        pending += `${entry.dest}\0${entry.content.length}\0${sha256}\0`;
        planned.push({ entry });
      } else {
        let digest: { sha256: string; id: string; content?: Buffer; trusted: boolean };
        let copy: number | undefined;
        if (stream !== undefined && entry.dest.startsWith(MODEL_PREFIX)) {
          // Into the pack (small files) or staged as a file (big ones, never kept anyway).
          copyJob = undefined;
          const { sha256, id, whole, trusted } = cache.digestOnce(entry.source, copies === undefined ? undefined : copyIfBig);
          const size = sizeInIdentityKey(id);
          if (size <= PACK_FILE_MAX_BYTES) {
            if (whole !== undefined && whole.length === size) stream.content(entry.dest.slice(MODEL_PREFIX.length), whole);
            else stream = stream.abandon();
          }
          digest = { sha256, id, trusted };
          copy = copyJob;
        } else if (entry.dest.startsWith(SOURCE_PREFIX)) {
          const scanned = cache.digestScanned(entry.source, findCredential, keep);
          if (scanned.finding !== undefined) {
            const rel = entry.dest.slice(SOURCE_PREFIX.length);
            if (!sourceNamed(rel)) {
              invalid(
                owner,
                "entryScript",
                path.join(sourceDir, ...rel.split("/")),
                `${rel} in the entry script's folder holds what looks like ${scanned.finding.what} (${scanned.finding.marker}...); every file of that folder goes into the image, which everyone who can pull it can read`,
                `no credentials in the image: leave the file out with a line \`${rel}\` in ${path.join(sourceDir, ".dockerignore")} and give the app its secrets at run time (app settings with Key Vault references, the managed identity); a line \`!${rel}\` there keeps it in the image on purpose`,
              );
            }
            if (!secretReincluded.includes(entry.dest)) {
              secretReincluded.push(`${entry.dest} (holds what looks like ${scanned.finding.what})`);
              keptByContent = true;
            }
          }
          digest = scanned;
        } else {
          digest = cache.digest(entry.source, keep);
        }
        const { sha256, id, content, trusted } = digest;
        pending += `${entry.dest}\0${sizeInIdentityKey(id)}\0${sha256}\0`;
        planned.push(copy !== undefined ? { entry, id, copy } : content === undefined ? { entry, id } : { entry, id, kept: content });
        if (forMemo !== undefined && entry.dest.startsWith(modelWalk!.prefix)) {
          if (!trusted) forMemo = undefined;
          else {
            forMemo.rels.push(entry.dest.slice(modelWalk!.prefix.length));
            forMemo.ids.push(id);
            forMemo.sha256s.push(sha256);
          }
        }
      }
      flush();
    }
  };
  if (modelRun === undefined) {
    hashEntries(0, entries.length);
  } else {
    // The model's files are one run of the sorted list, where `model/` would be.
    const at = lowerBound(entries, MODEL_PREFIX);
    hashEntries(0, at);
    const { prefix, memo } = modelRun;
    for (let i = 0; i < memo.rels.length; i++) {
      pending += `${prefix}${memo.rels[i]}\0${sizeInIdentityKey(memo.ids[i])}\0${memo.sha256s[i]}\0`;
      flush();
    }
    hashEntries(at, entries.length);
  }
  hash.update(pending);
  if (keptByContent) secretReincluded.sort();
  const written = stream?.finish();
  if (modelWalk !== undefined && forMemo !== undefined) {
    writeFolderMemo(memoRoot!, modelWalk.key, modelWalk.walked, { ...forMemo, secretExcluded: modelWalk.walked.secretExcluded, secretReincluded: modelWalk.walked.secretReincluded }, started);
  }
  let staged: Planned[] | undefined;
  return {
    // Made when first needed: an ACR build that reuses its archive never needs the list.
    get planned(): Planned[] {
      return (staged ??= packSmallModelFiles(planned, modelRun, written));
    },
    copies,
    fingerprint: hash.digest("hex"),
    secretExcluded,
    secretReincluded,
  };
}

/**
 * The files as staged: the model's input files of up to PACK_FILE_MAX_BYTES move into one
 * SMALL_FILES_PACK entry (always there, so the Dockerfile's ADD has it), and `model/` gets a
 * placeholder when no model file is left in it. `planned` is sorted by dest, and so is the result.
 * With `run`, the model's files come from its memo instead (`planned` has none of them): only
 * its big files get an entry of their own, the pack's members are made when first read (a
 * local build whose staged context verifies never reads them).
 */
function packSmallModelFiles(planned: readonly PlannedFile[], run?: ModelRun, written?: string): Planned[] {
  const members: PackMember[] = [];
  const staged: Planned[] = [];
  let modelFilesLeft = false;
  let placeholderTaken = false;
  const takes = (packPath: string): boolean => packPath === PACKED_PLACEHOLDER || packPath.startsWith(`${PACKED_PLACEHOLDER}/`);
  for (const p of planned) {
    const entry = p.entry;
    if (entry.dest.startsWith(MODEL_PREFIX)) {
      const size = "content" in entry ? entry.content.length : sizeInIdentityKey(p.id!);
      if ("source" in entry && size <= PACK_FILE_MAX_BYTES) {
        const packPath = entry.dest.slice(MODEL_PREFIX.length);
        placeholderTaken ||= takes(packPath);
        members.push({ path: packPath, size, input: p.kept !== undefined ? { content: p.kept } : { path: entry.source, identity: p.id! } });
        continue;
      }
      modelFilesLeft = true;
    }
    staged.push(p);
  }
  if (run === undefined) {
    staged.push(written === undefined ? { dest: SMALL_FILES_PACK, pack: members } : { dest: SMALL_FILES_PACK, pack: members, written });
  } else {
    const { prefix, realRoot, memo } = run;
    const packPrefix = prefix.slice(MODEL_PREFIX.length);
    const sourceOf = (rel: string): string => under(realRoot, rel);
    const small: number[] = [];
    for (let i = 0; i < memo.rels.length; i++) {
      const size = sizeInIdentityKey(memo.ids[i]);
      if (size <= PACK_FILE_MAX_BYTES) {
        small.push(i);
        placeholderTaken ||= takes(`${packPrefix}${memo.rels[i]}`);
      } else {
        modelFilesLeft = true;
        staged.push({ entry: { dest: `${prefix}${memo.rels[i]}`, source: sourceOf(memo.rels[i]) }, id: memo.ids[i] });
      }
    }
    let packed: PackMember[] | undefined;
    staged.push({
      dest: SMALL_FILES_PACK,
      get pack(): PackMember[] {
        return (packed ??= small.map((i) => ({ path: `${packPrefix}${memo.rels[i]}`, size: sizeInIdentityKey(memo.ids[i]), input: { path: sourceOf(memo.rels[i]), identity: memo.ids[i] } })));
      },
    });
  }
  if (!modelFilesLeft) staged.push({ entry: { dest: `${MODEL_PREFIX}${placeholderTaken ? PACKED_PLACEHOLDER_OTHER : PACKED_PLACEHOLDER}`, content: Buffer.alloc(0) } });
  return staged.sort((a, b) => (destOf(a) < destOf(b) ? -1 : destOf(a) > destOf(b) ? 1 : 0));
}

/** The fingerprint of the context `spec` describes, without staging it (reads every file). */
export function computeFingerprint(spec: BuildContextSpec): string {
  return plan(spec, stagingRoot(), new DigestCache()).fingerprint;
}

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

/**
 * Refuses the synth for an input that is not the file hashed any more (changed, gone or
 * unreadable since): `while` says what was being written, `detail` adds the cause.
 */
export function inputChanged(owner: string, file: string, while_ = "while it was being staged", detail?: string): never {
  return invalid(owner, "buildContext", file, `the file changed ${while_}${detail === undefined ? "" : ` (${detail})`}`, "files that do not change during synth (run synth again)");
}

function writeEntries(owner: string, dir: string, planned: Planned[], copies?: BackgroundCopies): void {
  const made = new Set<string>([dir]);
  const ensureDir = (d: string): void => {
    if (made.has(d)) return;
    ensureDir(path.dirname(d));
    try {
      fs.mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    fs.chmodSync(d, DIR_MODE);
    made.add(d);
  };
  // Whether the umask narrows the mode a new file is created with: learnt from the first file
  // written, so the others need no chmod when it does not.
  let umaskNarrows: boolean | undefined;
  const writeNew = (target: string, bytes: Uint8Array): void => {
    const fd = fs.openSync(target, "wx", FILE_MODE);
    try {
      let written = 0;
      while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
      umaskNarrows ??= (fs.fstatSync(fd).mode & 0o7777) !== FILE_MODE;
      if (umaskNarrows) fs.fchmodSync(fd, FILE_MODE);
    } finally {
      fs.closeSync(fd);
    }
  };
  for (const p of planned) {
    const target = under(dir, destOf(p));
    ensureDir(path.dirname(target));
    if ("pack" in p) {
      if (p.written === undefined || !movePack(p.written, target, p.pack, FILE_MODE)) writePack(owner, target, p.pack);
      continue;
    }
    const { entry, id, kept, copy } = p;
    if ("content" in entry) {
      writeNew(target, entry.content);
    } else if (kept !== undefined) {
      // The bytes that were hashed: nothing to check against the source afterwards.
      writeNew(target, kept);
    } else {
      // Copied on another thread while it was hashed: moved into place (or copied again here).
      const copied = copy === undefined ? undefined : copies?.take(copy).file;
      if (copied !== undefined) {
        fs.chmodSync(copied, FILE_MODE);
        fs.renameSync(copied, target);
      } else {
        try {
          copyFileEconomically(entry.source, target, FILE_MODE);
        } catch (e) {
          // Gone or unreadable since it was hashed.
          const { code, path: failed } = e as NodeJS.ErrnoException;
          if (failed === entry.source && (code === "ENOENT" || code === "EACCES" || code === "EPERM")) inputChanged(owner, entry.source, undefined, code);
          throw e;
        }
      }
      // What was copied must be what was hashed.
      if (id !== undefined && identityKey(entry.source) !== id) inputChanged(owner, entry.source);
    }
  }
}

/** Writes the small-files pack; a member that is not the file hashed any more fails the synth. */
function writePack(owner: string, target: string, members: readonly PackMember[]): void {
  try {
    writePackFile(target, members, FILE_MODE);
  } catch (e) {
    if (e instanceof InputChangedError) inputChanged(owner, e.file);
    throw e;
  }
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

/**
 * Plans the context into `<staging root>/<fingerprint>` and stages it when its `directory` is first
 * read: an existing context is reused when it verifies against its manifest, a new one is written
 * to a sibling temporary folder and renamed into place, so a reader never sees a half-written
 * context. Lazy because the ACR build never reads the staged folder (it archives from `inputs`):
 * copying the model there, or verifying a copy (one lstat per file), would be wasted.
 */
export function stageBuildContext(spec: BuildContextSpec): StagedBuildContext {
  const owner = spec.owner ?? "BuildContext";
  const root = preparePrivateRoot(owner);
  const cache = new DigestCache(path.join(root, DIGEST_CACHE_FILE));
  const made = plan(spec, root, cache, new KeptBytes(), root);
  const { fingerprint, secretExcluded, secretReincluded } = made;
  cache.save();
  warnSecretExclusions(owner, secretExcluded, secretReincluded);

  const location = path.join(root, fingerprint);
  // Marked as used now, so cleanup (here and in other synths) keeps it even when it is not read.
  touchContext(root, fingerprint);
  removeOldContexts(root, fingerprint);
  // The lists below are made when first read: an ACR build that reuses its archive reads none of
  // them, and for 20,000 files each is a 20,000-element array for the garbage collector.
  let files: string[] | undefined;
  let sizes: number[] | undefined;
  let inputs: ArchiveInput[] | undefined;
  let staged = false;
  return {
    get directory(): string {
      if (!staged) {
        materialize(owner, root, fingerprint, made.planned, this.files, made.copies);
        staged = true;
      }
      return location;
    },
    location,
    fingerprint,
    get files(): string[] {
      return (files ??= made.planned.map(destOf));
    },
    get sizes(): number[] {
      return (sizes ??= made.planned.map((p) => ("pack" in p ? smallFilesPackSize(p.pack) : "content" in p.entry ? p.entry.content.length : sizeInIdentityKey(p.id!))));
    },
    get inputs(): ArchiveInput[] {
      return (inputs ??= made.planned.map((p) => ("pack" in p ? { pack: p.pack } : "content" in p.entry ? { content: p.entry.content } : p.kept !== undefined ? { content: p.kept } : { path: p.entry.source, identity: p.id! })));
    },
    secretExcluded,
  };
}

/** Makes `<root>/<fingerprint>` hold exactly the planned files, with a manifest that verifies. */
function materialize(owner: string, root: string, fingerprint: string, planned: Planned[], files: readonly string[], copies?: BackgroundCopies): void {
  try {
    stage(owner, root, fingerprint, planned, files, copies);
  } finally {
    // Copies made while hashing and not used (the context was staged before) go.
    copies?.close();
  }
}

function stage(owner: string, root: string, fingerprint: string, planned: Planned[], files: readonly string[], copies?: BackgroundCopies): void {
  const directory = path.join(root, fingerprint);
  const manifest = manifestPath(root, fingerprint);
  if (fs.existsSync(directory) && verifyManifest(directory, files, manifest)) {
    // Staged before: a pack written while hashing is not needed.
    for (const p of planned) if ("pack" in p && p.written !== undefined) fs.rmSync(p.written, { force: true });
    return;
  }
  fs.rmSync(manifest, { force: true });
  fs.rmSync(directory, { recursive: true, force: true });
  const temp = fs.mkdtempSync(path.join(root, `.staging-${fingerprint.slice(0, 12)}-`));
  try {
    writeEntries(owner, temp, planned, copies);
    fs.chmodSync(temp, DIR_MODE);
    try {
      fs.renameSync(temp, directory);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!(code === "EEXIST" || code === "ENOTEMPTY" || code === "EPERM") || !fs.existsSync(directory)) throw e;
      // Another synth of this user staged the same fingerprint at the same time. Its folder is
      // kept only if it verifies; otherwise ours replaces it.
      if (!verifyManifest(directory, files, manifest)) {
        fs.rmSync(directory, { recursive: true, force: true });
        fs.renameSync(temp, directory);
      }
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  if (!fs.existsSync(manifest) || !verifyManifest(directory, files, manifest)) recordManifest(directory, files, manifest);
}

/**
 * A token that changes whenever the staged context is written or its files are touched: the
 * sha256 of its manifest (the recorded identities of every staged file).
 */
export function stagedContextVersion(context: StagedBuildContext): string {
  const manifest = manifestPath(path.dirname(context.directory), context.fingerprint);
  return createHash("sha256").update(fs.readFileSync(manifest)).digest("hex");
}

/**
 * Records the staged files' identities again. Hard-linking a staged file (into the stack's
 * assets) changes its ctime; this keeps that from invalidating the context on the next synth.
 * Call it only right after such a link, in the same process that verified or wrote the context.
 */
export function refreshStagedManifest(context: StagedBuildContext): void {
  recordManifest(context.directory, context.files, manifestPath(path.dirname(context.directory), context.fingerprint));
}
