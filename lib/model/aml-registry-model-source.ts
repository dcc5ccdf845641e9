/** A model version in an Azure ML registry, fetched by the app's identity at start. */
import { Construct } from "constructs";
import { checkPropsObject } from "../errors";
import { grantRole } from "../security/role-assignment";
import { AML_REGISTRY, parseResourceId } from "./azure-resource-id";
import { validateAssetName, validateAssetVersion } from "./aml-asset";
import { fetchSettings, validateArmEndpoint } from "./fetch-settings";
import { ModelRole } from "./model-roles";
import type { IModelSource, ModelBinding, ModelTarget } from "./model-target";

/** Props of `ModelSource.fromAmlRegistry`. */
export interface AmlRegistryModelProps {
  /** Resource id of the Azure ML registry. */
  readonly registryId: string;
  /** Model name in the registry. */
  readonly name: string;
  /** Exact model version, e.g. "3" ("latest" is refused: deployments must be reproducible). */
  readonly version: string;
  /**
   * Azure Resource Manager endpoint (sovereign clouds).
   * @default "https://management.azure.com"
   */
  readonly armEndpoint?: string;
}

const OWNER = "ModelSource.fromAmlRegistry";

/** Made by `ModelSource.fromAmlRegistry(props)`. */
export class AmlRegistryModelSource implements IModelSource {
  private readonly armEndpoint: string;

  constructor(public readonly props: AmlRegistryModelProps) {
    checkPropsObject(OWNER, props, "props are required", "{ registryId, name, version }");
    parseResourceId(OWNER, "registryId", props.registryId, AML_REGISTRY);
    validateAssetName(OWNER, "name", props.name);
    validateAssetVersion(OWNER, "version", props.version);
    this.armEndpoint = validateArmEndpoint(OWNER, "armEndpoint", props.armEndpoint);
  }

  /**
   * AzureML Registry User on the registry: it reads the model version and asks the registry for
   * a read-only data reference to the model's blobs (the registry's storage is Azure ML's, so
   * no storage role can be granted on it).
   */
  public bind(scope: Construct, target: ModelTarget): ModelBinding {
    const p = this.props;
    const user = grantRole(scope, "registry-user", p.registryId, ModelRole.AZUREML_REGISTRY_USER, target.identity.principalId);
    return {
      appSettings: fetchSettings({ kind: "amlRegistry", registryId: p.registryId, name: p.name, version: p.version }, target.identity.clientId, { armEndpoint: this.armEndpoint }),
      dependencies: [user],
    };
  }
}
