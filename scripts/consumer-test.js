#!/usr/bin/env node
// `npm run test:consumer` (part of `npm test`): packs this library, installs the tarball into a
// fresh cdktf project with the lowest peer versions the package claims (offline, from the npm
// cache), type-checks that project against the shipped .d.ts with TypeScript 5.0 and the repo's
// TypeScript (strict; commonjs + node resolution, node16 + node16), synthesizes a larger stack
// there and checks it. Then the same app with a second copy of the library and cdktf loaded (what
// a symlinked `file:` dependency gives). Exits non-zero on the first failed check.
"use strict";
const assert = require("assert/strict");
const fs = require("fs");
const path = require("path");
const cp = require("./consumer-project");

const t0 = Date.now();
const log = (msg) => console.log(`consumer: ${msg}`);
const work = cp.tempDir("aml-consumer-");

try {
  // ---- The package itself.
  const packed = cp.packLibrary(work);
  log(`packed ${path.basename(packed.tarball)}: ${packed.files.length} files, ${packed.size} bytes (${packed.unpackedSize} unpacked) in ${packed.seconds.toFixed(1)} s`);

  const dir = path.join(work, "team-scoring");
  const peers = cp.writeConsumer(dir, packed.tarball);
  const install = cp.installConsumer(dir);
  log(`npm install --offline (${Object.entries(peers).map(([n, v]) => `${n}@${v}`).join(", ")}) in ${install.seconds.toFixed(1)} s`);
  for (const [name, version] of Object.entries(peers)) {
    assert.equal(require(path.join(dir, "node_modules", name, "package.json")).version, version, `${name} installed at the lowest claimed version`);
  }
  const installed = path.join(dir, "node_modules", cp.PKG.name);
  assert.ok(!fs.lstatSync(installed).isSymbolicLink(), "the tarball is installed as a copy, not a link");
  for (const forbidden of ["__tests__", ".ci", "bench", "examples", "scoring-image/tests", "scoring-image/bench", "lib", "main.ts", "dist/main.js"]) {
    assert.ok(!fs.existsSync(path.join(installed, forbidden)), `${forbidden} is not shipped`);
  }
  assert.ok(!fs.existsSync(path.join(installed, "node_modules", "cdktf")), "no private copy of cdktf under the library");

  // ---- Types: every supported compiler and module setting, against the shipped .d.ts.
  for (const [version, { tsc, configs }] of Object.entries(cp.compilers())) {
    for (const tsconfig of configs) {
      // TypeScript 5.0 with commonjs also emits the consumer's run.js (the synth below runs it).
      const emit = version === "5.0.4" && tsconfig === "tsconfig.commonjs.json";
      const r = cp.typecheck(dir, tsc, tsconfig, emit);
      log(`TypeScript ${version}, ${tsconfig}, strict: type-checks (${r.seconds.toFixed(1)} s)`);
    }
  }

  // ---- Synth, one copy of cdktf.
  const one = cp.synthConsumer(dir);
  log(`first synth in ${one.seconds.toFixed(1)} s`);
  assert.equal(one.copies.length, 1, `one copy of cdktf is loaded, found ${one.copies.join(", ")}`);
  assert.ok(one.copies[0].startsWith(path.join(dir, "node_modules", "cdktf")), `cdktf comes from the consumer's node_modules: ${one.copies[0]}`);
  const stackDir = one.dirs[0];
  const json = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
  const count = (type) => Object.keys(json.resource[type] ?? {}).length;
  assert.equal(count("azurerm_resource_group"), 1, "only the consumer's resource group");
  assert.equal(count("azurerm_log_analytics_workspace"), 1, "only the consumer's workspace");
  assert.equal(count("azurerm_container_registry"), 1, "one shared registry");
  assert.equal(count("azurerm_service_plan"), 1, "one shared plan");
  assert.equal(count("azurerm_linux_function_app"), 4, "four function apps (two in wrapper constructs)");
  assert.equal(count("azurerm_servicebus_namespace"), 0, "the existing namespace is used, not created");
  assert.equal(Object.keys(json.data.azurerm_servicebus_namespace).length, 1, "the namespace data source");
  assert.ok(count("azurerm_servicebus_queue") >= 1, "the trigger's queues in the existing namespace");
  const apps = Object.values(json.resource.azurerm_linux_function_app);
  const planRef = Object.keys(json.resource.azurerm_service_plan).map((id) => `\${azurerm_service_plan.${id}.id}`)[0];
  assert.ok(apps.every((a) => a.service_plan_id === planRef), "every app on the shared plan");
  const rgRef = Object.keys(json.resource.azurerm_resource_group).map((id) => `\${azurerm_resource_group.${id}.name}`)[0];
  assert.ok(apps.every((a) => a.resource_group_name === rgRef), "every app in the consumer's resource group");
  const workspaceRef = Object.keys(json.resource.azurerm_log_analytics_workspace).map((id) => `\${azurerm_log_analytics_workspace.${id}.id}`)[0];
  assert.ok(Object.values(json.resource.azurerm_application_insights).every((i) => i.workspace_id === workspaceRef), "telemetry to the consumer's workspace");
  assert.deepEqual(json.provider.azurerm, [{ features: [{}], storage_use_azuread: true }], "one azurerm provider, added by the library");
  const outputs = Object.keys(json.output);
  for (const o of ["churn-http_function_app_name", "churn-http_scoring_url", "churn-http_image", "churn-queue_function_app_name", "churn-queue_image", "apps"].map((o) => o.replace(/-/g, "_"))) {
    assert.ok(outputs.includes(o), `output ${o} (have ${outputs.join(", ")})`);
  }
  // The wrapper used twice: each deployment has its own outputs, named after its \`name\`.
  for (const service of ["fraud", "upsell"]) {
    const appName = json.output[`${service}_function_app_name`];
    assert.ok(appName, `output ${service}_function_app_name (have ${outputs.join(", ")})`);
    const [, appId] = /^\$\{azurerm_linux_function_app\.([^.]+)\.name\}$/.exec(appName.value) ?? [];
    assert.ok(json.resource.azurerm_linux_function_app[appId]?.name.startsWith(`func-${service}-`), `${service}_function_app_name refers to the ${service} app`);
    for (const o of ["scoring_url", "image", "default_hostname"]) assert.ok(outputs.includes(`${service}_${o}`), `output ${service}_${o}`);
  }
  assert.ok(!outputs.some((o) => o.startsWith("app_")), "no output prefixed with the shared construct id \"app\"");
  // The library found scoring-image/ in its install location and staged the build context.
  const assets = path.join(stackDir, "assets");
  assert.ok(fs.readdirSync(assets, { recursive: true }).some((f) => String(f).endsWith("Dockerfile")), "the staged build context holds the Dockerfile");
  assert.ok(fs.existsSync(path.join(stackDir, "README.md")), "hand-off README in the stack folder");
  log(`stack checked: ${Object.values(json.resource).reduce((n, byId) => n + Object.keys(byId).length, 0)} resources, ${outputs.length} outputs`);

  // ---- Two copies of cdktf: the library as a symlinked `file:` dependency of the repo (what
  // `npm install ../repo` makes). Node resolves the link to the repo, so the library loads the
  // repo's cdktf and providers while the app uses its own. The repo's dist/ was built by prepack.
  const aside = `${installed}.packed`;
  fs.renameSync(installed, aside);
  fs.symlinkSync(cp.ROOT, installed, "dir");
  const appConstructs = path.join(dir, "node_modules", "constructs");
  try {
    // The app's constructs (the lowest, 10.4.2) differs from the repo's: refused with a message
    // that says why and what to do, not constructs' own "scope.node._scopes is not iterable".
    assert.throws(() => cp.synthConsumer(dir), (e) => /another copy of the "constructs" package/.test(e.message) && /install the library from its tarball/.test(e.message));
    log("as a symlinked file: dependency with another constructs version: refused with a clear message");
    // Same constructs version on both sides: two copies of cdktf work together.
    fs.renameSync(appConstructs, `${appConstructs}.lowest`);
    fs.cpSync(path.join(cp.ROOT, "node_modules", "constructs"), appConstructs, { recursive: true });
    const two = cp.synthConsumer(dir);
    assert.equal(two.copies.length, 2, `two copies of cdktf are loaded: ${two.copies.join(", ")}`);
    // (Node reports real paths: the repo's node_modules may be a link, as in a git worktree.)
    assert.ok(two.copies.some((c) => c.startsWith(fs.realpathSync(path.join(cp.ROOT, "node_modules")))), "one of them the repo's");
    const json2 = JSON.parse(fs.readFileSync(path.join(two.dirs[0], "cdk.tf.json"), "utf8"));
    assert.deepEqual(json2.provider.azurerm, json.provider.azurerm, "providers still right");
    assert.deepEqual(Object.keys(json2.output).sort(), outputs.sort(), "same outputs");
    assert.deepEqual(Object.keys(json2.resource).sort(), Object.keys(json.resource).sort(), "same resource types");
  } finally {
    fs.unlinkSync(installed);
    fs.renameSync(aside, installed);
    if (fs.existsSync(`${appConstructs}.lowest`)) {
      fs.rmSync(appConstructs, { recursive: true, force: true });
      fs.renameSync(`${appConstructs}.lowest`, appConstructs);
    }
  }
  log("as a symlinked file: dependency (two copies of cdktf loaded): same providers, resources and outputs");

  log(`passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  fs.rmSync(work, { recursive: true, force: true });
} catch (err) {
  console.error(`consumer: FAILED (work folder kept: ${work})\n${err && err.stack ? err.stack : err}`);
  process.exit(1);
}
