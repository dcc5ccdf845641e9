import { Construct } from "constructs";
import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";

/** Props of {@link createSecureStorageAccount}. */
export interface SecureStorageAccountProps {
  /** Globally unique account name (3–24 lowercase letters and digits), already validated. */
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly tags?: { [key: string]: string };
  /**
   * Days soft-deleted blobs and containers are kept.
   * @default 7
   */
  readonly softDeleteDays?: number;
  /**
   * Blob versioning: every overwrite or delete keeps the previous version, so a result or an
   * input blob replaced by mistake (or by an attacker with write access) can be restored.
   * @default true
   */
  readonly blobVersioning?: boolean;
}

/**
 * A storage account with the secure baseline (FIELD-NOTES §7): HTTPS only, TLS 1.2, no public
 * nested items, no shared keys (Azure AD only, so the app and Terraform need no key), local users
 * and SFTP off, blob and container soft delete, blob versioning (unless turned off).
 *
 * Kept open to public networks: the function app is not VNet-integrated by default, so it reaches
 * storage over the public endpoint; access still needs an Azure AD role (see README, "Exceptions").
 */
export function createSecureStorageAccount(scope: Construct, id: string, props: SecureStorageAccountProps): StorageAccount {
  const days = props.softDeleteDays ?? 7;
  return new StorageAccount(scope, id, {
    name: props.name,
    location: props.location,
    resourceGroupName: props.resourceGroupName,
    accountKind: "StorageV2",
    accountTier: "Standard",
    accountReplicationType: "LRS",
    httpsTrafficOnlyEnabled: true,
    minTlsVersion: "TLS1_2",
    allowNestedItemsToBePublic: false,
    sharedAccessKeyEnabled: false,
    defaultToOauthAuthentication: true,
    localUserEnabled: false,
    sftpEnabled: false,
    crossTenantReplicationEnabled: false,
    infrastructureEncryptionEnabled: true,
    publicNetworkAccessEnabled: true,
    blobProperties: {
      versioningEnabled: props.blobVersioning ?? true,
      deleteRetentionPolicy: { days },
      containerDeleteRetentionPolicy: { days },
    },
    tags: props.tags,
  });
}
