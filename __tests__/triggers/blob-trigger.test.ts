import { Construct } from "constructs";
import { TerraformOutput, TerraformStack, Testing } from "cdktf";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { StorageQueue } from "@cdktf/provider-azurerm/lib/storage-queue";
import { ValidationError } from "../../lib/errors";
import { BlobTrigger, BLOB_POISON_QUEUE, BLOB_RECEIPTS_CONTAINER, BLOB_SERVICE_PROPERTIES_ACTIONS, LOGS_CONTAINER_CONDITION } from "../../lib/triggers/blob-trigger";
import { TriggerBinding } from "../../lib/triggers/trigger";
import { schemaProblems } from "../schema-check";
import { CLIENT, fakeTarget, PRINCIPAL } from "../fake-target";


function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), "test");
  new AzurermProvider(stack, "azurerm", { features: [{}] });
  return stack;
}

function bindIn(trigger: BlobTrigger, stack = newStack()): { stack: TerraformStack; binding: TriggerBinding; synth: string; json: any } {
  const binding = trigger.bind(stack, fakeTarget);
  const synth = Testing.synth(stack);
  return { stack, binding, synth, json: JSON.parse(synth) };
}

function roleAssignments(json: any): any[] {
  return Object.values(json.resource?.azurerm_role_assignment ?? {});
}

/** Logical id of the single resource of `type` whose properties include `props`. */
function logicalIdOf(json: any, type: string, props: { [k: string]: unknown }): string {
  const matches = Object.entries<any>(json.resource?.[type] ?? {}).filter(([, body]) => Object.entries(props).every(([k, v]) => body[k] === v));
  if (matches.length !== 1) throw new Error(`expected one ${type} with ${JSON.stringify(props)}, found ${matches.length}`);
  return matches[0][0];
}

const existingAccount = {
  id: "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/stdata",
  name: "stdata",
  primaryBlobEndpoint: "https://stdata.blob.core.windows.net/",
  primaryQueueEndpoint: "https://stdata.queue.core.windows.net/",
};

describe("BlobTrigger defaults", () => {
  test("describes the function: blob trigger on the input path (bytes) and blob output on the output path", () => {
    const { binding } = bindIn(new BlobTrigger());
    expect(binding.functionName).toBe("score-blob");
    expect(binding.adapter).toBe("blob");
    expect(binding.bindings).toEqual([
      { type: "blobTrigger", direction: "in", name: "inputblob", path: "input/{blobname}.json", connection: "AmlBlobStorage", dataType: "binary" },
      { type: "blob", direction: "out", name: "outputblob", path: "output/{blobname}_out.json", connection: "AmlBlobStorage" },
    ]);
    expect(binding.adapterSettings).toEqual({ kind: "blob", inputPath: "input/{blobname}.json", outputPath: "output/{blobname}_out.json" });
    expect(binding.httpPath).toBeUndefined();
    expect(binding.hostExtensions).toBeUndefined();
  });

  test("creates a secure trigger storage account named from the base name, role 'trg' and suffix", () => {
    const { synth } = bindIn(new BlobTrigger());
    expect(synth).toHaveResourceWithProperties(StorageAccount, {
      name: "stchurntrg0123abcd",
      location: "westeurope",
      resource_group_name: "rg-churn",
      shared_access_key_enabled: false,
      min_tls_version: "TLS1_2",
      allow_nested_items_to_be_public: false,
      https_traffic_only_enabled: true,
      tags: { app: "churn" },
    });
  });

  test("creates private input and output containers through storage_account_id, and the poison queue", () => {
    const { synth, json } = bindIn(new BlobTrigger());
    const accountId = logicalIdOf(json, "azurerm_storage_account", { name: "stchurntrg0123abcd" });
    expect(synth).toHaveResourceWithProperties(StorageContainer, { name: "input", storage_account_id: `\${azurerm_storage_account.${accountId}.id}`, container_access_type: "private" });
    expect(synth).toHaveResourceWithProperties(StorageContainer, { name: "output", storage_account_id: `\${azurerm_storage_account.${accountId}.id}`, container_access_type: "private" });
    expect(synth).toHaveResourceWithProperties(StorageQueue, { name: BLOB_POISON_QUEUE, storage_account_id: `\${azurerm_storage_account.${accountId}.id}` });
    // No deprecated data-plane arguments.
    for (const c of Object.values<any>(json.resource.azurerm_storage_container)) expect(c.storage_account_name).toBeUndefined();
  });

  test("identity-based connection settings: endpoints of the trigger account, managed identity, client id; no key", () => {
    const { binding, json } = bindIn(new BlobTrigger());
    const accountId = logicalIdOf(json, "azurerm_storage_account", { name: "stchurntrg0123abcd" });
    const settings = binding.appSettings!;
    expect(Object.keys(settings).sort()).toEqual(["AmlBlobStorage__blobServiceUri", "AmlBlobStorage__clientId", "AmlBlobStorage__credential", "AmlBlobStorage__queueServiceUri"]);
    expect(settings.AmlBlobStorage__credential).toBe("managedidentity");
    expect(settings.AmlBlobStorage__clientId).toBe(CLIENT);
    // Tokens resolve to the created account's endpoints.
    const stack = newStack();
    const b = new BlobTrigger().bind(stack, fakeTarget);
    new TerraformOutput(stack, "probe", { value: b.appSettings });
    const resolved = JSON.parse(Testing.synth(stack)).output.probe.value;
    expect(resolved.AmlBlobStorage__blobServiceUri).toBe(`\${azurerm_storage_account.${accountId}.primary_blob_endpoint}`);
    expect(resolved.AmlBlobStorage__queueServiceUri).toBe(`\${azurerm_storage_account.${accountId}.primary_queue_endpoint}`);
    expect(JSON.stringify(settings)).not.toMatch(/AccountKey|SharedAccessSignature|connection_string|access_key/i);
  });

  test("grants four data roles at container/queue scope, a $logs-only reader and a two-action custom role, to the app identity", () => {
    const { synth, json } = bindIn(new BlobTrigger());
    const input = logicalIdOf(json, "azurerm_storage_container", { name: "input" });
    const output = logicalIdOf(json, "azurerm_storage_container", { name: "output" });
    const receipts = logicalIdOf(json, "azurerm_storage_container", { name: BLOB_RECEIPTS_CONTAINER });
    const queue = logicalIdOf(json, "azurerm_storage_queue", { name: BLOB_POISON_QUEUE });
    const account = logicalIdOf(json, "azurerm_storage_account", { name: "stchurntrg0123abcd" });
    const roles = roleAssignments(json);
    expect(roles).toHaveLength(6);
    const common = { principal_id: PRINCIPAL, principal_type: "ServicePrincipal", skip_service_principal_aad_check: true };
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { ...common, role_definition_name: "Storage Blob Data Owner", scope: `\${azurerm_storage_container.${input}.id}` });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { ...common, role_definition_name: "Storage Blob Data Contributor", scope: `\${azurerm_storage_container.${output}.id}` });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { ...common, role_definition_name: "Storage Blob Data Contributor", scope: `\${azurerm_storage_container.${receipts}.id}` });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { ...common, role_definition_name: "Storage Queue Data Contributor", scope: `\${azurerm_storage_queue.${queue}.id}` });
    // At account scope only: a reader limited to $logs by an ABAC condition, and the custom role.
    const accountScoped = roles.filter((r) => r.scope === `\${azurerm_storage_account.${account}.id}`);
    expect(accountScoped).toHaveLength(2);
    expect(accountScoped).toContainEqual(expect.objectContaining({ role_definition_name: "Storage Blob Data Reader", condition: LOGS_CONTAINER_CONDITION, condition_version: "2.0" }));
    expect(LOGS_CONTAINER_CONDITION).toContain("StringEquals '$logs'");
    const roleDef = Object.entries<any>(json.resource.azurerm_role_definition);
    expect(roleDef).toHaveLength(1);
    expect(accountScoped).toContainEqual(expect.objectContaining({ role_definition_id: `\${azurerm_role_definition.${roleDef[0][0]}.role_definition_resource_id}` }));
    // The custom role holds exactly blob service read/write, nothing else (no keys, no delete).
    expect(roleDef[0][1].permissions).toEqual([{ actions: BLOB_SERVICE_PROPERTIES_ACTIONS, data_actions: [], not_actions: [], not_data_actions: [] }]);
    expect(BLOB_SERVICE_PROPERTIES_ACTIONS).toEqual(["Microsoft.Storage/storageAccounts/blobServices/read", "Microsoft.Storage/storageAccounts/blobServices/write"]);
    expect(roleDef[0][1].name).toContain("stchurntrg0123abcd");
    expect(roleDef[0][1].scope).toMatch(/^\$\{join\("\/", slice\(split\("\/", azurerm_storage_account\.[^.]+\.id\), 0, 5\)\)\}$/);
    expect(roleDef[0][1].assignable_scopes).toEqual([roleDef[0][1].scope]);
    // No built-in management role, and the deprecated resource_manager_id is not used.
    for (const r of roles) {
      expect(r.role_definition_name ?? "").not.toMatch(/Account Contributor|^Owner$|^Contributor$/);
      expect(r.scope).not.toMatch(/resource_manager_id/);
    }
  });

  test("the trigger's account keeps blob versioning on (input blobs and results can be restored)", () => {
    const { synth } = bindIn(new BlobTrigger());
    expect(synth).toHaveResourceWithProperties(StorageAccount, { name: "stchurntrg0123abcd", blob_properties: expect.objectContaining({ versioning_enabled: true }) });
  });

  test("returns every role assignment as a dependency of the app", () => {
    const stack = newStack();
    const binding = new BlobTrigger().bind(stack, fakeTarget);
    expect(binding.dependencies).toHaveLength(6);
    for (const d of binding.dependencies!) expect(d).toBeInstanceOf(RoleAssignment);
    const json = JSON.parse(Testing.synth(stack));
    const ids = binding.dependencies!.map((d) => (d as RoleAssignment).friendlyUniqueId).sort();
    expect(ids).toEqual(Object.keys(json.resource.azurerm_role_assignment).sort());
  });

  test("outputs the account name, container names and poison queue under the deployment's output ids", () => {
    const { json } = bindIn(new BlobTrigger());
    const accountId = logicalIdOf(json, "azurerm_storage_account", { name: "stchurntrg0123abcd" });
    expect(json.output.churn_blob_storage_account_name.value).toBe(`\${azurerm_storage_account.${accountId}.name}`);
    expect(json.output.churn_blob_input_container.value).toBe("input");
    expect(json.output.churn_blob_output_container.value).toBe("output");
    expect(json.output.churn_blob_poison_queue.value).toBe("webjobs-blobtrigger-poison");
  });
});

describe("BlobTrigger options", () => {
  test("custom paths in one container: one container, Owner only (it covers the writes), paths in the bindings", () => {
    const { binding, json } = bindIn(new BlobTrigger({ inputPath: "data/in/{name}.csv", outputPath: "data/out/{name}.json" }));
    expect(Object.values<any>(json.resource.azurerm_storage_container).map((c) => c.name).sort()).toEqual([BLOB_RECEIPTS_CONTAINER, "data"]);
    const container = logicalIdOf(json, "azurerm_storage_container", { name: "data" });
    const blobRoles = roleAssignments(json).filter((r) => r.scope === `\${azurerm_storage_container.${container}.id}`);
    expect(blobRoles).toEqual([expect.objectContaining({ role_definition_name: "Storage Blob Data Owner" })]);
    expect(binding.bindings[0].path).toBe("data/in/{name}.csv");
    expect(binding.bindings[1].path).toBe("data/out/{name}.json");
    expect(json.output.churn_blob_input_container.value).toBe("data");
    expect(json.output.churn_blob_output_container.value).toBe("data");
  });

  test("an existing account: no account, no poison queue created; containers created in it; queue role on the account", () => {
    const { synth, json, binding } = bindIn(new BlobTrigger({ storageAccount: existingAccount }));
    expect(json.resource.azurerm_storage_account).toBeUndefined();
    expect(json.resource.azurerm_storage_queue).toBeUndefined();
    expect(synth).toHaveResourceWithProperties(StorageContainer, { name: "input", storage_account_id: existingAccount.id });
    expect(synth).toHaveResourceWithProperties(StorageContainer, { name: "output", storage_account_id: existingAccount.id });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { role_definition_name: "Storage Queue Data Contributor", scope: existingAccount.id, principal_id: PRINCIPAL });
    expect(synth).toHaveResourceWithProperties(StorageContainer, { name: BLOB_RECEIPTS_CONTAINER, storage_account_id: existingAccount.id });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { role_definition_name: "Storage Blob Data Reader", scope: existingAccount.id, condition: LOGS_CONTAINER_CONDITION });
    expect(binding.appSettings).toMatchObject({
      AmlBlobStorage__blobServiceUri: existingAccount.primaryBlobEndpoint,
      AmlBlobStorage__queueServiceUri: existingAccount.primaryQueueEndpoint,
    });
    expect(json.output.churn_blob_storage_account_name.value).toBe("stdata");
  });

  test("createContainers: false is respected; role scopes are the containers' Resource Manager ids", () => {
    const { synth, json } = bindIn(new BlobTrigger({ storageAccount: existingAccount, createContainers: false }));
    expect(json.resource.azurerm_storage_container).toBeUndefined();
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { role_definition_name: "Storage Blob Data Owner", scope: `${existingAccount.id}/blobServices/default/containers/input` });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { role_definition_name: "Storage Blob Data Contributor", scope: `${existingAccount.id}/blobServices/default/containers/output` });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { role_definition_name: "Storage Blob Data Contributor", scope: `${existingAccount.id}/blobServices/default/containers/${BLOB_RECEIPTS_CONTAINER}` });
  });

  test("a non-default function name gets its own account, connection prefix and output names", () => {
    const { binding, json } = bindIn(new BlobTrigger({ functionName: "score-batch" }));
    expect(binding.functionName).toBe("score-batch");
    expect(binding.bindings.map((b) => b.connection)).toEqual(["AmlBlobStorage_score_batch", "AmlBlobStorage_score_batch"]);
    expect(Object.keys(binding.appSettings!).every((k) => k.startsWith("AmlBlobStorage_score_batch__"))).toBe(true);
    const name = Object.values<any>(json.resource.azurerm_storage_account)[0].name;
    expect(name).toMatch(/^stchurnt[0-9a-f]{5}0123abcd$/);
    expect(name).not.toBe("stchurntrg0123abcd");
    expect(Object.keys(json.output).sort()).toEqual([
      "churn_score-batch_blob_input_container",
      "churn_score-batch_blob_output_container",
      "churn_score-batch_blob_poison_queue",
      "churn_score-batch_blob_storage_account_name",
    ]);
  });

  test("two blob triggers in one stack do not collide", () => {
    const stack = newStack();
    const a = new BlobTrigger().bind(new Construct(stack, "t0"), fakeTarget);
    const b = new BlobTrigger({ functionName: "score-csv", inputPath: "csv-in/{n}.csv", outputPath: "csv-out/{n}.json" }).bind(new Construct(stack, "t1"), fakeTarget);
    const json = JSON.parse(Testing.synth(stack));
    const names = Object.values<any>(json.resource.azurerm_storage_account).map((s) => s.name);
    expect(new Set(names).size).toBe(2);
    const keysA = Object.keys(a.appSettings!);
    expect(Object.keys(b.appSettings!).some((k) => keysA.includes(k))).toBe(false);
    expect(Object.keys(json.output)).toHaveLength(8);
  });

  test("explicit connectionName and storageAccountName are used", () => {
    const { binding, synth } = bindIn(new BlobTrigger({ connectionName: "Batch_Files", storageAccountName: "stmybatch01" }));
    expect(binding.bindings[0].connection).toBe("Batch_Files");
    expect(Object.keys(binding.appSettings!)).toContain("Batch_Files__blobServiceUri");
    expect(synth).toHaveResourceWithProperties(StorageAccount, { name: "stmybatch01" });
  });
});

describe("BlobTrigger against the azurerm 4.55.0 schema", () => {
  test.each<[string, () => BlobTrigger]>([
    ["defaults", () => new BlobTrigger()],
    ["existing account", () => new BlobTrigger({ storageAccount: existingAccount })],
    ["existing containers", () => new BlobTrigger({ storageAccount: existingAccount, createContainers: false })],
  ])("every argument exists and required ones are set (%s)", (_label, make) => {
    expect(schemaProblems(bindIn(make()).json)).toEqual([]);
  });
});

describe("BlobTrigger validation", () => {
  test.each<[string, () => BlobTrigger, string]>([
    ["re-triggering output", () => new BlobTrigger({ inputPath: "input/{name}.json", outputPath: "input/{name}_out.json" }), "an endless loop"],
    ["path without container", () => new BlobTrigger({ inputPath: "{name}.json" }), 'invalid inputPath "{name}.json"'],
    ["bad container", () => new BlobTrigger({ outputPath: "Out_Put/{blobname}.json" }), "invalid outputPath (container part)"],
    ["undefined output token", () => new BlobTrigger({ outputPath: "output/{other}.json" }), "token {other} is not defined by inputPath"],
    ["rand-guid output", () => new BlobTrigger({ outputPath: "output/{rand-guid}.json" }), "a second result"],
    ["function name", () => new BlobTrigger({ functionName: "1score" }), "invalid functionName"],
    ["connection with __", () => new BlobTrigger({ connectionName: "Aml__Blob" }), "invalid connectionName"],
    ["connection with -", () => new BlobTrigger({ connectionName: "aml-blob" }), "invalid connectionName"],
    ["account name", () => new BlobTrigger({ storageAccountName: "St-Bad" }), "invalid storageAccountName"],
    ["name and account", () => new BlobTrigger({ storageAccount: existingAccount, storageAccountName: "stother" }), "storageAccountName or storageAccount, not both"],
    ["createContainers false without account", () => new BlobTrigger({ createContainers: false }), "false only together with storageAccount"],
    ["incomplete account", () => new BlobTrigger({ storageAccount: { id: "x", name: "y" } as any }), "invalid storageAccount.primaryBlobEndpoint"],
    ["account id that is not an id", () => new BlobTrigger({ storageAccount: { ...existingAccount, id: "stdata" } }), 'invalid storageAccount.id "stdata": not an Azure resource id'],
    ["account id of another type", () => new BlobTrigger({ storageAccount: { ...existingAccount, id: existingAccount.id.replace("Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults") } }), "names a Microsoft.KeyVault/vaults, not a Microsoft.Storage/storageAccounts"],
    ["account id with a heredoc break-out", () => new BlobTrigger({ storageAccount: { ...existingAccount, id: `${existingAccount.id}\nEOF\nresource "x" "y" {}\nEOF` } }), "not an Azure resource id"],
    ["plain-HTTP endpoint", () => new BlobTrigger({ storageAccount: { ...existingAccount, primaryBlobEndpoint: "http://stdata.blob.core.windows.net/" } }), "invalid storageAccount.primaryBlobEndpoint"],
    ["endpoint with a template", () => new BlobTrigger({ storageAccount: { ...existingAccount, primaryQueueEndpoint: "https://${file(\"/etc/hostname\")}/" } }), "invalid storageAccount.primaryQueueEndpoint"],
    ["account name with a template", () => new BlobTrigger({ storageAccount: { ...existingAccount, name: "${file(\"x\")}" } }), "invalid storageAccount.name"],
    ["receipts container as input", () => new BlobTrigger({ inputPath: "azure-webjobs-hosts/{blobname}.json" }), "keeps its blob receipts"],
    ["output that drops an input token", () => new BlobTrigger({ inputPath: "input/{a}-{b}.json", outputPath: "output/{a}.json" }), "does not use {b}"],
    ["fixed output for a pattern input", () => new BlobTrigger({ outputPath: "output/result.json" }), "does not use {blobname}"],
    ["output two input blobs share", () => new BlobTrigger({ inputPath: "input/{a}/{b}", outputPath: "output/{a}-{b}" }), 'invalid outputPath "output/{a}-{b}": two input blobs can write the same result blob, one result replacing the other: input/x-y/z and input/x/y-z both write output/x-y-z'],
  ])("refuses %s", (_label, make, message) => {
    expect(make).toThrow(ValidationError);
    expect(make).toThrow(message);
  });

  test("messages follow '<owner>: invalid <prop> <value>: <problem>. Allowed: <allowed>'", () => {
    expect(() => new BlobTrigger({ connectionName: "a-b" })).toThrow(/^BlobTrigger: invalid connectionName "a-b": .+\. Allowed: .+/);
  });

  test("a trigger binds once", () => {
    const t = new BlobTrigger();
    t.bind(newStack(), fakeTarget);
    expect(() => t.bind(newStack(), fakeTarget)).toThrow("already bound");
  });
});
