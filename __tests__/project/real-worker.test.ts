/**
 * The function folders of a synthesized app, run in the REAL Azure Functions Python worker.
 *
 * The app is synthesized with this library (sample churn model and script; HTTP, Blob and
 * Service Bus triggers), its staged build context is taken from the synth output (the image's
 * files, exactly what `docker build` gets) and `scoring-image/tests/worker_harness.py` lays it
 * out as the Dockerfile does and runs every `scoring-image/tests/worker_test_*.py` against it
 * with the real worker, mock host and `azure.functions` from ../shared/vendor (see its README).
 *
 * Needs Python with scikit-learn, grpcio, protobuf, dateutil and requests (Debian packages, see
 * scripts/test-setup.js) and the vendor folder. With a piece missing the test is reported as
 * skipped, so a machine without the worker never shows it as passed; in CI (`CI` set) it fails.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, HttpAuthLevel, HttpTrigger, ImageBuild } from "../../lib";
import { BlobTrigger } from "../../lib/triggers/blob-trigger";
import { ServiceBusCardinality, ServiceBusTrigger } from "../../lib/triggers/service-bus-trigger";
import { REPO, sampleProps, stagedContextDir } from "../helpers";
import { tempDir } from "../temp-dirs";

const VENDOR = path.resolve(REPO, "..", "shared", "vendor", "azure-functions-python");
const HARNESS = path.join(REPO, "scoring-image", "tests", "worker_harness.py");

function python(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  return fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

function workerEnv(): NodeJS.ProcessEnv {
  const paths = [path.join(VENDOR, "worker"), path.join(VENDOR, "library")];
  return { ...process.env, PYTHONPATH: paths.join(path.delimiter), PYTHONDONTWRITEBYTECODE: "1" };
}

/** Why the real worker cannot run here, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  if (!fs.existsSync(path.join(VENDOR, "worker", "azure_functions_worker"))) return `the vendored worker is missing (${VENDOR})`;
  const probe = spawnSync(python(), ["-c", "import grpc, google.protobuf, dateutil, requests, sklearn, joblib, azure_functions_worker.dispatcher, azure.functions"], {
    env: workerEnv(), encoding: "utf8", cwd: os.tmpdir(),
  });
  if (probe.error || probe.status !== 0) return `${python()} cannot import the worker's dependencies: ${probe.error?.message ?? probe.stderr.trim().split("\n").pop()}`;
  return undefined;
}

/** Synthesizes the app and returns its staged build context and entry script (relative path). */
function synthesizeApp(): { context: string; entryScript: string } {
  const outdir = tempDir("aml-real-worker-synth-");
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "scoring");
  new AmlFunctionDeployment(stack, "churn", sampleProps({
    // The local Docker build ships the staged context folder as is in the assets.
    imageBuild: ImageBuild.localDocker(),
    triggers: [
      new HttpTrigger({ authLevel: HttpAuthLevel.FUNCTION }),
      new BlobTrigger(),
      new ServiceBusTrigger(),
      new ServiceBusTrigger({ functionName: "score-batch", cardinality: ServiceBusCardinality.MANY, maxMessageBatchSize: 8 }),
    ],
  }));
  app.synth();
  const context = stagedContextDir(path.join(outdir, "stacks", "scoring"));
  const synth = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "scoring", "cdk.tf.json"), "utf8"));
  const settings = Object.values(synth.resource.azurerm_linux_function_app as Record<string, any>)[0].app_settings;
  return { context, entryScript: settings.AZUREML_ENTRY_SCRIPT };
}

const inCi = !["", "0", "false"].includes((process.env.CI ?? "").toLowerCase());

describe("the real Azure Functions Python worker", () => {
  const missing = missingPrerequisite();
  if (missing !== undefined && !inCi) console.warn(`real-worker test skipped: ${missing}`);
  // Outside CI a missing worker makes the test skipped (reported as such); in CI it runs and fails.
  const realWorkerTest = missing !== undefined && !inCi ? test.skip : test;

  realWorkerTest("runs the synthesized app's HTTP, Blob and health functions from its staged build context", () => {
    if (missing !== undefined) {
      throw new Error(`${missing}. npm test installs the Debian packages when run as root (scripts/test-setup.js); the worker comes from ../shared/vendor.`);
    }
    const { context, entryScript } = synthesizeApp();
    expect(fs.readdirSync(path.join(context, "app")).sort()).toEqual(expect.arrayContaining(["adapters", "aml_host", "health", "score", "score-blob"]));
    const run = spawnSync(python(), [HARNESS, "--context", context, "--entry-script", entryScript], {
      env: workerEnv(), encoding: "utf8", cwd: os.tmpdir(), timeout: 600_000, maxBuffer: 64 * 1024 * 1024,
    });
    const report = `${run.stdout}\n${run.stderr}`;
    if (run.status !== 0) throw new Error(`real-worker tests failed (exit ${run.status}${run.error ? `, ${run.error.message}` : ""}):\n${report.slice(-20000)}`);
    // unittest's summary: every case ran, none skipped.
    expect(report).toMatch(/^Ran \d+ tests? in /m);
    expect(report).toMatch(/^OK$/m);
    expect(report).not.toMatch(/skipped/);
    for (const suite of ["worker_test_http", "worker_test_blob", "worker_test_health", "worker_test_servicebus"]) expect(report).toContain(suite);
  }, 600_000);
});
