#!/usr/bin/env node
// Runs the Python unit tests of scoring-image/ (aml_host, adapters, sample model end to end).
//
// Interpreter: $PYTHON if set; else /usr/bin/python3 when it exists and can import sklearn
// (Debian's python3-sklearn, needed by the end-to-end tests); else python3 from PATH.
// Set AML_REQUIRE_SKLEARN=1 to make the scikit-learn tests fail instead of skip when sklearn
// is missing. The exit code of unittest is forwarded.
//
// Not run here: scoring-image/tests/worker_test_*.py (the real Functions worker). They need the
// staged build context of a synthesized app, so __tests__/project/real-worker.test.ts (jest) synthesizes
// one and runs them through scoring-image/tests/worker_harness.py in a process of their own.
"use strict";

const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const repoRoot = path.resolve(__dirname, "..");

function canImportSklearn(python) {
  const probe = spawnSync(python, ["-c", "import sklearn"], { stdio: "ignore" });
  return probe.status === 0;
}

function pickInterpreter() {
  if (process.env.PYTHON) {
    return { python: process.env.PYTHON, why: "from $PYTHON" };
  }
  const debian = "/usr/bin/python3";
  if (fs.existsSync(debian) && canImportSklearn(debian)) {
    return { python: debian, why: "has scikit-learn" };
  }
  return { python: "python3", why: "from PATH; /usr/bin/python3 with scikit-learn not found" };
}

const { python, why } = pickInterpreter();
const version = spawnSync(python, ["-c", "import sys; print(sys.version.split()[0])"], { encoding: "utf8" });
if (version.error || version.status !== 0) {
  console.error(`python-tests: cannot run ${python}: ${version.error ? version.error.message : version.stderr}`);
  process.exit(2);
}
console.log(`python-tests: using ${python} (Python ${version.stdout.trim()}, ${why})`);

const args = ["-m", "unittest", "discover", "-s", "scoring-image/tests", "-t", "scoring-image", ...process.argv.slice(2)];
const child = spawn(python, args, {
  cwd: repoRoot,
  stdio: ["ignore", "inherit", "pipe"],
  env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
});
let report = "";
child.stderr.on("data", (chunk) => {
  process.stderr.write(chunk);
  report += chunk.toString("utf8");
});
child.on("error", (err) => {
  console.error(`python-tests: ${err.message}`);
  process.exit(2);
});
child.on("close", (code) => {
  // unittest's summary goes to stderr; restate it as a plain "N passed, N failed" line.
  const ran = /^Ran (\d+) tests? in /m.exec(report);
  if (ran) {
    const count = (name) => {
      const m = new RegExp(`${name}=(\\d+)`).exec(report.slice(ran.index));
      return m ? Number(m[1]) : 0;
    };
    const failed = count("failures") + count("errors") + count("unexpected successes");
    const skipped = count("skipped");
    const passed = Number(ran[1]) - failed - skipped - count("expected failures");
    console.log(`python: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
  process.exit(code === null ? 1 : code);
});
