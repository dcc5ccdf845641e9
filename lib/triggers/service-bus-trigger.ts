import { createHash } from "crypto";
import { Construct } from "constructs";
import { Annotations, TerraformOutput, TerraformStack, Token } from "cdktf";
import { ServicebusNamespace } from "@cdktf/provider-azurerm/lib/servicebus-namespace";
import { ServicebusQueue } from "@cdktf/provider-azurerm/lib/servicebus-queue";
import { checkPropsObject, invalid } from "../errors";
import { existingResourceKey, knownInput } from "../existing-resources";
import { claimNames, deriveNames, validateServiceBusNamespaceName, validateServiceBusQueueName } from "../naming";
import { BuiltInRole, grantRole } from "../security/role-assignment";
import { validateResourceId } from "../validation/resource-id";
import { validateFunctionName } from "./function-name";
import { ITrigger, ITriggerTarget, TriggerBinding } from "./trigger";

/** How many messages one invocation of the scoring function receives. */
export class ServiceBusCardinality {
  /** One message per invocation; the entry script's `run()` scores it. */
  public static readonly ONE = new ServiceBusCardinality("one");
  /**
   * A batch of messages per invocation (up to `maxMessageBatchSize`). When the entry script
   * defines `run_batch(mini_batch: list) -> list`, it is called once per batch; otherwise `run()`
   * is called for each message of the batch.
   */
  public static readonly MANY = new ServiceBusCardinality("many");

  /** Looks a cardinality up by its function.json name ("one" or "many", any case). */
  public static of(value: string): ServiceBusCardinality {
    const found = [ServiceBusCardinality.ONE, ServiceBusCardinality.MANY].find((c) => typeof value === "string" && c.value === value.trim().toLowerCase());
    if (!found) invalid(OWNER, "cardinality", value, "not a Service Bus cardinality", "ServiceBusCardinality.ONE or ServiceBusCardinality.MANY (\"one\" or \"many\")");
    return found;
  }

  private constructor(public readonly value: "one" | "many") {}

  public toString(): string {
    return this.value;
  }
}

/**
 * Service Bus namespace tier. Basic is not offered: it has no duplicate detection, which the
 * output queue needs so that a result re-sent after a retry is dropped by the broker.
 */
export class ServiceBusSku {
  /** Shared capacity, pay per operation. */
  public static readonly STANDARD = new ServiceBusSku("Standard");
  /** Dedicated capacity (1 messaging unit, 1 partition); needed for private endpoints. */
  public static readonly PREMIUM = new ServiceBusSku("Premium");

  /** Looks a tier up by name ("Standard" or "Premium", any case). */
  public static of(value: string): ServiceBusSku {
    const found = [ServiceBusSku.STANDARD, ServiceBusSku.PREMIUM].find((c) => typeof value === "string" && c.value.toLowerCase() === value.trim().toLowerCase());
    if (!found) invalid(OWNER, "sku", value, "not a supported Service Bus tier (Basic has no duplicate detection, which the output queue needs)", "ServiceBusSku.STANDARD or ServiceBusSku.PREMIUM");
    return found;
  }

  private constructor(public readonly value: "Standard" | "Premium") {}

  public toString(): string {
    return this.value;
  }
}

/**
 * An existing Service Bus namespace; an azurerm `ServicebusNamespace` or its data source fits.
 *
 * What is checked at synth: the tier, when it is known then (the `sku` a `ServicebusNamespace`
 * resource was configured with, or a literal `sku` on this object): Basic is refused. On a
 * data source every attribute is a Terraform reference read at apply, so nothing about it can
 * be checked at synth; give `sku` as a literal to have it checked (and to allow
 * `maxMessageSizeInKilobytes` on Premium).
 */
export interface IServiceBusNamespaceRef {
  /** Azure resource id of the namespace. */
  readonly id: string;
  readonly name: string;
  /**
   * Tier of the namespace ("Standard" or "Premium"), when known at synth.
   * @default read from a `ServicebusNamespace` resource's configuration; otherwise unknown
   * (treated as Standard for message sizes: 256 KB)
   */
  readonly sku?: string;
}

/** Props of {@link ServiceBusTrigger}. */
export interface ServiceBusTriggerProps {
  /**
   * Queue whose messages are scored.
   * @default "inqueue" (as the retired Azure ML feature)
   */
  readonly inputQueueName?: string;
  /**
   * Queue that receives one result message per input message. The result's `correlation_id` is
   * the input's message id; its `message_id` is derived from the input's id and body (first 32
   * hex digits of sha256(utf8(input id) + sha256(body))), so a retried input gives the same id
   * (dropped by duplicate detection) and two inputs that reuse an id give two results.
   * @default "outqueue"
   */
  readonly outputQueueName?: string;
  /**
   * Queue that receives the messages of a batch (cardinality MANY) that failed for their own
   * reason (no message id, bad input, `run()` raising, a result too large to send): the original
   * body, content type, correlation id and application properties, plus application properties
   * `aml-original-message-id`, `aml-error-type` and `aml-error-message`. The app may only send
   * to it (Data Sender on this queue). Cardinality ONE has no failed queue: a failing message is
   * retried and then dead-lettered.
   * @default `<outputQueueName>-failed` with cardinality MANY
   */
  readonly failedQueueName?: string;
  /**
   * Name of the function in the app.
   * @default "score-queue"
   */
  readonly functionName?: string;
  /**
   * Prefix of the identity-based connection settings (`<connectionName>__fullyQualifiedNamespace`).
   * Letters, digits and single `_`, starting with a letter.
   * @default "AmlServiceBus" for the default function name, otherwise "AmlServiceBus_" + the
   * function name with '-' replaced by '_'
   */
  readonly connectionName?: string;
  /**
   * Use this namespace instead of creating one; only the queues (see `createQueues`) and the role
   * assignments are created in it. It must be Standard or Premium (duplicate detection): a tier
   * known at synth as Basic is refused (see {@link IServiceBusNamespaceRef} for what is known).
   * @default a new namespace (local/SAS authentication off, TLS 1.2)
   */
  readonly namespace?: IServiceBusNamespaceRef;
  /**
   * Name of the namespace the trigger creates (not allowed with `namespace`).
   * @default `sb-<base>-<suffix>`; `sb-<base>-<5 hex digits of the function name>-<suffix>` for a
   * non-default function name, so that two Service Bus triggers get two namespaces
   */
  readonly namespaceName?: string;
  /**
   * Whether to create the two queues. Set false when they already exist in `namespace`; the output
   * queue then needs duplicate detection for the no-duplicates guarantee below.
   * @default true
   */
  readonly createQueues?: boolean;
  /**
   * Tier of the namespace the trigger creates.
   * @default ServiceBusSku.STANDARD
   */
  readonly sku?: ServiceBusSku | "Standard" | "Premium";
  /**
   * One message per invocation, or batches. With `MANY` the entry script may define
   * `run_batch(mini_batch: list) -> list` (inputs in the same mode as `run`, one result per item,
   * same order) and is called once per batch; without it `run()` is called per message. If
   * `run_batch` raises or returns the wrong number of results, each message is scored again with
   * `run()` to isolate the bad ones. A message that fails for its own reason (no message id, bad
   * input, `run()` raising, a result too large) goes to the failed queue (`failedQueueName`) and
   * the invocation succeeds: every good result is sent once and completed. Only what is not a
   * message's fault (init not done, a send failing) fails the invocation; the batch is then
   * redelivered and the results already sent are dropped by duplicate detection.
   * With ONE, a failing message is retried and dead-lettered after `maxDeliveryCount` deliveries.
   * @default ServiceBusCardinality.ONE
   */
  readonly cardinality?: ServiceBusCardinality | "one" | "many";
  /**
   * Deliveries of a message before Service Bus moves it to the input queue's dead-letter queue.
   * A message is completed only after its result was sent; a failure abandons it (retry).
   * @default 10
   */
  readonly maxDeliveryCount?: number;
  /**
   * Peek-lock duration of the input queue (ISO 8601, 5 seconds to 5 minutes). The Functions
   * runtime renews the lock while scoring runs (up to its `maxAutoLockRenewalDuration`, 5 minutes
   * by default), so this only bounds how soon a message of a crashed instance is redelivered.
   * @default "PT1M"
   */
  readonly lockDuration?: string;
  /**
   * How long the output (and failed) queue remembers message ids to drop duplicates (ISO 8601,
   * 20 seconds to 7 days). A result is sent again when its input is redelivered, up to
   * `maxDeliveryCount` deliveries of at most `functionTimeout` each, so synth refuses a window
   * shorter than `maxDeliveryCount` × `functionTimeout`. Redeliveries after a crashed instance
   * also wait for the lock to expire, which the default covers as well.
   * @default `maxDeliveryCount` × (`functionTimeout` + `lockDuration`) (PT1H50M with the
   * defaults), at most P7D
   */
  readonly duplicateDetectionWindow?: string;
  /**
   * Longest run of one invocation (ISO 8601, 1 minute to 12 hours): host.json `functionTimeout`
   * of the app, and the `maxAutoLockRenewalDuration` of the Service Bus extension, so that the
   * runtime keeps a message locked while it is being scored. Elastic Premium guarantees 60
   * minutes; longer runs may be cut by scale-in. All Service Bus triggers of one deployment must
   * agree (host.json is shared).
   * @default "PT10M" (the library's host.json value)
   */
  readonly functionTimeout?: string;
  /**
   * Largest message the queues accept, in KB (1024 to 102400), Premium only: set on the queues
   * the trigger creates and passed to the adapter, which routes a larger result to the failed
   * queue (MANY) or fails it (ONE) instead of sending it. Standard namespaces accept 256 KB.
   * With an existing namespace whose tier is not known at synth it may only describe existing
   * queues (`createQueues: false`).
   * @default 1024 on Premium; 256 (the Standard limit, the safe value) otherwise
   */
  readonly maxMessageSizeInKilobytes?: number;
  /**
   * host.json `serviceBus.prefetchCount`: messages fetched ahead of the function. 0 keeps waiting
   * messages in the queue, where their lock does not run out while a slow model scores others.
   * @default 0
   */
  readonly prefetchCount?: number;
  /**
   * host.json `serviceBus.maxConcurrentCalls` (cardinality ONE only): messages scored at once per
   * instance. Python runs every invocation in one worker process, and CPU-bound scoring holds the
   * GIL, so many concurrent calls only make messages wait while locked; 4 overlaps I/O (receive,
   * send) with scoring without that.
   * @default 4
   */
  readonly maxConcurrentCalls?: number;
  /**
   * host.json `serviceBus.maxMessageBatchSize` (cardinality MANY only): most messages per batch.
   * @default 32
   */
  readonly maxMessageBatchSize?: number;
}

const DEFAULT_FUNCTION_NAME = "score-queue";
const DEFAULT_FUNCTION_TIMEOUT = "PT10M";
const STANDARD_MAX_MESSAGE_KB = 256;
const PREMIUM_DEFAULT_MAX_MESSAGE_KB = 1024;
const MAX_DUPLICATE_WINDOW_SECONDS = 7 * 86400;
const DEFAULT_CONNECTION = "AmlServiceBus";
const CONNECTION_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$/;
const OWNER = "ServiceBusTrigger";

/** Seconds in an ISO 8601 duration `P[nD][T[nH][nM][nS]]`, or undefined when it is not one. */
export function isoDurationSeconds(value: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === "P" || value.endsWith("T")) return undefined;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** `seconds` as an ISO 8601 duration ("PT1H50M", "P1DT2H"). */
export function isoDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const time = `${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s ? `${s}S` : ""}`;
  const text = `P${d ? `${d}D` : ""}${time ? `T${time}` : ""}`;
  return text === "P" ? "PT0S" : text;
}

/** `seconds` as a .NET TimeSpan for host.json ("00:10:00"); below one day. */
function timeSpan(seconds: number): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(Math.floor(seconds % 60))}`;
}

function checkDuration(prop: string, value: string, min: number, max: number, range: string): void {
  const seconds = typeof value === "string" ? isoDurationSeconds(value) : undefined;
  if (seconds === undefined) invalid(OWNER, prop, value, "not an ISO 8601 duration", `an ISO 8601 duration from ${range}, e.g. "PT1M"`);
  if (seconds < min || seconds > max) invalid(OWNER, prop, value, `${seconds} seconds is outside the range Service Bus accepts`, `an ISO 8601 duration from ${range}`);
}

function checkInteger(prop: string, value: number, min: number, max: number, why = ""): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    invalid(OWNER, prop, value, `not an integer from ${min} to ${max}${why}`, `an integer from ${min} to ${max}`);
  }
}

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
    checkPropsObject(OWNER, props, "not an object", "ServiceBusTriggerProps ({ inputQueueName?, outputQueueName?, ... }), or nothing for the defaults");
    this.props = props;
    this.inputQueueName = props.inputQueueName ?? "inqueue";
    this.outputQueueName = props.outputQueueName ?? "outqueue";
    // The queue names go into the image's function definitions at synth, where no token is
    // ever resolved: a marker would stay the queue's name.
    for (const [prop, name] of [["inputQueueName", props.inputQueueName], ["outputQueueName", props.outputQueueName], ["failedQueueName", props.failedQueueName]] as const) {
      if (typeof name === "string" && Token.isUnresolved(name)) {
        invalid(OWNER, prop, name, "it is a token, but the queue names are written into the image's function definitions at synth", "a literal queue name");
      }
    }
    validateServiceBusQueueName(OWNER, "inputQueueName", this.inputQueueName);
    validateServiceBusQueueName(OWNER, "outputQueueName", this.outputQueueName);
    if (this.inputQueueName.toLowerCase() === this.outputQueueName.toLowerCase()) {
      invalid(OWNER, "outputQueueName", this.outputQueueName, "it is the input queue (queue names are case-insensitive), so every result would be scored again, endlessly", "a queue other than inputQueueName");
    }

    this.functionName = props.functionName ?? DEFAULT_FUNCTION_NAME;
    validateFunctionName(OWNER, "functionName", this.functionName);
    this.connectionName = props.connectionName ?? (this.functionName === DEFAULT_FUNCTION_NAME ? DEFAULT_CONNECTION : `${DEFAULT_CONNECTION}_${this.functionName.replace(/-/g, "_").replace(/_+/g, "_")}`.slice(0, 64).replace(/_+$/, ""));
    if (typeof this.connectionName !== "string" || !CONNECTION_NAME.test(this.connectionName) || this.connectionName.length > 64) {
      invalid(OWNER, "connectionName", this.connectionName, "not usable as an app setting prefix", "1-64 letters, digits and single '_', starting with a letter ('__' separates the prefix from the setting name)");
    }

    this.cardinality = typeof props.cardinality === "string" ? ServiceBusCardinality.of(props.cardinality) : (props.cardinality ?? ServiceBusCardinality.ONE);
    if (!(this.cardinality instanceof ServiceBusCardinality)) {
      invalid(OWNER, "cardinality", props.cardinality, "not a ServiceBusCardinality", "ServiceBusCardinality.ONE or ServiceBusCardinality.MANY");
    }
    this.sku = typeof props.sku === "string" ? ServiceBusSku.of(props.sku) : (props.sku ?? ServiceBusSku.STANDARD);
    if (!(this.sku instanceof ServiceBusSku)) {
      invalid(OWNER, "sku", props.sku, "not a ServiceBusSku (Basic has no duplicate detection, which the output queue needs)", "ServiceBusSku.STANDARD or ServiceBusSku.PREMIUM");
    }

    if (props.createQueues !== undefined && typeof props.createQueues !== "boolean") {
      invalid(OWNER, "createQueues", props.createQueues, "not a boolean", "true or false");
    }
    this.createQueues = props.createQueues ?? true;
    if (props.namespace === undefined) {
      if (props.createQueues === false) {
        invalid(OWNER, "createQueues", false, "the trigger creates its own namespace, which has no queues unless it creates them", "false only together with namespace");
      }
    } else {
      const ns = props.namespace as unknown as { [k: string]: unknown };
      for (const key of ["id", "name"]) {
        if (typeof ns[key] !== "string") invalid(OWNER, `namespace.${key}`, ns[key], "missing", "an azurerm ServicebusNamespace, its data source, or an object with id and name strings");
      }
      // Both are written into the Terraform configuration (role scopes, queue ids) and app settings.
      validateResourceId(OWNER, "namespace.id", props.namespace.id, "Microsoft.ServiceBus/namespaces");
      validateServiceBusNamespaceName(OWNER, "namespace.name", props.namespace.name);
      if (props.namespaceName !== undefined) {
        invalid(OWNER, "namespaceName", props.namespaceName, "namespace is given too, so no namespace is created to name", "namespaceName or namespace, not both");
      }
      if (props.sku !== undefined) {
        invalid(OWNER, "sku", props.sku.toString(), "namespace is given too; the tier of an existing namespace is not set here", "sku or namespace, not both");
      }
    }
    if (props.namespaceName !== undefined) validateServiceBusNamespaceName(OWNER, "namespaceName", props.namespaceName);

    this.maxDeliveryCount = props.maxDeliveryCount ?? 10;
    checkInteger("maxDeliveryCount", this.maxDeliveryCount, 1, 2000);
    this.lockDuration = props.lockDuration ?? "PT1M";
    checkDuration("lockDuration", this.lockDuration, 5, 300, "PT5S to PT5M");
    this.functionTimeout = props.functionTimeout ?? DEFAULT_FUNCTION_TIMEOUT;
    checkDuration("functionTimeout", this.functionTimeout, 60, 12 * 3600, "PT1M to PT12H");
    const timeoutSeconds = isoDurationSeconds(this.functionTimeout)!;
    // Duplicate detection must remember an output id for as long as its input can be redelivered.
    const needed = Math.ceil(this.maxDeliveryCount * timeoutSeconds);
    if (needed > MAX_DUPLICATE_WINDOW_SECONDS) {
      invalid(OWNER, "maxDeliveryCount", this.maxDeliveryCount, `with functionTimeout ${this.functionTimeout} the retries span ${isoDuration(needed)}, longer than the longest duplicate detection window (P7D), so a result could be sent twice`, "maxDeliveryCount × functionTimeout of at most 7 days");
    }
    this.duplicateDetectionWindow = props.duplicateDetectionWindow ?? isoDuration(Math.min(MAX_DUPLICATE_WINDOW_SECONDS, Math.ceil(this.maxDeliveryCount * (timeoutSeconds + isoDurationSeconds(this.lockDuration)!))));
    checkDuration("duplicateDetectionWindow", this.duplicateDetectionWindow, 20, MAX_DUPLICATE_WINDOW_SECONDS, "PT20S to P7D");
    if (isoDurationSeconds(this.duplicateDetectionWindow)! < needed) {
      invalid(OWNER, "duplicateDetectionWindow", this.duplicateDetectionWindow, `a message is delivered up to maxDeliveryCount (${this.maxDeliveryCount}) times of up to functionTimeout (${this.functionTimeout}) each, so a result may be sent again ${isoDuration(needed)} after the first send and duplicate detection would not drop it`, `a duplicate detection window of at least maxDeliveryCount × functionTimeout = ${isoDuration(needed)} (or fewer deliveries, a shorter functionTimeout)`);
    }

    // ---- Failed queue (batches only).
    if (this.cardinality === ServiceBusCardinality.MANY) {
      const derived = props.failedQueueName === undefined;
      this.failedQueueName = props.failedQueueName ?? `${this.outputQueueName}-failed`;
      validateServiceBusQueueName(OWNER, derived ? "failedQueueName (derived from outputQueueName)" : "failedQueueName", this.failedQueueName);
      for (const [prop, other] of [["inputQueueName", this.inputQueueName], ["outputQueueName", this.outputQueueName]]) {
        if (this.failedQueueName.toLowerCase() === other.toLowerCase()) {
          invalid(OWNER, "failedQueueName", this.failedQueueName, `it is the ${prop} queue (queue names are case-insensitive)`, "a queue other than inputQueueName and outputQueueName");
        }
      }
    } else if (props.failedQueueName !== undefined) {
      invalid(OWNER, "failedQueueName", props.failedQueueName, "cardinality ONE has no failed queue: a failing message is retried, then dead-lettered", "failedQueueName with cardinality MANY");
    }

    // ---- Tier and message size.
    if (props.namespace !== undefined) {
      // The tier of an existing namespace, when it is a literal at synth.
      const sku = knownInput((props.namespace as { skuInput?: unknown }).skuInput, props.namespace.sku);
      if (typeof sku === "string") {
        if (sku.trim().toLowerCase() === "basic") {
          invalid(OWNER, "namespace.sku", sku, "a Basic namespace has no duplicate detection, which the output queue needs so that a result re-sent after a retry is dropped", "an existing namespace of tier Standard or Premium");
        }
        if (!["standard", "premium"].includes(sku.trim().toLowerCase())) {
          invalid(OWNER, "namespace.sku", sku, "not a Service Bus tier", "Standard or Premium");
        }
        this.namespaceSku = ServiceBusSku.of(sku).value;
      }
    } else {
      this.namespaceSku = this.sku.value;
    }
    const premium = this.namespaceSku === "Premium";
    if (props.maxMessageSizeInKilobytes !== undefined) {
      if (this.namespaceSku === "Standard") {
        invalid(OWNER, "maxMessageSizeInKilobytes", props.maxMessageSizeInKilobytes, "a Standard namespace accepts messages of 256 KB, not configurable", "maxMessageSizeInKilobytes with a Premium namespace");
      }
      if (this.namespaceSku === undefined && this.createQueues) {
        invalid(OWNER, "maxMessageSizeInKilobytes", props.maxMessageSizeInKilobytes, "the tier of the existing namespace is not known at synth, and only Premium queues take a message size", "namespace.sku \"Premium\" as a literal, or createQueues: false (the size then describes the existing queues)");
      }
      checkInteger("maxMessageSizeInKilobytes", props.maxMessageSizeInKilobytes, premium ? 1024 : STANDARD_MAX_MESSAGE_KB, 102400);
    }
    this.maxMessageSizeInKilobytes = props.maxMessageSizeInKilobytes ?? (premium ? PREMIUM_DEFAULT_MAX_MESSAGE_KB : STANDARD_MAX_MESSAGE_KB);

    this.prefetchCount = props.prefetchCount ?? 0;
    checkInteger("prefetchCount", this.prefetchCount, 0, 10000);
    if (this.cardinality === ServiceBusCardinality.MANY) {
      if (props.maxConcurrentCalls !== undefined) {
        invalid(OWNER, "maxConcurrentCalls", props.maxConcurrentCalls, "it applies to single-message functions only; batches are sized by maxMessageBatchSize", "maxConcurrentCalls with cardinality ONE");
      }
      this.maxMessageBatchSize = props.maxMessageBatchSize ?? 32;
      checkInteger("maxMessageBatchSize", this.maxMessageBatchSize, 1, 1000);
    } else {
      if (props.maxMessageBatchSize !== undefined) {
        invalid(OWNER, "maxMessageBatchSize", props.maxMessageBatchSize, "it applies to batches only", "maxMessageBatchSize with cardinality MANY");
      }
      this.maxConcurrentCalls = props.maxConcurrentCalls ?? 4;
      checkInteger("maxConcurrentCalls", this.maxConcurrentCalls, 1, 1000);
    }
  }

  /**
   * Two triggers that create the same queue in one existing namespace (e.g. two deployments with
   * the default "inqueue" on a shared namespace) would both create it, which fails only at apply:
   * refused at synth, naming both construct paths. Namespaces are told apart by their literal
   * name when it is known (names are global), else by construct path; other references are not
   * compared.
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
    if (props.namespace !== undefined) {
      namespace = props.namespace;
      warnAboutExistingNamespace(scope, namespace);
    } else {
      let name = props.namespaceName;
      if (name === undefined) {
        const derived = deriveNames(target.baseName, target.uniqueSuffix).serviceBusNamespace();
        const tag = createHash("sha256").update(this.functionName, "utf8").digest("hex").slice(0, 5);
        name = isDefaultFunction ? derived : `sb-${target.baseName}-${tag}-${target.uniqueSuffix}`;
        validateServiceBusNamespaceName(OWNER, "namespaceName (derived)", name);
      }
      claimNames(TerraformStack.of(scope), scope.node.path, OWNER, props.namespaceName === undefined ? "namespaceName (derived)" : "namespaceName", name, [{ kind: "Service Bus namespace", name }],
        "a namespace name no other trigger of the stack creates: another namespaceName, or pass the namespace itself as `namespace` to share it");
      const premium = this.sku === ServiceBusSku.PREMIUM;
      namespace = new ServicebusNamespace(scope, "namespace", {
        name,
        location: target.location,
        resourceGroupName: target.resourceGroupName,
        sku: this.sku.value,
        localAuthEnabled: false,
        minimumTlsVersion: "1.2",
        // The function app is not VNet-integrated by default; access still needs an Azure AD role.
        publicNetworkAccessEnabled: true,
        ...(premium ? { capacity: 1, premiumMessagingPartitions: 1 } : {}),
        tags: target.tags,
      });
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
