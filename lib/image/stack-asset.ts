/**
 * Puts a staged file or folder into the synthesized stack folder, at a path relative to it, so
 * `cdktf.out/stacks/<stack>` is self-contained and can be moved (reference it as
 * `${path.module}/<relativePath>`).
 *
 * Why not cdktf's TerraformAsset: it deletes and copies the whole asset on every synth (a
 * 1 GiB model is written again each time, and twice on disk). Here files are hard-linked from
 * the source where the file system allows (no bytes written; a copy, sparse-aware, otherwise), and
 * an asset already written for the same `sourceVersion` is left as it is.
 *
 * Only public cdktf API is used: `TerraformStack.synthesizer` is wrapped so the asset is written
 * after the stack's own synthesis, into `session.outdir` + `session.manifest.forStack(stack)
 * .workingDirectory`, and the folder name comes from `TerraformStack.getLogicalId`.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { IStackSynthesizer, ISynthesisSession, TerraformStack } from "cdktf";
import { invalid } from "../errors";
import { linkOrCopy } from "./staging/copy-file";
import { pruneUnusedAssets } from "../hand-off/prune-assets";

export interface StackAssetOptions {
  /** Absolute path of the file or folder to put into the stack's assets. */
  readonly path: string;
  /** Whether `path` is a single file or a folder (copied with everything below it). */
  readonly kind: "file" | "directory";
  /**
   * Content fingerprint of `path` (letters, digits, `.`, `_`, `-`): part of the asset's path, so
   * new content gets a new path and unchanged content keeps its path.
   */
  readonly fingerprint: string;
  /**
   * For a folder: its files as relative posix paths (required for a folder).
   * @default none (a file)
   */
  readonly files?: readonly string[];
  /**
   * Called after the asset was (re)written, e.g. to record that hard links changed the source
   * files' ctime.
   * @default nothing
   */
  readonly afterWrite?: () => void;
  /**
   * A token that changes whenever the source's files are replaced (e.g. a digest of their
   * recorded identities), read after `afterWrite`. When the asset was written for the same token
   * it is kept without looking at each file (the stack folder is this user's own output).
   * @default the asset is written on every synth
   */
  readonly sourceVersion?: () => string;
}

export interface StackAsset {
  /** Posix path of the asset relative to the stack folder, e.g. `assets/image_context_1A2B3C4D/<fingerprint>`. */
  readonly relativePath: string;
}

interface Registered extends StackAssetOptions {
  /** Folder below the stack folder that holds every version of this asset. */
  readonly folder: string;
}

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
const ASSETS = "assets";
const REGISTRY = Symbol.for("aml-function-deployment/stack-assets");

type WithAssets = TerraformStack & { [REGISTRY]?: Registered[] };

function writeFolder(source: string, into: string, files: readonly string[]): void {
  const made = new Set<string>([into]);
  const ensureDir = (d: string): void => {
    if (made.has(d)) return;
    ensureDir(path.dirname(d));
    fs.mkdirSync(d, { recursive: true });
    fs.chmodSync(d, DIR_MODE);
    made.add(d);
  };
  for (const f of files) {
    const dest = path.join(into, ...f.split("/"));
    ensureDir(path.dirname(dest));
    linkOrCopy(path.join(source, ...f.split("/")), dest, FILE_MODE);
  }
}

/**
 * Where the source version an asset was written for is kept: outside the stack folder (in the
 * synth output folder), so the stack folder holds only what Terraform needs and is the same
 * bytes on every machine.
 */
function markerPath(outdir: string, stackDir: string, asset: Registered): string {
  const key = createHash("sha256").update(`${path.relative(outdir, stackDir)}\0${asset.folder}`).digest("hex").slice(0, 32);
  return path.join(outdir, ".aml-asset-versions", key);
}

/** Writes one asset into the stack folder `stackDir` (below `outdir`), unless it is already there. */
export function materializeAsset(outdir: string, stackDir: string, asset: Registered): void {
  const parent = path.join(stackDir, ...asset.folder.split("/"));
  const target = path.join(parent, asset.fingerprint);
  fs.mkdirSync(parent, { recursive: true });
  // `assets/` and `assets/<id>/` as readable as the files in them, whatever the umask.
  fs.chmodSync(path.dirname(parent), DIR_MODE);
  fs.chmodSync(parent, DIR_MODE);
  // Older versions of this asset go: the configuration only references the current one.
  for (const name of fs.readdirSync(parent)) {
    if (name !== asset.fingerprint) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
  const source = asset.kind === "file" ? path.dirname(asset.path) : asset.path;
  const files = asset.kind === "file" ? [path.basename(asset.path)] : asset.files!;
  const marker = markerPath(outdir, stackDir, asset);
  if (asset.sourceVersion !== undefined && fs.existsSync(target) && readMarker(marker) === `${asset.fingerprint}\n${asset.sourceVersion()}`) return;
  fs.rmSync(marker, { force: true });
  fs.rmSync(target, { recursive: true, force: true });
  const temp = path.join(parent, `.${asset.fingerprint}.${process.pid}.tmp`);
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(temp);
  try {
    writeFolder(source, temp, files);
    fs.chmodSync(temp, DIR_MODE);
    fs.renameSync(temp, target);
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  asset.afterWrite?.();
  if (asset.sourceVersion !== undefined) {
    fs.mkdirSync(path.dirname(marker), { recursive: true });
    fs.writeFileSync(marker, `${asset.fingerprint}\n${asset.sourceVersion()}`);
  }
}

function readMarker(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Wraps the stack's synthesizer once so its assets are written after each synthesis, and unused ones removed. */
function registryOf(stack: WithAssets): Registered[] {
  const existing = stack[REGISTRY];
  if (existing !== undefined) return existing;
  const assets: Registered[] = [];
  Object.defineProperty(stack, REGISTRY, { value: assets, enumerable: false });
  const inner: IStackSynthesizer = stack.synthesizer;
  stack.synthesizer = {
    synthesize(session: ISynthesisSession): void {
      inner.synthesize(session);
      const entry = session.manifest.forStack(stack);
      const stackDir = path.join(session.outdir, entry.workingDirectory);
      for (const asset of assets) materializeAsset(session.outdir, stackDir, asset);
      // Assets of earlier synths (e.g. of a deployment since removed) go, whatever the route
      // (prepareHandOff does the same for stacks that hold no asset of this library).
      pruneUnusedAssets(stackDir, fs.readFileSync(path.join(session.outdir, entry.synthesizedStackPath), "utf8"));
    },
  };
  return assets;
}

/**
 * Adds a file or folder to the stack's assets (written at synth) and returns its path relative
 * to the stack folder. `id` names the asset under `scope` (a construct is created for it).
 */
export function stackAsset(scope: Construct, id: string, options: StackAssetOptions): StackAsset {
  const node = new Construct(scope, id);
  const owner = node.node.path;
  if (!/^[A-Za-z0-9._-]+$/.test(options.fingerprint) || /^\.+$/.test(options.fingerprint)) {
    invalid(owner, "fingerprint", options.fingerprint, "not usable as a folder name", "letters, digits, '.', '_' and '-' (e.g. a sha256 in hex)");
  }
  if (!path.isAbsolute(options.path)) invalid(owner, "path", options.path, "not an absolute path", "an absolute path");
  let stat: fs.Stats;
  try {
    stat = fs.statSync(options.path);
  } catch {
    invalid(owner, "path", options.path, "it does not exist", `an existing ${options.kind}`);
  }
  if (options.kind === "file" ? !stat.isFile() : !stat.isDirectory()) {
    invalid(owner, "path", options.path, `it is not a ${options.kind === "file" ? "regular file" : "folder"}`, `an existing ${options.kind}`);
  }
  if (options.kind === "directory" && options.files === undefined) invalid(owner, "files", options.files, "a folder's files are not given", "the folder's files as relative posix paths");
  const stack = TerraformStack.of(scope);
  const folder = path.posix.join(ASSETS, stack.getLogicalId(node.node));
  registryOf(stack).push({ ...options, folder });
  const relativePath = options.kind === "file"
    ? path.posix.join(folder, options.fingerprint, path.basename(options.path))
    : path.posix.join(folder, options.fingerprint);
  return { relativePath };
}
