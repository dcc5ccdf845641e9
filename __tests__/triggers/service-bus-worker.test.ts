/**
 * The hostile Service Bus batch in the REAL Azure Functions Python worker: an app with a
 * cardinality-one and a cardinality-many trigger and an inference-schema style entry script is
 * synthesized with this library, and `scoring-image/tests/worker_harness.py` (the shared
 * real-worker harness: vendored worker, mock host and azure.functions, the staged build context
 * laid out as the Dockerfile does) runs `worker_hostile_servicebus.py` against its staged build
 * context. The one stand-in is the azure-servicebus SDK send (`fake_servicebus_sdk.py`).
 * The sample app's Service Bus functions run in `worker_test_servicebus.py` (real-worker.test.ts).
 * Missing Python packages or vendor folder: skipped outside CI, a failure in CI (real-worker.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, ImageBuild } from "../../lib";
import { ModelSource } from "../../lib/model/model-source";
import { ServiceBusCardinality, ServiceBusTrigger } from "../../lib/triggers/service-bus-trigger";
import { sampleProps, stagedContextDir } from "../helpers";
import { tempDir } from "../temp-dirs";
import { realWorkerTest, runHarness } from "../real-worker";
import { writeFiles } from "../model-project";

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
    if data == "exit":
        import sys
        sys.exit(1)
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


describe("the hostile Service Bus batch in the real Functions worker", () => {
  let tmp: string;
  afterAll(() => tmp !== undefined && fs.rmSync(tmp, { recursive: true, force: true }));
  const { missing, workerTest } = realWorkerTest("hostile Service Bus worker test");

  workerTest("a synthesized app with an inference-schema script: 27 results, 5 to the failed queue (one calls sys.exit), the invocation succeeds and the worker scores on", () => {
    if (missing !== undefined) throw new Error(missing);
    tmp = tempDir("sb-worker-");
    const project = path.join(tmp, "project");
    writeFiles(project, {
      "scoring/score.py": SCORE_PY,
      "scoring/inference_schema/__init__.py": "",
      "scoring/inference_schema/schema_util.py": SCHEMA_UTIL,
      "scoring/inference_schema/schema_decorators.py": SCHEMA_DECORATORS,
      "model/weights.txt": "unused by the script\n",
    });
    const app = new App({ outdir: path.join(tmp, "cdktf.out") });
    const stack = new TerraformStack(app, "scoring");
    new AmlFunctionDeployment(stack, "hostile", sampleProps({
      model: ModelSource.fromLocalPath(path.join(project, "model")),
      entryScript: path.join(project, "scoring", "score.py"),
      // The local Docker build ships the staged context folder as is in the assets.
      imageBuild: ImageBuild.localDocker(),
      triggers: [
        new ServiceBusTrigger({ functionName: "score-one", inputQueueName: "in-one" }),
        new ServiceBusTrigger({ functionName: "score-many", inputQueueName: "in-many", cardinality: ServiceBusCardinality.MANY }),
      ],
    }));
    app.synth();
    const context = stagedContextDir(path.join(tmp, "cdktf.out", "stacks", "scoring"));
    const report = runHarness(["--context", context, "--entry-script", "score.py", "--pattern", "worker_hostile_servicebus.py"], "real-worker run");
    expect(report).toMatch(/^Ran 2 tests in /m);
    expect(report).toMatch(/^OK$/m);
    expect(report).not.toMatch(/skipped/);
    expect(report).toContain("test_32_messages_5_hostile");
  }, 320_000);
});
