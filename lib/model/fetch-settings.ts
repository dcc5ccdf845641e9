/**
 * App settings that tell the scoring image's downloader (`aml_host/model_fetch`) what to fetch
 * when an instance starts. They are app settings, not image content: a new model version
 * changes a setting and restarts the app; it does not rebuild the image.
 */
import { Fn, Token } from "cdktf";
import { invalid } from "../errors";
import { hostSetting } from "../host-contract";

/** JSON describing the model: `{"kind": "amlWorkspace" | "amlRegistry" | "blob", ...}`. */
export const MODEL_SOURCE_SETTING = hostSetting("AML_MODEL_SOURCE");
/** Client id of the user-assigned identity whose tokens the downloader asks for. */
export const MODEL_CLIENT_ID_SETTING = hostSetting("AML_MODEL_CLIENT_ID");
/** Azure Resource Manager endpoint (also the token audience, with a trailing `/`). */
export const ARM_ENDPOINT_SETTING = hostSetting("AML_MODEL_ARM_ENDPOINT");
/** DNS suffix of storage endpoints: `https://<account>.blob.<suffix>`. */
export const STORAGE_SUFFIX_SETTING = hostSetting("AML_MODEL_STORAGE_SUFFIX");

export const DEFAULT_ARM_ENDPOINT = "https://management.azure.com";
export const DEFAULT_STORAGE_SUFFIX = "core.windows.net";

export type ModelSourceSpec =
  | { readonly kind: "amlWorkspace"; readonly workspaceId: string; readonly name: string; readonly version: string }
  | { readonly kind: "amlRegistry"; readonly registryId: string; readonly name: string; readonly version: string }
  | { readonly kind: "blob"; readonly storageAccountId: string; readonly container: string; readonly path: string };

/** The settings for one fetched model. Keys in a fixed order, so output is byte-identical. */
export function fetchSettings(spec: ModelSourceSpec, clientId: string, endpoint: { armEndpoint?: string; storageSuffix?: string }): { [key: string]: string } {
  const settings: { [key: string]: string } = {
    [MODEL_SOURCE_SETTING]: sourceJson(spec),
    [MODEL_CLIENT_ID_SETTING]: clientId,
  };
  if (endpoint.armEndpoint !== undefined) settings[ARM_ENDPOINT_SETTING] = endpoint.armEndpoint;
  if (endpoint.storageSuffix !== undefined) settings[STORAGE_SUFFIX_SETTING] = endpoint.storageSuffix;
  return settings;
}

/**
 * The spec as JSON. With a reference in it (a workspace in the same stack, a version from a
 * Terraform variable) Terraform's own `jsonencode` builds it at apply time: a literal JSON string
 * around a reference would put `"` next to `${...}`, which cdktf's HCL output cannot quote.
 */
function sourceJson(spec: ModelSourceSpec): string {
  const values = Object.values(spec) as string[];
  return values.some((v) => Token.isUnresolved(v)) ? Fn.jsonencode(spec) : JSON.stringify(spec);
}

const ARM_ALLOWED = "an https URL of an Azure Resource Manager endpoint without path, e.g. \"https://management.azure.com\" (public), \"https://management.usgovcloudapi.net\", \"https://management.chinacloudapi.cn\"";

/** `armEndpoint` prop: https, host only; the trailing slash is dropped. */
export function validateArmEndpoint(owner: string, prop: string, value: string | undefined): string {
  if (value === undefined) return DEFAULT_ARM_ENDPOINT;
  if (typeof value !== "string") invalid(owner, prop, value, "not a string", ARM_ALLOWED);
  if (Token.isUnresolved(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    invalid(owner, prop, value, "not a URL", ARM_ALLOWED);
  }
  if (url.protocol !== "https:") invalid(owner, prop, value, "tokens must only travel over https", ARM_ALLOWED);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) {
    invalid(owner, prop, value, "it has a path, query, fragment or user info", ARM_ALLOWED);
  }
  return `https://${url.host}`;
}

const SUFFIX_ALLOWED = "a storage DNS suffix such as \"core.windows.net\" (public), \"core.usgovcloudapi.net\", \"core.chinacloudapi.cn\"";

/** `storageEndpointSuffix` prop: a DNS suffix (labels of letters, digits and hyphens). */
export function validateStorageSuffix(owner: string, prop: string, value: string | undefined): string {
  if (value === undefined) return DEFAULT_STORAGE_SUFFIX;
  if (typeof value !== "string") invalid(owner, prop, value, "not a string", SUFFIX_ALLOWED);
  if (Token.isUnresolved(value)) return value;
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(value)) {
    invalid(owner, prop, value, "not a lowercase DNS suffix with at least two labels", SUFFIX_ALLOWED);
  }
  return value;
}
