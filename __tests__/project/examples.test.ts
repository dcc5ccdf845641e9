import { App, TerraformStack, Testing } from "cdktf";
import { buildExampleApp } from "../../main";
import { buildBlobAndHttp } from "../../examples/blob-and-http/stack";
import { buildServiceBusBatch } from "../../examples/servicebus-batch/stack";
import { buildSharedRegistry } from "../../examples/shared-registry/stack";
import { buildPrivateNetwork } from "../../examples/private-network/stack";
import { resourcesOf } from "../helpers";
import { schemaProblems } from "../schema-check";

// The examples use paths relative to the project root, as a user running them from there does.
process.chdir(`${__dirname}/../..`);

const synth = (build: (app: App) => TerraformStack) => JSON.parse(Testing.synth(build(Testing.app())));

describe("every example synthesizes to schema-valid Terraform", () => {
  test("main.ts: HTTP scoring of the sample model", () => {
    const json = synth(buildExampleApp);
    expect(schemaProblems(json)).toEqual([]);
    expect(Object.keys(json.output).sort()).toEqual(["churn_default_hostname", "churn_function_app_name", "churn_image", "churn_scoring_url"]);
    expect(json.terraform.backend.local.path).toBe("terraform.tfstate"); // inside the stack folder
  });

  test("blob-and-http: two functions, trigger storage and containers", () => {
    const json = synth(buildBlobAndHttp);
    expect(schemaProblems(json)).toEqual([]);
    expect(Object.values(resourcesOf(json, "azurerm_storage_container")).map((c: any) => c.name).sort()).toEqual(["azure-webjobs-hosts", "build-contexts", "input", "output"]); // build-contexts: the default ACR build
    expect(Object.keys(json.output)).toEqual(expect.arrayContaining(["churn_scoring_url", "churn_blob_input_container"]));
  });

  test("servicebus-batch: namespace, queues, conda environment", () => {
    const json = synth(buildServiceBusBatch);
    expect(schemaProblems(json)).toEqual([]);
    const queues = Object.values(resourcesOf(json, "azurerm_servicebus_queue")) as any[];
    expect(queues.map((q) => q.name).sort()).toEqual(["inqueue", "outqueue", "outqueue-failed"]);
    expect(queues.find((q) => q.name === "inqueue").max_delivery_count).toBe(5);
  });

  test("shared-registry: one registry and plan, two apps, no new resource group", () => {
    const json = synth(buildSharedRegistry);
    expect(schemaProblems(json)).toEqual([]);
    expect(Object.keys(resourcesOf(json, "azurerm_container_registry"))).toHaveLength(1);
    expect(Object.keys(resourcesOf(json, "azurerm_service_plan"))).toHaveLength(1);
    expect(Object.keys(resourcesOf(json, "azurerm_linux_function_app"))).toHaveLength(2);
    expect(resourcesOf(json, "azurerm_resource_group")).toEqual({});
  });

  test("private-network: private endpoints, Entra ID callers, alerts", () => {
    const json = synth(buildPrivateNetwork);
    expect(schemaProblems(json)).toEqual([]);
    expect(Object.keys(resourcesOf(json, "azurerm_private_endpoint"))).toHaveLength(9);
    expect(Object.values<any>(resourcesOf(json, "azurerm_linux_function_app"))[0].auth_settings_v2.unauthenticated_action).toBe("Return401");
    expect(Object.keys(resourcesOf(json, "azurerm_monitor_metric_alert"))).toHaveLength(6);
  });
});
