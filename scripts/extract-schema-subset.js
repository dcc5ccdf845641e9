#!/usr/bin/env node
// Extracts the azurerm 4.55.0 schema of the resource types this library synthesizes into
// __tests__/fixtures/azurerm-4.55.0-subset.json, so the schema-conformance test runs from a
// fresh clone. Source: `terraform providers schema -json` output kept in ../shared/terraform-schemas.
const fs = require("fs");
const path = require("path");
const source = process.argv[2] ?? path.join(__dirname, "..", "..", "shared", "terraform-schemas", "azurerm-4.55.0.schema.json");
const full = JSON.parse(fs.readFileSync(source, "utf8"));
const azurerm = full.provider_schemas["registry.terraform.io/hashicorp/azurerm"];
const types = [
  "azurerm_resource_group", "azurerm_user_assigned_identity", "azurerm_container_registry",
  "azurerm_container_registry_scope_map", "azurerm_container_registry_token", "azurerm_container_registry_token_password",
  "azurerm_service_plan", "azurerm_storage_account", "azurerm_storage_container", "azurerm_storage_queue",
  "azurerm_role_assignment", "azurerm_log_analytics_workspace", "azurerm_application_insights",
  "azurerm_linux_function_app", "azurerm_servicebus_namespace", "azurerm_servicebus_queue",
  "azurerm_monitor_diagnostic_setting", "azurerm_role_definition",
  // ImageBuild.acrTask()
  "azurerm_storage_blob", "azurerm_container_registry_task", "azurerm_container_registry_task_schedule_run_now",
  // network, alerts
  "azurerm_private_endpoint", "azurerm_monitor_metric_alert",
];
const dataTypes = ["azurerm_resource_group", "azurerm_container_registry", "azurerm_service_plan", "azurerm_storage_account", "azurerm_servicebus_namespace",
  "azurerm_client_config"];
const pick = (all, names) => Object.fromEntries(names.map((n) => [n, all[n]]));
const subset = { format: "terraform providers schema -json, azurerm 4.55.0, subset", resource_schemas: pick(azurerm.resource_schemas, types), data_source_schemas: pick(azurerm.data_source_schemas, dataTypes) };
fs.writeFileSync(path.join(__dirname, "..", "__tests__", "fixtures", "azurerm-4.55.0-subset.json"), JSON.stringify(subset) + "\n");
console.log(`wrote ${types.length} resource and ${dataTypes.length} data source schemas`);
