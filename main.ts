/**
 * The example app (and the project's main job): one HTTP scoring function for the bundled
 * churn model. `npm run synth` writes Terraform JSON to cdktf.out/stacks/aml-churn
 * (`npm run synth -- --hcl` writes HCL instead); `cdktf deploy` applies it (README,
 * "Deploying for real").
 */
import { App, LocalBackend, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, HttpAuthLevel, HttpTrigger, ModelSource, PythonEnvironment } from "./lib";

export function buildExampleApp(app: App): TerraformStack {
  const stack = new TerraformStack(app, "aml-churn");
  // State next to the project, by a relative path: cdktf's default is an absolute path of this
  // machine, which would make the synthesized JSON differ between checkouts.
  new LocalBackend(stack, { path: "../../../terraform.aml-churn.tfstate" });
  new AmlFunctionDeployment(stack, "churn", {
    location: "westeurope",
    model: ModelSource.fromLocalPath("examples/churn/models/churn"),
    entryScript: "examples/churn/scoring/score.py",
    // The versions the sample model was trained with (Debian bookworm's python3-sklearn).
    environment: PythonEnvironment.fromPipPackages(["scikit-learn==1.2.1", "joblib==1.2.0", "numpy==1.24.2"]),
    triggers: [new HttpTrigger({ authLevel: HttpAuthLevel.FUNCTION })],
    tags: { workload: "aml-scoring", example: "churn" },
  });
  return stack;
}

if (require.main === module) {
  const hcl = process.argv.includes("--hcl");
  // cdktf decides JSON or HCL from this variable when a stack is created (`cdktf synth --hcl` sets it).
  if (hcl) process.env.SYNTH_HCL_OUTPUT = "true";
  try {
    const app = new App({ hclOutput: hcl });
    buildExampleApp(app);
    app.synth();
    console.log(`Synthesized ${hcl ? "HCL" : "Terraform JSON"} to ${app.outdir}/stacks/aml-churn`);
  } catch (err) {
    // A validation error is for the user to fix: print its message, not a stack trace.
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
