#!/usr/bin/env node
// First step of `npm test`: makes sure the machine has what the test suite needs outside npm, so
// that `npm ci && npm test` is all a fresh machine needs.
//
// - Debian's /usr/bin/python3 with scikit-learn and joblib (end-to-end scoring with the sample
//   model) and grpcio, protobuf, dateutil and requests (the real Azure Functions Python worker);
//   openssl (the certificate of Azurite's HTTPS mode). PyPI is not reachable, so these come from
//   Debian: as root they are installed with apt-get; otherwise this fails at once and prints the
//   one command that installs them, instead of letting two suites fail minutes later.
// - terraform (any 1.x) parses the synthesized HCL. Debian does not package it, so it is only
//   reported.
//
// Overrides, for the test that simulates a fresh machine: AML_SETUP_PYTHON (the interpreter
// probed), AML_SETUP_APT_GET (the apt-get run), AML_SETUP_AS_ROOT ("1"/"0" instead of the uid),
// AML_SETUP_PATH (where openssl and terraform are looked for instead of $PATH).
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

/** Python modules the tests import, and the Debian package that brings each. */
const PYTHON_MODULES = [
  ["sklearn", "python3-sklearn"],
  ["joblib", "python3-joblib"],
  ["grpc", "python3-grpcio"],
  ["google.protobuf", "python3-protobuf"],
  ["dateutil", "python3-dateutil"],
  ["requests", "python3-requests"],
];

function onPath(command, searchPath) {
  return searchPath.split(path.delimiter).some((dir) => dir !== "" && fs.existsSync(path.join(dir, command)));
}

/** Debian packages this machine lacks (one probe of the interpreter for all modules). */
function missingPackages(python, searchPath) {
  const probe = spawnSync(python, ["-c", [
    "import importlib.util, sys",
    "for m in sys.argv[1:]:",
    "    try:",
    "        found = importlib.util.find_spec(m) is not None",
    "    except ImportError:",
    "        found = False",
    "    print(m, found)",
  ].join("\n"), ...PYTHON_MODULES.map(([m]) => m)], { encoding: "utf8" });
  const found = new Set(
    probe.status === 0 ? probe.stdout.split("\n").filter((l) => l.endsWith(" True")).map((l) => l.split(" ")[0]) : [],
  );
  const missing = PYTHON_MODULES.filter(([m]) => !found.has(m)).map(([, pkg]) => pkg);
  if (!fs.existsSync(python)) missing.unshift("python3");
  if (!onPath("openssl", searchPath)) missing.push("openssl");
  return missing;
}

function main() {
  const python = process.env.AML_SETUP_PYTHON ?? "/usr/bin/python3";
  const aptGet = process.env.AML_SETUP_APT_GET ?? "apt-get";
  const searchPath = process.env.AML_SETUP_PATH ?? process.env.PATH ?? "";
  const asRoot = process.env.AML_SETUP_AS_ROOT !== undefined ? process.env.AML_SETUP_AS_ROOT === "1" : process.getuid?.() === 0;

  if (!onPath("terraform", searchPath)) {
    console.error("test-setup: terraform (any 1.x) is needed to parse the synthesized HCL; Debian does not package it: install it from HashiCorp and run again");
    return 1;
  }
  const missing = missingPackages(python, searchPath);
  if (missing.length === 0) return 0;

  const install = `apt-get update && apt-get install -y ${missing.join(" ")}`;
  if (!asRoot) {
    console.error(`test-setup: missing Debian packages: ${missing.join(", ")}. Install them, then run npm test again:\n  sudo sh -c '${install}'`);
    return 1;
  }
  console.log(`test-setup: installing the Debian packages the tests need: ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", ...missing]]) {
    const run = spawnSync(aptGet, args, { stdio: ["ignore", "ignore", "inherit"], env });
    if (run.error || run.status !== 0) {
      console.error(`test-setup: ${aptGet} ${args.join(" ")} failed (${run.error?.message ?? `exit ${run.status}`})`);
      return 1;
    }
  }
  const still = missingPackages(python, searchPath);
  if (still.length > 0) {
    console.error(`test-setup: still missing after apt-get install: ${still.join(", ")}`);
    return 1;
  }
  return 0;
}

if (require.main === module) process.exit(main());

module.exports = { PYTHON_MODULES };
