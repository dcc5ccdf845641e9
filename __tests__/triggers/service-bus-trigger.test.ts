import { Construct } from "constructs";
import { TerraformOutput, TerraformStack, Testing, Token } from "cdktf";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { ServicebusNamespace } from "@cdktf/provider-azurerm/lib/servicebus-namespace";
import { ServicebusQueue } from "@cdktf/provider-azurerm/lib/servicebus-queue";
import { DataAzurermServicebusNamespace } from "@cdktf/provider-azurerm/lib/data-azurerm-servicebus-namespace";
import { ValidationError } from "../../lib/errors";
import { ServiceBusCardinality, ServiceBusSku, ServiceBusTrigger, ServiceBusTriggerProps } from "../../lib/triggers/service-bus-trigger";
import { isoDurationSeconds } from "../../lib/triggers/service-bus-durations";
import { TriggerBinding } from "../../lib/triggers/trigger";
import { schemaProblems } from "../schema-check";
import { CLIENT, fakeTarget, PRINCIPAL } from "../fake-target";


const existingNamespace = { id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/msg/providers/Microsoft.ServiceBus/namespaces/sb-shared", name: "sb-shared" };

function newStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app(), "test");
  new AzurermProvider(stack, "azurerm", { features: [{}] });
  return stack;
}

function bindIn(props: ServiceBusTriggerProps = {}): { binding: TriggerBinding; synth: string; json: any; resolvedSettings: { [k: string]: string } } {
  const stack = newStack();
  const binding = new ServiceBusTrigger(props).bind(stack, fakeTarget);
  new TerraformOutput(stack, "probe", { value: binding.appSettings });
  const synth = Testing.synth(stack);
  const json = JSON.parse(synth);
  return { binding, synth, json, resolvedSettings: json.output.probe.value };
}

function logicalIdOf(json: any, type: string, props: { [k: string]: unknown }): string {
  const matches = Object.entries<any>(json.resource?.[type] ?? {}).filter(([, body]) => Object.entries(props).every(([k, v]) => body[k] === v));
  if (matches.length !== 1) throw new Error(`expected one ${type} with ${JSON.stringify(props)}, found ${matches.length}`);
  return matches[0][0];
}

describe("ServiceBusTrigger defaults", () => {
  test("describes the function: a Service Bus trigger on inqueue, no output binding (the adapter sends)", () => {
    const { binding } = bindIn();
    expect(binding.functionName).toBe("score-queue");
    expect(binding.adapter).toBe("servicebus");
    expect(binding.bindings).toEqual([{ type: "serviceBusTrigger", direction: "in", name: "msg", queueName: "inqueue", connection: "AmlServiceBus", cardinality: "one" }]);
    expect(binding.adapterSettings).toEqual({ kind: "servicebus", connection: "AmlServiceBus", outputQueue: "outqueue", cardinality: "one", maxMessageBytes: 262144 });
    expect(binding.functionTimeout).toBe("00:10:00");
    expect(binding.httpPath).toBeUndefined();
  });

  test("creates a namespace sb-<base>-<suffix>: Standard, local (SAS) auth off, TLS 1.2", () => {
    const { synth, json } = bindIn();
    expect(synth).toHaveResourceWithProperties(ServicebusNamespace, {
      name: "sb-churn-0123abcd",
      location: "westeurope",
      resource_group_name: "rg-churn",
      sku: "Standard",
      local_auth_enabled: false,
      minimum_tls_version: "1.2",
      tags: { app: "churn" },
    });
    const ns = Object.values<any>(json.resource.azurerm_servicebus_namespace)[0];
    expect(ns.capacity).toBeUndefined();
  });

  test("input queue dead-letters after maxDeliveryCount; output queue drops duplicate message ids", () => {
    const { synth, json } = bindIn();
    const ns = logicalIdOf(json, "azurerm_servicebus_namespace", { name: "sb-churn-0123abcd" });
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, {
      name: "inqueue",
      namespace_id: `\${azurerm_servicebus_namespace.${ns}.id}`,
      max_delivery_count: 10,
      lock_duration: "PT1M",
      dead_lettering_on_message_expiration: true,
    });
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, {
      name: "outqueue",
      namespace_id: `\${azurerm_servicebus_namespace.${ns}.id}`,
      requires_duplicate_detection: true,
      // maxDeliveryCount 10 x (functionTimeout 10 min + lock 1 min)
      duplicate_detection_history_time_window: "PT1H50M",
    });
    expect(json.resource.azurerm_servicebus_queue[logicalIdOf(json, "azurerm_servicebus_queue", { name: "outqueue" })].max_message_size_in_kilobytes).toBeUndefined();
  });

  test("identity-based connection: fully qualified namespace, managed identity, client id; no key", () => {
    const { binding, json, resolvedSettings } = bindIn();
    const ns = logicalIdOf(json, "azurerm_servicebus_namespace", { name: "sb-churn-0123abcd" });
    expect(Object.keys(binding.appSettings!).sort()).toEqual(["AmlServiceBus__clientId", "AmlServiceBus__credential", "AmlServiceBus__fullyQualifiedNamespace"]);
    expect(resolvedSettings).toEqual({
      AmlServiceBus__fullyQualifiedNamespace: `\${azurerm_servicebus_namespace.${ns}.name}.servicebus.windows.net`,
      AmlServiceBus__credential: "managedidentity",
      AmlServiceBus__clientId: CLIENT,
    });
    expect(JSON.stringify(resolvedSettings)).not.toMatch(/SharedAccessKey|connection_string|primary_key/i);
  });

  test("Data Receiver on the input queue and Data Sender on the output queue, nothing else", () => {
    const { synth, json, binding } = bindIn();
    const input = logicalIdOf(json, "azurerm_servicebus_queue", { name: "inqueue" });
    const output = logicalIdOf(json, "azurerm_servicebus_queue", { name: "outqueue" });
    const roles = Object.values<any>(json.resource.azurerm_role_assignment);
    expect(roles).toHaveLength(2);
    const common = { principal_id: PRINCIPAL, principal_type: "ServicePrincipal", skip_service_principal_aad_check: true };
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { ...common, role_definition_name: "Azure Service Bus Data Receiver", scope: `\${azurerm_servicebus_queue.${input}.id}` });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { ...common, role_definition_name: "Azure Service Bus Data Sender", scope: `\${azurerm_servicebus_queue.${output}.id}` });
    expect(binding.dependencies).toHaveLength(2);
    const ids = binding.dependencies!.map((d) => (d as RoleAssignment).friendlyUniqueId).sort();
    expect(ids).toEqual(Object.keys(json.resource.azurerm_role_assignment).sort());
  });

  test("host.json: prefetch 0, auto-complete on success, 4 concurrent calls; no batch size for single messages", () => {
    const { binding } = bindIn();
    expect(binding.hostExtensions).toEqual({ serviceBus: { prefetchCount: 0, autoCompleteMessages: true, maxConcurrentCalls: 4, maxAutoLockRenewalDuration: "00:10:00" } });
  });

  test("outputs namespace and queue names under the deployment's output ids", () => {
    const { json } = bindIn();
    const ns = logicalIdOf(json, "azurerm_servicebus_namespace", { name: "sb-churn-0123abcd" });
    expect(json.output.churn_servicebus_namespace_name.value).toBe(`\${azurerm_servicebus_namespace.${ns}.name}`);
    expect(json.output.churn_servicebus_input_queue.value).toBe("inqueue");
    expect(json.output.churn_servicebus_output_queue.value).toBe("outqueue");
  });
});

describe("ServiceBusTrigger options", () => {
  test("batches: cardinality many in the binding and adapter settings, maxMessageBatchSize in host.json", () => {
    const { binding } = bindIn({ cardinality: ServiceBusCardinality.MANY, maxMessageBatchSize: 64, prefetchCount: 10 });
    expect(binding.bindings[0].cardinality).toBe("many");
    expect(binding.adapterSettings).toMatchObject({ cardinality: "many" });
    expect(binding.hostExtensions).toEqual({ serviceBus: { prefetchCount: 10, autoCompleteMessages: true, maxMessageBatchSize: 64, maxAutoLockRenewalDuration: "00:10:00" } });
  });

  test("batches default to 32 messages", () => {
    expect(bindIn({ cardinality: ServiceBusCardinality.MANY }).binding.hostExtensions!.serviceBus.maxMessageBatchSize).toBe(32);
  });

  test("queue settings are passed through", () => {
    const { synth } = bindIn({ inputQueueName: "requests", outputQueueName: "results", maxDeliveryCount: 3, lockDuration: "PT5M", duplicateDetectionWindow: "P1D" });
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, { name: "requests", max_delivery_count: 3, lock_duration: "PT5M" });
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, { name: "results", requires_duplicate_detection: true, duplicate_detection_history_time_window: "P1D" });
  });

  test("Premium: one messaging unit and one partition", () => {
    const { synth } = bindIn({ sku: ServiceBusSku.PREMIUM });
    expect(synth).toHaveResourceWithProperties(ServicebusNamespace, { sku: "Premium", capacity: 1, premium_messaging_partitions: 1, local_auth_enabled: false });
  });

  test("an existing namespace: only the queues and roles are created in it", () => {
    const { synth, json, resolvedSettings } = bindIn({ namespace: existingNamespace });
    expect(json.resource.azurerm_servicebus_namespace).toBeUndefined();
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, { name: "inqueue", namespace_id: existingNamespace.id });
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, { name: "outqueue", namespace_id: existingNamespace.id, requires_duplicate_detection: true });
    expect(resolvedSettings.AmlServiceBus__fullyQualifiedNamespace).toBe("sb-shared.servicebus.windows.net");
    expect(json.output.churn_servicebus_namespace_name.value).toBe("sb-shared");
  });

  test("createQueues: false is respected; roles are scoped to the existing queues' ids", () => {
    const { synth, json } = bindIn({ namespace: existingNamespace, createQueues: false });
    expect(json.resource.azurerm_servicebus_queue).toBeUndefined();
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { role_definition_name: "Azure Service Bus Data Receiver", scope: `${existingNamespace.id}/queues/inqueue` });
    expect(synth).toHaveResourceWithProperties(RoleAssignment, { role_definition_name: "Azure Service Bus Data Sender", scope: `${existingNamespace.id}/queues/outqueue` });
  });

  test("a non-default function name gets its own namespace, connection prefix and output names", () => {
    const { binding, json } = bindIn({ functionName: "score-orders" });
    expect(binding.bindings[0].connection).toBe("AmlServiceBus_score_orders");
    expect(binding.adapterSettings).toMatchObject({ connection: "AmlServiceBus_score_orders" });
    const name = Object.values<any>(json.resource.azurerm_servicebus_namespace)[0].name;
    expect(name).toMatch(/^sb-churn-[0-9a-f]{5}-0123abcd$/);
    expect(Object.keys(json.output).filter((k) => k !== "probe").sort()).toEqual([
      "churn_score-orders_servicebus_input_queue",
      "churn_score-orders_servicebus_namespace_name",
      "churn_score-orders_servicebus_output_queue",
    ]);
  });

  test("two Service Bus triggers in one stack do not collide", () => {
    const stack = newStack();
    const a = new ServiceBusTrigger().bind(new Construct(stack, "t0"), fakeTarget);
    const b = new ServiceBusTrigger({ functionName: "score-b" }).bind(new Construct(stack, "t1"), fakeTarget);
    const json = JSON.parse(Testing.synth(stack));
    expect(new Set(Object.values<any>(json.resource.azurerm_servicebus_namespace).map((n) => n.name)).size).toBe(2);
    expect(Object.keys(b.appSettings!).some((k) => k in a.appSettings!)).toBe(false);
    expect(Object.keys(json.output)).toHaveLength(6);
  });

  test("explicit namespaceName and connectionName are used", () => {
    const { synth, binding } = bindIn({ namespaceName: "sb-my-scoring", connectionName: "Orders" });
    expect(synth).toHaveResourceWithProperties(ServicebusNamespace, { name: "sb-my-scoring" });
    expect(Object.keys(binding.appSettings!)).toContain("Orders__fullyQualifiedNamespace");
  });
});

describe("ServiceBusTrigger against the azurerm 4.55.0 schema", () => {
  test.each<[string, ServiceBusTriggerProps]>([
    ["defaults", {}],
    ["premium batches", { sku: ServiceBusSku.PREMIUM, cardinality: ServiceBusCardinality.MANY }],
    ["existing namespace", { namespace: existingNamespace }],
    ["existing premium namespace, batches, 10 MB", { namespace: { ...existingNamespace, sku: "Premium" }, cardinality: ServiceBusCardinality.MANY, maxMessageSizeInKilobytes: 10240 }],
  ])("every argument exists and required ones are set (%s)", (_label, props) => {
    expect(schemaProblems(bindIn(props).json)).toEqual([]);
  });
});

describe("ServiceBusTrigger validation", () => {
  test.each<[string, ServiceBusTriggerProps, string]>([
    ["same queue in and out", { inputQueueName: "q1", outputQueueName: "Q1" }, "every result would be scored again"],
    ["bad queue name", { inputQueueName: "-in" }, "invalid inputQueueName"],
    ["bad namespace name", { namespaceName: "sb-bad-sb" }, "invalid namespaceName"],
    ["namespace and name", { namespace: existingNamespace, namespaceName: "sb-other-name" }, "namespaceName or namespace, not both"],
    ["namespace and sku", { namespace: existingNamespace, sku: ServiceBusSku.PREMIUM }, "sku or namespace, not both"],
    ["string sku", { sku: "Basic" as any }, "Basic has no duplicate detection"],
    ["unknown cardinality name", { cardinality: "several" as any }, "invalid cardinality \"several\""],
    ["createQueues false without namespace", { createQueues: false }, "false only together with namespace"],
    ["maxDeliveryCount 0", { maxDeliveryCount: 0 }, "invalid maxDeliveryCount 0"],
    ["maxDeliveryCount 2.5", { maxDeliveryCount: 2.5 }, "invalid maxDeliveryCount 2.5"],
    ["maxDeliveryCount 2001", { maxDeliveryCount: 2001 }, "invalid maxDeliveryCount 2001"],
    ["lock too long", { lockDuration: "PT6M" }, 'invalid lockDuration "PT6M": 360 seconds is outside'],
    ["lock not ISO", { lockDuration: "60s" }, "not an ISO 8601 duration"],
    ["window too short", { duplicateDetectionWindow: "PT10S" }, "invalid duplicateDetectionWindow"],
    ["window too long", { duplicateDetectionWindow: "P8D" }, "invalid duplicateDetectionWindow"],
    ["negative prefetch", { prefetchCount: -1 }, "invalid prefetchCount -1"],
    ["zero concurrency", { maxConcurrentCalls: 0 }, "invalid maxConcurrentCalls 0"],
    ["batch size with ONE", { maxMessageBatchSize: 10 }, "maxMessageBatchSize with cardinality MANY"],
    ["concurrency with MANY", { cardinality: ServiceBusCardinality.MANY, maxConcurrentCalls: 2 }, "maxConcurrentCalls with cardinality ONE"],
    ["batch size too big", { cardinality: ServiceBusCardinality.MANY, maxMessageBatchSize: 5000 }, "invalid maxMessageBatchSize 5000"],
    ["function name", { functionName: "score queue" }, "invalid functionName"],
    ["connection name", { connectionName: "Aml__Sb" }, "invalid connectionName"],
    ["window shorter than the retries", { duplicateDetectionWindow: "PT1H" }, 'invalid duplicateDetectionWindow "PT1H": a message is delivered up to maxDeliveryCount (10) times of up to functionTimeout (PT10M)'],
    ["window shorter than the retries, longer timeout", { duplicateDetectionWindow: "PT2H", functionTimeout: "PT30M", maxDeliveryCount: 5 }, "at least maxDeliveryCount × functionTimeout = PT2H30M"],
    ["retries longer than 7 days", { maxDeliveryCount: 2000, functionTimeout: "PT10M" }, "invalid maxDeliveryCount 2000"],
    ["function timeout too long", { functionTimeout: "PT13H" }, 'invalid functionTimeout "PT13H"'],
    ["function timeout not ISO", { functionTimeout: "00:10:00" }, "not an ISO 8601 duration"],
    ["failed queue with ONE", { failedQueueName: "errors" }, "failedQueueName with cardinality MANY"],
    ["failed queue = output queue", { cardinality: ServiceBusCardinality.MANY, failedQueueName: "OUTQUEUE" }, "it is the outputQueueName queue"],
    ["failed queue = input queue", { cardinality: ServiceBusCardinality.MANY, failedQueueName: "inqueue" }, "it is the inputQueueName queue"],
    ["bad failed queue name", { cardinality: ServiceBusCardinality.MANY, failedQueueName: "bad name!" }, 'invalid failedQueueName "bad name!"'],
    ["derived failed queue name too long", { cardinality: ServiceBusCardinality.MANY, outputQueueName: "o".repeat(258) }, "invalid failedQueueName (derived from outputQueueName)"],
    ["message size on Standard", { maxMessageSizeInKilobytes: 1024 }, "a Standard namespace accepts messages of 256 KB"],
    ["message size on Premium too small", { sku: ServiceBusSku.PREMIUM, maxMessageSizeInKilobytes: 512 }, "invalid maxMessageSizeInKilobytes 512"],
    ["message size on Premium too big", { sku: ServiceBusSku.PREMIUM, maxMessageSizeInKilobytes: 102401 }, "invalid maxMessageSizeInKilobytes 102401"],
    ["message size, existing namespace of unknown tier, queues created", { namespace: existingNamespace, maxMessageSizeInKilobytes: 1024 }, "the tier of the existing namespace is not known at synth"],
    ["existing Basic namespace (ref with sku)", { namespace: { ...existingNamespace, sku: "Basic" } }, 'invalid namespace.sku "Basic": a Basic namespace has no duplicate detection'],
    ["existing namespace of an unknown tier name", { namespace: { ...existingNamespace, sku: "Gold" } }, 'invalid namespace.sku "Gold"'],
  ])("refuses %s", (_label, props, message) => {
    expect(() => new ServiceBusTrigger(props)).toThrow(ValidationError);
    expect(() => new ServiceBusTrigger(props)).toThrow(message);
  });

  test.each<[string, ServiceBusTriggerProps, string]>([
    // Issue 7 item 9: an id with a line break and EOF would add HCL of the caller's choosing to cdk.tf.
    ["an existing namespace id with a line break and EOF", { namespace: { ...existingNamespace, id: `${existingNamespace.id}\nEOF\nresource "null_resource" "x" {}\n` } }, "invalid namespace.id"],
    ["an existing namespace id of another resource type", { namespace: { ...existingNamespace, id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/msg/providers/Microsoft.Storage/storageAccounts/st1" } }, "not a Microsoft.ServiceBus/namespaces"],
    ["an existing namespace name that breaks out of an HCL string", { namespace: { ...existingNamespace, name: 'sb-shared"}' } }, 'invalid namespace.name "sb-shared\\"}"'],
    ["an existing namespace name with a template sequence", { namespace: { ...existingNamespace, name: "sb-${file(\"/etc/hostname\")}" } }, "invalid namespace.name"],
  ])("refuses %s (it is written into the Terraform configuration and app settings)", (_label, props, message) => {
    expect(() => new ServiceBusTrigger(props)).toThrow(ValidationError);
    expect(() => new ServiceBusTrigger(props)).toThrow(message);
  });

  test("an existing namespace given by reference (a data source) is accepted unchecked", () => {
    const stack = newStack();
    const ns = new DataAzurermServicebusNamespace(stack, "ns", { name: "sb-shared", resourceGroupName: "msg" });
    expect(() => new ServiceBusTrigger({ namespace: ns })).not.toThrow();
    expect(() => new ServiceBusTrigger({ namespace: { id: `${ns.id}`, name: Token.asString(ns.name) } })).not.toThrow();
  });

  test("messages follow '<owner>: invalid <prop> <value>: <problem>. Allowed: <allowed>'", () => {
    expect(() => new ServiceBusTrigger({ maxDeliveryCount: 0 })).toThrow(/^ServiceBusTrigger: invalid maxDeliveryCount 0: .+\. Allowed: an integer from 1 to 2000$/);
  });

  test("a trigger binds once", () => {
    const t = new ServiceBusTrigger();
    t.bind(newStack(), fakeTarget);
    expect(() => t.bind(newStack(), fakeTarget)).toThrow("already bound");
  });
});

describe("isoDurationSeconds", () => {
  test.each<[string, number | undefined]>([
    ["PT1M", 60],
    ["PT1H", 3600],
    ["P7D", 604800],
    ["P1DT2H3M4.5S", 93784.5],
    ["PT", undefined],
    ["P", undefined],
    ["1M", undefined],
    ["PT1M30", undefined],
  ])("%s -> %s", (value, seconds) => {
    expect(isoDurationSeconds(value)).toBe(seconds);
  });
});

describe("ServiceBusTrigger batches: failed queue, sizes, timeouts", () => {
  test("cardinality MANY creates <outputQueue>-failed with duplicate detection, Data Sender on it only, and an output", () => {
    const { synth, json, binding } = bindIn({ cardinality: ServiceBusCardinality.MANY });
    const failed = logicalIdOf(json, "azurerm_servicebus_queue", { name: "outqueue-failed" });
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, { name: "outqueue-failed", requires_duplicate_detection: true, duplicate_detection_history_time_window: "PT1H50M" });
    const onFailed = Object.values<any>(json.resource.azurerm_role_assignment).filter((r) => r.scope === `\${azurerm_servicebus_queue.${failed}.id}`);
    expect(onFailed.map((r) => r.role_definition_name)).toEqual(["Azure Service Bus Data Sender"]);
    expect(Object.values<any>(json.resource.azurerm_role_assignment)).toHaveLength(3);
    expect(binding.dependencies).toHaveLength(3);
    expect(binding.adapterSettings).toEqual({ kind: "servicebus", connection: "AmlServiceBus", outputQueue: "outqueue", failedQueue: "outqueue-failed", cardinality: "many", maxMessageBytes: 262144 });
    expect(json.output.churn_servicebus_failed_queue.value).toBe("outqueue-failed");
  });

  test("cardinality ONE has no failed queue", () => {
    const { json, binding } = bindIn();
    expect(Object.values<any>(json.resource.azurerm_servicebus_queue).map((q) => q.name).sort()).toEqual(["inqueue", "outqueue"]);
    expect(binding.adapterSettings!.failedQueue).toBeUndefined();
    expect(json.output.churn_servicebus_failed_queue).toBeUndefined();
  });

  test("failedQueueName is used; with createQueues false the role is scoped to the existing queue's id", () => {
    const { synth } = bindIn({ cardinality: "many", failedQueueName: "scoring-errors" });
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, { name: "scoring-errors", requires_duplicate_detection: true });
    const existing = bindIn({ cardinality: "many", namespace: existingNamespace, createQueues: false, failedQueueName: "scoring-errors" });
    expect(existing.synth).toHaveResourceWithProperties(RoleAssignment, { role_definition_name: "Azure Service Bus Data Sender", scope: `${existingNamespace.id}/queues/scoring-errors` });
  });

  test("Premium: message size on every queue the trigger creates and in aml.json (default 1024 KB)", () => {
    const premium = bindIn({ sku: ServiceBusSku.PREMIUM, cardinality: ServiceBusCardinality.MANY });
    const sizes = Object.values<any>(premium.json.resource.azurerm_servicebus_queue).map((q) => [q.name, q.max_message_size_in_kilobytes]);
    expect(sizes.sort()).toEqual([["inqueue", 1024], ["outqueue", 1024], ["outqueue-failed", 1024]]);
    expect(premium.binding.adapterSettings!.maxMessageBytes).toBe(1024 * 1024);
    const big = bindIn({ sku: "Premium", maxMessageSizeInKilobytes: 102400 });
    expect(big.synth).toHaveResourceWithProperties(ServicebusQueue, { name: "outqueue", max_message_size_in_kilobytes: 102400 });
    expect(big.binding.adapterSettings!.maxMessageBytes).toBe(102400 * 1024);
  });

  test("existing namespace of unknown tier: the safe 256 KB; a size may describe existing queues", () => {
    expect(bindIn({ namespace: existingNamespace }).binding.adapterSettings!.maxMessageBytes).toBe(262144);
    const declared = bindIn({ namespace: existingNamespace, createQueues: false, maxMessageSizeInKilobytes: 2048 });
    expect(declared.binding.adapterSettings!.maxMessageBytes).toBe(2048 * 1024);
    expect(declared.json.resource.azurerm_servicebus_queue).toBeUndefined();
  });

  test("functionTimeout sets host.json functionTimeout and the lock renewal, and widens the default window", () => {
    const { binding, synth } = bindIn({ functionTimeout: "PT30M", maxDeliveryCount: 5, lockDuration: "PT2M" });
    expect(binding.functionTimeout).toBe("00:30:00");
    expect(binding.hostExtensions!.serviceBus.maxAutoLockRenewalDuration).toBe("00:30:00");
    expect(synth).toHaveResourceWithProperties(ServicebusQueue, { name: "outqueue", duplicate_detection_history_time_window: "PT2H40M" });
  });

  test("a window exactly maxDeliveryCount × functionTimeout is accepted", () => {
    expect(() => new ServiceBusTrigger({ maxDeliveryCount: 6, functionTimeout: "PT10M", duplicateDetectionWindow: "PT1H" })).not.toThrow();
  });

  test("the default window is whole seconds, also with a fractional lock duration", () => {
    expect(new ServiceBusTrigger({ maxDeliveryCount: 3, lockDuration: "PT5.5S" }).duplicateDetectionWindow).toBe("PT30M17S");
  });

  test("the default window is capped at 7 days", () => {
    expect(new ServiceBusTrigger({ maxDeliveryCount: 100, functionTimeout: "PT1H40M" }).duplicateDetectionWindow).toBe("P7D");
  });
});

describe("ServiceBusTrigger with an existing namespace: what is checked at synth", () => {
  function existingResource(config: { sku: string; localAuthEnabled?: boolean; minimumTlsVersion?: string; publicNetworkAccessEnabled?: boolean }): { stack: TerraformStack; ns: ServicebusNamespace } {
    const stack = newStack();
    const ns = new ServicebusNamespace(stack, "shared", { name: "sb-shared-ns", location: "westeurope", resourceGroupName: "rg-msg", ...config });
    return { stack, ns };
  }

  test("a ServicebusNamespace resource of SKU Basic is refused, naming the value", () => {
    const { ns } = existingResource({ sku: "Basic" });
    expect(() => new ServiceBusTrigger({ namespace: ns })).toThrow(ValidationError);
    expect(() => new ServiceBusTrigger({ namespace: ns })).toThrow(/^ServiceBusTrigger: invalid namespace.sku "Basic": a Basic namespace has no duplicate detection.*Allowed: an existing namespace of tier Standard or Premium$/);
  });

  test("a Premium resource is recognised (message size allowed and set on the queues)", () => {
    const { stack, ns } = existingResource({ sku: "Premium" });
    const trigger = new ServiceBusTrigger({ namespace: ns, maxMessageSizeInKilobytes: 4096 });
    expect(trigger.namespaceSku).toBe("Premium");
    trigger.bind(stack, fakeTarget);
    expect(Testing.synth(stack)).toHaveResourceWithProperties(ServicebusQueue, { name: "outqueue", max_message_size_in_kilobytes: 4096 });
  });

  test("a Standard resource: message size refused", () => {
    const { ns } = existingResource({ sku: "standard" });
    expect(new ServiceBusTrigger({ namespace: ns }).namespaceSku).toBe("Standard");
    expect(() => new ServiceBusTrigger({ namespace: ns, maxMessageSizeInKilobytes: 1024 })).toThrow("a Standard namespace accepts messages of 256 KB");
  });

  test("weaker settings of an existing resource are reported as warnings", () => {
    const { stack, ns } = existingResource({ sku: "Standard", localAuthEnabled: true, minimumTlsVersion: "1.0", publicNetworkAccessEnabled: false });
    const scope = new Construct(stack, "trigger");
    new ServiceBusTrigger({ namespace: ns }).bind(scope, fakeTarget);
    const warnings = scope.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data));
    expect(warnings).toHaveLength(3);
    expect(warnings.join("\n")).toMatch(/local \(SAS key\) authentication[\s\S]*TLS 1\.0[\s\S]*public network access off/);
  });

  test("a data source: its tier arrives at apply, so it cannot be checked; Standard-sized, queues and roles created", () => {
    const stack = newStack();
    const data = new DataAzurermServicebusNamespace(stack, "existing", { name: "sb-shared", resourceGroupName: "rg-msg" });
    const trigger = new ServiceBusTrigger({ namespace: data, cardinality: "many" });
    expect(trigger.namespaceSku).toBeUndefined();
    const binding = trigger.bind(stack, fakeTarget);
    expect(binding.adapterSettings!.maxMessageBytes).toBe(262144);
    const json = JSON.parse(Testing.synth(stack));
    expect(Object.values<any>(json.resource.azurerm_servicebus_queue).map((q) => q.name).sort()).toEqual(["inqueue", "outqueue", "outqueue-failed"]);
    expect(schemaProblems(json)).toEqual([]);
  });

  test("a namespace whose tier is a Terraform reference (a data source) cannot be checked: accepted as Standard-sized", () => {
    const stack = newStack();
    const ref = { id: existingNamespace.id, name: "sb-shared", sku: Token.asString({ Ref: "data.azurerm_servicebus_namespace.x.sku" }) };
    const trigger = new ServiceBusTrigger({ namespace: ref });
    expect(trigger.namespaceSku).toBeUndefined();
    expect(trigger.maxMessageSizeInKilobytes).toBe(256);
    trigger.bind(stack, fakeTarget);
  });
});
