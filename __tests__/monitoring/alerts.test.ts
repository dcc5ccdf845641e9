import { AmlFunctionDeployment, BlobTrigger, HttpTrigger, ServiceBusCardinality, ServiceBusTrigger } from "../../lib";
import { message } from "../error-message";
import { newStack, refTo, resourcesOf, sampleProps, synthJson } from "../helpers";
import { schemaProblems } from "../schema-check";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups";
const ONCALL = `${SUB}/rg-mon/providers/Microsoft.Insights/actionGroups/ag-oncall`;
const TEAM = `${SUB}/rg-mon/providers/microsoft.insights/actionGroups/ag-team`;

const alertsOf = (json: any): any[] => Object.values<any>(resourcesOf(json, "azurerm_monitor_metric_alert"));

describe("alerts: metric alerts on what can go wrong", () => {
  const stack = newStack();
  new AmlFunctionDeployment(stack, "churn", sampleProps({
    triggers: [new HttpTrigger(), new BlobTrigger(), new ServiceBusTrigger({ cardinality: ServiceBusCardinality.MANY, inputQueueName: "in", outputQueueName: "out" })],
    alerts: { actionGroupIds: [ONCALL, TEAM] },
  }));
  const json = synthJson(stack);

  test("one alert per signal: metric, scope, entity, threshold, severity, window", () => {
    const namespace = refTo(json, "azurerm_servicebus_namespace", "id");
    const trigger = refTo(json, "azurerm_storage_account", "id", (a) => a.name.includes("trg"));
    const got = alertsOf(json).map((a) => {
      const c = a.criteria[0];
      return [c.metric_namespace, c.metric_name, a.scopes.join(), c.dimension?.[0]?.values.join() ?? "-", `${c.aggregation} ${c.operator} ${c.threshold}`, `sev${a.severity}`, `${a.window_size}/${a.frequency}`];
    }).sort((x, y) => x.join(" ").localeCompare(y.join(" ")));
    const expected = [
      ["Microsoft.ServiceBus/namespaces", "ActiveMessages", namespace, "out-failed", "Maximum GreaterThanOrEqual 1", "sev2", "PT5M/PT1M"],
      ["Microsoft.ServiceBus/namespaces", "DeadletteredMessages", namespace, "in", "Maximum GreaterThanOrEqual 1", "sev2", "PT5M/PT1M"],
      ["Microsoft.Storage/storageAccounts/queueServices", "QueueMessageCount", `${trigger}/queueServices/default`, "-", "Maximum GreaterThanOrEqual 1", "sev2", "PT6H/PT1H"],
      ["Microsoft.Web/sites", "HealthCheckStatus", refTo(json, "azurerm_linux_function_app", "id"), "-", "Average LessThan 100", "sev1", "PT5M/PT1M"],
      ["Microsoft.Web/sites", "Http5xx", refTo(json, "azurerm_linux_function_app", "id"), "-", "Total GreaterThanOrEqual 5", "sev1", "PT5M/PT1M"],
      ["microsoft.insights/components", "requests/failed", refTo(json, "azurerm_application_insights", "id"), "-", "Count GreaterThanOrEqual 5", "sev2", "PT5M/PT1M"],
    ].sort((x, y) => x.join(" ").localeCompare(y.join(" ")));
    expect(got).toEqual(expected);
  });

  test("every alert notifies every action group, resolves by itself, and is named after the app", () => {
    for (const a of alertsOf(json)) {
      expect(a.action).toEqual([{ action_group_id: ONCALL }, { action_group_id: TEAM }]);
      expect(a.auto_mitigate).toBe(true);
      expect(a.name).toMatch(/^alert-func-churn-[0-9a-f]{8}-[a-z0-9-]+$/);
    }
    expect(new Set(alertsOf(json).map((a) => a.name)).size).toBe(6);
  });

  test("the Service Bus alerts look at their queue only (dimension EntityName)", () => {
    const sb = alertsOf(json).filter((a) => a.criteria[0].metric_namespace === "Microsoft.ServiceBus/namespaces");
    expect(sb.map((a) => a.criteria[0].dimension)).toEqual(expect.arrayContaining([[{ name: "EntityName", operator: "Include", values: ["in"] }], [{ name: "EntityName", operator: "Include", values: ["out-failed"] }]]));
  });

  test("schema-valid", () => {
    expect(schemaProblems(json)).toEqual([]);
  });
});

describe("alerts: variations", () => {
  test("thresholds from the props", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({
      triggers: [new HttpTrigger(), new ServiceBusTrigger({ cardinality: ServiceBusCardinality.MANY })],
      alerts: { actionGroupIds: [ONCALL], deadLetteredMessagesThreshold: 3, failedMessagesThreshold: 7, http5xxThreshold: 20 },
    }));
    const byMetric = Object.fromEntries(alertsOf(synthJson(stack)).map((a) => [a.criteria[0].metric_name, a.criteria[0].threshold]));
    expect(byMetric).toEqual({ DeadletteredMessages: 3, ActiveMessages: 7, Http5xx: 20, "requests/failed": 20, HealthCheckStatus: 100 });
  });

  test("no alerts prop, no alerts; an existing trigger account gets no poison-queue alert (its queue count is not the poison queue's)", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "quiet", sampleProps());
    const storageAccount = { id: `${SUB}/rg/providers/Microsoft.Storage/storageAccounts/platformdata`, name: "platformdata", primaryBlobEndpoint: "https://platformdata.blob.core.windows.net/", primaryQueueEndpoint: "https://platformdata.queue.core.windows.net/" };
    const namespace = { id: `${SUB}/rg/providers/Microsoft.ServiceBus/namespaces/platform-bus`, name: "platform-bus" };
    new AmlFunctionDeployment(stack, "loud", sampleProps({ triggers: [new BlobTrigger({ storageAccount }), new ServiceBusTrigger({ namespace })], alerts: { actionGroupIds: [ONCALL] } }));
    const alerts = alertsOf(synthJson(stack));
    expect(alerts.map((a) => a.criteria[0].metric_name).sort()).toEqual(["DeadletteredMessages", "HealthCheckStatus", "Http5xx", "requests/failed"]);
    // The dead-letter alert watches the input queue of the namespace passed in.
    expect(alerts.find((a) => a.criteria[0].metric_name === "DeadletteredMessages").scopes).toEqual([namespace.id]);
  });
});

describe("alerts: refused at synth", () => {
  const build = (alerts: unknown) => () => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ alerts: alerts as never }));

  test("no action group, an id that is not an action group", () => {
    expect(message(build({ actionGroupIds: [] }))).toBe(
      'AmlFunctionDeployment "churn": invalid alerts.actionGroupIds []: an alert nobody is notified of goes unseen. Allowed: a non-empty list of action group ids (Microsoft.Insights/actionGroups)',
    );
    const workspace = `${SUB}/rg/providers/Microsoft.OperationalInsights/workspaces/logs`;
    expect(message(build({ actionGroupIds: [ONCALL, workspace] }))).toContain(`invalid alerts.actionGroupIds[1] "${workspace}": the id names a Microsoft.OperationalInsights/workspaces, not a Microsoft.Insights/actionGroups`);
  });

  test("thresholds that are not whole numbers of at least 1, unknown options", () => {
    expect(message(build({ actionGroupIds: [ONCALL], http5xxThreshold: 0 }))).toBe(
      'AmlFunctionDeployment "churn": invalid alerts.http5xxThreshold 0: not a whole number of at least 1. Allowed: a whole number from 1 to 1000000',
    );
    expect(message(build({ actionGroupIds: [ONCALL], deadLetteredMessagesThreshold: 1.5 }))).toContain("invalid alerts.deadLetteredMessagesThreshold 1.5");
    expect(message(build({ actionGroupIds: [ONCALL], severity: 0 }))).toContain("invalid alerts.severity 0: not an alerts option");
  });
});
