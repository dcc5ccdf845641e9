import { AmlFunctionDeployment, HttpAuthLevel, HttpTrigger, PlanSku, PythonVersion, RegistrySku, ScoringPlan, ScoringRegistry, ServiceBusCardinality, ServiceBusSku, ServiceBusTrigger, ValidationError } from "../../lib";
import { coerce, findByName, memberNamed } from "../../lib/validation/enum-like";
import { message } from "../error-message";
import { newStack, sampleProps } from "../helpers";

const NOT_A_SKU = { problem: "not a PlanSku", allowed: "EP1, EP2" };

describe("findByName / memberNamed", () => {
  const members = [{ n: "Standard" }, { n: "Premium" }];

  test("a name matches ignoring case and surrounding blanks", () => {
    expect(findByName(members, (m) => m.n, " pREMIUM\t")).toBe(members[1]);
    expect(memberNamed("Owner", "sku", "standard", members, (m) => m.n, "unknown")).toBe(members[0]);
  });

  test("no match, or not a string, is undefined", () => {
    expect(findByName(members, (m) => m.n, "Basic")).toBeUndefined();
    expect(findByName(members, (m) => m.n, 1)).toBeUndefined();
    expect(findByName(members, (m) => m.n, members[0])).toBeUndefined();
  });

  test("memberNamed refuses with owner, prop, value, problem and, by default, the members' names", () => {
    const lookUp = () => memberNamed("Owner", "sku", "Basic", members, (m) => m.n, "not a tier");
    expect(lookUp).toThrow(ValidationError);
    expect(message(lookUp)).toBe('Owner: invalid sku "Basic": not a tier. Allowed: Standard, Premium');
    expect(message(() => memberNamed("Owner", "sku", 7, members, (m) => m.n, "not a tier", "a tier"))).toBe("Owner: invalid sku 7: not a tier. Allowed: a tier");
  });
});

describe("coerce", () => {
  test("a name is looked up with the class's of(), which names the owner", () => {
    expect(coerce("Owner", "planSku", "ep2", PlanSku, PlanSku.EP1, NOT_A_SKU)).toBe(PlanSku.EP2);
    expect(message(() => coerce("Owner", "planSku", "EP9", PlanSku, PlanSku.EP1, NOT_A_SKU))).toMatch(/^Owner: invalid planSku "EP9": not a supported plan SKU\. Allowed: EP1, EP2, EP3, P0v3/);
  });

  test("an instance is kept; unset gives the fallback", () => {
    expect(coerce("Owner", "planSku", PlanSku.P1V3, PlanSku, PlanSku.EP1, NOT_A_SKU)).toBe(PlanSku.P1V3);
    expect(coerce("Owner", "planSku", undefined, PlanSku, PlanSku.EP1, NOT_A_SKU)).toBe(PlanSku.EP1);
    expect(coerce("Owner", "planSku", undefined, PlanSku, undefined, NOT_A_SKU)).toBeUndefined();
  });

  test("null reads as unset only where there is a fallback", () => {
    expect(coerce("Owner", "planSku", null, PlanSku, PlanSku.EP3, NOT_A_SKU)).toBe(PlanSku.EP3);
    expect(message(() => coerce("Owner", "planSku", null, PlanSku, undefined, NOT_A_SKU))).toBe("Owner: invalid planSku null: not a PlanSku. Allowed: EP1, EP2");
  });

  test("anything else is refused with the given problem, also an instance of another enum-like class", () => {
    for (const [value, shown] of [[5, "5"], [{}, "{}"], [[], "[]"], [RegistrySku.PREMIUM, '{"name":"Premium"}'], [() => 1, "function (anonymous)"]] as const) {
      expect(message(() => coerce("Owner", "planSku", value, PlanSku, PlanSku.EP1, NOT_A_SKU))).toBe(`Owner: invalid planSku ${shown}: not a PlanSku. Allowed: EP1, EP2`);
    }
  });
});

describe("each construct's enum-like props", () => {
  const deploy = (props: object) => () => new AmlFunctionDeployment(newStack(), "churn", sampleProps(props));

  test("AmlFunctionDeployment: pythonVersion, planSku, registrySku", () => {
    expect(message(deploy({ pythonVersion: 3.12 }))).toBe('AmlFunctionDeployment "churn": invalid pythonVersion 3.12: not a PythonVersion. Allowed: PythonVersion.PYTHON_3_11, PythonVersion.PYTHON_3_12 or PythonVersion.of("3.11")');
    expect(message(deploy({ pythonVersion: "3.9" }))).toBe('AmlFunctionDeployment "churn": invalid pythonVersion "3.9": not a supported Python version. Allowed: 3.11, 3.12');
    expect(message(deploy({ planSku: RegistrySku.BASIC }))).toBe('AmlFunctionDeployment "churn": invalid planSku {"name":"Basic"}: not a PlanSku. Allowed: EP1, EP2, EP3, P0v3, P1v3, P2v3, P3v3');
    expect(message(deploy({ planSku: null }))).toBe('AmlFunctionDeployment "churn": invalid planSku null: not a PlanSku. Allowed: EP1, EP2, EP3, P0v3, P1v3, P2v3, P3v3');
    expect(message(deploy({ registrySku: PlanSku.EP1 }))).toMatch(/^AmlFunctionDeployment "churn": invalid registrySku \{.*"name":"EP1".*\}: not a RegistrySku\. Allowed: Basic, Standard, Premium$/);
    expect(message(deploy({ registrySku: "gold" }))).toBe('AmlFunctionDeployment "churn": invalid registrySku "gold": not a container registry SKU. Allowed: Basic, Standard, Premium');
    expect(() => deploy({ pythonVersion: " 3.12 ", planSku: "p1V3", registrySku: "PREMIUM" })()).not.toThrow();
    expect(() => deploy({ pythonVersion: null })()).not.toThrow();
  });

  test("ScoringPlan and ScoringRegistry refuse a sku that is neither an instance nor a name", () => {
    const plan = (sku: unknown) => () => new ScoringPlan(newStack(), "p", { name: "asp-x", location: "westeurope", resourceGroupName: "rg", sku: sku as PlanSku });
    const registry = (sku: unknown) => () => new ScoringRegistry(newStack(), "r", { name: "acrx01", location: "westeurope", resourceGroupName: "rg", sku: sku as RegistrySku });
    expect(message(plan(5))).toBe('ScoringPlan "p": invalid sku 5: not a PlanSku. Allowed: EP1, EP2, EP3, P0v3, P1v3, P2v3, P3v3');
    expect(message(plan({ name: "EP1" }))).toBe('ScoringPlan "p": invalid sku {"name":"EP1"}: not a PlanSku. Allowed: EP1, EP2, EP3, P0v3, P1v3, P2v3, P3v3');
    expect(message(registry(RegistrySku))).toBe('ScoringRegistry "r": invalid sku class RegistrySku: not a RegistrySku. Allowed: Basic, Standard, Premium');
    expect(new ScoringPlan(newStack(), "p", { name: "asp-x", location: "westeurope", resourceGroupName: "rg", sku: "p2v3" }).sku).toBe(PlanSku.P2V3);
    expect(new ScoringRegistry(newStack(), "r", { name: "acrx01", location: "westeurope", resourceGroupName: "rg", sku: null as unknown as RegistrySku }).sku).toBe(RegistrySku.STANDARD);
  });

  test("HttpTrigger authLevel and ServiceBusTrigger cardinality and sku", () => {
    expect(new HttpTrigger({ authLevel: " Anonymous" as "anonymous" }).authLevel).toBe(HttpAuthLevel.ANONYMOUS);
    expect(message(() => new HttpTrigger({ authLevel: ServiceBusCardinality.ONE as unknown as HttpAuthLevel }))).toBe('HttpTrigger: invalid authLevel {"value":"one"}: not an HttpAuthLevel. Allowed: HttpAuthLevel.ANONYMOUS, HttpAuthLevel.FUNCTION, HttpAuthLevel.ADMIN');
    expect(message(() => HttpAuthLevel.of("user"))).toBe('HttpTrigger: invalid authLevel "user": not an HTTP auth level. Allowed: HttpAuthLevel.ANONYMOUS, HttpAuthLevel.FUNCTION, HttpAuthLevel.ADMIN ("anonymous", "function", "admin")');
    expect(new ServiceBusTrigger({ cardinality: "MANY" as "many", sku: "premium" as "Premium" })).toMatchObject({ cardinality: ServiceBusCardinality.MANY, sku: ServiceBusSku.PREMIUM });
    expect(message(() => new ServiceBusTrigger({ cardinality: 2 as unknown as ServiceBusCardinality }))).toBe("ServiceBusTrigger: invalid cardinality 2: not a ServiceBusCardinality. Allowed: ServiceBusCardinality.ONE or ServiceBusCardinality.MANY");
    expect(message(() => new ServiceBusTrigger({ sku: {} as ServiceBusSku }))).toBe("ServiceBusTrigger: invalid sku {}: not a ServiceBusSku (Basic has no duplicate detection, which the output queue needs). Allowed: ServiceBusSku.STANDARD or ServiceBusSku.PREMIUM");
    expect(message(() => new ServiceBusTrigger({ sku: "Basic" as "Standard" }))).toBe('ServiceBusTrigger: invalid sku "Basic": not a supported Service Bus tier (Basic has no duplicate detection, which the output queue needs). Allowed: ServiceBusSku.STANDARD or ServiceBusSku.PREMIUM');
    expect(PythonVersion.of(" 3.11")).toBe(PythonVersion.PYTHON_3_11);
  });
});
