/** A model version registered in an Azure ML workspace, fetched by the app's identity at start. */
import { Construct } from "constructs";
import { Annotations, Fn, Token } from "cdktf";
import { checkPropsObject, invalid } from "../errors";
import { validateBlobContainerName } from "../naming";
import { grantRole } from "../security/role-assignment";
import { AML_WORKSPACE, parseResourceId, STORAGE_ACCOUNT } from "./azure-resource-id";
import { validateAssetName, validateAssetVersion } from "./aml-asset";
import { fetchSettings, validateArmEndpoint } from "./fetch-settings";
import { containerScope, ModelRole } from "./model-roles";
import type { IModelSource, ModelBinding, ModelTarget } from "./model-target";

/** Props of `ModelSource.fromAmlWorkspace`. */
export interface AmlWorkspaceModelProps {
  /** Resource id of the Azure ML workspace the model is registered in. */
  readonly workspaceId: string;
  /** Registered model name. */
  readonly name: string;
  /** Exact model version, e.g. "3" ("latest" is refused: deployments must be reproducible). */
  readonly version: string;
  /**
   * Resource id of the storage account behind the datastore that holds the model (for the
   * default datastore `workspaceblobstore`: the workspace's storage account). The identity gets
   * Storage Blob Data Reader there. The azurerm 4.55 workspace data source does not expose the
   * account, so it cannot be looked up.
   * @default Storage Blob Data Reader on the workspace's resource group, where Azure ML puts the
   *   workspace's storage account when it creates it (a synth warning suggests narrowing it)
   */
  readonly datastoreStorageAccountId?: string;
  /**
   * Blob container of that datastore (for `workspaceblobstore`: `azureml-blobstore-<workspace guid>`),
   * to narrow the grant from the account to the container. Needs `datastoreStorageAccountId`.
   * @default the whole account
   */
  readonly datastoreContainer?: string;
  /**
   * Azure Resource Manager endpoint (sovereign clouds).
   * @default "https://management.azure.com"
   */
  readonly armEndpoint?: string;
}

const OWNER = "ModelSource.fromAmlWorkspace";

/** Made by `ModelSource.fromAmlWorkspace(props)`. */
export class AmlWorkspaceModelSource implements IModelSource {
  private readonly armEndpoint: string;

  constructor(public readonly props: AmlWorkspaceModelProps) {
    checkPropsObject(OWNER, props, "props are required", "{ workspaceId, name, version }");
    parseResourceId(OWNER, "workspaceId", props.workspaceId, AML_WORKSPACE);
    validateAssetName(OWNER, "name", props.name);
    validateAssetVersion(OWNER, "version", props.version);
    if (props.datastoreStorageAccountId !== undefined) parseResourceId(OWNER, "datastoreStorageAccountId", props.datastoreStorageAccountId, STORAGE_ACCOUNT);
    if (props.datastoreContainer !== undefined) {
      if (props.datastoreStorageAccountId === undefined) {
        invalid(OWNER, "datastoreContainer", props.datastoreContainer, "it narrows the grant on datastoreStorageAccountId, which is not set", "set datastoreStorageAccountId too, or leave datastoreContainer unset");
      }
      validateBlobContainerName(OWNER, "datastoreContainer", props.datastoreContainer);
    }
    this.armEndpoint = validateArmEndpoint(OWNER, "armEndpoint", props.armEndpoint);
  }

  /** Reader on the workspace, Storage Blob Data Reader on the datastore's storage; no baked model. */
  public bind(scope: Construct, target: ModelTarget): ModelBinding {
    const p = this.props;
    const principal = target.identity.principalId;
    const reader = grantRole(scope, "workspace-reader", p.workspaceId, ModelRole.READER, principal);
    let storageScope: string;
    if (p.datastoreStorageAccountId === undefined) {
      storageScope = workspaceResourceGroupId(p.workspaceId);
      Annotations.of(scope).addWarning(
        `${target.owner}: the model's datastore storage is not known, so Storage Blob Data Reader is granted on the workspace's resource group. ` +
        "Pass datastoreStorageAccountId (and datastoreContainer) to ModelSource.fromAmlWorkspace to narrow it to the datastore's account or container.");
    } else {
      storageScope = p.datastoreContainer === undefined ? p.datastoreStorageAccountId : containerScope(p.datastoreStorageAccountId, p.datastoreContainer);
    }
    const blobReader = grantRole(scope, "datastore-blob-reader", storageScope, ModelRole.STORAGE_BLOB_DATA_READER, principal);
    return {
      appSettings: fetchSettings({ kind: "amlWorkspace", workspaceId: p.workspaceId, name: p.name, version: p.version }, target.identity.clientId, { armEndpoint: this.armEndpoint }),
      dependencies: [reader, blobReader],
    };
  }
}

/** `/subscriptions/<s>/resourceGroups/<g>` of a workspace id (also when the id is a token). */
function workspaceResourceGroupId(workspaceId: string): string {
  if (Token.isUnresolved(workspaceId)) return Fn.join("/", Fn.slice(Fn.split("/", workspaceId), 0, 5));
  return workspaceId.split("/").slice(0, 5).join("/");
}
