import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { Construct } from "constructs";
import { App, LocalBackend, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { MachineLearningWorkspace } from "@cdktf/provider-azurerm/lib/machine-learning-workspace";
import { AmlFunctionDeployment, IImageBuild, ImageBuildBinding, ImageBuildTarget, IModelSource, ModelSource } from "../../lib";
import type { BuildContext } from "../../lib/image/build/image-build-target";
import { message } from "../error-message";
import { tempDir } from "../temp-dirs";
import { newStack, resourcesOf, sampleProps, synthJson } from "../helpers";
import { schemaProblems } from "../schema-check";

const SUB = "11111111-2222-3333-4444-555555555555";
const WS = `/subscriptions/${SUB}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw-churn`;
const REG = `/subscriptions/${SUB}/resourceGroups/rg-shared/providers/Microsoft.MachineLearningServices/registries/shared-models`;
const SA = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stmodels01`;

/** An image build that records the staged context instead of building it. */
class RecordingBuild implements IImageBuild {
  public context?: BuildContext;
  bind(_scope: Construct, target: ImageBuildTarget): ImageBuildBinding {
    this.context = target.context;
    const { fingerprint } = target.context.prepare();
    return { repository: target.repository, tag: fingerprint, imageReference: `r/${target.repository}:${fingerprint}`, dependencies: [] };
  }
}

function deploy(model: IModelSource, build?: RecordingBuild) {
  const stack = newStack();
  new AmlFunctionDeployment(stack, "churn", sampleProps({ model, imageBuild: build }));
  const json = synthJson(stack);
  const app = Object.values(resourcesOf(json, "azurerm_linux_function_app"))[0] as any;
  const roles = Object.entries(resourcesOf(json, "azurerm_role_assignment")) as Array<[string, any]>;
  return { stack, json, app, roles };
}

/** Role assignments created by the model source (under the deployment's "model" construct). */
function modelRoles(roles: Array<[string, any]>): Array<[string, any]> {
  return roles.filter(([id]) => id.startsWith("churn_model_"));
}

describe("ModelSource.fromAmlWorkspace", () => {
  const { json, app, roles } = deploy(ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "3" }));

  test("grants Reader on the workspace and Storage Blob Data Reader on the workspace's resource group, to the app's identity", () => {
    const mine = modelRoles(roles).map(([, r]) => ({ scope: r.scope, role: r.role_definition_name, principal: r.principal_id, type: r.principal_type }));
    const principal = "${azurerm_user_assigned_identity.churn_identity_" ;
    expect(mine).toHaveLength(2);
    expect(mine).toContainEqual(expect.objectContaining({ scope: WS, role: "Reader", type: "ServicePrincipal" }));
    expect(mine).toContainEqual(expect.objectContaining({ scope: `/subscriptions/${SUB}/resourceGroups/rg-ml`, role: "Storage Blob Data Reader" }));
    for (const r of mine) expect(r.principal).toContain(principal);
  });

  test("app settings name the model, the identity's client id and the ARM endpoint; nothing secret", () => {
    expect(JSON.parse(app.app_settings.AML_MODEL_SOURCE)).toEqual({ kind: "amlWorkspace", workspaceId: WS, name: "churn", version: "3" });
    expect(app.app_settings.AML_MODEL_CLIENT_ID).toMatch(/^\$\{azurerm_user_assigned_identity\.churn_identity_[^.]+\.client_id\}$/);
    expect(app.app_settings.AML_MODEL_ARM_ENDPOINT).toBe("https://management.azure.com");
    expect(JSON.stringify(app.app_settings)).not.toMatch(/sig=|AccountKey|password/i);
  });

  test("the function app depends on both grants", () => {
    for (const [id] of modelRoles(roles)) expect(app.depends_on).toContain(`azurerm_role_assignment.${id}`);
  });

  test("conforms to the azurerm 4.55 schema", () => {
    expect(schemaProblems(json)).toEqual([]);
  });

  test("datastoreStorageAccountId narrows the storage grant to the account, datastoreContainer to the container", () => {
    const account = modelRoles(deploy(ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "3", datastoreStorageAccountId: SA })).roles)
      .map(([, r]) => r).find((r) => r.role_definition_name === "Storage Blob Data Reader");
    expect(account.scope).toBe(SA);
    const container = modelRoles(deploy(ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "3", datastoreStorageAccountId: SA, datastoreContainer: "azureml-blobstore-0a1b" })).roles)
      .map(([, r]) => r).find((r) => r.role_definition_name === "Storage Blob Data Reader");
    expect(container.scope).toBe(`${SA}/blobServices/default/containers/azureml-blobstore-0a1b`);
  });

  test("the default resource-group grant comes with a synth warning that says how to narrow it", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ model: ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "3" }) }));
    Testing.synth(stack);
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data));
    expect(warnings.some((w) => w.includes("datastoreStorageAccountId"))).toBe(true);
  });

  test("a workspace id that is a token (a workspace in the same stack) scopes the storage grant to its resource group with Terraform functions", () => {
    const stack = newStack();
    const ws = new MachineLearningWorkspace(stack, "ws", {
      name: "mlw", location: "westeurope", resourceGroupName: "rg-ml", applicationInsightsId: "ai", keyVaultId: "kv", storageAccountId: SA, identity: { type: "SystemAssigned" },
    });
    new AmlFunctionDeployment(stack, "churn", sampleProps({ model: ModelSource.fromAmlWorkspace({ workspaceId: ws.id, name: "churn", version: "3" }) }));
    const json = synthJson(stack);
    const roles = modelRoles(Object.entries(resourcesOf(json, "azurerm_role_assignment")) as Array<[string, any]>).map(([, r]) => r);
    expect(roles.find((r) => r.role_definition_name === "Reader").scope).toBe("${azurerm_machine_learning_workspace.ws.id}");
    expect(roles.find((r) => r.role_definition_name === "Storage Blob Data Reader").scope).toBe('${join("/", slice(split("/", azurerm_machine_learning_workspace.ws.id), 0, 5))}');
    const app = Object.values(resourcesOf(json, "azurerm_linux_function_app"))[0] as any;
    expect(app.app_settings.AML_MODEL_SOURCE).toContain("jsonencode(");
    expect(app.app_settings.AML_MODEL_SOURCE).toContain("azurerm_machine_learning_workspace.ws.id");
  });
});

describe("ModelSource.fromAmlRegistry", () => {
  const { json, app, roles } = deploy(ModelSource.fromAmlRegistry({ registryId: REG, name: "churn", version: "7" }));

  test("grants a read-only custom role on the registry (registries/read and registries/assets/read), not AzureML Registry User, and nothing else", () => {
    const mine = modelRoles(roles).map(([, r]) => r);
    expect(mine).toHaveLength(1);
    const definitions = Object.entries(resourcesOf(json, "azurerm_role_definition")).filter(([id]) => id.startsWith("churn_model_")) as Array<[string, any]>;
    expect(definitions).toHaveLength(1);
    const [defId, def] = definitions[0];
    // Defined in the registry's resource group (custom roles are assignable there, not on a resource), assigned on the registry.
    expect(def).toMatchObject({
      scope: `/subscriptions/${SUB}/resourceGroups/rg-shared`,
      assignable_scopes: [`/subscriptions/${SUB}/resourceGroups/rg-shared`],
      permissions: [{ actions: ["Microsoft.MachineLearningServices/registries/read", "Microsoft.MachineLearningServices/registries/assets/read"], not_actions: [], data_actions: [], not_data_actions: [] }],
    });
    // Unique in the tenant: the deployment's name and suffix, and the registry's name.
    expect(def.name).toMatch(/^AML registry model reader churn [a-z0-9]+ on shared-models$/);
    // Nothing that writes or deletes: no wildcard, no write, delete or action.
    for (const a of def.permissions[0].actions) expect(a).not.toMatch(/\*|write|delete|action/i);
    expect(mine[0]).toMatchObject({ scope: REG, role_definition_id: `\${azurerm_role_definition.${defId}.role_definition_resource_id}`, principal_type: "ServicePrincipal" });
    expect(mine[0].role_definition_name).toBeUndefined();
    expect(JSON.stringify(json)).not.toContain("AzureML Registry User");
    expect(app.depends_on).toContain(`azurerm_role_assignment.${modelRoles(roles)[0][0]}`);
  });

  test("a registry id that is a token: the role is defined in the resource group Terraform cuts from it", () => {
    const stack = newStack();
    const v = new TerraformVariable(stack, "registry_id", { type: "string" });
    new AmlFunctionDeployment(stack, "churn", sampleProps({ model: ModelSource.fromAmlRegistry({ registryId: v.stringValue, name: "churn", version: "7" }) }));
    const tokenJson = synthJson(stack);
    const def = Object.values(resourcesOf(tokenJson, "azurerm_role_definition"))[0] as any;
    expect(def.scope).toBe('${join("/", slice(split("/", var.registry_id), 0, 5))}');
    expect(def.assignable_scopes).toEqual([def.scope]);
    expect(def.name).toMatch(/^AML registry model reader churn [a-z0-9]+$/);
    expect(schemaProblems(tokenJson)).toEqual([]);
  });

  test("app settings", () => {
    expect(JSON.parse(app.app_settings.AML_MODEL_SOURCE)).toEqual({ kind: "amlRegistry", registryId: REG, name: "churn", version: "7" });
    expect(app.app_settings.AML_MODEL_ARM_ENDPOINT).toBe("https://management.azure.com");
  });

  test("a sovereign-cloud ARM endpoint is passed on (trailing slash dropped)", () => {
    const { app: gov } = deploy(ModelSource.fromAmlRegistry({ registryId: REG, name: "churn", version: "7", armEndpoint: "https://management.usgovcloudapi.net/" }));
    expect(gov.app_settings.AML_MODEL_ARM_ENDPOINT).toBe("https://management.usgovcloudapi.net");
  });

  test("conforms to the azurerm 4.55 schema", () => {
    expect(schemaProblems(json)).toEqual([]);
  });
});

describe("ModelSource.fromBlob", () => {
  const { json, app, roles } = deploy(ModelSource.fromBlob({ storageAccountId: SA, container: "models", path: "churn/v3" }));

  test("grants Storage Blob Data Reader on the container only", () => {
    const mine = modelRoles(roles).map(([, r]) => r);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ scope: `${SA}/blobServices/default/containers/models`, role_definition_name: "Storage Blob Data Reader" });
    // ABAC: reads only the blob named by the path or blobs under path/ (not siblings such as
    // churn/v3.bak or churn/v30/...), lists only with a prefix under the path.
    const blobs = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]";
    expect(mine[0].condition_version).toBe("2.0");
    expect(mine[0].condition).toBe(
      "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})) OR " +
      `(${blobs} StringEquals 'churn/v3' OR ${blobs} StringStartsWith 'churn/v3/')) AND ` +
      "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND SubOperationMatches{'Blob.List'})) OR " +
      "(@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith 'churn/v3'))",
    );
    expect(app.depends_on).toContain(`azurerm_role_assignment.${modelRoles(roles)[0][0]}`);
  });

  test("app settings", () => {
    expect(JSON.parse(app.app_settings.AML_MODEL_SOURCE)).toEqual({ kind: "blob", storageAccountId: SA, container: "models", path: "churn/v3" });
    expect(app.app_settings.AML_MODEL_STORAGE_SUFFIX).toBe("core.windows.net");
    expect(app.app_settings.AML_MODEL_ARM_ENDPOINT).toBeUndefined();
  });

  test("conforms to the azurerm 4.55 schema", () => {
    expect(schemaProblems(json)).toEqual([]);
  });
});

describe("no model in the image; the model reference is not part of the image fingerprint", () => {
  test("the build context holds only the model/.fetched-at-start marker", () => {
    const build = new RecordingBuild();
    deploy(ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "3" }), build);
    expect(build.context!.prepare().files.filter((f) => f.startsWith("model/"))).toEqual(["model/.fetched-at-start"]);
    // The downloader ships in the image with the rest of the hosting code.
    expect(build.context!.prepare().files).toEqual(expect.arrayContaining(["app/aml_host/model_fetch/__init__.py", "app/aml_host/model_fetch/blob_store.py"]));
  });

  test("a new version changes the app setting, not the image tag", () => {
    const a = deploy(ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "3" })).app;
    const b = deploy(ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "4" })).app;
    expect(a.site_config.application_stack.docker[0].image_tag).toBe(b.site_config.application_stack.docker[0].image_tag);
    expect(a.app_settings.AML_MODEL_SOURCE).not.toBe(b.app_settings.AML_MODEL_SOURCE);
  });

  test("all three fetched sources share one image; a baked model gives another", () => {
    const tag = (m: IModelSource) => deploy(m).app.site_config.application_stack.docker[0].image_tag;
    const ws = tag(ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "3" }));
    expect(tag(ModelSource.fromAmlRegistry({ registryId: REG, name: "other", version: "1" }))).toBe(ws);
    expect(tag(ModelSource.fromBlob({ storageAccountId: SA, container: "models", path: "x.pkl" }))).toBe(ws);
    expect(tag(sampleProps().model)).not.toBe(ws);
  });

  test("a folder path with a trailing slash is limited to that folder", () => {
    const role = modelRoles(deploy(ModelSource.fromBlob({ storageAccountId: SA, container: "models", path: "churn/" })).roles)[0][1];
    expect(role.condition).toContain("blobs:path] StringStartsWith 'churn/')");
    expect(role.condition).toContain("blobs:prefix] StringStartsWith 'churn/'");
    expect(role.condition).not.toContain("'churn'");
    expect(role.condition).not.toContain("StringEquals");
  });

  test("the version may be a Terraform variable (changing it never rebuilds)", () => {
    const stack = newStack();
    const v = new TerraformVariable(stack, "model_version", { type: "string" });
    new AmlFunctionDeployment(stack, "churn", sampleProps({ model: ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: v.stringValue }) }));
    const app = Object.values(resourcesOf(synthJson(stack), "azurerm_linux_function_app"))[0] as any;
    // Terraform builds the JSON (a literal JSON string cannot hold a reference in cdktf's HCL).
    expect(app.app_settings.AML_MODEL_SOURCE).toBe(`\${jsonencode({"kind" = "amlWorkspace", "workspaceId" = "${WS}", "name" = "churn", "version" = var.model_version})}`);
  });
});

describe("validation at synth", () => {
  const ws = (p: object) => message(() => ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: "3", ...p } as any));
  const reg = (p: object) => message(() => ModelSource.fromAmlRegistry({ registryId: REG, name: "churn", version: "3", ...p } as any));
  const blob = (p: object) => message(() => ModelSource.fromBlob({ storageAccountId: SA, container: "models", path: "churn", ...p } as any));

  test("version is required and never 'latest'", () => {
    expect(ws({ version: undefined })).toContain('ModelSource.fromAmlWorkspace: invalid version undefined: the version is required');
    expect(ws({ version: "latest" })).toMatch(/invalid version "latest": .*Allowed: an exact model version/);
    expect(reg({ version: "Latest" })).toContain('ModelSource.fromAmlRegistry: invalid version "Latest"');
    expect(reg({ version: "@latest" })).toContain('invalid version "@latest"');
    expect(ws({ version: 3 })).toContain("invalid version 3: the version must be a string");
    expect(ws({ version: "1 2" })).toContain('invalid version "1 2": not a valid Azure ML model version');
  });

  test("name follows the Azure ML rule", () => {
    expect(ws({ name: "" })).toContain('invalid name "": not a valid Azure ML model name');
    expect(ws({ name: "-churn" })).toContain('invalid name "-churn"');
    expect(reg({ name: "churn/model" })).toContain('invalid name "churn/model"');
    expect(ws({ name: "a".repeat(256) })).toContain("invalid name");
    expect(() => ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn_model.v2-x", version: "2024.01.3" })).not.toThrow();
  });

  test("resource ids must be of the right type", () => {
    expect(ws({ workspaceId: REG })).toContain("it is the id of a Microsoft.MachineLearningServices/registries resource, not of an Azure ML workspace");
    expect(reg({ registryId: WS })).toContain("not of an Azure ML registry");
    expect(blob({ storageAccountId: WS })).toContain("not of a storage account");
    expect(ws({ workspaceId: "mlw-churn" })).toContain('invalid workspaceId "mlw-churn": not a resource id');
    expect(ws({ workspaceId: `${WS}/` })).toContain("no trailing slash");
    expect(ws({ workspaceId: `${WS}/models/churn` })).toContain("not a resource id");
    expect(ws({ workspaceId: WS.replace(SUB, "my-sub") })).toContain('the subscription id "my-sub" is not a GUID');
    expect(blob({ storageAccountId: SA.replace("stmodels01", "St_Models") })).toContain('does not follow the storage account naming rule ("St_Models")');
    expect(ws({ workspaceId: WS.replace("mlw-churn", "m") })).toContain("Azure ML naming rule");
    expect(ws({ workspaceId: undefined })).toContain("invalid workspaceId undefined: not a string");
    const stack = newStack();
    const v = new TerraformVariable(stack, "ws", { type: "string" });
    expect(ws({ workspaceId: `${v.stringValue}"\n}` })).toContain("around the reference cannot be part of a resource id");
    // ARM ids are case-insensitive.
    expect(() => ModelSource.fromAmlWorkspace({ workspaceId: WS.replace("Microsoft.MachineLearningServices/workspaces", "microsoft.machinelearningservices/Workspaces"), name: "c", version: "1" })).not.toThrow();
  });

  test("container follows the blob container rule", () => {
    expect(blob({ container: "Models" })).toContain('ModelSource.fromBlob: invalid container "Models"');
    expect(blob({ container: "a--b" })).toContain("consecutive hyphens");
    expect(blob({ container: undefined })).toContain("the container name is required");
    expect(ws({ datastoreContainer: "azureml-blobstore-x" })).toContain("set datastoreStorageAccountId too");
    expect(ws({ datastoreStorageAccountId: SA, datastoreContainer: "-bad" })).toContain('invalid datastoreContainer "-bad"');
  });

  test("path is a relative blob name or prefix", () => {
    expect(blob({ path: "" })).toContain('invalid path "": the path is empty');
    expect(blob({ path: "/models/churn" })).toContain("it starts with '/'");
    expect(blob({ path: "models//churn" })).toContain("empty segment");
    expect(blob({ path: "models/../churn" })).toContain("'.' or '..' segment");
    expect(blob({ path: "models\\churn" })).toContain("backslash");
    expect(blob({ path: "a".repeat(1025) })).toContain("over 1024");
    expect(blob({ path: "models/${file(\"/etc/passwd\")}" })).toContain("double quote");
    expect(blob({ path: "models/${x}" })).toContain("Terraform template sequences");
    expect(blob({ path: "models/o'brien" })).toContain("single quote");
    expect(blob({ path: "models/%{if}" })).toContain("Terraform template sequences");
    expect(() => ModelSource.fromBlob({ storageAccountId: SA, container: "models", path: "models/churn/" })).not.toThrow();
  });

  test("endpoints", () => {
    expect(reg({ armEndpoint: "http://management.azure.com" })).toContain("tokens must only travel over https");
    expect(ws({ armEndpoint: "https://management.azure.com/x" })).toContain("it has a path");
    expect(blob({ storageEndpointSuffix: "https://core.windows.net" })).toContain("not a lowercase DNS suffix");
  });

  test("props are required", () => {
    expect(message(() => ModelSource.fromBlob(undefined as any))).toContain("ModelSource.fromBlob: invalid props undefined: props are required");
  });
});

describe("the synthesized HCL parses (cdktf synth --hcl, terraform fmt)", () => {
  function hcl(model: (stack: TerraformStack) => IModelSource): string {
    const outdir = tempDir("aml-model-hcl-");
    const before = process.env.SYNTH_HCL_OUTPUT;
    process.env.SYNTH_HCL_OUTPUT = "true";
    try {
      const app = new App({ outdir, hclOutput: true });
      const stack = new TerraformStack(app, "scoring");
      new LocalBackend(stack, { path: "terraform.scoring.tfstate" });
      new AmlFunctionDeployment(stack, "churn", sampleProps({ model: model(stack) }));
      app.synth();
      return fs.readFileSync(path.join(outdir, "stacks", "scoring", "cdk.tf"), "utf8");
    } finally {
      if (before === undefined) delete process.env.SYNTH_HCL_OUTPUT;
      else process.env.SYNTH_HCL_OUTPUT = before;
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }
  const parses = (text: string) => {
    const r = spawnSync("terraform", ["fmt", "-check", "-no-color", "-"], { input: text });
    if (r.error) throw r.error;
    return r.status === 0 || r.status === 3;
  };

  test("literal references and a version from a Terraform variable", () => {
    const literal = hcl(() => ModelSource.fromBlob({ storageAccountId: SA, container: "models", path: "churn v3/model.joblib" }));
    expect(literal).toContain("AML_MODEL_SOURCE");
    expect(parses(literal)).toBe(true);
    const variable = hcl((stack) => ModelSource.fromAmlWorkspace({ workspaceId: WS, name: "churn", version: new TerraformVariable(stack, "v", { type: "string" }).stringValue }));
    expect(variable).toContain("jsonencode(");
    expect(parses(variable)).toBe(true);
  });
});
