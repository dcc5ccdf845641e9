/** A model from the local disk: a file or folder copied into the image under `model/`. */
import * as fs from "fs";
import * as path from "path";
import { Token } from "cdktf";
import { invalid } from "../errors";
import type { IModelSource, ModelBinding, ModelTarget, ResolvedModel } from "./model-target";

const ALLOWED = "a path (absolute, or relative to the current working directory) to an existing, readable model file or non-empty folder";

/** Made by `ModelSource.fromLocalPath(path)`. */
export class LocalModelSource implements IModelSource {
  constructor(private readonly localPath: string) {}

  /** The model is baked into the image: nothing to create, no role to grant. */
  public bind(_scope: unknown, target: ModelTarget): ModelBinding {
    return { bakedModel: this.resolve(target.owner) };
  }

  /** Checks the path and describes it. Does not read file contents. */
  public resolve(owner: string): ResolvedModel {
    const given = this.localPath;
    if (typeof given !== "string" || given.trim() === "") invalid(owner, "model", given, "the path is empty", ALLOWED);
    if (Token.isUnresolved(given)) invalid(owner, "model", given, "the path is a token; the model is copied at synth time, so it must be a literal path", ALLOWED);
    const absolutePath = path.resolve(process.cwd(), given);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(absolutePath);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") invalid(owner, "model", given, `nothing exists at ${absolutePath}`, ALLOWED);
      if (code === "ELOOP") invalid(owner, "model", given, `${absolutePath} is a symbolic link loop`, ALLOWED);
      invalid(owner, "model", given, `cannot read ${absolutePath} (${code ?? (e as Error).message})`, ALLOWED);
    }
    const basename = path.basename(absolutePath);
    if (stat.isFile()) {
      try {
        fs.accessSync(absolutePath, fs.constants.R_OK);
      } catch (e) {
        invalid(owner, "model", given, `the file ${absolutePath} is not readable (${(e as NodeJS.ErrnoException).code ?? "error"})`, ALLOWED);
      }
      return { absolutePath, kind: "file", basename };
    }
    if (stat.isDirectory()) {
      let entries: string[];
      try {
        fs.accessSync(absolutePath, fs.constants.R_OK | fs.constants.X_OK);
        entries = fs.readdirSync(absolutePath);
      } catch (e) {
        invalid(owner, "model", given, `the folder ${absolutePath} is not readable (${(e as NodeJS.ErrnoException).code ?? "error"})`, ALLOWED);
      }
      if (entries.length === 0) invalid(owner, "model", given, `the folder ${absolutePath} is empty`, ALLOWED);
      return { absolutePath, kind: "directory", basename };
    }
    invalid(owner, "model", given, `${absolutePath} is neither a regular file nor a folder`, ALLOWED);
  }
}
