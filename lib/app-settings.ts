import { invalid } from "./errors";

/**
 * App settings that azurerm's function app resource writes itself and filters out when it reads
 * the app back: set inside `app_settings` they show a diff on every plan (provider #16585).
 * They are set through typed arguments instead.
 */
export const PROVIDER_OWNED_APP_SETTINGS: readonly string[] = [
  "FUNCTIONS_EXTENSION_VERSION",
  "FUNCTIONS_WORKER_RUNTIME",
  "AzureWebJobsStorage",
  "AzureWebJobsStorage__accountName",
  "AzureWebJobsDashboard",
  "AzureWebJobsDashboard__accountName",
  "DOCKER_REGISTRY_SERVER_URL",
  "DOCKER_REGISTRY_SERVER_USERNAME",
  "DOCKER_REGISTRY_SERVER_PASSWORD",
  "APPINSIGHTS_INSTRUMENTATIONKEY",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_CONTENTSHARE",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_HTTPLOGGING_RETENTION_DAYS",
  "WEBSITE_HEALTHCHECK_MAXPINGFAILURES",
  "WEBSITE_VNET_ROUTE_ALL",
];

/** Merges app settings, refusing provider-owned keys and keys set twice with different values. */
export function mergeAppSettings(owner: string, sources: Array<{ from: string; settings: { [key: string]: string } | undefined }>): { [key: string]: string } {
  const result: { [key: string]: string } = {};
  const origin: { [key: string]: string } = {};
  for (const { from, settings } of sources) {
    for (const [key, value] of Object.entries(settings ?? {})) {
      const owned = PROVIDER_OWNED_APP_SETTINGS.find((k) => k.toLowerCase() === key.toLowerCase());
      if (owned) {
        invalid(owner, "appSettings", key, `"${owned}" is managed by the azurerm provider through typed arguments and would show a diff on every plan`, "any other setting name");
      }
      if (key in result && result[key] !== value) {
        invalid(owner, "appSettings", key, `already set by ${origin[key]}`, "a setting name this library does not set itself");
      }
      result[key] = value;
      origin[key] = from;
    }
  }
  return result;
}
