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
  /** Read access to a registry's assets, including the model's data reference (FIELD-NOTES §8). */
  AZUREML_REGISTRY_USER: "AzureML Registry User",
  /** List and read blobs, nothing else. */
  STORAGE_BLOB_DATA_READER: "Storage Blob Data Reader",
} as const;

/** ARM scope of one blob container: the narrowest scope a storage data role can have. */
export function containerScope(storageAccountId: string, container: string): string {
  return `${storageAccountId}/blobServices/default/containers/${container}`;
}

const READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";

/**
 * An Azure ABAC condition (version 2.0) that limits Storage Blob Data Reader to blobs whose name
 * starts with `prefix`: reading a blob needs the resource attribute `blobs:path` to start with it,
 * listing needs the request attribute `blobs:prefix` to start with it (Azure Storage ABAC docs,
 * "Read or list blobs in named containers with a path"). The downloader always lists with the
 * model's path as prefix, so both hold. `prefix` must not contain a single quote.
 */
export function blobPathCondition(prefix: string): string {
  return `((!(ActionMatches{'${READ}'} AND NOT SubOperationMatches{'Blob.List'})) OR ` +
    `(@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith '${prefix}')) AND ` +
    `((!(ActionMatches{'${READ}'} AND SubOperationMatches{'Blob.List'})) OR ` +
    `(@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith '${prefix}'))`;
}
