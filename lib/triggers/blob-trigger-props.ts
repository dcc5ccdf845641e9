/**
 * The props of `BlobTrigger` and their validation: every check that needs only the props runs
 * here, when the trigger is constructed, so that a bad value fails where it was written.
 */
import { checkPropsObject, invalid } from "../errors";
import { validateStorageAccountName } from "../naming";
import { validateHttpsEndpoint, validateResourceId } from "../validation/resource-id";
import { validateBlobPaths } from "./blob-path";
import { resolveConnectionName } from "./connection-name";
import { validateFunctionName } from "./function-name";

/**
 * An existing storage account for the trigger. An azurerm `StorageAccount` or a
 * `DataAzurermStorageAccount` satisfies this interface as is.
 */
export interface IBlobTriggerStorageAccount {
  /** Azure resource id of the account. */
  readonly id: string;
  readonly name: string;
  /** `https://<name>.blob.core.windows.net/` */
  readonly primaryBlobEndpoint: string;
  /** `https://<name>.queue.core.windows.net/` (the trigger's poison queue lives there). */
  readonly primaryQueueEndpoint: string;
}

/** Props of `BlobTrigger`. */
export interface BlobTriggerProps {
  /**
   * Blobs that trigger scoring: `<container>/<blob name pattern>`. `{token}` captures part of the
   * blob name (letters, digits, `_`); `{{`/`}}` are literal braces. A token matches any text,
   * sub-folders included.
   * @default "input/{blobname}.json" (the documented example of the retired Azure ML feature)
   */
  readonly inputPath?: string;
  /**
   * Where each result is written: `<container>/<blob name pattern>`, using only tokens captured by
   * `inputPath`. Refused when a result could match `inputPath` (same container and overlapping
   * patterns): it would trigger the function again, endlessly. Per-invocation expressions such as
   * `{rand-guid}` or `{DateTime}` are refused too: a retried blob would get a second result.
   * Refused as well when two input blobs could write the same result: every token of `inputPath`
   * must be used, and the result name must split back into the token values. The runtime gives
   * each token the longest text that fits, so a token never holds the literal just before it in
   * `inputPath` (with "input/{a}/{b}", {b} holds no '/'): "output/{a}/{b}" or
   * "output/{b}/{a}.json" are accepted, "output/{a}-{b}" is not ("input/x-y/z" and "input/x/y-z"
   * would both write "output/x-y-z").
   * @default "output/{blobname}_out.json"
   */
  readonly outputPath?: string;
  /**
   * Name of the function in the app (folder in the image, name in the portal).
   * @default "score-blob"
   */
  readonly functionName?: string;
  /**
   * Prefix of the identity-based connection settings (`<connectionName>__blobServiceUri`, ...).
   * Letters, digits and single `_`, starting with a letter; `__` is the settings separator.
   * @default "AmlBlobStorage" for the default function name; otherwise "AmlBlobStorage_" + the
   * function name with '-' replaced by '_', so that two blob triggers never share settings
   */
  readonly connectionName?: string;
  /**
   * Use this storage account instead of creating one. Only the containers (see
   * `createContainers`) and the role assignments are created in it.
   * @default a new account with the secure baseline (no shared keys, TLS 1.2, private containers)
   */
  readonly storageAccount?: IBlobTriggerStorageAccount;
  /**
   * Name of the storage account the trigger creates (not allowed with `storageAccount`).
   * @default `st<base><role><suffix>` with role "trg" (or "t" + 5 hex digits of the function name
   * for a non-default function name, so that two blob triggers get two accounts)
   */
  readonly storageAccountName?: string;
  /**
   * Whether to create the input and output containers. Set false when they already exist in
   * `storageAccount`; role assignments are then scoped to their resource ids all the same.
   * @default true
   */
  readonly createContainers?: boolean;
}

/**
 * Container in the trigger's storage account where the runtime keeps one receipt blob per
 * processed blob (WebJobs SDK `BlobReceiptManager`, created on the *watched* account's client in
 * `BlobListenerFactory`; `HostContainerNames.Hosts`).
 */
export const BLOB_RECEIPTS_CONTAINER = "azure-webjobs-hosts";
/** The trigger's props once validated, defaults filled in. */
export interface BlobTriggerSettings {
  readonly inputPath: string;
  readonly outputPath: string;
  readonly inputContainer: string;
  readonly outputContainer: string;
  readonly functionName: string;
  readonly connectionName: string;
  readonly createContainers: boolean;
}

/** The function name a trigger gets by default; its outputs and connection then go unprefixed. */
export const DEFAULT_FUNCTION_NAME = "score-blob";
const DEFAULT_CONNECTION = "AmlBlobStorage";
const OWNER = "BlobTrigger";

/** Checks `props` and fills in the defaults; throws a ValidationError naming the first bad prop. */
export function validateBlobTriggerProps(props: BlobTriggerProps): BlobTriggerSettings {
  checkPropsObject(OWNER, props, "not an object", "BlobTriggerProps ({ inputPath?, outputPath?, ... }), or nothing for the defaults");
  const inputPath = props.inputPath ?? "input/{blobname}.json";
  const outputPath = props.outputPath ?? "output/{blobname}_out.json";
  const { input, output } = validateBlobPaths(OWNER, inputPath, outputPath);
  for (const [prop, path, container] of [["inputPath", inputPath, input.container], ["outputPath", outputPath, output.container]] as const) {
    if (container === BLOB_RECEIPTS_CONTAINER) {
      invalid(OWNER, prop, path, `the runtime keeps its blob receipts in the container "${BLOB_RECEIPTS_CONTAINER}"`, "any other container name");
    }
  }
  const functionName = props.functionName ?? DEFAULT_FUNCTION_NAME;
  validateFunctionName(OWNER, "functionName", functionName);
  const connectionName = resolveConnectionName(OWNER, props.connectionName, DEFAULT_CONNECTION, functionName, DEFAULT_FUNCTION_NAME);
  const createContainers = validateStorageAccount(props);
  return { inputPath, outputPath, inputContainer: input.container, outputContainer: output.container, functionName, connectionName, createContainers };
}

/** The account props (`storageAccount`, `storageAccountName`, `createContainers`); returns createContainers. */
function validateStorageAccount(props: BlobTriggerProps): boolean {
  if (props.createContainers !== undefined && typeof props.createContainers !== "boolean") {
    invalid(OWNER, "createContainers", props.createContainers, "not a boolean", "true or false");
  }
  if (props.createContainers === false && props.storageAccount === undefined) {
    invalid(OWNER, "createContainers", false, "the trigger creates its own storage account, which has no containers unless it creates them", "false only together with storageAccount");
  }
  if (props.storageAccountName !== undefined) {
    if (props.storageAccount !== undefined) {
      invalid(OWNER, "storageAccountName", props.storageAccountName, "storageAccount is given too, so no account is created to name", "storageAccountName or storageAccount, not both");
    }
    validateStorageAccountName(OWNER, "storageAccountName", props.storageAccountName);
  }
  if (props.storageAccount !== undefined) {
    const acct = props.storageAccount as unknown as { [k: string]: unknown };
    for (const key of ["id", "name", "primaryBlobEndpoint", "primaryQueueEndpoint"]) {
      if (typeof acct[key] !== "string") {
        invalid(OWNER, `storageAccount.${key}`, acct[key], "missing", "an azurerm StorageAccount, a DataAzurermStorageAccount, or an object with id, name, primaryBlobEndpoint and primaryQueueEndpoint strings");
      }
    }
    // These values are written into the Terraform configuration and app settings.
    validateResourceId(OWNER, "storageAccount.id", props.storageAccount.id, "Microsoft.Storage/storageAccounts");
    validateStorageAccountName(OWNER, "storageAccount.name", props.storageAccount.name);
    validateHttpsEndpoint(OWNER, "storageAccount.primaryBlobEndpoint", props.storageAccount.primaryBlobEndpoint);
    validateHttpsEndpoint(OWNER, "storageAccount.primaryQueueEndpoint", props.storageAccount.primaryQueueEndpoint);
  }
  return props.createContainers ?? true;
}
