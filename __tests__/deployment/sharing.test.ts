import { DataAzurermResourceGroup } from "@cdktf/provider-azurerm/lib/data-azurerm-resource-group";
import { DataAzurermContainerRegistry } from "@cdktf/provider-azurerm/lib/data-azurerm-container-registry";
import { DataAzurermServicePlan } from "@cdktf/provider-azurerm/lib/data-azurerm-service-plan";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { AmlFunctionDeployment, ImageBuild, PlanSku, RegistrySku, ScoringPlan, ScoringRegistry } from "../../lib";
import { newStack, onlyResource, resourcesOf, sampleProps, synthJson } from "../helpers";

describe("existing resources instead of new ones", () => {
  const stack = newStack();
  const rg = new DataAzurermResourceGroup(stack, "rg", { name: "rg-ml-platform" });
  const acr = new DataAzurermContainerRegistry(stack, "acr", { name: "mlplatformacr", resourceGroupName: "rg-ml-platform" });
  const plan = new DataAzurermServicePlan(stack, "plan", { name: "plan-ml", resourceGroupName: "rg-ml-platform" });
  // The local Docker build (scope-map token push); the ACR build with shared registries: acr-task-build.test.ts.
  new AmlFunctionDeployment(stack, "churn", sampleProps({ resourceGroup: rg, registry: acr, servicePlan: plan, imageBuild: ImageBuild.localDocker() }));
  const json = synthJson(stack);

  test("creates no resource group, registry or plan", () => {
    expect(resourcesOf(json, "azurerm_resource_group")).toEqual({});
    expect(resourcesOf(json, "azurerm_container_registry")).toEqual({});
    expect(resourcesOf(json, "azurerm_service_plan")).toEqual({});
  });

  test("uses them: app in the group on the plan, image pushed to and pulled from the registry", () => {
    const app = onlyResource(json, "azurerm_linux_function_app");
    expect(app.resource_group_name).toBe("${data.azurerm_resource_group.rg.name}");
    expect(app.service_plan_id).toBe("${data.azurerm_service_plan.plan.id}");
    expect(app.site_config.application_stack.docker[0].registry_url).toBe("https://${data.azurerm_container_registry.acr.login_server}");
    const scopeMap = onlyResource(json, "azurerm_container_registry_scope_map");
    expect(scopeMap.container_registry_name).toBe("${data.azurerm_container_registry.acr.name}");
    const pull = Object.values(resourcesOf(json, "azurerm_role_assignment")).find((r: any) => r.role_definition_name === "AcrPull") as any;
    expect(pull.scope).toBe("${data.azurerm_container_registry.acr.id}");
  });
});

describe("several deployments sharing one registry and one plan", () => {
  const stack = newStack();
  new AzurermProvider(stack, "azurerm", { features: [{}], storageUseAzuread: true });
  const registry = new ScoringRegistry(stack, "acr", { name: "sharedscoringacr", location: "westeurope", resourceGroupName: "rg-shared", sku: RegistrySku.PREMIUM });
  const plan = new ScoringPlan(stack, "plan", { name: "plan-shared", location: "westeurope", resourceGroupName: "rg-shared", sku: PlanSku.EP2, maximumElasticWorkerCount: 30 });
  new AmlFunctionDeployment(stack, "churn", sampleProps({ registry, servicePlan: plan, imageBuild: ImageBuild.localDocker() }));
  new AmlFunctionDeployment(stack, "fraud", sampleProps({ registry, servicePlan: plan, imageBuild: ImageBuild.localDocker() }));
  const json = synthJson(stack);

  test("one registry and one plan, two function apps on them", () => {
    expect(onlyResource(json, "azurerm_container_registry")).toMatchObject({ name: "sharedscoringacr", sku: "Premium", admin_enabled: false, retention_policy_in_days: 7 });
    expect(onlyResource(json, "azurerm_service_plan")).toMatchObject({ sku_name: "EP2", maximum_elastic_worker_count: 30 });
    const apps = Object.values(resourcesOf(json, "azurerm_linux_function_app")) as any[];
    expect(apps).toHaveLength(2);
    expect(new Set(apps.map((a) => a.service_plan_id)).size).toBe(1);
    expect(new Set(apps.map((a) => a.name)).size).toBe(2);
  });

  test("each deployment pushes to its own repository with its own scoped token", () => {
    const maps = Object.values(resourcesOf(json, "azurerm_container_registry_scope_map")) as any[];
    expect(maps.map((m) => m.actions[0]).sort()).toEqual(["repositories/aml/churn/content/read", "repositories/aml/fraud/content/read"]);
    expect(new Set(maps.map((m) => m.name)).size).toBe(2);
  });

  test("every identity gets AcrPull on the shared registry", () => {
    const pulls = Object.values(resourcesOf(json, "azurerm_role_assignment")).filter((r: any) => r.role_definition_name === "AcrPull") as any[];
    expect(pulls).toHaveLength(2);
    expect(new Set(pulls.map((p) => p.principal_id)).size).toBe(2);
  });

  test("outputs of both deployments coexist, and the user's provider is not duplicated", () => {
    expect(Object.keys(json.output)).toEqual(expect.arrayContaining(["churn_scoring_url", "fraud_scoring_url", "churn_image", "fraud_image"]));
    expect(json.provider.azurerm).toHaveLength(1);
  });
});

test("a ScoringPlan validates its tags like a deployment does", () => {
  const stack = newStack();
  expect(() => new ScoringPlan(stack, "plan", { name: "plan-shared", location: "westeurope", resourceGroupName: "rg", tags: { "bad/key": "v" } }))
    .toThrow(/ScoringPlan "plan": invalid tags.*bad\/key/);
});

// Issue 7 item 9: what a ScoringPlan or ScoringRegistry writes into the Terraform configuration is
// checked like a deployment's own props (a line break + EOF would add HCL; '"}' would break it).
describe("ScoringPlan and ScoringRegistry validate the resource group and location they write", () => {
  const base = { location: "westeurope", resourceGroupName: "rg" };
  test.each<[string, { [k: string]: string }, RegExp]>([
    ["a resource group with a line break and EOF", { resourceGroupName: "rg\nEOF\nresource \"null_resource\" \"x\" {}" }, /invalid resourceGroupName "rg\\nEOF/],
    ["a resource group that breaks out of an HCL string", { resourceGroupName: "rg\"}" }, /invalid resourceGroupName "rg\\"}"/],
    ["a location with a template sequence", { location: "westeurope${file(\"/etc/hostname\")}" }, /invalid location "westeurope\$\{file/],
    ["a location that is not a region", { location: "mars" }, /invalid location "mars": not a public Azure region/],
  ])("refuses %s", (_label, override, message) => {
    const stack = newStack();
    expect(() => new ScoringPlan(stack, "plan", { name: "plan-shared", ...base, ...override })).toThrow(new RegExp(`ScoringPlan "plan": ${message.source}`));
    expect(() => new ScoringRegistry(stack, "acr", { name: "sharedscoringacr", ...base, ...override })).toThrow(new RegExp(`ScoringRegistry "acr": ${message.source}`));
  });

  test("accepts display-form regions and references (a data source's name and location)", () => {
    const stack = newStack();
    const rg = new DataAzurermResourceGroup(stack, "rg", { name: "rg-shared" });
    expect(() => new ScoringPlan(stack, "plan", { name: "plan-shared", location: "North Europe", resourceGroupName: "rg-shared" })).not.toThrow();
    expect(() => new ScoringRegistry(stack, "acr", { name: "sharedscoringacr", location: rg.location, resourceGroupName: rg.name })).not.toThrow();
  });
});
