import { createHash } from "crypto";
import { Construct } from "constructs";
import { Fn, ITerraformDependable, TerraformOutput, TerraformStack } from "cdktf";
import type { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { StorageQueue } from "@cdktf/provider-azurerm/lib/storage-queue";
import { RoleDefinition } from "@cdktf/provider-azurerm/lib/role-definition";
import { invalid } from "../errors";
import { existingResourceKey } from "../existing-resources";
import { claimNames } from "../naming";
import { createSecureStorageAccount } from "../security/secure-storage-account";
import { BuiltInRole, grantRole, grantRoleById } from "../security/role-assignment";
import { terraformLiteral } from "../validation/terraform-literal";
import { containerScope } from "../model/model-roles";
import { ITrigger, ITriggerTarget, TriggerBinding } from "./trigger";
import type { PrivateEndpointNeed } from "../network/private-endpoint";
import type { NameClaims } from "../deployment/declared-needs";
import { poisonQueueAlert } from "../monitoring/alerts";
import { BLOB_RECEIPTS_CONTAINER, BlobTriggerProps, DEFAULT_FUNCTION_NAME, IBlobTriggerStorageAccount, validateBlobTriggerProps } from "./blob-trigger-props";

export { BLOB_RECEIPTS_CONTAINER } from "./blob-trigger-props";
export type { BlobTriggerProps, IBlobTriggerStorageAccount } from "./blob-trigger-props";

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



/** Name of the queue the blob trigger moves a blob's message to after its last failed try. */
export const BLOB_POISON_QUEUE = "webjobs-blobtrigger-poison";



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
    const settings = validateBlobTriggerProps(props);
    this.props = props;
    this.inputPath = settings.inputPath;
    this.outputPath = settings.outputPath;
    this.functionName = settings.functionName;
    this.connectionName = settings.connectionName;
    this.inputContainer = settings.inputContainer;
    this.outputContainer = settings.outputContainer;
    this.createContainers = settings.createContainers;
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
