import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { App, TerraformOutput, TerraformStack, Testing } from "cdktf";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { ContainerRegistry } from "@cdktf/provider-azurerm/lib/container-registry";
import { DataAzurermServicebusNamespace } from "@cdktf/provider-azurerm/lib/data-azurerm-servicebus-namespace";
import { ServicePlan } from "@cdktf/provider-azurerm/lib/service-plan";
import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { BLOB_RECEIPTS_CONTAINER } from "../../lib/triggers/blob-trigger";
import { AmlFunctionDeployment, BlobTrigger, ImageBuild, ScoringPlan, ServiceBusTrigger, ValidationError } from "../../lib";
import { AmlFunctionDeploymentProps } from "../../lib/aml-function-deployment";
import { message } from "../error-message";
import { tempDir } from "../temp-dirs";
import { newStack, refTo, SAMPLE_MODEL, sampleProps, synthJson } from "../helpers";

/** Synthesizes through App.synth (validations included) and returns the stack's JSON. */
function appSynth(build: (stack: TerraformStack) => void): any {
  const outdir = tempDir("aml-compose-");
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "compose");
  build(stack);
  app.synth();
  return JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "compose", "cdk.tf.json"), "utf8"));
}

const dockerResources = (json: any) => Object.keys(json.resource ?? {}).filter((t) => t.startsWith("docker_"));

describe("providers, whether or not the user added them", () => {
  test("none given: one azurerm provider with storage_use_azuread, docker only with docker resources", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.localDocker() }));
    const json = synthJson(stack);
    expect(json.provider.azurerm).toEqual([{ features: [{}], storage_use_azuread: true }]);
    expect(dockerResources(json).length).toBeGreaterThan(0);
    expect(json.provider.docker).toEqual([{}]);
  });

  test.each([
    ["before", true],
    ["after", false],
  ])("the user's provider added %s the deployments is the only one", (_when, before) => {
    const stack = newStack();
    const add = () => new AzurermProvider(stack, "azurerm", { features: [{}], storageUseAzuread: true, subscriptionId: "00000000-0000-0000-0000-000000000001" });
    if (before) add();
    new AmlFunctionDeployment(stack, "aa", sampleProps({ imageBuild: ImageBuild.localDocker() }));
    new AmlFunctionDeployment(stack, "bb", sampleProps({ imageBuild: ImageBuild.localDocker() }));
    if (!before) {
      add();
      new DockerProvider(stack, "docker", { host: "unix:///var/run/docker.sock" });
    }
    for (const json of [synthJson(stack), appSynth((s) => {
      if (before) new AzurermProvider(s, "azurerm", { features: [{}], storageUseAzuread: true, subscriptionId: "00000000-0000-0000-0000-000000000001" });
      new AmlFunctionDeployment(s, "aa", sampleProps({ imageBuild: ImageBuild.localDocker() }));
      if (!before) new AzurermProvider(s, "azurerm", { features: [{}], storageUseAzuread: true, subscriptionId: "00000000-0000-0000-0000-000000000001" });
    })]) {
      expect(json.provider.azurerm).toHaveLength(1);
      expect(json.provider.azurerm[0]).toMatchObject({ storage_use_azuread: true, subscription_id: "00000000-0000-0000-0000-000000000001" });
    }
    if (!before) expect(synthJson(stack).provider.docker).toEqual([{ host: "unix:///var/run/docker.sock" }]);
  });

  test.each([
    ["left out", {}],
    ["false", { storageUseAzuread: false }],
  ])("a user's azurerm provider with storageUseAzuread %s is refused at synth, naming the prop", (_what, extra) => {
    const stack = newStack();
    new AzurermProvider(stack, "azurerm", { features: [{}], ...extra });
    new AmlFunctionDeployment(stack, "churn", sampleProps());
    const msg = message(() => synthJson(stack));
    expect(msg).toContain("storageUseAzuread");
    expect(msg).toContain('AzurermProvider "test/azurerm"');
    expect(msg).toContain('"test/churn"');
    expect(msg).toContain("Allowed: storageUseAzuread: true");
    // App.synth (validations, the path a second cdktf copy takes) says the same.
    expect(message(() => appSynth((s) => {
      new AmlFunctionDeployment(s, "churn", sampleProps());
      new AzurermProvider(s, "azurerm", { features: [{}], ...extra });
    }))).toContain("storageUseAzuread");
  });

  test("an aliased azurerm provider does not replace the default one", () => {
    const stack = newStack();
    new AzurermProvider(stack, "other", { features: [{}], alias: "other", storageUseAzuread: true });
    new AmlFunctionDeployment(stack, "churn", sampleProps());
    const json = synthJson(stack);
    expect(json.provider.azurerm).toHaveLength(2);
    expect(json.provider.azurerm.filter((p: any) => p.alias === undefined)).toEqual([{ features: [{}], storage_use_azuread: true }]);
  });
});

describe("two copies of cdktf in one process (a symlinked file: dependency)", () => {
  // The library and its cdktf/constructs/provider packages loaded a second time, as a separate
  // install of the library would: other classes, other private symbols, another aspect registry.
  type Lib = typeof import("../../lib");
  /** The sample props built from that copy's own factories, as an app importing it would. */
  const propsOf = (lib: Lib, localDocker = false): any => ({
    ...sampleProps(),
    model: lib.ModelSource.fromLocalPath(SAMPLE_MODEL),
    environment: lib.PythonEnvironment.fromPipPackages(["joblib==1.2.0"]),
    triggers: [new lib.HttpTrigger()],
    ...(localDocker ? { imageBuild: lib.ImageBuild.localDocker() } : {}),
  });

  function secondCopy(): Lib {
    let lib: typeof import("../../lib") | undefined;
    jest.isolateModules(() => {
      lib = require("../../lib");
    });
    const copy = lib!;
    expect(copy.AmlFunctionDeployment).not.toBe(AmlFunctionDeployment);
    return copy;
  }

  test("the deployment from the other copy still gets its providers", () => {
    const other = secondCopy();
    const json = appSynth((s) => {
      new other.AmlFunctionDeployment(s as any, "churn", propsOf(other, true));
    });
    expect(json.provider.azurerm).toEqual([{ features: [{}], storage_use_azuread: true }]);
    expect(json.provider.docker).toEqual([{}]);
    expect(Object.keys(json.output)).toEqual(expect.arrayContaining(["churn_function_app_name", "churn_scoring_url"]));
  });

  test("a user's provider (the app's copy) is found by shape: one provider, checked", () => {
    const other = secondCopy();
    const json = appSynth((s) => {
      new other.AmlFunctionDeployment(s as any, "churn", propsOf(other));
      new AzurermProvider(s, "azurerm", { features: [{}], storageUseAzuread: true, subscriptionId: "00000000-0000-0000-0000-000000000002" });
    });
    expect(json.provider.azurerm).toEqual([{ features: [{}], storage_use_azuread: true, subscription_id: "00000000-0000-0000-0000-000000000002" }]);
    const msg = message(() => appSynth((s) => {
      new other.AmlFunctionDeployment(s as any, "churn", propsOf(other));
      new AzurermProvider(s, "azurerm", { features: [{}] });
    }));
    expect(msg).toContain("storageUseAzuread");
  });
});

describe("names and outputs unique per stack", () => {
  test("the same construct id under two parents fails, naming both construct paths", () => {
    const stack = newStack();
    new AmlFunctionDeployment(new Construct(stack, "team-a"), "svc", sampleProps());
    const err = (() => {
      try {
        new AmlFunctionDeployment(new Construct(stack, "team-b"), "svc", sampleProps());
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected an error");
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toContain('"test/team-b/svc"');
    expect(err.message).toContain('"test/team-a/svc"');
    expect(err.message).toContain('"svc"');
  });

  test("construct ids Churn_Model and churn-model (same derived names) fail", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "Churn_Model", sampleProps());
    const msg = message(() => new AmlFunctionDeployment(stack, "churn-model", sampleProps()));
    expect(msg).toContain('"test/churn-model"');
    expect(msg).toContain('"test/Churn_Model"');
    expect(msg).toContain('"churn-model"');
  });

  test("the same name given to two deployments fails, naming the prop", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "a", sampleProps({ name: "scoring" }));
    const msg = message(() => new AmlFunctionDeployment(stack, "b", sampleProps({ name: "scoring" })));
    expect(msg).toMatch(/invalid name "scoring"/);
    expect(msg).toContain('"test/b" and "test/a"');
  });

  test("distinct ids under different parents, distinct names: every output kept, every name once", () => {
    const stack = newStack();
    new AmlFunctionDeployment(new Construct(stack, "team-a"), "svc", sampleProps({ name: "svc-a" }));
    const b = new AmlFunctionDeployment(new Construct(stack, "team-b"), "svc2", sampleProps({ name: "svc-b" }));
    expect(b.names.resourceGroup).toBe("rg-svc-b");
    const json = synthJson(stack);
    expect(Object.keys(json.output).sort()).toEqual([
      "svc2_default_hostname", "svc2_function_app_name", "svc2_image", "svc2_scoring_url",
      "svc_default_hostname", "svc_function_app_name", "svc_image", "svc_scoring_url",
    ]);
    // Per resource type: a scope map and a token may share a name, two identities may not.
    // Diagnostic settings are named per target resource (one name on many targets is fine), and
    // blob containers and blobs per storage account (each ACR build has its own account).
    const perParent = ["azurerm_monitor_diagnostic_setting", "azurerm_storage_container", "azurerm_storage_blob"];
    const named = Object.entries(json.resource).filter(([type]) => !perParent.includes(type));
    const names = named.flatMap(([type, byId]: [string, any]) => Object.values(byId).map((r: any) => r.name).filter((n) => typeof n === "string" && !n.includes("${")).map((n) => `${type}:${n}`));
    expect(names.length).toBeGreaterThan(10);
    expect(new Set(names).size).toBe(names.length);
  });

  test("a user's output with a deployment's output id fails at synth instead of overwriting it", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps());
    new TerraformOutput(stack, "mine", { value: "x" }).overrideLogicalId("churn_scoring_url");
    const msg = message(() => synthJson(stack));
    expect(msg).toContain('Output id "churn_scoring_url"');
    expect(msg).toContain('"test/churn/output-scoring_url"');
    expect(msg).toContain('"test/mine"');
  });

  test("two triggers creating the same queue in one existing namespace fail, naming both paths and the queue prop", () => {
    const stack = newStack();
    const bus = new DataAzurermServicebusNamespace(stack, "bus", { name: "sb-team-shared", resourceGroupName: "rg-messaging" });
    new AmlFunctionDeployment(stack, "first", sampleProps({ triggers: [new ServiceBusTrigger({ namespace: bus })] }));
    const msg = message(() => new AmlFunctionDeployment(stack, "second", sampleProps({ triggers: [new ServiceBusTrigger({ namespace: bus })] })));
    expect(msg).toMatch(/invalid inputQueueName "inqueue"/);
    expect(msg).toContain('"test/second/trigger-0" and "test/first/trigger-0"');
    expect(msg).toContain("sb-team-shared");
    // A second data source for the same (globally named) namespace is the same namespace.
    const again = new DataAzurermServicebusNamespace(stack, "bus-again", { name: "SB-team-shared", resourceGroupName: "rg-messaging" });
    expect(message(() => new AmlFunctionDeployment(stack, "third", sampleProps({ triggers: [new ServiceBusTrigger({ namespace: again, inputQueueName: "in-third" })] })))).toMatch(/invalid outputQueueName "outqueue"/);
  });

  test("distinct queues, or existing queues shared on purpose (createQueues: false), are fine", () => {
    const stack = newStack();
    const bus = new DataAzurermServicebusNamespace(stack, "bus", { name: "sb-team-shared", resourceGroupName: "rg-messaging" });
    new AmlFunctionDeployment(stack, "first", sampleProps({ triggers: [new ServiceBusTrigger({ namespace: bus })] }));
    new AmlFunctionDeployment(stack, "second", sampleProps({ triggers: [new ServiceBusTrigger({ namespace: bus, inputQueueName: "in-second", outputQueueName: "out-second" })] }));
    new AmlFunctionDeployment(stack, "third", sampleProps({ triggers: [new ServiceBusTrigger({ namespace: bus, createQueues: false })] }));
    const queues = Object.values(synthJson(stack).resource.azurerm_servicebus_queue).map((q: any) => q.name).sort();
    expect(queues).toEqual(["in-second", "inqueue", "out-second", "outqueue"]);
  });

  test("two blob triggers on one existing account: the same container fails at synth; the receipts container is created once", () => {
    const stack = newStack();
    const account = new StorageAccount(stack, "shared", { name: "stteamshared", location: "westeurope", resourceGroupName: "rg", accountTier: "Standard", accountReplicationType: "LRS", sharedAccessKeyEnabled: false });
    new AmlFunctionDeployment(stack, "first", sampleProps({ triggers: [new BlobTrigger({ storageAccount: account })] }));
    const msg = message(() => new AmlFunctionDeployment(stack, "clash", sampleProps({ triggers: [new BlobTrigger({ storageAccount: account })] })));
    expect(msg).toMatch(/invalid inputPath "input\/\{blobname\}\.json"/);
    expect(msg).toContain('"test/clash/trigger-0" and "test/first/trigger-0"');
    new AmlFunctionDeployment(stack, "second", sampleProps({ triggers: [new BlobTrigger({ storageAccount: account, inputPath: "in-second/{blobname}.json", outputPath: "out-second/{blobname}.json" })] }));
    const json = synthJson(stack);
    const inAccount = Object.entries(json.resource.azurerm_storage_container).filter(([, c]: [string, any]) => c.storage_account_id === "${azurerm_storage_account.shared.id}");
    expect(inAccount.map(([, c]: [string, any]) => c.name).sort()).toEqual([BLOB_RECEIPTS_CONTAINER, "in-second", "input", "out-second", "output"]);
    const receipts = inAccount.find(([, c]: [string, any]) => c.name === BLOB_RECEIPTS_CONTAINER)![0];
    const grants = Object.values(json.resource.azurerm_role_assignment).filter((r: any) => r.scope === `\${azurerm_storage_container.${receipts}.id}`);
    expect(grants).toHaveLength(2);
  });

  test("a storageAccountName or namespaceName given to two triggers fails at synth, naming both", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "first", sampleProps({ triggers: [new BlobTrigger({ storageAccountName: "stteamblobs" }), new ServiceBusTrigger({ namespaceName: "sb-team-scoring" })] }));
    const blob = message(() => new AmlFunctionDeployment(stack, "second", sampleProps({ triggers: [new BlobTrigger({ storageAccountName: "stteamblobs" })] })));
    expect(blob).toContain('invalid storageAccountName "stteamblobs": "test/second/trigger-0" and "test/first/trigger-0" in the same stack both create the storage account "stteamblobs"');
    const bus = message(() => new AmlFunctionDeployment(stack, "third", sampleProps({ triggers: [new ServiceBusTrigger({ namespaceName: "sb-team-scoring" })] })));
    expect(bus).toContain('invalid namespaceName "sb-team-scoring": "test/third/trigger-0" and "test/first/trigger-1"');
  });

  test("the ACR build's identity id-<name>-build is claimed too: a deployment named <name>-build beside <name> fails", () => {
    for (const order of [["churn", "churn-build"], ["churn-build", "churn"]]) {
      const stack = newStack();
      new AmlFunctionDeployment(stack, order[0], sampleProps());
      const msg = message(() => new AmlFunctionDeployment(stack, order[1], sampleProps()));
      expect(msg).toContain('managed identity "id-churn-build"');
      expect(msg).toContain(`"test/${order[1]}" and "test/${order[0]}"`);
    }
    // With the local Docker build there is no build identity: both fit.
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.localDocker() }));
    new AmlFunctionDeployment(stack, "churn-build", sampleProps({ imageBuild: ImageBuild.localDocker() }));
  });

  test("the same deployment ids in two different stacks are fine (names are per stack)", () => {
    const app = Testing.app();
    for (const s of ["one", "two"]) new AmlFunctionDeployment(new TerraformStack(app, s), "churn", sampleProps());
    expect(app.node.findAll().filter((c) => c instanceof AmlFunctionDeployment)).toHaveLength(2);
  });
});

/** A team's wrapper, as CDK users compose: the deployment inside always has the id "app". */
class ScoringService extends Construct {
  public readonly deployment: AmlFunctionDeployment;
  constructor(scope: Construct, id: string, extra: Partial<AmlFunctionDeploymentProps> = {}) {
    super(scope, id);
    this.deployment = new AmlFunctionDeployment(this, "app", sampleProps({ name: id, ...extra }));
  }
}

describe("a wrapper construct used more than once", () => {
  const outputIds = (json: any): string[] => Object.keys(json.output).sort();
  const perDeployment = (prefix: string): string[] => ["default_hostname", "function_app_name", "image", "scoring_url"].map((o) => `${prefix}_${o}`);

  test("two wrappers with distinct names synthesize, each with its own outputs, named after its `name`", () => {
    const stack = newStack();
    const churn = new ScoringService(stack, "churn");
    const fraud = new ScoringService(stack, "fraud");
    const json = synthJson(stack);
    expect(outputIds(json)).toEqual([...perDeployment("churn"), ...perDeployment("fraud")]);
    for (const [prefix, svc] of [["churn", churn], ["fraud", fraud]] as const) {
      expect(json.output[`${prefix}_function_app_name`].value).toBe(refTo(json, "azurerm_linux_function_app", "name", (r) => r.name === svc.deployment.functionAppName));
    }
  });

  test("the same through App.synth (validations), and in either construction order", () => {
    const ids = (order: string[]) => Object.keys(appSynth((s) => {
      for (const id of order) new ScoringService(s, id);
    }).output).sort();
    expect(ids(["churn", "fraud"])).toEqual([...perDeployment("churn"), ...perDeployment("fraud")]);
    expect(ids(["fraud", "churn"])).toEqual(ids(["churn", "fraud"]));
  });

  test("triggers' outputs follow the same prefix", () => {
    const stack = newStack();
    const bus = new DataAzurermServicebusNamespace(stack, "bus", { name: "sb-team-shared", resourceGroupName: "rg-messaging" });
    new ScoringService(stack, "churn", { triggers: [new ServiceBusTrigger({ namespace: bus, inputQueueName: "in-churn", outputQueueName: "out-churn" })] });
    new ScoringService(stack, "fraud", { triggers: [new ServiceBusTrigger({ namespace: bus, inputQueueName: "in-fraud", outputQueueName: "out-fraud" })] });
    const json = synthJson(stack);
    expect(json.output.churn_servicebus_input_queue.value).toBe("in-churn");
    expect(json.output.fraud_servicebus_input_queue.value).toBe("in-fraud");
    expect(json.output.app_servicebus_input_queue).toBeUndefined();
  });

  test("a wrapper used once keeps the construct id as prefix (as every single deployment does)", () => {
    const stack = newStack();
    new ScoringService(stack, "churn");
    expect(outputIds(synthJson(stack))).toEqual(perDeployment("app"));
  });

  test("without a name, the colliding deployments take their construct path; with the same name they still fail", () => {
    const stack = newStack();
    new AmlFunctionDeployment(new Construct(stack, "team-a"), "svc", sampleProps({ name: "svc-a" }));
    new AmlFunctionDeployment(new Construct(stack, "team-b"), "svc", sampleProps({ name: "svc-b", imageBuild: ImageBuild.localDocker() }));
    expect(outputIds(synthJson(stack))).toEqual([...perDeployment("svc_a"), ...perDeployment("svc_b")]);
    const unnamed = newStack();
    new AmlFunctionDeployment(new Construct(unnamed, "team-a"), "svc", sampleProps({ name: "svc-a" }));
    new AmlFunctionDeployment(new Construct(unnamed, "team-b"), "svc", sampleProps());
    expect(outputIds(synthJson(unnamed))).toEqual([...perDeployment("svc_a"), ...perDeployment("team_b_svc")]);
    const same = newStack();
    new ScoringService(same, "churn");
    const msg = message(() => new AmlFunctionDeployment(new Construct(same, "other"), "app", sampleProps({ name: "churn" })));
    expect(msg).toMatch(/invalid name "churn"/);
    expect(msg).toContain('"test/other/app" and "test/churn/app"');
  });

  test("a prefix taken by the name of one and the id of another fails at synth, naming both outputs", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ name: "churn-main" }));
    new ScoringService(stack, "churn-x", { name: "churn" });
    new ScoringService(stack, "fraud");
    const msg = message(() => synthJson(stack));
    expect(msg).toContain('Output id "churn_scoring_url" is used by "test/churn/output-scoring_url" and "test/churn-x/app/output-scoring_url"');
  });
});

describe("existing resources passed in, checked where known at synth", () => {
  test("a ScoringPlan in another region is refused", () => {
    const stack = newStack();
    const plan = new ScoringPlan(stack, "plan", { name: "plan-shared", location: "North Europe", resourceGroupName: "rg" });
    const msg = message(() => new AmlFunctionDeployment(stack, "churn", sampleProps({ servicePlan: plan })));
    expect(msg).toContain("invalid servicePlan \"North Europe\"");
    expect(msg).toContain("northeurope");
    expect(msg).toContain("westeurope");
    expect(() => new AmlFunctionDeployment(stack, "ok", sampleProps({ servicePlan: new ScoringPlan(stack, "plan2", { name: "p2", location: "West Europe", resourceGroupName: "rg" }) }))).not.toThrow();
  });

  test("an azurerm ServicePlan resource passed in: its region, OS and SKU family are checked", () => {
    const stack = newStack();
    const plan = (id: string, location: string, osType: string, skuName: string) => new ServicePlan(stack, id, { name: id, location, resourceGroupName: "rg", osType, skuName });
    expect(message(() => new AmlFunctionDeployment(stack, "a1", sampleProps({ servicePlan: plan("p1", "eastus", "Linux", "EP1") })))).toContain('invalid servicePlan "eastus": the plan is in eastus but the function app would be in westeurope');
    expect(message(() => new AmlFunctionDeployment(stack, "a2", sampleProps({ servicePlan: plan("p2", "westeurope", "Windows", "EP1") })))).toContain('invalid servicePlan.osType "Windows"');
    const y1 = message(() => new AmlFunctionDeployment(stack, "a3", sampleProps({ servicePlan: plan("p3", "westeurope", "Linux", "Y1") })));
    expect(y1).toContain('invalid servicePlan.skuName "Y1": Consumption (Y1) plans cannot run custom containers');
    expect(y1).toContain("EP1, EP2, EP3");
    expect(() => new AmlFunctionDeployment(stack, "ok", sampleProps({ servicePlan: plan("p4", "West Europe", "Linux", "P1v3") }))).not.toThrow();
  });

  test("an azurerm ContainerRegistry resource passed in: admin user and anonymous pull are refused", () => {
    const stack = newStack();
    const registry = (id: string, extra: object) => new ContainerRegistry(stack, id, { name: `cr${id}shared`, location: "westeurope", resourceGroupName: "rg", sku: "Standard", ...extra });
    expect(message(() => new AmlFunctionDeployment(stack, "a1", sampleProps({ registry: registry("one", { adminEnabled: true }) })))).toContain("invalid registry.adminEnabled true");
    expect(message(() => new AmlFunctionDeployment(stack, "a2", sampleProps({ registry: registry("two", { anonymousPullEnabled: true }) })))).toContain("invalid registry.anonymousPullEnabled true");
    expect(() => new AmlFunctionDeployment(stack, "ok", sampleProps({ registry: registry("three", { adminEnabled: false }) }))).not.toThrow();
  });

  test("a literal logAnalyticsWorkspaceId must be a workspace resource id; references pass", () => {
    const stack = newStack();
    const msg = message(() => new AmlFunctionDeployment(stack, "churn", sampleProps({ logAnalyticsWorkspaceId: "log-churn" })));
    expect(msg).toContain('invalid logAnalyticsWorkspaceId "log-churn"');
    const id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/log-ops";
    new AmlFunctionDeployment(stack, "ok", sampleProps({ logAnalyticsWorkspaceId: id }));
    expect(Object.keys(synthJson(stack).resource.azurerm_log_analytics_workspace ?? {})).toHaveLength(0);
  });
});

describe("environment is optional", () => {
  test("a deployment without environment synthesizes with an empty requirements.txt", () => {
    const outdir = tempDir("aml-noenv-");
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "noenv");
    const props = sampleProps({ imageBuild: ImageBuild.localDocker() });
    delete (props as { environment?: unknown }).environment;
    new AmlFunctionDeployment(stack, "plain", props);
    app.synth();
    const found: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name === "requirements.txt") found.push(p);
      }
    };
    walk(path.join(outdir, "stacks", "noenv", "assets"));
    expect(found).toHaveLength(1);
    expect(fs.readFileSync(found[0], "utf8")).toBe("");
  });
});
