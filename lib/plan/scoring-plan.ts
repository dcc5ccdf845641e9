import { Construct } from "constructs";
import { ServicePlan } from "@cdktf/provider-azurerm/lib/service-plan";
import { NOT_A_PLAN_SKU, PlanSku } from "../skus";
import { coerce } from "../validation/enum-like";
import { validateResourceGroupName, validateServicePlanName } from "../naming";
import { checkPropsObject, invalid } from "../errors";
import { validateTags } from "../validation/tags";
import { refuseForgedTokens } from "../validation/token-provenance";
import { sameConstructsCopy } from "../constructs-copy";
import { normalizeLocation } from "../azure-regions";

/**
 * The parts of an App Service plan a deployment needs. An azurerm `ServicePlan` or
 * `DataAzurermServicePlan` fits; a {@link ScoringPlan} also tells its SKU, which decides
 * whether the Elastic Premium scaling settings apply.
 */
export interface IServicePlanRef {
  readonly id: string;
  /** The plan's SKU when known at synth time. */
  readonly sku?: PlanSku;
  /** The plan's region when known at synth time (a function app must be in its plan's region). */
  readonly location?: string;
}

/** Instances an Elastic Premium plan may burst to when nothing else is said. */
export const DEFAULT_MAXIMUM_ELASTIC_WORKER_COUNT = 20;

/** Props of {@link ScoringPlan}. */
export interface ScoringPlanProps {
  /** Plan name: 1–60 letters, digits, `-` and `_`. */
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  /**
   * Plan SKU: Elastic Premium (EP1–EP3) or Dedicated (P0v3–P3v3). Custom containers do not
   * run on Consumption or Flex Consumption.
   * @default PlanSku.EP1
   */
  readonly sku?: PlanSku | string;
  /**
   * Instances an Elastic Premium plan may burst to (1–100).
   * @default 20
   */
  readonly maximumElasticWorkerCount?: number;
  /** @default no tags */
  readonly tags?: { [key: string]: string };
}

/** A Linux plan for containerised function apps; share one between several deployments. */
export class ScoringPlan extends Construct implements IServicePlanRef {
  public readonly resource: ServicePlan;
  public readonly sku: PlanSku;
  public readonly location: string;

  constructor(scope: Construct, id: string, props: ScoringPlanProps) {
    super(sameConstructsCopy(scope, `ScoringPlan "${id}"`), id);
    const owner = `ScoringPlan "${id}"`;
    checkPropsObject(owner, props, "props are required", "ScoringPlanProps ({ name, location, resourceGroupName, ... })");
    refuseForgedTokens(owner, "", props);
    this.location = props.location;
    validateServicePlanName(owner, "name", props.name);
    // Written into the Terraform configuration as given: checked like a deployment's own props.
    validateResourceGroupName(owner, "resourceGroupName", props.resourceGroupName);
    normalizeLocation(owner, "location", props.location);
    const tags = validateTags(owner, "tags", props.tags);
    this.sku = coerce(owner, "sku", props.sku, PlanSku, PlanSku.EP1, NOT_A_PLAN_SKU);
    const maxWorkers = props.maximumElasticWorkerCount;
    if (maxWorkers !== undefined) {
      if (!this.sku.isElasticPremium) {
        invalid(owner, "maximumElasticWorkerCount", maxWorkers, `it applies to Elastic Premium plans only, this plan is ${this.sku.name}`, "leave it unset for Dedicated plans");
      }
      if (!Number.isInteger(maxWorkers) || maxWorkers < 1 || maxWorkers > 100) {
        invalid(owner, "maximumElasticWorkerCount", maxWorkers, "out of range", "a whole number from 1 to 100");
      }
    }
    this.resource = new ServicePlan(this, "plan", {
      name: props.name,
      location: props.location,
      resourceGroupName: props.resourceGroupName,
      osType: "Linux",
      skuName: this.sku.name,
      maximumElasticWorkerCount: this.sku.isElasticPremium ? (maxWorkers ?? DEFAULT_MAXIMUM_ELASTIC_WORKER_COUNT) : undefined,
      tags,
    });
  }

  public get id(): string {
    return this.resource.id;
  }
}
