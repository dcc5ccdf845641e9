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
  /**
   * Who may reach the account over the network: `"public"`, `"private"` (public network access
   * off: private endpoints only) or `"trustedServices"` (the public endpoint answers only trusted
   * Azure services calling with their system-assigned identity, e.g. ACR Tasks, and private
   * endpoints; storage offers that exception with "selected networks" only, not with public
   * network access off).
   * @default "public"
   */
  readonly networkAccess?: StorageNetworkAccess;
}

/** See {@link SecureStorageAccountProps.networkAccess}. */
export type StorageNetworkAccess = "public" | "private" | "trustedServices";

/**
 * A storage account with the secure baseline (FIELD-NOTES §7): HTTPS only, TLS 1.2, no public
 * nested items, no shared keys (Azure AD only, so the app and Terraform need no key), local users
 * and SFTP off, blob and container soft delete, blob versioning (unless turned off).
 *
 * Open to public networks unless `networkAccess` says otherwise: the function app is not
 * VNet-integrated by default, so it reaches storage over the public endpoint; access still needs
 * an Azure AD role (docs/security.md, "Defaults a scanner will still flag"; docs/networking.md for `network`).
 */
export function createSecureStorageAccount(scope: Construct, id: string, props: SecureStorageAccountProps): StorageAccount {
  const days = props.softDeleteDays ?? 7;
  const access = props.networkAccess ?? "public";
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
    publicNetworkAccessEnabled: access !== "private",
    // Deny-by-default on the public endpoint whenever it is not open: with public network access
    // off the rules are not evaluated, but scanners still look for the deny.
    networkRules: access === "public" ? undefined : { defaultAction: "Deny", bypass: ["AzureServices"] },
    blobProperties: {
      versioningEnabled: props.blobVersioning ?? true,
      deleteRetentionPolicy: { days },
      containerDeleteRetentionPolicy: { days },
    },
    tags: props.tags,
  });
}
