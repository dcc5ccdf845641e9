/**
 * The example app (and the project's main job): one HTTP scoring function for the bundled
 * churn model. `npm run synth` writes the Terraform to cdktf.out/stacks/aml-churn; `cdktf deploy`
 * applies it (see README, "Deploying for real").
 */
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, HttpAuthLevel, HttpTrigger, ModelSource, PythonEnvironment } from "./lib";

export function buildExampleApp(app: App): TerraformStack {
  const stack = new TerraformStack(app, "aml-churn");
  new AmlFunctionDeployment(stack, "churn", {
    location: "westeurope",
    model: ModelSource.fromLocalPath("examples/churn/models/churn"),
    entryScript: "examples/churn/scoring/score.py",
    // The version the sample model was trained with (Debian bookworm's python3-sklearn).
    environment: PythonEnvironment.fromPipPackages(["scikit-learn==1.2.1", "joblib==1.2.0", "numpy==1.24.2"]),
    triggers: [new HttpTrigger({ authLevel: HttpAuthLevel.FUNCTION })],
    tags: { workload: "aml-scoring", example: "churn" },
  });
  return stack;
}

if (require.main === module) {
  try {
    const app = new App();
    buildExampleApp(app);
    app.synth();
    console.log(`Synthesized to ${app.outdir}/stacks/aml-churn`);
  } catch (err) {
    // A validation error is for the user to fix: print its message, not a stack trace.
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
