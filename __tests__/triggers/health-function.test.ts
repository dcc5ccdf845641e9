import * as fs from "fs";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { AmlFunctionDeployment, HttpTrigger, ImageBuild } from "../../lib";
import { BlobTrigger } from "../../lib/triggers/blob-trigger";
import { ITrigger } from "../../lib/triggers/trigger";
import { HEALTH_CHECK_EVICTION_TIME_IN_MIN, HEALTH_CHECK_PATH } from "../../lib/triggers/function-definitions";
import { message } from "../error-message";
import { tempDir } from "../temp-dirs";
import { newStack, onlyResource, sampleProps, stagedContextDir, synthJson } from "../helpers";
import { schemaProblems } from "../schema-check";

/** Synthesizes into a temp dir and returns the app resource and the staged context's files. */
function synthWithContext(triggers: ITrigger[] = [new HttpTrigger()]) {
  const outdir = tempDir("aml-health-");
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "scoring");
  // The local Docker build ships the staged context folder as is in the assets (the ACR build
  // ships the same files as an archive).
  new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers, imageBuild: ImageBuild.localDocker() }));
  app.synth();
  const stackDir = path.join(outdir, "stacks", "scoring");
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  const dir = stagedContextDir(stackDir);
  return { json, read: (rel: string) => fs.readFileSync(path.join(dir, rel), "utf8") };
}

describe("the health function", () => {
  test("every app gets an anonymous GET api/health function served by the health adapter", () => {
    const { read } = synthWithContext([new BlobTrigger()]);
    expect(JSON.parse(read("app/health/function.json"))).toEqual({
      bindings: [
        { type: "httpTrigger", direction: "in", name: "req", authLevel: "anonymous", methods: ["get"], route: "health" },
        { type: "http", direction: "out", name: "$return" },
      ],
    });
    expect(read("app/health/__init__.py")).toBe("from adapters.health_adapter import main  # noqa: F401\n");
    expect(JSON.parse(read("app/health/aml.json"))).toEqual({ kind: "health" });
    expect(read("app/adapters/health_adapter.py")).toContain("async def main(req");
  });

  test("the app's health check points at it, with the longest eviction time", () => {
    const { json } = synthWithContext();
    const app = onlyResource(json, "azurerm_linux_function_app");
    expect(app.site_config.health_check_path).toBe("/api/health");
    expect(app.site_config.health_check_eviction_time_in_min).toBe(10);
    expect(HEALTH_CHECK_PATH).toBe("/api/health");
    expect(HEALTH_CHECK_EVICTION_TIME_IN_MIN).toBeGreaterThanOrEqual(2);
    expect(HEALTH_CHECK_EVICTION_TIME_IN_MIN).toBeLessThanOrEqual(10);
    expect(schemaProblems(json)).toEqual([]);
    // The provider rejects WEBSITE_HEALTHCHECK_MAXPINGFAILURES next to the eviction time.
    expect(Object.keys(app.app_settings ?? {})).not.toContain("WEBSITE_HEALTHCHECK_MAXPINGFAILURES");
  });

  test.each(["health", "Health", "HEALTH/", "health/"])("an HTTP route %p that clashes with it is refused", (route) => {
    const text = message(() => synthJson((() => {
      const stack = newStack();
      new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new HttpTrigger({ route })] }));
      return stack;
    })()));
    expect(text).toContain(`api/${route}`);
    expect(text).toContain("health function");
    expect(text).toContain("triggers");
  });

  test("a function named health (any case) is refused; routes below health/ are fine", () => {
    const text = message(() => new AmlFunctionDeployment(newStack(), "churn", sampleProps({ triggers: [new HttpTrigger({ functionName: "Health" })] })));
    expect(text).toContain("\"Health\"");
    expect(text).toContain("reserved for the app's health function");
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new HttpTrigger({ route: "health/model" })] }));
    expect(onlyResource(synthJson(stack), "azurerm_linux_function_app").site_config.health_check_path).toBe("/api/health");
  });
});
