/** The enum-like options of `ServiceBusTrigger`: cardinality and namespace tier. */
import { memberNamed } from "../validation/enum-like";

const OWNER = "ServiceBusTrigger";

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
    return memberNamed(OWNER, "cardinality", value, [ServiceBusCardinality.ONE, ServiceBusCardinality.MANY], (c) => c.value, "not a Service Bus cardinality", "ServiceBusCardinality.ONE or ServiceBusCardinality.MANY (\"one\" or \"many\")");
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
    return memberNamed(OWNER, "sku", value, [ServiceBusSku.STANDARD, ServiceBusSku.PREMIUM], (c) => c.value, "not a supported Service Bus tier (Basic has no duplicate detection, which the output queue needs)", "ServiceBusSku.STANDARD or ServiceBusSku.PREMIUM");
  }

  private constructor(public readonly value: "Standard" | "Premium") {}

  public toString(): string {
    return this.value;
  }
}
