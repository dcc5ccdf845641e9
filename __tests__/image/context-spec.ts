import * as path from "path";
import { BuildContextSpec } from "../../lib/image/build-context";
import { resolveEntryScript } from "../../lib/entry-script";
import { ModelSource } from "../../lib/model/model-source";

/**
 * The build context of a project laid out as the image tests lay it out under `root`
 * (`scoring-image/`, `models/bundle/`, `src/score.py`), with `overrides` on top.
 */
export function contextSpec(root: string, overrides: Partial<BuildContextSpec> = {}): BuildContextSpec {
  return {
    scoringImageDir: path.join(root, "scoring-image"),
    model: ModelSource.fromLocalPath(path.join(root, "models", "bundle")).resolve("T"),
    entryScript: resolveEntryScript("T", path.join(root, "src", "score.py")),
    requirementsTxt: "numpy\n",
    generatedFiles: { "app/host.json": "{}" },
    buildArgs: { AZUREML_ENTRY_SCRIPT: "score.py" },
    platform: "linux/amd64",
    owner: "Deployment",
    ...overrides,
  };
}
