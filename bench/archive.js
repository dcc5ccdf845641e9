#!/usr/bin/env node
// Cost of writing the ACR build's context archive (lib/image/staging/context-archive.ts) against
// `tar cf` of the same files, in the same run: a 1 GiB random model (incompressible, like most
// model weights) and a 20,000-file model. Medians of 5 (3 with --quick). Budget: the archive takes
// at most 2x `tar cf`. Exits 1 when a budget fails. Also prints the peak RSS of the archive writer
// (it streams: a 1 GiB model must not be held in memory).
//
//   node bench/archive.js [--quick]      (compiles with `npm run build` first)
const { spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const RUNS = process.argv.includes("--quick") ? 3 : 5;
const BUDGET = 2.0;

const { median } = require("./median");

function mustRun(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r;
}

function writeFileOf(file, bytes) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "w");
  const chunk = 16 << 20;
  for (let done = 0; done < bytes; done += chunk) fs.writeSync(fd, crypto.randomBytes(Math.min(chunk, bytes - done)));
  fs.closeSync(fd);
}

/** A staged-context-like folder and its sorted file list. */
function fixture(root, kind) {
  const files = [];
  const add = (rel, bytes) => {
    writeFileOf(path.join(root, rel), bytes);
    files.push(rel);
  };
  add("Dockerfile", 2048);
  add("source/score.py", 4096);
  if (kind === "big") add("model/weights.bin", 1 << 30);
  else for (let i = 0; i < 20000; i++) add(`model/shards/${String(Math.floor(i / 1000)).padStart(2, "0")}/part-${String(i).padStart(5, "0")}.bin`, 2048 + (i % 7) * 512);
  files.sort();
  return files;
}

// The archive writer runs in a child process per measurement (like a synth does), so its peak
// RSS is measurable and each run starts cold in the same way as `tar`.
const WRITER = `
const { writeContextArchive } = require(${JSON.stringify(path.join(ROOT, "dist/lib/image/staging/context-archive.js"))});
const [dir, list, out] = process.argv.slice(1);
const rows = require("fs").readFileSync(list, "utf8").split("\\n").filter(Boolean).map((l) => l.split("\\t"));
// The files as a synth passes them along from its plan: context path, size, input file.
const files = rows.map((r) => ({ dest: r[0], size: Number(r[1]), source: require("path").join(dir, r[0]) }));
const t0 = process.hrtime.bigint();
writeContextArchive(files, String(Date.now()), out);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ seconds, rss: process.resourceUsage().maxRSS * 1024 }));
`;

function measure(label, dir, files) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-archive-out-"));
  const list = path.join(work, "files.txt");
  const tarList = path.join(work, "tar-files.txt");
  fs.writeFileSync(list, files.map((f) => `${f}\t${fs.statSync(path.join(dir, f)).size}`).join("\n"));
  fs.writeFileSync(tarList, files.join("\n"));
  const archiveTimes = [];
  const tarTimes = [];
  let rss = 0;
  let size = 0;
  for (let i = 0; i < RUNS; i++) {
    const out = path.join(work, `a${i}.tar.gz`);
    const r = JSON.parse(mustRun(process.execPath, ["-e", WRITER, dir, list, out]).stdout);
    archiveTimes.push(r.seconds);
    rss = Math.max(rss, r.rss);
    size = fs.statSync(out).size;
    fs.rmSync(out);
    fs.rmSync(`${out}.json`);

    const tarOut = path.join(work, `t${i}.tar`);
    const t0 = process.hrtime.bigint();
    mustRun("tar", ["cf", tarOut, "-C", dir, "-T", tarList]);
    tarTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
    fs.rmSync(tarOut);
  }
  fs.rmSync(work, { recursive: true, force: true });
  const a = median(archiveTimes);
  const t = median(tarTimes);
  const ratio = a / t;
  const fmt = (xs) => xs.map((x) => x.toFixed(2)).join(", ");
  console.log(`${label}`);
  console.log(`  context archive (.tar.gz)   median ${a.toFixed(3)} s  (${fmt(archiveTimes)})  ${(size / 2 ** 20).toFixed(1)} MiB, peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  tar cf, same files          median ${t.toFixed(3)} s  (${fmt(tarTimes)})`);
  console.log(`  archive / tar cf            ${ratio.toFixed(2)}x  (budget <= ${BUDGET}x) ${ratio <= BUDGET ? "ok" : "FAILED"}`);
  return ratio <= BUDGET;
}

console.log(`Machine: ${os.cpus().length} cores, ${os.cpus()[0].model}, node ${process.version}; runs: ${RUNS}\n`);
mustRun("npm", ["run", "--silent", "build"]);
let ok = true;
for (const [kind, label] of [["big", "1 GiB random model (1 file)"], ["many", "20,000-file model (~60 MiB)"]]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-archive-${kind}-`));
  try {
    const files = fixture(dir, kind);
    ok = measure(label, dir, files) && ok;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
if (!ok) {
  console.error("\nA budget failed.");
  process.exit(1);
}
