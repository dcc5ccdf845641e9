import { Construct } from "constructs";
import { ContainerRegistry } from "@cdktf/provider-azurerm/lib/container-registry";
import { RegistrySku } from "../skus";
import { validateContainerRegistryName } from "../naming";

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
}

/**
 * A container registry with secure defaults: admin user off, anonymous pull off. Images are
 * pushed with a repository-scoped token and pulled with a managed identity, so no registry
 * password exists anywhere. Create one and pass it to several `AmlFunctionDeployment`s to share it.
 */
export class ScoringRegistry extends Construct implements IContainerRegistryRef {
  /** The underlying azurerm resource, for settings this construct does not expose. */
  public readonly resource: ContainerRegistry;
  public readonly sku: RegistrySku;

  constructor(scope: Construct, id: string, props: ScoringRegistryProps) {
    super(scope, id);
    validateContainerRegistryName(`ScoringRegistry "${id}"`, "name", props.name);
    this.sku = typeof props.sku === "string" ? RegistrySku.of(props.sku, `ScoringRegistry "${id}"`) : (props.sku ?? RegistrySku.STANDARD);
    const premium = this.sku === RegistrySku.PREMIUM;
    this.resource = new ContainerRegistry(this, "registry", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      sku: this.sku.name,
      adminEnabled: false,
      anonymousPullEnabled: false,
      // Retention of untagged manifests exists on Premium only.
      retentionPolicyInDays: premium ? (props.retentionDays ?? 7) : undefined,
      tags: props.tags,
    });
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
