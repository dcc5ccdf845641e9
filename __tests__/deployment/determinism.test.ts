import * as fs from "fs";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { App, LocalBackend, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, ImageBuild } from "../../lib";
import { sampleProps } from "../helpers";
import { tempDir } from "../temp-dirs";

// These tests look inside the staged context folder, which only the local Docker build puts into
// the assets (the ACR build ships it as an archive: its determinism is in __tests__/image/build/acr-task-build.test.ts).
function fullSynth(hcl = false): { outdir: string; stackDir: string } {
  const outdir = tempDir("aml-synth-");
  // cdktf reads HCL mode from SYNTH_HCL_OUTPUT (what `cdktf synth --hcl` sets) when the stack is created.
  const before = process.env.SYNTH_HCL_OUTPUT;
  process.env.SYNTH_HCL_OUTPUT = hcl ? "true" : "false";
  try {
    const app = new App({ outdir, hclOutput: hcl });
    const stack = new TerraformStack(app, "scoring");
    new LocalBackend(stack, { path: "../../../terraform.scoring.tfstate" });
    new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.localDocker() }));
    app.synth();
  } finally {
    if (before === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = before;
  }
  return { outdir, stackDir: path.join(outdir, "stacks", "scoring") };
}

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p).toString("base64");
    }
  };
  walk(dir);
  return out;
}

describe("deterministic output", () => {
  const first = fullSynth();
  const second = fullSynth();

  test("two synths of the same app give byte-identical Terraform JSON", () => {
    const a = fs.readFileSync(path.join(first.stackDir, "cdk.tf.json"));
    const b = fs.readFileSync(path.join(second.stackDir, "cdk.tf.json"));
    expect(a.equals(b)).toBe(true);
  });

  test("and identical staged build contexts (same image tag: no rebuild, no push)", () => {
    const assets = (s: { stackDir: string }) => tree(path.join(s.stackDir, "assets"));
    const a = assets(first);
    expect(Object.keys(a).some((f) => f.endsWith("Dockerfile"))).toBe(true);
    expect(Object.keys(a).some((f) => f.endsWith("model-small-files.tar"))).toBe(true);
    expect(assets(second)).toEqual(a);
  });

  test("the staged context holds the function definition and the user's requirements", () => {
    const files = tree(path.join(first.stackDir, "assets"));
    const get = (suffix: string) => {
      const key = Object.keys(files).find((f) => f.endsWith(suffix));
      if (!key) throw new Error(`no ${suffix} in the staged context`);
      return Buffer.from(files[key], "base64").toString("utf8");
    };
    expect(JSON.parse(get("app/score/function.json")).bindings[0]).toMatchObject({ type: "httpTrigger", authLevel: "function", route: "score" });
    expect(get("app/score/__init__.py")).toContain("from adapters.http_adapter import main");
    expect(get("/requirements.txt")).toBe("scikit-learn==1.2.1\njoblib==1.2.0\n");
    expect(get("source/score.py")).toContain("def run(");
  });
});

describe("HCL output for platform teams", () => {
  test("synthesizes cdk.tf that terraform parses", () => {
    const { stackDir } = fullSynth(true);
    const hcl = fs.readFileSync(path.join(stackDir, "cdk.tf"), "utf8");
    expect(hcl).toContain('resource "azurerm_linux_function_app"');
    expect(hcl).toContain('resource "docker_registry_image"');
    const terraform = execFileSync("bash", ["-lc", "command -v terraform || true"]).toString().trim();
    expect(terraform).not.toBe(""); // the README lists terraform (any 1.x) as a test prerequisite
    // `terraform fmt -check`: 0 formatted, 3 parses but needs formatting, 2 syntax error.
    const r = spawnSync(terraform, ["fmt", "-check", "-no-color", "-"], { input: hcl });
    expect([0, 3]).toContain(r.status);
  });
});
