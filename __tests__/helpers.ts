import * as fs from "fs";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { AmlFunctionDeploymentProps } from "../lib/aml-function-deployment";
import { HttpTrigger, ModelSource, PythonEnvironment } from "../lib";

export const REPO = path.resolve(__dirname, "..");
export const SAMPLE_MODEL = path.join(REPO, "examples/churn/models/churn");
export const SAMPLE_SCRIPT = path.join(REPO, "examples/churn/scoring/score.py");

/** The smallest valid props: the bundled sample model and script behind one HTTP trigger. */
export function sampleProps(overrides: Partial<AmlFunctionDeploymentProps> = {}): AmlFunctionDeploymentProps {
  return {
    location: "westeurope",
    model: ModelSource.fromLocalPath(SAMPLE_MODEL),
    entryScript: SAMPLE_SCRIPT,
    environment: PythonEnvironment.fromPipPackages(["scikit-learn==1.2.1", "joblib==1.2.0"]),
    triggers: [new HttpTrigger()],
    ...overrides,
  };
}

export function newStack(): TerraformStack {
  return new TerraformStack(Testing.app(), "test");
}

/** Synthesizes with aspects (so the providers get added) and returns the parsed JSON. */
export function synthJson(stack: TerraformStack): any {
  return JSON.parse(Testing.synth(stack));
}

/** All resources of one type, by logical id. */
export function resourcesOf(json: any, type: string): Record<string, any> {
  return json.resource?.[type] ?? {};
}

/** The single resource of a type (fails the test when there are more or none). */
export function onlyResource(json: any, type: string): any {
  const all = Object.values(resourcesOf(json, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** The Terraform reference `${type.name.attr}` of the resource whose body satisfies `pick`. */
export function refTo(json: any, type: string, attr: string, pick: (r: any) => boolean = () => true): string {
  const entry = Object.entries(resourcesOf(json, type)).find(([, r]) => pick(r));
  if (!entry) throw new Error(`no ${type} matches`);
  return `\${${type}.${entry[0]}.${attr}}`;
}

/**
 * The staged build context a full synth put into a stack's assets (the local Docker build ships
 * it as a folder): the one asset folder holding the image's `app/host.json`. Throws when there is
 * not exactly one.
 */
export function stagedContextDir(stackDir: string): string {
  const assets = path.join(stackDir, "assets");
  const hosts: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(`${path.sep}app${path.sep}host.json`)) hosts.push(p);
    }
  };
  walk(assets);
  if (hosts.length !== 1) throw new Error(`expected one staged context (app/host.json) under ${assets}, found ${hosts.length}`);
  return path.dirname(path.dirname(hosts[0]));
}
