/**
 * Azure resource ids given as props (an existing Log Analytics workspace, registry, plan,
 * storage account...). They are written into the Terraform configuration, so a value that is not
 * a resource id is refused at synth: besides failing at apply, a line break and `EOF` in it
 * would add HCL of the caller's choosing to `cdk.tf` (cdktf writes multi-line strings as heredocs).
 *
 * Tokens (an azurerm resource's `.id`, a data source, a variable) pass: they are only known at
 * apply time. The literal text around a token must still look like part of an id.
 */
import { invalid } from "../errors";
import { splitTokens } from "./terraform-literal";

const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
/** Resource group names: 1-90 letters, digits, '_', '-', '.', '(', ')', not ending in '.'. */
const RESOURCE_GROUP = "[-\\w.()]{0,89}[-\\w()]";
const NAMESPACE = "[A-Za-z][A-Za-z0-9]*(?:\\.[A-Za-z][A-Za-z0-9]*)+";
const TYPE = "[A-Za-z][A-Za-z0-9]*";
/** Resource names: the union of the Azure naming rules of the types this library refers to. */
const NAME = "[A-Za-z0-9_.()-]{1,260}";
const RESOURCE_ID = new RegExp(`^/subscriptions/(${GUID})/resourceGroups/(${RESOURCE_GROUP})/providers/(${NAMESPACE})((?:/${TYPE}/${NAME})+)$`, "i");
/** Characters that may appear in the literal parts of an id built around tokens. */
const ID_TEXT = /^[A-Za-z0-9_.()/-]*$/;

/**
 * For a value that holds tokens: throws unless every literal part around them matches `text`
 * (`what` names the kind of value in the message). Returns whether the value held a token (and
 * so cannot be checked further at synth).
 */
function checkAroundTokens(owner: string, prop: string, value: string, text: RegExp, what: string, allowed: string): boolean {
  const parts = splitTokens(value);
  if (!parts.some((p) => p.token)) return false;
  const bad = parts.find((p) => !p.token && !text.test(p.text));
  if (bad !== undefined) invalid(owner, prop, value, `the text ${JSON.stringify(bad.text)} around the reference cannot be part of ${what}`, allowed);
  return true;
}

const ALLOWED = "an Azure resource id: /subscriptions/<subscription guid>/resourceGroups/<group>/providers/<Namespace>/<type>/<name>[/<type>/<name>...], or a reference such as an azurerm resource's .id";

/**
 * Throws a ValidationError naming `prop` unless `value` is an Azure resource id (or a token).
 * With `expectedType` (e.g. `"Microsoft.OperationalInsights/workspaces"`, compared case-insensitively
 * as Azure does), the id must name a resource of that type.
 */
export function validateResourceId(owner: string, prop: string, value: string, expectedType?: string): void {
  const allowed = expectedType === undefined ? ALLOWED : `${ALLOWED}, of type ${expectedType}`;
  if (typeof value !== "string") invalid(owner, prop, value, "a resource id must be a string", allowed);
  if (checkAroundTokens(owner, prop, value, ID_TEXT, "a resource id", allowed)) return;
  const m = RESOURCE_ID.exec(value);
  if (m === null) invalid(owner, prop, value, "not an Azure resource id", allowed);
  if (expectedType !== undefined) {
    const types = m[4].split("/").filter((_, i) => i % 2 === 1);
    const actual = `${m[3]}/${types.join("/")}`;
    if (actual.toLowerCase() !== expectedType.toLowerCase()) {
      invalid(owner, prop, value, `the id names a ${actual}, not a ${expectedType}`, allowed);
    }
  }
}

/** Throws unless `value` is an `https://<host>/` endpoint URL (or a token), such as a storage endpoint. */
export function validateHttpsEndpoint(owner: string, prop: string, value: string): void {
  const allowed = "an https:// endpoint such as https://<account>.blob.core.windows.net/, or a reference such as an azurerm resource's attribute";
  if (typeof value !== "string") invalid(owner, prop, value, "an endpoint must be a string", allowed);
  if (checkAroundTokens(owner, prop, value, /^[A-Za-z0-9_.:/-]*$/, "an endpoint URL", allowed)) return;
  if (!/^https:\/\/[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?\/?$/.test(value)) {
    invalid(owner, prop, value, "not an https:// endpoint URL of the form https://<host>/", allowed);
  }
}

/** Throws unless `value` is a DNS host name (or a token), such as a registry's login server. */
export function validateHostName(owner: string, prop: string, value: string): void {
  const allowed = "a host name such as myregistry.azurecr.io (letters, digits, '-' and '.'), or a reference such as an azurerm resource's attribute";
  if (typeof value !== "string") invalid(owner, prop, value, "a host name must be a string", allowed);
  if (checkAroundTokens(owner, prop, value, /^[A-Za-z0-9.-]*$/, "a host name", allowed)) return;
  if (!/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(value)) {
    invalid(owner, prop, value, "not a host name", allowed);
  }
}
