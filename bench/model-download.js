#!/usr/bin/env node
// Model download throughput: the scoring image's downloader (aml_host/model_fetch, Python
// standard library) against a plain `curl` of the same blobs, in the same run, from Azurite
// over HTTPS with a bearer token (the way the app reads Blob storage in Azure).
//   - one 200 MB blob;
//   - 2,000 small blobs (4 KiB) under one prefix (curl: --parallel, as many streams as the
//     downloader's AML_MODEL_CONCURRENCY, default 8).
// Budget: the downloader reaches at least 0.8x curl's throughput on the 200 MB blob.
// Usage: node bench/model-download.js [--runs N]
"use strict";

const { spawn, spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");
const net = require("net");
const os = require("os");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number((process.argv.find((a) => a.startsWith("--runs=")) || "--runs=5").split("=")[1]);
const BIG_MB = 200;
const SMALL_COUNT = 2000;
const SMALL_SIZE = 4096;
const BUDGET = 0.8;
const ACCOUNT = "devstoreaccount1";
const CONTAINER = "bench";
const SA_ID = `/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${ACCOUNT}`;

const { median } = require("./median");

function jwt(aud) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  return `${part({ alg: "RS256", typ: "JWT" })}.${part({ aud, iss: `https://sts.windows.net/${tenant}/`, iat: now - 60, nbf: now - 60, exp: now + 7200, tid: tenant })}.c2ln`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`${cmd} exited ${code}: ${err.slice(-2000)}`));
      else resolve({ seconds, out, err });
    });
  });
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-model-download-"));
  let azurite;
  const cleanup = () => {
    if (azurite && azurite.exitCode === null) {
      try {
        process.kill(-azurite.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(work, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));

  // Azurite over HTTPS with OAuth (bearer tokens), self-signed certificate for 127.0.0.1.
  const cert = path.join(work, "cert.pem");
  const key = path.join(work, "key.pem");
  const ssl = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
  if (ssl.status !== 0) throw new Error(`openssl failed: ${ssl.stderr}`);
  const port = await freePort();
  fs.mkdirSync(path.join(work, "azurite"));
  azurite = spawn(path.join(ROOT, "node_modules/.bin/azurite-blob"), ["--blobHost", "127.0.0.1", "--blobPort", String(port), "--oauth", "basic",
    "--cert", cert, "--key", key, "--location", path.join(work, "azurite"), "--skipApiVersionCheck", "--silent", "--disableTelemetry"],
  { stdio: "ignore", detached: true });
  const ca = fs.readFileSync(cert);
  const agent = new https.Agent({ ca, keepAlive: true, maxSockets: 16 });
  const token = jwt("https://storage.azure.com");
  const storage = (method, p, body, headers = {}) => new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, method, path: `/${ACCOUNT}/${p}`, agent,
      headers: { Authorization: `Bearer ${token}`, "x-ms-version": "2023-11-03", "Content-Length": body ? body.length : 0, ...headers } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode < 300 ? resolve() : reject(new Error(`${method} ${p}: ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
  for (let i = 0; ; i++) {
    try {
      await storage("PUT", `${CONTAINER}?restype=container`);
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  // Data: one 200 MB blob, 2,000 small ones.
  const block = crypto.randomBytes(1 << 20);
  const big = Buffer.concat(Array.from({ length: BIG_MB }, (_, i) => { const b = Buffer.from(block); b[0] = i; return b; }));
  await storage("PUT", `${CONTAINER}/large/model.bin`, big, { "x-ms-blob-type": "BlockBlob" });
  const names = Array.from({ length: SMALL_COUNT }, (_, i) => `small/part-${String(i).padStart(4, "0")}.bin`);
  for (let i = 0; i < names.length; i += 32) {
    await Promise.all(names.slice(i, i + 32).map((n) => storage("PUT", `${CONTAINER}/${n}`, crypto.randomBytes(SMALL_SIZE), { "x-ms-blob-type": "BlockBlob" })));
  }
  agent.destroy();

  // The managed identity endpoint the downloader asks for tokens.
  const identity = http.createServer((req, res) => {
    const resource = new URL(req.url, "http://x").searchParams.get("resource");
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ access_token: jwt(resource.replace(/\/$/, "")), expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource, token_type: "Bearer" }));
  });
  await new Promise((r) => identity.listen(0, "127.0.0.1", r));
  const identityUrl = `http://127.0.0.1:${identity.address().port}/msi/token`;

  const python = process.env.PYTHON || "/usr/bin/python3";
  const child = [
    "import sys, time, logging",
    `sys.path.insert(0, ${JSON.stringify(path.join(ROOT, "scoring-image"))})`,
    "from aml_host.model_fetch import ensure_model",
    "t0 = time.perf_counter(); ensure_model(); print(time.perf_counter() - t0)",
  ].join("\n");
  const downloader = async (blobPath) => {
    const dest = fs.mkdtempSync(path.join(work, "dl-"));
    const env = {
      ...process.env, SSL_CERT_FILE: cert, AZUREML_MODEL_DIR: dest, IDENTITY_ENDPOINT: identityUrl, IDENTITY_HEADER: "h",
      AML_MODEL_CLIENT_ID: "00000000-0000-0000-0000-000000000001", AML_MODEL_BLOB_ENDPOINT: `https://127.0.0.1:${port}/{account}`,
      AML_MODEL_SOURCE: JSON.stringify({ kind: "blob", storageAccountId: SA_ID, container: CONTAINER, path: blobPath }),
    };
    const r = await run(python, ["-c", child], { env });
    fs.rmSync(dest, { recursive: true, force: true });
    return Number(r.out.trim().split("\n").pop());
  };
  const base = `https://127.0.0.1:${port}/${ACCOUNT}/${CONTAINER}`;
  const curlArgs = ["-sS", "--fail", "--cacert", cert, "-H", `Authorization: Bearer ${token}`, "-H", "x-ms-version: 2023-11-03"];
  const curlBig = async () => {
    const dest = path.join(work, "curl-big.bin");
    const r = await run("curl", [...curlArgs, "-o", dest, `${base}/large/model.bin`]);
    if (fs.statSync(dest).size !== big.length) throw new Error("curl downloaded a short file");
    fs.rmSync(dest);
    return r.seconds;
  };
  const curlSmall = async () => {
    const dir = fs.mkdtempSync(path.join(work, "curl-small-"));
    const config = path.join(work, "curl-small.cfg");
    fs.writeFileSync(config, names.map((n) => `url = "${base}/${n}"\noutput = "${path.join(dir, n)}"\n`).join(""));
    const r = await run("curl", [...curlArgs, "--create-dirs", "--parallel", "--parallel-max", "8", "-K", config]);
    fs.rmSync(dir, { recursive: true, force: true });
    return r.seconds;
  };

  // Interleaved (downloader, curl, downloader, curl, ...) after one discarded warm-up each, so
  // neither side gets a warmer page cache or a quieter machine.
  const compare = async (labels, fns, mb) => {
    for (const fn of fns) await fn();
    const times = fns.map(() => []);
    for (let i = 0; i < RUNS; i++) for (let j = 0; j < fns.length; j++) times[j].push(await fns[j]());
    return times.map((ts, j) => {
      const m = median(ts);
      console.log(`${labels[j].padEnd(52)} median ${m.toFixed(3)} s  ${(mb / m).toFixed(1).padStart(7)} MB/s  (${ts.map((t) => t.toFixed(2)).join(", ")})`);
      return mb / m;
    });
  };
  const smallMb = (SMALL_COUNT * SMALL_SIZE) / (1 << 20);
  console.log(`model download from Azurite (HTTPS, bearer token), ${RUNS} interleaved runs after a warm-up, ${os.cpus().length} cores`);
  const [dlBig, cuBig] = await compare([`downloader: 1 blob of ${BIG_MB} MB`, `curl:       1 blob of ${BIG_MB} MB`],
    [() => downloader("large/model.bin"), curlBig], BIG_MB);
  const [dlSmall, cuSmall] = await compare([`downloader: ${SMALL_COUNT} blobs of ${SMALL_SIZE / 1024} KiB`, `curl --parallel 8: ${SMALL_COUNT} blobs of ${SMALL_SIZE / 1024} KiB`],
    [() => downloader("small"), curlSmall], smallMb);
  identity.close();
  const ratio = dlBig / cuBig;
  console.log(`small files: downloader ${(dlSmall / cuSmall).toFixed(2)}x curl (informational)`);
  console.log(`large file: downloader ${ratio.toFixed(2)}x curl (budget >= ${BUDGET}x) ${ratio >= BUDGET ? "OK" : "FAIL"}`);
  process.exitCode = ratio >= BUDGET ? 0 : 1;
}

main().catch((e) => {
  console.error(`bench/model-download: ${e.message}`);
  process.exitCode = 2;
}).finally(() => process.exit());
