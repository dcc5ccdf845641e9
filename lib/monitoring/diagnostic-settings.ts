/**
 * Diagnostic settings (`azurerm_monitor_diagnostic_setting`): resource logs and platform metrics
 * of what a deployment creates, sent to the deployment's Log Analytics workspace. Scanners flag a
 * function app, registry, storage account or Service Bus namespace without one.
 *
 * Categories, per resource type (azurerm 4.55: `enabled_log { category | category_group }` and
 * `enabled_metric { category }`; the older `metric` block is deprecated):
 * - function app (Microsoft.Web/sites): log category `FunctionAppLogs` (App Service sites do not
 *   take the `allLogs` category group; Azure Policy's category-group initiative leaves them out
 *   for that reason), metrics `AllMetrics`;
 * - container registry and Service Bus namespace: category group `allLogs`, metrics `AllMetrics`;
 * - storage: the account itself has metrics only (`Transaction`); logs are per service, so the
 *   blob, queue and table services (`<account id>/blobServices/default`, ...) each get `allLogs`
 *   and `Transaction`. Storage has no `AllMetrics` category.
 */
import { Construct } from "constructs";
import { DefaultTokenResolver, StringConcat, TerraformStack, Tokenization } from "cdktf";
import { MonitorDiagnosticSetting } from "@cdktf/provider-azurerm/lib/monitor-diagnostic-setting";
import type { DiagnosticsTarget } from "../deployment/declared-needs";
import type { DiagnosticCategories } from "./diagnostic-categories";

export type { DiagnosticCategories } from "./diagnostic-categories";

/** Name of every diagnostic setting this library creates (unique per target resource). */
export const DIAGNOSTIC_SETTING_NAME = "aml-function-deployment-logs";


/** Logs and metrics of a container registry or Service Bus namespace. */
export const ALL_LOGS_AND_METRICS: DiagnosticCategories = { logCategoryGroups: ["allLogs"], metricCategories: ["AllMetrics"] };
/** Logs and metrics of a function app. */
export const FUNCTION_APP_CATEGORIES: DiagnosticCategories = { logCategories: ["FunctionAppLogs"], metricCategories: ["AllMetrics"] };
/** A storage account resource: metrics only. */
export const STORAGE_ACCOUNT_CATEGORIES: DiagnosticCategories = { metricCategories: ["Transaction"] };
/** A storage service (blob, queue, table): logs and transaction metrics. */
export const STORAGE_SERVICE_CATEGORIES: DiagnosticCategories = { logCategoryGroups: ["allLogs"], metricCategories: ["Transaction"] };

/** Storage services whose logs are collected (no file service: the app has no content share). */
export const STORAGE_SERVICES = ["blobServices", "queueServices", "tableServices"] as const;

/**
 * Sends the logs and metrics of `targetResourceId` to the Log Analytics workspace `workspaceId`.
 * The default categories (`allLogs` + `AllMetrics`) fit a Service Bus namespace or a registry.
 */
export function addDiagnosticSetting(scope: Construct, id: string, targetResourceId: string, workspaceId: string, categories: DiagnosticCategories = ALL_LOGS_AND_METRICS): MonitorDiagnosticSetting {
  return new MonitorDiagnosticSetting(scope, id, {
    name: DIAGNOSTIC_SETTING_NAME,
    targetResourceId,
    logAnalyticsWorkspaceId: workspaceId,
    enabledLog: [
      ...(categories.logCategoryGroups ?? []).map((categoryGroup) => ({ categoryGroup })),
      ...(categories.logCategories ?? []).map((category) => ({ category })),
    ],
    enabledMetric: (categories.metricCategories ?? []).map((category) => ({ category })),
  });
}

/**
 * Diagnostic settings of a storage account: transaction metrics on the account, logs and
 * transaction metrics on its blob, queue and table services.
 */
export function addStorageAccountDiagnostics(scope: Construct, id: string, accountId: string, workspaceId: string): MonitorDiagnosticSetting[] {
  return [
    addDiagnosticSetting(scope, id, accountId, workspaceId, STORAGE_ACCOUNT_CATEGORIES),
    ...STORAGE_SERVICES.map((service) => addDiagnosticSetting(scope, `${id}-${service}`, `${accountId}/${service}/default`, workspaceId, STORAGE_SERVICE_CATEGORIES)),
  ];
}

/**
 * Sends the logs and metrics of each target to the workspace `workspaceId`. Each target's settings
 * are created beside it (`<its construct id>-diagnostics` in the same parent), so the Terraform
 * names say what they belong to. A target listed twice gets its settings once, and one that a
 * setting under `root` (the deployment) already targets, e.g. one its trigger added, gets none.
 */
export function addDiagnostics(root: Construct, targets: readonly DiagnosticsTarget[], workspaceId: string): void {
  const stack = TerraformStack.of(root);
  // References resolve to "${azurerm_x.y.id}", so two reads of one resource's id compare equal.
  const resolve = (value: unknown): string => String(Tokenization.resolve(value, { scope: stack, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) }));
  const targeted = new Set<string>();
  for (const c of root.node.findAll()) {
    if (c instanceof MonitorDiagnosticSetting) targeted.add(resolve(c.targetResourceIdInput));
  }
  for (const target of targets) {
    const id = resolve(target.resourceId);
    if (targeted.has(id)) continue;
    targeted.add(id);
    const parent = target.resource.node.scope as Construct;
    const settingId = `${target.resource.node.id}-diagnostics`;
    if (target.categories === "storageAccount") addStorageAccountDiagnostics(parent, settingId, target.resourceId, workspaceId);
    else addDiagnosticSetting(parent, settingId, target.resourceId, workspaceId, target.categories);
  }
}
