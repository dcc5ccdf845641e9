#!/usr/bin/env node
// Consumer benchmark: the packed size of the library, and the time from installing its tarball
// into a fresh cdktf project (offline, from the npm cache, lowest peer versions) to that
// project's first synthesized stack (install + first synth of the precompiled app; the
// type-check a TypeScript consumer also runs is timed on its own). Prints medians; exits
// non-zero when a budget fails. `node bench/consumer.js [--quick]`.
"use strict";
const fs = require("fs");
const path = require("path");
const cp = require("../scripts/consumer-project");

const RUNS = process.argv.includes("--quick") ? 1 : 3;
/** Budgets on this 2-core machine: generous, they catch regressions (e.g. a root provider import, a dependency that pulls a second cdktf). */
const BUDGETS = { tarballBytes: 250_000, unpackedBytes: 1_000_000, installToFirstSynthSeconds: 60 };

const { median } = require("./median");
const line = (label, value) => console.log(`${label.padEnd(58)} ${value}`);

const work = cp.tempDir("aml-bench-consumer-");
try {
  const packed = cp.packLibrary(work);
  line("packed tarball (npm pack)", `${packed.size} bytes, ${packed.files.length} files`);
  line("unpacked size", `${packed.unpackedSize} bytes`);

  // The app compiled once, outside the timed part: what is timed is what a user of a
  // compiled (or ts-node/tsx) app waits for after `npm install`.
  const template = path.join(work, "template");
  const peers = cp.writeConsumer(template, packed.tarball);
  cp.installConsumer(template);
  const tsc = cp.compilers()["5.0.4"].tsc;
  const typecheck = cp.typecheck(template, tsc, "tsconfig.commonjs.json", true);
  line("consumer type-check + compile (TypeScript 5.0, strict)", `${typecheck.seconds.toFixed(2)} s`);

  const install = [];
  const synth = [];
  const total = [];
  let resources = 0;
  for (let i = 0; i < RUNS; i++) {
    const dir = path.join(work, `run-${i}`);
    cp.writeConsumer(dir, packed.tarball);
    fs.cpSync(path.join(template, "dist"), path.join(dir, "dist"), { recursive: true });
    const t0 = process.hrtime.bigint();
    install.push(cp.installConsumer(dir).seconds);
    const s = cp.synthConsumer(dir);
    if (s.copies.length !== 1) throw new Error(`expected one copy of cdktf, found ${s.copies.length}`);
    synth.push(s.seconds);
    const json = JSON.parse(fs.readFileSync(path.join(s.dirs[0], "cdk.tf.json"), "utf8"));
    resources = Object.values(json.resource).reduce((n, byId) => n + Object.keys(byId).length, 0);
    total.push(Number(process.hrtime.bigint() - t0) / 1e9);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const fmt = (xs) => `median ${median(xs).toFixed(2)} s  (${xs.map((x) => x.toFixed(2)).join(", ")})`;
  line(`npm ci --offline (${Object.entries(peers).map(([n, v]) => `${n.replace("@cdktf/", "")}@${v}`).join(", ")})`, fmt(install));
  line(`first synth of the consumer's stack (2 deployments, ${resources} resources)`, fmt(synth));
  line("install to first synth", fmt(total));

  const failures = [];
  if (packed.size > BUDGETS.tarballBytes) failures.push(`tarball ${packed.size} > ${BUDGETS.tarballBytes} bytes`);
  if (packed.unpackedSize > BUDGETS.unpackedBytes) failures.push(`unpacked ${packed.unpackedSize} > ${BUDGETS.unpackedBytes} bytes`);
  if (median(total) > BUDGETS.installToFirstSynthSeconds) failures.push(`install to first synth ${median(total).toFixed(1)} s > ${BUDGETS.installToFirstSynthSeconds} s`);
  console.log(failures.length ? `\nBUDGET FAILED: ${failures.join("; ")}` : `\nbudgets met (tarball <= ${BUDGETS.tarballBytes} B, unpacked <= ${BUDGETS.unpackedBytes} B, install to first synth <= ${BUDGETS.installToFirstSynthSeconds} s)`);
  process.exitCode = failures.length ? 1 : 0;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
