/**
 * Stages the Docker build context of the scoring image and computes its content fingerprint.
 *
 * Fingerprint = sha256 over a format tag, the sorted relative paths of every staged file with
 * their sizes and contents, and the build options (build args, platform). File modes, mtimes,
 * directory listing order and the absolute location of the inputs do not count, so the same
 * inputs give the same fingerprint on every machine. Staged files are written with mode 0644.
 *
 * Excludes: `.dockerignore` at the root of the scoring-image folder, the model folder and the
 * entry script's folder apply to that folder's files (the `.dockerignore` itself is not copied).
 * DEFAULT_EXCLUDES are applied first, so a `!` line can re-include them. When the model lies inside
 * the entry script's folder it is not copied a second time under `source/`.
 */
import { createHash, Hash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import dockerignore from "@balena/dockerignore";
import { invalid } from "../errors";
import { ResolvedEntryScript } from "../entry-script";
import { ResolvedModel } from "../model/local-model-source";

/** Patterns excluded from every copied folder before its own `.dockerignore` applies. */
export const DEFAULT_EXCLUDES: readonly string[] = Object.freeze([
  "**/__pycache__",
  "**/*.pyc",
  "**/.git",
  "**/.DS_Store",
  "**/.ipynb_checkpoints",
  "**/node_modules",
  "**/cdktf.out",
  "**/.terraform",
  "**/.venv",
]);

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

export interface StagedBuildContext {
  /** Absolute path of the staged context. */
  readonly directory: string;
  /** 64 hex digits. */
  readonly fingerprint: string;
  /** Sorted relative posix paths of every staged file. */
  readonly files: string[];
}

/** A file of the context: copied from disk or written from memory. */
type Entry = { readonly dest: string; readonly source: string } | { readonly dest: string; readonly content: Buffer };

interface Plan {
  readonly entries: Entry[];
  readonly fingerprint: string;
}

const FORMAT = "aml-function-deployment/build-context/v1";
const STAGING_ROOT_NAME = "aml-function-deployment";

function readIgnore(root: string): { patterns: string[] } {
  const file = path.join(root, ".dockerignore");
  const own = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split(/\r?\n/) : [];
  return { patterns: [...DEFAULT_EXCLUDES, ...own, "/.dockerignore"] };
}

interface WalkOptions {
  readonly owner: string;
  readonly prop: string;
  /** Absolute folder being copied. */
  readonly root: string;
  /** Destination prefix inside the context. */
  readonly destPrefix: string;
  /** Only files below these relative sub-folders (undefined = everything). */
  readonly only?: readonly string[];
  /** Absolute real paths to leave out. */
  readonly skip?: readonly string[];
}

/** Lists the files of a folder (following symbolic links that stay inside it) minus the excludes. */
function walkFolder(opts: WalkOptions): Entry[] {
  const { patterns } = readIgnore(opts.root);
  const ig = dockerignore().add(patterns);
  const hasExceptions = patterns.some((p) => p.trim().startsWith("!"));
  const realRoot = fs.realpathSync(opts.root);
  const skip = new Set(opts.skip ?? []);
  const entries: Entry[] = [];

  const visit = (abs: string, rel: string, ancestors: Set<string>): void => {
    const lst = fs.lstatSync(abs);
    let real = abs;
    let stat = lst;
    if (lst.isSymbolicLink()) {
      try {
        real = fs.realpathSync(abs);
        stat = fs.statSync(real);
      } catch {
        invalid(opts.owner, opts.prop, opts.root, `symbolic link ${rel} is broken`, "symbolic links to files and folders inside the copied folder");
      }
      const inside = path.relative(realRoot, real);
      if (inside === ".." || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
        invalid(opts.owner, opts.prop, opts.root, `symbolic link ${rel} points outside its folder (to ${real})`, `symbolic links to files and folders inside ${opts.root}`);
      }
    } else if (rel !== "") {
      real = path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
    } else {
      real = realRoot;
    }
    if (skip.has(real)) return;
    if (stat.isDirectory()) {
      if (rel !== "" && ig.ignores(rel) && !hasExceptions) return;
      if (ancestors.has(real)) {
        invalid(opts.owner, opts.prop, opts.root, `symbolic link ${rel} makes a cycle`, "symbolic links that do not point to one of their own parent folders");
      }
      const next = new Set(ancestors).add(real);
      for (const name of fs.readdirSync(abs).sort()) visit(path.join(abs, name), rel === "" ? name : `${rel}/${name}`, next);
      return;
    }
    if (!stat.isFile()) {
      invalid(opts.owner, opts.prop, opts.root, `${rel} is neither a regular file nor a folder`, "regular files, folders and symbolic links to them");
    }
    if (ig.ignores(rel)) return;
    if (opts.only !== undefined && !opts.only.some((o) => rel === o || rel.startsWith(`${o}/`))) return;
    entries.push({ dest: `${opts.destPrefix}${rel}`, source: real });
  };

  visit(opts.root, "", new Set());
  return entries;
}

function checkRelativePath(owner: string, p: string): void {
  const allowed = "relative posix paths without '.', '..' or empty segments, e.g. \"app/score/function.json\"";
  if (p === "" || p.startsWith("/") || p.includes("\\") || p.split("/").some((s) => s === "" || s === "." || s === "..")) {
    invalid(owner, "generatedFiles", p, "not a normalized relative path", allowed);
  }
}

function collect(spec: BuildContextSpec): Entry[] {
  const owner = spec.owner ?? "BuildContext";
  const imageDir = path.resolve(spec.scoringImageDir);
  for (const required of ["Dockerfile", "requirements.txt"]) {
    if (!fs.existsSync(path.join(imageDir, required))) {
      invalid(owner, "scoringImageDir", spec.scoringImageDir, `${required} is missing`, "the scoring-image folder with Dockerfile, requirements.txt, aml_host/ and adapters/");
    }
  }
  const entries: Entry[] = [
    { dest: "Dockerfile", source: path.join(imageDir, "Dockerfile") },
    { dest: "host-requirements.txt", source: path.join(imageDir, "requirements.txt") },
    { dest: "requirements.txt", content: Buffer.from(spec.requirementsTxt, "utf8") },
  ];
  entries.push(...walkFolder({ owner, prop: "scoringImageDir", root: imageDir, destPrefix: "app/", only: ["aml_host", "adapters"] }));

  const model = spec.model;
  if (model === undefined) {
    // Fetched at start: the image still needs the folder the Dockerfile copies.
    entries.push({ dest: "model/.fetched-at-start", content: Buffer.alloc(0) });
  } else if (model.kind === "file") {
    entries.push({ dest: `model/${model.basename}`, source: model.absolutePath });
  } else {
    entries.push(...walkFolder({ owner, prop: "model", root: model.absolutePath, destPrefix: `model/${model.basename}/` }));
  }

  const skip = model === undefined ? [] : [fs.realpathSync(model.absolutePath)];
  entries.push(...walkFolder({ owner, prop: "entryScript", root: spec.entryScript.sourceDir, destPrefix: "source/", skip }));

  for (const rel of Object.keys(spec.generatedFiles)) {
    checkRelativePath(owner, rel);
    entries.push({ dest: rel, content: Buffer.from(spec.generatedFiles[rel], "utf8") });
  }

  entries.sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  const files = new Set<string>();
  for (const e of entries) {
    if (files.has(e.dest)) invalid(owner, "generatedFiles", e.dest, "two files of the build context have this path", "paths not used by the scoring image, model or source files");
    files.add(e.dest);
  }
  for (const e of entries) {
    const parts = e.dest.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (files.has(parent)) invalid(owner, "generatedFiles", parent, `it is a file but ${e.dest} needs it to be a folder`, "paths not used by the scoring image, model or source files");
    }
  }
  return entries;
}

function hashFile(hash: Hash, file: string): void {
  const fd = fs.openSync(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let read: number;
    while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
}

function plan(spec: BuildContextSpec): Plan {
  const owner = spec.owner ?? "BuildContext";
  for (const name of Object.keys(spec.buildArgs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) invalid(owner, "buildArgs", name, "not a valid build argument name", "letters, digits and underscores, not starting with a digit");
  }
  const entries = collect(spec);
  const hash = createHash("sha256");
  hash.update(`${FORMAT}\0`);
  const args = Object.keys(spec.buildArgs).sort().map((k) => [k, spec.buildArgs[k]]);
  hash.update(`${JSON.stringify({ buildArgs: args, platform: spec.platform })}\0`);
  for (const e of entries) {
    const size = "content" in e ? e.content.length : fs.statSync(e.source).size;
    hash.update(`${e.dest}\0${size}\0`);
    if ("content" in e) hash.update(e.content);
    else hashFile(hash, e.source);
  }
  return { entries, fingerprint: hash.digest("hex") };
}

/** The fingerprint of the context `spec` describes, without staging it. */
export function computeFingerprint(spec: BuildContextSpec): string {
  return plan(spec).fingerprint;
}

/** Base folder of the staged contexts: `<os tmpdir>/aml-function-deployment`. */
export function stagingRoot(): string {
  return path.join(os.tmpdir(), STAGING_ROOT_NAME);
}

function writeEntries(dir: string, entries: Entry[]): void {
  for (const e of entries) {
    const target = path.join(dir, ...e.dest.split("/"));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if ("content" in e) fs.writeFileSync(target, e.content);
    else fs.copyFileSync(e.source, target);
    fs.chmodSync(target, 0o644);
  }
}

function isComplete(dir: string, entries: Entry[]): boolean {
  return entries.every((e) => fs.existsSync(path.join(dir, ...e.dest.split("/"))));
}

/**
 * Stages the context into `<tmpdir>/aml-function-deployment/<fingerprint>`, reusing it when it
 * already exists. New contexts are written to a sibling temporary folder and renamed into place,
 * so a reader never sees a half-written context; a concurrent writer that wins the race is kept.
 */
export function stageBuildContext(spec: BuildContextSpec): StagedBuildContext {
  const { entries, fingerprint } = plan(spec);
  const root = stagingRoot();
  const directory = path.join(root, fingerprint);
  const files = entries.map((e) => e.dest);
  if (fs.existsSync(directory)) {
    if (isComplete(directory, entries)) return { directory, fingerprint, files };
    fs.rmSync(directory, { recursive: true, force: true });
  }
  fs.mkdirSync(root, { recursive: true });
  const temp = fs.mkdtempSync(path.join(root, `.staging-${fingerprint.slice(0, 12)}-`));
  try {
    writeEntries(temp, entries);
    fs.chmodSync(temp, 0o755);
    try {
      fs.renameSync(temp, directory);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!(code === "EEXIST" || code === "ENOTEMPTY" || code === "EPERM") || !fs.existsSync(directory)) throw e;
      // Another process staged the same content first: keep theirs.
    }
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
  return { directory, fingerprint, files };
}
