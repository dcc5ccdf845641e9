/** A model file or folder kept in Blob storage, fetched by the app's identity at start. */
import { Construct } from "constructs";
import { Token } from "cdktf";
import { checkPropsObject, invalid } from "../errors";
import { validateBlobContainerName } from "../naming";
import { grantRole } from "../security/role-assignment";
import { parseResourceId, STORAGE_ACCOUNT } from "./azure-resource-id";
import { fetchSettings, validateStorageSuffix } from "./fetch-settings";
import { blobPathCondition, containerScope, ModelRole } from "./model-roles";
import type { IModelSource, ModelBinding, ModelTarget } from "./model-target";

/** Props of `ModelSource.fromBlob`. */
export interface BlobModelProps {
  /** Resource id of the storage account. */
  readonly storageAccountId: string;
  /** Blob container holding the model. */
  readonly container: string;
  /**
   * A blob name (`models/churn.joblib`) or a prefix (`models/churn` or `models/churn/`: every
   * blob under it). The last segment names the file or folder under `AZUREML_MODEL_DIR`.
   */
  readonly path: string;
  /**
   * DNS suffix of the storage endpoint (sovereign clouds): `https://<account>.blob.<suffix>`.
   * @default "core.windows.net"
   */
  readonly storageEndpointSuffix?: string;
}

const OWNER = "ModelSource.fromBlob";
const PATH_ALLOWED = "a blob name or prefix of 1-1024 characters, segments separated by single '/', no leading '/', no '.' or '..' segments, no backslashes, quotes, control characters, '${' or '%{' (e.g. \"models/churn\" or \"models/churn.joblib\")";

/** Made by `ModelSource.fromBlob(props)`. */
export class BlobModelSource implements IModelSource {
  private readonly storageSuffix: string;

  constructor(public readonly props: BlobModelProps) {
    checkPropsObject(OWNER, props, "props are required", "{ storageAccountId, container, path }");
    parseResourceId(OWNER, "storageAccountId", props.storageAccountId, STORAGE_ACCOUNT);
    if (typeof props.container !== "string") invalid(OWNER, "container", props.container, "the container name is required", "a blob container name");
    validateBlobContainerName(OWNER, "container", props.container);
    validateBlobPath(props.path);
    this.storageSuffix = validateStorageSuffix(OWNER, "storageEndpointSuffix", props.storageEndpointSuffix);
  }

  /**
   * Storage Blob Data Reader on the container (the narrowest RBAC scope), limited by an ABAC
   * condition to blobs under the model's path (a path known only at apply time: the container).
   */
  public bind(scope: Construct, target: ModelTarget): ModelBinding {
    const p = this.props;
    const condition = Token.isUnresolved(p.path) ? undefined : blobPathCondition(p.path);
    const reader = grantRole(scope, "blob-reader", containerScope(p.storageAccountId, p.container), ModelRole.STORAGE_BLOB_DATA_READER, target.identity.principalId, condition);
    return {
      appSettings: fetchSettings({ kind: "blob", storageAccountId: p.storageAccountId, container: p.container, path: p.path }, target.identity.clientId, { storageSuffix: this.storageSuffix }),
      dependencies: [reader],
    };
  }
}

function validateBlobPath(value: unknown): void {
  if (typeof value !== "string") invalid(OWNER, "path", value, "the path is required", PATH_ALLOWED);
  if (Token.isUnresolved(value)) return;
  if (value.length === 0 || value === "/") invalid(OWNER, "path", value, "the path is empty (a whole container is not a model path)", PATH_ALLOWED);
  if (value.length > 1024) invalid(OWNER, "path", value, `length ${value.length} is over 1024`, PATH_ALLOWED);
  if (value.startsWith("/")) invalid(OWNER, "path", value, "it starts with '/'", PATH_ALLOWED);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) invalid(OWNER, "path", value, "it contains a backslash or a control character", PATH_ALLOWED);
  // The path travels in a JSON app setting written into the Terraform configuration: a quote
  // would be escaped with a backslash, and '${'/'%{' are Terraform template sequences.
  if (value.includes("\"")) invalid(OWNER, "path", value, "it contains a double quote", PATH_ALLOWED);
  // The role assignment's ABAC condition quotes the path in single quotes.
  if (value.includes("'")) invalid(OWNER, "path", value, "it contains a single quote, which the role assignment's path condition cannot quote", PATH_ALLOWED);
  if (/[$%]\{/.test(value)) invalid(OWNER, "path", value, "it contains '${' or '%{' (Terraform template sequences)", PATH_ALLOWED);
  const segments = value.replace(/\/$/, "").split("/");
  if (segments.some((s) => s === "")) invalid(OWNER, "path", value, "it has an empty segment ('//')", PATH_ALLOWED);
  if (segments.some((s) => s === "." || s === "..")) invalid(OWNER, "path", value, "it has a '.' or '..' segment", PATH_ALLOWED);
}
