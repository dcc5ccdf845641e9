/**
 * What a model source sees of the deployment it binds to, and what it hands back. A model source
 * is an object the deployment binds (like a trigger): it says whether the model is baked into the
 * image or fetched by the app's identity when an instance starts, and creates the role
 * assignments that fetching needs.
 */
import { Construct } from "constructs";
import type { DeploymentContext } from "../deployment/deployment-context";
import type { DeclaredNeeds } from "../deployment/declared-needs";

/** A model resolved at synth time. */
export interface ResolvedModel {
  /** Absolute path of the model file or folder. */
  readonly absolutePath: string;
  readonly kind: "file" | "directory";
  /** Name under `model/` in the image (and inside `AZUREML_MODEL_DIR`). */
  readonly basename: string;
}

/** What a model source sees of the deployment it binds to. */
export interface ModelTarget extends DeploymentContext {
  /** `AZUREML_MODEL_DIR` inside the image. */
  readonly modelDir: string;
}

/**
 * What a model source hands back to the deployment after it bound: the model to bake into the
 * image, if any, and its needs (the app settings that tell the host what to fetch, whose change
 * restarts the app without rebuilding the image, and the role assignments the fetch needs).
 */
export interface ModelBinding extends DeclaredNeeds {
  /** A model copied into the image at build time; absent for models fetched at start. */
  readonly bakedModel?: ResolvedModel;
}

/** A model source: see {@link ModelSource} for the ones this library offers. */
export interface IModelSource {
  /** Creates the source's resources under `scope` and describes the model. Called once. */
  bind(scope: Construct, target: ModelTarget): ModelBinding;
}
