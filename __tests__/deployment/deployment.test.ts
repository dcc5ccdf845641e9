import { AmlFunctionDeployment, ImageBuild } from "../../lib";
import { PROVIDER_OWNED_APP_SETTINGS } from "../../lib/app-settings";
import { newStack, onlyResource, refTo, resourcesOf, sampleProps, synthJson } from "../helpers";

describe("AmlFunctionDeployment: the resources of one HTTP deployment", () => {
  const stack = newStack();
  // The local Docker build; the default (ACR task) build is asserted in acr-task-build.test.ts.
  new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.localDocker() }));
  const json = synthJson(stack);
  const app = onlyResource(json, "azurerm_linux_function_app");
  const identityPrincipal = refTo(json, "azurerm_user_assigned_identity", "principal_id");
  const identityClientId = refTo(json, "azurerm_user_assigned_identity", "client_id");

  test("container registry: Standard, admin user and anonymous pull off", () => {
    const acr = onlyResource(json, "azurerm_container_registry");
    expect(acr).toMatchObject({ sku: "Standard", admin_enabled: false, anonymous_pull_enabled: false, location: "westeurope" });
    expect(acr.name).toMatch(/^[a-z0-9]{5,50}$/);
  });

  test("plan: Linux Elastic Premium EP1 with a burst limit", () => {
    expect(onlyResource(json, "azurerm_service_plan")).toMatchObject({ os_type: "Linux", sku_name: "EP1", maximum_elastic_worker_count: 20 });
  });

  test("host storage: secure baseline, no shared keys", () => {
    expect(onlyResource(json, "azurerm_storage_account")).toMatchObject({
      https_traffic_only_enabled: true,
      min_tls_version: "TLS1_2",
      allow_nested_items_to_be_public: false,
      shared_access_key_enabled: false,
      local_user_enabled: false,
      default_to_oauth_authentication: true,
      blob_properties: { delete_retention_policy: { days: 7 }, container_delete_retention_policy: { days: 7 } },
    });
  });

  test("identity: AcrPull on the registry and the three host-storage data roles, all before the app", () => {
    const roles = Object.entries(resourcesOf(json, "azurerm_role_assignment"));
    const registryId = refTo(json, "azurerm_container_registry", "id");
    const storageId = refTo(json, "azurerm_storage_account", "id");
    const grants = roles.map(([, r]) => [r.role_definition_name, r.scope, r.principal_id, r.principal_type]);
    expect(grants).toEqual(expect.arrayContaining([
      ["AcrPull", registryId, identityPrincipal, "ServicePrincipal"],
      ["Storage Blob Data Owner", storageId, identityPrincipal, "ServicePrincipal"],
      ["Storage Queue Data Contributor", storageId, identityPrincipal, "ServicePrincipal"],
      ["Storage Table Data Contributor", storageId, identityPrincipal, "ServicePrincipal"],
    ]));
    for (const [name] of roles) expect(app.depends_on).toContain(`azurerm_role_assignment.${name}`);
  });

  test("without a blob trigger, no management-plane role on host storage", () => {
    const names = Object.values(resourcesOf(json, "azurerm_role_assignment")).map((r: any) => r.role_definition_name);
    expect(names).not.toContain("Storage Account Contributor");
    expect(names.sort()).toEqual(["AcrPull", "Monitoring Metrics Publisher", "Storage Blob Data Owner", "Storage Queue Data Contributor", "Storage Table Data Contributor"]);
  });

  test("workspace-based Application Insights with local auth off, wired through site_config", () => {
    const ai = onlyResource(json, "azurerm_application_insights");
    expect(ai.workspace_id).toBe(refTo(json, "azurerm_log_analytics_workspace", "id"));
    expect(ai.local_authentication_disabled).toBe(true);
    expect(app.site_config.application_insights_connection_string).toBe(refTo(json, "azurerm_application_insights", "connection_string"));
    expect(app.app_settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(`ClientId=${identityClientId};Authorization=AAD`);
    const publish = Object.values(resourcesOf(json, "azurerm_role_assignment")).find((r: any) => r.role_definition_name === "Monitoring Metrics Publisher") as any;
    expect(publish.scope).toBe(refTo(json, "azurerm_application_insights", "id"));
  });

  test("function app: hardened, pulls the fingerprint-tagged image with the user-assigned identity", () => {
    expect(app).toMatchObject({
      https_only: true,
      ftp_publish_basic_authentication_enabled: false,
      webdeploy_publish_basic_authentication_enabled: false,
      builtin_logging_enabled: false,
      storage_uses_managed_identity: true,
      functions_extension_version: "~4",
      identity: { type: "UserAssigned", identity_ids: [refTo(json, "azurerm_user_assigned_identity", "id")] },
    });
    expect(app.storage_account_access_key).toBeUndefined();
    expect(app.site_config).toMatchObject({
      minimum_tls_version: "1.2",
      scm_minimum_tls_version: "1.2",
      ftps_state: "Disabled",
      remote_debugging_enabled: false,
      container_registry_use_managed_identity: true,
      container_registry_managed_identity_client_id: identityClientId,
      pre_warmed_instance_count: 1,
      elastic_instance_minimum: 1,
    });
    const docker = app.site_config.application_stack.docker[0];
    expect(docker.registry_url).toBe(`https://${refTo(json, "azurerm_container_registry", "login_server")}`);
    expect(docker.image_name).toBe("aml/churn");
    expect(docker.image_name).not.toContain(".azurecr.io");
    expect(docker.image_tag).toMatch(/^[0-9a-f]{64}$/);
    expect(docker.registry_username).toBeUndefined();
    expect(docker.registry_password).toBeUndefined();
    expect(app.depends_on).toContain(`docker_registry_image.${Object.keys(resourcesOf(json, "docker_registry_image"))[0]}`);
  });

  test("app settings: identity-based host storage and the AML variables, none of the provider's own", () => {
    expect(app.app_settings).toMatchObject({
      WEBSITES_ENABLE_APP_SERVICE_STORAGE: "false",
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: identityClientId,
      AZUREML_MODEL_DIR: "/var/azureml-app/azureml-models",
      AZUREML_ENTRY_SCRIPT: "score.py",
    });
    for (const key of Object.keys(app.app_settings)) expect(PROVIDER_OWNED_APP_SETTINGS).not.toContain(key);
  });

  test("image: built for linux/amd64 and pushed with a repository-scoped token, the fingerprint as trigger", () => {
    const tag = app.site_config.application_stack.docker[0].image_tag;
    const image = onlyResource(json, "docker_image");
    const push = onlyResource(json, "docker_registry_image");
    const loginServer = refTo(json, "azurerm_container_registry", "login_server");
    expect(image.name).toBe(`${loginServer}/aml/churn:${tag}`);
    expect(image.build).toMatchObject({ platform: "linux/amd64", dockerfile: "Dockerfile", build_args: { AZUREML_ENTRY_SCRIPT: "score.py", PYTHON_VERSION: "3.11" } });
    expect(image.build.context).toMatch(new RegExp(`^\\$\\{abspath\\(path.module\\)\\}/assets/.+/${tag}$`));
    expect(image.triggers).toEqual({ fingerprint: tag });
    expect(push).toMatchObject({ keep_remotely: true, triggers: { fingerprint: tag } });
    expect(push.auth_config.address).toBe(loginServer);
    expect(push.auth_config.username).toBe(refTo(json, "azurerm_container_registry_token", "name"));
    // A reference to the token password resource: the password itself is never in the configuration.
    expect(push.auth_config.password).toMatch(/^\$\{azurerm_container_registry_token_password\.[\w-]+\.password1\[?0?\]?\.?value\}$/);
    const scopeMap = onlyResource(json, "azurerm_container_registry_scope_map");
    expect([...scopeMap.actions].sort()).toEqual(["repositories/aml/churn/content/read", "repositories/aml/churn/content/write", "repositories/aml/churn/metadata/read"]);
  });

  test("outputs: app name, hostname, scoring URL and image, prefixed with the construct id", () => {
    expect(json.output.churn_function_app_name.value).toBe(refTo(json, "azurerm_linux_function_app", "name"));
    expect(json.output.churn_default_hostname.value).toBe(refTo(json, "azurerm_linux_function_app", "default_hostname"));
    expect(json.output.churn_scoring_url.value).toBe(`https://${refTo(json, "azurerm_linux_function_app", "default_hostname")}/api/score`);
    expect(json.output.churn_image.value).toBe(onlyResource(json, "docker_image").name);
  });

  test("nothing secret in the configuration or in outputs", () => {
    const text = JSON.stringify(json);
    expect(text).not.toMatch(/AccountKey=|SharedAccessKey=|admin_password|primary_access_key|primary_connection_string|default_primary_key/);
    for (const output of Object.values(json.output) as any[]) {
      expect(JSON.stringify(output.value)).not.toMatch(/password|access_key|connection_string|instrumentation_key/);
    }
    expect(app.app_settings).not.toHaveProperty("DOCKER_REGISTRY_SERVER_PASSWORD");
  });

  test("providers are added when the stack has none: azurerm with Azure AD storage access, docker", () => {
    expect(json.provider.azurerm).toEqual([{ features: [{}], storage_use_azuread: true }]);
    expect(json.provider.docker).toEqual([{}]);
  });
});
