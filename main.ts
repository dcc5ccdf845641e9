/**
 * The example app (and the project's main job): one HTTP scoring function for the bundled
 * churn model. `npm run synth` writes Terraform JSON to cdktf.out/stacks/aml-churn,
 * `npm run synth -- --hcl` writes HCL (`cdk.tf`) instead; either way the folder is ready for
 * plain `terraform init && terraform plan` (README, "Handing off to plain Terraform").
 * `--state-path <path>` puts the local state elsewhere (relative to the stack folder).
 */
import { App, LocalBackend, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, HttpAuthLevel, HttpTrigger, ModelSource, PythonEnvironment, prepareHandOff } from "./lib";

/** Options of the example app. */
export interface ExampleAppOptions {
  /**
   * Local state file, relative to the stack folder (Terraform runs there).
   * @default "terraform.tfstate" (inside the stack folder)
   */
  readonly statePath?: string;
}

export function buildExampleApp(app: App, options: ExampleAppOptions = {}): TerraformStack {
  const stack = new TerraformStack(app, "aml-churn");
  // A relative path: cdktf's default is an absolute path of this machine, which would make the
  // synthesized configuration differ between checkouts and break it for whoever receives it.
  new LocalBackend(stack, { path: options.statePath ?? "terraform.tfstate" });
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

/** `--flag value` from the command line. */
function argValue(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i < 0) return undefined;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value, e.g. ${flag} ../state/terraform.tfstate`);
  return value;
}

/**
 * What `node dist/main.js [--hcl] [--state-path <path>]` (`npm run synth`) does: builds the app
 * with `build`, synthesizes it, prepares the stack folders for plain Terraform and prints every
 * warning of the synth and the hand-off to stderr (prepareHandOff does). Returns the exit code.
 */
export function main(argv: string[], build: (app: App, options: ExampleAppOptions) => void = buildExampleApp): number {
  // `cdktf synth --hcl` runs this app with SYNTH_HCL_OUTPUT set; `npm run synth -- --hcl` passes the flag.
  const hcl = argv.includes("--hcl") || ["true", "1"].includes(process.env.SYNTH_HCL_OUTPUT ?? "");
  // cdktf decides JSON or HCL from this variable when a stack is created.
  process.env.SYNTH_HCL_OUTPUT = hcl ? "true" : "false";
  try {
    const app = new App({ hclOutput: hcl });
    build(app, { statePath: argValue(argv, "--state-path") });
    app.synth();
    const handOff = prepareHandOff(app);
    console.log(`Synthesized ${hcl ? "HCL" : "Terraform JSON"} to ${handOff.stackDirectories.map((d) => `${app.outdir}/${d}`).join(", ")}`);
    return 0;
  } catch (err) {
    // A validation error is for the user to fix: print its message, not a stack trace.
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
