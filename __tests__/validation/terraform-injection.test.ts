import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { App, DefaultTokenResolver, LocalBackend, StringConcat, TerraformStack, TerraformVariable, Token, Tokenization } from "cdktf";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { AmlFunctionDeployment, AmlFunctionDeploymentProps, BlobTrigger, HttpTrigger, ImageBuild, ModelSource, ScoringPlan, ScoringRegistry, ServiceBusTrigger } from "../../lib";
import { nextTokenNumber } from "../../lib/validation/token-provenance";
import { escapeTemplateSequences, terraformLiteral } from "../../lib/validation/terraform-literal";
import { validateResourceId } from "../../lib/validation/resource-id";
import { validateTags } from "../../lib/validation/tags";
import { validationMessage } from "../error-message";
import { mergeAppSettings } from "../../lib/app-settings";
import { newStack, sampleProps, SAMPLE_SCRIPT, synthJson } from "../helpers";
import { tempDir } from "../temp-dirs";

const O = "T";
const WORKSPACE = "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law-shared";
/** Reads a file when Terraform evaluates it (no quotes: see ISSUE_TEMPLATE for the issue's exact value). */
const HOSTILE_TEMPLATE = "${file(path.module)}";
const ESCAPED_TEMPLATE = "$${file(path.module)}";
/** The issue's value: refused, because its quotes cannot be written to HCL by cdktf once it holds `${`. */
const ISSUE_TEMPLATE = '${file("/etc/hostname")}';
const HOSTILE_DIRECTIVE = "%{ if true }x%{ endif }";

/** Full synth (JSON or `--hcl`) of one deployment; returns the stack's Terraform text. */
function synthText(props: Partial<AmlFunctionDeploymentProps>, hcl: boolean): string {
  const outdir = tempDir("aml-inject-");
  const before = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = hcl ? "true" : "false";
  try {
    const app = new App({ outdir, hclOutput: hcl });
    const stack = new TerraformStack(app, "scoring");
    new LocalBackend(stack, { path: "terraform.scoring.tfstate" });
    new AmlFunctionDeployment(stack, "churn", sampleProps(props));
    app.synth();
  } finally {
    if (before === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = before;
  }
  return fs.readFileSync(path.join(outdir, "stacks", "scoring", hcl ? "cdk.tf" : "cdk.tf.json"), "utf8");
}

/** `terraform fmt -check`: 0 formatted, 3 parses but needs formatting, 2 syntax error. */
function hclParses(hcl: string): boolean {
  const r = spawnSync("terraform", ["fmt", "-check", "-no-color", "-"], { input: hcl });
  if (r.error) throw r.error; // terraform is a documented test prerequisite
  return r.status === 0 || r.status === 3;
}

/** Every `${` / `%{` that Terraform would evaluate (not preceded by the escape character). */
function evaluatedSequences(text: string): string[] {
  return [...text.matchAll(/(?<![$])\$\{[^}]*\}?|(?<![%])%\{[^}]*\}?/g)].map((m) => m[0]);
}

describe("terraformLiteral: user text stays literal in Terraform", () => {
  test("escapes ${ and %{ (Terraform's $${ and %%{)", () => {
    expect(terraformLiteral(O, "p", HOSTILE_TEMPLATE)).toBe(ESCAPED_TEMPLATE);
    expect(terraformLiteral(O, "p", HOSTILE_DIRECTIVE)).toBe("%%{ if true }x%%{ endif }");
    expect(terraformLiteral(O, "p", "plain text, 100% fine: {braces} and $HOME")).toBe("plain text, 100% fine: {braces} and $HOME");
  });

  test("is idempotent (escaping twice changes nothing) and keeps references", () => {
    const once = escapeTemplateSequences(`a ${HOSTILE_TEMPLATE} b ${HOSTILE_DIRECTIVE}`);
    expect(escapeTemplateSequences(once)).toBe(once);
    const ref = Token.asString({ resolve: () => "x" });
    const mixed = terraformLiteral(O, "p", `pre-${ref}-${HOSTILE_TEMPLATE}`);
    expect(mixed).toBe(`pre-${ref}-${ESCAPED_TEMPLATE}`);
  });

  test.each<[string, string, string]>([
    ["a line break (HCL heredoc break-out)", "x\nEOF\nresource \"null_resource\" \"pwn\" {}\nEOF", "control character U+000A"],
    ["a carriage return", "a\rb", "U+000D"],
    ["a tab", "a\tb", "U+0009"],
    ["a Unicode line separator", "a\u2028b", "U+2028"],
    ["a backslash", "C:\\temp", "backslash"],
    ["a quote next to ${", '${x}" = 1', "double quote"],
    ["the issue's tag value ${file(\"/etc/hostname\")}", ISSUE_TEMPLATE, "contains a double quote together with '${'"],
  ])("refuses %s", (_label, value, problem) => {
    const m = validationMessage(() => terraformLiteral(O, "tags.k", value));
    expect(m).toMatch(/^T: invalid tags\.k "[\s\S]*": /);
    expect(m).toContain(problem);
  });

  test("refuses a '$' right before a reference (it would escape the reference)", () => {
    const ref = Token.asString({ resolve: () => "x" });
    expect(validationMessage(() => terraformLiteral(O, "p", `cost$${ref}`))).toContain("a '$' directly before a reference");
  });

  test("a quote without ${ is fine (cdktf escapes it in HCL)", () => {
    expect(terraformLiteral(O, "p", 'say "hi"')).toBe('say "hi"');
  });
});

describe("validateResourceId", () => {
  test("accepts resource ids, nested ids and tokens; checks the type case-insensitively", () => {
    expect(() => validateResourceId(O, "id", WORKSPACE, "Microsoft.OperationalInsights/workspaces")).not.toThrow();
    expect(() => validateResourceId(O, "id", WORKSPACE.replace("resourceGroups", "resourcegroups"), "microsoft.operationalinsights/Workspaces")).not.toThrow();
    expect(() => validateResourceId(O, "id", `${WORKSPACE.replace("OperationalInsights/workspaces/law-shared", "Storage/storageAccounts/st1")}/blobServices/default`)).not.toThrow();
    const stack = newStack();
    const v = new TerraformVariable(stack, "ws", { type: "string" });
    expect(() => validateResourceId(O, "id", v.stringValue, "Microsoft.OperationalInsights/workspaces")).not.toThrow();
    expect(() => validateResourceId(O, "id", `${v.stringValue}/blobServices/default`)).not.toThrow();
  });

  test.each<[string, string, string]>([
    ["a name", "law-shared", "not an Azure resource id"],
    ["a newline and EOF (HCL heredoc break-out)", `${WORKSPACE}\nEOF\nresource "null_resource" "pwn" {}\nEOF`, "not an Azure resource id"],
    ["a template", `${WORKSPACE}\${file("/etc/hostname")}`, "not an Azure resource id"],
    ["a subscription that is not a GUID", WORKSPACE.replace("00000000-0000-0000-0000-0000000000aa", "my-sub"), "not an Azure resource id"],
    ["a trailing slash", `${WORKSPACE}/`, "not an Azure resource id"],
    ["another resource type", WORKSPACE.replace("OperationalInsights/workspaces", "Storage/storageAccounts"), "names a Microsoft.Storage/storageAccounts, not a Microsoft.OperationalInsights/workspaces"],
  ])("refuses %s", (_label, value, problem) => {
    const m = validationMessage(() => validateResourceId(O, "logAnalyticsWorkspaceId", value, "Microsoft.OperationalInsights/workspaces"));
    expect(m).toContain("invalid logAnalyticsWorkspaceId");
    expect(m).toContain(problem);
    expect(m).toContain("Allowed: an Azure resource id");
  });

  test("refuses hostile text around a token", () => {
    const v = new TerraformVariable(newStack(), "ws", { type: "string" });
    expect(validationMessage(() => validateResourceId(O, "id", `${v.stringValue}\nEOF`))).toContain("cannot be part of a resource id");
  });
});

describe("validateTags: Azure's limits, plus nothing Terraform could evaluate", () => {
  test("escapes values and keeps names", () => {
    expect(validateTags(O, "tags", { env: "prod", note: HOSTILE_TEMPLATE })).toEqual({ env: "prod", note: ESCAPED_TEMPLATE });
    expect(validateTags(O, "tags", undefined)).toBeUndefined();
    expect(validateTags(O, "tags", { "cost-center": "" })).toEqual({ "cost-center": "" });
  });

  test.each<[string, { [k: string]: string }, string]>([
    ['a name with a quote and brace (k"})', { 'k"}': "v" }, 'contains "\\""'],
    ["a name with ${", { "${var.x}": "v" }, "contains '${'"],
    ...(["<", ">", "%", "&", "\\", "?", "/"].map((c) => [`a name with ${c}`, { [`a${c}b`]: "v" }, `contains ${JSON.stringify(c)}`]) as Array<[string, { [k: string]: string }, string]>),
    ["a name with a newline", { "a\nb": "v" }, "control character"],
    ["an empty name", { "": "v" }, "length 0"],
    ["a 129-character name (storage accounts allow 128)", { ["k".repeat(129)]: "v" }, "length 129"],
    ["the reserved prefix microsoft", { "Microsoft.Owner": "v" }, 'prefix "microsoft" is reserved'],
    ["the reserved prefix azure", { azureTeam: "v" }, 'prefix "azure" is reserved'],
    ["the reserved prefix windows", { windowsVersion: "v" }, 'prefix "windows" is reserved'],
    ["names differing only in case", { Env: "a", env: "b" }, 'same tag as "Env"'],
    ["a 257-character value", { k: "v".repeat(257) }, "length 257"],
    ["a value with a newline", { k: "a\nEOF" }, "control character"],
    ["a value with a backslash", { k: "a\\b" }, "backslash"],
  ])("refuses %s", (_label, tags, problem) => {
    const m = validationMessage(() => validateTags(O, "tags", tags));
    expect(m).toMatch(/^T: invalid tags/);
    expect(m).toContain(problem);
  });

  test("a 256-character value with ${ still fits once escaped, and escaping twice (deployment, then ScoringRegistry) is stable", () => {
    const value = `\${x}${"v".repeat(252)}`;
    expect(value).toHaveLength(256);
    const once = validateTags(O, "tags", { k: value })!;
    expect(once.k).toHaveLength(257);
    expect(validateTags(O, "tags", once)).toEqual(once);
  });

  test("refuses more than 50 tags", () => {
    const tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    expect(validationMessage(() => validateTags(O, "tags", tags))).toContain("at most 50 tags");
    expect(() => validateTags(O, "tags", Object.fromEntries(Object.entries(tags).slice(0, 50)))).not.toThrow();
  });
});

describe("app settings: names App Service accepts, no clash with the library's own, values escaped", () => {
  const lib = { from: "AmlFunctionDeployment", settings: { AZUREML_MODEL_DIR: "/var/azureml-app/azureml-models", AzureWebJobsStorage__credential: "managedidentity" } };
  const user = (settings: { [k: string]: string }) => mergeAppSettings("D", [lib, { from: "appSettings", settings }]);

  test("accepts letters, digits, '_' and '.', and escapes values", () => {
    expect(user({ "My.Setting_2": HOSTILE_TEMPLATE })["My.Setting_2"]).toBe(ESCAPED_TEMPLATE);
  });

  test.each<[string, { [k: string]: string }, string]>([
    ["an empty name", { "": "x" }, "the name is empty"],
    ["a name with a control character", { "A\nB": "x" }, "only letters, digits, '_' and '.'"],
    ["a name with a dash", { "MY-SETTING": "x" }, "only letters, digits, '_' and '.'"],
    ["a name with ${", { "${x}": "x" }, "only letters, digits, '_' and '.'"],
    ["the library's setting in another case", { azureml_model_dir: "/x" }, 'already set by AmlFunctionDeployment as "AZUREML_MODEL_DIR"'],
    ["the library's setting with '.' for '_' (the same variable on Linux)", { "AZUREML.MODEL.DIR": "/x" }, "reads '.' as '_'"],
    ["a provider-owned setting in another case", { functions_worker_runtime: "python" }, "managed by the azurerm provider"],
    ["a value with a newline", { OK: "a\nEOF" }, "control character"],
    // The Functions host reads `<connection>` (a connection string) before `<connection>__*`
    // (identity-based), and any `<connection>__*` key as part of that connection.
    ["a connection string for a connection the library makes with the identity", { azurewebjobsstorage: "DefaultEndpointsProtocol=https;AccountKey=k" }, "managed by the azurerm provider"],
    ["another part of a connection the library makes with the identity", { "AzureWebJobsStorage__blobServiceUri": "https://evil.blob.core.windows.net" }, 'the connection "AzureWebJobsStorage" that AmlFunctionDeployment configures'],
  ])("refuses %s", (_label, settings, problem) => {
    const m = validationMessage(() => user(settings));
    expect(m).toContain("invalid appSettings");
    expect(m).toContain(problem);
  });

  test("a trigger's connection: its connection string name and other parts are refused; the same settings from two triggers are fine", () => {
    const trigger = { from: 'trigger "score-queue"', settings: { AmlServiceBus__fullyQualifiedNamespace: "sb.servicebus.windows.net", AmlServiceBus__credential: "managedidentity" } };
    const merge = (settings: { [k: string]: string }) => mergeAppSettings("D", [lib, trigger, { from: "appSettings", settings }]);
    expect(validationMessage(() => merge({ AmlServiceBus: "Endpoint=sb://sb.servicebus.windows.net/;SharedAccessKey=k" }))).toContain('invalid appSettings "AmlServiceBus": it would change the connection "AmlServiceBus" that trigger "score-queue" configures');
    expect(validationMessage(() => merge({ "amlservicebus..ClientId": "x" }))).toContain('the connection "AmlServiceBus"');
    expect(merge({ AmlServiceBusExtra: "1", Other__x: "2" })).toMatchObject({ AmlServiceBusExtra: "1", Other__x: "2" });
    expect(mergeAppSettings("D", [lib, trigger, { ...trigger, from: 'trigger "other"' }])).toMatchObject(trigger.settings);
  });
});

describe("an entry script name that flows into settings and build args", () => {
  test.each(['${file(".env")}.py', "score me.py", "sc'ore.py", "-score.py"])("refuses %j", (name) => {
    const dir = tempDir("aml-script-");
    const file = path.join(dir, name);
    fs.copyFileSync(SAMPLE_SCRIPT, file);
    const m = validationMessage(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ entryScript: file })));
    expect(m).toContain("invalid entryScript");
    expect(m).toContain("Allowed: a file name of letters, digits, '_', '-' and '.'");
  });
});

describe("hostile input through a whole deployment, in JSON and HCL", () => {
  test("the issue's hostile props are refused at synth with the property named", () => {
    expect(validationMessage(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ tags: { host: ISSUE_TEMPLATE } })))).toContain('invalid tags.host "${file(\\"/etc/hostname\\")}"');
    expect(validationMessage(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ tags: { 'k"}': "v" } })))).toContain('invalid tags name "k\\"}"');
    expect(validationMessage(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ logAnalyticsWorkspaceId: `${WORKSPACE}\nEOF\nresource "null_resource" "pwn" {}\nEOF` })))).toContain("invalid logAnalyticsWorkspaceId");
    expect(validationMessage(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ registry: { id: "x", name: "acr01", loginServer: "acr01.azurecr.io", resourceGroupName: "rg" } })))).toContain("invalid registry.id");
    expect(validationMessage(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ registry: { id: WORKSPACE.replace("OperationalInsights/workspaces/law-shared", "ContainerRegistry/registries/acr01"), name: "acr01", loginServer: 'acr01.azurecr.io"\n', resourceGroupName: "rg" } })))).toContain("invalid registry.loginServer");
    expect(validationMessage(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ servicePlan: { id: "/subscriptions/x/plan" } as any })))).toContain("invalid servicePlan.id");
  });

  const hostile: Partial<AmlFunctionDeploymentProps> = {
    tags: { note: HOSTILE_TEMPLATE, flow: HOSTILE_DIRECTIVE, quoted: 'say "hi"' },
    appSettings: { USER_SETTING: HOSTILE_TEMPLATE, USER_DIRECTIVE: HOSTILE_DIRECTIVE },
    logAnalyticsWorkspaceId: WORKSPACE,
  };

  test("JSON: accepted values reach Terraform escaped, so nothing user-given is evaluated", () => {
    const text = synthText(hostile, false);
    const json = JSON.parse(text);
    const rg = Object.values<any>(json.resource.azurerm_resource_group)[0];
    expect(rg.tags).toEqual({ note: ESCAPED_TEMPLATE, flow: "%%{ if true }x%%{ endif }", quoted: 'say "hi"' });
    const app = Object.values<any>(json.resource.azurerm_linux_function_app)[0];
    expect(app.app_settings.USER_SETTING).toBe(ESCAPED_TEMPLATE);
    expect(app.app_settings.USER_DIRECTIVE).toBe("%%{ if true }x%%{ endif }");
    // Whatever Terraform evaluates is a reference or function the library wrote, never user text.
    const evaluated = evaluatedSequences(text);
    expect(evaluated.length).toBeGreaterThan(0);
    expect(evaluated.filter((e) => e.includes("file(") || e.startsWith("%{"))).toEqual([]);
    // The given workspace is used, and no workspace is created.
    expect(json.resource.azurerm_log_analytics_workspace).toBeUndefined();
    expect(Object.values<any>(json.resource.azurerm_application_insights)[0].workspace_id).toBe(WORKSPACE);
  });

  test("HCL: terraform parses the output and nothing user-given is evaluated", () => {
    const hcl = synthText(hostile, true);
    expect(hclParses(hcl)).toBe(true);
    expect(hcl).toContain(`note = "${ESCAPED_TEMPLATE}"`);
    expect(hcl).toContain('quoted = "say \\"hi\\""');
    expect(evaluatedSequences(hcl).filter((e) => e.includes("file(") || e.startsWith("%{"))).toEqual([]);
    expect(hcl).not.toMatch(/null_resource/);
  });

  test("HCL and JSON with blob and Service Bus triggers: paths with '${' in output descriptions, ABAC condition, custom role, diagnostic settings", () => {
    const triggers = [new BlobTrigger({ inputPath: "input/${name}.json", outputPath: "output/${name}.out.json" }), new ServiceBusTrigger()];
    const json = JSON.parse(synthText({ ...hostile, triggers }, false));
    expect(json.output.churn_blob_input_container.description).toBe("Upload blobs to score here (path input/$${name}.json)");
    expect(evaluatedSequences(JSON.stringify(json)).filter((e) => e.includes("{name}") || e.includes("file(") || e.startsWith("%{"))).toEqual([]);
    const hcl = synthText({ ...hostile, triggers: [new BlobTrigger({ inputPath: "input/${name}.json", outputPath: "output/${name}.out.json" }), new ServiceBusTrigger()] }, true);
    expect(hclParses(hcl)).toBe(true);
    expect(hcl).toContain('resource "azurerm_monitor_diagnostic_setting"');
    expect(hcl).toContain('resource "azurerm_role_definition"');
    expect(hcl).toContain("StringEquals '$logs'");
    expect(evaluatedSequences(hcl).filter((e) => e.includes("{name}") || e.includes("file(") || e.startsWith("%{"))).toEqual([]);
  });

  test("the HCL parse check itself fails on the break-out the issue describes (so the test above can fail)", () => {
    expect(hclParses('resource "a" "b" {\n  tags = {\n    "k"}" = "v"\n  }\n}\n')).toBe(false);
  });
});

describe("forged cdktf token markers (issue 15, review finding 2)", () => {
  const REG = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-shared/providers/Microsoft.MachineLearningServices/registries/shared-models";
  const STORAGE = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata01";

  /** What a marker stands for, as Terraform will see it. */
  const resolved = (stack: TerraformStack, marker: string): unknown => Tokenization.resolve(marker, { scope: stack, resolver: new DefaultTokenResolver(new StringConcat()) });

  /** The markers of every token made from `from` on, whose Terraform text contains `fragment`. */
  function markersResolvingTo(stack: TerraformStack, from: number, fragment: string): string[] {
    const found: string[] = [];
    // Taken once: resolving (and asking for the next number) makes tokens too.
    const to = nextTokenNumber();
    for (let i = from; i < to; i++) {
      const marker = `\${TfToken[TOKEN.${i}]}`;
      let text: unknown;
      try {
        Tokenization.reverseString(marker);
        text = resolved(stack, marker);
      } catch {
        continue;
      }
      if (typeof text === "string" && text.includes(fragment)) found.push(marker);
    }
    return found;
  }

  /** A stack with one deployment built locally (so it has the registry push password); the markers of its secrets. */
  function stackWithSecrets() {
    const stack = newStack();
    const from = nextTokenNumber();
    const churn = new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.localDocker() }));
    const password = markersResolvingTo(stack, from, "azurerm_container_registry_token_password");
    const insights = markersResolvingTo(stack, from, ".connection_string}");
    return { stack, churn, password, insights, from };
  }

  test("the issue's reproduction: a marker as a tag value that would become the push password or App Insights connection string is refused, naming the property and value", () => {
    const { stack, password, insights } = stackWithSecrets();
    // The markers really resolve to the secrets (so the refusals below are about them).
    expect(password.length).toBeGreaterThan(0);
    expect(insights.length).toBeGreaterThan(0);
    expect(resolved(stack, password[0])).toMatch(/^\$\{azurerm_container_registry_token_password\.[^.]+\.password1\[0\]\.value\}$/);
    expect(resolved(stack, insights[0])).toMatch(/^\$\{azurerm_application_insights\.[^.]+\.connection_string\}$/);
    const m = validationMessage(() => new AmlFunctionDeployment(stack, "fraud", sampleProps({ tags: { owner: password[0] } })));
    expect(m).toContain(`invalid tags.owner "${password[0]}"`);
    expect(m).toContain("names a value this library made inside a deployment");
    const s = validationMessage(() => new AmlFunctionDeployment(stack, "fraud2", sampleProps({ appSettings: { TELEMETRY: `x-${insights[0]}` } })));
    expect(s).toContain(`invalid appSettings.TELEMETRY "x-${insights[0]}"`);
    // Nothing of the refused deployments reached the configuration.
    const json = synthJson(stack);
    expect(Object.keys(json.resource.azurerm_linux_function_app)).toHaveLength(1);
    expect(JSON.stringify(json.resource.azurerm_resource_group)).not.toContain("password");
  });

  test("the exact literal ${TfToken[TOKEN.21]} in a fresh app, and a marker for a token the deployment would make later, are refused", () => {
    // The 21st token made after this point: with one deployment, one of its own resources' attributes.
    for (const marker of ["${TfToken[TOKEN.21]}", `\${TfToken[TOKEN.${nextTokenNumber() + 21}]}`]) {
      const known = (() => {
        try {
          Tokenization.reverseString(marker);
          return true;
        } catch {
          return false;
        }
      })();
      const m = validationMessage(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ tags: { team: marker } })));
      expect(m).toContain(`invalid tags.team "${marker}"`);
      // Either it names no token yet (a reference to the deployment's own resources once made), or one the library made earlier.
      expect(m).toMatch(known ? /names (a value this library made|none this app made)/ : /names none this app made/);
    }
  });

  test.each<[string, (marker: string) => Partial<AmlFunctionDeploymentProps>, string]>([
    ["a tag value", (x) => ({ tags: { env: x } }), "tags.env"],
    ["an app setting", (x) => ({ appSettings: { KV: `@Microsoft.KeyVault(SecretUri=${x})` } }), "appSettings.KV"],
    ["the resource group's name", (x) => ({ resourceGroup: { name: x } }), "resourceGroup.name"],
    ["the Log Analytics workspace id", (x) => ({ logAnalyticsWorkspaceId: x }), "logAnalyticsWorkspaceId"],
    ["a registry ref", (x) => ({ registry: { id: x, name: "acr01", loginServer: "acr01.azurecr.io", resourceGroupName: "rg" } }), "registry.id"],
    ["the model's registry id", (x) => ({ model: ModelSource.fromAmlRegistry({ registryId: x, name: "churn", version: "7" }) }), "model.registryId"],
    ["the model's storage account id", (x) => ({ model: ModelSource.fromBlob({ storageAccountId: x, container: "models", path: "churn" }) }), "model.storageAccountId"],
    ["a blob trigger's storage account", (x) => ({ triggers: [new BlobTrigger({ storageAccount: { id: STORAGE, name: "stdata01", primaryBlobEndpoint: x, primaryQueueEndpoint: "https://stdata01.queue.core.windows.net/" } })] }), "triggers[0].storageAccount.primaryBlobEndpoint"],
    ["a Service Bus trigger's namespace", (x) => ({ triggers: [new ServiceBusTrigger({ namespace: { id: x, name: "sb-scoring" } })] }), "triggers[0].namespace.id"],
  ])("every user value that reaches the configuration is checked: %s", (_label, props, prop) => {
    const { stack, insights } = stackWithSecrets();
    const m = validationMessage(() => new AmlFunctionDeployment(stack, "fraud", sampleProps(props(insights[0]))));
    expect(m).toContain(`invalid ${prop} "`);
    expect(m).toContain("names a value this library made inside a deployment");
  });

  test("ScoringRegistry and ScoringPlan check their props too; a number that encodes a token, and list or map markers, are refused", () => {
    const { stack, insights } = stackWithSecrets();
    expect(validationMessage(() => new ScoringRegistry(stack, "shared", { name: "acrshared01", location: "westeurope", resourceGroupName: "rg", tags: { t: insights[0] } }))).toContain("invalid tags.t");
    expect(validationMessage(() => new ScoringPlan(stack, "plan", { name: "plan-shared", location: "westeurope", resourceGroupName: insights[0] }))).toContain("invalid resourceGroupName");
    // A number in cdktf's token encoding (top 16 bits 0xfdff, the token's number below) for a
    // token the app never made, as a number and written into a string.
    const words = new Uint32Array([2 ** 31, 0xfdff0000]);
    const forgedNumber = new Float64Array(words.buffer)[0];
    expect(Token.isUnresolved(forgedNumber)).toBe(true);
    expect(validationMessage(() => new AmlFunctionDeployment(stack, "f1", sampleProps({ scaling: { maximumInstances: forgedNumber } })))).toContain("invalid scaling.maximumInstances");
    expect(validationMessage(() => new AmlFunctionDeployment(stack, "f2", sampleProps({ tags: { n: String(forgedNumber) } })))).toContain("is how cdktf writes a number token");
    expect(validationMessage(() => new AmlFunctionDeployment(stack, "f3", sampleProps({ tags: { l: "#{TfToken[TOKEN.1]}" } })))).toContain("list or map token marker");
    expect(validationMessage(() => new AmlFunctionDeployment(stack, "f4", sampleProps({ appSettings: { "&{TfToken[TOKEN.1]}": "x" } })))).toContain("list or map token marker");
  });

  test("tokens the user's code made still work: their resources, variables, and a deployment's public values and resource attributes", () => {
    const { stack, churn } = stackWithSecrets();
    const owner = new TerraformVariable(stack, "owner", { type: "string" });
    const rg = new ResourceGroup(stack, "rg", { name: "rg-shared-kv", location: "westeurope" });
    new AmlFunctionDeployment(stack, "fraud", sampleProps({
      resourceGroup: { name: churn.resourceGroupName },
      tags: { owner: owner.stringValue, group: `rg-${rg.name}` },
      appSettings: { CHURN_URL: churn.scoringUrl!, CHURN_HOST: churn.functionApp.defaultHostname, CHURN_IMAGE: churn.image.imageReference },
      model: ModelSource.fromAmlRegistry({ registryId: REG, name: "fraud", version: "1" }),
    }));
    const json = synthJson(stack);
    const fraud = Object.entries<any>(json.resource.azurerm_linux_function_app).find(([id]) => id.startsWith("fraud_"))![1];
    expect(fraud.app_settings.CHURN_HOST).toMatch(/^\$\{azurerm_linux_function_app\.churn_function-app_[^.]+\.default_hostname\}$/);
    expect(fraud.app_settings.CHURN_URL).toMatch(/^https:\/\/\$\{azurerm_linux_function_app\.churn_function-app_[^.]+\.default_hostname\}\/api\//);
    expect(fraud.tags).toEqual({ owner: "${var.owner}", group: expect.stringMatching(/^rg-\$\{azurerm_resource_group\.rg\.name\}$/) });
    expect(fraud.resource_group_name).toMatch(/^\$\{azurerm_resource_group\.churn_resource-group_[^.]+\.name\}$/);
  });

  test("fields written into the image at synth (queue names, routes, function names, blob paths) take no token at all, not even one the user's code made", () => {
    const v = new TerraformVariable(newStack(), "name", { type: "string" }).stringValue;
    const cases: Array<[string, () => unknown]> = [
      ["inputQueueName", () => new ServiceBusTrigger({ inputQueueName: v })],
      ["outputQueueName", () => new ServiceBusTrigger({ outputQueueName: v })],
      ["failedQueueName", () => new ServiceBusTrigger({ cardinality: "many", failedQueueName: v })],
      ["route", () => new HttpTrigger({ route: v })],
      ["functionName", () => new HttpTrigger({ functionName: v })],
      ["inputPath", () => new BlobTrigger({ inputPath: `input/${v}.json` })],
      ["outputPath", () => new BlobTrigger({ outputPath: `output/${v}.json` })],
    ];
    for (const [prop, make] of cases) expect(validationMessage(make)).toContain(`invalid ${prop}`);
  });

  test("every public string value of a deployment can be passed to another one", () => {
    const { stack, churn } = stackWithSecrets();
    const values = [...Object.entries(churn), ...Object.entries(churn.image).map(([k, v]) => [`image.${k}`, v] as const)].filter(([, v]) => typeof v === "string") as Array<[string, string]>;
    expect(values.map(([k]) => k)).toEqual(expect.arrayContaining(["resourceGroupName", "scoringUrl", "image.imageReference"]));
    new AmlFunctionDeployment(stack, "fraud", sampleProps({ appSettings: Object.fromEntries(values.map(([k, v]) => [k.replace(/\./g, "_"), v])) }));
    expect(() => synthJson(stack)).not.toThrow();
  });
});
