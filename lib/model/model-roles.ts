/**
 * Built-in roles the fetched model sources grant, names as Azure spells them, and why each is
 * the narrowest that works.
 */
export const ModelRole = {
  /**
   * ARM reads of the workspace's model versions and datastores (`*\/read`). Datastore secrets
   * are a POST (`listSecrets`) that Reader cannot call, and the downloader never needs them: it
   * reads blobs with its own token. AzureML Data Scientist would also allow writes and jobs.
   */
  READER: "Reader",
  /** List and read blobs, nothing else. */
  STORAGE_BLOB_DATA_READER: "Storage Blob Data Reader",
} as const;

/**
 * The actions of the custom role a registry model source grants on the registry: read the
 * registry and its assets, which is what Azure ML documents for users who only use a registry's
 * models ("Manage Azure Machine Learning registries", Add users to the registry: a custom role
 * with `registries/read` and `registries/assets/read`). Reading a model version and asking for
 * the read-only data reference to its blobs are asset reads. The built-in AzureML Registry User
 * (1823dd4f-...) is not used: it allows `registries/assets/*`, which also writes and deletes
 * models, environments and components of a registry other teams share (FIELD-NOTES §12).
 */
export const REGISTRY_MODEL_READER_ACTIONS: readonly string[] = [
  "Microsoft.MachineLearningServices/registries/read",
  "Microsoft.MachineLearningServices/registries/assets/read",
];

/** ARM scope of one blob container: the narrowest scope a storage data role can have. */
export function containerScope(storageAccountId: string, container: string): string {
  return `${storageAccountId}/blobServices/default/containers/${container}`;
}

const READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";

/**
 * An Azure ABAC condition (version 2.0) that limits Storage Blob Data Reader to the model's blobs
 * (Azure Storage ABAC docs, "Read or list blobs in named containers with a path"):
 *
 * - reading needs the resource attribute `blobs:path` to be the model: the blob named `path`, or
 *   a blob under `path/` (a folder). Not a bare prefix: `churn` must not read `churn-v2/...` or
 *   `churn.bak`. A path ending in `/` is a folder only.
 * - listing needs the request attribute `blobs:prefix` to start with the path: the downloader
 *   lists with the path itself as prefix (to find both the blob and the folder), so a listing can
 *   show the names (never the contents) of siblings that share the prefix.
 *
 * `path` must not contain a single quote.
 */
export function blobPathCondition(path: string): string {
  const blobs = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]";
  const folder = path.endsWith("/") ? path : `${path}/`;
  const read = path.endsWith("/") ? `${blobs} StringStartsWith '${folder}'` : `${blobs} StringEquals '${path}' OR ${blobs} StringStartsWith '${folder}'`;
  return `((!(ActionMatches{'${READ}'} AND NOT SubOperationMatches{'Blob.List'})) OR ` +
    `(${read})) AND ` +
    `((!(ActionMatches{'${READ}'} AND SubOperationMatches{'Blob.List'})) OR ` +
    `(@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith '${path}'))`;
}
