import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { App, LocalBackend, TerraformStack, TerraformVariable, Token } from "cdktf";
import { AmlFunctionDeployment, AmlFunctionDeploymentProps, BlobTrigger, ServiceBusTrigger, ValidationError } from "../lib";
import { escapeTemplateSequences, terraformLiteral } from "../lib/validation/terraform-literal";
import { validateResourceId } from "../lib/validation/resource-id";
import { validateTags } from "../lib/validation/tags";
import { mergeAppSettings } from "../lib/app-settings";
import { newStack, sampleProps, SAMPLE_SCRIPT } from "./helpers";
import { tempDir } from "./temp-dirs";

const O = "T";
const WORKSPACE = "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law-shared";
/** Reads a file when Terraform evaluates it (no quotes: see ISSUE_TEMPLATE for the issue's exact value). */
const HOSTILE_TEMPLATE = "${file(path.module)}";
const ESCAPED_TEMPLATE = "$${file(path.module)}";
/** The issue's value: refused, because its quotes cannot be written to HCL by cdktf once it holds `${`. */
const ISSUE_TEMPLATE = '${file("/etc/hostname")}';
const HOSTILE_DIRECTIVE = "%{ if true }x%{ endif }";

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error("expected a ValidationError");
}

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
    const m = errorOf(() => terraformLiteral(O, "tags.k", value));
    expect(m).toMatch(/^T: invalid tags\.k "[\s\S]*": /);
    expect(m).toContain(problem);
  });

  test("refuses a '$' right before a reference (it would escape the reference)", () => {
    const ref = Token.asString({ resolve: () => "x" });
    expect(errorOf(() => terraformLiteral(O, "p", `cost$${ref}`))).toContain("a '$' directly before a reference");
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
    const m = errorOf(() => validateResourceId(O, "logAnalyticsWorkspaceId", value, "Microsoft.OperationalInsights/workspaces"));
    expect(m).toContain("invalid logAnalyticsWorkspaceId");
    expect(m).toContain(problem);
    expect(m).toContain("Allowed: an Azure resource id");
  });

  test("refuses hostile text around a token", () => {
    const v = new TerraformVariable(newStack(), "ws", { type: "string" });
    expect(errorOf(() => validateResourceId(O, "id", `${v.stringValue}\nEOF`))).toContain("cannot be part of a resource id");
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
    const m = errorOf(() => validateTags(O, "tags", tags));
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
    expect(errorOf(() => validateTags(O, "tags", tags))).toContain("at most 50 tags");
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
    const m = errorOf(() => user(settings));
    expect(m).toContain("invalid appSettings");
    expect(m).toContain(problem);
  });

  test("a trigger's connection: its connection string name and other parts are refused; the same settings from two triggers are fine", () => {
    const trigger = { from: 'trigger "score-queue"', settings: { AmlServiceBus__fullyQualifiedNamespace: "sb.servicebus.windows.net", AmlServiceBus__credential: "managedidentity" } };
    const merge = (settings: { [k: string]: string }) => mergeAppSettings("D", [lib, trigger, { from: "appSettings", settings }]);
    expect(errorOf(() => merge({ AmlServiceBus: "Endpoint=sb://sb.servicebus.windows.net/;SharedAccessKey=k" }))).toContain('invalid appSettings "AmlServiceBus": it would change the connection "AmlServiceBus" that trigger "score-queue" configures');
    expect(errorOf(() => merge({ "amlservicebus..ClientId": "x" }))).toContain('the connection "AmlServiceBus"');
    expect(merge({ AmlServiceBusExtra: "1", Other__x: "2" })).toMatchObject({ AmlServiceBusExtra: "1", Other__x: "2" });
    expect(mergeAppSettings("D", [lib, trigger, { ...trigger, from: 'trigger "other"' }])).toMatchObject(trigger.settings);
  });
});

describe("an entry script name that flows into settings and build args", () => {
  test.each(['${file(".env")}.py', "score me.py", "sc'ore.py", "-score.py"])("refuses %j", (name) => {
    const dir = tempDir("aml-script-");
    const file = path.join(dir, name);
    fs.copyFileSync(SAMPLE_SCRIPT, file);
    const m = errorOf(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ entryScript: file })));
    expect(m).toContain("invalid entryScript");
    expect(m).toContain("Allowed: a file name of letters, digits, '_', '-' and '.'");
  });
});

describe("hostile input through a whole deployment, in JSON and HCL", () => {
  test("the issue's hostile props are refused at synth with the property named", () => {
    expect(errorOf(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ tags: { host: ISSUE_TEMPLATE } })))).toContain('invalid tags.host "${file(\\"/etc/hostname\\")}"');
    expect(errorOf(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ tags: { 'k"}': "v" } })))).toContain('invalid tags name "k\\"}"');
    expect(errorOf(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ logAnalyticsWorkspaceId: `${WORKSPACE}\nEOF\nresource "null_resource" "pwn" {}\nEOF` })))).toContain("invalid logAnalyticsWorkspaceId");
    expect(errorOf(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ registry: { id: "x", name: "acr01", loginServer: "acr01.azurecr.io", resourceGroupName: "rg" } })))).toContain("invalid registry.id");
    expect(errorOf(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ registry: { id: WORKSPACE.replace("OperationalInsights/workspaces/law-shared", "ContainerRegistry/registries/acr01"), name: "acr01", loginServer: 'acr01.azurecr.io"\n', resourceGroupName: "rg" } })))).toContain("invalid registry.loginServer");
    expect(errorOf(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ servicePlan: { id: "/subscriptions/x/plan" } as any })))).toContain("invalid servicePlan.id");
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
