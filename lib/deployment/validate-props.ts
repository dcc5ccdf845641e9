/**
 * Checks every prop of an AmlFunctionDeployment before anything is created, and resolves the
 * defaults: a bad prop fails at synth with a message naming it, the value and what is allowed.
 */
import { Token } from "cdktf";
import type { AmlFunctionDeploymentProps, ScalingOptions } from "./deployment-props";
import { normalizeLocation } from "../azure-regions";
import { ResolvedEntryScript, resolveEntryScript } from "../entry-script";
import { checkPropsObject, invalid } from "../errors";
import { knownInput } from "../existing-resources";
import { ImageBuild, isImageBuild } from "../image/build/image-build";
import type { IImageBuild } from "../image/build/image-build-target";
import { isModelSource } from "../model/model-source";
import { validateDeploymentBaseName, validateResourceGroupName } from "../naming";
import { AlertOptions, validateAlertOptions } from "../monitoring/alerts";
import { checkPrivateNetworkInputs, NetworkOptions, validateNetworkOptions } from "../network/network-options";
import { DEFAULT_MAXIMUM_ELASTIC_WORKER_COUNT, IServicePlanRef } from "../plan/scoring-plan";
import { PythonEnvironment } from "../python-environment";
import { NOT_A_PYTHON_VERSION, PythonVersion } from "../python-version";
import { IContainerRegistryRef, ScoringRegistry } from "../registry/scoring-registry";
import { NOT_A_PLAN_SKU, NOT_A_REGISTRY_SKU, PlanSku, RegistrySku } from "../skus";
import type { ITrigger } from "../triggers/trigger";
import { validateHostName, validateResourceId } from "../validation/resource-id";
import { coerce } from "../validation/enum-like";
import { validateTags } from "../validation/tags";
import { nextTokenNumber, refuseForgedTokens } from "../validation/token-provenance";

/** Scaling settings of the function app, after the plan's rules and defaults. */
export interface ResolvedScaling {
  readonly alwaysReadyInstances?: number;
  readonly prewarmedInstances?: number;
  readonly maximumInstances?: number;
}

/** The props once checked, with their defaults. */
export interface ResolvedProps {
  /** Normalized region name. */
  readonly location: string;
  /** Base of every derived name. */
  readonly base: string;
  /** How messages name the prop `base` comes from (`name`, or the construct id it defaults to). */
  readonly nameProp: string;
  readonly entryScript: ResolvedEntryScript;
  readonly requirementsTxt: string;
  readonly pythonVersion: PythonVersion;
  readonly imageBuild: IImageBuild;
  readonly planSku: PlanSku;
  readonly registrySku?: RegistrySku;
  readonly scaling: ResolvedScaling;
  readonly tags?: { [key: string]: string };
  readonly network?: NetworkOptions;
  readonly alerts?: AlertOptions;
  /** The first token number of the deployment: the tokens it makes from here on are the library's. */
  readonly libraryTokensFrom: number;
}

/** Checks `props` of the deployment `id`; throws a ValidationError naming the first bad prop. */
export function validateProps(owner: string, id: string, props: AmlFunctionDeploymentProps): ResolvedProps {
  checkPropsObject(owner, props, "props are required", "AmlFunctionDeploymentProps ({ location, model, entryScript, environment, triggers, ... })");
  // Before anything is made: a string in the form of a cdktf token marker must name a token the
  // user's code made, never one of the library's (lib/validation/token-provenance.ts).
  refuseForgedTokens(owner, "", props);
  const libraryTokensFrom = nextTokenNumber();
  const location = normalizeLocation(owner, "location", props.location);
  // The default name is the construct id made name-safe ("Churn_Model" -> "churn-model"), and
  // checked as a given name is: an id too long for a name is refused, like the same string
  // given as `name`, rather than cut to a name the user never wrote.
  const base = props.name ?? id.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  if (Token.isUnresolved(base)) invalid(owner, "name", base, "names are derived at synth time", "a literal string");
  const nameProp = props.name === undefined ? `name (defaulted from the construct id "${id}"; pass name)` : "name";
  validateDeploymentBaseName(owner, nameProp, base);
  validateParts(owner, props);
  const environment = props.environment ?? PythonEnvironment.fromPipPackages([]);
  if (!(environment instanceof PythonEnvironment)) {
    invalid(owner, "environment", props.environment, "not a PythonEnvironment", "PythonEnvironment.fromPipPackages([...]), .fromRequirementsFile(path) or .fromCondaFile(path)");
  }
  const pythonVersion = coerce(owner, "pythonVersion", props.pythonVersion, PythonVersion, PythonVersion.PYTHON_3_11, NOT_A_PYTHON_VERSION);
  const givenPlanSku = coerce(owner, "planSku", props.planSku, PlanSku, undefined, NOT_A_PLAN_SKU);
  const registrySku = coerce(owner, "registrySku", props.registrySku, RegistrySku, undefined, NOT_A_REGISTRY_SKU);
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
  checkExistingResources(owner, location, props);
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
  const network = props.network === undefined ? undefined : validateNetworkOptions(owner, props.network);
  if (network !== undefined) checkNetworkInputs(owner, props, planSku, registrySku);
  const alerts = props.alerts === undefined ? undefined : validateAlertOptions(owner, props.alerts);
  const imageBuild = props.imageBuild ?? ImageBuild.acrTask();
  return { libraryTokensFrom, location, base, nameProp, entryScript, requirementsTxt, pythonVersion, imageBuild, planSku, registrySku, scaling, tags, network, alerts };
}

/** The triggers, the model source and the build mode are objects that can be bound. */
function validateParts(owner: string, props: AmlFunctionDeploymentProps): void {
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
}

/** A private network needs a private app, a Premium registry and a plan that can join a VNet. */
function checkNetworkInputs(owner: string, props: AmlFunctionDeploymentProps, planSku: PlanSku, registrySku: RegistrySku | undefined): void {
  const plan = props.servicePlan as (IServicePlanRef & ConfiguredInputs) | undefined;
  const existingSkuName = plan === undefined ? undefined : knownInput(plan.skuNameInput);
  checkPrivateNetworkInputs(owner, {
    publicNetworkAccessEnabled: props.publicNetworkAccessEnabled,
    registrySku,
    sharedRegistrySku: props.registry instanceof ScoringRegistry ? props.registry.sku : undefined,
    planSku: typeof existingSkuName === "string" ? { name: existingSkuName, prop: "servicePlan.skuName" } : { name: planSku.name, prop: props.servicePlan?.sku !== undefined ? "servicePlan.sku" : "planSku" },
  });
}

/**
 * Checks the existing resources passed in where their properties are known at synth (literals,
 * a ScoringPlan, or the configuration of an azurerm resource construct): the plan's region, OS
 * and SKU family, the registry's admin user and anonymous pull. Values only known at apply (data
 * sources, references) are taken as they are; the docs list what is not checked.
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
