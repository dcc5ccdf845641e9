import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import {
  AdapterKind, AmlFunctionDeployment, BlobTrigger, HttpTrigger, IImageBuild, ImageBuildBinding, ImageBuildTarget, IModelSource, ModelSource, ServiceBusCardinality, ServiceBusTrigger,
} from "../lib";
import { hostContract, hostContractPath, hostSetting } from "../lib/host-contract";
import { ModelSourceSpec } from "../lib/model/fetch-settings";
import type { PreparedBuildContext } from "../lib/image/build-context";
import { newStack, REPO, resourcesOf, sampleProps, synthJson } from "./helpers";

/** The file itself, read here without the library's loader. */
const FILE = JSON.parse(fs.readFileSync(path.join(REPO, "scoring-image/aml_host/contract.json"), "utf8"));

const SUB = "11111111-2222-3333-4444-555555555555";
const MODELS: Array<[string, IModelSource]> = [
  ["local", ModelSource.fromLocalPath(path.join(REPO, "examples/churn/models/churn"))],
  ["amlWorkspace", ModelSource.fromAmlWorkspace({ workspaceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlw`, name: "churn", version: "3" })],
  ["amlRegistry", ModelSource.fromAmlRegistry({ registryId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/reg`, name: "churn", version: "1" })],
  ["blob", ModelSource.fromBlob({ storageAccountId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stmodels01`, container: "models", path: "churn/" })],
];

/** An image build that keeps the text of the context's app/ files instead of building it. */
class RecordingBuild implements IImageBuild {
  public readonly files: string[] = [];
  public readonly generated = new Map<string, string>();
  bind(_scope: Construct, target: ImageBuildTarget): ImageBuildBinding {
    const c = target.context.prepare() as PreparedBuildContext;
    this.files.push(...c.files);
    // The app/ files as the image gets them (generated or copied): read from the staged folder.
    const dir = c.stageFolder().directory;
    for (const f of c.files) if (f.startsWith("app/")) this.generated.set(f, fs.readFileSync(path.join(dir, f), "utf8"));
    return { repository: target.repository, tag: c.fingerprint, imageReference: `r/${target.repository}:${c.fingerprint}`, dependencies: [] };
  }
}

function deploy(model: IModelSource) {
  const build = new RecordingBuild();
  const stack = newStack();
  new AmlFunctionDeployment(stack, "churn", sampleProps({
    model,
    imageBuild: build,
    triggers: [new HttpTrigger(), new BlobTrigger(), new ServiceBusTrigger({ cardinality: ServiceBusCardinality.MANY })],
  }));
  const app = Object.values(resourcesOf(synthJson(stack), "azurerm_linux_function_app"))[0] as { app_settings: { [k: string]: string } };
  return { build, settings: app.app_settings };
}

const DEPLOYED = MODELS.map(([kind, model]) => ({ kind, ...deploy(model) }));

test("the library reads the contract from the file the image gets", () => {
  expect(hostContractPath()).toBe(path.join(REPO, "scoring-image/aml_host/contract.json"));
  expect(hostContract()).toEqual(FILE);
  for (const { build } of DEPLOYED) expect(build.files).toContain("app/aml_host/contract.json");
});

test("AdapterKind is the contract's trigger adapter kinds", () => {
  // A Record over the union: tsc refuses a kind missing here or one that is not in AdapterKind.
  const kinds: Record<AdapterKind, true> = { http: true, blob: true, servicebus: true };
  expect(Object.keys(kinds).sort()).toEqual([...FILE.triggerAdapterKinds].sort());
});

test("every function of the image names a declared adapter kind and imports that kind's adapter", () => {
  const { build } = DEPLOYED[0];
  const amlJsons = [...build.generated.keys()].filter((f) => /^app\/[^/]+\/aml\.json$/.test(f));
  expect(amlJsons.length).toBe(4);
  for (const file of amlJsons) {
    const kind = JSON.parse(build.generated.get(file)!).kind as string;
    const declared = file === "app/health/aml.json" ? [FILE.healthAdapterKind] : FILE.triggerAdapterKinds;
    expect(declared).toContain(kind);
    expect(build.generated.get(file.replace(/aml\.json$/, "__init__.py"))).toBe(`from adapters.${kind}_adapter import main  # noqa: F401\n`);
    expect(fs.existsSync(path.join(REPO, "scoring-image/adapters", `${kind}_adapter.py`))).toBe(true);
  }
});

test("ModelSourceSpec kinds and fields are the contract's model sources", () => {
  const kinds: Record<ModelSourceSpec["kind"], true> = { amlWorkspace: true, amlRegistry: true, blob: true };
  expect(Object.keys(kinds).sort()).toEqual(Object.keys(FILE.modelSources).sort());
  for (const { kind, settings } of DEPLOYED.filter((d) => d.kind !== "local")) {
    const spec = JSON.parse(settings.AML_MODEL_SOURCE);
    expect(Object.keys(spec)).toEqual(["kind", ...FILE.modelSources[kind]]);
    expect(spec.kind).toBe(kind);
  }
});

test("every AML_/AZUREML_ app setting the deployment writes is one the host reads, and the contract claims no other", () => {
  const written = new Set<string>();
  for (const { settings } of DEPLOYED) {
    for (const name of Object.keys(settings).filter((n) => /^(AML|AZUREML)_/.test(n))) {
      written.add(name);
      expect({ name, setBy: FILE.appSettings[name]?.setBy }).toEqual({ name, setBy: expect.arrayContaining(["deployment"]) });
      const imageValue = FILE.appSettings[name].imageValue;
      if (imageValue !== undefined) expect({ name, value: settings[name] }).toEqual({ name, value: imageValue });
    }
  }
  const claimed = Object.keys(FILE.appSettings).filter((n) => FILE.appSettings[n].setBy.includes("deployment"));
  expect([...written].sort()).toEqual(claimed.sort());
});

test("hostSetting refuses a name the host does not read", () => {
  expect(hostSetting("AML_MODEL_SOURCE")).toBe("AML_MODEL_SOURCE");
  expect(() => hostSetting("AML_MODEL_SOURCES")).toThrow(/^AML_MODEL_SOURCES is not an app setting of .*contract\.json: the scoring image's host does not read it$/);
});
