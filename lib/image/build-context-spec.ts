import type { ResolvedEntryScript } from "../entry-script";
import type { ResolvedModel } from "../model/model-target";

/** What the scoring image's build context is made of (build-context.ts). */
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
