/**
 * Metric alerts (`azurerm_monitor_metric_alert`): the parts of a deployment declare what can go
 * wrong with what they created as {@link MetricAlertNeed}s (data); the deployment creates the
 * alerts when it has `alerts`, with the thresholds and action groups given there.
 *
 * Metric names and dimensions (Azure Monitor supported metrics): Service Bus namespaces
 * `DeadletteredMessages` and `ActiveMessages` (dimension `EntityName` = queue), storage queue
 * services `QueueMessageCount` (whole account, emitted hourly), sites `Http5xx` and
 * `HealthCheckStatus`, Application Insights `requests/failed`.
 */
import { Construct } from "constructs";
import { MonitorMetricAlert } from "@cdktf/provider-azurerm/lib/monitor-metric-alert";
import { checkPropsObject, invalid } from "../errors";
import { validateResourceId } from "../validation/resource-id";

/** Props of the `alerts` prop of AmlFunctionDeployment. */
export interface AlertOptions {
  /** Existing action groups (`Microsoft.Insights/actionGroups` ids) that every alert notifies. */
  readonly actionGroupIds: string[];
  /**
   * Messages that ran out of retries, per input queue: dead-lettered messages of a Service Bus
   * trigger's input queue, and messages in a blob trigger's poison queue.
   * @default 1
   */
  readonly deadLetteredMessagesThreshold?: number;
  /**
   * Messages waiting in a Service Bus trigger's failed-messages queue (`<outputQueue>-failed`,
   * cardinality MANY).
   * @default 1
   */
  readonly failedMessagesThreshold?: number;
  /**
   * HTTP 5xx answers of the function app per 5 minutes; also the threshold of failed invocations
   * (every trigger) that Application Insights counts per 5 minutes.
   * @default 5
   */
  readonly http5xxThreshold?: number;
}

/** Which threshold of {@link AlertOptions} an alert compares with. */
export type AlertThreshold = "deadLetteredMessages" | "failedMessages" | "http5xx";

/** A metric alert a part of the deployment asks for. */
export interface MetricAlertNeed {
  /** Literal and unique within the deployment: part of the alert's name and construct id. */
  readonly key: string;
  readonly description: string;
  /** The resource whose metric is watched. */
  readonly scope: string;
  readonly metricNamespace: string;
  readonly metricName: string;
  readonly aggregation: "Average" | "Count" | "Maximum" | "Minimum" | "Total";
  readonly operator: "GreaterThanOrEqual" | "LessThan";
  /** A threshold of the `alerts` prop, or a fixed number. */
  readonly threshold: AlertThreshold | number;
  /** Only this entity of the resource (a Service Bus queue). */
  readonly dimension?: { readonly name: string; readonly values: string[] };
  /** 0 critical, 1 error, 2 warning, 3 informational. */
  readonly severity: 0 | 1 | 2 | 3;
  /** ISO 8601: the period the metric is aggregated over, and how often it is evaluated. */
  readonly windowSize: string;
  readonly frequency: string;
}

export const DEFAULT_DEAD_LETTERED_THRESHOLD = 1;
export const DEFAULT_FAILED_MESSAGES_THRESHOLD = 1;
export const DEFAULT_HTTP_5XX_THRESHOLD = 5;

const OPTION_NAMES = ["actionGroupIds", "deadLetteredMessagesThreshold", "failedMessagesThreshold", "http5xxThreshold"];

/** Checks `alerts`; throws a ValidationError naming the bad property. */
export function validateAlertOptions(owner: string, alerts: AlertOptions): AlertOptions {
  checkPropsObject(owner, alerts, "not an object", "{ actionGroupIds, deadLetteredMessagesThreshold?, failedMessagesThreshold?, http5xxThreshold? }");
  for (const key of Object.keys(alerts)) {
    if (!OPTION_NAMES.includes(key)) invalid(owner, `alerts.${key}`, (alerts as unknown as Record<string, unknown>)[key], "not an alerts option", OPTION_NAMES.join(", "));
  }
  if (!Array.isArray(alerts.actionGroupIds) || alerts.actionGroupIds.length === 0) {
    invalid(owner, "alerts.actionGroupIds", alerts.actionGroupIds, "an alert nobody is notified of goes unseen", "a non-empty list of action group ids (Microsoft.Insights/actionGroups)");
  }
  alerts.actionGroupIds.forEach((id, i) => validateResourceId(owner, `alerts.actionGroupIds[${i}]`, id, "Microsoft.Insights/actionGroups"));
  for (const prop of ["deadLetteredMessagesThreshold", "failedMessagesThreshold", "http5xxThreshold"] as const) {
    const v = alerts[prop];
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 1_000_000)) {
      invalid(owner, `alerts.${prop}`, v, "not a whole number of at least 1", "a whole number from 1 to 1000000");
    }
  }
  return alerts;
}

function thresholdValue(options: AlertOptions, threshold: AlertThreshold | number): number {
  if (typeof threshold === "number") return threshold;
  switch (threshold) {
    case "deadLetteredMessages":
      return options.deadLetteredMessagesThreshold ?? DEFAULT_DEAD_LETTERED_THRESHOLD;
    case "failedMessages":
      return options.failedMessagesThreshold ?? DEFAULT_FAILED_MESSAGES_THRESHOLD;
    case "http5xx":
      return options.http5xxThreshold ?? DEFAULT_HTTP_5XX_THRESHOLD;
  }
}

/** Where the alerts go and how they are named (`alert-<prefix>-<key>`). */
export interface AlertPlacement {
  readonly owner: string;
  readonly namePrefix: string;
  readonly resourceGroupName: string;
  readonly tags?: { [key: string]: string };
}

/** Creates one metric alert per need under `scope`; two needs with one key are refused. */
export function createMetricAlerts(scope: Construct, needs: readonly MetricAlertNeed[], options: AlertOptions, placement: AlertPlacement): MonitorMetricAlert[] {
  const seen = new Set<string>();
  return needs.map((need) => {
    if (seen.has(need.key)) invalid(placement.owner, "triggers", need.key, "two parts of the deployment ask for the same alert", "distinct function names");
    seen.add(need.key);
    return new MonitorMetricAlert(scope, `alert-${need.key}`, {
      name: `alert-${placement.namePrefix}-${need.key}`,
      resourceGroupName: placement.resourceGroupName,
      scopes: [need.scope],
      description: need.description,
      severity: need.severity,
      windowSize: need.windowSize,
      frequency: need.frequency,
      autoMitigate: true,
      criteria: [{
        metricNamespace: need.metricNamespace,
        metricName: need.metricName,
        aggregation: need.aggregation,
        operator: need.operator,
        threshold: thresholdValue(options, need.threshold),
        dimension: need.dimension === undefined ? undefined : [{ name: need.dimension.name, operator: "Include", values: need.dimension.values }],
      }],
      action: options.actionGroupIds.map((actionGroupId) => ({ actionGroupId })),
      tags: placement.tags,
    });
  });
}

// ---- The alerts the parts ask for.

/** Dead-lettered messages of one queue of a Service Bus namespace. */
export function deadLetteredMessagesAlert(key: string, namespaceId: string, queue: string): MetricAlertNeed {
  return {
    key,
    description: `Messages of queue ${queue} were dead-lettered: they failed on every delivery`,
    scope: namespaceId,
    metricNamespace: "Microsoft.ServiceBus/namespaces",
    metricName: "DeadletteredMessages",
    aggregation: "Maximum",
    operator: "GreaterThanOrEqual",
    threshold: "deadLetteredMessages",
    dimension: { name: "EntityName", values: [queue] },
    severity: 2,
    windowSize: "PT5M",
    frequency: "PT1M",
  };
}

/** Messages waiting in a Service Bus trigger's failed-messages queue. */
export function failedMessagesAlert(key: string, namespaceId: string, queue: string): MetricAlertNeed {
  return {
    key,
    description: `Messages wait in the failed-messages queue ${queue}: they could not be scored`,
    scope: namespaceId,
    metricNamespace: "Microsoft.ServiceBus/namespaces",
    metricName: "ActiveMessages",
    aggregation: "Maximum",
    operator: "GreaterThanOrEqual",
    threshold: "failedMessages",
    dimension: { name: "EntityName", values: [queue] },
    severity: 2,
    windowSize: "PT5M",
    frequency: "PT1M",
  };
}

/**
 * Messages in the queues of a storage account: the blob trigger's poison queue when it is the
 * account's only queue (an account the trigger created). Storage emits the count once an hour
 * for the whole account, so the alert looks at the last 6 hours, every hour.
 */
export function poisonQueueAlert(key: string, storageAccountId: string, queue: string): MetricAlertNeed {
  return {
    key,
    description: `Blobs failed on every try: their messages are in ${queue} (the storage account's queue count, reported hourly)`,
    scope: `${storageAccountId}/queueServices/default`,
    metricNamespace: "Microsoft.Storage/storageAccounts/queueServices",
    metricName: "QueueMessageCount",
    aggregation: "Maximum",
    operator: "GreaterThanOrEqual",
    threshold: "deadLetteredMessages",
    severity: 2,
    windowSize: "PT6H",
    frequency: "PT1H",
  };
}

/** HTTP 5xx answers of the function app. */
export function http5xxAlert(appId: string): MetricAlertNeed {
  return {
    key: "http-5xx",
    description: "The function app answered HTTP 5xx (server errors)",
    scope: appId,
    metricNamespace: "Microsoft.Web/sites",
    metricName: "Http5xx",
    aggregation: "Total",
    operator: "GreaterThanOrEqual",
    threshold: "http5xx",
    severity: 1,
    windowSize: "PT5M",
    frequency: "PT1M",
  };
}

/** The share of healthy instances (health check pings answered 2xx) below 100 %. */
export function healthCheckAlert(appId: string): MetricAlertNeed {
  return {
    key: "health-check",
    description: "Instances of the function app fail their health check (init() failed, or the instance does not answer)",
    scope: appId,
    metricNamespace: "Microsoft.Web/sites",
    metricName: "HealthCheckStatus",
    aggregation: "Average",
    operator: "LessThan",
    threshold: 100,
    severity: 1,
    windowSize: "PT5M",
    frequency: "PT1M",
  };
}

/** Failed invocations (requests) of every function, as Application Insights counts them. */
export function failedRequestsAlert(insightsId: string): MetricAlertNeed {
  return {
    key: "failed-requests",
    description: "Function invocations failed (every trigger), as Application Insights counts them",
    scope: insightsId,
    metricNamespace: "microsoft.insights/components",
    metricName: "requests/failed",
    aggregation: "Count",
    operator: "GreaterThanOrEqual",
    threshold: "http5xx",
    severity: 2,
    windowSize: "PT5M",
    frequency: "PT1M",
  };
}
