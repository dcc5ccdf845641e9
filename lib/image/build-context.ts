/**
 * The Docker build context of the scoring image, as one pipeline: its inputs are walked and hashed
 * (staging/context-inputs.ts, with one identity-keyed manifest per input, so an unchanged input is
 * neither read nor listed again: staging/input-manifest.ts), which gives the content fingerprint;
 * then the build mode asks for the form it builds from: the context staged as a folder
 * (staging/stage-folder.ts) or written as an archive (staging/context-archive.ts), each named by
 * the fingerprint, trusted after one check, and put into the stack's assets (stack-asset.ts).
 *
 * Fingerprint = sha256 over a format tag, the build options (build args, platform), the rule of
 * the model's small-files pack and, for every file of the context as the image gets it, in sorted
 * order, its context path, size and content sha256 (a small model file counts under its path in
 * `model/`, although it is staged inside the pack, whose bytes follow from those files). File
 * modes, mtimes, listing order and the absolute location of the inputs do not count, so the same
 * inputs give the same fingerprint on every machine.
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
import type { BuildContextSpec } from "./build-context-spec";
import type { BuildContext, ContextAsset, PreparedContext } from "./build/image-build-target";
import { stackAsset } from "./stack-asset";
import { ContextArchive, writeContextArchive } from "./staging/context-archive";
import type { OutputRecord } from "./staging/output-record";
import type { StagedFile } from "./staging/context-file";
import { byDest, collectInputs, HashedFile, lowerBound, warnSecretExclusions } from "./staging/context-inputs";
import { DEFAULT_EXCLUDES, SECRET_EXCLUDES } from "./staging/excludes";
import { BACKGROUND_COPY_MIN_BYTES, BackgroundCopies } from "./staging/background-copy";
import { InputFiles, InputObserver } from "./staging/input-manifest";
import { StagedFolder, stageFolder } from "./staging/stage-folder";
import { preparePrivateRoot, removeOldContexts, stagingRoot, STAGING_DIR_ENV, touchContext } from "./staging/staging-root";
import { dropWrittenPack, MODEL_PREFIX, PACK_FILE_MAX_BYTES, PackWhileHashing, SMALL_FILES_PACK } from "./staging/small-files-pack";
import { InputChangedError, inputChanged } from "./staging/tar";

export type { BuildContextSpec };
export { DEFAULT_EXCLUDES, SECRET_EXCLUDES, stagingRoot, STAGING_DIR_ENV };

// v3: the model's small files in one pack (staging/small-files-pack.ts).
const FORMAT = "aml-function-deployment/build-context/v3";
/**
 * In `model/` when every model file went into the pack: the Dockerfile's `COPY model/` needs the
 * folder (the pack's ADD unpacks into the same folder of the image afterwards). The other name
 * when the model itself is called `.packed`: its folder would be unpacked over the file.
 */
const PACKED_PLACEHOLDER = ".packed";
const PACKED_PLACEHOLDER_OTHER = ".packed-placeholder";

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
    collected = collectInputs(spec, owner, root, manifests, model);
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
