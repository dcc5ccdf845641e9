/**
 * What the tests that run function folders in the REAL Azure Functions Python worker share: the
 * vendored worker (../shared/vendor, beside the clone), the harness that lays out a staged build
 * context as the Dockerfile does, and the rule for a machine without them: outside CI the test is
 * reported as skipped (never passed); in CI (`CI` set) it runs and fails.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO } from "./helpers";

export const VENDOR = path.resolve(REPO, "..", "shared", "vendor", "azure-functions-python");
export const HARNESS = path.join(REPO, "scoring-image", "tests", "worker_harness.py");

/** $PYTHON, else Debian's interpreter (where scripts/test-setup.js installs the packages). */
export function python(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  return fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

/** The environment that makes the vendored worker and `azure.functions` importable. */
export function workerEnv(): NodeJS.ProcessEnv {
  const paths = [path.join(VENDOR, "worker"), path.join(VENDOR, "library")];
  return { ...process.env, PYTHONPATH: paths.join(path.delimiter), PYTHONDONTWRITEBYTECODE: "1" };
}

/** Why the real worker cannot run here, or undefined when it can. */
export function missingWorker(): string | undefined {
  if (!fs.existsSync(path.join(VENDOR, "worker", "azure_functions_worker"))) return `the vendored worker is missing (${VENDOR})`;
  const probe = spawnSync(python(), ["-c", "import grpc, google.protobuf, dateutil, requests, sklearn, joblib, azure_functions_worker.dispatcher, azure.functions"], {
    env: workerEnv(), encoding: "utf8", cwd: os.tmpdir(),
  });
  if (probe.error || probe.status !== 0) return `${python()} cannot import the worker's dependencies: ${probe.error?.message ?? probe.stderr.trim().split("\n").pop()}`;
  return undefined;
}

const inCi = !["", "0", "false"].includes((process.env.CI ?? "").toLowerCase());

/**
 * `test`, or `test.skip` outside CI when the worker is missing (with the reason printed). The
 * test body should throw `missing` first thing when it is set: in CI that is the failure.
 */
export function realWorkerTest(label: string): { missing: string | undefined; workerTest: typeof test } {
  const missing = missingWorker();
  if (missing !== undefined && !inCi) console.warn(`${label} skipped: ${missing}`);
  return { missing, workerTest: missing !== undefined && !inCi ? test.skip : test };
}

/** Runs the harness in the worker; returns its report (stdout and stderr), throwing on failure. */
export function runHarness(args: string[], what: string): string {
  const run = spawnSync(python(), [HARNESS, ...args], {
    env: workerEnv(), encoding: "utf8", cwd: os.tmpdir(), timeout: 600_000, maxBuffer: 64 * 1024 * 1024,
  });
  const report = `${run.stdout}\n${run.stderr}`;
  if (run.status !== 0) throw new Error(`${what} failed (exit ${run.status}${run.error ? `, ${run.error.message}` : ""}):\n${report.slice(-20000)}`);
  return report;
}
