#!/usr/bin/env node
// CPU time (user + system, all threads) of staging a 20,000-file model on a first synth, in a
// fresh process per run: the staging alone, without module loading or the rest of the synth, so
// two versions of the code can be compared on a noisy machine (wall-clock medians of whole
// synths move by ±15% from run to run here; CPU time of this one step much less).
//
//   node bench/staging-cpu.js [--runs N] [--repo DIR ...]
//
// Each --repo is a checkout with `dist/` built (default: this one); runs alternate between them.
// Per run: a new staging folder (no input manifests), then the local build's staged folder
// (`stageFolder()`) or the ACR build's archive (`writeArchive()`). The model lives in
// /dev/shm when it exists (a file system without ext4's allocator history, see big-model.js).
const { spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { median } = require("./median");

if (process.argv[2] === "--child") {
  const [, , , repo, mode, model, staging] = process.argv;
  process.env.AML_FUNCTION_STAGING_DIR = staging;
  const buildContext = require(path.join(repo, "dist/lib/image/build-context"));
  const { ModelSource } = require(path.join(repo, "dist/lib/model/model-source"));
  const { resolveEntryScript } = require(path.join(repo, "dist/lib/entry-script"));
  const script = resolveEntryScript("bench", path.join(repo, "examples/churn/scoring/score.py"));
  const spec = {
    owner: "bench", scoringImageDir: path.join(repo, "scoring-image"), model: ModelSource.fromLocalPath(model).resolve("bench"),
    entryScript: script, requirementsTxt: "scikit-learn==1.2.1\n", generatedFiles: {}, buildArgs: {}, platform: "linux/amd64",
    // As the local build of checkouts before the one pipeline asked for it.
    packWhileHashing: mode === "local",
  };
  const before = process.cpuUsage();
  if (buildContext.prepareBuildContext !== undefined) {
    const context = buildContext.prepareBuildContext(spec);
    if (mode === "local") context.stageFolder();
    else context.writeArchive();
  } else {
    // Checkouts before the one pipeline: staged when `directory` is read, archived by a function of its own.
    const context = buildContext.stageBuildContext(spec);
    if (mode === "local") void context.directory;
    else require(path.join(repo, "dist/lib/image/build/context-archive")).writeContextArchive(context);
  }
  const used = process.cpuUsage(before);
  process.stdout.write(String((used.user + used.system) / 1000));
  process.exit(0);
}

const args = process.argv.slice(2);
const runs = args.includes("--runs") ? Number(args[args.indexOf("--runs") + 1]) : 9;
const repos = args.flatMap((a, i) => (args[i - 1] === "--repo" ? [path.resolve(a)] : []));
if (repos.length === 0) repos.push(path.resolve(__dirname, ".."));
const base = fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
const work = fs.mkdtempSync(path.join(base, "bench-staging-cpu-"));
try {
  const model = path.join(work, "model");
  for (let d = 0; d < 20; d++) {
    const sub = path.join(model, `d${String(d).padStart(3, "0")}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 1000; f++) fs.writeFileSync(path.join(sub, `f${f}.bin`), crypto.randomBytes(4096));
  }
  // Files changed in the last 2 s are not cached: let them settle, as a real model would be.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2500);
  for (const mode of ["local", "acr"]) {
    const times = new Map(repos.map((r) => [r, []]));
    for (let i = 0; i < runs; i++) {
      for (const repo of repos) {
        const staging = path.join(work, `staging-${mode}-${i}-${repos.indexOf(repo)}`);
        const r = spawnSync(process.execPath, [__filename, "--child", repo, mode, model, staging], { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`${repo} ${mode}: ${r.stderr}`);
        times.get(repo).push(Number(r.stdout));
        fs.rmSync(staging, { recursive: true, force: true });
      }
    }
    for (const [repo, t] of times) {
      console.log(`${mode.padEnd(5)} ${repo.padEnd(40)} CPU median ${median(t).toFixed(0).padStart(5)} ms  (${t.map((x) => x.toFixed(0)).join(", ")})`);
    }
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
