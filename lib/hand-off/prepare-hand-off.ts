import * as fs from "fs";
import * as path from "path";
import { IConstruct } from "constructs";
import { TerraformStack } from "cdktf";
import { ValidationError } from "../errors";
import { unquoteReferences } from "./hcl-fixes";
import { pruneUnusedAssets } from "./prune-assets";
import { stackReadme, TerraformConfig } from "./stack-readme";
import { terraformFmt } from "./terraform-fmt";

/** The configuration files a stack folder can hold; only the one just written is kept. */
const CONFIG_FILES = ["cdk.tf", "cdk.tf.json", "metadata.json"];

/** Options of {@link prepareHandOff}. */
export interface HandOffOptions {
  /**
   * The terraform binary that formats HCL output (`terraform fmt`). JSON output needs none.
   * @default `$TERRAFORM_BINARY`, else `terraform` from PATH
   */
  readonly terraformBinary?: string;
  /**
   * Whether to print the warnings to stderr (`warning: ...`, one a line) as well as return them.
   * Printing is the default because `node main.js` has no cdktf CLI to show the synth warnings,
   * and a warning nobody sees protects no one.
   * @default true
   */
  readonly printWarnings?: boolean;
}

/** What {@link prepareHandOff} did. */
export interface HandOffResult {
  /** The stack folders, relative to the app's outdir (e.g. `stacks/aml-churn`). */
  readonly stackDirectories: string[];
  /**
   * Every warning of the synth and of the hand-off, per stack: first the warnings the constructs
   * added at synth (`Annotations.of(c).addWarning`, e.g. a role granted on a whole resource group),
   * as `[<construct path>] <message>`, then the hand-off's own (e.g. HCL left unformatted: no
   * terraform binary). Printed to stderr unless `printWarnings` is false.
   */
  readonly warnings: string[];
}

interface StackManifest {
  readonly workingDirectory: string;
  readonly synthesizedStackPath: string;
  readonly stackMetadataPath?: string;
  /** What the constructs of the stack annotated at synth (cdktf writes them here only). */
  readonly annotations?: ReadonlyArray<{ readonly constructPath: string; readonly level: string; readonly message: string }>;
}

/** cdktf's level of `Annotations.addWarning` in the manifest. */
const WARNING_LEVEL = "@cdktf/warn";

/**
 * Makes the stack folders of a synthesized app usable by plain Terraform (`terraform init &&
 * terraform plan` in the folder, nothing else). Call it right after `app.synth()`:
 *
 * - removes configuration files of an earlier synth in the other format (a stale `cdk.tf.json`
 *   beside a new `cdk.tf` doubles every resource for Terraform);
 * - HCL: unquotes `depends_on` references and formats the file with `terraform fmt`;
 * - removes from `assets/` what the configuration does not refer to (older versions of an asset,
 *   the build contexts of deployments removed since an earlier synth);
 * - writes a README.md per stack (what it creates, required providers, variables, outputs);
 * - prints every warning of the synth and its own to stderr, and returns them: without the cdktf
 *   CLI, the constructs' synth warnings are otherwise only in `manifest.json`.
 *
 * Which format was written is read from the app's manifest, so it works for JSON and HCL alike.
 * State paths are the stack's business: give the stack a `LocalBackend` with a relative `path`
 * (cdktf's default is an absolute path of the synthesizing machine, which gives a warning).
 */
export function prepareHandOff(app: IConstruct & { readonly outdir: string }, options: HandOffOptions = {}): HandOffResult {
  const manifestPath = path.join(app.outdir, "manifest.json");
  if (!fs.existsSync(manifestPath)) throw new Error(`${manifestPath} not found: call prepareHandOff(app) after app.synth()`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { stacks: Record<string, StackManifest> };
  const stacks = new Map(app.node.findAll().filter(TerraformStack.isStack).map((s) => [s.node.id, s as TerraformStack]));
  const warnings: string[] = [];
  const stackDirectories: string[] = [];

  for (const [name, entry] of Object.entries(manifest.stacks).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const dir = path.join(app.outdir, entry.workingDirectory);
    for (const a of entry.annotations ?? []) {
      if (a.level === WARNING_LEVEL) warnings.push(`[${a.constructPath}] ${a.message}`);
    }
    const written = path.basename(entry.synthesizedStackPath);
    // metadata.json is written with HCL only (the manifest names it either way).
    const hcl = written.endsWith(".tf");
    const keep = new Set([written, ...(hcl && entry.stackMetadataPath ? [path.basename(entry.stackMetadataPath)] : [])]);
    for (const file of CONFIG_FILES) {
      if (!keep.has(file)) fs.rmSync(path.join(dir, file), { force: true });
    }
    const configPath = path.join(app.outdir, entry.synthesizedStackPath);
    let text = fs.readFileSync(configPath, "utf8");
    if (hcl && text.trimStart().startsWith("{")) {
      // cdktf 0.21 decides the format when a stack is created, from SYNTH_HCL_OUTPUT; the App's
      // hclOutput alone only names the file.
      throw new ValidationError(
        `prepareHandOff: ${entry.synthesizedStackPath} holds JSON, not HCL: new App({ hclOutput: true }) also needs SYNTH_HCL_OUTPUT=true in the environment before the stacks are created (cdktf 0.21 reads it there; \`npm run synth -- --hcl\` and main.ts --hcl set it). ` +
          "Set it and synthesize again, or leave hclOutput unset for JSON (cdk.tf.json), which plain Terraform reads as well.",
      );
    }
    if (hcl) {
      const fixed = unquoteReferences(text);
      const formatted = terraformFmt(fixed, options.terraformBinary);
      if (formatted === undefined) warnings.push(`${entry.synthesizedStackPath}: no terraform binary to run \`terraform fmt\`; the HCL is valid but not canonically formatted`);
      text = formatted ?? fixed;
      fs.writeFileSync(configPath, text);
    }
    pruneUnusedAssets(dir, text);
    const stack = stacks.get(name);
    const config = (stack ? stack.toTerraform() : JSON.parse(text)) as TerraformConfig;
    const statePath = config.terraform?.backend?.local?.path;
    if (typeof statePath === "string" && path.isAbsolute(statePath)) {
      // cdktf's default when the stack names no backend: a path of this machine, outside the folder.
      warnings.push(`${entry.workingDirectory}: the local state path ${statePath} is an absolute path of this machine, outside the stack folder; give the stack new LocalBackend(stack, { path: "terraform.tfstate" }) (relative: inside the folder) or a remote backend before handing the folder off`);
    }
    fs.writeFileSync(path.join(dir, "README.md"), stackReadme(name, written, config, fs.existsSync(path.join(dir, "assets"))));
    stackDirectories.push(entry.workingDirectory);
  }
  if (options.printWarnings ?? true) {
    for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  }
  return { stackDirectories, warnings };
}
