// Benchmark baseline only (scripts/bench.js): a plain cdktf app, as plain JavaScript (what a
// compiled app is), that creates the same resources as the example but loads the provider
// packages from their roots — the import style the library forbids through its lint rule.
// Kept out of the TypeScript sources so that rule and the project's type check stay strict.
"use strict";
const { App, TerraformOutput, TerraformStack } = require("cdktf");
const {
  provider, resourceGroup, userAssignedIdentity, containerRegistry, containerRegistryScopeMap, containerRegistryToken,
  containerRegistryTokenPassword, servicePlan, storageAccount, roleAssignment, logAnalyticsWorkspace,
  applicationInsights, linuxFunctionApp,
} = require("@cdktf/provider-azurerm");
const { provider: dockerProvider, image, registryImage } = require("@cdktf/provider-docker");

const app = new App();
const stack = new TerraformStack(app, "aml-churn-root");
new provider.AzurermProvider(stack, "azurerm", { features: [{}], storageUseAzuread: true });
new dockerProvider.DockerProvider(stack, "docker", {});
const location = "westeurope";
const rg = new resourceGroup.ResourceGroup(stack, "rg", { name: "rg-churn", location });
const id = new userAssignedIdentity.UserAssignedIdentity(stack, "id", { name: "id-churn", location, resourceGroupName: rg.name });
const acr = new containerRegistry.ContainerRegistry(stack, "acr", { name: "crchurn00000000", location, resourceGroupName: rg.name, sku: "Standard", adminEnabled: false, anonymousPullEnabled: false });
const scope = new containerRegistryScopeMap.ContainerRegistryScopeMap(stack, "scope", { name: "churn-push", containerRegistryName: acr.name, resourceGroupName: rg.name, actions: ["repositories/aml/churn/content/read", "repositories/aml/churn/content/write", "repositories/aml/churn/metadata/read"] });
const token = new containerRegistryToken.ContainerRegistryToken(stack, "token", { name: "churn-push", containerRegistryName: acr.name, resourceGroupName: rg.name, scopeMapId: scope.id });
const password = new containerRegistryTokenPassword.ContainerRegistryTokenPassword(stack, "pw", { containerRegistryTokenId: token.id, password1: {} });
const plan = new servicePlan.ServicePlan(stack, "plan", { name: "plan-churn", location, resourceGroupName: rg.name, osType: "Linux", skuName: "EP1", maximumElasticWorkerCount: 20 });
const st = new storageAccount.StorageAccount(stack, "st", { name: "stchurn00000000", location, resourceGroupName: rg.name, accountTier: "Standard", accountReplicationType: "LRS", sharedAccessKeyEnabled: false, minTlsVersion: "TLS1_2", allowNestedItemsToBePublic: false });
const roles = [
  [acr.id, "AcrPull"], [st.id, "Storage Blob Data Owner"], [st.id, "Storage Queue Data Contributor"], [st.id, "Storage Table Data Contributor"],
].map(([scopeId, role], i) => new roleAssignment.RoleAssignment(stack, `role${i}`, { scope: scopeId, roleDefinitionName: role, principalId: id.principalId, principalType: "ServicePrincipal" }));
const law = new logAnalyticsWorkspace.LogAnalyticsWorkspace(stack, "law", { name: "log-churn", location, resourceGroupName: rg.name, sku: "PerGB2018", retentionInDays: 30 });
const ai = new applicationInsights.ApplicationInsights(stack, "ai", { name: "appi-churn", location, resourceGroupName: rg.name, applicationType: "other", workspaceId: law.id, localAuthenticationDisabled: true });
roles.push(new roleAssignment.RoleAssignment(stack, "role-ai", { scope: ai.id, roleDefinitionName: "Monitoring Metrics Publisher", principalId: id.principalId, principalType: "ServicePrincipal" }));
const tag = "0".repeat(64);
const img = new image.Image(stack, "image", { name: `${acr.loginServer}/aml/churn:${tag}`, triggers: { fingerprint: tag }, buildAttribute: { context: "/tmp/context", platform: "linux/amd64" } });
const pushed = new registryImage.RegistryImage(stack, "push", { name: img.name, keepRemotely: true, triggers: { fingerprint: tag }, authConfig: { address: acr.loginServer, username: token.name, password: password.password1.value } });
const fn = new linuxFunctionApp.LinuxFunctionApp(stack, "app", {
  name: "func-churn-00000000", location, resourceGroupName: rg.name, servicePlanId: plan.id, storageAccountName: st.name, storageUsesManagedIdentity: true,
  httpsOnly: true, identity: { type: "UserAssigned", identityIds: [id.id] },
  siteConfig: { containerRegistryUseManagedIdentity: true, containerRegistryManagedIdentityClientId: id.clientId, applicationInsightsConnectionString: ai.connectionString, applicationStack: { docker: [{ registryUrl: `https://${acr.loginServer}`, imageName: "aml/churn", imageTag: tag }] } },
  appSettings: { WEBSITES_ENABLE_APP_SERVICE_STORAGE: "false" }, dependsOn: [...roles, pushed],
});
new TerraformOutput(stack, "hostname", { value: fn.defaultHostname });
app.synth();
