/**
 * The function app of a deployment: the scoring image on the plan, run as the user-assigned
 * identity, with everything that can be switched off for a container app switched off.
 */
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import type { ApplicationInsights } from "@cdktf/provider-azurerm/lib/application-insights";
import { LinuxFunctionApp, LinuxFunctionAppAuthSettingsV2 } from "@cdktf/provider-azurerm/lib/linux-function-app";
import type { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import type { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import type { ImageBuildBinding } from "../image/build/image-build-target";
import { HEALTH_CHECK_EVICTION_TIME_IN_MIN, HEALTH_CHECK_PATH } from "../triggers/function-definitions";
import { failedRequestsAlert, healthCheckAlert, http5xxAlert } from "../monitoring/alerts";
import { FUNCTION_APP_CATEGORIES } from "../monitoring/diagnostic-settings";
import type { NetworkOptions } from "../network/network-options";
import type { IServicePlanRef } from "../plan/scoring-plan";
import type { IContainerRegistryRef } from "../registry/scoring-registry";
import type { PlanSku } from "../skus";
import type { FunctionAppPart } from "./apply-needs";
import type { ResolvedScaling } from "./validate-props";

/** What the function app is made of. */
export interface FunctionAppProps {
  readonly name: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly servicePlan: IServicePlanRef;
  readonly planSku: PlanSku;
  readonly scaling: ResolvedScaling;
  readonly hostStorage: StorageAccount;
  readonly identity: UserAssignedIdentity;
  readonly insights: ApplicationInsights;
  readonly registry: IContainerRegistryRef;
  readonly image: ImageBuildBinding;
  /** Every app setting: the app's own (functionAppSettings), the parts' and the user's, merged. */
  readonly appSettings: { [key: string]: string };
  readonly authSettingsV2?: LinuxFunctionAppAuthSettingsV2;
  readonly network?: NetworkOptions;
  readonly publicNetworkAccessEnabled?: boolean;
  readonly tags?: { [key: string]: string };
  /** What must exist before the app starts: role assignments, the image in the registry. */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * The app settings the app itself needs, for mergeAppSettings (lib/app-settings.ts): the identity
 * it reaches storage and Application Insights with, and where the image put the entry script and
 * the model.
 */
export function functionAppSettings(identityClientId: string, image: { appRoot: string; modelDir: string; entryScript: string }): { from: string; settings: { [key: string]: string } } {
  return {
    from: "AmlFunctionDeployment",
    settings: {
      // The image holds the code: don't mount /home over it.
      WEBSITES_ENABLE_APP_SERVICE_STORAGE: "false",
      // Host storage through the user-assigned identity (the provider adds __accountName).
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: identityClientId,
      // Application Insights with local auth off needs Azure AD-authenticated telemetry.
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${identityClientId};Authorization=AAD`,
      AML_APP_ROOT: image.appRoot,
      AZUREML_MODEL_DIR: image.modelDir,
      AZUREML_ENTRY_SCRIPT: image.entryScript,
    },
  };
}

/** Creates the function app under `scope` (id `function-app`), with its own needs. */
export function createFunctionApp(scope: Construct, props: FunctionAppProps): FunctionAppPart & { readonly resource: LinuxFunctionApp } {
  const { network, identity, scaling } = props;
  const elastic = props.planSku.isElasticPremium;
  const app = new LinuxFunctionApp(scope, "function-app", {
    name: props.name,
    location: props.location,
    resourceGroupName: props.resourceGroupName,
    servicePlanId: props.servicePlan.id,
    storageAccountName: props.hostStorage.name,
    storageUsesManagedIdentity: true,
    // Code comes from the image, so no Azure Files content share (it would need an account key).
    contentShareForceDisabled: true,
    functionsExtensionVersion: "~4",
    httpsOnly: true,
    publicNetworkAccessEnabled: network === undefined ? (props.publicNetworkAccessEnabled ?? true) : false,
    // Outbound through the integration subnet, the image pull included (the registry is private).
    virtualNetworkSubnetId: network?.integrationSubnetId,
    vnetImagePullEnabled: network === undefined ? undefined : true,
    authSettingsV2: props.authSettingsV2,
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
      vnetRouteAllEnabled: network === undefined ? undefined : true,
      // The scale controller cannot see private trigger sources: the runtime reports its own
      // scale needs instead (Elastic Premium only; Dedicated plans scale by their own rules).
      runtimeScaleMonitoringEnabled: network !== undefined && elastic ? true : undefined,
      // The health function answers 503 until init() succeeded (it is retried with backoff);
      // an instance that stays unhealthy is taken out of rotation and, with more than one
      // instance, replaced after the eviction time.
      healthCheckPath: HEALTH_CHECK_PATH,
      healthCheckEvictionTimeInMin: HEALTH_CHECK_EVICTION_TIME_IN_MIN,
      containerRegistryUseManagedIdentity: true,
      containerRegistryManagedIdentityClientId: identity.clientId,
      applicationInsightsConnectionString: props.insights.connectionString,
      applicationStack: {
        docker: [{
          registryUrl: `https://${props.registry.loginServer}`,
          imageName: props.image.repository,
          imageTag: props.image.tag,
        }],
      },
    },
    appSettings: props.appSettings,
    tags: props.tags,
    dependsOn: props.dependsOn,
  });
  return {
    resource: app,
    needs: {
      privateEndpoints: [{ resourceName: props.name, resourceId: app.id, subresource: "sites", description: `the function app "${props.name}"` }],
      diagnostics: [{ resource: app, resourceId: app.id, categories: FUNCTION_APP_CATEGORIES }],
      // On the app and its telemetry; the triggers add alerts on what they watch.
      alerts: [http5xxAlert(app.id), healthCheckAlert(app.id), failedRequestsAlert(props.insights.id)],
    },
  };
}
