import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import { REPO } from "../helpers";

// semver is cdktf's own dependency (bundled): resolved from there rather than added to the repo.
const semver = require(require.resolve("semver", { paths: [path.dirname(require.resolve("cdktf"))] })) as {
  satisfies(v: string, r: string): boolean;
  minVersion(r: string): { version: string } | null;
  gte(a: string, b: string): boolean;
};

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8"));

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(REPO, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
}

describe("npm pack ships exactly the library", () => {
  // --dry-run still runs prepack, which cleans dist/ and builds it: the list is what a publish ships.
  const out = execFileSync("npm", ["pack", "--dry-run", "--json"], { cwd: REPO, encoding: "utf8", maxBuffer: 64 << 20 });
  const packed = JSON.parse(out.slice(out.indexOf("[")))[0];
  const files: string[] = packed.files.map((f: { path: string }) => f.path).sort();

  test("dist/lib JS and .d.ts for every source file, the scoring-image hosting code, README, LICENSE, package.json", () => {
    const sources = walk(path.join(REPO, "lib")).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
    const compiled = sources.flatMap((f) => [`dist/${f.replace(/\.ts$/, ".js")}`, `dist/${f.replace(/\.ts$/, ".d.ts")}`]);
    const image = walk(path.join(REPO, "scoring-image")).filter((f) => !/^scoring-image\/(tests|bench)\//.test(f) && !f.includes("__pycache__") && !f.endsWith(".pyc"));
    expect(image).toEqual(expect.arrayContaining(["scoring-image/Dockerfile", "scoring-image/host.json", "scoring-image/aml_host/script.py", "scoring-image/adapters/http_adapter.py"]));
    expect(files).toEqual([...compiled, ...image, "LICENSE", "README.md", "package.json"].sort());
  });

  test("nothing of the repo's own: tests, CI, bench, examples, sources, tarballs", () => {
    for (const f of files) expect(f).not.toMatch(/^(__tests__|\.ci|bench|examples|lib|scripts|cdktf\.out|node_modules)\/|^dist\/(main|examples)|\.tgz$|^scoring-image\/(tests|bench)\//);
  });

  test("the package name is scoped and publishable", () => {
    expect(packed.name).toBe("@aml-functions/aml-function-deployment");
    expect(pkg.private).toBeUndefined();
    expect(pkg.publishConfig).toEqual({ access: "public", registry: "https://registry.npmjs.org/" });
    expect(pkg.license).toBe("MIT");
    expect(fs.readFileSync(path.join(REPO, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    expect(pkg.main).toBe("dist/lib/index.js");
    expect(pkg.types).toBe("dist/lib/index.d.ts");
    expect(files).toContain(pkg.main);
    expect(files).toContain(pkg.types);
  });
});

describe("peer dependencies", () => {
  const PEERS = ["@cdktf/provider-azurerm", "@cdktf/provider-docker", "cdktf", "constructs"];

  test("cdktf, constructs and the providers are peers, not dependencies", () => {
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(PEERS);
    for (const p of PEERS) expect(pkg.dependencies[p]).toBeUndefined();
  });

  test("the repo develops against pinned versions inside the peer ranges", () => {
    for (const p of PEERS) {
      expect(pkg.devDependencies[p]).toMatch(/^\d+\.\d+\.\d+$/);
      expect(semver.satisfies(pkg.devDependencies[p], pkg.peerDependencies[p])).toBe(true);
      expect(lock.packages[`node_modules/${p}`].version).toBe(pkg.devDependencies[p]);
    }
  });

  test("the lowest version of each range is installed by the consumer test (in the lockfile, hence the npm cache)", () => {
    for (const p of PEERS) {
      const lowest = semver.minVersion(pkg.peerDependencies[p])!.version;
      const inLock = Object.entries<any>(lock.packages).some(([k, v]) => k.startsWith("node_modules/") && (v.name ?? k.slice("node_modules/".length)) === p && v.version === lowest);
      expect({ p, lowest, inLock }).toEqual({ p, lowest, inLock: true });
    }
  });

  test("the ranges agree with the providers' own peer ranges", () => {
    for (const provider of ["@cdktf/provider-azurerm", "@cdktf/provider-docker"]) {
      const theirs = JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", provider, "package.json"), "utf8")).peerDependencies;
      for (const dep of ["cdktf", "constructs"]) {
        expect(semver.satisfies(semver.minVersion(pkg.peerDependencies[dep])!.version, theirs[dep])).toBe(true);
      }
    }
  });

  test("engines.node is at least what every peer requires", () => {
    const ours = semver.minVersion(pkg.engines.node)!.version;
    for (const p of PEERS) {
      const engines = JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", p, "package.json"), "utf8")).engines;
      if (engines?.node) expect({ p, ok: semver.gte(ours, semver.minVersion(engines.node)!.version) }).toEqual({ p, ok: true });
    }
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  test("the consumer test is part of npm test", () => {
    expect(pkg.scripts.test).toContain("test:consumer");
    expect(pkg.scripts["test:consumer"]).toBe("node scripts/consumer-test.js");
  });
});

describe("the compiled library finds scoring-image/ from its own location", () => {
  test("dist/lib/image/scoring-image-dir.js resolves the package's scoring-image folder", () => {
    // prepack above built dist/.
    const { scoringImageDir } = require(path.join(REPO, "dist/lib/image/scoring-image-dir.js"));
    expect(scoringImageDir()).toBe(path.join(REPO, "scoring-image"));
  });
});
