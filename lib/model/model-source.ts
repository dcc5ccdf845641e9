/**
 * Where the model comes from. A model source is an object the deployment binds (like a
 * trigger): it says whether the model is baked into the image or fetched by the app's identity
 * when an instance starts, and creates the role assignments that fetching needs.
 */
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { TriggerIdentity } from "../triggers/trigger";
import { LocalModelSource, ResolvedModel } from "./local-model-source";
import { AmlWorkspaceModelProps, AmlWorkspaceModelSource } from "./aml-workspace-model-source";
import { AmlRegistryModelProps, AmlRegistryModelSource } from "./aml-registry-model-source";
import { BlobModelProps, BlobModelSource } from "./blob-model-source";

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
  /** The deployment's base name, for names of resources outside its resource group (e.g. a custom role). */
  readonly baseName: string;
  /** The deployment's unique suffix, with `baseName` for names that must be unique in the tenant. */
  readonly uniqueSuffix: string;
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

/** The model sources this library offers. */
export class ModelSource {
  /**
   * A model file or folder on the local disk, copied into the image under `AZUREML_MODEL_DIR`
   * (name kept). Relative paths resolve against process.cwd().
   */
  public static fromLocalPath(modelPath: string): LocalModelSource {
    return new LocalModelSource(modelPath);
  }

  /**
   * A model version registered in an Azure ML workspace, downloaded by the app's identity when
   * an instance starts to `$AZUREML_MODEL_DIR/<name>/<version>/`. The identity gets Reader on
   * the workspace and Storage Blob Data Reader on the datastore's storage.
   */
  public static fromAmlWorkspace(props: AmlWorkspaceModelProps): AmlWorkspaceModelSource {
    return new AmlWorkspaceModelSource(props);
  }

  /**
   * A model version in an Azure ML registry, downloaded by the app's identity when an instance
   * starts to `$AZUREML_MODEL_DIR/<name>/<version>/`. The identity gets a custom role on the
   * registry that reads the registry and its assets, nothing else (not AzureML Registry User,
   * which can also write and delete assets).
   */
  public static fromAmlRegistry(props: AmlRegistryModelProps): AmlRegistryModelSource {
    return new AmlRegistryModelSource(props);
  }

  /**
   * A model file or folder (prefix) in Blob storage, downloaded by the app's identity when an
   * instance starts to `$AZUREML_MODEL_DIR/<last path segment>`. The identity gets Storage Blob
   * Data Reader on the container.
   */
  public static fromBlob(props: BlobModelProps): BlobModelSource {
    return new BlobModelSource(props);
  }

  private constructor() {}
}

/** True when `value` can be bound as a model source. */
export function isModelSource(value: unknown): value is IModelSource {
  return typeof value === "object" && value !== null && typeof (value as IModelSource).bind === "function";
}
