import { createHash } from "crypto";
import { Construct } from "constructs";
import { Annotations, TerraformOutput, TerraformStack, Token } from "cdktf";
import { ServicebusNamespace } from "@cdktf/provider-azurerm/lib/servicebus-namespace";
import { ServicebusQueue } from "@cdktf/provider-azurerm/lib/servicebus-queue";
import { invalid } from "../errors";
import { existingResourceKey } from "../existing-resources";
import { claimNames, validateServiceBusNamespaceName } from "../naming";
import { BuiltInRole, grantRole } from "../security/role-assignment";
import { isoDurationSeconds, timeSpan } from "./service-bus-durations";
import { ServiceBusCardinality, ServiceBusSku } from "./service-bus-options";
import { DEFAULT_FUNCTION_NAME, IServiceBusNamespaceRef, ServiceBusTriggerProps, validateServiceBusTriggerProps } from "./service-bus-trigger-props";
import { ITrigger, ITriggerTarget, TriggerBinding } from "./trigger";
import type { PrivateEndpointNeed } from "../network/private-endpoint";
import type { NameClaims } from "../deployment/declared-needs";
import { deadLetteredMessagesAlert, failedMessagesAlert } from "../monitoring/alerts";
import { ALL_LOGS_AND_METRICS } from "../monitoring/diagnostic-settings";

export { ServiceBusCardinality, ServiceBusSku } from "./service-bus-options";
export type { IServiceBusNamespaceRef, ServiceBusTriggerProps } from "./service-bus-trigger-props";

const OWNER = "ServiceBusTrigger";

/**
 * Scores Service Bus queue messages: each message of `inputQueueName` is passed to the entry
 * script and one result message is sent to `outputQueueName` (like the retired feature's
 * `package_service_bus_queue`).
 *
 * **Behaviour at run time** (the `servicebus` adapter in `scoring-image/adapters/`, contract in
 * `aml_host/servicebus.py`): the function binding only receives; the adapter sends results with
 * the azure-servicebus SDK, correlation id = the input's message id, message id derived from the
 * input's id and body. Messages are completed by the runtime only when the invocation succeeded
 * (`autoCompleteMessages`); a failure abandons them, Service Bus redelivers and dead-letters after
 * `maxDeliveryCount` deliveries. With cardinality MANY a message that fails for its own reason
 * goes to the failed queue instead of failing its batch. The output and failed queues have
 * duplicate detection with a window that covers every redelivery (checked at synth), so a result
 * re-sent after a redelivery is dropped.
 *
 * **Connection**: identity-based with the app's user-assigned identity
 * (`<connection>__fullyQualifiedNamespace`, `__credential`, `__clientId`). A namespace this trigger
 * creates has local (SAS) authentication off and TLS 1.2 minimum: no key exists to leak.
 *
 * **Roles, as narrow as Azure allows** (Azure Functions docs, Service Bus bindings, identity-based
 * connections: the trigger needs Azure Service Bus Data Receiver, the output Data Sender; both
 * roles can be assigned at queue scope): Data Receiver on the **input queue** only and Data Sender
 * on the **output queue** (and the **failed queue**, MANY) only; nothing at namespace scope.
 *
 * **Outputs**: `servicebus_namespace_name`, `servicebus_input_queue`, `servicebus_output_queue`,
 * `servicebus_failed_queue` (MANY), prefixed with `<functionName>_` when the function name is not
 * the default.
 */
export class ServiceBusTrigger implements ITrigger {
  public readonly inputQueueName: string;
  public readonly outputQueueName: string;
  /** Undefined with cardinality ONE (no failed queue). */
  public readonly failedQueueName?: string;
  public readonly functionName: string;
  public readonly connectionName: string;
  public readonly cardinality: ServiceBusCardinality;
  public readonly sku: ServiceBusSku;
  public readonly createQueues: boolean;
  public readonly maxDeliveryCount: number;
  public readonly lockDuration: string;
  public readonly duplicateDetectionWindow: string;
  public readonly functionTimeout: string;
  /** Largest message the queues accept (KB); what the adapter checks results against. */
  public readonly maxMessageSizeInKilobytes: number;
  /** The namespace tier when known at synth (created, or a literal on an existing one). */
  public readonly namespaceSku?: string;
  public readonly prefetchCount: number;
  /** Undefined with cardinality MANY (the setting applies to single-message functions only). */
  public readonly maxConcurrentCalls?: number;
  /** Undefined with cardinality ONE. */
  public readonly maxMessageBatchSize?: number;
  private readonly props: ServiceBusTriggerProps;
  private bound = false;

  constructor(props: ServiceBusTriggerProps = {}) {
    const settings = validateServiceBusTriggerProps(props);
    this.props = props;
    this.inputQueueName = settings.inputQueueName;
    this.outputQueueName = settings.outputQueueName;
    this.failedQueueName = settings.failedQueueName;
    this.functionName = settings.functionName;
    this.connectionName = settings.connectionName;
    this.cardinality = settings.cardinality;
    this.sku = settings.sku;
    this.createQueues = settings.createQueues;
    this.maxDeliveryCount = settings.maxDeliveryCount;
    this.lockDuration = settings.lockDuration;
    this.duplicateDetectionWindow = settings.duplicateDetectionWindow;
    this.functionTimeout = settings.functionTimeout;
    this.maxMessageSizeInKilobytes = settings.maxMessageSizeInKilobytes;
    this.namespaceSku = settings.namespaceSku;
    this.prefetchCount = settings.prefetchCount;
    this.maxConcurrentCalls = settings.maxConcurrentCalls;
    this.maxMessageBatchSize = settings.maxMessageBatchSize;
  }

  /**
   * Two triggers that create the same queue in one existing namespace (e.g. two deployments with
   * the default "inqueue" on a shared namespace) would both create it, which fails only at apply:
   * refused at synth, naming both construct paths. Namespaces are told apart by their literal
   * name when it is known (names are global), else by construct path; other references are not
   * compared. Claimed before the queues are created rather than declared with the binding's
   * needs, so that a refused trigger adds nothing to the shared namespace.
   */
  private claimQueues(scope: Construct, namespace: IServiceBusNamespaceRef): void {
    const key = existingResourceKey(namespace);
    if (key === undefined) return;
    const queues: Array<[string, string | undefined]> = [["inputQueueName", this.inputQueueName], ["outputQueueName", this.outputQueueName], ["failedQueueName", this.failedQueueName]];
    for (const [prop, queue] of queues) {
      if (queue === undefined) continue;
      claimNames(TerraformStack.of(scope), scope.node.path, OWNER, prop, queue, [{ kind: "Service Bus queue", name: `${key}/${queue}` }],
        `a queue name no other trigger of the stack creates in that namespace: set ${prop} (or createQueues: false to share an existing queue)`);
    }
  }

  public bind(scope: Construct, target: ITriggerTarget): TriggerBinding {
    if (this.bound) {
      invalid(OWNER, "bind", this.functionName, "this trigger is already bound to a deployment", "one ServiceBusTrigger instance per deployment (create a new one)");
    }
    this.bound = true;
    const props = this.props;
    const isDefaultFunction = this.functionName === DEFAULT_FUNCTION_NAME;

    // ---- Namespace: the user's, or a new one without SAS authentication.
    let namespace: IServiceBusNamespaceRef;
    let ownNamespace: ServicebusNamespace | undefined;
    const privateEndpoints: PrivateEndpointNeed[] = [];
    const nameClaims: NameClaims[] = [];
    if (props.namespace !== undefined) {
      namespace = props.namespace;
      warnAboutExistingNamespace(scope, namespace);
    } else {
      let name = props.namespaceName;
      if (name === undefined) {
        const derived = target.names.serviceBusNamespace();
        const tag = createHash("sha256").update(this.functionName, "utf8").digest("hex").slice(0, 5);
        name = isDefaultFunction ? derived : `sb-${target.baseName}-${tag}-${target.uniqueSuffix}`;
        validateServiceBusNamespaceName(OWNER, "namespaceName (derived)", name);
      }
      nameClaims.push({
        claims: [{ kind: "Service Bus namespace", name }], claimant: scope.node.path, owner: OWNER,
        prop: props.namespaceName === undefined ? "namespaceName (derived)" : "namespaceName", value: name,
        allowed: "a namespace name no other trigger of the stack creates: another namespaceName, or pass the namespace itself as `namespace` to share it",
      });
      const premium = this.sku === ServiceBusSku.PREMIUM;
      if (target.privateNetwork === true && !premium) {
        invalid(OWNER, "sku", this.sku.value, "the deployment has a network, so the namespace this trigger creates gets a private endpoint, which Service Bus offers on Premium only", "sku: ServiceBusSku.PREMIUM, or an existing namespace passed as namespace");
      }
      namespace = ownNamespace = new ServicebusNamespace(scope, "namespace", {
        name,
        location: target.location,
        resourceGroupName: target.resourceGroupName,
        sku: this.sku.value,
        localAuthEnabled: false,
        minimumTlsVersion: "1.2",
        // The function app is not VNet-integrated by default; access still needs an Azure AD role.
        // On the deployment's private network it is reached through its private endpoint only.
        publicNetworkAccessEnabled: target.privateNetwork !== true,
        ...(premium ? { capacity: 1, premiumMessagingPartitions: 1 } : {}),
        tags: target.tags,
      });
      privateEndpoints.push({ resourceName: name, resourceId: namespace.id, subresource: "namespace", description: `the Service Bus namespace "${name}" of the trigger "${this.functionName}"` });
    }

    // ---- Queues (their resource ids are the role scopes).
    let inputScope: string;
    let outputScope: string;
    let failedScope: string | undefined;
    if (this.createQueues) {
      if (props.namespace !== undefined) this.claimQueues(scope, props.namespace);
      // Premium queues take the message size; Standard queues have a fixed 256 KB.
      const size = this.namespaceSku === "Premium" ? { maxMessageSizeInKilobytes: this.maxMessageSizeInKilobytes } : {};
      const input = new ServicebusQueue(scope, "input-queue", {
        name: this.inputQueueName,
        namespaceId: namespace.id,
        maxDeliveryCount: this.maxDeliveryCount,
        lockDuration: this.lockDuration,
        deadLetteringOnMessageExpiration: true,
        ...size,
      });
      const output = new ServicebusQueue(scope, "output-queue", {
        name: this.outputQueueName,
        namespaceId: namespace.id,
        requiresDuplicateDetection: true,
        duplicateDetectionHistoryTimeWindow: this.duplicateDetectionWindow,
        ...size,
      });
      inputScope = input.id;
      outputScope = output.id;
      if (this.failedQueueName !== undefined) {
        // Duplicate detection here too: a retried batch sends its failed messages again.
        failedScope = new ServicebusQueue(scope, "failed-queue", {
          name: this.failedQueueName,
          namespaceId: namespace.id,
          requiresDuplicateDetection: true,
          duplicateDetectionHistoryTimeWindow: this.duplicateDetectionWindow,
          ...size,
        }).id;
      }
    } else {
      inputScope = `${namespace.id}/queues/${this.inputQueueName}`;
      outputScope = `${namespace.id}/queues/${this.outputQueueName}`;
      if (this.failedQueueName !== undefined) failedScope = `${namespace.id}/queues/${this.failedQueueName}`;
    }

    // ---- Roles: receive from the input queue, send to the output queue, nothing else.
    const principal = target.identity.principalId;
    const dependencies = [
      grantRole(scope, "input-queue-receiver", inputScope, BuiltInRole.SERVICE_BUS_DATA_RECEIVER, principal),
      grantRole(scope, "output-queue-sender", outputScope, BuiltInRole.SERVICE_BUS_DATA_SENDER, principal),
    ];
    if (failedScope !== undefined) {
      dependencies.push(grantRole(scope, "failed-queue-sender", failedScope, BuiltInRole.SERVICE_BUS_DATA_SENDER, principal));
    }

    // ---- Outputs.
    const outputName = (name: string): string => target.outputId(isDefaultFunction ? name : `${this.functionName}_${name}`);
    const output = (id: string, name: string, value: string, description: string): void => {
      new TerraformOutput(scope, id, { value, description }).overrideLogicalId(outputName(name));
    };
    output("output-namespace", "servicebus_namespace_name", namespace.name, `Service Bus namespace of the trigger "${this.functionName}"`);
    output("output-input-queue", "servicebus_input_queue", this.inputQueueName, "Send messages to score to this queue");
    output("output-output-queue", "servicebus_output_queue", this.outputQueueName, "Results arrive here, correlation id = the input's message id");
    if (this.failedQueueName !== undefined) {
      output("output-failed-queue", "servicebus_failed_queue", this.failedQueueName, "Messages of a batch that could not be scored, with the error in their application properties");
    }

    const prefix = this.connectionName;
    const timeout = timeSpan(isoDurationSeconds(this.functionTimeout)!);
    // The runtime renews the message lock for as long as an invocation may run.
    const serviceBus: { [key: string]: unknown } = { prefetchCount: this.prefetchCount, autoCompleteMessages: true, maxAutoLockRenewalDuration: timeout };
    if (this.maxConcurrentCalls !== undefined) serviceBus.maxConcurrentCalls = this.maxConcurrentCalls;
    if (this.maxMessageBatchSize !== undefined) serviceBus.maxMessageBatchSize = this.maxMessageBatchSize;
    return {
      functionName: this.functionName,
      adapter: "servicebus",
      bindings: [{ type: "serviceBusTrigger", direction: "in", name: "msg", queueName: this.inputQueueName, connection: prefix, cardinality: this.cardinality.value }],
      adapterSettings: {
        kind: "servicebus",
        connection: prefix,
        outputQueue: this.outputQueueName,
        cardinality: this.cardinality.value,
        maxMessageBytes: this.maxMessageSizeInKilobytes * 1024,
        ...(this.failedQueueName !== undefined ? { failedQueue: this.failedQueueName } : {}),
      },
      appSettings: {
        [`${prefix}__fullyQualifiedNamespace`]: `${namespace.name}.servicebus.windows.net`,
        [`${prefix}__credential`]: "managedidentity",
        [`${prefix}__clientId`]: target.identity.clientId,
      },
      functionTimeout: timeout,
      hostExtensions: { serviceBus },
      dependencies,
      privateEndpoints,
      alerts: [
        deadLetteredMessagesAlert(`${this.functionName}-dead-lettered`, namespace.id, this.inputQueueName),
        ...(this.failedQueueName === undefined ? [] : [failedMessagesAlert(`${this.functionName}-failed-messages`, namespace.id, this.failedQueueName)]),
      ],
      nameClaims,
      diagnostics: ownNamespace === undefined ? undefined : [{ resource: ownNamespace, resourceId: ownNamespace.id, categories: ALL_LOGS_AND_METRICS }],
    };
  }
}

/**
 * Settings of an existing namespace that the trigger works with but that weaken the baseline;
 * known only for a `ServicebusNamespace` resource (a data source's values arrive at apply).
 */
function warnAboutExistingNamespace(scope: Construct, ns: IServiceBusNamespaceRef): void {
  const config = ns as { localAuthEnabledInput?: unknown; minimumTlsVersionInput?: unknown; publicNetworkAccessEnabledInput?: unknown };
  if (config.localAuthEnabledInput === true) {
    Annotations.of(scope).addWarning(`${OWNER}: the existing namespace "${ns.name}" allows local (SAS key) authentication; the trigger uses only its managed identity, consider localAuthEnabled: false`);
  }
  if (typeof config.minimumTlsVersionInput === "string" && !Token.isUnresolved(config.minimumTlsVersionInput) && config.minimumTlsVersionInput !== "1.2") {
    Annotations.of(scope).addWarning(`${OWNER}: the existing namespace "${ns.name}" accepts TLS ${config.minimumTlsVersionInput}; consider minimumTlsVersion "1.2"`);
  }
  if (config.publicNetworkAccessEnabledInput === false) {
    Annotations.of(scope).addWarning(`${OWNER}: the existing namespace "${ns.name}" has public network access off; the function app reaches it only through a private endpoint in a VNet it is integrated with`);
  }
}
