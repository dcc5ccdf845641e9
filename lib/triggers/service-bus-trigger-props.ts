/**
 * The props of `ServiceBusTrigger` and their validation: every check that needs only the props
 * runs here, when the trigger is constructed, so that a bad value fails where it was written.
 */
import { Token } from "cdktf";
import { checkPropsObject, invalid } from "../errors";
import { knownInput } from "../existing-resources";
import { validateServiceBusNamespaceName, validateServiceBusQueueName } from "../naming";
import { coerce } from "../validation/enum-like";
import { validateResourceId } from "../validation/resource-id";
import { resolveConnectionName } from "./connection-name";
import { validateFunctionName } from "./function-name";
import { checkDuration, isoDuration } from "./service-bus-durations";
import { ServiceBusCardinality, ServiceBusSku } from "./service-bus-options";

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

/** Props of `ServiceBusTrigger`. */
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
   * `aml-original-message-id`, `aml-error-type` and `aml-error-message`. The copy always fits
   * the queue: when the input was too close to the size limit for it, the copy keeps the start of
   * the body and says so (`aml-body-truncated`, `aml-original-body-bytes`), so that a bad message
   * never fails its batch. The app may only send to it (Data Sender on this queue). Cardinality
   * ONE has no failed queue: a failing message is retried and then dead-lettered.
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
/** The trigger's props once validated, defaults filled in. */
export interface ServiceBusTriggerSettings {
  readonly inputQueueName: string;
  readonly outputQueueName: string;
  /** Undefined with cardinality ONE (no failed queue). */
  readonly failedQueueName?: string;
  readonly functionName: string;
  readonly connectionName: string;
  readonly cardinality: ServiceBusCardinality;
  readonly sku: ServiceBusSku;
  readonly createQueues: boolean;
  readonly maxDeliveryCount: number;
  readonly lockDuration: string;
  readonly duplicateDetectionWindow: string;
  readonly functionTimeout: string;
  readonly maxMessageSizeInKilobytes: number;
  /** The namespace tier when known at synth (created, or a literal on an existing one). */
  readonly namespaceSku?: string;
  readonly prefetchCount: number;
  /** Undefined with cardinality MANY. */
  readonly maxConcurrentCalls?: number;
  /** Undefined with cardinality ONE. */
  readonly maxMessageBatchSize?: number;
}

/** The function name a trigger gets by default; its outputs and connection then go unprefixed. */
export const DEFAULT_FUNCTION_NAME = "score-queue";
const DEFAULT_FUNCTION_TIMEOUT = "PT10M";
const STANDARD_MAX_MESSAGE_KB = 256;
const PREMIUM_DEFAULT_MAX_MESSAGE_KB = 1024;
const MAX_DUPLICATE_WINDOW_SECONDS = 7 * 86400;
const DEFAULT_CONNECTION = "AmlServiceBus";
const OWNER = "ServiceBusTrigger";

function checkInteger(prop: string, value: number, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    invalid(OWNER, prop, value, `not an integer from ${min} to ${max}`, `an integer from ${min} to ${max}`);
  }
}

/** Checks `props` and fills in the defaults; throws a ValidationError naming the first bad prop. */
export function validateServiceBusTriggerProps(props: ServiceBusTriggerProps): ServiceBusTriggerSettings {
  checkPropsObject(OWNER, props, "not an object", "ServiceBusTriggerProps ({ inputQueueName?, outputQueueName?, ... }), or nothing for the defaults");
  const queues = validateQueueNames(props);
  const functionName = props.functionName ?? DEFAULT_FUNCTION_NAME;
  validateFunctionName(OWNER, "functionName", functionName);
  const connectionName = resolveConnectionName(OWNER, props.connectionName, DEFAULT_CONNECTION, functionName, DEFAULT_FUNCTION_NAME);
  const cardinality = coerce(OWNER, "cardinality", props.cardinality, ServiceBusCardinality, ServiceBusCardinality.ONE, { problem: "not a ServiceBusCardinality", allowed: "ServiceBusCardinality.ONE or ServiceBusCardinality.MANY" });
  const sku = coerce(OWNER, "sku", props.sku, ServiceBusSku, ServiceBusSku.STANDARD, { problem: "not a ServiceBusSku (Basic has no duplicate detection, which the output queue needs)", allowed: "ServiceBusSku.STANDARD or ServiceBusSku.PREMIUM" });
  const createQueues = validateNamespace(props);
  const timing = validateTiming(props);
  const failedQueueName = validateFailedQueue(props, cardinality, queues.inputQueueName, queues.outputQueueName);
  const size = validateMessageSize(props, sku, createQueues);
  const host = validateHostSettings(props, cardinality);
  return { ...queues, failedQueueName, functionName, connectionName, cardinality, sku, createQueues, ...timing, ...size, ...host };
}

function validateQueueNames(props: ServiceBusTriggerProps): { inputQueueName: string; outputQueueName: string } {
  // The queue names go into the image's function definitions at synth, where no token is ever
  // resolved: a marker would stay the queue's name.
  for (const [prop, name] of [["inputQueueName", props.inputQueueName], ["outputQueueName", props.outputQueueName], ["failedQueueName", props.failedQueueName]] as const) {
    if (typeof name === "string" && Token.isUnresolved(name)) {
      invalid(OWNER, prop, name, "it is a token, but the queue names are written into the image's function definitions at synth", "a literal queue name");
    }
  }
  const inputQueueName = props.inputQueueName ?? "inqueue";
  const outputQueueName = props.outputQueueName ?? "outqueue";
  validateServiceBusQueueName(OWNER, "inputQueueName", inputQueueName);
  validateServiceBusQueueName(OWNER, "outputQueueName", outputQueueName);
  if (inputQueueName.toLowerCase() === outputQueueName.toLowerCase()) {
    invalid(OWNER, "outputQueueName", outputQueueName, "it is the input queue (queue names are case-insensitive), so every result would be scored again, endlessly", "a queue other than inputQueueName");
  }
  return { inputQueueName, outputQueueName };
}

/** The namespace props (`namespace`, `namespaceName`, `createQueues`, `sku`); returns createQueues. */
function validateNamespace(props: ServiceBusTriggerProps): boolean {
  if (props.createQueues !== undefined && typeof props.createQueues !== "boolean") {
    invalid(OWNER, "createQueues", props.createQueues, "not a boolean", "true or false");
  }
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
  return props.createQueues ?? true;
}

/**
 * Deliveries, lock, timeout and the duplicate detection window, which must remember an output id
 * for as long as its input can be redelivered.
 */
function validateTiming(props: ServiceBusTriggerProps): { maxDeliveryCount: number; lockDuration: string; functionTimeout: string; duplicateDetectionWindow: string } {
  const maxDeliveryCount = props.maxDeliveryCount ?? 10;
  checkInteger("maxDeliveryCount", maxDeliveryCount, 1, 2000);
  const lockDuration = props.lockDuration ?? "PT1M";
  const lockSeconds = checkDuration(OWNER, "lockDuration", lockDuration, 5, 300, "PT5S to PT5M");
  const functionTimeout = props.functionTimeout ?? DEFAULT_FUNCTION_TIMEOUT;
  const timeoutSeconds = checkDuration(OWNER, "functionTimeout", functionTimeout, 60, 12 * 3600, "PT1M to PT12H");
  const needed = Math.ceil(maxDeliveryCount * timeoutSeconds);
  if (needed > MAX_DUPLICATE_WINDOW_SECONDS) {
    invalid(OWNER, "maxDeliveryCount", maxDeliveryCount, `with functionTimeout ${functionTimeout} the retries span ${isoDuration(needed)}, longer than the longest duplicate detection window (P7D), so a result could be sent twice`, "maxDeliveryCount × functionTimeout of at most 7 days");
  }
  const duplicateDetectionWindow = props.duplicateDetectionWindow ?? isoDuration(Math.min(MAX_DUPLICATE_WINDOW_SECONDS, Math.ceil(maxDeliveryCount * (timeoutSeconds + lockSeconds))));
  const windowSeconds = checkDuration(OWNER, "duplicateDetectionWindow", duplicateDetectionWindow, 20, MAX_DUPLICATE_WINDOW_SECONDS, "PT20S to P7D");
  if (windowSeconds < needed) {
    invalid(OWNER, "duplicateDetectionWindow", duplicateDetectionWindow, `a message is delivered up to maxDeliveryCount (${maxDeliveryCount}) times of up to functionTimeout (${functionTimeout}) each, so a result may be sent again ${isoDuration(needed)} after the first send and duplicate detection would not drop it`, `a duplicate detection window of at least maxDeliveryCount × functionTimeout = ${isoDuration(needed)} (or fewer deliveries, a shorter functionTimeout)`);
  }
  return { maxDeliveryCount, lockDuration, functionTimeout, duplicateDetectionWindow };
}

/** The failed queue: batches only, and never one of the other two queues. */
function validateFailedQueue(props: ServiceBusTriggerProps, cardinality: ServiceBusCardinality, inputQueueName: string, outputQueueName: string): string | undefined {
  if (cardinality !== ServiceBusCardinality.MANY) {
    if (props.failedQueueName !== undefined) {
      invalid(OWNER, "failedQueueName", props.failedQueueName, "cardinality ONE has no failed queue: a failing message is retried, then dead-lettered", "failedQueueName with cardinality MANY");
    }
    return undefined;
  }
  const derived = props.failedQueueName === undefined;
  const failedQueueName = props.failedQueueName ?? `${outputQueueName}-failed`;
  validateServiceBusQueueName(OWNER, derived ? "failedQueueName (derived from outputQueueName)" : "failedQueueName", failedQueueName);
  for (const [prop, other] of [["inputQueueName", inputQueueName], ["outputQueueName", outputQueueName]]) {
    if (failedQueueName.toLowerCase() === other.toLowerCase()) {
      invalid(OWNER, "failedQueueName", failedQueueName, `it is the ${prop} queue (queue names are case-insensitive)`, "a queue other than inputQueueName and outputQueueName");
    }
  }
  return failedQueueName;
}

/** The namespace tier when known at synth, and the largest message the queues take. */
function validateMessageSize(props: ServiceBusTriggerProps, sku: ServiceBusSku, createQueues: boolean): { namespaceSku?: string; maxMessageSizeInKilobytes: number } {
  let namespaceSku: string | undefined;
  if (props.namespace !== undefined) {
    // The tier of an existing namespace, when it is a literal at synth.
    const given = knownInput((props.namespace as { skuInput?: unknown }).skuInput, props.namespace.sku);
    if (typeof given === "string") {
      if (given.trim().toLowerCase() === "basic") {
        invalid(OWNER, "namespace.sku", given, "a Basic namespace has no duplicate detection, which the output queue needs so that a result re-sent after a retry is dropped", "an existing namespace of tier Standard or Premium");
      }
      if (!["standard", "premium"].includes(given.trim().toLowerCase())) {
        invalid(OWNER, "namespace.sku", given, "not a Service Bus tier", "Standard or Premium");
      }
      namespaceSku = ServiceBusSku.of(given).value;
    }
  } else {
    namespaceSku = sku.value;
  }
  const premium = namespaceSku === "Premium";
  if (props.maxMessageSizeInKilobytes !== undefined) {
    if (namespaceSku === "Standard") {
      invalid(OWNER, "maxMessageSizeInKilobytes", props.maxMessageSizeInKilobytes, "a Standard namespace accepts messages of 256 KB, not configurable", "maxMessageSizeInKilobytes with a Premium namespace");
    }
    if (namespaceSku === undefined && createQueues) {
      invalid(OWNER, "maxMessageSizeInKilobytes", props.maxMessageSizeInKilobytes, "the tier of the existing namespace is not known at synth, and only Premium queues take a message size", "namespace.sku \"Premium\" as a literal, or createQueues: false (the size then describes the existing queues)");
    }
    checkInteger("maxMessageSizeInKilobytes", props.maxMessageSizeInKilobytes, premium ? 1024 : STANDARD_MAX_MESSAGE_KB, 102400);
  }
  return { namespaceSku, maxMessageSizeInKilobytes: props.maxMessageSizeInKilobytes ?? (premium ? PREMIUM_DEFAULT_MAX_MESSAGE_KB : STANDARD_MAX_MESSAGE_KB) };
}

/** The host.json settings of the Service Bus extension; each applies to one cardinality only. */
function validateHostSettings(props: ServiceBusTriggerProps, cardinality: ServiceBusCardinality): { prefetchCount: number; maxConcurrentCalls?: number; maxMessageBatchSize?: number } {
  const prefetchCount = props.prefetchCount ?? 0;
  checkInteger("prefetchCount", prefetchCount, 0, 10000);
  if (cardinality === ServiceBusCardinality.MANY) {
    if (props.maxConcurrentCalls !== undefined) {
      invalid(OWNER, "maxConcurrentCalls", props.maxConcurrentCalls, "it applies to single-message functions only; batches are sized by maxMessageBatchSize", "maxConcurrentCalls with cardinality ONE");
    }
    const maxMessageBatchSize = props.maxMessageBatchSize ?? 32;
    checkInteger("maxMessageBatchSize", maxMessageBatchSize, 1, 1000);
    return { prefetchCount, maxMessageBatchSize };
  }
  if (props.maxMessageBatchSize !== undefined) {
    invalid(OWNER, "maxMessageBatchSize", props.maxMessageBatchSize, "it applies to batches only", "maxMessageBatchSize with cardinality MANY");
  }
  const maxConcurrentCalls = props.maxConcurrentCalls ?? 4;
  checkInteger("maxConcurrentCalls", maxConcurrentCalls, 1, 1000);
  return { prefetchCount, maxConcurrentCalls };
}
