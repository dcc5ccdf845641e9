/**
 * Scenario: interactive HTTP scoring plus batch files. Upload `input/<name>.json` to the trigger
 * storage account; the result appears as `output/<name>_out.json`. Packages from a requirements file.
 */
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, BlobTrigger, HttpTrigger, ModelSource, PythonEnvironment } from "../../lib";

export function buildBlobAndHttp(app: App): TerraformStack {
  const stack = new TerraformStack(app, "aml-churn-blob");
  new AmlFunctionDeployment(stack, "churn", {
    location: "westeurope",
    name: "churn-files",
    model: ModelSource.fromLocalPath("examples/churn/models/churn"),
    entryScript: "examples/churn/scoring/score.py",
    environment: PythonEnvironment.fromRequirementsFile("examples/churn/requirements.txt"),
    triggers: [
      new HttpTrigger(),
      new BlobTrigger({ inputPath: "input/{blobname}.json", outputPath: "output/{blobname}_out.json" }),
    ],
  });
  return stack;
}
