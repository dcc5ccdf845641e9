import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment } from "../lib";
import { ModelSource } from "../lib/model/model-source";
import { ServiceBusCardinality, ServiceBusTrigger } from "../lib/triggers/service-bus-trigger";
import { sampleProps } from "./helpers";

// The Service Bus adapter in the REAL Azure Functions Python worker (vendored worker + mock host,
// ../shared/vendor/azure-functions-python), run from the staged build context of a synthesized
// deployment with a cardinality-one and a cardinality-many trigger: `app/` is what the image holds
// in /home/site/wwwroot (host.json, aml_host, adapters, the function folders), `source/` the
// entry script's folder. Only the azure-servicebus SDK send is a stand-in
// (scoring-image/tests/fake_servicebus_sdk.py). Needs /usr/bin/python3 with python3-grpcio,
// -protobuf, -dateutil, -requests (.ci/run installs them); missing, the test fails, never skips.

const REPO = path.resolve(__dirname, "..");
const IMAGE = path.join(REPO, "scoring-image");
const VENDOR = path.resolve(REPO, "..", "shared", "vendor", "azure-functions-python");
const PYTHON = process.env.PYTHON ?? "/usr/bin/python3";

// An inference-schema style entry script (the package is a minimal stand-in with the same
// registry the host reads), so that deeply nested JSON is parsed by the host, as in the issue.
const SCORE_PY = `
from inference_schema.schema_decorators import input_schema

def init():
    pass

@input_schema("data", None)
def run(data):
    if data == "bad":
        raise ValueError("bad row")
    if isinstance(data, dict) and "big" in data:
        return "r" * data["big"]
    return {"double": data * 2}
`;
const SCHEMA_UTIL = `
import inspect
__functions_schema__ = {}
def _key(func):
    inner = inspect.unwrap(func)
    return inner.__module__ + "." + inner.__name__
def is_schema_decorated(func):
    return _key(func) in __functions_schema__
`;
const SCHEMA_DECORATORS = `
import functools
from .schema_util import __functions_schema__, _key
def input_schema(param_name, param_type=None, convert_to_provided_type=True):
    def decorate(func):
        __functions_schema__.setdefault(_key(func), {})[param_name] = param_type
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapper
    return decorate
`;

interface Sent { body: string; size: number; message_id: string; correlation_id: string | null; application_properties: { [k: string]: unknown } | null }
interface Outcome { ok: boolean; error: string; output: Sent[]; failed: Sent[] }

function writeTree(root: string, files: { [rel: string]: string }): void {
  for (const [rel, content] of Object.entries(files)) {
    const target = path.join(root, ...rel.split("/"));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
}

function findStagedContext(root: string): string {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "host.json" && path.basename(d) === "app") found.push(path.dirname(d));
    }
  };
  walk(root);
  if (found.length !== 1) throw new Error(`expected one staged build context under ${root}, found ${found.length}`);
  return found[0];
}

/** Synthesizes a deployment with a cardinality-one and a cardinality-many trigger, copies its
 * staged build context, and runs the driver against it in the real worker. */
function runInRealWorker(): { [scenario: string]: Outcome } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sb-worker-"));
  try {
    const project = path.join(tmp, "project");
    writeTree(project, {
      "scoring/score.py": SCORE_PY,
      "scoring/inference_schema/__init__.py": "",
      "scoring/inference_schema/schema_util.py": SCHEMA_UTIL,
      "scoring/inference_schema/schema_decorators.py": SCHEMA_DECORATORS,
      "model/weights.txt": "unused by the script\n",
    });
    const app = new App({ outdir: path.join(tmp, "cdktf.out") });
    const stack = new TerraformStack(app, "scoring");
    new AmlFunctionDeployment(stack, "churn", sampleProps({
      model: ModelSource.fromLocalPath(path.join(project, "model")),
      entryScript: path.join(project, "scoring", "score.py"),
      triggers: [
        new ServiceBusTrigger({ functionName: "score-one", inputQueueName: "in-one" }),
        new ServiceBusTrigger({ functionName: "score-many", inputQueueName: "in-many", cardinality: ServiceBusCardinality.MANY }),
      ],
    }));
    app.synth();
    const stackDir = path.join(tmp, "cdktf.out", "stacks", "scoring");
    const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    // A copy: the staged context is a cache other synths reuse.
    const context = path.join(tmp, "context");
    fs.cpSync(findStagedContext(path.join(stackDir, "assets")), context, { recursive: true });
    const wwwroot = path.join(context, "app");
    for (const fn of ["score-one", "score-many"]) {
      // The worker's mock host (unlike the real host) needs scriptFile; nothing else is changed.
      const file = path.join(wwwroot, fn, "function.json");
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), scriptFile: "__init__.py" }));
    }

    const appSettings: { [k: string]: string } = Object.values<any>(json.resource.azurerm_linux_function_app)[0].app_settings;
    const env: { [k: string]: string } = { ...(process.env as { [k: string]: string }) };
    for (const [key, value] of Object.entries(appSettings)) {
      // Terraform references (namespace host name, client id) are known only at apply; the
      // stand-in SDK only records them.
      env[key] = String(value).includes("${") ? `resolved-at-apply-${key}` : String(value);
    }
    // Where the image's folders are here (the Dockerfile's /var/azureml-app and its model folder).
    Object.assign(env, { AML_APP_ROOT: path.join(context, "source"), AZUREML_MODEL_DIR: path.join(context, "model"), AML_FUNCTIONS_VENDOR: VENDOR, PYTHONDONTWRITEBYTECODE: "1" });
    expect(env.AZUREML_ENTRY_SCRIPT).toBe("score.py");
    const child = spawnSync(PYTHON, [path.join(IMAGE, "tests", "servicebus_worker_driver.py"), wwwroot, "score-one", "score-many"], { env, encoding: "utf8", timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
    const line = (child.stdout ?? "").split("\n").find((l) => l.startsWith("AML-REPORT "));
    if (child.status !== 0 || !line) {
      throw new Error(`the real worker run failed (exit ${child.status}, ${child.error?.message ?? ""}); needs ${PYTHON} with python3-grpcio, python3-protobuf, python3-dateutil, python3-requests and ${VENDOR}\n${(child.stderr ?? "").slice(-4000)}`);
    }
    return JSON.parse(line.slice("AML-REPORT ".length));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

describe("Service Bus adapter in the real Functions worker", () => {
  let report: { [scenario: string]: Outcome };
  beforeAll(() => {
    report = runInRealWorker();
  }, 200_000);

  test("both generated function folders load", () => {
    expect(report["load:score-one"]).toEqual({ ok: true, error: "" });
    expect(report["load:score-many"]).toEqual({ ok: true, error: "" });
  });

  test("cardinality one: result sent with a derived id, correlation id = the input's id", () => {
    const r = report["one:good"];
    expect(r.ok).toBe(true);
    expect(r.output).toHaveLength(1);
    expect(JSON.parse(r.output[0].body)).toEqual({ double: 42 });
    expect(r.output[0].correlation_id).toBe("m-1");
    expect(r.output[0].message_id).toMatch(/^[0-9a-f]{32}$/);
  });

  test("cardinality one keeps retry-then-dead-letter: a bad, id-less or too large message fails the invocation and sends nothing", () => {
    for (const [scenario, text] of [["one:bad", "m-bad"], ["one:no-id", "no message id"], ["one:too-large", "exceeds the 262144 bytes"]]) {
      const r = report[scenario];
      expect({ scenario, ok: r.ok, sent: r.output.length + r.failed.length }).toEqual({ scenario, ok: false, sent: 0 });
      expect(r.error).toContain(text);
    }
  });

  test("cardinality many, hostile batch of 32: 28 results once, 4 to the failed queue, the invocation succeeds", () => {
    const r = report["many:hostile"];
    expect(r.error).toBe("");
    expect(r.ok).toBe(true);
    expect(r.output).toHaveLength(28);
    expect(new Set(r.output.map((m) => m.message_id)).size).toBe(28);
    expect(r.output.map((m) => m.correlation_id).sort()).toEqual(Array.from({ length: 28 }, (_, n) => `good-${n}`).sort());
    const failed = Object.fromEntries(r.failed.map((m) => [m.application_properties?.["aml-original-message-id"], m]));
    expect(Object.keys(failed).sort()).toEqual(["", "bad", "deep", "huge"]);
    expect(failed.bad.application_properties).toMatchObject({ "aml-error-type": "ValueError", "aml-error-message": "bad row", tenant: "t1" });
    expect(failed.bad.body).toBe('{"data": "bad"}');
    expect(failed.bad.correlation_id).toBe("corr-3");
    expect(failed.huge.application_properties?.["aml-error-type"]).toBe("ResultTooLarge");
    expect(failed.deep.application_properties?.["aml-error-type"]).toBe("InvalidInput");
    expect(String(failed.deep.application_properties?.["aml-error-message"])).toMatch(/RecursionError|nested too deeply/);
    expect(failed.deep.size).toBe(10 + 2 * 100 * 1024);
    expect(failed[""].application_properties?.["aml-error-type"]).toBe("MissingMessageId");
    for (const m of r.failed) expect(JSON.stringify(m.application_properties)).not.toContain("Traceback");
  });

  test("a redelivered batch gives the same output and failed-queue ids (duplicate detection drops them)", () => {
    const first = report["many:hostile"];
    const again = report["many:hostile-redelivered"];
    expect(again.ok).toBe(true);
    expect(again.output.map((m) => m.message_id)).toEqual(first.output.map((m) => m.message_id));
    expect(again.failed.map((m) => m.message_id)).toEqual(first.failed.map((m) => m.message_id));
  });

  test("two different messages reusing an id give two results", () => {
    const r = report["many:reused-id"];
    expect(r.ok).toBe(true);
    expect(r.output.map((m) => JSON.parse(m.body))).toEqual([{ double: 2 }, { double: 4 }]);
    expect(r.output.map((m) => m.correlation_id)).toEqual(["same", "same"]);
    expect(r.output[0].message_id).not.toBe(r.output[1].message_id);
  });

  test("the output send or the failed-queue send failing fails the invocation (the batch is redelivered)", () => {
    expect(report["many:output-outage"].ok).toBe(false);
    expect(report["many:output-outage"].error).toContain("output queue");
    expect(report["many:failed-queue-outage"].ok).toBe(false);
    expect(report["many:failed-queue-outage"].error).toContain("failed queue");
  });
});
