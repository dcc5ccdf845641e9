import * as fs from "fs";
import * as path from "path";
import { spawnSync } from "child_process";
import { App, TerraformStack } from "cdktf";
import * as tar from "tar";
import { parse } from "yaml";
import { AmlFunctionDeployment, BlobTrigger, HttpTrigger, IImageBuild, ImageBuild, prepareHandOff, RegistrySku, ScoringRegistry, ServiceBusTrigger } from "../../../lib";
import { STAGING_DIR_ENV, stagingRoot } from "../../../lib/image/build-context";
import { AZURE_CLI_IMAGE, buildTaskYaml, shellQuote } from "../../../lib/image/build/task-yaml";
import { newStack, onlyResource, refTo, resourcesOf, SAMPLE_MODEL, sampleProps, synthJson } from "../../helpers";
import { imageView } from "../../context-view";
import { tempDir } from "../../temp-dirs";
import { schemaProblems } from "../../schema-check";
import { fakeTarget } from "../../fake-target";
import { buildExampleApp } from "../../../main";

/** The task's YAML, decoded and parsed. */
function taskYaml(task: any): any {
  return parse(Buffer.from(task.encoded_step.task_content, "base64").toString("utf8"));
}

/** How /bin/sh splits a command line into words (ACR runs `cmd` steps through `/bin/sh -c`). */
function shellWords(line: string): string[] {
  const r = spawnSync("sh", ["-c", `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split("\0").slice(0, -1);
}

function deploy(imageBuild?: IImageBuild) {
  const stack = newStack();
  new AmlFunctionDeployment(stack, "churn", sampleProps(imageBuild === undefined ? {} : { imageBuild }));
  return synthJson(stack);
}

describe("ImageBuild.acrTask() is the default build", () => {
  const json = deploy();
  const app = onlyResource(json, "azurerm_linux_function_app");
  const tag: string = app.site_config.application_stack.docker[0].image_tag;
  const task = onlyResource(json, "azurerm_container_registry_task");
  const steps = taskYaml(task).steps;
  const blob = onlyResource(json, "azurerm_storage_blob");
  const run = onlyResource(json, "azurerm_container_registry_task_schedule_run_now");
  const taskIdentity = refTo(json, "azurerm_user_assigned_identity", "client_id", (r) => r.name === "id-churn-build");
  const buildStorage = Object.values(resourcesOf(json, "azurerm_storage_account")).find((a: any) => a.name.startsWith("stchurnbld")) as any;
  const containerId = refTo(json, "azurerm_storage_container", "id");

  test("no docker provider and no docker resource: nothing needs a Docker engine", () => {
    expect(Object.keys(json.provider)).toEqual(["azurerm"]);
    expect(Object.keys(json.terraform.required_providers)).toEqual(["azurerm"]);
    expect(Object.keys(json.resource).filter((t) => t.startsWith("docker_"))).toEqual([]);
  });

  test("every new resource conforms to the azurerm 4.55.0 schema", () => {
    expect(schemaProblems(json)).toEqual([]);
  });

  test("the archive goes as a blob named after the fingerprint into a private container of a keyless account", () => {
    expect(tag).toMatch(/^[0-9a-f]{64}$/);
    expect(buildStorage).toMatchObject({ shared_access_key_enabled: false, allow_nested_items_to_be_public: false, min_tls_version: "TLS1_2", https_traffic_only_enabled: true });
    expect(onlyResource(json, "azurerm_storage_container")).toMatchObject({ name: "build-contexts", container_access_type: "private", storage_account_id: refTo(json, "azurerm_storage_account", "id", (a) => a === buildStorage) });
    expect(blob).toMatchObject({ name: `${tag}.tar.gz`, type: "Block", storage_account_name: refTo(json, "azurerm_storage_account", "name", (a) => a === buildStorage) });
    expect(blob.source).toMatch(new RegExp(`^\\$\\{path\\.module\\}/assets/[^/]+/${tag}/[^/]+\\.tar\\.gz$`));
    // The provider reaches the data plane through Azure AD: the account has no key to use.
    expect(json.provider.azurerm[0].storage_use_azuread).toBe(true);
  });

  test("the task YAML signs in as the task identity and downloads with Azure AD auth", () => {
    const fetch = steps[0];
    expect(fetch.id).toBe("fetch-context");
    const words = shellWords(fetch.cmd);
    expect(words.slice(0, 3)).toEqual([AZURE_CLI_IMAGE, "bash", "-ec"]);
    expect(AZURE_CLI_IMAGE).toMatch(/^mcr\.microsoft\.com\/azure-cli:\d+\.\d+\.\d+$/);
    const script = words[3].split(" && ");
    expect(words).toHaveLength(4);
    expect(script[0]).toBe('az login --identity --username "$TASK_IDENTITY_CLIENT_ID" --allow-no-subscriptions --output none');
    expect(fetch.env).toEqual(["TASK_IDENTITY_CLIENT_ID={{.Values.taskIdentityClientId}}"]);
    expect(task.encoded_step.values).toEqual({ taskIdentityClientId: taskIdentity });
    expect(script[1]).toBe(`az storage blob download --auth-mode login --account-name ${buildStorage.name} --container-name build-contexts --name ${tag}.tar.gz --file /workspace/context.tar.gz --no-progress --output none`);
    expect(script.slice(2)).toEqual(["rm -rf /workspace/context", "mkdir -p /workspace/context", "python3 -m tarfile -e /workspace/context.tar.gz /workspace/context"]);
    expect(fetch.retries).toBeGreaterThan(0);
  });

  test("the task YAML builds for linux/amd64 with the build args and pushes <repository>:<fingerprint>", () => {
    const image = `{{.Run.Registry}}/aml/churn:${tag}`;
    expect(steps.map((s: any) => s.id)).toEqual(["fetch-context", "build", "push"]);
    expect(steps[1].build.split(" ")).toEqual(["-t", image, "-f", "context/Dockerfile", "--platform", "linux/amd64", "--build-arg", "AZUREML_ENTRY_SCRIPT=score.py", "--build-arg", "PYTHON_VERSION=3.11", "context"]);
    expect(steps[1].cache).toBeUndefined();
    expect(steps[1].build).not.toContain("buildcache");
    // No cache, no BuildKit: the step keeps ACR's default builder.
    expect(steps[1].env).toBeUndefined();
    expect(steps[2].push).toEqual([image]);
    expect(taskYaml(task)).toMatchObject({ version: "v1.1.0", stepTimeout: 3600 });
    expect(app.site_config.application_stack.docker[0].image_name).toBe("aml/churn");
  });

  test("the task: its own identity, the registry login through it only, linux/amd64, the timeout", () => {
    expect(task).toMatchObject({
      name: `build-churn-${task.name.split("-")[2]}-${tag.slice(0, 12)}`,
      container_registry_id: refTo(json, "azurerm_container_registry", "id"),
      platform: { os: "Linux", architecture: "amd64" },
      identity: { type: "UserAssigned", identity_ids: [refTo(json, "azurerm_user_assigned_identity", "id", (r) => r.name === "id-churn-build")] },
      registry_credential: {
        source: { login_mode: "None" },
        custom: [{ login_server: refTo(json, "azurerm_container_registry", "login_server"), identity: taskIdentity }],
      },
      timeout_in_seconds: 3600,
      agent_setting: { cpu: 2 },
    });
    expect(task.docker_step).toBeUndefined();
    expect(task.encoded_step.context_access_token).toBeUndefined();
    expect(task.registry_credential.custom[0].password).toBeUndefined();
    expect(task.agent_pool_name).toBeUndefined();
  });

  test("the run: of the task whose name holds the fingerprint, after the upload and the grants", () => {
    // container_registry_task_id forces a new run-now resource, and the task's name (which forces a
    // new task) holds the fingerprint: a new context, a new task, a new run. No lifecycle block:
    // cdktf's HCL would quote replace_triggered_by references, which Terraform rejects.
    expect(task.name).toMatch(/^build-churn-[0-9a-f]{8}-[0-9a-f]{12}$/);
    expect(task.name.endsWith(`-${tag.slice(0, 12)}`)).toBe(true);
    expect(task.name.length).toBeLessThanOrEqual(50);
    expect(run.container_registry_task_id).toBe(refTo(json, "azurerm_container_registry_task", "id"));
    expect(run.lifecycle).toBeUndefined();
    const blobId = refTo(json, "azurerm_storage_blob", "id").slice(2, -4);
    const grant = (role: string) => refTo(json, "azurerm_role_assignment", "id", (r) => r.role_definition_name === role && r.principal_id.includes("churn_image_identity")).slice(2, -4);
    expect(run.depends_on.sort()).toEqual([blobId, grant("Storage Blob Data Reader"), grant("AcrPush")].sort());
    expect(run.timeouts.create).toBe("75m");
  });

  test("the function app waits for the run", () => {
    expect(app.depends_on).toContain(refTo(json, "azurerm_container_registry_task_schedule_run_now", "id").slice(2, -4));
  });

  test("role assignments: exactly the ones listed, nothing wider", () => {
    const got = Object.values(resourcesOf(json, "azurerm_role_assignment")).map((r: any) => `${r.role_definition_name} @ ${r.scope} -> ${r.principal_id}`).sort();
    const appId = refTo(json, "azurerm_user_assigned_identity", "principal_id", (r) => r.name === "id-churn");
    const buildId = refTo(json, "azurerm_user_assigned_identity", "principal_id", (r) => r.name === "id-churn-build");
    const host = refTo(json, "azurerm_storage_account", "id", (a) => a.name.startsWith("stchurn") && !a.name.startsWith("stchurnbld"));
    const registry = refTo(json, "azurerm_container_registry", "id");
    const deployer = "${data.azurerm_client_config." + Object.keys(json.data.azurerm_client_config)[0] + ".object_id}";
    expect(got).toEqual([
      `AcrPull @ ${registry} -> ${appId}`,
      `AcrPush @ ${registry} -> ${buildId}`,
      `Monitoring Metrics Publisher @ ${refTo(json, "azurerm_application_insights", "id")} -> ${appId}`,
      `Storage Blob Data Contributor @ ${containerId} -> ${deployer}`,
      `Storage Blob Data Owner @ ${host} -> ${appId}`,
      `Storage Blob Data Reader @ ${containerId} -> ${buildId}`,
      `Storage Queue Data Contributor @ ${host} -> ${appId}`,
      `Storage Table Data Contributor @ ${host} -> ${appId}`,
    ].sort());
    // The upload waits for the deployer's grant.
    expect(blob.depends_on).toEqual([refTo(json, "azurerm_role_assignment", "id", (r) => r.principal_id === deployer).slice(2, -4)]);
  });

  test("no key, SAS, password or token anywhere in the JSON or the outputs", () => {
    const keys: string[] = [];
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === "string") strings.push(v);
      else if (Array.isArray(v)) v.forEach((x) => walk(x));
      else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          keys.push(k);
          walk(x);
        }
      }
    };
    walk(json);
    strings.push(Buffer.from(task.encoded_step.task_content, "base64").toString("utf8"));
    expect(keys.filter((k) => /password|secret|access_token|sas_|_sas|account_key/i.test(k))).toEqual([]);
    for (const account of Object.values(resourcesOf(json, "azurerm_storage_account")) as any[]) expect(account.shared_access_key_enabled).toBe(false);
    expect(strings.filter((s) => /sig=|AccountKey=|SharedAccessSignature|primary_access_key|password/i.test(s))).toEqual([]);
    expect(Object.values(json.output).filter((o: any) => o.sensitive)).toEqual([]);
  });
});

describe("the example app (the README's main job)", () => {
  test("builds in Azure: an ACR task, no docker provider", () => {
    const app = new App({ outdir: tempDir("acr-main-") });
    const json = JSON.parse(require("cdktf").Testing.synth(buildExampleApp(app)));
    expect(Object.keys(json.provider)).toEqual(["azurerm"]);
    expect(Object.keys(resourcesOf(json, "azurerm_container_registry_task"))).toHaveLength(1);
    expect(Object.keys(json.resource).filter((t) => t.startsWith("docker_"))).toEqual([]);
  });
});

describe("ImageBuild.acrTask() options", () => {
  test("timeout, layer cache and agent pool reach the task, its steps and the run", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.acrTask({ timeoutSeconds: 7200, cacheFromPreviousImage: true, agentPoolName: "vnet-pool" }), registrySku: RegistrySku.PREMIUM }));
    const json = synthJson(stack);
    const task = onlyResource(json, "azurerm_container_registry_task");
    expect(task).toMatchObject({ timeout_in_seconds: 7200, agent_pool_name: "vnet-pool" });
    expect(task.agent_setting).toBeUndefined();
    const yaml = taskYaml(task);
    expect(yaml.stepTimeout).toBe(7200);
    // The previous image's layers, through a stable tag that every build also pushes.
    const image = yaml.steps[2].push[0];
    const cacheImage = image.replace(/:[0-9a-f]{64}$/, ":buildcache");
    expect(cacheImage).toBe("{{.Run.Registry}}/aml/churn:buildcache");
    const words = yaml.steps[1].build.split(" ");
    expect(words.slice(0, 7)).toEqual(["-t", image, "-t", cacheImage, "--cache-from", cacheImage, "--build-arg"]);
    expect(words[7]).toBe("BUILDKIT_INLINE_CACHE=1");
    expect(yaml.steps[2].push).toEqual([image, cacheImage]);
    expect(yaml.steps[1].cache).toBeUndefined();
    // ACR's builder runs `docker build` with DOCKER_BUILDKIT=0 unless the step's env holds exactly
    // this entry, and the classic builder ignores the inline cache: without it nothing is reused.
    expect(yaml.steps[1].env).toEqual(["DOCKER_BUILDKIT=1"]);
    expect(yaml.steps.filter((s: any) => s.env?.some((e: string) => e.startsWith("DOCKER_BUILDKIT"))).map((s: any) => s.id)).toEqual(["build"]);
    expect(onlyResource(json, "azurerm_container_registry_task_schedule_run_now").timeouts.create).toBe("135m");
    expect(schemaProblems(json)).toEqual([]);
  });

  test.each([
    [{ timeoutSeconds: 299 }, /ImageBuild\.acrTask: invalid timeoutSeconds 299: out of range\. Allowed: a whole number of seconds from 300/],
    [{ timeoutSeconds: 28801 }, /invalid timeoutSeconds 28801.*28800/],
    [{ timeoutSeconds: 600.5 }, /invalid timeoutSeconds 600\.5/],
    [{ cpu: 4 }, /invalid cpu 4: not a CPU count of the Azure-hosted build agent\. Allowed: 2/],
    [{ cpu: 2, agentPoolName: "pool1" }, /invalid cpu 2: a dedicated agent pool's tier decides/],
    [{ cacheFromPreviousImage: "yes" as unknown as boolean }, /invalid cacheFromPreviousImage "yes": not a boolean\. Allowed: true or false/],
    [{ agentPoolName: "x" }, /invalid agentPoolName "x".*3-20 letters, digits and hyphens/],
    [{ timeout: 600 } as object, /ImageBuild\.acrTask: invalid timeout 600: not an option of the ACR build\. Allowed: timeoutSeconds, cpu, cacheFromPreviousImage, agentPoolName/],
  ])("refuses %j", (options, message) => {
    expect(() => ImageBuild.acrTask(options)).toThrow(message);
  });

  test("an agent pool needs a Premium registry: refused at synth for a registry known to be Standard or Basic", () => {
    const pool = ImageBuild.acrTask({ agentPoolName: "vnet-pool" });
    // The deployment's own registry (Standard by default).
    expect(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ imageBuild: pool }))).toThrow(
      'AmlFunctionDeployment "churn": invalid imageBuild.agentPoolName "vnet-pool": the registry\'s SKU is Standard, and agent pools exist in Premium registries only. Allowed: a Premium registry (registrySku: RegistrySku.PREMIUM, or a ScoringRegistry with that sku), or no agentPoolName (the shared ACR agents)',
    );
    // A shared registry of this library.
    const stack = newStack();
    const basic = new ScoringRegistry(stack, "shared", { name: "sharedregistry01", location: "westeurope", resourceGroupName: "rg-shared", sku: RegistrySku.BASIC });
    expect(() => new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.acrTask({ agentPoolName: "vnet-pool" }), registry: basic }))).toThrow(/the registry's SKU is Basic/);
    const premium = new ScoringRegistry(stack, "premium", { name: "sharedregistry02", location: "westeurope", resourceGroupName: "rg-shared", sku: RegistrySku.PREMIUM });
    new AmlFunctionDeployment(stack, "scored", sampleProps({ imageBuild: ImageBuild.acrTask({ agentPoolName: "vnet-pool" }), registry: premium }));
    // An existing registry: its SKU is known at apply only, so the pool is passed on.
    const existing = { id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-x/providers/Microsoft.ContainerRegistry/registries/existingreg", name: "existingreg", loginServer: "existingreg.azurecr.io", resourceGroupName: "rg-x" };
    new AmlFunctionDeployment(stack, "other", sampleProps({ imageBuild: ImageBuild.acrTask({ agentPoolName: "vnet-pool" }), registry: existing }));
    const tasks = Object.values(resourcesOf(synthJson(stack), "azurerm_container_registry_task")) as Array<{ agent_pool_name?: string }>;
    expect(tasks.map((t) => t.agent_pool_name)).toEqual(["vnet-pool", "vnet-pool"]);
  });
});

describe("rebuilds follow the fingerprint", () => {
  function synthWithScript(text: string) {
    const dir = tempDir("acr-fp-");
    fs.writeFileSync(path.join(dir, "score.py"), text);
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ entryScript: path.join(dir, "score.py") }));
    return synthJson(stack);
  }
  const script = "def init():\n    pass\n\ndef run(data):\n    return data\n";

  test("unchanged input: identical Terraform (same blob, same task, same run: nothing to apply)", () => {
    expect(synthWithScript(script)).toEqual(synthWithScript(script));
  });

  test("a changed script: a new blob, a new task name (so a new run) and a new tag", () => {
    const a = synthWithScript(script);
    const b = synthWithScript(`${script}# changed\n`);
    const name = (j: any) => onlyResource(j, "azurerm_storage_blob").name;
    expect(name(b)).not.toBe(name(a));
    expect(onlyResource(b, "azurerm_linux_function_app").site_config.application_stack.docker[0].image_tag).toBe(name(b).replace(/\.tar\.gz$/, ""));
    // A new task name (forces a new task, hence a new run), and nothing else about the task moves
    // but what names the new context.
    const task = (j: any) => onlyResource(j, "azurerm_container_registry_task");
    expect(task(b).name).not.toBe(task(a).name);
    expect(task(b).name.endsWith(name(b).slice(0, 12))).toBe(true);
    const { name: _na, encoded_step: _ea, ...restA } = task(a);
    const { name: _nb, encoded_step: _eb, ...restB } = task(b);
    expect(restB).toEqual(restA);
    // The run: a new resource address (its id carries the fingerprint prefix), so the plan
    // destroys the old run-now and creates one new run; the app waits for the new one.
    const runKey = (j: any) => Object.keys(resourcesOf(j, "azurerm_container_registry_task_schedule_run_now"));
    expect(runKey(a)).toHaveLength(1);
    expect(runKey(b)).toHaveLength(1);
    expect(runKey(b)[0]).not.toBe(runKey(a)[0]);
    expect(runKey(b)[0]).toContain(`run-${name(b).slice(0, 12)}`);
    expect(onlyResource(b, "azurerm_linux_function_app").depends_on).toContain(`azurerm_container_registry_task_schedule_run_now.${runKey(b)[0]}`);
  });
});

describe("a full synth puts the archive into the stack's assets", () => {
  test("the blob's source exists relative to the stack folder and lists the staged context", async () => {
    const outdir = tempDir("acr-assets-");
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "scoring");
    new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new HttpTrigger(), new BlobTrigger(), new ServiceBusTrigger()] }));
    app.synth();
    const stackDir = path.join(outdir, "stacks", "scoring");
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    const source: string = onlyResource(json, "azurerm_storage_blob").source;
    const file = path.join(stackDir, source.replace("${path.module}/", ""));
    expect(fs.existsSync(file)).toBe(true);
    const entries: string[] = [];
    await tar.t({ file, onReadEntry: (e) => entries.push(e.path) });
    expect(entries).toEqual(expect.arrayContaining(["Dockerfile", "app/score/function.json", "app/score-blob/function.json", "app/score-queue/function.json", "model-small-files.tar", "model/.packed", "source/score.py"]));
    expect([...entries].sort()).toEqual(entries);
    // The sample model (21 KB) is in the pack, and unpacks to the same bytes.
    const unpacked = tempDir("acr-assets-unpacked-");
    await tar.x({ file, cwd: unpacked });
    expect(imageView(unpacked)["model/churn/model.joblib"].equals(fs.readFileSync(path.join(SAMPLE_MODEL, "model.joblib")))).toBe(true);
    // The stack folder holds no docker asset: the archive is the only copy of the context.
    expect(fs.readdirSync(path.join(stackDir, "assets"))).toHaveLength(1);
  });

  test("the archive is hard-linked, not copied, and an unchanged re-synth rewrites neither it nor the asset", () => {
    const outdir = tempDir("acr-assets-again-");
    const synthOnce = (): { json: string; file: string } => {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, "scoring");
      new AmlFunctionDeployment(stack, "churn", sampleProps());
      app.synth();
      const stackDir = path.join(outdir, "stacks", "scoring");
      const json = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
      const source: string = onlyResource(JSON.parse(json), "azurerm_storage_blob").source;
      return { json, file: path.join(stackDir, source.replace("${path.module}/", "")) };
    };
    const first = synthOnce();
    const before = fs.statSync(first.file, { bigint: true });
    // The stack's file and the staged archive are one inode where both are on one file system
    // (a copy otherwise).
    const archive = path.join(stagingRoot(), path.basename(first.file));
    const sameFs = fs.statSync(stagingRoot()).dev === fs.statSync(outdir).dev;
    expect(fs.statSync(archive).ino === Number(before.ino)).toBe(sameFs);
    expect(fs.readFileSync(archive).equals(fs.readFileSync(first.file))).toBe(true);
    const second = synthOnce();
    expect(second.json).toBe(first.json);
    expect(second.file).toBe(first.file);
    const after = fs.statSync(second.file, { bigint: true });
    expect([after.ino, after.mtimeNs, after.ctimeNs]).toEqual([before.ino, before.mtimeNs, before.ctimeNs]);
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  test("under umask 077 the archive (the stack asset) is still 0644 and the asset folders 0755, in both build modes", () => {
    const outdir = tempDir("acr-assets-umask-");
    // A staging root of its own, so the archive is written now (under this umask), not reused.
    const saved = process.env[STAGING_DIR_ENV];
    process.env[STAGING_DIR_ENV] = path.join(outdir, "staging");
    const umask = process.umask(0o077);
    try {
      const app = new App({ outdir });
      new AmlFunctionDeployment(new TerraformStack(app, "acr"), "churn", sampleProps());
      new AmlFunctionDeployment(new TerraformStack(app, "local"), "churn", sampleProps({ imageBuild: ImageBuild.localDocker() }));
      app.synth();
      const mode = (p: string): number => fs.statSync(p).mode & 0o777;
      const acrDir = path.join(outdir, "stacks", "acr");
      const source: string = onlyResource(JSON.parse(fs.readFileSync(path.join(acrDir, "cdk.tf.json"), "utf8")), "azurerm_storage_blob").source;
      const archive = path.join(acrDir, source.replace("${path.module}/", ""));
      expect(mode(archive)).toBe(0o644);
      for (let d = path.dirname(archive); d !== acrDir; d = path.dirname(d)) expect([d, mode(d)]).toEqual([d, 0o755]);
      const localAssets = path.join(outdir, "stacks", "local", "assets");
      expect(mode(localAssets)).toBe(0o755);
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          expect([p, mode(p)]).toEqual([p, e.isDirectory() ? 0o755 : 0o644]);
          if (e.isDirectory()) walk(p);
        }
      };
      walk(localAssets);
    } finally {
      process.umask(umask);
      if (saved === undefined) delete process.env[STAGING_DIR_ENV];
      else process.env[STAGING_DIR_ENV] = saved;
    }
  });

  test("the ACR build stages no folder: a rewritten archive comes from the inputs, not from a planted staged file", async () => {
    const outdir = tempDir("acr-assets-lazy-");
    // A staging root of its own: other tests stage the same fingerprint as a folder (local build).
    const saved = process.env[STAGING_DIR_ENV];
    process.env[STAGING_DIR_ENV] = path.join(outdir, "staging");
    try {
      const synthOnce = (): string => {
        const app = new App({ outdir });
        new AmlFunctionDeployment(new TerraformStack(app, "scoring"), "churn", sampleProps());
        app.synth();
        const stackDir = path.join(outdir, "stacks", "scoring");
        const source: string = onlyResource(JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")), "azurerm_storage_blob").source;
        return path.join(stackDir, source.replace("${path.module}/", ""));
      };
      const file = synthOnce();
      const archive = path.join(stagingRoot(), path.basename(file));
      const folder = archive.replace(/\.tar\.gz$/, "");
      expect(fs.existsSync(archive)).toBe(true);
      expect(fs.existsSync(folder)).toBe(false);
      // A staged folder planted where the local build would stage this context is never read.
      const planted = path.join(folder, "source", "score.py");
      fs.mkdirSync(path.dirname(planted), { recursive: true });
      fs.writeFileSync(planted, "planted\n");
      synthOnce();
      // The archive must be written again (its sidecar is gone): from the inputs.
      fs.rmSync(`${archive}.json`);
      const again = synthOnce();
      let shipped = "";
      await tar.x({ file: again, cwd: fs.mkdtempSync(path.join(outdir, "x-")), onReadEntry: (e) => {
        if (e.path === "source/score.py") e.on("data", (d: Buffer) => (shipped += d.toString("utf8")));
      } });
      expect(shipped).not.toBe("");
      expect(shipped).not.toContain("planted");
    } finally {
      if (saved === undefined) delete process.env[STAGING_DIR_ENV];
      else process.env[STAGING_DIR_ENV] = saved;
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe.each([
  ["acrTask", () => ImageBuild.acrTask()],
  ["localDocker", () => ImageBuild.localDocker()],
])("both build modes (%s)", (mode, build) => {
  test("all three triggers in one deployment: schema-valid, one image for all", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: build(), triggers: [new HttpTrigger(), new BlobTrigger(), new ServiceBusTrigger()] }));
    const json = synthJson(stack);
    expect(schemaProblems(json)).toEqual([]);
    const builds = mode === "acrTask" ? resourcesOf(json, "azurerm_container_registry_task") : resourcesOf(json, "docker_registry_image");
    expect(Object.keys(builds)).toHaveLength(1);
    expect(Object.keys(json.provider).sort()).toEqual(mode === "acrTask" ? ["azurerm"] : ["azurerm", "docker"]);
  });

  test("a ScoringRegistry shared by two deployments: each pushes its own repository", () => {
    const stack = newStack();
    const registry = new ScoringRegistry(stack, "acr", { name: "sharedscoringacr", location: "westeurope", resourceGroupName: "rg-shared" });
    new AmlFunctionDeployment(stack, "churn", sampleProps({ registry, imageBuild: build() }));
    new AmlFunctionDeployment(stack, "fraud", sampleProps({ registry, imageBuild: build() }));
    const json = synthJson(stack);
    expect(schemaProblems(json)).toEqual([]);
    const registryId = refTo(json, "azurerm_container_registry", "id");
    const apps = Object.values(resourcesOf(json, "azurerm_linux_function_app")) as any[];
    expect(apps.map((a) => a.site_config.application_stack.docker[0].image_name).sort()).toEqual(["aml/churn", "aml/fraud"]);
    if (mode === "acrTask") {
      const tasks = Object.values(resourcesOf(json, "azurerm_container_registry_task")) as any[];
      expect(tasks.map((t) => t.container_registry_id)).toEqual([registryId, registryId]);
      expect(new Set(tasks.map((t) => t.name)).size).toBe(2);
      expect(tasks.map((t) => taskYaml(t).steps[2].push[0].split(":")[0]).sort()).toEqual(["{{.Run.Registry}}/aml/churn", "{{.Run.Registry}}/aml/fraud"]);
      const accounts = (Object.values(resourcesOf(json, "azurerm_storage_account")) as any[]).map((a) => a.name);
      expect(new Set(accounts).size).toBe(accounts.length);
      const pushes = (Object.values(resourcesOf(json, "azurerm_role_assignment")) as any[]).filter((r) => r.role_definition_name === "AcrPush");
      expect(pushes.map((p) => p.scope)).toEqual([registryId, registryId]);
      expect(new Set(pushes.map((p) => p.principal_id)).size).toBe(2);
    } else {
      expect(Object.keys(resourcesOf(json, "docker_registry_image"))).toHaveLength(2);
    }
  });
});

describe("the layer cache keeps the output deterministic", () => {
  test("an unchanged input gives the same task YAML; a changed script changes only the fingerprint in it", () => {
    const synthTask = (text: string) => {
      const dir = tempDir("acr-cache-");
      fs.writeFileSync(path.join(dir, "score.py"), text);
      const stack = newStack();
      new AmlFunctionDeployment(stack, "churn", sampleProps({ entryScript: path.join(dir, "score.py"), imageBuild: ImageBuild.acrTask({ cacheFromPreviousImage: true }) }));
      return Buffer.from(onlyResource(synthJson(stack), "azurerm_container_registry_task").encoded_step.task_content, "base64").toString("utf8");
    };
    const script = "def init():\n    pass\n\ndef run(data):\n    return data\n";
    const a = synthTask(script);
    expect(synthTask(script)).toBe(a);
    const b = synthTask(`${script}# changed\n`);
    const fingerprint = (yaml: string) => /aml\/churn:([0-9a-f]{64})/.exec(yaml)![1];
    expect(fingerprint(b)).not.toBe(fingerprint(a));
    // The cache image is the same stable tag in both: the second build reads the first one's layers.
    expect(b.split(fingerprint(b)).join("F")).toBe(a.split(fingerprint(a)).join("F"));
    expect(a).toContain("--cache-from {{.Run.Registry}}/aml/churn:buildcache");
  });
});
const notReached = (): never => {
  throw new Error("not reached");
};

describe("values that would break the task YAML", () => {
  test("a build argument with {{ or }} is refused (ACR renders the YAML as a Go template)", () => {
    const stack = newStack();
    const registry = new ScoringRegistry(stack, "acr", { name: "templateacr01", location: "westeurope", resourceGroupName: "rg" });
    const target = {
      ...fakeTarget, owner: 'AmlFunctionDeployment "churn"', location: "westeurope", resourceGroupName: "rg", tags: {}, baseName: "churn", uniqueSuffix: "0123abcd",
      registry, repository: "aml/churn", credentialName: "churn-push", platform: "linux/amd64",
      // Refused before the context is asked for an archive.
      context: { prepare: () => ({ fingerprint: "f".repeat(64), files: [] }), addFolderAsset: notReached, addArchiveAsset: notReached },
      buildArgs: { AZUREML_ENTRY_SCRIPT: "{{.Run.ID}}.py", PYTHON_VERSION: "3.11" },
    };
    expect(() => ImageBuild.acrTask().bind(stack, target)).toThrow(/AmlFunctionDeployment "churn": invalid build argument AZUREML_ENTRY_SCRIPT "\{\{\.Run\.ID\}\}\.py": ACR task YAML treats \{\{ and \}\} as template markers/);
  });
});

describe("task YAML quoting", () => {
  test("a build argument with spaces and quotes reaches docker build as one word, unchanged", () => {
    const yaml = parse(buildTaskYaml({
      storageAccountName: "stx", containerName: "build-contexts", blobName: "f.tar.gz", repository: "aml/x", tag: "f",
      buildArgs: { ODD: "it's a \"value\" with $HOME and spaces" }, platform: "linux/amd64", stepTimeoutSeconds: 600, layerCache: false,
    }));
    const words = shellWords(yaml.steps[1].build);
    expect(words[words.indexOf("--build-arg") + 1]).toBe("ODD=it's a \"value\" with $HOME and spaces");
    expect(shellQuote("plain-word_1.2:3")).toBe("plain-word_1.2:3");
  });
});

describe("HCL output of the ACR build", () => {
  test("terraform parses it, with the task and the run, and no lifecycle reference it would reject", () => {
    const before = process.env.SYNTH_HCL_OUTPUT;
    process.env.SYNTH_HCL_OUTPUT = "true";
    let outdir: string;
    try {
      outdir = tempDir("acr-hcl-");
      const app = new App({ outdir, hclOutput: true });
      new AmlFunctionDeployment(new TerraformStack(app, "scoring"), "churn", sampleProps());
      app.synth();
      prepareHandOff(app);
    } finally {
      if (before === undefined) delete process.env.SYNTH_HCL_OUTPUT;
      else process.env.SYNTH_HCL_OUTPUT = before;
    }
    const hcl = fs.readFileSync(path.join(outdir, "stacks", "scoring", "cdk.tf"), "utf8");
    expect(hcl).toContain('resource "azurerm_container_registry_task"');
    expect(hcl).toContain('resource "azurerm_container_registry_task_schedule_run_now"');
    expect(hcl).not.toContain("replace_triggered_by");
    expect(hcl).not.toMatch(/resource "docker_|provider "docker"|kreuzwerker/);
    // `terraform fmt -check`: 0 formatted, 3 parses but needs formatting, 2 syntax error.
    const r = spawnSync("terraform", ["fmt", "-check", "-no-color", "-"], { input: hcl });
    expect([0, 3]).toContain(r.status);
  });
});
