/**
 * Azure naming rules and the deterministic names this library derives for a deployment.
 *
 * Each validator throws a ValidationError (via `invalid`) naming the property, the value and the
 * rule. Values that are cdktf tokens are not checked: they are only known at apply time.
 */
import { createHash } from "crypto";
import { Token } from "cdktf";
import { invalid } from "./errors";

/** Signature shared by every name validator. */
export type NameValidator = (owner: string, prop: string, name: string) => void;

interface NameRule {
  readonly min: number;
  readonly max: number;
  /** Characters allowed anywhere in the name. */
  readonly chars: RegExp;
  /** What the allowed characters are, in words. */
  readonly charsText: string;
  /** Extra checks: return a problem description, or undefined when the name is fine. */
  readonly extra?: (name: string) => string | undefined;
  /** The whole rule, in words (the "Allowed:" part of the message). */
  readonly allowed: string;
}

function check(rule: NameRule, owner: string, prop: string, name: string): void {
  if (typeof name === "string" && Token.isUnresolved(name)) return;
  if (typeof name !== "string") invalid(owner, prop, name, "a name must be a string", rule.allowed);
  if (name.length < rule.min || name.length > rule.max) {
    invalid(owner, prop, name, `length ${name.length} is outside ${rule.min}-${rule.max}`, rule.allowed);
  }
  const bad = [...new Set([...name].filter((c) => !rule.chars.test(c)))];
  if (bad.length > 0) {
    invalid(owner, prop, name, `contains ${bad.map((c) => JSON.stringify(c)).join(", ")}; only ${rule.charsText} are allowed`, rule.allowed);
  }
  const problem = rule.extra?.(name);
  if (problem !== undefined) invalid(owner, prop, name, problem, rule.allowed);
}

const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9]$/.test(c);
const isLowerAlnum = (c: string | undefined): boolean => c !== undefined && /^[a-z0-9]$/.test(c);

const STORAGE_ACCOUNT: NameRule = {
  min: 3,
  max: 24,
  chars: /^[a-z0-9]$/,
  charsText: "lowercase letters and digits",
  allowed: "3-24 characters, lowercase letters and digits only (globally unique)",
};

const BLOB_CONTAINER: NameRule = {
  min: 3,
  max: 63,
  chars: /^[a-z0-9-]$/,
  charsText: "lowercase letters, digits and hyphens",
  extra: (n) => {
    if (!isLowerAlnum(n[0]) || !isLowerAlnum(n[n.length - 1])) return "it must start and end with a letter or digit";
    if (n.includes("--")) return "it contains consecutive hyphens";
    return undefined;
  },
  allowed: "3-63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit",
};

const CONTAINER_REGISTRY: NameRule = {
  min: 5,
  max: 50,
  chars: /^[a-z0-9]$/,
  charsText: "lowercase letters and digits (this library requires lowercase)",
  allowed: "5-50 characters, lowercase letters and digits only (globally unique)",
};

/** Longer function app names are cut to 32 characters for the host id and then collide. */
export const FUNCTION_APP_MAX_LENGTH = 32;

const FUNCTION_APP: NameRule = {
  min: 2,
  max: 60,
  chars: /^[A-Za-z0-9-]$/,
  charsText: "letters, digits and hyphens",
  extra: (n) => {
    if (n.startsWith("-") || n.endsWith("-")) return "it must not start or end with a hyphen";
    if (n.length > FUNCTION_APP_MAX_LENGTH) {
      return `it is ${n.length} characters long; names over ${FUNCTION_APP_MAX_LENGTH} characters are truncated to the same host id and collide when apps share a host storage account`;
    }
    return undefined;
  },
  allowed: `2-${FUNCTION_APP_MAX_LENGTH} characters (Azure allows 60, but longer names collide on host ids in shared storage): letters, digits and hyphens, not starting or ending with a hyphen (globally unique)`,
};

const SERVICE_PLAN: NameRule = {
  min: 1,
  max: 60,
  chars: /^[A-Za-z0-9_-]$/,
  charsText: "letters, digits, hyphens and underscores",
  allowed: "1-60 characters: letters, digits, hyphens and underscores",
};

const SERVICE_BUS_NAMESPACE: NameRule = {
  min: 6,
  max: 50,
  chars: /^[A-Za-z0-9-]$/,
  charsText: "letters, digits and hyphens",
  extra: (n) => {
    if (!/^[A-Za-z]$/.test(n[0])) return "it must start with a letter";
    if (!isAlnum(n[n.length - 1])) return "it must end with a letter or digit";
    const lower = n.toLowerCase();
    if (lower.endsWith("-sb") || lower.endsWith("-mgmt")) return "it must not end with \"-sb\" or \"-mgmt\" (reserved by Azure)";
    return undefined;
  },
  allowed: "6-50 characters: letters, digits and hyphens, starting with a letter, ending with a letter or digit, not ending in \"-sb\" or \"-mgmt\" (globally unique)",
};

const SERVICE_BUS_QUEUE: NameRule = {
  min: 1,
  max: 260,
  chars: /^[A-Za-z0-9._/-]$/,
  charsText: "letters, digits, periods, hyphens, underscores and slashes",
  extra: (n) => (!isAlnum(n[0]) || !isAlnum(n[n.length - 1]) ? "it must start and end with a letter or digit" : undefined),
  allowed: "1-260 characters: letters, digits, '.', '-', '_' and '/', starting and ending with a letter or digit",
};

const IDENTITY: NameRule = {
  min: 3,
  max: 128,
  chars: /^[A-Za-z0-9_-]$/,
  charsText: "letters, digits, hyphens and underscores",
  extra: (n) => (!isAlnum(n[0]) ? "it must start with a letter or digit" : undefined),
  allowed: "3-128 characters: letters, digits, hyphens and underscores, starting with a letter or digit",
};

const RESOURCE_GROUP: NameRule = {
  min: 1,
  max: 90,
  chars: /^[A-Za-z0-9_.()-]$/,
  charsText: "letters, digits, '_', '-', '.', '(' and ')'",
  extra: (n) => (n.endsWith(".") ? "it must not end with a period" : undefined),
  allowed: "1-90 characters: letters, digits, '_', '-', '.', '(' and ')', not ending with '.'",
};

const REGISTRY_TOKEN: NameRule = {
  min: 5,
  max: 50,
  chars: /^[A-Za-z0-9-]$/,
  charsText: "letters, digits and hyphens",
  allowed: "5-50 characters: letters, digits and hyphens",
};

const LOG_ANALYTICS: NameRule = {
  min: 4,
  max: 63,
  chars: /^[A-Za-z0-9-]$/,
  charsText: "letters, digits and hyphens",
  extra: (n) => (!isAlnum(n[0]) || !isAlnum(n[n.length - 1]) ? "it must start and end with a letter or digit" : undefined),
  allowed: "4-63 characters: letters, digits and hyphens, starting and ending with a letter or digit",
};

const APP_INSIGHTS: NameRule = {
  min: 1,
  max: 260,
  chars: /^[^%&\\?/<>*#]$/,
  charsText: "characters other than % & \\ ? / < > * #",
  extra: (n) => (n.endsWith(".") || n.endsWith(" ") ? "it must not end with a period or a space" : undefined),
  allowed: "1-260 characters without % & \\ ? / < > * #, not ending with a period or space",
};

/** Maximum length of the deployment's base name (leaves room for prefixes and suffixes). */
export const BASE_NAME_MAX_LENGTH = 20;

const DEPLOYMENT_BASE: NameRule = {
  min: 2,
  max: BASE_NAME_MAX_LENGTH,
  chars: /^[a-z0-9-]$/,
  charsText: "lowercase letters, digits and hyphens",
  extra: (n) => {
    if (!/^[a-z]$/.test(n[0])) return "it must start with a lowercase letter";
    if (!isLowerAlnum(n[n.length - 1])) return "it must end with a letter or digit";
    if (n.includes("--")) return "it contains consecutive hyphens";
    return undefined;
  },
  allowed: `2-${BASE_NAME_MAX_LENGTH} characters: lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit (it is the base of every derived resource name)`,
};

export const validateStorageAccountName: NameValidator = (o, p, n) => check(STORAGE_ACCOUNT, o, p, n);
export const validateBlobContainerName: NameValidator = (o, p, n) => check(BLOB_CONTAINER, o, p, n);
export const validateContainerRegistryName: NameValidator = (o, p, n) => check(CONTAINER_REGISTRY, o, p, n);
export const validateFunctionAppName: NameValidator = (o, p, n) => check(FUNCTION_APP, o, p, n);
export const validateServicePlanName: NameValidator = (o, p, n) => check(SERVICE_PLAN, o, p, n);
export const validateServiceBusNamespaceName: NameValidator = (o, p, n) => check(SERVICE_BUS_NAMESPACE, o, p, n);
export const validateServiceBusQueueName: NameValidator = (o, p, n) => check(SERVICE_BUS_QUEUE, o, p, n);
export const validateIdentityName: NameValidator = (o, p, n) => check(IDENTITY, o, p, n);
export const validateResourceGroupName: NameValidator = (o, p, n) => check(RESOURCE_GROUP, o, p, n);
/** ACR scope maps and tokens share this rule. */
export const validateRegistryTokenName: NameValidator = (o, p, n) => check(REGISTRY_TOKEN, o, p, n);
export const validateLogAnalyticsWorkspaceName: NameValidator = (o, p, n) => check(LOG_ANALYTICS, o, p, n);
export const validateApplicationInsightsName: NameValidator = (o, p, n) => check(APP_INSIGHTS, o, p, n);
/** The user's `name` prop. */
export const validateDeploymentBaseName: NameValidator = (o, p, n) => check(DEPLOYMENT_BASE, o, p, n);

/** First 8 hex characters of sha256(seed): a stable suffix for globally unique names. */
export function uniqueSuffix(seed: string): string {
  return createHash("sha256").update(seed, "utf8").digest("hex").slice(0, 8);
}

/** Every resource name a deployment derives from its base name and unique suffix. */
export interface DerivedNames {
  readonly resourceGroup: string;
  readonly functionApp: string;
  readonly servicePlan: string;
  readonly identity: string;
  readonly appInsights: string;
  readonly logAnalytics: string;
  readonly containerRegistry: string;
  /** Storage account the Functions host uses (AzureWebJobsStorage). */
  readonly hostStorage: string;
  /** Repository of the scoring image inside the registry. */
  readonly imageRepository: string;
  /** ACR scope map that allows pushing the image repository. */
  readonly scopeMap: string;
  /** ACR token bound to the scope map. */
  readonly token: string;
  /**
   * An additional storage account for `role` (1-6 lowercase letters/digits, e.g. "trg"):
   * `st<base letters and digits, truncated><role><suffix>`, at most 24 characters.
   * Two roles (or a role and the host storage) that would produce the same name throw.
   */
  storageAccount(role: string): string;
  /** Service Bus namespace `sb-<base>-<suffix>`. */
  serviceBusNamespace(): string;
}

const ROLE_PATTERN = /^[a-z0-9]{1,6}$/;
const SUFFIX_PATTERN = /^[0-9a-f]{8}$/;

function cut(text: string, max: number): string {
  return text.slice(0, max).replace(/-+$/, "");
}

/**
 * Derives the resource names of a deployment. `base` must satisfy validateDeploymentBaseName and
 * `suffix` be 8 lowercase hex digits (see uniqueSuffix). Same inputs give the same names.
 */
export function deriveNames(base: string, suffix: string): DerivedNames {
  validateDeploymentBaseName("deriveNames", "base", base);
  if (!SUFFIX_PATTERN.test(suffix)) invalid("deriveNames", "suffix", suffix, "not 8 hex digits", "8 lowercase hexadecimal digits, e.g. from uniqueSuffix()");
  const alnum = base.replace(/-/g, "");
  const storagePrefixRoom = 24 - 2 - suffix.length;
  const hostStorage = `st${alnum.slice(0, storagePrefixRoom)}${suffix}`;
  const funcRoom = FUNCTION_APP_MAX_LENGTH - "func-".length - 1 - suffix.length;
  const issued = new Map<string, string>([[hostStorage, "host storage"]]);

  return {
    resourceGroup: `rg-${base}`,
    functionApp: `func-${cut(base, funcRoom)}-${suffix}`,
    servicePlan: `plan-${base}`,
    identity: `id-${base}`,
    appInsights: `appi-${base}`,
    logAnalytics: `log-${base}`,
    containerRegistry: `cr${alnum}${suffix}`,
    hostStorage,
    imageRepository: `aml/${base}`,
    scopeMap: `${base}-push`,
    token: `${base}-push`,
    storageAccount(role: string): string {
      if (!ROLE_PATTERN.test(role)) invalid("deriveNames", "storage account role", role, "not 1-6 lowercase letters or digits", "1-6 lowercase letters or digits, e.g. \"trg\"");
      const name = `st${alnum.slice(0, storagePrefixRoom - role.length)}${role}${suffix}`;
      const holder = issued.get(name);
      if (holder !== undefined && holder !== `role ${role}`) {
        invalid("deriveNames", "storage account role", role, `it derives ${JSON.stringify(name)}, already used by the ${holder}`, "a role whose derived name differs from the other storage accounts of the deployment");
      }
      issued.set(name, `role ${role}`);
      return name;
    },
    serviceBusNamespace(): string {
      return `sb-${base}-${suffix}`;
    },
  };
}

/** Per-stack register of the names deployments derive (global symbol: one register per stack, whatever copy of this library claims). */
const CLAIMED = Symbol.for("@aml-functions/aml-function-deployment.claimed-names");

/** One name a construct will create, e.g. `{ kind: "resource group", name: "rg-churn" }`. */
export interface NameClaim {
  readonly kind: string;
  readonly name: string;
}

/**
 * Records the names `claimant` (a construct path) derives in `stack`, and throws a
 * ValidationError naming both construct paths when another construct of the stack already
 * claimed the same kind and name (compared case-insensitively, as Azure does). Two deployments
 * with the same base name would otherwise create `rg-<name>`, `id-<name>`, `plan-<name>`, ...
 * twice, which fails only at apply, and their outputs would overwrite each other. `allowed`
 * replaces the advice for names that come from another prop than the deployment's `name`.
 */
export function claimNames(stack: object, claimant: string, owner: string, prop: string, value: string, claims: NameClaim[], allowed?: string): void {
  const register = ((stack as { [CLAIMED]?: Map<string, string> })[CLAIMED] ??= new Map<string, string>());
  for (const claim of claims) {
    if (Token.isUnresolved(claim.name)) continue;
    const key = `${claim.kind}\u0000${claim.name.toLowerCase()}`;
    const holder = register.get(key);
    if (holder !== undefined && holder !== claimant) {
      invalid(
        owner,
        prop,
        value,
        `"${claimant}" and "${holder}" in the same stack both ${allowed === undefined ? "derive" : "create"} the ${claim.kind} ${JSON.stringify(claim.name)}${allowed === undefined ? " (and the other names from the same base)" : ""}, which would collide at apply`,
        allowed ?? "a name unique among the deployments of a stack: pass a distinct `name` (or construct id) to one of them",
      );
    }
  }
  for (const claim of claims) {
    if (!Token.isUnresolved(claim.name)) register.set(`${claim.kind}\u0000${claim.name.toLowerCase()}`, claimant);
  }
}
