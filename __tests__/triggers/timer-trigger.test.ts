/**
 * A 4th trigger is one TypeScript file and its Python adapter: the test-only TimerTrigger of
 * __tests__/fixtures/timer-trigger, built only on the public bind contract, binds to a deployment,
 * its adapter reaches the image beside the image's own, and its function runs in the real
 * Functions worker (skipped, never passed, when the worker is missing outside CI).
 */
import * as fs from "fs";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, HttpTrigger, ImageBuild } from "../../lib";
import type { TriggerBinding } from "../../lib";
import { functionDefinitionFiles } from "../../lib/triggers/function-definitions";
import { triggerAdapterPath } from "../../lib/triggers/trigger-adapter";
import { TimerTrigger } from "../fixtures/timer-trigger/timer-trigger";
import { message } from "../error-message";
import { REPO, resourcesOf, sampleProps, stagedContextDir } from "../helpers";
import { tempDir } from "../temp-dirs";
import { realWorkerTest, runHarness } from "../real-worker";

const FIXTURE = path.join(__dirname, "..", "fixtures", "timer-trigger");
const ADAPTER = path.join(FIXTURE, "timer_adapter.py");
const SAMPLE = fs.readFileSync(path.join(REPO, "examples", "churn", "sample-request.json"), "utf8");

/** Synthesizes an app with an HTTP and a timer trigger; returns its staged build context and stack JSON. */
function synthesize(): { context: string; entryScript: string; json: any } {
  const outdir = tempDir("aml-timer-synth-");
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "scoring");
  new AmlFunctionDeployment(stack, "churn", sampleProps({
    // The local Docker build ships the staged context folder as is in the assets.
    imageBuild: ImageBuild.localDocker(),
    triggers: [new HttpTrigger(), new TimerTrigger({ input: SAMPLE, schedule: "0 */5 * * * *" })],
  }));
  app.synth();
  const stackDir = path.join(outdir, "stacks", "scoring");
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  const settings = Object.values(resourcesOf(json, "azurerm_linux_function_app"))[0].app_settings;
  return { context: stagedContextDir(stackDir), entryScript: settings.AZUREML_ENTRY_SCRIPT, json };
}

describe("a trigger from one file and its adapter", () => {
  const { context, entryScript, json } = synthesize();
  const read = (file: string): string => fs.readFileSync(path.join(context, file), "utf8");

  test("its function folder has the bindings, the adapter's settings and the import of its adapter", () => {
    expect(JSON.parse(read("app/score-timer/function.json"))).toEqual({ bindings: [{ type: "timerTrigger", direction: "in", name: "timer", schedule: "0 */5 * * * *" }] });
    expect(JSON.parse(read("app/score-timer/aml.json"))).toEqual({ kind: "timer", input: SAMPLE });
    expect(read("app/score-timer/__init__.py")).toBe("from adapters.timer_adapter import main  # noqa: F401\n");
  });

  test("its adapter is in the image beside the image's own, as shipped", () => {
    expect(read("app/adapters/timer_adapter.py")).toBe(fs.readFileSync(ADAPTER, "utf8"));
    expect(fs.existsSync(path.join(context, "app", "trigger-adapters"))).toBe(false);
    expect(fs.readdirSync(path.join(context, "app", "adapters"))).toEqual(expect.arrayContaining(["http_adapter.py", "blob_adapter.py", "servicebus_adapter.py", "health_adapter.py", "timer_adapter.py"]));
  });

  test("it needs nothing else from the deployment: no resource, app setting or output of its own", () => {
    const resources = Object.values(json.resource).flatMap((byId: any) => Object.keys(byId));
    expect(resources.filter((id) => id.includes("trigger-1"))).toEqual([]);
    expect(Object.keys(json.output).filter((o) => o.includes("timer"))).toEqual([]);
  });

  const { missing, workerTest } = realWorkerTest("timer trigger worker test");
  workerTest("its function runs in the real Functions worker: a tick scores the fixed input with the model", () => {
    if (missing !== undefined) throw new Error(missing);
    const report = runHarness(["--context", context, "--entry-script", entryScript, "--start-dir", FIXTURE, "--pattern", "worker_test_timer.py"], "timer worker test");
    expect(report).toMatch(/^Ran 2 tests in /m);
    expect(report).toMatch(/^OK$/m);
  }, 600_000);
});

describe("the adapter a trigger ships is checked at synth", () => {
  const owner = 'AmlFunctionDeployment "churn"';
  const binding = (over: Partial<TriggerBinding> = {}): TriggerBinding => ({
    functionName: "tick", adapter: { kind: "timer", modulePath: ADAPTER }, bindings: [{ type: "timerTrigger", direction: "in", name: "timer", schedule: "0 0 * * * *" }], ...over,
  });

  test("the module's content goes into the image: a changed adapter is a changed image", () => {
    const dir = tempDir("aml-timer-adapter-");
    const file = path.join(dir, "timer_adapter.py");
    fs.writeFileSync(file, "def main(timer):\n    pass\n");
    const before = functionDefinitionFiles(owner, {}, [binding({ adapter: { kind: "timer", modulePath: file } })]);
    fs.writeFileSync(file, "def main(timer):\n    return None\n");
    const after = functionDefinitionFiles(owner, {}, [binding({ adapter: { kind: "timer", modulePath: file } })]);
    expect(before["app/adapters/timer_adapter.py"]).toBe("def main(timer):\n    pass\n");
    expect(after["app/adapters/timer_adapter.py"]).toBe("def main(timer):\n    return None\n");
    expect(before["app/tick/aml.json"]).toBe('{\n  "kind": "timer"\n}\n');
  });

  test("two triggers of one kind share its module; a different module for the same kind is refused", () => {
    const files = functionDefinitionFiles(owner, {}, [binding(), binding({ functionName: "tock" })]);
    expect(files["app/tock/__init__.py"]).toBe("from adapters.timer_adapter import main  # noqa: F401\n");
    const other = path.join(tempDir("aml-timer-other-"), "timer_adapter.py");
    fs.writeFileSync(other, "def main(timer):\n    pass\n");
    expect(message(() => functionDefinitionFiles(owner, {}, [binding(), binding({ functionName: "tock", adapter: { kind: "timer", modulePath: other } })]))).toBe(
      `${owner}: invalid triggers ${JSON.stringify(other)}: the triggers of functions "tick" and "tock" ship different modules for the adapter "timer" (app/adapters/timer_adapter.py in the image). Allowed: one module per adapter kind`,
    );
  });

  test("a kind of the image, a kind that cannot name a module, a missing module, a kind without a module and a mismatched aml.json are refused", () => {
    expect(message(() => functionDefinitionFiles(owner, {}, [binding({ adapter: { kind: "http", modulePath: ADAPTER } })]))).toBe(
      `${owner}: invalid triggers "http": the adapter of function "tick" ships a module for "http", a kind whose adapter the image holds. Allowed: another kind than http, blob, servicebus, health`,
    );
    expect(message(() => functionDefinitionFiles(owner, {}, [binding({ adapter: { kind: "Timer-2", modulePath: ADAPTER } })]))).toContain('invalid triggers "Timer-2": the adapter of function "tick" has a kind that cannot name its module');
    const gone = path.join(FIXTURE, "no_such_adapter.py");
    expect(message(() => functionDefinitionFiles(owner, {}, [binding({ adapter: { kind: "timer", modulePath: gone } })]))).toBe(
      `${owner}: invalid triggers ${JSON.stringify(gone)}: the adapter of function "tick" ("timer"): cannot read ${gone} (ENOENT). Allowed: the path of a readable Python file (.py) that defines the function's main`,
    );
    expect(message(() => functionDefinitionFiles(owner, {}, [binding({ adapter: "timer" as never })]))).toBe(
      `${owner}: invalid triggers "timer": the adapter of function "tick" is not one the image holds. Allowed: http, blob, servicebus, or { kind, modulePath } for an adapter the trigger ships`,
    );
    expect(message(() => functionDefinitionFiles(owner, {}, [binding({ adapterSettings: { kind: "cron" } })]))).toContain('invalid triggers "cron": the aml.json of function "tick" names another kind than its adapter ("timer")');
  });

  test("the library's own triggers keep the adapters they ship in the packaged scoring-image/trigger-adapters/, which no image gets as a whole", () => {
    expect(triggerAdapterPath("timer")).toBe(path.join(REPO, "scoring-image", "trigger-adapters", "timer_adapter.py"));
    const files: string[] = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).files;
    expect(files).toContain("scoring-image/");
    expect(files.filter((f) => f.startsWith("!") && f.includes("trigger-adapters"))).toEqual([]);
    expect(fs.existsSync(path.join(REPO, "scoring-image", "trigger-adapters"))).toBe(true);
  });

  test("a trigger refuses a schedule that is not NCRONTAB at construction", () => {
    expect(message(() => new TimerTrigger({ input: "{}", schedule: "*/5 * * * *" }))).toContain('TimerTrigger: invalid schedule "*/5 * * * *": not six NCRONTAB fields');
  });
});

