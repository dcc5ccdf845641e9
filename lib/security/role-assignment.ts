import { Construct } from "constructs";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";

/** Built-in Azure roles this library grants; names as Azure spells them. */
export const BuiltInRole = {
  ACR_PULL: "AcrPull",
  STORAGE_ACCOUNT_CONTRIBUTOR: "Storage Account Contributor",
  STORAGE_BLOB_DATA_OWNER: "Storage Blob Data Owner",
  STORAGE_BLOB_DATA_CONTRIBUTOR: "Storage Blob Data Contributor",
  STORAGE_BLOB_DATA_READER: "Storage Blob Data Reader",
  STORAGE_QUEUE_DATA_CONTRIBUTOR: "Storage Queue Data Contributor",
  STORAGE_TABLE_DATA_CONTRIBUTOR: "Storage Table Data Contributor",
  SERVICE_BUS_DATA_RECEIVER: "Azure Service Bus Data Receiver",
  SERVICE_BUS_DATA_SENDER: "Azure Service Bus Data Sender",
  MONITORING_METRICS_PUBLISHER: "Monitoring Metrics Publisher",
} as const;

/**
 * Grants a built-in role to a managed identity at `scopeId`.
 *
 * `principal_type = ServicePrincipal` and `skip_service_principal_aad_check` let the assignment be
 * created right after a fresh identity, before Azure AD has replicated it (FIELD-NOTES §4).
 */
export function grantRole(scope: Construct, id: string, scopeId: string, roleDefinitionName: string, principalId: string, condition?: string): RoleAssignment {
  return new RoleAssignment(scope, id, {
    scope: scopeId,
    roleDefinitionName,
    principalId,
    principalType: "ServicePrincipal",
    skipServicePrincipalAadCheck: true,
    // An Azure ABAC condition narrows the role further (version 2.0 is the current syntax).
    condition,
    conditionVersion: condition === undefined ? undefined : "2.0",
  });
}

/** Grants a custom role (by its resource id, e.g. `azurerm_role_definition.role_definition_resource_id`). */
export function grantRoleById(scope: Construct, id: string, scopeId: string, roleDefinitionId: string, principalId: string): RoleAssignment {
  return new RoleAssignment(scope, id, {
    scope: scopeId,
    roleDefinitionId,
    principalId,
    principalType: "ServicePrincipal",
    skipServicePrincipalAadCheck: true,
  });
}
