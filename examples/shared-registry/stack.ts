/**
 * Scenario: a platform team's resource group, and two models sharing one registry and one
 * Elastic Premium plan.
 */
import { App, TerraformStack } from "cdktf";
import { DataAzurermResourceGroup } from "@cdktf/provider-azurerm/lib/data-azurerm-resource-group";
import { AmlFunctionDeployment, HttpTrigger, ModelSource, PlanSku, PythonEnvironment, ScoringPlan, ScoringRegistry } from "../../lib";

export function buildSharedRegistry(app: App): TerraformStack {
  const stack = new TerraformStack(app, "aml-shared");
  const rg = new DataAzurermResourceGroup(stack, "rg", { name: "rg-ml-platform" });
  const common = { location: "westeurope" };
  const registry = new ScoringRegistry(stack, "registry", { name: "mlplatformscoring", location: common.location, resourceGroupName: rg.name });
  const servicePlan = new ScoringPlan(stack, "plan", { name: "plan-ml-scoring", location: common.location, resourceGroupName: rg.name, sku: PlanSku.EP2, maximumElasticWorkerCount: 10 });
  for (const id of ["churn", "upsell"]) {
    new AmlFunctionDeployment(stack, id, {
      location: common.location,
      resourceGroup: rg,
      registry,
      servicePlan,
      model: ModelSource.fromLocalPath("examples/churn/models/churn"),
      entryScript: "examples/churn/scoring/score.py",
      environment: PythonEnvironment.fromPipPackages(["scikit-learn==1.2.1", "joblib==1.2.0", "numpy==1.24.2"]),
      triggers: [new HttpTrigger()],
    });
  }
  return stack;
}
