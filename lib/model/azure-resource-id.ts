/**
 * Azure resource ids given to model sources: parsed and checked at synth time so a wrong id
 * (wrong resource type, a name with a typo'd character, a missing segment) fails here instead of
 * at apply time or, worse, when the app starts.
 */
import { Token } from "cdktf";
import { invalid } from "../errors";
import { validateResourceGroupName } from "../naming";
import { validateResourceId } from "../validation/resource-id";

/** The parts of a resource id `/subscriptions/<s>/resourceGroups/<rg>/providers/<ns>/<type>/<name>`. */
export interface ParsedResourceId {
  readonly subscriptionId: string;
  readonly resourceGroupName: string;
  readonly name: string;
}

/** One resource type a model source accepts. */
export interface ResourceIdType {
  /** e.g. `Microsoft.MachineLearningServices`. */
  readonly namespace: string;
  /** e.g. `workspaces`. */
  readonly type: string;
  /** In words, for messages: "an Azure ML workspace". */
  readonly what: string;
  /** Checks the resource name; returns a problem or undefined. */
  readonly checkName: (name: string) => string | undefined;
  /** The name rule in words. */
  readonly nameRule: string;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SHAPE = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)\/([^/]+)$/i;

/** Azure ML workspace and registry names: 3-33 letters, digits, hyphens, underscores; alphanumeric first. */
const amlName = (n: string): string | undefined =>
  /^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$/.test(n) ? undefined : "the name does not follow the Azure ML naming rule";
const AML_NAME_RULE = "3-33 letters, digits, hyphens or underscores, starting with a letter or digit";

export const AML_WORKSPACE: ResourceIdType = {
  namespace: "Microsoft.MachineLearningServices", type: "workspaces", what: "an Azure ML workspace", checkName: amlName, nameRule: AML_NAME_RULE,
};
export const AML_REGISTRY: ResourceIdType = {
  namespace: "Microsoft.MachineLearningServices", type: "registries", what: "an Azure ML registry", checkName: amlName, nameRule: AML_NAME_RULE,
};
export const STORAGE_ACCOUNT: ResourceIdType = {
  namespace: "Microsoft.Storage", type: "storageAccounts", what: "a storage account",
  checkName: (n) => (/^[a-z0-9]{3,24}$/.test(n) ? undefined : "the account name does not follow the storage account naming rule"),
  nameRule: "3-24 lowercase letters and digits",
};

/**
 * Checks that `value` is the id of a resource of `kind` and returns its parts; returns undefined
 * for a token (an id known only at apply time, e.g. `workspace.id` of a resource in the stack).
 */
export function parseResourceId(owner: string, prop: string, value: unknown, kind: ResourceIdType): ParsedResourceId | undefined {
  const allowed = `the resource id of ${kind.what}: /subscriptions/<subscription id>/resourceGroups/<group>/providers/${kind.namespace}/${kind.type}/<name> (name: ${kind.nameRule}), or a token such as a resource's .id`;
  if (typeof value !== "string") invalid(owner, prop, value, "not a string", allowed);
  if (Token.isUnresolved(value)) {
    // Known at apply time only; the literal text around a reference must still fit an id.
    validateResourceId(owner, prop, value);
    return undefined;
  }
  if (value.trim() === "") invalid(owner, prop, value, "the id is empty", allowed);
  const m = SHAPE.exec(value);
  if (!m) {
    invalid(owner, prop, value, "not a resource id of the form /subscriptions/<s>/resourceGroups/<g>/providers/<namespace>/<type>/<name> (no trailing slash, no child resources)", allowed);
  }
  const [, subscriptionId, resourceGroupName, namespace, type, name] = m;
  if (namespace.toLowerCase() !== kind.namespace.toLowerCase() || type.toLowerCase() !== kind.type.toLowerCase()) {
    invalid(owner, prop, value, `it is the id of a ${namespace}/${type} resource, not of ${kind.what}`, allowed);
  }
  if (!GUID.test(subscriptionId)) invalid(owner, prop, value, `the subscription id "${subscriptionId}" is not a GUID`, allowed);
  validateResourceGroupName(owner, `${prop} (resource group segment)`, resourceGroupName);
  const problem = kind.checkName(name);
  if (problem !== undefined) invalid(owner, prop, value, `${problem} ("${name}")`, allowed);
  return { subscriptionId, resourceGroupName, name };
}
