import { AmlFunctionDeployment, PlanSku, ScoringPlan, ScoringRegistry } from "../../lib";
import { newStack, sampleProps, synthJson } from "../helpers";
import { schemaProblems } from "../schema-check";

describe("synthesized azurerm resources conform to the azurerm 4.55.0 schema", () => {
  test("the default HTTP deployment", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps());
    expect(schemaProblems(synthJson(stack))).toEqual([]);
  });

  test("shared registry (Premium) and a Dedicated plan", () => {
    const stack = newStack();
    const registry = new ScoringRegistry(stack, "acr", { name: "sharedacr01", location: "westeurope", resourceGroupName: "rg" });
    const plan = new ScoringPlan(stack, "plan", { name: "plan", location: "westeurope", resourceGroupName: "rg", sku: PlanSku.P1V3 });
    new AmlFunctionDeployment(stack, "shared", sampleProps({ registry, servicePlan: plan }));
    expect(schemaProblems(synthJson(stack))).toEqual([]);
  });

  test("the checker itself reports an unknown argument and a missing required one", () => {
    const problems = schemaProblems({ resource: { azurerm_service_plan: { p: { name: "x", location: "l", resource_group_name: "r", os_type: "Linux", bogus: 1 } } } });
    expect(problems).toEqual(["azurerm_service_plan.p.bogus: no such argument", "azurerm_service_plan.p.sku_name: required but not set"]);
  });
});
