import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { Lazy, TerraformOutput } from "cdktf";
import type { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import type { LinuxFunctionApp } from "@cdktf/provider-azurerm/lib/linux-function-app";
import { deriveNames, DerivedNames, uniqueSuffix } from "./naming";
import type { IModelSource } from "./model/model-target";
import { PythonEnvironment } from "./python-environment";
import { PythonVersion } from "./python-version";
import { PlanSku, RegistrySku } from "./skus";
import type { IContainerRegistryRef } from "./registry/scoring-registry";
import { registryNeeds } from "./registry/registry-use";
import type { IServicePlanRef } from "./plan/scoring-plan";
import { ITrigger } from "./triggers/trigger";
import { functionDefinitionFiles } from "./image/function-definitions";
import { stageBuildContext } from "./image/build-context";
import type { IImageBuild, ImageBuildBinding } from "./image/build/image-build-target";
import { scoringImageDir } from "./image/scoring-image-dir";
import { mergeAppSettings } from "./app-settings";
import { markNotForUsers } from "./validation/token-provenance";
import { registerStackChecks } from "./stack-checks";
import { sameConstructsCopy } from "./constructs-copy";
import { outputIdsFor } from "./output-ids";
import type { NetworkOptions } from "./network/network-options";
import type { AlertOptions } from "./monitoring/alerts";
import { appAuthSettings } from "./triggers/entra-id";
import type { DeploymentContext } from "./deployment/deployment-context";
import { applyNeeds, BoundPart, collectNeeds } from "./deployment/apply-needs";
import { createCoreResources } from "./deployment/core-resources";
import { createFunctionApp, functionAppSettings } from "./deployment/function-app";
import { validateProps } from "./deployment/validate-props";

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

/** Where the image puts things; the scoring-image Dockerfile sets the same values. */
const AML_APP_ROOT = "/var/azureml-app";
const AZUREML_MODEL_DIR = `${AML_APP_ROOT}/azureml-models`;
const PLATFORM = "linux/amd64";

/**
 * An Azure ML model and entry script served by a containerised Azure Function: registry, image
 * build and push, plan, host storage, identity, monitoring, the function app and its triggers.
 * No keys or passwords: the app pulls, reads storage and connects its triggers as a
 * user-assigned managed identity.
 */
export class AmlFunctionDeployment extends Construct {
  public readonly names: DerivedNames;
  public readonly location: string;
  public readonly resourceGroupName: string;
  public readonly identity: UserAssignedIdentity;
  public readonly registry: IContainerRegistryRef;
  public readonly servicePlan: IServicePlanRef;
  /** The scoring image in the registry (repository, fingerprint tag, reference). */
  public readonly image: ImageBuildBinding;
  public readonly functionApp: LinuxFunctionApp;
  /** Function app name (literal). */
  public readonly functionAppName: string;
  /** `https://<host>/api/<route>` of the first HTTP trigger, if any. */
  public readonly scoringUrl?: string;
  /** Logical id of this deployment's stack output `name` (lib/output-ids.ts). */
  private readonly outputId: (name: string) => string;

  constructor(scope: Construct, id: string, props: AmlFunctionDeploymentProps) {
    super(sameConstructsCopy(scope, `AmlFunctionDeployment "${id}"`), id);
    const owner = `AmlFunctionDeployment "${id}"`;
    // Every input is checked before anything is created.
    const resolved = validateProps(owner, id, props);
    const { location, base, tags, network } = resolved;
    this.location = location;

    // ---- The deployment's own resources, and the context its parts bind against.
    const suffix = uniqueSuffix(this.node.path);
    const names = (this.names = deriveNames(base, suffix));
    this.outputId = outputIdsFor(this, props.name);
    const core = createCoreResources(this, owner, props, resolved, names);
    this.resourceGroupName = core.resourceGroupName;
    this.identity = core.identity;
    this.registry = core.registry;
    this.servicePlan = core.servicePlan;
    this.functionAppName = names.functionApp;
    let app: LinuxFunctionApp | undefined;
    const context: DeploymentContext = {
      owner, deploymentId: id, location, resourceGroupName: this.resourceGroupName, tags: tags ?? {},
      identity: { id: this.identity.id, principalId: this.identity.principalId, clientId: this.identity.clientId },
      baseName: base, uniqueSuffix: suffix, names,
      // The parts bind before the app exists: its hostname resolves at synth.
      defaultHostname: Lazy.stringValue({ produce: () => app!.defaultHostname }),
      outputId: this.outputId,
      privateNetwork: network !== undefined,
    };

    // ---- The parts. The model and the triggers bind before the image is built: the baked model
    // and the function definitions go into it.
    const model = props.model.bind(new Construct(this, "model"), { ...context, modelDir: AZUREML_MODEL_DIR });
    const triggers = props.triggers.map((t, i) => t.bind(new Construct(this, `trigger-${i}`), context));
    const imageDir = scoringImageDir();
    const baseHostJson = JSON.parse(fs.readFileSync(path.join(imageDir, "host.json"), "utf8")) as Record<string, unknown>;
    const buildArgs = { AZUREML_ENTRY_SCRIPT: resolved.entryScript.relativePath, PYTHON_VERSION: resolved.pythonVersion.version };
    const imageBuild = resolved.imageBuild;
    const buildContext = stageBuildContext({
      owner,
      scoringImageDir: imageDir,
      model: model.bakedModel,
      entryScript: resolved.entryScript,
      requirementsTxt: resolved.requirementsTxt,
      generatedFiles: functionDefinitionFiles(owner, baseHostJson, triggers),
      buildArgs,
      platform: PLATFORM,
      packWhileHashing: imageBuild.stagesContextFolder === true,
    });
    this.image = imageBuild.bind(new Construct(this, "image"), {
      ...context, registry: this.registry, repository: names.imageRepository, credentialName: names.scopeMap, context: buildContext, buildArgs, platform: PLATFORM,
    });
    const parts: BoundPart[] = [
      { from: "model", needs: model },
      { from: "registry", needs: registryNeeds(core.registryEndpoint, this.image) },
      { from: "AmlFunctionDeployment", needs: core.needs },
      ...triggers.map((b): BoundPart => ({ from: `trigger "${b.functionName}"`, needs: b, functionName: b.functionName, httpPath: b.httpPath })),
      { from: "imageBuild", needs: this.image },
    ];
    const needs = collectNeeds(parts);

    // ---- The function app, configured with what the parts need.
    const appSettings = mergeAppSettings(owner, [
      functionAppSettings(this.identity.clientId, { appRoot: AML_APP_ROOT, modelDir: AZUREML_MODEL_DIR, entryScript: resolved.entryScript.relativePath }),
      ...needs.appSettings,
      { from: "appSettings", settings: props.appSettings },
    ]);
    const functionApp = createFunctionApp(this, {
      name: names.functionApp, location, resourceGroupName: this.resourceGroupName, servicePlan: this.servicePlan, planSku: resolved.planSku, scaling: resolved.scaling,
      hostStorage: core.hostStorage, identity: this.identity, insights: core.insights, registry: this.registry, image: this.image, appSettings,
      authSettingsV2: appAuthSettings(owner, parts),
      network, publicNetworkAccessEnabled: props.publicNetworkAccessEnabled, tags,
      // The identity must be able to pull and reach storage before the first start, and the
      // image must be in the registry.
      dependsOn: needs.dependencies,
    });
    app = this.functionApp = functionApp.resource;
    applyNeeds(this, needs, functionApp, {
      owner, location, resourceGroupName: this.resourceGroupName, tags, nameProp: resolved.nameProp, baseName: base,
      workspaceId: core.workspaceId, alertNamePrefix: names.functionApp, network, alerts: resolved.alerts,
    });

    // ---- Outputs, prefixed so several deployments fit one stack (lib/output-ids.ts).
    this.output("function_app_name", app.name, "Name of the function app");
    this.output("default_hostname", app.defaultHostname, "Default hostname of the function app");
    const http = triggers.find((b) => b.httpPath !== undefined);
    if (http) {
      this.scoringUrl = `https://${app.defaultHostname}/${http.httpPath}`;
      this.output("scoring_url", this.scoringUrl, "HTTPS scoring URL (send the function key in x-functions-key unless the trigger is anonymous)");
    }
    this.output("image", this.image.imageReference, "The scoring image: registry/repository:fingerprint");
    registerStackChecks(this);
    // What this deployment made is not for user values, except what it hands out.
    markNotForUsers(resolved.libraryTokensFrom, [this.resourceGroupName, this.scoringUrl, this.image]);
  }

  private output(name: string, value: string, description: string): void {
    new TerraformOutput(this, `output-${name}`, { value, description }).overrideLogicalId(this.outputId(name));
  }
}
