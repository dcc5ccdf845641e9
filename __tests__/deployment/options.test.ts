import { PythonVersion } from "../../lib/python-version";
import { PlanSku, RegistrySku } from "../../lib/skus";

describe("PythonVersion", () => {
  test("3.11 is the default", () => {
    expect(PythonVersion.DEFAULT).toBe(PythonVersion.PYTHON_3_11);
    expect(PythonVersion.PYTHON_3_11.version).toBe("3.11");
    expect(PythonVersion.PYTHON_3_11.baseImage).toBe("mcr.microsoft.com/azure-functions/python:4-python3.11");
    expect(PythonVersion.PYTHON_3_12.baseImage).toBe("mcr.microsoft.com/azure-functions/python:4-python3.12");
  });
  test("of() returns the static instances", () => {
    expect(PythonVersion.of("3.11")).toBe(PythonVersion.PYTHON_3_11);
    expect(PythonVersion.of(" 3.12 ")).toBe(PythonVersion.PYTHON_3_12);
  });
  test.each(["3.10", "3", "3.13", "python3.11", ""])("of(%j) names pythonVersion, the value and the allowed versions", (v) => {
    expect(() => PythonVersion.of(v, "MyDeployment")).toThrow(`MyDeployment: invalid pythonVersion ${JSON.stringify(v)}: not a supported Python version. Allowed: 3.11, 3.12`);
  });
});

describe("PlanSku", () => {
  test("EP1 is the default and Elastic Premium", () => {
    expect(PlanSku.DEFAULT).toBe(PlanSku.EP1);
    expect(PlanSku.EP1.isElasticPremium).toBe(true);
    expect(PlanSku.EP3.name).toBe("EP3");
    expect(PlanSku.P1V3.name).toBe("P1v3");
    expect(PlanSku.P1V3.isElasticPremium).toBe(false);
  });
  test("of() is case-insensitive", () => {
    expect(PlanSku.of("ep2")).toBe(PlanSku.EP2);
    expect(PlanSku.of("P0V3")).toBe(PlanSku.P0V3);
    expect(PlanSku.of("p3v3")).toBe(PlanSku.P3V3);
  });
  test.each([["Y1", "Consumption (Y1)"], ["fc1", "Flex Consumption (FC1)"]])("of(%j) explains that custom containers need Premium or Dedicated", (v, label) => {
    expect(() => PlanSku.of(v, "D")).toThrow(`D: invalid planSku ${JSON.stringify(v)}: ${label} plans cannot run custom containers. Allowed: Elastic Premium or Dedicated SKUs: EP1, EP2, EP3, P0v3, P1v3, P2v3, P3v3`);
  });
  test("unknown SKU lists the allowed ones", () => {
    expect(() => PlanSku.of("S1", "D")).toThrow('D: invalid planSku "S1": not a supported plan SKU. Allowed: EP1, EP2, EP3, P0v3, P1v3, P2v3, P3v3');
  });
});

describe("RegistrySku", () => {
  test("Standard is the default; names are what azurerm expects", () => {
    expect(RegistrySku.DEFAULT).toBe(RegistrySku.STANDARD);
    expect(RegistrySku.all().map((s) => s.name)).toEqual(["Basic", "Standard", "Premium"]);
  });
  test("of() is case-insensitive", () => {
    expect(RegistrySku.of("premium")).toBe(RegistrySku.PREMIUM);
    expect(RegistrySku.of("BASIC")).toBe(RegistrySku.BASIC);
  });
  test("unknown SKU names registrySku, value and allowed", () => {
    expect(() => RegistrySku.of("Gold", "D")).toThrow('D: invalid registrySku "Gold": not a container registry SKU. Allowed: Basic, Standard, Premium');
  });
});
