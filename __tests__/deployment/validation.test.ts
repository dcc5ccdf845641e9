import * as fs from "fs";
import * as path from "path";
import { AmlFunctionDeployment, BlobTrigger, HttpAuthLevel, HttpTrigger, ImageBuild, ModelSource, PlanSku, PythonEnvironment, PythonVersion, RegistrySku, ScoringPlan, ScoringRegistry, ServiceBusCardinality, ServiceBusTrigger, ValidationError } from "../../lib";
import { AmlFunctionDeploymentProps } from "../../lib/aml-function-deployment";
import { newStack, sampleProps } from "../helpers";
import { tempDir } from "../temp-dirs";

/** Runs the constructor and returns its ValidationError message (fails when nothing is thrown). */
function errorOf(overrides: Partial<AmlFunctionDeploymentProps> | (() => Partial<AmlFunctionDeploymentProps>), id = "churn"): string {
  try {
    const props = typeof overrides === "function" ? overrides() : overrides;
    new AmlFunctionDeployment(newStack(), id, sampleProps(props));
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error("expected a ValidationError");
}

const fixture = (name: string) => path.join(__dirname, "..", "fixtures", "scripts", name);

describe("bad input fails at synth with the property, the value and what is allowed", () => {
  test("a model path that does not exist", () => {
    const msg = errorOf(() => ({ model: ModelSource.fromLocalPath("models/does-not-exist") }));
    expect(msg).toMatch(/model/);
    expect(msg).toContain("models/does-not-exist");
  });

  test("an unreadable model file", () => {
    if (process.getuid && process.getuid() === 0) {
      // root reads everything: make the path unreadable by making it a dangling symlink instead.
      const dir = tempDir("model-");
      const link = path.join(dir, "model.pkl");
      fs.symlinkSync(path.join(dir, "gone.pkl"), link);
      const msg = errorOf(() => ({ model: ModelSource.fromLocalPath(link) }));
      expect(msg).toMatch(/model/);
      expect(msg).toContain(link);
    } else {
      const dir = tempDir("model-");
      const file = path.join(dir, "model.pkl");
      fs.writeFileSync(file, "x");
      fs.chmodSync(file, 0o000);
      const msg = errorOf(() => ({ model: ModelSource.fromLocalPath(file) }));
      expect(msg).toMatch(/model/);
      expect(msg).toContain(file);
    }
  });

  test("a missing entry script", () => {
    const msg = errorOf({ entryScript: "scoring/nope.py" });
    expect(msg).toMatch(/entryScript/);
    expect(msg).toContain("scoring/nope.py");
  });

  test("an entry script that is not .py", () => {
    const msg = errorOf({ entryScript: fixture("not_python.txt") });
    expect(msg).toMatch(/entryScript/);
    expect(msg).toContain("not_python.txt");
    expect(msg).toMatch(/\.py/);
  });

  test("an entry script without run()", () => {
    const msg = errorOf({ entryScript: fixture("no_run.py") });
    expect(msg).toMatch(/entryScript/);
    expect(msg).toMatch(/run/);
  });

  test("an empty trigger list", () => {
    const msg = errorOf({ triggers: [] });
    expect(msg).toContain('invalid triggers []');
    expect(msg).toMatch(/HttpTrigger/);
  });

  test("an invalid location", () => {
    const msg = errorOf({ location: "westeuropa" });
    expect(msg).toContain('invalid location "westeuropa"');
    expect(msg).toMatch(/westeurope/);
  });

  test("a construct id that is not name-safe is made so for the default name", () => {
    const stack = newStack();
    const d = new AmlFunctionDeployment(stack, "Churn_Model v2", sampleProps());
    expect(d.names.functionApp).toMatch(/^func-churn-model-v2-[0-9a-f]{8}$/);
  });

  test("a construct id too long for a name is refused as the same `name` is, saying to pass name (not cut silently)", () => {
    const long = "customer-churn-scoring-v2";
    expect(errorOf({ name: long })).toContain(`invalid name "${long}": length 25 is outside 2-20`);
    const msg = errorOf({}, long);
    expect(msg).toContain(`invalid name (defaulted from the construct id "${long}"; pass name) "${long}": length 25 is outside 2-20`);
    // Made name-safe first ("Customer_Churn_Scoring_V2" gives the same name), then refused the same way.
    expect(errorOf({}, "Customer_Churn_Scoring_V2")).toContain(`"${long}": length 25 is outside 2-20`);
    // A long id with a name that fits is fine.
    const d = new AmlFunctionDeployment(newStack(), long, sampleProps({ name: "churn" }));
    expect(d.names.resourceGroup).toBe("rg-churn");
  });

  test("a location in display form is accepted and normalised", () => {
    expect(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ location: "West Europe" }))).not.toThrow();
  });

  test("an invalid name, and a construct id that cannot serve as one", () => {
    expect(errorOf({ name: "Churn_Model" })).toContain('invalid name "Churn_Model"');
    expect(errorOf({}, "42-models")).toMatch(/name \(defaulted from the construct id "42-models"; pass name\) "42-models"/);
  });

  test("an unknown SKU", () => {
    expect(() => PlanSku.of("EP9")).toThrow(/planSku "EP9".*EP1, EP2, EP3/);
    expect(() => PlanSku.of("Y1")).toThrow(/Consumption/);
    expect(() => RegistrySku.of("Gold")).toThrow(/"Gold".*Basic, Standard, Premium/);
  });

  test("a conda file that cannot be mapped", () => {
    const dir = tempDir("conda-");
    const file = path.join(dir, "env.yml");
    fs.writeFileSync(file, "name: x\ndependencies:\n  - python=3.11\n  - numpy=1.24\n  - cudatoolkit=11.8\n  - mkl\n");
    const msg = errorOf(() => ({ environment: PythonEnvironment.fromCondaFile(file) }));
    expect(msg).toMatch(/environment/);
    expect(msg).toContain("cudatoolkit");
    expect(msg).toContain("mkl");
  });

  test("a conda python that differs from the image's Python", () => {
    const dir = tempDir("conda-");
    const file = path.join(dir, "env.yml");
    fs.writeFileSync(file, "dependencies:\n  - python=3.10\n  - numpy\n");
    const msg = errorOf(() => ({ environment: PythonEnvironment.fromCondaFile(file) }));
    expect(msg).toContain('invalid environment "3.10"');
    expect(msg).toMatch(/3\.11/);
  });

  test("an unsupported Python version", () => {
    expect(() => PythonVersion.of("3.9")).toThrow(/pythonVersion "3.9".*3\.11, 3\.12/);
  });

  test("a provider-owned app setting", () => {
    const msg = errorOf({ appSettings: { FUNCTIONS_WORKER_RUNTIME: "python" } });
    expect(msg).toContain('invalid appSettings "FUNCTIONS_WORKER_RUNTIME"');
  });

  test("an app setting the library sets itself", () => {
    expect(errorOf({ appSettings: { AZUREML_MODEL_DIR: "/elsewhere" } })).toMatch(/appSettings "AZUREML_MODEL_DIR".*already set/);
  });

  test("scaling out of range, and Elastic Premium settings on a Dedicated plan", () => {
    expect(errorOf({ scaling: { alwaysReadyInstances: 50 } })).toContain("invalid scaling.alwaysReadyInstances 50");
    expect(errorOf({ scaling: { maximumInstances: 0 } })).toContain("invalid scaling.maximumInstances 0");
    expect(errorOf({ planSku: PlanSku.P1V3, scaling: { prewarmedInstances: 2 } })).toMatch(/scaling.prewarmedInstances 2.*Elastic Premium/);
  });

  test("two triggers with the same function name", () => {
    const msg = errorOf({ triggers: [new HttpTrigger(), new HttpTrigger({ route: "other" })] });
    expect(msg).toMatch(/triggers "score".*same function name/);
  });

  test("an HTTP route that cannot work", () => {
    expect(() => new HttpTrigger({ route: "/score" })).toThrow(/route "\/score"/);
    expect(() => new HttpTrigger({ route: "admin/x" })).toThrow(/admin/);
  });
});

describe("enum-like props also take their names as strings, with the same validation", () => {
  test("pythonVersion, planSku and registrySku by name", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ pythonVersion: "3.12", planSku: "ep2", registrySku: "Premium", imageBuild: ImageBuild.localDocker() }));
    const json = JSON.parse(require("cdktf").Testing.synth(stack));
    expect(Object.values(json.resource.azurerm_service_plan)[0]).toMatchObject({ sku_name: "EP2" });
    expect(Object.values(json.resource.azurerm_container_registry)[0]).toMatchObject({ sku: "Premium" });
    expect((Object.values(json.resource.docker_image)[0] as any).build.build_args.PYTHON_VERSION).toBe("3.12");
  });

  test("unknown names are refused naming the prop, the value and what is allowed", () => {
    expect(errorOf({ pythonVersion: "3.9" })).toMatch(/pythonVersion "3.9".*3\.11, 3\.12/);
    expect(errorOf({ planSku: "EP9" })).toMatch(/AmlFunctionDeployment "churn": invalid planSku "EP9".*EP1/);
    expect(errorOf({ planSku: "Y1" })).toMatch(/planSku "Y1".*Consumption/);
    expect(errorOf({ registrySku: "Gold" })).toMatch(/registrySku "Gold"|"Gold".*Basic, Standard, Premium/);
  });

  test("trigger options by name", () => {
    expect(new HttpTrigger({ authLevel: "anonymous" }).authLevel).toBe(HttpAuthLevel.ANONYMOUS);
    expect(() => new HttpTrigger({ authLevel: "public" as any })).toThrow(/authLevel "public".*ANONYMOUS/);
    expect(new ServiceBusTrigger({ cardinality: "many" }).cardinality).toBe(ServiceBusCardinality.MANY);
    expect(() => new ServiceBusTrigger({ cardinality: "all" as any })).toThrow(/cardinality "all"/);
    expect(() => new ServiceBusTrigger({ sku: "Basic" as any })).toThrow(/sku "Basic".*duplicate detection/);
  });
});

describe("values in error messages", () => {
  test("a factory passed without calling it is named, not printed as source; NaN stays NaN", () => {
    const uncalled = errorOf({ imageBuild: ImageBuild.acrTask as unknown as ReturnType<typeof ImageBuild.acrTask> });
    expect(uncalled).toContain("invalid imageBuild function acrTask: not a build mode. Allowed: ImageBuild.acrTask(options?) or ImageBuild.localDocker()");
    expect(uncalled).not.toContain("return");
    expect(errorOf({ imageBuild: ImageBuild as unknown as ReturnType<typeof ImageBuild.acrTask> })).toContain("invalid imageBuild class ImageBuild: not a build mode");
    expect(() => ImageBuild.acrTask({ timeoutSeconds: NaN })).toThrow("invalid timeoutSeconds NaN: out of range");
  });
});

describe("props that are not objects (plain JavaScript callers)", () => {
  const nothing = null as never;
  test.each([
    ["HttpTrigger", () => new HttpTrigger(nothing), "HttpTrigger: invalid props null: not an object. Allowed: HttpTriggerProps"],
    ["BlobTrigger", () => new BlobTrigger(nothing), "BlobTrigger: invalid props null: not an object. Allowed: BlobTriggerProps"],
    ["ServiceBusTrigger", () => new ServiceBusTrigger("inqueue" as never), 'ServiceBusTrigger: invalid props "inqueue": not an object. Allowed: ServiceBusTriggerProps'],
    ["AmlFunctionDeployment", () => new AmlFunctionDeployment(newStack(), "churn", nothing), 'AmlFunctionDeployment "churn": invalid props null: props are required. Allowed: AmlFunctionDeploymentProps'],
    ["ScoringRegistry", () => new ScoringRegistry(newStack(), "shared", undefined as never), 'ScoringRegistry "shared": invalid props undefined: props are required. Allowed: ScoringRegistryProps'],
    ["ScoringPlan", () => new ScoringPlan(newStack(), "plan", nothing), 'ScoringPlan "plan": invalid props null: props are required. Allowed: ScoringPlanProps'],
  ])("%s: a ValidationError naming props, not a TypeError", (_name, make, message) => {
    expect(make).toThrow(ValidationError);
    expect(make).toThrow(message);
  });

  test("no props at all still means the defaults for the triggers", () => {
    expect(new HttpTrigger().route).toBe("score");
    expect(new BlobTrigger(undefined).inputPath).toBe("input/{blobname}.json");
  });
});

describe("an anonymous HTTP trigger", () => {
  const warningsOf = (stack: ReturnType<typeof newStack>): string[] =>
    stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data));

  test("synthesizes with a warning that names the deployment, the function and the route", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new HttpTrigger({ authLevel: HttpAuthLevel.ANONYMOUS, route: "open/score" })] }));
    expect(warningsOf(stack)).toEqual([expect.stringContaining('AmlFunctionDeployment "churn": HttpTrigger "score" is anonymous: anyone who can reach the function app can call /api/open/score')]);
  });

  test("the default (function key) gives no warning", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new HttpTrigger()] }));
    expect(warningsOf(stack).filter((w) => w.includes("anonymous"))).toEqual([]);
  });
});
