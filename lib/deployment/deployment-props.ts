/**
 * The props of AmlFunctionDeployment, in a file of their own so that the modules that validate
 * them and build the deployment's parts can read them without importing the construct.
 */
import type { IModelSource } from "../model/model-target";
import type { PythonEnvironment } from "../python-environment";
import type { PythonVersion } from "../python-version";
import type { PlanSku, RegistrySku } from "../skus";
import type { IContainerRegistryRef } from "../registry/scoring-registry";
import type { IServicePlanRef } from "../plan/scoring-plan";
import type { ITrigger } from "../triggers/trigger";
import type { IImageBuild } from "../image/build/image-build-target";
import type { NetworkOptions } from "../network/network-options";
import type { AlertOptions } from "../monitoring/alerts";

/** An existing resource group: an azurerm `ResourceGroup` or `DataAzurermResourceGroup` fits. */
export interface IResourceGroupRef {
  readonly name: string;
}

/** Elastic Premium scaling of the function app. */
export interface ScalingOptions {
  /**
   * Instances kept running for this app at all times (`elastic_instance_minimum`), 0–20.
   * @default 1
   */
  readonly alwaysReadyInstances?: number;
  /**
   * Extra instances warmed up ahead of scale-out (`pre_warmed_instance_count`), 0–20. Custom
   * images start slowly, so keeping one warm hides most cold starts.
   * @default 1
   */
  readonly prewarmedInstances?: number;
  /**
   * Upper bound on instances for this app (`app_scale_limit`).
   * @default the plan's maximum
   */
  readonly maximumInstances?: number;
  /**
   * Burst limit of the plan this deployment creates (1–100). For a shared plan, set it on
   * the {@link ScoringPlan}.
   * @default 20
   */
  readonly maximumElasticWorkerCount?: number;
}

/** Props of {@link AmlFunctionDeployment}. */
export interface AmlFunctionDeploymentProps {
  /** Azure region, e.g. `westeurope` or `West Europe`. */
  readonly location: string;
  /**
   * The trained model, available under `AZUREML_MODEL_DIR` when `init()` runs:
   * `ModelSource.fromLocalPath(path)` copies a file or folder into the image;
   * `ModelSource.fromAmlWorkspace(...)`, `.fromAmlRegistry(...)` and `.fromBlob(...)` leave it in
   * Azure and the app's identity downloads it when an instance starts.
   */
  readonly model: IModelSource;
  /** Path of the Azure ML entry script (`init()` and `run()`); its folder is the source directory. */
  readonly entryScript: string;
  /**
   * Python packages the entry script needs.
   * @default no packages beyond the standard library and the Functions host's own
   */
  readonly environment?: PythonEnvironment;
  /**
   * How the image is built and pushed: `ImageBuild.acrTask(options?)` builds in Azure with an
   * ACR task (no Docker engine where Terraform runs, no secrets); `ImageBuild.localDocker()`
   * builds with the Docker engine of the machine that runs `terraform apply`.
   * @default ImageBuild.acrTask()
   */
  readonly imageBuild?: IImageBuild;
  /** How the function is called: one or more of HttpTrigger, BlobTrigger, ServiceBusTrigger. */
  readonly triggers: ITrigger[];
  /**
   * Base of every resource name (2–20 lowercase letters, digits, hyphens). Globally unique
   * names add a suffix derived from the construct path, so the same app gives the same names.
   * Also the prefix of the stack outputs when another deployment of the stack has the same
   * construct id (a wrapper construct used twice).
   * @default the construct id made name-safe (lowercase; every run of other characters becomes
   * one hyphen, leading and trailing hyphens dropped: `Churn_Model` gives `churn-model`), under
   * the same rules: an id that gives more than 20 characters is refused, not cut; pass `name`
   */
  readonly name?: string;
  /**
   * Python version of the Functions base image (or its name, "3.11" or "3.12").
   * @default PythonVersion.PYTHON_3_11
   */
  readonly pythonVersion?: PythonVersion | string;
  /**
   * An existing resource group to deploy into.
   * @default a new resource group `rg-<name>`
   */
  readonly resourceGroup?: IResourceGroupRef;
  /**
   * A registry to push the image to; pass one {@link ScoringRegistry} to several deployments to
   * share it.
   * @default a new registry for this deployment
   */
  readonly registry?: IContainerRegistryRef;
  /**
   * SKU of the registry this deployment creates, or its name ("Basic", "Standard", "Premium").
   * @default RegistrySku.STANDARD; RegistrySku.PREMIUM with `network` (private endpoints)
   */
  readonly registrySku?: RegistrySku | string;
  /**
   * A plan to run on; pass one {@link ScoringPlan} to several deployments to share it.
   * @default a new Linux Elastic Premium plan for this deployment
   */
  readonly servicePlan?: IServicePlanRef;
  /**
   * SKU of the plan this deployment creates; with a `servicePlan` that does not tell its SKU,
   * the SKU it has (to decide which scaling settings apply). A PlanSku or its name ("EP2").
   * @default PlanSku.EP1
   */
  readonly planSku?: PlanSku | string;
  /** @default alwaysReadyInstances 1, prewarmedInstances 1, no app limit */
  readonly scaling?: ScalingOptions;
  /**
   * Log Analytics workspace id for Application Insights.
   * @default a new workspace (PerGB2018, 30 days)
   */
  readonly logAnalyticsWorkspaceId?: string;
  /**
   * Further app settings (no secrets: use Key Vault references). Settings the provider manages
   * itself are refused.
   * @default none
   */
  readonly appSettings?: { [key: string]: string };
  /**
   * Whether the function app accepts traffic from public networks.
   * @default true (the scoring endpoint must be reachable; HTTP calls still need a key); false
   * with `network`
   */
  readonly publicNetworkAccessEnabled?: boolean;
  /**
   * A private network for the deployment: the app is VNet-integrated (outbound, image pull) and
   * reached through a private endpoint; what the deployment creates (storage, registry, Service
   * Bus namespaces) has public network access off and a private endpoint in the platform's zones.
   * See the README, "Private network".
   * @default public endpoints (no VNet)
   */
  readonly network?: NetworkOptions;
  /**
   * Metric alerts on what can go wrong (dead-lettered and failed messages, HTTP 5xx, failing
   * health checks, failed invocations), sent to existing action groups.
   * @default no alerts
   */
  readonly alerts?: AlertOptions;
  /** @default no tags */
  readonly tags?: { [key: string]: string };
}
