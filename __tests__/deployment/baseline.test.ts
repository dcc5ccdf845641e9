import { AmlFunctionDeployment, BlobTrigger, ScoringRegistry } from "../../lib";
import { ServiceBusTrigger } from "../../lib/triggers/service-bus-trigger";
import { addDiagnosticSetting, DIAGNOSTIC_SETTING_NAME } from "../../lib/monitoring/diagnostic-settings";
import { newStack, onlyResource, refTo, resourcesOf, sampleProps, synthJson } from "../helpers";
import { schemaProblems } from "../schema-check";

const WORKSPACE = "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law-shared";

function settings(json: any): any[] {
  return Object.values(resourcesOf(json, "azurerm_monitor_diagnostic_setting"));
}

/** The diagnostic setting whose target is `target` (exactly one). */
function settingFor(json: any, target: string): any {
  const found = settings(json).filter((s) => s.target_resource_id === target);
  if (found.length !== 1) throw new Error(`expected one diagnostic setting for ${target}, found ${found.length}`);
  return found[0];
}

describe("diagnostic settings send what the deployment creates to its Log Analytics workspace", () => {
  const stack = newStack();
  new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new BlobTrigger(), new ServiceBusTrigger()] }));
  const json = synthJson(stack);
  const workspace = refTo(json, "azurerm_log_analytics_workspace", "id");

  test("function app: FunctionAppLogs and AllMetrics", () => {
    const s = settingFor(json, refTo(json, "azurerm_linux_function_app", "id"));
    expect(s).toMatchObject({ name: DIAGNOSTIC_SETTING_NAME, log_analytics_workspace_id: workspace, enabled_log: [{ category: "FunctionAppLogs" }], enabled_metric: [{ category: "AllMetrics" }] });
  });

  test("the registry it creates: allLogs and AllMetrics", () => {
    const s = settingFor(json, refTo(json, "azurerm_container_registry", "id"));
    expect(s).toMatchObject({ log_analytics_workspace_id: workspace, enabled_log: [{ category_group: "allLogs" }], enabled_metric: [{ category: "AllMetrics" }] });
  });

  test.each([
    ["host storage", (r: any) => !r.name.includes("trg") && !r.name.includes("bld")],
    ["trigger storage", (r: any) => r.name.includes("trg")],
    ["build storage (the default ACR build)", (r: any) => r.name.includes("bld")],
  ])("%s: metrics on the account, logs and metrics on the blob, queue and table services", (_label, pick) => {
    const account = refTo(json, "azurerm_storage_account", "id", pick);
    expect(settingFor(json, account)).toMatchObject({ log_analytics_workspace_id: workspace, enabled_log: [], enabled_metric: [{ category: "Transaction" }] });
    for (const service of ["blobServices", "queueServices", "tableServices"]) {
      expect(settingFor(json, `${account}/${service}/default`)).toMatchObject({ log_analytics_workspace_id: workspace, enabled_log: [{ category_group: "allLogs" }], enabled_metric: [{ category: "Transaction" }] });
    }
  });

  test("the Service Bus namespace the trigger creates: allLogs and AllMetrics, once", () => {
    const s = settingFor(json, refTo(json, "azurerm_servicebus_namespace", "id"));
    expect(s).toMatchObject({ log_analytics_workspace_id: workspace, enabled_log: [{ category_group: "allLogs" }], enabled_metric: [{ category: "AllMetrics" }] });
  });

  test("nothing else, every setting uses the non-deprecated blocks, and the schema accepts them", () => {
    // app + registry + 3 accounts (host, trigger, build) x 4 + namespace
    expect(settings(json)).toHaveLength(15);
    for (const s of settings(json)) expect(s.metric).toBeUndefined();
    expect(schemaProblems(json)).toEqual([]);
  });

  test("a namespace that already has a setting (e.g. added by its trigger) gets no second one", () => {
    const st = newStack();
    const trigger = new ServiceBusTrigger();
    const bind = trigger.bind.bind(trigger);
    trigger.bind = (scope, target) => {
      const binding = bind(scope, target);
      const ns = scope.node.findAll().find((c) => (c as any).terraformResourceType === "azurerm_servicebus_namespace") as any;
      addDiagnosticSetting(scope, "own-diagnostics", ns.id, WORKSPACE);
      return binding;
    };
    new AmlFunctionDeployment(st, "churn", sampleProps({ triggers: [trigger] }));
    const j = synthJson(st);
    const ns = refTo(j, "azurerm_servicebus_namespace", "id");
    expect(settings(j).filter((s) => s.target_resource_id === ns)).toHaveLength(1);
  });
});

describe("baseline settings", () => {
  const stack = newStack();
  new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new BlobTrigger()] }));
  const json = synthJson(stack);

  test("the created Log Analytics workspace refuses local (shared key) authentication", () => {
    const law = onlyResource(json, "azurerm_log_analytics_workspace");
    expect(law.local_authentication_enabled).toBe(false);
    expect(law.local_authentication_disabled).toBeUndefined(); // deprecated in 4.55
  });

  test("no client_certificate_mode while client certificates are off", () => {
    const app = onlyResource(json, "azurerm_linux_function_app");
    expect(app).not.toHaveProperty("client_certificate_mode");
    expect(app.client_certificate_enabled ?? false).toBe(false);
  });

  test("blob versioning on the trigger's storage, off on host storage (its lease and state blobs churn)", () => {
    const accounts = Object.values<any>(resourcesOf(json, "azurerm_storage_account"));
    expect(accounts.find((a) => a.name.includes("trg")).blob_properties.versioning_enabled).toBe(true);
    expect(accounts.find((a) => !a.name.includes("trg")).blob_properties.versioning_enabled).toBe(false);
  });

  test("no Storage Account Contributor anywhere (the blob trigger's custom role has two actions)", () => {
    const roles = Object.values<any>(resourcesOf(json, "azurerm_role_assignment"));
    expect(roles.some((r) => r.role_definition_name === "Storage Account Contributor")).toBe(false);
    const defs = Object.values<any>(resourcesOf(json, "azurerm_role_definition"));
    expect(defs.flatMap((d) => d.permissions.flatMap((p: any) => p.actions))).toEqual(["Microsoft.Storage/storageAccounts/blobServices/read", "Microsoft.Storage/storageAccounts/blobServices/write"]);
  });
});

describe("a shared ScoringRegistry gets one diagnostic setting", () => {
  test("from the first deployment that uses it", () => {
    const stack = newStack();
    const registry = new ScoringRegistry(stack, "acr", { name: "sharedacr01", location: "westeurope", resourceGroupName: "rg" });
    new AmlFunctionDeployment(stack, "churn-a", sampleProps({ registry }));
    new AmlFunctionDeployment(stack, "churn-b", sampleProps({ registry, logAnalyticsWorkspaceId: WORKSPACE }));
    const json = synthJson(stack);
    const acr = refTo(json, "azurerm_container_registry", "id");
    const onRegistry = settings(json).filter((s) => s.target_resource_id === acr);
    expect(onRegistry).toHaveLength(1);
    expect(onRegistry[0].log_analytics_workspace_id).toMatch(/^\$\{azurerm_log_analytics_workspace\.[^.]+\.id\}$/);
  });

  test("or from its own logAnalyticsWorkspaceId", () => {
    const stack = newStack();
    const registry = new ScoringRegistry(stack, "acr", { name: "sharedacr01", location: "westeurope", resourceGroupName: "rg", logAnalyticsWorkspaceId: WORKSPACE });
    new AmlFunctionDeployment(stack, "churn-a", sampleProps({ registry }));
    const json = synthJson(stack);
    const onRegistry = settings(json).filter((s) => s.target_resource_id === refTo(json, "azurerm_container_registry", "id"));
    expect(onRegistry.map((s) => s.log_analytics_workspace_id)).toEqual([WORKSPACE]);
  });

  test("its props are validated like the deployment's", () => {
    const stack = newStack();
    expect(() => new ScoringRegistry(stack, "acr", { name: "sharedacr01", location: "westeurope", resourceGroupName: "rg", logAnalyticsWorkspaceId: "law" })).toThrow('ScoringRegistry "acr": invalid logAnalyticsWorkspaceId "law"');
    expect(() => new ScoringRegistry(stack, "acr2", { name: "sharedacr02", location: "westeurope", resourceGroupName: "rg", tags: { "a/b": "x" } })).toThrow('ScoringRegistry "acr2": invalid tags name "a/b"');
  });
});
