import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { Lazy, TerraformOutput } from "cdktf";
import type { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import type { LinuxFunctionApp } from "@cdktf/provider-azurerm/lib/linux-function-app";
import { deriveNames, DerivedNames, uniqueSuffix } from "./naming";
import type { IContainerRegistryRef } from "./registry/scoring-registry";
import { registryNeeds } from "./registry/registry-use";
import type { IServicePlanRef } from "./plan/scoring-plan";
import { functionDefinitionFiles } from "./triggers/function-definitions";
import { ImageBuildContext } from "./image/build-context";
import type { ImageBuildBinding } from "./image/build/image-build-target";
import { scoringImageDir } from "./image/scoring-image-dir";
import { mergeAppSettings } from "./app-settings";
import { markNotForUsers } from "./validation/token-provenance";
import { registerStackChecks } from "./stack-checks";
import { sameConstructsCopy } from "./constructs-copy";
import { outputIdsFor } from "./output-ids";
import { appAuthSettings } from "./triggers/entra-id";
import type { DeploymentContext } from "./deployment/deployment-context";
import { applyNeeds, BoundPart, collectNeeds } from "./deployment/apply-needs";
import { createCoreResources } from "./deployment/core-resources";
import { createFunctionApp, functionAppSettings } from "./deployment/function-app";
import { validateProps } from "./deployment/validate-props";
import type { AmlFunctionDeploymentProps } from "./deployment/deployment-props";

export type { AmlFunctionDeploymentProps, IResourceGroupRef, ScalingOptions } from "./deployment/deployment-props";

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
    // Walked and hashed when the build mode asks for it, in the form it asks for.
    const buildContext = new ImageBuildContext({
      owner,
      scoringImageDir: imageDir,
      model: model.bakedModel,
      entryScript: resolved.entryScript,
      requirementsTxt: resolved.requirementsTxt,
      generatedFiles: functionDefinitionFiles(owner, baseHostJson, triggers),
      buildArgs,
      platform: PLATFORM,
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
