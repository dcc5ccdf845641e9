import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tar from "tar";
import { BuildContextSpec, PreparedBuildContext, prepareBuildContext } from "../lib/image/build-context";

const PACK = "model-small-files.tar";

/** Every regular file below `dir`, by relative posix path, with its bytes. */
function readFiles(dir: string): { [rel: string]: Buffer } {
  const out: { [rel: string]: Buffer } = {};
  const walk = (abs: string, rel: string): void => {
    for (const name of fs.readdirSync(abs).sort()) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      if (fs.statSync(a).isDirectory()) walk(a, r);
      else out[r] = fs.readFileSync(a);
    }
  };
  walk(dir, "");
  return out;
}

/** The entry names of a tar file in their order (the `tar` package's own reader). */
export function packEntries(packFile: string): string[] {
  const names: string[] = [];
  tar.t({ file: packFile, sync: true, onReadEntry: (e) => names.push(`${e.path}${e.type === "Directory" && !e.path.endsWith("/") ? "/" : ""}`) });
  return names;
}

/** The files of a tar, unpacked with the `tar` package's extractor, by path. */
export function unpack(packFile: string): { [rel: string]: Buffer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "unpacked-"));
  try {
    tar.x({ file: packFile, cwd: dir, sync: true });
    return readFiles(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A staged context's files as the image gets them: `model/` with the small-files pack unpacked
 * into it (the Dockerfile's COPY then ADD), the pack itself and the `model/.packed` (or
 * `model/.packed-placeholder`) placeholder left out, every other file as staged. Keys are context paths (`model/<basename>/...`).
 */
export function imageView(contextDir: string): { [rel: string]: Buffer } {
  const staged = readFiles(contextDir);
  const out: { [rel: string]: Buffer } = {};
  for (const [rel, bytes] of Object.entries(staged)) if (rel !== PACK && rel !== "model/.packed" && rel !== "model/.packed-placeholder") out[rel] = bytes;
  for (const [rel, bytes] of Object.entries(unpack(path.join(contextDir, PACK)))) out[`model/${rel}`] = bytes;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `imageView` with the bytes as UTF-8 text. */
export function imageViewText(contextDir: string): { [rel: string]: string } {
  return Object.fromEntries(Object.entries(imageView(contextDir)).map(([k, v]) => [k, v.toString("utf8")]));
}

/** A context prepared and staged as a folder, as the local build does. */
export interface StagedContext {
  readonly fingerprint: string;
  readonly files: readonly string[];
  readonly secretExcluded: readonly string[];
  /** The staged folder. */
  readonly directory: string;
  readonly context: PreparedBuildContext;
}

/** Prepares the context of `spec` for a folder (as the local build does) and stages it. */
export function stageContext(spec: BuildContextSpec): StagedContext {
  const context = prepareBuildContext(spec, { folder: true });
  return { fingerprint: context.fingerprint, files: context.files, secretExcluded: context.secretExcluded, directory: context.stageFolder().directory, context };
}
