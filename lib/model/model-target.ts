/**
 * What a model source sees of the deployment it binds to, and what it hands back. A model source
 * is an object the deployment binds (like a trigger): it says whether the model is baked into the
 * image or fetched by the app's identity when an instance starts, and creates the role
 * assignments that fetching needs.
 */
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { TriggerIdentity } from "../triggers/trigger";

/** A model resolved at synth time. */
export interface ResolvedModel {
  /** Absolute path of the model file or folder. */
  readonly absolutePath: string;
  readonly kind: "file" | "directory";
  /** Name under `model/` in the image (and inside `AZUREML_MODEL_DIR`). */
  readonly basename: string;
}

/** What a model source sees of the deployment it binds to. */
export interface ModelTarget {
  /** Construct description used in error messages, e.g. `AmlFunctionDeployment "churn"`. */
  readonly owner: string;
  /** Azure region of the deployment (a literal, validated). */
  readonly location: string;
  readonly resourceGroupName: string;
  readonly tags: { [key: string]: string };
  /** The user-assigned identity the function app runs as. */
  readonly identity: TriggerIdentity;
  /** `AZUREML_MODEL_DIR` inside the image. */
  readonly modelDir: string;
}

/** What a model source hands back to the deployment after it bound. */
export interface ModelBinding {
  /** A model copied into the image at build time; absent for models fetched at start. */
  readonly bakedModel?: ResolvedModel;
  /**
   * App settings that tell the host what to fetch. A change here restarts the app; it does not
   * rebuild the image.
   */
  readonly appSettings?: { [key: string]: string };
  /** Resources the function app must wait for (role assignments that make the fetch work). */
  readonly dependencies?: ITerraformDependable[];
}

/** A model source: see {@link ModelSource} for the ones this library offers. */
export interface IModelSource {
  /** Creates the source's resources under `scope` and describes the model. Called once. */
  bind(scope: Construct, target: ModelTarget): ModelBinding;
}
