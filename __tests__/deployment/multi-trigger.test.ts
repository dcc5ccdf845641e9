import * as fs from "fs";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { LinuxFunctionApp } from "@cdktf/provider-azurerm/lib/linux-function-app";
import { AmlFunctionDeployment, HttpAuthLevel, HttpTrigger, ImageBuild } from "../../lib";
import { BlobTrigger } from "../../lib/triggers/blob-trigger";
import { ServiceBusCardinality, ServiceBusTrigger } from "../../lib/triggers/service-bus-trigger";
import { newStack, onlyResource, refTo, resourcesOf, sampleProps, stagedContextDir } from "../helpers";
import { tempDir } from "../temp-dirs";
import { schemaProblems } from "../schema-check";

/**
 * One deployment serving HTTP, Blob and Service Bus triggers from one image, synthesized to disk
 * so that the staged build context (the image's files) can be read back.
 */
function synthMulti(serviceBus = new ServiceBusTrigger()) {
  const outdir = tempDir("aml-multi-");
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "scoring");
  new AmlFunctionDeployment(stack, "churn", sampleProps({
    triggers: [new HttpTrigger({ authLevel: HttpAuthLevel.FUNCTION }), new BlobTrigger(), serviceBus],
    // Reads the staged context folder from the assets, which the local Docker build ships as is.
    imageBuild: ImageBuild.localDocker(),
  }));
  app.synth();
  const stackDir = path.join(outdir, "stacks", "scoring");
  const synth = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
  const json = JSON.parse(synth);
  const dir = stagedContextDir(stackDir);
  const read = (rel: string): string => fs.readFileSync(path.join(dir, rel), "utf8");
  return { synth, json, dir, read };
}

describe("a deployment with HTTP, Blob and Service Bus triggers", () => {
  const { synth, json, dir, read } = synthMulti();
  const app = onlyResource(json, "azurerm_linux_function_app");

  test("one image holds three function folders, each with its bindings and adapter", () => {
    const functions = fs.readdirSync(path.join(dir, "app"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(functions).toEqual(expect.arrayContaining(["score", "score-blob", "score-queue"]));
    // Plus the health function every app gets (health-function.test.ts).
    expect(functions.filter((f) => fs.existsSync(path.join(dir, "app", f, "function.json")))).toEqual(["health", "score", "score-blob", "score-queue"]);

    expect(JSON.parse(read("app/score/function.json")).bindings[0]).toMatchObject({ type: "httpTrigger" });
    expect(JSON.parse(read("app/score-blob/function.json")).bindings).toEqual([
      { type: "blobTrigger", direction: "in", name: "inputblob", path: "input/{blobname}.json", connection: "AmlBlobStorage", dataType: "binary" },
      { type: "blob", direction: "out", name: "outputblob", path: "output/{blobname}_out.json", connection: "AmlBlobStorage" },
    ]);
    expect(JSON.parse(read("app/score-queue/function.json")).bindings).toEqual([
      { type: "serviceBusTrigger", direction: "in", name: "msg", queueName: "inqueue", connection: "AmlServiceBus", cardinality: "one" },
    ]);
    expect(read("app/score-blob/__init__.py")).toContain("from adapters.blob_adapter import main");
    expect(read("app/score-queue/__init__.py")).toContain("from adapters.servicebus_adapter import main");
    expect(JSON.parse(read("app/score-blob/aml.json"))).toEqual({ kind: "blob", inputPath: "input/{blobname}.json", outputPath: "output/{blobname}_out.json" });
    expect(JSON.parse(read("app/score-queue/aml.json"))).toEqual({ kind: "servicebus", connection: "AmlServiceBus", outputQueue: "outqueue", cardinality: "one", maxMessageBytes: 262144 });
    // One image resource serves all three.
    expect(Object.keys(resourcesOf(json, "docker_registry_image"))).toHaveLength(1);
  });

  test("host.json carries the Service Bus extension settings", () => {
    const host = JSON.parse(read("app/host.json"));
    expect(host.extensions.serviceBus).toEqual({ prefetchCount: 0, autoCompleteMessages: true, maxConcurrentCalls: 4, maxAutoLockRenewalDuration: "00:10:00" });
    expect(host.functionTimeout).toBe("00:10:00");
  });

  test("every trigger's identity-based connection settings are in the app's app_settings", () => {
    const blobAccount = (r: any) => r.name === "stchurntrg" + r.name.slice(-8);
    expect(app.app_settings).toMatchObject({
      AmlBlobStorage__blobServiceUri: refTo(json, "azurerm_storage_account", "primary_blob_endpoint", blobAccount),
      AmlBlobStorage__queueServiceUri: refTo(json, "azurerm_storage_account", "primary_queue_endpoint", blobAccount),
      AmlBlobStorage__credential: "managedidentity",
      AmlBlobStorage__clientId: refTo(json, "azurerm_user_assigned_identity", "client_id"),
      AmlServiceBus__fullyQualifiedNamespace: `${refTo(json, "azurerm_servicebus_namespace", "name")}.servicebus.windows.net`,
      AmlServiceBus__credential: "managedidentity",
      AmlServiceBus__clientId: refTo(json, "azurerm_user_assigned_identity", "client_id"),
    });
    expect(JSON.stringify(app.app_settings)).not.toMatch(/AccountKey=|SharedAccessKey=/);
    expect(synth).toHaveResourceWithProperties(LinuxFunctionApp, { app_settings: expect.objectContaining({ AmlBlobStorage__credential: "managedidentity" }) });
  });

  test("the triggers' role assignments are among the app's depends_on, granted to the app's identity", () => {
    const principal = refTo(json, "azurerm_user_assigned_identity", "principal_id");
    const triggerRoles = Object.entries<any>(resourcesOf(json, "azurerm_role_assignment")).filter(([, r]) =>
      ["Storage Queue Data Contributor", "Azure Service Bus Data Receiver", "Azure Service Bus Data Sender", "Storage Blob Data Contributor"].includes(r.role_definition_name) ||
      (r.role_definition_name === "Storage Blob Data Owner" && String(r.scope).includes("azurerm_storage_container.")),
    );
    const names = triggerRoles.map(([, r]) => r.role_definition_name).sort();
    expect(names).toEqual(expect.arrayContaining([
      "Azure Service Bus Data Receiver",
      "Azure Service Bus Data Sender",
      "Storage Blob Data Contributor",
      "Storage Blob Data Owner",
      "Storage Queue Data Contributor",
    ]));
    for (const [id, r] of triggerRoles) {
      expect(r.principal_id).toBe(principal);
      expect(app.depends_on).toContain(`azurerm_role_assignment.${id}`);
    }
  });

  test("with a blob trigger, host storage gets no management role (the blob listener only uses blobs and queues there)", () => {
    const hostStorage = refTo(json, "azurerm_storage_account", "id", (r) => r.name.startsWith("stchurn") && !r.name.includes("trg"));
    const onHost = Object.values<any>(resourcesOf(json, "azurerm_role_assignment")).filter((r) => r.scope === hostStorage).map((r) => r.role_definition_name).sort();
    expect(onHost).toEqual(["Storage Blob Data Owner", "Storage Queue Data Contributor", "Storage Table Data Contributor"]);
    expect(Object.values<any>(resourcesOf(json, "azurerm_role_assignment")).some((r) => r.role_definition_name === "Storage Account Contributor")).toBe(false);
    // The blob trigger's custom role (blob service properties) is a dependency of the app.
    const custom = Object.entries<any>(resourcesOf(json, "azurerm_role_assignment")).filter(([, r]) => r.role_definition_id !== undefined);
    expect(custom).toHaveLength(1);
    expect(app.depends_on).toContain(`azurerm_role_assignment.${custom[0][0]}`);
  });

  test("the trigger resources are synthesized and match the azurerm 4.55.0 schema", () => {
    expect(Object.values<any>(resourcesOf(json, "azurerm_storage_container")).map((c) => c.name).sort()).toEqual(["azure-webjobs-hosts", "input", "output"]);
    expect(Object.values<any>(resourcesOf(json, "azurerm_servicebus_queue")).map((q) => q.name).sort()).toEqual(["inqueue", "outqueue"]);
    expect(schemaProblems(json)).toEqual([]);
  });

  test("outputs of every trigger use the deployment's output ids", () => {
    expect(Object.keys(json.output)).toEqual(expect.arrayContaining([
      "churn_blob_storage_account_name",
      "churn_blob_input_container",
      "churn_blob_output_container",
      "churn_blob_poison_queue",
      "churn_servicebus_namespace_name",
      "churn_servicebus_input_queue",
      "churn_servicebus_output_queue",
    ]));
  });
});

describe("batch Service Bus trigger in a multi-trigger deployment", () => {
  test("host.json gets the batch size and the function receives batches", () => {
    const { read } = synthMulti(new ServiceBusTrigger({ cardinality: ServiceBusCardinality.MANY, maxMessageBatchSize: 16 }));
    expect(JSON.parse(read("app/host.json")).extensions.serviceBus).toEqual({ prefetchCount: 0, autoCompleteMessages: true, maxMessageBatchSize: 16, maxAutoLockRenewalDuration: "00:10:00" });
    expect(JSON.parse(read("app/score-queue/aml.json"))).toMatchObject({ cardinality: "many", failedQueue: "outqueue-failed" });
    expect(JSON.parse(read("app/score-queue/function.json")).bindings[0].cardinality).toBe("many");
  });

  test("two Service Bus triggers that disagree on host.json settings are refused by the deployment", () => {
    const stack = newStack();
    expect(() => new AmlFunctionDeployment(stack, "churn", sampleProps({
      triggers: [new ServiceBusTrigger(), new ServiceBusTrigger({ functionName: "score-b", inputQueueName: "in-b", outputQueueName: "out-b", prefetchCount: 5 })],
    }))).toThrow("extensions.serviceBus.prefetchCount");
  });

  test("a functionTimeout from a Service Bus trigger goes into host.json; two that differ are refused", () => {
    const { read } = synthMulti(new ServiceBusTrigger({ functionTimeout: "PT30M" }));
    expect(JSON.parse(read("app/host.json")).functionTimeout).toBe("00:30:00");
    expect(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({
      triggers: [new ServiceBusTrigger(), new ServiceBusTrigger({ functionName: "score-b", inputQueueName: "in-b", outputQueueName: "out-b", functionTimeout: "PT20M" })],
    }))).toThrow(/host.json functionTimeout is "00:10:00" for function "score-queue" and differs for function "score-b"/);
  });
});
