/**
 * The resources every deployment has before its parts bind: resource group, identity, registry,
 * plan, host storage, Log Analytics workspace and Application Insights, with the roles the app's
 * identity needs on them, declared as the needs of one more part.
 */
import { Construct } from "constructs";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import { LogAnalyticsWorkspace } from "@cdktf/provider-azurerm/lib/log-analytics-workspace";
import { ApplicationInsights } from "@cdktf/provider-azurerm/lib/application-insights";
import type { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import type { AmlFunctionDeploymentProps } from "./deployment-props";
import type { DerivedNames, NameClaim } from "../naming";
import type { PrivateEndpointNeed } from "../network/private-endpoint";
import { IServicePlanRef, ScoringPlan } from "../plan/scoring-plan";
import { IContainerRegistryRef, ScoringRegistry } from "../registry/scoring-registry";
import { useRegistry } from "../registry/registry-use";
import { createSecureStorageAccount } from "../security/secure-storage-account";
import { BuiltInRole, grantRole } from "../security/role-assignment";
import { RegistrySku } from "../skus";
import type { DeclaredNeeds } from "./declared-needs";
import type { ResolvedProps } from "./validate-props";

/** The deployment's own resources, and what they need. */
export interface CoreResources {
  readonly resourceGroupName: string;
  readonly identity: UserAssignedIdentity;
  readonly registry: IContainerRegistryRef;
  /** The registry's private endpoint, when this deployment makes the registry private. */
  readonly registryEndpoint?: PrivateEndpointNeed;
  readonly servicePlan: IServicePlanRef;
  readonly hostStorage: StorageAccount;
  readonly workspaceId: string;
  readonly insights: ApplicationInsights;
  /** The names the deployment derives, the host storage's endpoints and diagnostics, and the identity's roles. */
  readonly needs: DeclaredNeeds;
}

/** Creates the deployment's own resources under `scope`. */
export function createCoreResources(scope: Construct, owner: string, props: AmlFunctionDeploymentProps, resolved: ResolvedProps, names: DerivedNames): CoreResources {
  const { location, tags, network } = resolved;
  const resourceGroupName = props.resourceGroup
    ? props.resourceGroup.name
    : new ResourceGroup(scope, "resource-group", { name: names.resourceGroup, location, tags }).name;
  const rg = resourceGroupName;

  const identity = new UserAssignedIdentity(scope, "identity", { name: names.identity, location, resourceGroupName: rg, tags });

  const registry = props.registry ?? new ScoringRegistry(scope, "registry", {
    name: names.containerRegistry, location, resourceGroupName: rg, sku: resolved.registrySku ?? (network === undefined ? undefined : RegistrySku.PREMIUM), tags,
  });
  const planSku = resolved.planSku;
  const servicePlan = props.servicePlan ?? new ScoringPlan(scope, "plan", {
    name: names.servicePlan, location, resourceGroupName: rg, sku: planSku,
    maximumElasticWorkerCount: planSku.isElasticPremium ? props.scaling?.maximumElasticWorkerCount : undefined, tags,
  });

  // Host storage through the identity (no key). No blob versioning: the host rewrites its lease,
  // timer and scan-state blobs every few seconds, and each write would keep a version.
  const hostStorage = createSecureStorageAccount(scope, "host-storage", {
    name: names.hostStorage, location, resourceGroupName: rg, tags, blobVersioning: false, networkAccess: network === undefined ? undefined : "private",
  });

  // Workspace-based Application Insights that accepts Azure AD-authenticated telemetry only. The
  // workspace this deployment creates accepts Azure AD-authenticated ingestion and queries only
  // (`local_authentication_enabled = false`; `local_authentication_disabled` is deprecated in
  // 4.55): App Insights sends with the identity, diagnostic settings are Azure's own pipeline.
  const workspaceId = props.logAnalyticsWorkspaceId ?? new LogAnalyticsWorkspace(scope, "logs", {
    name: names.logAnalytics, location, resourceGroupName: rg, sku: "PerGB2018", retentionInDays: 30,
    localAuthenticationEnabled: false, tags,
  }).id;
  const insights = new ApplicationInsights(scope, "insights", {
    name: names.appInsights, location, resourceGroupName: rg, applicationType: "other",
    workspaceId, localAuthenticationDisabled: true, tags,
  });
  const registryEndpoint = useRegistry(registry, owner, network !== undefined, workspaceId);

  // The identity pulls the image, runs the host on its storage (the three data roles the host
  // needs) and publishes telemetry. No Storage Account Contributor on host storage for blob
  // triggers: the WebJobs SDK's blob listener only reads and writes blobs and queues in host
  // storage (scan state, dispatch queue); the management calls it makes (blob service properties)
  // go to the watched account, where the BlobTrigger grants a custom role with just those actions.
  const principal = identity.principalId;
  const dependencies = [
    grantRole(scope, "acr-pull", registry.id, BuiltInRole.ACR_PULL, principal),
    grantRole(scope, "host-blob", hostStorage.id, BuiltInRole.STORAGE_BLOB_DATA_OWNER, principal),
    grantRole(scope, "host-queue", hostStorage.id, BuiltInRole.STORAGE_QUEUE_DATA_CONTRIBUTOR, principal),
    grantRole(scope, "host-table", hostStorage.id, BuiltInRole.STORAGE_TABLE_DATA_CONTRIBUTOR, principal),
    grantRole(scope, "insights-publish", insights.id, BuiltInRole.MONITORING_METRICS_PUBLISHER, principal),
  ];
  const needs: DeclaredNeeds = {
    nameClaims: [{ claims: derivedNameClaims(resolved.base, names, props) }],
    dependencies,
    privateEndpoints: (["blob", "queue", "table"] as const).map((subresource) => ({
      resourceName: names.hostStorage, resourceId: hostStorage.id, subresource, description: `the host storage account "${names.hostStorage}"`,
    })),
    diagnostics: [{ resource: hostStorage, resourceId: hostStorage.id, categories: "storageAccount" }],
  };
  return { resourceGroupName, identity, registry, registryEndpoint, servicePlan, hostStorage, workspaceId, insights, needs };
}

/**
 * Every name of the stack the deployment derives: the base (the same in two deployments means
 * every derived name collides) and the names of the resources it creates itself. Output ids are
 * not claimed: lib/output-ids.ts makes them unique, and the stack checks refuse any left twice.
 */
function derivedNameClaims(base: string, names: DerivedNames, props: AmlFunctionDeploymentProps): NameClaim[] {
  return [
    { kind: "base name", name: base },
    ...(props.resourceGroup ? [] : [{ kind: "resource group", name: names.resourceGroup }]),
    ...(props.registry ? [] : [{ kind: "container registry", name: names.containerRegistry }]),
    ...(props.servicePlan ? [] : [{ kind: "service plan", name: names.servicePlan }]),
    ...(props.logAnalyticsWorkspaceId ? [] : [{ kind: "Log Analytics workspace", name: names.logAnalytics }]),
    { kind: "managed identity", name: names.identity },
    { kind: "Application Insights", name: names.appInsights },
    { kind: "storage account", name: names.hostStorage },
    { kind: "function app", name: names.functionApp },
    { kind: "image repository", name: names.imageRepository },
  ];
}
