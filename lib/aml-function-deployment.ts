import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { ITerraformDependable, Lazy, TerraformOutput, TerraformStack, Token } from "cdktf";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import { LogAnalyticsWorkspace } from "@cdktf/provider-azurerm/lib/log-analytics-workspace";
import { ApplicationInsights } from "@cdktf/provider-azurerm/lib/application-insights";
import { LinuxFunctionApp } from "@cdktf/provider-azurerm/lib/linux-function-app";
import { checkPropsObject, invalid } from "./errors";
import { normalizeLocation } from "./azure-regions";
import { knownInput } from "./existing-resources";
import { claimNames, deriveNames, NameClaim, DerivedNames, uniqueSuffix, validateDeploymentBaseName, validateResourceGroupName } from "./naming";
import { isModelSource } from "./model/model-source";
import type { IModelSource } from "./model/model-target";
import { resolveEntryScript } from "./entry-script";
import { PythonEnvironment } from "./python-environment";
import { PythonVersion } from "./python-version";
import { PlanSku, RegistrySku } from "./skus";
import { IContainerRegistryRef, ScoringRegistry } from "./registry/scoring-registry";
import { DEFAULT_MAXIMUM_ELASTIC_WORKER_COUNT, IServicePlanRef, ScoringPlan } from "./plan/scoring-plan";
import { createSecureStorageAccount } from "./security/secure-storage-account";
import { BuiltInRole, grantRole } from "./security/role-assignment";
import { ITrigger, ITriggerTarget, TriggerBinding, TriggerIdentity } from "./triggers/trigger";
import { functionDefinitionFiles, HEALTH_CHECK_EVICTION_TIME_IN_MIN, HEALTH_CHECK_PATH } from "./image/function-definitions";
import { ImageBuildContext } from "./image/build-context";
import { ImageBuild, isImageBuild } from "./image/build/image-build";
import type { IImageBuild, ImageBuildBinding } from "./image/build/image-build-target";
import { scoringImageDir } from "./image/scoring-image-dir";
import { mergeAppSettings } from "./app-settings";
import { ensureProviders } from "./providers";
import { validateTags } from "./validation/tags";
import { validateHostName, validateResourceId } from "./validation/resource-id";
import { addDiagnosticSetting, addDiagnosticsForCreatedResources, FUNCTION_APP_CATEGORIES } from "./monitoring/diagnostic-settings";
import { registerStackChecks } from "./stack-checks";
import { sameConstructsCopy } from "./constructs-copy";

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
   * @default the construct id
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
   * @default RegistrySku.STANDARD
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
   * @default true (the scoring endpoint must be reachable; HTTP calls still need a key)
   */
  readonly publicNetworkAccessEnabled?: boolean;
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

  constructor(scope: Construct, id: string, props: AmlFunctionDeploymentProps) {
    super(sameConstructsCopy(scope, `AmlFunctionDeployment "${id}"`), id);
    const owner = `AmlFunctionDeployment "${id}"`;

    // ---- Validate every input before creating anything.
    checkPropsObject(owner, props, "props are required", "AmlFunctionDeploymentProps ({ location, model, entryScript, environment, triggers, ... })");
    this.location = normalizeLocation(owner, "location", props.location);
    // The default name is the construct id made name-safe ("Churn_Model" -> "churn-model").
    const base = props.name ?? id.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 20).replace(/^-+|-+$/g, "");
    if (Token.isUnresolved(base)) invalid(owner, "name", base, "names are derived at synth time", "a literal string");
    const nameProp = props.name === undefined ? `name (defaulted from the construct id "${id}"; pass name)` : "name";
    validateDeploymentBaseName(owner, nameProp, base);
    if (!Array.isArray(props.triggers) || props.triggers.length === 0) {
      invalid(owner, "triggers", props.triggers, "at least one trigger is required", "a non-empty list of HttpTrigger, BlobTrigger or ServiceBusTrigger");
    }
    props.triggers.forEach((t, i) => {
      if (!t || typeof (t as ITrigger).bind !== "function") {
        invalid(owner, `triggers[${i}]`, t, "not a trigger", "new HttpTrigger(...), new BlobTrigger(...) or new ServiceBusTrigger(...)");
      }
    });
    if (!isModelSource(props.model)) invalid(owner, "model", props.model, "not a model source", "ModelSource.fromLocalPath(path), .fromAmlWorkspace({ workspaceId, name, version }), .fromAmlRegistry({ registryId, name, version }) or .fromBlob({ storageAccountId, container, path })");
    if (props.imageBuild !== undefined && !isImageBuild(props.imageBuild)) {
      invalid(owner, "imageBuild", props.imageBuild, "not a build mode", "ImageBuild.acrTask(options?) or ImageBuild.localDocker()");
    }
    const environment = props.environment ?? PythonEnvironment.fromPipPackages([]);
    if (!(environment instanceof PythonEnvironment)) {
      invalid(owner, "environment", props.environment, "not a PythonEnvironment", "PythonEnvironment.fromPipPackages([...]), .fromRequirementsFile(path) or .fromCondaFile(path)");
    }
    const pythonVersion = typeof props.pythonVersion === "string" ? PythonVersion.of(props.pythonVersion, owner) : (props.pythonVersion ?? PythonVersion.PYTHON_3_11);
    if (!(pythonVersion instanceof PythonVersion)) {
      invalid(owner, "pythonVersion", props.pythonVersion, "not a PythonVersion", "PythonVersion.PYTHON_3_11, PythonVersion.PYTHON_3_12 or PythonVersion.of(\"3.11\")");
    }
    const givenPlanSku: PlanSku | undefined = typeof props.planSku === "string" ? PlanSku.of(props.planSku, owner) : props.planSku;
    if (givenPlanSku !== undefined && !(givenPlanSku instanceof PlanSku)) invalid(owner, "planSku", givenPlanSku, "not a PlanSku", PlanSku.all().join(", "));
    const registrySku: RegistrySku | undefined = typeof props.registrySku === "string" ? RegistrySku.of(props.registrySku, owner) : props.registrySku;
    if (registrySku !== undefined && !(registrySku instanceof RegistrySku)) invalid(owner, "registrySku", registrySku, "not a RegistrySku", RegistrySku.all().join(", "));
    const entryScript = resolveEntryScript(owner, props.entryScript);
    const requirementsTxt = environment.requirements(owner);
    const condaPython = environment.condaPythonVersion;
    if (condaPython !== undefined && !pythonVersion.version.startsWith(condaPython) && !condaPython.startsWith(pythonVersion.version)) {
      invalid(owner, "environment", condaPython, `the conda file asks for python ${condaPython} but the image runs Python ${pythonVersion.version}`, `set pythonVersion to match, or python=${pythonVersion.version} in the conda file`);
    }
    const planSku = props.servicePlan?.sku ?? givenPlanSku ?? PlanSku.EP1;
    const scaling = validateScaling(owner, props.scaling ?? {}, planSku, props.servicePlan !== undefined);
    if (props.servicePlan && givenPlanSku && props.servicePlan.sku && props.servicePlan.sku !== givenPlanSku) {
      invalid(owner, "planSku", givenPlanSku.name, `the given servicePlan is ${props.servicePlan.sku.name}`, "leave planSku unset when passing a ScoringPlan");
    }
    checkExistingResources(owner, this.location, props);
    if (props.resourceGroup && !Token.isUnresolved(props.resourceGroup.name)) {
      validateResourceGroupName(owner, "resourceGroup.name", props.resourceGroup.name);
    }
    // Ids and names from the caller are written into the Terraform configuration: they must be
    // what they claim to be (a line break in one would add HCL of the caller's choosing to cdk.tf).
    if (props.logAnalyticsWorkspaceId !== undefined) {
      validateResourceId(owner, "logAnalyticsWorkspaceId", props.logAnalyticsWorkspaceId, "Microsoft.OperationalInsights/workspaces");
    }
    if (props.registry !== undefined) validateRegistryRef(owner, props.registry);
    if (props.servicePlan !== undefined) validateResourceId(owner, "servicePlan.id", props.servicePlan.id, "Microsoft.Web/serverFarms");
    // Tag values are escaped for Terraform (`${` stays literal); names and lengths follow Azure's rules.
    const tags = validateTags(owner, "tags", props.tags);

    const suffix = uniqueSuffix(this.node.path);
    this.names = deriveNames(base, suffix);
    const names = this.names;
    const imageBuild = props.imageBuild ?? ImageBuild.acrTask();
    claimNames(TerraformStack.of(this), this.node.path, owner, nameProp, base, derivedNameClaims(id, base, names, props, imageBuild.claimedNames?.(base, suffix) ?? []));

    // ---- Resource group, identity, registry, plan.
    this.resourceGroupName = props.resourceGroup
      ? props.resourceGroup.name
      : new ResourceGroup(this, "resource-group", { name: names.resourceGroup, location: this.location, tags }).name;
    const rg = this.resourceGroupName;

    this.identity = new UserAssignedIdentity(this, "identity", { name: names.identity, location: this.location, resourceGroupName: rg, tags });
    const identity: TriggerIdentity = { id: this.identity.id, principalId: this.identity.principalId, clientId: this.identity.clientId };

    this.registry = props.registry ?? new ScoringRegistry(this, "registry", {
      name: names.containerRegistry, location: this.location, resourceGroupName: rg, sku: registrySku, tags,
    });
    this.servicePlan = props.servicePlan ?? new ScoringPlan(this, "plan", {
      name: names.servicePlan, location: this.location, resourceGroupName: rg, sku: planSku,
      maximumElasticWorkerCount: planSku.isElasticPremium ? props.scaling?.maximumElasticWorkerCount : undefined, tags,
    });

    // ---- Host storage through the identity (no key): the three data roles the host needs.
    // No blob versioning on host storage: the host rewrites its lease, timer and scan-state blobs
    // every few seconds, and each write would keep a version.
    const hostStorage = createSecureStorageAccount(this, "host-storage", { name: names.hostStorage, location: this.location, resourceGroupName: rg, tags, blobVersioning: false });
    // ---- The model: baked into the image, or fetched by the identity when an instance starts.
    const modelBinding = props.model.bind(new Construct(this, "model"), {
      owner, location: this.location, resourceGroupName: rg, tags: tags ?? {}, identity, modelDir: AZUREML_MODEL_DIR,
    });

    const grants: ITerraformDependable[] = [
      ...(modelBinding.dependencies ?? []),
      grantRole(this, "acr-pull", this.registry.id, BuiltInRole.ACR_PULL, identity.principalId),
      grantRole(this, "host-blob", hostStorage.id, BuiltInRole.STORAGE_BLOB_DATA_OWNER, identity.principalId),
      grantRole(this, "host-queue", hostStorage.id, BuiltInRole.STORAGE_QUEUE_DATA_CONTRIBUTOR, identity.principalId),
      grantRole(this, "host-table", hostStorage.id, BuiltInRole.STORAGE_TABLE_DATA_CONTRIBUTOR, identity.principalId),
    ];

    // ---- Monitoring: workspace-based Application Insights that accepts Azure AD-authenticated telemetry only.
    // The workspace this deployment creates accepts Azure AD-authenticated ingestion and queries
    // only (`local_authentication_enabled = false`; `local_authentication_disabled` is deprecated in 4.55):
    // App Insights sends with the identity, diagnostic settings are Azure's own pipeline.
    const workspaceId = props.logAnalyticsWorkspaceId ?? new LogAnalyticsWorkspace(this, "logs", {
      name: names.logAnalytics, location: this.location, resourceGroupName: rg, sku: "PerGB2018", retentionInDays: 30,
      localAuthenticationEnabled: false, tags,
    }).id;
    const insights = new ApplicationInsights(this, "insights", {
      name: names.appInsights, location: this.location, resourceGroupName: rg, applicationType: "other",
      workspaceId, localAuthenticationDisabled: true, tags,
    });
    grants.push(grantRole(this, "insights-publish", insights.id, BuiltInRole.MONITORING_METRICS_PUBLISHER, identity.principalId));

    // ---- Triggers bind before the image is built: their function definitions go into it.
    this.functionAppName = names.functionApp;
    let app: LinuxFunctionApp | undefined;
    const target: ITriggerTarget = {
      deploymentId: id,
      location: this.location,
      resourceGroupName: rg,
      tags: tags ?? {},
      identity,
      baseName: base,
      uniqueSuffix: suffix,
      defaultHostname: Lazy.stringValue({ produce: () => app!.defaultHostname }),
      outputId: (name: string) => outputId(id, name),
    };
    const bindings: TriggerBinding[] = props.triggers.map((t, i) => t.bind(new Construct(this, `trigger-${i}`), target));
    // No Storage Account Contributor on host storage for blob triggers: the WebJobs SDK's blob
    // listener only reads and writes blobs and queues in host storage (scan state, dispatch queue);
    // the management calls it makes (blob service properties) go to the watched account, where
    // the BlobTrigger grants a custom role with just those actions (lib/triggers/blob-trigger.ts).

    // ---- The image.
    const imageDir = scoringImageDir();
    const baseHostJson = JSON.parse(fs.readFileSync(path.join(imageDir, "host.json"), "utf8")) as Record<string, unknown>;
    const buildArgs = { AZUREML_ENTRY_SCRIPT: entryScript.relativePath, PYTHON_VERSION: pythonVersion.version };
    // Walked and hashed when the build mode asks for it, in the form it asks for.
    const context = new ImageBuildContext({
      owner,
      scoringImageDir: imageDir,
      model: modelBinding.bakedModel,
      entryScript,
      requirementsTxt,
      generatedFiles: functionDefinitionFiles(owner, baseHostJson, bindings),
      buildArgs,
      platform: PLATFORM,
    });
    this.image = imageBuild.bind(new Construct(this, "image"), {
      owner,
      location: this.location,
      resourceGroupName: rg,
      tags: tags ?? {},
      baseName: base,
      uniqueSuffix: suffix,
      registry: this.registry,
      repository: names.imageRepository,
      credentialName: names.scopeMap,
      context,
      buildArgs,
      platform: PLATFORM,
    });

    // ---- The function app.
    const appSettings = mergeAppSettings(owner, [
      {
        from: "AmlFunctionDeployment",
        settings: {
          // The image holds the code: don't mount /home over it.
          WEBSITES_ENABLE_APP_SERVICE_STORAGE: "false",
          // Host storage through the user-assigned identity (the provider adds __accountName).
          AzureWebJobsStorage__credential: "managedidentity",
          AzureWebJobsStorage__clientId: identity.clientId,
          // Application Insights with local auth off needs Azure AD-authenticated telemetry.
          APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${identity.clientId};Authorization=AAD`,
          AML_APP_ROOT,
          AZUREML_MODEL_DIR,
          AZUREML_ENTRY_SCRIPT: entryScript.relativePath,
        },
      },
      { from: "model", settings: modelBinding.appSettings },
      ...bindings.map((b) => ({ from: `trigger "${b.functionName}"`, settings: b.appSettings })),
      { from: "appSettings", settings: props.appSettings },
    ]);

    const elastic = planSku.isElasticPremium;
    app = new LinuxFunctionApp(this, "function-app", {
      name: names.functionApp,
      location: this.location,
      resourceGroupName: rg,
      servicePlanId: this.servicePlan.id,
      storageAccountName: hostStorage.name,
      storageUsesManagedIdentity: true,
      // Code comes from the image, so no Azure Files content share (it would need an account key).
      contentShareForceDisabled: true,
      functionsExtensionVersion: "~4",
      httpsOnly: true,
      publicNetworkAccessEnabled: props.publicNetworkAccessEnabled ?? true,
      ftpPublishBasicAuthenticationEnabled: false,
      webdeployPublishBasicAuthenticationEnabled: false,
      builtinLoggingEnabled: false,
      // No client_certificate_mode: client certificates are off (client_certificate_enabled
      // defaults to false), and a mode without them only draws scanner findings.
      identity: { type: "UserAssigned", identityIds: [identity.id] },
      keyVaultReferenceIdentityId: identity.id,
      siteConfig: {
        minimumTlsVersion: "1.2",
        scmMinimumTlsVersion: "1.2",
        ftpsState: "Disabled",
        http2Enabled: true,
        remoteDebuggingEnabled: false,
        alwaysOn: elastic ? undefined : true,
        preWarmedInstanceCount: elastic ? scaling.prewarmedInstances : undefined,
        elasticInstanceMinimum: elastic ? scaling.alwaysReadyInstances : undefined,
        appScaleLimit: scaling.maximumInstances,
        // The health function answers 503 until init() succeeded (it is retried with backoff);
        // an instance that stays unhealthy is taken out of rotation and, with more than one
        // instance, replaced after the eviction time.
        healthCheckPath: HEALTH_CHECK_PATH,
        healthCheckEvictionTimeInMin: HEALTH_CHECK_EVICTION_TIME_IN_MIN,
        containerRegistryUseManagedIdentity: true,
        containerRegistryManagedIdentityClientId: identity.clientId,
        applicationInsightsConnectionString: insights.connectionString,
        applicationStack: {
          docker: [{
            registryUrl: `https://${this.registry.loginServer}`,
            imageName: this.image.repository,
            imageTag: this.image.tag,
          }],
        },
      },
      appSettings,
      tags,
      // The identity must be able to pull and reach storage before the first start, and the
      // image must be in the registry.
      dependsOn: [...grants, ...bindings.flatMap((b) => b.dependencies ?? []), ...this.image.dependencies],
    });
    this.functionApp = app;

    // ---- Diagnostic settings: logs and metrics of what this deployment creates go to its workspace.
    addDiagnosticSetting(this, "function-app-diagnostics", app.id, workspaceId, FUNCTION_APP_CATEGORIES);
    if (this.registry instanceof ScoringRegistry) this.registry.sendLogsTo(workspaceId);
    addDiagnosticsForCreatedResources(this, workspaceId);

    // ---- Outputs (names prefixed with the construct id so several deployments fit one stack).
    this.output("function_app_name", app.name, "Name of the function app");
    this.output("default_hostname", app.defaultHostname, "Default hostname of the function app");
    const http = bindings.find((b) => b.httpPath !== undefined);
    if (http) {
      this.scoringUrl = `https://${app.defaultHostname}/${http.httpPath}`;
      this.output("scoring_url", this.scoringUrl, "HTTPS scoring URL (send the function key in x-functions-key unless the trigger is anonymous)");
    }
    this.output("image", this.image.imageReference, "The scoring image: registry/repository:fingerprint");

    // Last: the docker provider is needed only when the image build created docker_* resources.
    ensureProviders(this);
    registerStackChecks(this);
  }

  private output(name: string, value: string, description: string): void {
    new TerraformOutput(this, `output-${name}`, { value, description }).overrideLogicalId(outputId(this.node.id, name));
  }
}

/** Output ids are `<construct id made identifier-safe>_<name>`: "churn-model" -> "churn_model_scoring_url". */
function outputPrefix(deploymentId: string): string {
  return deploymentId.replace(/[^A-Za-z0-9_]/g, "_");
}

function outputId(deploymentId: string, name: string): string {
  return `${outputPrefix(deploymentId)}_${name}`;
}

/**
 * Every name of the stack this deployment derives: the base and the output prefix (the same in
 * two deployments means every derived name collides) and the resource names it creates.
 */
function derivedNameClaims(id: string, base: string, names: DerivedNames, props: AmlFunctionDeploymentProps, buildNames: NameClaim[]): NameClaim[] {
  return [
    { kind: "base name", name: base },
    { kind: "output id prefix", name: outputPrefix(id) },
    ...(props.resourceGroup ? [] : [{ kind: "resource group", name: names.resourceGroup }]),
    ...(props.registry ? [] : [{ kind: "container registry", name: names.containerRegistry }]),
    ...(props.servicePlan ? [] : [{ kind: "service plan", name: names.servicePlan }]),
    ...(props.logAnalyticsWorkspaceId ? [] : [{ kind: "Log Analytics workspace", name: names.logAnalytics }]),
    { kind: "managed identity", name: names.identity },
    // The build mode's own names (the ACR build's identity: a deployment named `<name>-build` would derive it).
    ...buildNames,
    { kind: "Application Insights", name: names.appInsights },
    { kind: "storage account", name: names.hostStorage },
    { kind: "function app", name: names.functionApp },
    { kind: "image repository", name: names.imageRepository },
  ];
}

/**
 * Checks the existing resources passed in where their properties are known at synth (literals,
 * a ScoringPlan, or the configuration of an azurerm resource construct): the plan's region, OS
 * and SKU family, the registry's admin user and anonymous pull. (Ids are checked with the other caller input below.)
 * Values only known at apply (data sources, references) are taken as they are; the README lists
 * what is not checked.
 */
function checkExistingResources(owner: string, location: string, props: AmlFunctionDeploymentProps): void {
  const plan = props.servicePlan as (IServicePlanRef & ConfiguredInputs) | undefined;
  const planLocation = plan === undefined ? undefined : knownInput(plan.location, plan.locationInput);
  if (typeof planLocation === "string") {
    const normalized = normalizeLocation(owner, "servicePlan.location", planLocation);
    if (normalized !== location) {
      invalid(owner, "servicePlan", planLocation, `the plan is in ${normalized} but the function app would be in ${location}; an app runs in its plan's region`, `a plan in ${location}, or location: "${normalized}"`);
    }
  }
  // An azurerm ServicePlan resource passed in: its configuration is known at synth.
  const osType = plan === undefined ? undefined : knownInput(plan.osTypeInput);
  if (typeof osType === "string" && osType.toLowerCase() !== "linux") {
    invalid(owner, "servicePlan.osType", osType, "the scoring image is a Linux container, which runs on Linux plans only", "a plan with osType \"Linux\"");
  }
  const skuName = plan === undefined ? undefined : knownInput(plan.skuNameInput);
  if (typeof skuName === "string" && /^(y1|fc1)$/i.test(skuName.trim())) {
    invalid(owner, "servicePlan.skuName", skuName, `${/^y1$/i.test(skuName.trim()) ? "Consumption (Y1)" : "Flex Consumption (FC1)"} plans cannot run custom containers`, `an Elastic Premium or Dedicated plan: ${PlanSku.all().join(", ")}`);
  }
  // An azurerm ContainerRegistry resource passed in: no shared password, no anonymous pulls.
  const registry = props.registry as (IContainerRegistryRef & ConfiguredInputs) | undefined;
  if (registry !== undefined && knownInput(registry.adminEnabledInput) === true) {
    invalid(owner, "registry.adminEnabled", true, "the admin user is a shared password for the whole registry; the deployment pulls and pushes with managed identities", "adminEnabled false (the default), or a ScoringRegistry");
  }
  if (registry !== undefined && knownInput(registry.anonymousPullEnabledInput) === true) {
    invalid(owner, "registry.anonymousPullEnabled", true, "anyone could pull the scoring image (and the model baked into it)", "anonymousPullEnabled false (the default), or a ScoringRegistry");
  }
}

/** The `<prop>Input` getters of an azurerm resource construct: the values its caller configured. */
interface ConfiguredInputs {
  readonly locationInput?: unknown;
  readonly osTypeInput?: unknown;
  readonly skuNameInput?: unknown;
  readonly adminEnabledInput?: unknown;
  readonly anonymousPullEnabledInput?: unknown;
}

interface ResolvedScaling {
  alwaysReadyInstances?: number;
  prewarmedInstances?: number;
  maximumInstances?: number;
}

function validateScaling(owner: string, s: ScalingOptions, sku: PlanSku, sharedPlan: boolean): ResolvedScaling {
  const count = (prop: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) invalid(owner, `scaling.${prop}`, v, "out of range", `a whole number from ${min} to ${max}`);
  };
  count("alwaysReadyInstances", s.alwaysReadyInstances, 0, 20);
  count("prewarmedInstances", s.prewarmedInstances, 0, 20);
  count("maximumInstances", s.maximumInstances, 1, 100);
  count("maximumElasticWorkerCount", s.maximumElasticWorkerCount, 1, 100);
  if (!sku.isElasticPremium) {
    for (const prop of ["alwaysReadyInstances", "prewarmedInstances", "maximumElasticWorkerCount"] as const) {
      if (s[prop] !== undefined) invalid(owner, `scaling.${prop}`, s[prop], `it applies to Elastic Premium plans only, the plan is ${sku.name}`, "leave it unset on Dedicated plans");
    }
    return { maximumInstances: s.maximumInstances };
  }
  if (sharedPlan && s.maximumElasticWorkerCount !== undefined) {
    invalid(owner, "scaling.maximumElasticWorkerCount", s.maximumElasticWorkerCount, "it is a setting of the plan, and this deployment uses a given servicePlan", "set maximumElasticWorkerCount on the ScoringPlan");
  }
  const resolved = { alwaysReadyInstances: s.alwaysReadyInstances ?? 1, prewarmedInstances: s.prewarmedInstances ?? 1, maximumInstances: s.maximumInstances };
  const burst = s.maximumElasticWorkerCount ?? DEFAULT_MAXIMUM_ELASTIC_WORKER_COUNT;
  if (!sharedPlan && resolved.alwaysReadyInstances > burst) {
    invalid(owner, "scaling.alwaysReadyInstances", resolved.alwaysReadyInstances, `more than the plan's maximumElasticWorkerCount (${burst})`, `at most ${burst}`);
  }
  if (resolved.maximumInstances !== undefined && resolved.maximumInstances < resolved.alwaysReadyInstances) {
    invalid(owner, "scaling.maximumInstances", resolved.maximumInstances, `fewer than alwaysReadyInstances (${resolved.alwaysReadyInstances})`, `at least ${resolved.alwaysReadyInstances}`);
  }
  return resolved;
}

/** A registry passed in: its id, login server and names reach the Terraform configuration. */
function validateRegistryRef(owner: string, registry: IContainerRegistryRef): void {
  for (const key of ["id", "name", "loginServer", "resourceGroupName"] as const) {
    if (typeof registry?.[key] !== "string") {
      invalid(owner, `registry.${key}`, registry?.[key], "missing", "a ScoringRegistry, an azurerm ContainerRegistry or DataAzurermContainerRegistry, or an object with id, name, loginServer and resourceGroupName strings");
    }
  }
  validateResourceId(owner, "registry.id", registry.id, "Microsoft.ContainerRegistry/registries");
  validateHostName(owner, "registry.loginServer", registry.loginServer);
  if (!Token.isUnresolved(registry.name) && !/^[A-Za-z0-9]{5,50}$/.test(registry.name)) {
    invalid(owner, "registry.name", registry.name, "not a container registry name", "5-50 letters and digits");
  }
  if (!Token.isUnresolved(registry.resourceGroupName)) validateResourceGroupName(owner, "registry.resourceGroupName", registry.resourceGroupName);
}
