import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { App, LocalBackend, TerraformStack } from "cdktf";
import { buildExampleApp, ExampleAppOptions, main } from "../../main";
import { DataAzurermContainerRegistry } from "@cdktf/provider-azurerm/lib/data-azurerm-container-registry";
import { DataAzurermServicebusNamespace } from "@cdktf/provider-azurerm/lib/data-azurerm-servicebus-namespace";
import { DataAzurermStorageAccount } from "@cdktf/provider-azurerm/lib/data-azurerm-storage-account";
import { AmlFunctionDeployment, BlobTrigger, ImageBuild, ModelSource, prepareHandOff, ServiceBusTrigger } from "../../lib";
import { sampleProps } from "../helpers";
import { tempDir } from "../temp-dirs";
import { unquoteReferences } from "../../lib/hand-off/hcl-fixes";
import { stackReadme } from "../../lib/hand-off/stack-readme";
import { REPO } from "../helpers";

// The example uses paths relative to the project root, as `npm run synth` does.
process.chdir(REPO);

const TERRAFORM = execFileSync("bash", ["-lc", "command -v terraform || true"]).toString().trim();

/** Synthesizes the example app into `outdir` the way `npm run synth [-- --hcl]` does. */
function synth(outdir: string, hcl: boolean): string {
  const before = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = hcl ? "true" : "false";
  try {
    const app = new App({ outdir, hclOutput: hcl });
    buildExampleApp(app);
    app.synth();
    const result = prepareHandOff(app);
    expect(result.warnings).toEqual([]);
    expect(result.stackDirectories).toEqual(["stacks/aml-churn"]);
  } finally {
    if (before === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = before;
  }
  return path.join(outdir, "stacks", "aml-churn");
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/**
 * The top-level blocks of an HCL file as `kind label label`, found by a brace-aware scan that
 * skips strings and heredocs: enough to compare the HCL with the JSON it was made from.
 */
function topLevelBlocks(hcl: string): string[] {
  const blocks: string[] = [];
  let depth = 0;
  let line = "";
  for (let i = 0; i < hcl.length; i++) {
    const c = hcl[i];
    if (c === '"') {
      let j = i + 1;
      while (j < hcl.length && hcl[j] !== '"') j += hcl[j] === "\\" ? 2 : 1;
      if (depth === 0) line += hcl.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === "<" && hcl.startsWith("<<", i)) {
      const m = /^<<-?([A-Z]+)\n/.exec(hcl.slice(i));
      if (m) {
        const end = hcl.indexOf(`\n${m[1]}`, i + m[0].length);
        const close = hcl.slice(end + 1).search(new RegExp(`^\\s*${m[1]}`, "m"));
        i = end + 1 + close + m[1].length;
        continue;
      }
    }
    if (c === "{") {
      if (depth === 0) blocks.push(line.trim().replace(/"/g, "").replace(/\s+/g, " "));
      depth++;
    } else if (c === "}") depth--;
    else if (c === "\n") line = "";
    else if (depth === 0) line += c;
  }
  expect(depth).toBe(0);
  return blocks.sort();
}

/** The same list from the Terraform JSON. */
function jsonBlocks(json: any): string[] {
  const out: string[] = ["terraform"];
  for (const [type, byId] of Object.entries<any>(json.resource ?? {})) for (const id of Object.keys(byId)) out.push(`resource ${type} ${id}`);
  for (const [type, byId] of Object.entries<any>(json.data ?? {})) for (const id of Object.keys(byId)) out.push(`data ${type} ${id}`);
  for (const name of Object.keys(json.output ?? {})) out.push(`output ${name}`);
  for (const name of Object.keys(json.variable ?? {})) out.push(`variable ${name}`);
  for (const [name, list] of Object.entries<any>(json.provider ?? {})) for (let i = 0; i < list.length; i++) out.push(`provider ${name}`);
  return out.sort();
}

describe("hand-off: a stack folder plain Terraform takes as it is", () => {
  const outdir = tempDir("aml-handoff-");
  const stackDir = synth(outdir, false);
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  synth(outdir, true); // HCL into the same outdir, as `npm run synth` then `npm run synth -- --hcl`
  const hcl = fs.readFileSync(path.join(stackDir, "cdk.tf"), "utf8");

  test("only one configuration is left: no stale cdk.tf.json beside cdk.tf", () => {
    const configs = fs.readdirSync(stackDir).filter((f) => f.endsWith(".tf") || f.endsWith(".tf.json"));
    expect(configs).toEqual(["cdk.tf"]);
  });

  test("terraform fmt -check -recursive passes on the folder", () => {
    expect(TERRAFORM).not.toBe(""); // README: terraform (any 1.x) is a test prerequisite
    const r = spawnSync(TERRAFORM, ["fmt", "-check", "-recursive", "-no-color"], { cwd: stackDir, encoding: "utf8" });
    expect(r.stdout).toBe(""); // fmt -check lists the files it would change
    expect(r.status).toBe(0);
  });

  test("the HCL declares exactly what the JSON does", () => {
    expect(topLevelBlocks(hcl)).toEqual(jsonBlocks(json));
    expect(hcl).toMatch(/backend "local" \{\s*path = "terraform.tfstate"\s*\}/);
  });

  test("depends_on references are unquoted", () => {
    const lists = [...hcl.matchAll(/depends_on\s*=\s*\[([^\]]*)\]/g)].map((m) => m[1]);
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) {
      expect(list).not.toContain('"');
      expect(list).toMatch(/azurerm_role_assignment\.\S+/);
    }
  });

  test("state inside the folder, and no path of this machine anywhere in it", () => {
    expect(json.terraform.backend.local.path).toBe("terraform.tfstate");
    // (Not bare /tmp: the Dockerfile uses /tmp inside the image.)
    const machinePaths = [REPO, outdir, os.homedir()].filter((p) => p.length > 1);
    for (const file of filesUnder(stackDir)) {
      const text = fs.readFileSync(file, "utf8");
      for (const p of machinePaths) expect({ file: path.relative(stackDir, file), has: text.includes(p) }).toEqual({ file: path.relative(stackDir, file), has: false });
    }
  });

  test("README.md says what it creates, the providers and versions, variables and outputs", () => {
    const readme = fs.readFileSync(path.join(stackDir, "README.md"), "utf8");
    expect(readme).toContain("terraform init");
    for (const [name, p] of Object.entries<any>(json.terraform.required_providers)) expect(readme).toContain(`| ${name} | \`${p.source}\` | \`${p.version}\` |`);
    for (const [type, byId] of Object.entries<any>(json.resource)) for (const id of Object.keys(byId)) expect(readme).toContain(`\`${type}.${id}\``);
    for (const [name, o] of Object.entries<any>(json.output)) expect(readme).toContain(`| ${name} | ${o.description}`);
    expect(readme).toContain("## Variables");
    expect(readme).toContain("`cdk.tf` is the whole configuration");
  });

  test("README.md of a stack that builds locally says apply needs a Docker engine; the ACR one does not", () => {
    expect(fs.readFileSync(path.join(stackDir, "README.md"), "utf8")).not.toContain("Docker engine");
    const local = stackReadme("local", "cdk.tf.json", { resource: { docker_image: { image: { name: "x" } } } }, true);
    expect(local).toContain("`terraform apply` builds the image with `docker_image`: the machine that applies needs a running Docker engine");
  });

  test("and back: JSON after HCL removes cdk.tf and metadata.json", () => {
    synth(outdir, false);
    expect(fs.readdirSync(stackDir).sort()).toEqual(["README.md", "assets", "cdk.tf.json"]);
    expect(fs.readFileSync(path.join(stackDir, "README.md"), "utf8")).toContain("`cdk.tf.json` is the whole configuration");
  });

  test("earlier versions of the stack's assets and assets nothing refers to are removed, the current ones kept", () => {
    const current = fs.readdirSync(path.join(stackDir, "assets"), { recursive: true }).map(String).filter((f) => f.split(path.sep).length === 2);
    expect(current.length).toBeGreaterThan(0);
    // An earlier version of a current asset (another content hash), and an asset nothing refers to.
    const stale = path.join(stackDir, "assets", current[0].split(path.sep)[0], "feedface");
    const unknown = path.join(stackDir, "assets", "someone_elses_0123ABCD", "cafe");
    for (const d of [stale, unknown]) {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, "Dockerfile"), "FROM scratch\n");
    }
    synth(outdir, false);
    expect(fs.existsSync(stale)).toBe(false);
    // The folder handed over holds only what its configuration uses.
    expect(fs.existsSync(path.dirname(unknown))).toBe(false);
    const config = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
    for (const c of current) {
      expect(fs.existsSync(path.join(stackDir, "assets", c))).toBe(true);
      expect(config).toContain(`assets/${c.split(path.sep).join("/")}`);
    }
  });

  test("the README is deterministic", () => {
    const first = fs.readFileSync(path.join(stackDir, "README.md"));
    synth(outdir, false);
    expect(fs.readFileSync(path.join(stackDir, "README.md")).equals(first)).toBe(true);
  });
});

describe("stack README: what the deployer needs", () => {
  const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000";
  const WORKSPACE = `${SUB}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-team`;
  const MODEL_ACCOUNT = `${SUB}/resourceGroups/rg-models/providers/Microsoft.Storage/storageAccounts/stmodels`;

  /** A stack that grants on other teams' resources: workspace, datastore, model storage, registry, namespace, storage account. */
  function synthShared(): { readme: string; json: any } {
    const outdir = tempDir("aml-deployer-");
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "shared");
    new LocalBackend(stack, { path: "terraform.tfstate" });
    const registry = new DataAzurermContainerRegistry(stack, "registry", { name: "crshared", resourceGroupName: "rg-platform" });
    const bus = new DataAzurermServicebusNamespace(stack, "bus", { name: "sb-team-shared", resourceGroupName: "rg-messaging" });
    const account = new DataAzurermStorageAccount(stack, "blobs", { name: "stteamblobs", resourceGroupName: "rg-data" });
    new AmlFunctionDeployment(stack, "churn", sampleProps({
      registry,
      model: ModelSource.fromAmlWorkspace({ workspaceId: WORKSPACE, name: "churn", version: "3" }),
      triggers: [new ServiceBusTrigger({ namespace: bus }), new BlobTrigger({ storageAccount: account })],
    }));
    new AmlFunctionDeployment(stack, "fraud", sampleProps({
      imageBuild: ImageBuild.localDocker(),
      model: ModelSource.fromBlob({ storageAccountId: MODEL_ACCOUNT, container: "models", path: "fraud/3" }),
    }));
    app.synth();
    prepareHandOff(app, { printWarnings: false });
    const dir = path.join(outdir, "stacks", "shared");
    return { readme: fs.readFileSync(path.join(dir, "README.md"), "utf8"), json: JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8")) };
  }
  const section = (readme: string): string => readme.slice(readme.indexOf("## What the deployer needs"), readme.indexOf("## Required providers"));

  test("the roles on the target scope, and the Blob Data Contributor an ACR build's first apply needs", () => {
    const needs = section(synthShared().readme);
    expect(needs).toContain("On the subscription (it creates the resource groups `rg-churn`, `rg-fraud`): **Contributor**, to create the resources, and **User Access Administrator** (or **Owner** instead of both)");
    expect(needs).toContain("custom role definitions");
    expect(needs).toContain("**Storage Blob Data Contributor** on the same scope: `terraform apply` uploads the image build context");
    expect(needs).toContain("403 AuthorizationPermissionMismatch");
  });

  test("every scope outside the stack that gets a grant is listed with its role and grantee; the stack's own resources are not", () => {
    const { readme, json } = synthShared();
    const needs = section(readme);
    // Independently of the README code: scopes that are literal ids or data sources.
    const outside = Object.values<any>(json.resource.azurerm_role_assignment).filter((r) => r.scope.startsWith("/subscriptions/") || r.scope.startsWith("${data."));
    expect(outside.length).toBeGreaterThanOrEqual(7);
    for (const r of outside) expect(needs).toContain(`| \`${r.scope}\``);
    expect(needs).toContain(`| \`${WORKSPACE}\` | Reader | identity \`id-churn\` |`);
    expect(needs).toContain(`| \`${SUB}/resourceGroups/rg-ml\` | Storage Blob Data Reader | identity \`id-churn\` |`);
    expect(needs).toContain(`| \`${MODEL_ACCOUNT}/blobServices/default/containers/models\` | Storage Blob Data Reader | identity \`id-fraud\` |`);
    expect(needs).toContain("| `${data.azurerm_container_registry.registry.id}` (`crshared` in resource group `rg-platform`) | AcrPull | identity `id-churn` |");
    expect(needs).toContain("| `${data.azurerm_container_registry.registry.id}` (`crshared` in resource group `rg-platform`) | AcrPush | identity `id-churn-build` |");
    expect(needs).toMatch(/\| `\$\{data\.azurerm_storage_account\.blobs\.id\}` \(`stteamblobs` in resource group `rg-data`\) \| custom role `AML blob trigger [^`]+` \| identity `id-churn` \|/);
    expect(needs).toMatch(/defines custom role `AML blob trigger/);
    expect(needs).toContain("the custom role definition (`Microsoft.Authorization/roleDefinitions/write`, which both roles include), is written there");
    // Created in the stack: host storage, App Insights, the build container.
    expect(needs).not.toContain("Storage Table Data Contributor");
    expect(needs).not.toContain("Monitoring Metrics Publisher");
    // Resources created inside other teams' resources: queues in the namespace, containers in the account.
    expect(needs).toContain("- `${data.azurerm_servicebus_namespace.bus.id}` (`sb-team-shared` in resource group `rg-messaging`): `azurerm_servicebus_queue`");
    expect(needs).toContain("- `${data.azurerm_storage_account.blobs.id}` (`stteamblobs` in resource group `rg-data`): `azurerm_storage_container`");
  });

  test("a registry model source: the registry gets the assignment, its resource group the custom role's definition", () => {
    const outdir = tempDir("aml-deployer-");
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "registry");
    new LocalBackend(stack, { path: "terraform.tfstate" });
    const registryGroup = `${SUB}/resourceGroups/rg-shared`;
    const registryId = `${registryGroup}/providers/Microsoft.MachineLearningServices/registries/shared-models`;
    new AmlFunctionDeployment(stack, "churn", sampleProps({ model: ModelSource.fromAmlRegistry({ registryId, name: "churn", version: "7" }) }));
    app.synth();
    prepareHandOff(app, { printWarnings: false });
    const needs = section(fs.readFileSync(path.join(outdir, "stacks", "registry", "README.md"), "utf8"));
    expect(needs).toMatch(new RegExp(`\\| \`${registryId}\` \\| custom role \`AML registry model reader churn [0-9a-z]+ on shared-models\` \\| identity \`id-churn\` \\|`));
    expect(needs).toMatch(new RegExp(`\\| \`${registryGroup}\` \\| defines custom role \`AML registry model reader churn [0-9a-z]+ on shared-models\` \\| — \\|`));
    expect(needs).toContain("`Microsoft.Authorization/roleDefinitions/write`");
  });

  test("a stack that grants only on what it creates says so; a local build needs no Blob Data Contributor", () => {
    const outdir = tempDir("aml-deployer-");
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "own");
    new LocalBackend(stack, { path: "terraform.tfstate" });
    new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.localDocker() }));
    app.synth();
    prepareHandOff(app);
    const needs = section(fs.readFileSync(path.join(outdir, "stacks", "own", "README.md"), "utf8"));
    expect(needs).toContain("Nothing outside the stack: every role it grants is on a resource it creates.");
    expect(needs).not.toContain("Storage Blob Data Contributor");
    expect(needs).not.toContain("custom role definitions");
  });
});

describe("warnings reach the user on the route they run (node main.js: no cdktf CLI)", () => {
  const WORKSPACE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-team";
  /** An app whose deployment gives a synth warning: Blob Data Reader on the workspace's whole resource group. */
  const buildWithWarning = (app: App, options: ExampleAppOptions): void => {
    const stack = new TerraformStack(app, "warned");
    new LocalBackend(stack, { path: options.statePath ?? "terraform.tfstate" });
    new AmlFunctionDeployment(stack, "churn", sampleProps({ model: ModelSource.fromAmlWorkspace({ workspaceId: WORKSPACE, name: "churn", version: "3" }) }));
  };
  const DATASTORE_WARNING = "the model's datastore storage is not known, so Storage Blob Data Reader is granted on the workspace's resource group";

  /** Runs `fn` with stderr captured; returns what it printed there. */
  function stderrOf(fn: () => void): string {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      fn();
    } finally {
      spy.mockRestore();
    }
    return written.join("");
  }

  test("main.ts (what npm run synth runs) prints the constructs' synth warnings to stderr, with the construct path", () => {
    const outdir = tempDir("aml-warned-");
    const before = { outdir: process.env.CDKTF_OUTDIR, hcl: process.env.SYNTH_HCL_OUTPUT };
    process.env.CDKTF_OUTDIR = outdir;
    let code = -1;
    try {
      const printed = stderrOf(() => {
        code = main([], buildWithWarning);
      });
      expect(code).toBe(0);
      expect(printed).toContain(`warning: [warned/churn/model] AmlFunctionDeployment "churn": ${DATASTORE_WARNING}`);
      expect(printed.split("\n").filter((l) => l.includes(DATASTORE_WARNING))).toHaveLength(1);
    } finally {
      for (const [key, value] of [["CDKTF_OUTDIR", before.outdir], ["SYNTH_HCL_OUTPUT", before.hcl]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    // The warning was only in manifest.json before: it still is (the cdktf CLI reads it there).
    expect(fs.readFileSync(path.join(outdir, "manifest.json"), "utf8")).toContain(DATASTORE_WARNING);
  });

  test("prepareHandOff returns the synth warnings before its own, and prints them unless printWarnings is false", () => {
    const outdir = tempDir("aml-warned-");
    const app = new App({ outdir });
    buildWithWarning(app, { statePath: "/abs/terraform.tfstate" });
    app.synth();
    let result: ReturnType<typeof prepareHandOff> | undefined;
    expect(stderrOf(() => {
      result = prepareHandOff(app, { printWarnings: false });
    })).toBe("");
    expect(result!.warnings).toEqual([
      expect.stringContaining(`[warned/churn/model] AmlFunctionDeployment "churn": ${DATASTORE_WARNING}`),
      expect.stringContaining("stacks/warned: the local state path /abs/terraform.tfstate is an absolute path"),
    ]);
    const printed = stderrOf(() => prepareHandOff(app));
    expect(printed).toBe(result!.warnings.map((w) => `warning: ${w}\n`).join(""));
  });
});

describe("HCL fixes", () => {
  test("unquoteReferences unquotes the addresses in replace_triggered_by, and Terraform then accepts them", () => {
    // terraform_data is Terraform's built-in resource: `terraform validate` runs without downloading a provider.
    const quoted = 'resource "terraform_data" "a" {\n  input = "x"\n}\nresource "terraform_data" "b" {\n  lifecycle {\n    replace_triggered_by = [\n      "terraform_data.a",\n    ]\n  }\n}\n';
    const validate = (hcl: string) => {
      const dir = tempDir("hcl-fix-");
      fs.writeFileSync(path.join(dir, "main.tf"), hcl);
      // init parses the configuration too: a failure there is a rejection as well.
      const init = spawnSync("terraform", ["init", "-backend=false", "-input=false", "-no-color"], { cwd: dir, encoding: "utf8" });
      if (init.status !== 0) return init.status;
      return spawnSync("terraform", ["validate", "-no-color"], { cwd: dir, encoding: "utf8" }).status;
    };
    expect(validate(quoted)).not.toBe(0);
    const fixed = unquoteReferences(quoted);
    expect(fixed).toContain("replace_triggered_by = [\n      terraform_data.a,\n    ]");
    expect(validate(fixed)).toBe(0);
  });

  test("unquoteReferences unquotes references in depends_on lists only", () => {
    const before = 'a = "x.y"\ndepends_on = [\n"azurerm_role_assignment.a_B1",\n"data.azurerm_client_config.c",\n]\nb = ["p.q"]\n';
    expect(unquoteReferences(before)).toBe('a = "x.y"\ndepends_on = [\nazurerm_role_assignment.a_B1,\ndata.azurerm_client_config.c,\n]\nb = ["p.q"]\n');
  });

  test("a stack without a backend (cdktf's default: an absolute state path of this machine) gives a warning that says what to do", () => {
    const outdir = tempDir("aml-nobackend-");
    const app = new App({ outdir });
    new AmlFunctionDeployment(new TerraformStack(app, "plain"), "churn", sampleProps());
    app.synth();
    const result = prepareHandOff(app);
    expect(result.warnings).toEqual([expect.stringContaining("stacks/plain: the local state path /")]);
    expect(result.warnings[0]).toContain('new LocalBackend(stack, { path: "terraform.tfstate" })');
  });

  test("prepareHandOff before app.synth() says so", () => {
    const app = new App({ outdir: tempDir("aml-nosynth-") });
    expect(() => prepareHandOff(app)).toThrow(/after app.synth\(\)/);
  });

  test("hclOutput without SYNTH_HCL_OUTPUT (cdktf then writes JSON into cdk.tf): a clear error, no terraform fmt output", () => {
    const outdir = tempDir("aml-hcl-json-");
    const before = process.env.SYNTH_HCL_OUTPUT;
    delete process.env.SYNTH_HCL_OUTPUT;
    try {
      const app = new App({ outdir, hclOutput: true });
      buildExampleApp(app);
      app.synth();
      expect(fs.readFileSync(path.join(outdir, "stacks", "aml-churn", "cdk.tf"), "utf8").trimStart()).toMatch(/^\{/);
      expect(() => prepareHandOff(app)).toThrow(
        "prepareHandOff: stacks/aml-churn/cdk.tf holds JSON, not HCL: new App({ hclOutput: true }) also needs SYNTH_HCL_OUTPUT=true in the environment before the stacks are created",
      );
    } finally {
      if (before !== undefined) process.env.SYNTH_HCL_OUTPUT = before;
    }
  });

  test("without a terraform binary the HCL is still written, with a warning", () => {
    const outdir = tempDir("aml-nofmt-");
    process.env.SYNTH_HCL_OUTPUT = "true";
    try {
      const app = new App({ outdir, hclOutput: true });
      buildExampleApp(app);
      app.synth();
      const result = prepareHandOff(app, { terraformBinary: path.join(outdir, "no-such-terraform") });
      expect(result.warnings).toEqual([expect.stringContaining("no terraform binary")]);
      expect(fs.readFileSync(path.join(outdir, "stacks", "aml-churn", "cdk.tf"), "utf8")).not.toMatch(/depends_on = \[\s*"/);
    } finally {
      delete process.env.SYNTH_HCL_OUTPUT;
    }
  });
});
