/**
 * Entra ID authentication of HTTP callers: App Service authentication (Easy Auth, the app's
 * `auth_settings_v2`) validates the bearer token of every request before the function runs, and
 * answers 401 without one. Only token validation: no client secret exists anywhere, because the
 * app never signs anyone in; it only checks tokens issued for the audience app registration.
 */
import { IConstruct } from "constructs";
import { TerraformStack, Token } from "cdktf";
import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import type { LinuxFunctionAppAuthSettingsV2 } from "@cdktf/provider-azurerm/lib/linux-function-app";
import { checkPropsObject, invalid } from "../errors";
import type { BoundPart } from "../deployment/apply-needs";

/** Props of the `entraId` prop of HttpTrigger. */
export interface EntraIdOptions {
  /**
   * Client (application) id of the app registration whose tokens callers present: tokens must
   * be issued for `api://<id>` or `<id>`.
   */
  readonly audienceClientId: string;
  /**
   * Tenant whose tokens are accepted.
   * @default the tenant of the principal that runs Terraform (`data.azurerm_client_config`)
   */
  readonly tenantId?: string;
  /**
   * Client ids of the applications allowed to call (the token's `azp`/`appid` claim).
   * @default any application of the tenant that holds a token for the audience
   */
  readonly allowedClientApplicationIds?: string[];
  /**
   * Object ids of the principals allowed to call (the token's `oid` claim), e.g. managed identities.
   * @default any principal of the tenant that holds a token for the audience
   */
  readonly allowedPrincipalIds?: string[];
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const GUID_ALLOWED = "a GUID such as 00000000-0000-0000-0000-000000000000, or a reference such as an azuread resource's attribute";
const OPTION_NAMES = ["audienceClientId", "tenantId", "allowedClientApplicationIds", "allowedPrincipalIds"];

function checkGuid(owner: string, prop: string, value: unknown): void {
  if (typeof value !== "string") invalid(owner, prop, value, "not a string", GUID_ALLOWED);
  if (Token.isUnresolved(value)) {
    // A reference is known at apply; a reference inside other text is not an id.
    if (!/^\$\{TfToken\[[A-Za-z0-9_.-]+\]\}$/.test(value)) invalid(owner, prop, value, "text around a reference is not a GUID", GUID_ALLOWED);
    return;
  }
  if (!GUID.test(value)) invalid(owner, prop, value, "not a GUID", GUID_ALLOWED);
}

/** Checks `entraId`; throws a ValidationError naming the bad property. */
export function validateEntraIdOptions(owner: string, options: EntraIdOptions): EntraIdOptions {
  checkPropsObject(owner, options, "not an object", "{ audienceClientId, tenantId?, allowedClientApplicationIds?, allowedPrincipalIds? }");
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) invalid(owner, `entraId.${key}`, (options as unknown as Record<string, unknown>)[key], "not an entraId option", OPTION_NAMES.join(", "));
  }
  checkGuid(owner, "entraId.audienceClientId", options.audienceClientId);
  if (options.tenantId !== undefined) checkGuid(owner, "entraId.tenantId", options.tenantId);
  for (const prop of ["allowedClientApplicationIds", "allowedPrincipalIds"] as const) {
    const list = options[prop];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) {
      invalid(owner, `entraId.${prop}`, list, "an empty list would not narrow who may call", "a non-empty list of GUIDs, or leave it out to accept any caller of the tenant");
    }
    list.forEach((id, i) => checkGuid(owner, `entraId.${prop}[${i}]`, id));
  }
  return options;
}

/** Id of the stack-level `data.azurerm_client_config` this library reads the deployer's tenant from. */
const CLIENT_CONFIG_ID = "aml-client-config";

/** The stack's `data.azurerm_client_config` of this library, created once per stack. */
export function stackClientConfig(scope: IConstruct): DataAzurermClientConfig {
  const stack = TerraformStack.of(scope);
  return (stack.node.tryFindChild(CLIENT_CONFIG_ID) as DataAzurermClientConfig | undefined) ?? new DataAzurermClientConfig(stack, CLIENT_CONFIG_ID);
}

/**
 * The app's `auth_settings_v2`: every request needs a valid token of the tenant for the audience
 * (401 otherwise), except `excludedPaths` (the health check, which the platform calls without one).
 */
export function entraIdAuthSettings(scope: IConstruct, options: EntraIdOptions, excludedPaths: string[]): LinuxFunctionAppAuthSettingsV2 {
  const tenantId = options.tenantId ?? stackClientConfig(scope).tenantId;
  const id = options.audienceClientId;
  return {
    authEnabled: true,
    requireAuthentication: true,
    unauthenticatedAction: "Return401",
    requireHttps: true,
    excludedPaths,
    // Required block; no token store (the app signs nobody in, it only validates bearer tokens).
    login: { tokenStoreEnabled: false },
    activeDirectoryV2: {
      clientId: id,
      // The public cloud's sign-in host: the library deploys to public Azure regions only.
      tenantAuthEndpoint: `https://login.microsoftonline.com/${tenantId}/v2.0`,
      allowedAudiences: [`api://${id}`, id],
      allowedApplications: options.allowedClientApplicationIds,
      allowedIdentities: options.allowedPrincipalIds,
    },
  };
}

/**
 * The app's authentication from what the deployment's parts declared. It applies to every HTTP
 * function of the app, so only one part may ask for it, and then every HTTP trigger must (one
 * without it would silently need a token too).
 */
export function appAuthSettings(owner: string, parts: readonly BoundPart[]): LinuxFunctionAppAuthSettingsV2 | undefined {
  const withAuth = parts.filter((p) => p.needs.authSettingsV2 !== undefined);
  const nameOf = (p: BoundPart): string => p.functionName ?? p.from;
  if (withAuth.length > 1) {
    invalid(owner, "triggers", withAuth.map(nameOf), "more than one trigger sets the app's authentication (entraId), which is one setting of the whole app", "entraId on one HTTP trigger");
  }
  const auth = withAuth[0];
  if (auth === undefined) return undefined;
  const without = parts.find((p) => p.httpPath !== undefined && p.needs.authSettingsV2 === undefined);
  if (without !== undefined) {
    invalid(owner, "triggers", nameOf(without), `the HTTP trigger "${nameOf(auth)}" has entraId, which applies to the whole app: callers of "${nameOf(without)}" would need a token it does not ask for`, "entraId on the only HTTP trigger of the deployment");
  }
  return auth.needs.authSettingsV2;
}
