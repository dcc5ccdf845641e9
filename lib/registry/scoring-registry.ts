import { Construct } from "constructs";
import { ContainerRegistry } from "@cdktf/provider-azurerm/lib/container-registry";
import { NOT_A_REGISTRY_SKU, RegistrySku } from "../skus";
import { coerce } from "../validation/enum-like";
import { checkPropsObject, invalid } from "../errors";
import { validateContainerRegistryName, validateResourceGroupName } from "../naming";
import { validateTags } from "../validation/tags";
import { refuseForgedTokens } from "../validation/token-provenance";
import { validateResourceId } from "../validation/resource-id";
import { addDiagnosticSetting, ALL_LOGS_AND_METRICS } from "../monitoring/diagnostic-settings";
import { sameConstructsCopy } from "../constructs-copy";
import { normalizeLocation } from "../azure-regions";
import type { PrivateEndpointNeed } from "../network/private-endpoint";

/**
 * The parts of a container registry a deployment needs. An azurerm `ContainerRegistry`,
 * a `DataAzurermContainerRegistry` (an existing registry) and a {@link ScoringRegistry} all fit.
 */
export interface IContainerRegistryRef {
  readonly id: string;
  readonly name: string;
  readonly loginServer: string;
  readonly resourceGroupName: string;
}

/** Props of {@link ScoringRegistry}. */
export interface ScoringRegistryProps {
  /** Globally unique registry name: 5–50 lowercase letters and digits. */
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  /**
   * Registry SKU. Basic has no content trust or retention and is flagged by scanners.
   * @default RegistrySku.STANDARD
   */
  readonly sku?: RegistrySku | string;
  /**
   * Days untagged manifests are kept before deletion (Premium only).
   * @default 7 on Premium, not set otherwise
   */
  readonly retentionDays?: number;
  /** @default no tags */
  readonly tags?: { [key: string]: string };
  /**
   * Log Analytics workspace that receives the registry's logs (`allLogs`: logins, pushes, pulls)
   * and metrics through a diagnostic setting.
   * @default the workspace of the first AmlFunctionDeployment that uses this registry
   */
  readonly logAnalyticsWorkspaceId?: string;
}

/**
 * A container registry with secure defaults: admin user off, anonymous pull off, logs and
 * metrics sent to Log Analytics. Images are pushed with a repository-scoped token and pulled with a
 * managed identity, so no registry password exists anywhere. Create one and pass it to several
 * `AmlFunctionDeployment`s to share it.
 *
 * Pull rights: each app's identity gets AcrPull on the whole registry. Repository-scoped pull
 * (ABAC "repository permissions" with the Container Registry Repository Reader role and a
 * repository condition) needs the registry's role-assignment mode set to ABAC, which
 * `azurerm_container_registry` cannot express in azurerm 4.55 (no such argument), and an AcrPull
 * assignment is not narrowed by conditions on a registry in the default mode. See docs/security.md,
 * "Defaults a scanner will still flag".
 */
export class ScoringRegistry extends Construct implements IContainerRegistryRef {
  /** The underlying azurerm resource, for settings this construct does not expose. */
  public readonly resource: ContainerRegistry;
  public readonly sku: RegistrySku;
  private diagnostics?: string;
  private readonly registryName: string;
  /** The first deployment that made the registry private, and the first that uses it publicly. */
  private privateUser?: string;
  private publicUser?: string;

  constructor(scope: Construct, id: string, props: ScoringRegistryProps) {
    super(sameConstructsCopy(scope, `ScoringRegistry "${id}"`), id);
    const owner = `ScoringRegistry "${id}"`;
    checkPropsObject(owner, props, "props are required", "ScoringRegistryProps ({ name, location, resourceGroupName, ... })");
    refuseForgedTokens(owner, "", props);
    validateContainerRegistryName(owner, "name", props.name);
    // Written into the Terraform configuration as given: checked like a deployment's own props.
    validateResourceGroupName(owner, "resourceGroupName", props.resourceGroupName);
    normalizeLocation(owner, "location", props.location);
    const tags = validateTags(owner, "tags", props.tags);
    if (props.logAnalyticsWorkspaceId !== undefined) {
      validateResourceId(owner, "logAnalyticsWorkspaceId", props.logAnalyticsWorkspaceId, "Microsoft.OperationalInsights/workspaces");
    }
    this.sku = coerce(owner, "sku", props.sku, RegistrySku, RegistrySku.STANDARD, NOT_A_REGISTRY_SKU);
    const premium = this.sku === RegistrySku.PREMIUM;
    this.registryName = props.name;
    this.resource = new ContainerRegistry(this, "registry", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      sku: this.sku.name,
      adminEnabled: false,
      anonymousPullEnabled: false,
      // Retention of untagged manifests exists on Premium only.
      retentionPolicyInDays: premium ? (props.retentionDays ?? 7) : undefined,
      tags,
    });
    if (props.logAnalyticsWorkspaceId !== undefined) this.sendLogsTo(props.logAnalyticsWorkspaceId);
  }

  /**
   * Sends the registry's logs and metrics to a Log Analytics workspace. Only the first call has
   * an effect (a shared registry gets one diagnostic setting, from `logAnalyticsWorkspaceId` or the
   * first deployment that uses it): Azure refuses two settings sending the same categories to one
   * workspace.
   */
  public sendLogsTo(workspaceId: string): void {
    if (this.diagnostics !== undefined) return;
    this.diagnostics = workspaceId;
    addDiagnosticSetting(this, "diagnostics", this.resource.id, workspaceId, ALL_LOGS_AND_METRICS);
  }

  /**
   * Called by a deployment on a private network: turns public network access off (trusted Azure
   * services, such as an ACR task with a system-assigned identity, still pass) and returns the
   * private endpoint the registry needs, on the first call only: the deployments sharing it reach
   * it through that endpoint and its DNS record. The caller checks the SKU (Premium). Refused
   * when a deployment without a network uses the registry too: it would pull and push over the
   * public endpoint.
   */
  public usePrivateNetwork(user: string): PrivateEndpointNeed | undefined {
    if (this.publicUser !== undefined) this.refuseMix(user, this.publicUser);
    if (this.privateUser !== undefined) return undefined;
    this.privateUser = user;
    this.resource.publicNetworkAccessEnabled = false;
    this.resource.networkRuleBypassOption = "AzureServices";
    return { resourceName: this.registryName, resourceId: this.resource.id, subresource: "registry", description: `the container registry "${this.registryName}"` };
  }

  /** Called by a deployment without a network: refused when the registry was made private. */
  public usePublicNetwork(user: string): void {
    if (this.privateUser !== undefined) this.refuseMix(this.privateUser, user);
    this.publicUser ??= user;
  }

  private refuseMix(privateUser: string, publicUser: string): never {
    return invalid(privateUser, "network", "(set)", `the registry "${this.registryName}" is shared with ${publicUser}, which has no network and reaches the registry over its public endpoint, which a private network closes`, "network on every deployment that shares a ScoringRegistry, or on none of them");
  }

  public get id(): string {
    return this.resource.id;
  }
  public get name(): string {
    return this.resource.name;
  }
  public get loginServer(): string {
    return this.resource.loginServer;
  }
  public get resourceGroupName(): string {
    return this.resource.resourceGroupName;
  }
}
