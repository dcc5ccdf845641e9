/** The model sources this library offers (their contract: model-target.ts). */
import { LocalModelSource } from "./local-model-source";
import { AmlWorkspaceModelProps, AmlWorkspaceModelSource } from "./aml-workspace-model-source";
import { AmlRegistryModelProps, AmlRegistryModelSource } from "./aml-registry-model-source";
import { BlobModelProps, BlobModelSource } from "./blob-model-source";
import type { IModelSource } from "./model-target";

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
   * starts to `$AZUREML_MODEL_DIR/<name>/<version>/`. The identity gets AzureML Registry User on
   * the registry.
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
