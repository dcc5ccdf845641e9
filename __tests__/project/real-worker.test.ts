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
import * as fs from "fs";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, HttpAuthLevel, HttpTrigger, ImageBuild } from "../../lib";
import { BlobTrigger } from "../../lib/triggers/blob-trigger";
import { ServiceBusCardinality, ServiceBusTrigger } from "../../lib/triggers/service-bus-trigger";
import { sampleProps, stagedContextDir } from "../helpers";
import { realWorkerTest, runHarness } from "../real-worker";
import { tempDir } from "../temp-dirs";

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

describe("the real Azure Functions Python worker", () => {
  const { missing, workerTest } = realWorkerTest("real-worker test");

  workerTest("runs the synthesized app's HTTP, Blob and health functions from its staged build context", () => {
    if (missing !== undefined) {
      throw new Error(`${missing}. npm test installs the Debian packages when run as root (scripts/test-setup.js); the worker comes from ../shared/vendor.`);
    }
    const { context, entryScript } = synthesizeApp();
    expect(fs.readdirSync(path.join(context, "app")).sort()).toEqual(expect.arrayContaining(["adapters", "aml_host", "health", "score", "score-blob"]));
    const report = runHarness(["--context", context, "--entry-script", entryScript], "real-worker tests");
    // unittest's summary: every case ran, none skipped.
    expect(report).toMatch(/^Ran \d+ tests? in /m);
    expect(report).toMatch(/^OK$/m);
    expect(report).not.toMatch(/skipped/);
    for (const suite of ["worker_test_http", "worker_test_blob", "worker_test_health", "worker_test_servicebus"]) expect(report).toContain(suite);
  }, 600_000);
});
