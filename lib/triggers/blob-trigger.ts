import { createHash } from "crypto";
import { Construct } from "constructs";
import { Fn, ITerraformDependable, TerraformOutput, TerraformStack } from "cdktf";
import type { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { StorageQueue } from "@cdktf/provider-azurerm/lib/storage-queue";
import { RoleDefinition } from "@cdktf/provider-azurerm/lib/role-definition";
import { checkPropsObject, invalid } from "../errors";
import { existingResourceKey } from "../existing-resources";
import { claimNames, validateStorageAccountName } from "../naming";
import { createSecureStorageAccount } from "../security/secure-storage-account";
import { BuiltInRole, grantRole, grantRoleById } from "../security/role-assignment";
import { validateHttpsEndpoint, validateResourceId } from "../validation/resource-id";
import { terraformLiteral } from "../validation/terraform-literal";
import { containerScope } from "../model/model-roles";
import { validateBlobPaths } from "./blob-path";
import { validateFunctionName } from "./function-name";
import { ITrigger, ITriggerTarget, TriggerBinding } from "./trigger";
import type { PrivateEndpointNeed } from "../network/private-endpoint";
import type { NameClaims } from "../deployment/declared-needs";
import { poisonQueueAlert } from "../monitoring/alerts";

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

/**
 * The receipts container of the watched account. In an existing account that several triggers
 * of the stack watch, it is created once, at the stack level (every host keeps its receipts under
 * its own host id in it), so the second trigger does not create it again and its address does not
 * depend on which deployment came first.
 */
function receiptsContainer(scope: Construct, account: IBlobTriggerStorageAccount, sharedKey: string | undefined): StorageContainer {
  const props = { name: BLOB_RECEIPTS_CONTAINER, storageAccountId: account.id, containerAccessType: "private" };
  if (sharedKey === undefined) return new StorageContainer(scope, "receipts-container", props);
  const stack = TerraformStack.of(scope);
  const id = `blob-receipts-${createHash("sha256").update(sharedKey, "utf8").digest("hex").slice(0, 8)}`;
  return (stack.node.tryFindChild(id) as StorageContainer | undefined) ?? new StorageContainer(stack, id, props);
}

/** Props of {@link BlobTrigger}. */
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

/** Name of the queue the blob trigger moves a blob's message to after its last failed try. */
export const BLOB_POISON_QUEUE = "webjobs-blobtrigger-poison";

/**
 * Container in the trigger's storage account where the runtime keeps one receipt blob per
 * processed blob (WebJobs SDK `BlobReceiptManager`, created on the *watched* account's client in
 * `BlobListenerFactory`; `HostContainerNames.Hosts`).
 */
export const BLOB_RECEIPTS_CONTAINER = "azure-webjobs-hosts";

/**
 * The only actions the polling blob trigger needs beyond data roles (WebJobs SDK,
 * `BlobLogListener.EnableLoggingAsync`: Get Blob Service Properties, then Set Blob Service
 * Properties to turn on classic write logging when it is off). With Azure AD auth those calls
 * need `blobServices/read` and `blobServices/write` (azure-sdk-for-js #13503); Storage Account
 * Contributor has them among many others (keys, network rules, deletion).
 */
export const BLOB_SERVICE_PROPERTIES_ACTIONS = ["Microsoft.Storage/storageAccounts/blobServices/read", "Microsoft.Storage/storageAccounts/blobServices/write"];

/**
 * Storage Blob Data Reader is granted on the account but only for blobs in `$logs` (the classic
 * storage logs the trigger polls), through an Azure ABAC condition: `$logs` only exists once the
 * runtime has turned logging on, so it cannot be a role-assignment scope at deploy time.
 */
export const LOGS_CONTAINER_CONDITION =
  "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals '$logs'))";

const DEFAULT_FUNCTION_NAME = "score-blob";
const DEFAULT_CONNECTION = "AmlBlobStorage";
const CONNECTION_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$/;
const OWNER = "BlobTrigger";

/**
 * Scores blobs: every blob that lands at `inputPath` is passed to the entry script's `run()` and
 * the result is written to `outputPath` (like the retired feature's `package_blob`).
 *
 * **Behaviour at run time** (the `blob` adapter in `scoring-image/adapters/`): the blob arrives as
 * bytes (`dataType: binary`) and is decoded as UTF-8 text for a plain `run(data)`, or passed
 * raw to scripts in raw mode (like the HTTP trigger). The input blob is never modified or deleted.
 * The result is written only when scoring succeeded; a failure raises, and the log names the blob,
 * so the runtime retries it (5 tries) and finally puts a message on `webjobs-blobtrigger-poison` in
 * the trigger's storage account. This is the polling blob trigger: new blobs can take minutes to
 * be noticed.
 *
 * **Connection**: identity-based with the app's user-assigned identity (`__blobServiceUri`,
 * `__queueServiceUri`, `__credential`, `__clientId`); no key or connection string anywhere.
 *
 * **Roles, as narrow as Azure allows** (Azure Functions docs, "Blob storage trigger", Identity-based
 * connections: the trigger needs Storage Blob Data Owner and Storage Queue Data Contributor; the
 * output binding lists Storage Blob Data Owner as its example role, management roles such as Owner
 * are not enough):
 * - Storage Blob Data Owner on the **input container** only: the role the docs state for the
 *   trigger, granted at container scope so that it covers no other container of the account.
 * - Storage Blob Data Contributor on the **output container** only: writing a blob needs no more
 *   (Owner adds only ACL management, irrelevant here). Skipped when input and output share a
 *   container, which the Owner grant already covers.
 * - Storage Queue Data Contributor for the poison queue (the trigger writes to it on the trigger's
 *   account): on the **queue itself** when this trigger creates the account (it pre-creates the
 *   queue); on the **account** when the account is the user's, because the queue may not exist
 *   yet there and the runtime must be able to create it, which a grant on a non-existent queue
 *   cannot allow.
 * - Storage Blob Data Contributor on the receipts container `azure-webjobs-hosts` of the trigger's
 *   account (created with the other containers): the runtime writes a receipt per processed blob
 *   there, in the *watched* account (WebJobs SDK `BlobListenerFactory` / `BlobReceiptManager`).
 * - Storage Blob Data Reader on the account, limited by an ABAC condition to blobs in `$logs`:
 *   the trigger polls the account's classic storage logs.
 * - A custom role with only `blobServices/read` and `blobServices/write` on the account: the
 *   trigger reads the blob service properties and turns classic write logging on
 *   (`BlobLogListener.EnableLoggingAsync`). This replaces Storage Account Contributor, which the
 *   Functions docs list and which could also read keys, change network rules or delete the account.
 * Role scopes use the containers' and queue's `id`: created through `storage_account_id`, azurerm
 * 4.x gives them the Resource Manager id (`resource_manager_id` is deprecated in favour of it).
 *
 * **Host storage**: the shared blob listener keeps its scan state and dispatch queue in host
 * storage (AzureWebJobsStorage), which the deployment's Blob Data Owner and Queue Data Contributor
 * grants cover; it needs no management role there.
 *
 * **Outputs**: `blob_storage_account_name`, `blob_input_container`, `blob_output_container`,
 * `blob_poison_queue`, prefixed with `<functionName>_` when the function name is not the default,
 * so that several blob triggers in one deployment keep distinct outputs.
 */
export class BlobTrigger implements ITrigger {
  public readonly inputPath: string;
  public readonly outputPath: string;
  public readonly functionName: string;
  public readonly connectionName: string;
  public readonly inputContainer: string;
  public readonly outputContainer: string;
  public readonly createContainers: boolean;
  private readonly props: BlobTriggerProps;
  private bound = false;

  constructor(props: BlobTriggerProps = {}) {
    checkPropsObject(OWNER, props, "not an object", "BlobTriggerProps ({ inputPath?, outputPath?, ... }), or nothing for the defaults");
    this.props = props;
    this.inputPath = props.inputPath ?? "input/{blobname}.json";
    this.outputPath = props.outputPath ?? "output/{blobname}_out.json";
    const { input, output } = validateBlobPaths(OWNER, this.inputPath, this.outputPath);
    this.inputContainer = input.container;
    this.outputContainer = output.container;
    for (const [prop, path, container] of [["inputPath", this.inputPath, input.container], ["outputPath", this.outputPath, output.container]] as const) {
      if (container === BLOB_RECEIPTS_CONTAINER) {
        invalid(OWNER, prop, path, `the runtime keeps its blob receipts in the container "${BLOB_RECEIPTS_CONTAINER}"`, "any other container name");
      }
    }

    this.functionName = props.functionName ?? DEFAULT_FUNCTION_NAME;
    validateFunctionName(OWNER, "functionName", this.functionName);

    this.connectionName = props.connectionName ?? (this.functionName === DEFAULT_FUNCTION_NAME ? DEFAULT_CONNECTION : `${DEFAULT_CONNECTION}_${this.functionName.replace(/-/g, "_").replace(/_+/g, "_")}`.slice(0, 64).replace(/_+$/, ""));
    if (typeof this.connectionName !== "string" || !CONNECTION_NAME.test(this.connectionName) || this.connectionName.length > 64) {
      invalid(OWNER, "connectionName", this.connectionName, "not usable as an app setting prefix", "1-64 letters, digits and single '_', starting with a letter ('__' separates the prefix from the setting name)");
    }

    if (props.createContainers !== undefined && typeof props.createContainers !== "boolean") {
      invalid(OWNER, "createContainers", props.createContainers, "not a boolean", "true or false");
    }
    this.createContainers = props.createContainers ?? true;
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
  }

  public bind(scope: Construct, target: ITriggerTarget): TriggerBinding {
    if (this.bound) {
      invalid(OWNER, "bind", this.functionName, "this trigger is already bound to a deployment", "one BlobTrigger instance per deployment (create a new one)");
    }
    this.bound = true;
    const props = this.props;
    const isDefaultFunction = this.functionName === DEFAULT_FUNCTION_NAME;

    // ---- Storage account: the user's, or a new one with the secure baseline.
    let account: IBlobTriggerStorageAccount;
    let accountName: string;
    let ownAccount: StorageAccount | undefined;
    const nameClaims: NameClaims[] = [];
    const owned = props.storageAccount === undefined;
    if (props.storageAccount !== undefined) {
      account = props.storageAccount;
      accountName = account.name;
    } else {
      const role = isDefaultFunction ? "trg" : `t${createHash("sha256").update(this.functionName, "utf8").digest("hex").slice(0, 5)}`;
      const name = props.storageAccountName ?? target.names.storageAccount(role);
      accountName = name;
      nameClaims.push({
        claims: [{ kind: "storage account", name }], claimant: scope.node.path, owner: OWNER,
        prop: props.storageAccountName === undefined ? "storageAccountName (derived)" : "storageAccountName", value: name,
        allowed: "a storage account name no other construct of the stack creates: another storageAccountName",
      });
      account = ownAccount = createSecureStorageAccount(scope, "trigger-storage", {
        name,
        location: target.location,
        resourceGroupName: target.resourceGroupName,
        tags: target.tags,
        networkAccess: target.privateNetwork === true ? "private" : undefined,
      });
    }

    // ---- Containers (Resource Manager ids as role scopes). Containers in an account the trigger
    // shares with other deployments are claimed before they are created, so that a refused trigger
    // adds nothing to that account.
    const sameContainer = this.inputContainer === this.outputContainer;
    const sharedKey = owned ? undefined : existingResourceKey(account);
    if (this.createContainers && sharedKey !== undefined) {
      // Another trigger of the stack creating the same container in this account would collide at apply.
      const claims: Array<[string, string, string]> = [["inputPath", this.inputPath, this.inputContainer], ...(sameContainer ? [] : [["outputPath", this.outputPath, this.outputContainer] as [string, string, string]])];
      for (const [prop, value, container] of claims) {
        claimNames(TerraformStack.of(scope), scope.node.path, OWNER, prop, value, [{ kind: "blob container", name: `${sharedKey}/${container}` }],
          `a container no other trigger of the stack creates in that account: another ${prop}, or createContainers: false`);
      }
    }
    const scopeOf = (name: string, id: string): string => {
      if (!this.createContainers) return containerScope(account.id, name);
      const container = new StorageContainer(scope, id, {
        name,
        storageAccountId: account.id,
        containerAccessType: "private",
      });
      return container.id;
    };
    const inputScope = scopeOf(this.inputContainer, "input-container");
    const outputScope = sameContainer ? inputScope : scopeOf(this.outputContainer, "output-container");

    // ---- Receipts: the runtime records each processed blob in the watched account.
    const receiptsScope = this.createContainers
      ? receiptsContainer(scope, account, sharedKey).id
      : containerScope(account.id, BLOB_RECEIPTS_CONTAINER);

    // ---- Poison queue.
    let queueScope: string;
    if (owned) {
      const queue = new StorageQueue(scope, "poison-queue", { name: BLOB_POISON_QUEUE, storageAccountId: account.id });
      queueScope = queue.id;
    } else {
      queueScope = account.id;
    }

    // ---- Roles.
    const principal = target.identity.principalId;
    const dependencies: ITerraformDependable[] = [grantRole(scope, "input-blob-owner", inputScope, BuiltInRole.STORAGE_BLOB_DATA_OWNER, principal)];
    if (!sameContainer) {
      dependencies.push(grantRole(scope, "output-blob-contributor", outputScope, BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR, principal));
    }
    dependencies.push(grantRole(scope, "poison-queue-contributor", queueScope, BuiltInRole.STORAGE_QUEUE_DATA_CONTRIBUTOR, principal));
    // Receipts: create, lease and update metadata of blobs in azure-webjobs-hosts.
    dependencies.push(grantRole(scope, "receipts-contributor", receiptsScope, BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR, principal));
    // Log polling: list and read $logs only (ABAC condition), and get/set the blob service
    // properties to turn classic write logging on (a custom role with exactly those two actions,
    // defined in the account's resource group; its name must be unique in the tenant, hence the
    // globally unique account name in it).
    dependencies.push(grantRole(scope, "logs-reader", account.id, BuiltInRole.STORAGE_BLOB_DATA_READER, principal, LOGS_CONTAINER_CONDITION));
    const resourceGroupId = Fn.join("/", Fn.slice(Fn.split("/", account.id), 0, 5));
    const serviceProperties = new RoleDefinition(scope, "service-properties-role", {
      name: `AML blob trigger ${this.functionName} ${target.uniqueSuffix} on ${accountName}`,
      scope: resourceGroupId,
      assignableScopes: [resourceGroupId],
      description: "Get and set blob service properties: the polling blob trigger turns on classic write logging of the account it watches",
      permissions: [{ actions: BLOB_SERVICE_PROPERTIES_ACTIONS, notActions: [], dataActions: [], notDataActions: [] }],
    });
    dependencies.push(grantRoleById(scope, "service-properties", account.id, serviceProperties.roleDefinitionResourceId, principal));

    // ---- Outputs.
    const outputName = (name: string): string => target.outputId(isDefaultFunction ? name : `${this.functionName}_${name}`);
    const output = (id: string, name: string, value: string, description: string): void => {
      new TerraformOutput(scope, id, { value, description }).overrideLogicalId(outputName(name));
    };
    output("output-account", "blob_storage_account_name", account.name, `Storage account of the blob trigger "${this.functionName}"`);
    // The paths are user text: escaped so that Terraform does not evaluate `${...}` in them.
    output("output-input-container", "blob_input_container", this.inputContainer, terraformLiteral(OWNER, "inputPath", `Upload blobs to score here (path ${this.inputPath})`));
    output("output-output-container", "blob_output_container", this.outputContainer, terraformLiteral(OWNER, "outputPath", `Scored results land here (path ${this.outputPath})`));
    output("output-poison-queue", "blob_poison_queue", BLOB_POISON_QUEUE, "Queue (in the trigger's storage account) that receives blobs whose scoring failed on every try");

    const prefix = this.connectionName;
    return {
      functionName: this.functionName,
      adapter: "blob",
      bindings: [
        { type: "blobTrigger", direction: "in", name: "inputblob", path: this.inputPath, connection: prefix, dataType: "binary" },
        { type: "blob", direction: "out", name: "outputblob", path: this.outputPath, connection: prefix },
      ],
      adapterSettings: { kind: "blob", inputPath: this.inputPath, outputPath: this.outputPath },
      appSettings: {
        [`${prefix}__blobServiceUri`]: account.primaryBlobEndpoint,
        [`${prefix}__queueServiceUri`]: account.primaryQueueEndpoint,
        [`${prefix}__credential`]: "managedidentity",
        [`${prefix}__clientId`]: target.identity.clientId,
      },
      dependencies,
      // What this trigger created gets private endpoints and a poison queue alert; an account
      // passed in is left as it is (its only queue may not be the poison queue).
      privateEndpoints: owned ? (["blob", "queue"] as const).map((subresource): PrivateEndpointNeed => ({
        resourceName: accountName, resourceId: account.id, subresource, description: `the storage account "${accountName}" of the blob trigger "${this.functionName}"`,
      })) : undefined,
      alerts: owned ? [poisonQueueAlert(`${this.functionName}-poison-queue`, account.id, BLOB_POISON_QUEUE)] : undefined,
      nameClaims,
      diagnostics: ownAccount === undefined ? undefined : [{ resource: ownAccount, resourceId: ownAccount.id, categories: "storageAccount" }],
    };
  }
}
