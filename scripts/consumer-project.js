// A separate cdktf project that installs this library from its packed tarball, as another team
// would. Shared by the consumer test (scripts/consumer-test.js) and its benchmark
// (bench/consumer.js). Everything is installed from the npm cache (`--offline`): the repo's own
// `npm ci` put cdktf, constructs, the providers and the typescript-5.0 / constructs-lowest
// aliases there.
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const PKG = require(path.join(ROOT, "package.json"));

/** The versions the consumer installs: the lowest each peer range allows (the repo's own tests use the pinned dev versions). */
function lowestPeers() {
  const lowest = (range) => {
    const m = /^[~^]?(\d+\.\d+\.\d+)$/.exec(range);
    if (!m) throw new Error(`peer range ${range}: only ~x.y.z and ^x.y.z ranges are supported here`);
    return m[1];
  };
  return Object.fromEntries(Object.entries(PKG.peerDependencies).map(([name, range]) => [name, lowest(range)]));
}

function run(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts, env: { ...process.env, ...opts.env } });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} (in ${opts.cwd || process.cwd()}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

/** `npm pack` (its prepack builds dist/) into `dir`; returns the tarball path and npm's size figures. */
function packLibrary(dir) {
  const r = run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT });
  const info = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")))[0];
  return { tarball: path.join(dir, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path), seconds: r.seconds };
}

/**
 * The consumer's app: its own resource group, workspace and Service Bus namespace; two
 * deployments sharing a registry and a plan, and a wrapper construct of its own (the usual CDK
 * composition) used twice, each holding a deployment with the id "app".
 */
const CONSUMER_MAIN = `import { Construct } from "constructs";
import { App, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { LogAnalyticsWorkspace } from "@cdktf/provider-azurerm/lib/log-analytics-workspace";
import { DataAzurermServicebusNamespace } from "@cdktf/provider-azurerm/lib/data-azurerm-servicebus-namespace";
import {
  AmlFunctionDeployment, HttpAuthLevel, HttpTrigger, ImageBuild, ModelSource, PlanSku, PythonEnvironment,
  ScoringPlan, ScoringRegistry, ServiceBusCardinality, ServiceBusTrigger, prepareHandOff,
} from "@aml-functions/aml-function-deployment";
import type { AmlFunctionDeploymentProps } from "@aml-functions/aml-function-deployment";

/** A team's scoring service: one HTTP deployment named after the service. */
class ScoringService extends Construct {
  public readonly deployment: AmlFunctionDeployment;
  constructor(scope: Construct, id: string, shared: Omit<AmlFunctionDeploymentProps, "triggers">) {
    super(scope, id);
    this.deployment = new AmlFunctionDeployment(this, "app", { ...shared, name: id, imageBuild: ImageBuild.localDocker(), triggers: [new HttpTrigger()] });
  }
}

export function build(app: App): TerraformStack {
  const stack = new TerraformStack(app, "team-scoring");
  new LocalBackend(stack, { path: "terraform.tfstate" });
  const location = "westeurope";
  const rg = new ResourceGroup(stack, "rg", { name: "rg-team-scoring", location });
  const logs = new LogAnalyticsWorkspace(stack, "logs", { name: "log-team-scoring", location, resourceGroupName: rg.name, sku: "PerGB2018", retentionInDays: 30 });
  const bus = new DataAzurermServicebusNamespace(stack, "bus", { name: "sb-team-shared", resourceGroupName: "rg-messaging" });
  const registry = new ScoringRegistry(stack, "registry", { name: "crteamscoring", location, resourceGroupName: rg.name });
  const servicePlan = new ScoringPlan(stack, "plan", { name: "plan-team-scoring", location, resourceGroupName: rg.name, sku: PlanSku.EP1 });
  const shared = {
    location, resourceGroup: rg, registry, servicePlan, logAnalyticsWorkspaceId: logs.id,
    model: ModelSource.fromLocalPath("model/churn"),
    entryScript: "scoring/score.py",
  };
  const http = new AmlFunctionDeployment(stack, "churn-http", {
    ...shared,
    environment: PythonEnvironment.fromPipPackages(["scikit-learn==1.2.1", "joblib==1.2.0"]),
    imageBuild: ImageBuild.localDocker(),
    triggers: [new HttpTrigger({ authLevel: HttpAuthLevel.FUNCTION })],
  });
  const queue = new AmlFunctionDeployment(stack, "churn-queue", {
    ...shared,
    triggers: [new ServiceBusTrigger({ namespace: bus, cardinality: ServiceBusCardinality.MANY })],
  });
  for (const service of ["fraud", "upsell"]) new ScoringService(stack, service, shared);
  const url: string | undefined = http.scoringUrl;
  new TerraformOutput(stack, "apps", { value: [http.functionAppName, queue.functionAppName].join(","), description: "both apps" });
  if (url === undefined) throw new Error("the HTTP deployment has no scoring URL");
  return stack;
}

export function main(): string[] {
  const app = new App();
  build(app);
  app.synth();
  return prepareHandOff(app).stackDirectories.map((d) => app.outdir + "/" + d);
}
`;

/** Runs the compiled app, then reports where every loaded copy of cdktf came from. */
const CONSUMER_RUN = `"use strict";
const app = require("./dist/main.js");
const dirs = app.main();
const copies = Object.keys(require.cache).filter((f) => /[\\\\/]cdktf[\\\\/]lib[\\\\/]index\\.js$/.test(f));
process.stdout.write(JSON.stringify({ dirs, copies }) + "\\n");
`;

const TSCONFIG_BASE = { strict: true, target: "ES2020", lib: ["ES2020"], types: [], skipLibCheck: false, rootDir: ".", outDir: "dist", declaration: false };
/** The consumer settings that must type-check against the shipped .d.ts. */
const TSCONFIGS = {
  "tsconfig.commonjs.json": { ...TSCONFIG_BASE, module: "commonjs", moduleResolution: "node" },
  "tsconfig.node16.json": { ...TSCONFIG_BASE, module: "node16", moduleResolution: "node16" },
  "tsconfig.nodenext.json": { ...TSCONFIG_BASE, module: "nodenext", moduleResolution: "nodenext" },
};

/**
 * Writes the consumer project into `dir`: package.json (the tarball and the lowest peer
 * versions), the sample model and script, the app and its tsconfigs.
 */
function writeConsumer(dir, tarball) {
  fs.mkdirSync(dir, { recursive: true });
  const peers = lowestPeers();
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({
    name: "team-scoring", version: "1.0.0", private: true,
    dependencies: { ...peers, [PKG.name]: `file:${tarball}` },
  }, null, 2));
  fs.cpSync(path.join(ROOT, "examples/churn/models/churn"), path.join(dir, "model/churn"), { recursive: true });
  fs.cpSync(path.join(ROOT, "examples/churn/scoring/score.py"), path.join(dir, "scoring/score.py"));
  fs.writeFileSync(path.join(dir, "main.ts"), CONSUMER_MAIN);
  fs.writeFileSync(path.join(dir, "run.js"), CONSUMER_RUN);
  for (const [file, compilerOptions] of Object.entries(TSCONFIGS)) {
    fs.writeFileSync(path.join(dir, file), JSON.stringify({ compilerOptions, files: ["main.ts"] }, null, 2));
  }
  writeLockfile(dir, tarball, peers);
  return peers;
}

/**
 * The consumer's package-lock.json, made from the repo's own lockfile: the same versions and
 * integrity hashes for the peers (constructs at the lowest claimed version, from the
 * `constructs-lowest` alias) and the library's runtime dependencies, plus the tarball. With it,
 * `npm ci --offline` needs nothing but the tarballs in the npm cache; without it npm would
 * need registry metadata that `npm ci` never caches.
 */
/** A repo lockfile entry as the consumer's: its dev/peer flags and alias name dropped. */
function withoutDevFlags(entry) {
  const kept = { ...entry };
  for (const flag of ["dev", "devOptional", "peer", "name"]) delete kept[flag];
  return kept;
}

function writeLockfile(dir, tarball, peers) {
  const repo = require(path.join(ROOT, "package-lock.json")).packages;
  const aliases = { constructs: "constructs-lowest" };
  const packages = {};
  const place = (repoKey, destKey) => {
    if (packages[destKey]) return;
    const entry = repo[repoKey];
    if (!entry) throw new Error(`${repoKey} is not in the repo's package-lock.json`);
    packages[destKey] = withoutDevFlags(entry);
    // Bundled dependencies come inside the tarball: copy their entries as they are.
    for (const [k, v] of Object.entries(repo)) {
      if (k.startsWith(`${repoKey}/node_modules/`) && v.inBundle) {
        packages[destKey + k.slice(repoKey.length)] = withoutDevFlags(v);
      }
    }
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      if (entry.bundleDependencies && entry.bundleDependencies.includes(dep)) continue;
      // Node's lookup: nested under this package first, then the top level.
      const nested = `${repoKey}/node_modules/${dep}`;
      if (repo[nested]) place(nested, `${destKey}/node_modules/${dep}`);
      else place(`node_modules/${dep}`, `node_modules/${dep}`);
    }
  };
  for (const [name, version] of Object.entries(peers)) {
    const repoKey = `node_modules/${aliases[name] && repo[`node_modules/${name}`].version !== version ? aliases[name] : name}`;
    if (repo[repoKey].version !== version) throw new Error(`${repoKey} is ${repo[repoKey].version} in the repo's lockfile, the consumer needs ${version}`);
    place(repoKey, `node_modules/${name}`);
  }
  for (const dep of Object.keys(PKG.dependencies)) place(`node_modules/${dep}`, `node_modules/${dep}`);
  const integrity = "sha512-" + require("crypto").createHash("sha512").update(fs.readFileSync(tarball)).digest("base64");
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  packages[`node_modules/${PKG.name}`] = {
    version: PKG.version, resolved: `file:${tarball}`, integrity, license: PKG.license,
    dependencies: PKG.dependencies, engines: PKG.engines, peerDependencies: PKG.peerDependencies,
  };
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a < b ? -1 : 1)));
  const lock = { name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages: { "": { name: pkg.name, version: pkg.version, dependencies: pkg.dependencies }, ...sorted } };
  fs.writeFileSync(path.join(dir, "package-lock.json"), JSON.stringify(lock, null, 2));
}

/** `npm ci` from the cache only. */
function installConsumer(dir) {
  return run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir });
}

/**
 * The TypeScript compilers a consumer may use, each with the module settings it supports:
 * 5.0 (the oldest supported) and the repo's own (TypeScript 7 dropped `moduleResolution: node`).
 */
function compilers() {
  return {
    "5.0.4": { tsc: path.join(ROOT, "node_modules/typescript-5.0/bin/tsc"), configs: ["tsconfig.commonjs.json", "tsconfig.node16.json"] },
    [require(path.join(ROOT, "node_modules/typescript/package.json")).version]: { tsc: path.join(ROOT, "node_modules/typescript/bin/tsc"), configs: ["tsconfig.node16.json", "tsconfig.nodenext.json"] },
  };
}

function typecheck(dir, tsc, tsconfig, emit) {
  return run("node", [tsc, "-p", tsconfig, ...(emit ? [] : ["--noEmit"])], { cwd: dir });
}

/** Runs the consumer's compiled app; returns the stack folders and the loaded copies of cdktf. */
function synthConsumer(dir) {
  const r = run("node", ["run.js"], { cwd: dir, env: { CDKTF_OUTDIR: path.join(dir, "cdktf.out") } });
  return { seconds: r.seconds, ...JSON.parse(r.stdout.trim().split("\n").pop()) };
}

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

module.exports = { ROOT, PKG, lowestPeers, packLibrary, writeConsumer, installConsumer, compilers, typecheck, synthConsumer, tempDir, run, TSCONFIGS };
