import { Token } from "cdktf";
import { invalid } from "./errors";
import { terraformLiteral } from "./validation/terraform-literal";

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

/**
 * App setting names App Service accepts: letters, digits, `.` and `_` (App Service docs,
 * "Configure an App Service app"). On Linux, where settings become environment variables, a `.`
 * is replaced by `_`, and `__` stands for a nested key (`:` elsewhere).
 */
const APP_SETTING_NAME = /^[A-Za-z0-9_.]+$/;
const NAME_ALLOWED = "a non-empty name of letters, digits, '_' and '.' (App Service's rule; on Linux '.' becomes '_')";

/**
 * The identity of a setting name on a Linux app: App Service treats names case-insensitively and
 * turns `.` into `_`, so `My.Key` and `my_key` are the same environment variable.
 */
export function appSettingIdentity(name: string): string {
  return name.toLowerCase().replace(/\./g, "_");
}

/**
 * Merges app settings. Refuses names App Service rejects, provider-owned names, and a name set
 * twice (compared as App Service on Linux does: ignoring case, `.` equal to `_`), and escapes every
 * value for Terraform (`${` and `%{` stay literal; see lib/validation/terraform-literal.ts).
 */
export function mergeAppSettings(owner: string, sources: Array<{ from: string; settings: { [key: string]: string } | undefined }>): { [key: string]: string } {
  const result: { [key: string]: string } = {};
  const origin = new Map<string, { from: string; key: string; value: string }>();
  // Connections configured as `<prefix>__<part>` (identity-based: `__credential`, `__clientId`,
  // `__fullyQualifiedNamespace`...). The Functions host takes a plain `<prefix>` setting as a
  // connection string that wins over them, and any other `<prefix>__*` as part of the connection.
  const connections = new Map<string, { from: string; prefix: string }>();
  for (const { from, settings } of sources) {
    if (settings !== undefined && (settings === null || typeof settings !== "object" || Array.isArray(settings))) {
      invalid(owner, "appSettings", settings, `the settings from ${from} are not a map of names to values`, "an object such as { MY_SETTING: \"value\" }");
    }
    for (const [key, value] of Object.entries(settings ?? {})) {
      if (Token.isUnresolved(key) || !APP_SETTING_NAME.test(key)) {
        invalid(owner, "appSettings", key, key.length === 0 ? "the name is empty" : "App Service accepts only letters, digits, '_' and '.' in setting names", NAME_ALLOWED);
      }
      const owned = PROVIDER_OWNED_APP_SETTINGS.find((k) => appSettingIdentity(k) === appSettingIdentity(key));
      if (owned) {
        invalid(owner, "appSettings", key, `"${owned}" is managed by the azurerm provider through typed arguments and would show a diff on every plan`, "any other setting name");
      }
      if (typeof value !== "string") invalid(owner, `appSettings.${key}`, value, "a setting value must be a string", "a string (use Key Vault references for secrets)");
      const escaped = terraformLiteral(owner, `appSettings.${key}`, value);
      const previous = origin.get(appSettingIdentity(key));
      if (previous !== undefined && (previous.key !== key || previous.value !== escaped)) {
        const same = previous.key === key ? "" : ` as "${previous.key}" (App Service ignores case and reads '.' as '_')`;
        invalid(owner, "appSettings", key, `already set by ${previous.from}${same}`, "a setting name this library does not set itself");
      }
      if (previous === undefined) {
        const id = appSettingIdentity(key);
        const connection = [...connections.entries()].find(([prefix, c]) => c.from !== from && (id === prefix || id.startsWith(`${prefix}__`)));
        if (connection !== undefined) {
          const [, c] = connection;
          invalid(owner, "appSettings", key, `it would change the connection "${c.prefix}" that ${c.from} configures with the managed identity (the Functions host reads "${c.prefix}" as a connection string and "${c.prefix}__*" as parts of that connection)`, `a setting name that is neither "${c.prefix}" nor starts with "${c.prefix}__"`);
        }
      }
      result[key] = escaped;
      origin.set(appSettingIdentity(key), { from, key, value: escaped });
      const split = key.indexOf("__");
      if (split > 0 && !connections.has(appSettingIdentity(key.slice(0, split)))) {
        connections.set(appSettingIdentity(key.slice(0, split)), { from, prefix: key.slice(0, split) });
      }
    }
  }
  return result;
}
