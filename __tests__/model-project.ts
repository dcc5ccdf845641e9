import * as fs from "fs";
import * as path from "path";
import { BuildContextSpec } from "../lib/image/build-context";
import { resolveEntryScript } from "../lib/entry-script";
import { ModelSource } from "../lib/model/model-source";

/** Writes `files` (relative posix path → content) below `root`, with their folders. */
export function writeFiles(root: string, files: { readonly [rel: string]: string | Buffer }): void {
  for (const [rel, data] of Object.entries(files)) {
    const file = path.join(root, ...rel.split("/"));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  }
}

/**
 * A minimal project for build-context tests at `root`: a scoring-image folder (Dockerfile,
 * requirements.txt), `src/score.py`, and the model folder `models/m` with `modelFiles`. Returns
 * the spec of its build context (owner "Deployment"), with `overrides`.
 */
export function modelProject(root: string, modelFiles: { readonly [rel: string]: string | Buffer }, overrides: Partial<BuildContextSpec> = {}): { model: string; spec: BuildContextSpec } {
  writeFiles(root, {
    "scoring-image/Dockerfile": "FROM python\n",
    "scoring-image/requirements.txt": "azure-functions\n",
    "src/score.py": "def init():\n    pass\n\ndef run(d):\n    return d\n",
  });
  const model = path.join(root, "models", "m");
  fs.mkdirSync(model, { recursive: true });
  writeFiles(model, modelFiles);
  const spec: BuildContextSpec = {
    owner: "Deployment",
    scoringImageDir: path.join(root, "scoring-image"),
    model: ModelSource.fromLocalPath(model).resolve("T"),
    entryScript: resolveEntryScript("T", path.join(root, "src", "score.py")),
    requirementsTxt: "",
    generatedFiles: {},
    buildArgs: {},
    platform: "linux/amd64",
    ...overrides,
  };
  return { model, spec };
}
