/**
 * Scenario: queue-driven scoring in batches. Messages on `inqueue` are scored 32 at a time with
 * the script's `run_batch`; one result per message goes to `outqueue` with the input's message
 * id as correlation id. Packages from a conda file.
 */
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, ModelSource, PythonEnvironment, ServiceBusCardinality, ServiceBusTrigger } from "../../lib";

export function buildServiceBusBatch(app: App): TerraformStack {
  const stack = new TerraformStack(app, "aml-churn-queue");
  new AmlFunctionDeployment(stack, "churn", {
    location: "westeurope",
    name: "churn-queue",
    model: ModelSource.fromLocalPath("examples/churn/models/churn"),
    entryScript: "examples/churn/scoring/score.py",
    environment: PythonEnvironment.fromCondaFile("examples/churn/environment.yml"),
    triggers: [
      new ServiceBusTrigger({ cardinality: ServiceBusCardinality.MANY, maxMessageBatchSize: 32, maxDeliveryCount: 5 }),
    ],
  });
  return stack;
}
