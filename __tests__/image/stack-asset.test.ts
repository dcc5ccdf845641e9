/**
 * stackAsset: the staged context goes into the stack's assets by hard link (no second copy),
 * is left alone when unchanged, and is replaced when the staged context had to be restaged.
 */
import * as fs from "fs";
import * as path from "path";
import { App, LocalBackend, Manifest, TerraformAsset, TerraformOutput, TerraformStack, Testing } from "cdktf";
import { AmlFunctionDeployment } from "../../lib/aml-function-deployment";
import { ImageBuild } from "../../lib/image/build/image-build";
import { stagingRoot } from "../../lib/image/build-context";
import { stackAsset } from "../../lib/image/stack-asset";
import { ModelSource, prepareHandOff } from "../../lib";
import { sampleProps } from "../helpers";
import { useStagingSandbox } from "../staging-sandbox";
import { imageView } from "../context-view";

jest.mock("fs", () => {
  const actual = jest.requireActual("fs");
  return { ...actual, linkSync: jest.fn(actual.linkSync) };
});

const SCRIPT = "def init():\n    pass\n\ndef run(data):\n    return data\n";

const sandbox = useStagingSandbox("stack-asset-test-");

let counter = 0;
function userProject(): { model: string; script: string } {
  const root = path.join(sandbox(), `user${counter++}`);
  fs.mkdirSync(path.join(root, "scoring"), { recursive: true });
  fs.mkdirSync(path.join(root, "models", "m"), { recursive: true });
  fs.writeFileSync(path.join(root, "scoring", "score.py"), SCRIPT);
  fs.writeFileSync(path.join(root, "models", "m", "weights.bin"), "w".repeat(4096));
  // Over 64 KiB: staged as a file in model/ (the small ones are in model-small-files.tar).
  fs.writeFileSync(path.join(root, "models", "m", "big.bin"), "b".repeat(70 << 10));
  return { model: path.join(root, "models", "m"), script: path.join(root, "scoring", "score.py") };
}

/** Synthesizes the deployment with a local Docker build into `outdir`; returns the stack folder and the context path. */
function synth(outdir: string, user: { model: string; script: string }): { stackDir: string; contextRel: string; json: string } {
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "s");
  new AmlFunctionDeployment(stack, "churn", sampleProps({ model: ModelSource.fromLocalPath(user.model), entryScript: user.script, imageBuild: ImageBuild.localDocker() }));
  app.synth();
  const stackDir = path.join(outdir, Manifest.stacksFolder, "s");
  const json = fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8");
  const image = Object.values(JSON.parse(json).resource.docker_image)[0] as { build: { context: string } };
  const m = /^\$\{abspath\(path\.module\)\}\/(.+)$/.exec(image.build.context);
  if (m === null) throw new Error(`unexpected context ${image.build.context}`);
  return { stackDir, contextRel: m[1], json };
}

const ino = (p: string): bigint => fs.statSync(p, { bigint: true }).ino;

describe("the build context in the stack assets", () => {
  test("is hard-linked from the staged context, relative to the stack folder", () => {
    const user = userProject();
    const { stackDir, contextRel } = synth(path.join(sandbox(), `out${counter++}`), user);
    expect(contextRel).toMatch(/^assets\/[^/]+\/[0-9a-f]{64}$/);
    const fingerprint = path.basename(contextRel);
    const staged = path.join(stagingRoot(), fingerprint);
    const asset = path.join(stackDir, ...contextRel.split("/"));
    for (const f of ["source/score.py", "model/m/big.bin", "model-small-files.tar", "Dockerfile", "app/host.json"]) {
      expect(ino(path.join(asset, f))).toBe(ino(path.join(staged, f)));
      expect(fs.statSync(path.join(asset, f)).mode & 0o777).toBe(0o644);
    }
    expect(fs.readdirSync(asset, { recursive: true }).length).toBe(fs.readdirSync(staged, { recursive: true }).length);
  });

  test("an unchanged re-synth rewrites nothing and gives byte-identical JSON, also from another outdir", () => {
    const user = userProject();
    const outdir = path.join(sandbox(), `out${counter++}`);
    const first = synth(outdir, user);
    const asset = path.join(first.stackDir, ...first.contextRel.split("/"));
    for (const f of ["model/m/big.bin", "model-small-files.tar"]) {
      const before = ino(path.join(asset, f));
      const ctimeBefore = fs.statSync(path.join(asset, f), { bigint: true }).ctimeNs;
      const second = synth(outdir, user);
      expect(second.json).toBe(first.json);
      expect(ino(path.join(asset, f))).toBe(before);
      // Not even re-linked: a new link would have moved the ctime.
      expect(fs.statSync(path.join(asset, f), { bigint: true }).ctimeNs).toBe(ctimeBefore);
    }
    expect(synth(path.join(sandbox(), `elsewhere${counter++}`), user).json).toBe(first.json);
  });

  test("a changed model replaces the old asset version", () => {
    const user = userProject();
    const outdir = path.join(sandbox(), `out${counter++}`);
    const first = synth(outdir, user);
    fs.writeFileSync(path.join(user.model, "weights.bin"), "v".repeat(4096));
    const second = synth(outdir, user);
    expect(second.contextRel).not.toBe(first.contextRel);
    expect(path.dirname(second.contextRel)).toBe(path.dirname(first.contextRel));
    expect(fs.readdirSync(path.join(second.stackDir, ...path.dirname(second.contextRel).split("/")))).toEqual([path.basename(second.contextRel)]);
    expect(imageView(path.join(second.stackDir, ...second.contextRel.split("/")))["model/m/weights.bin"].toString("utf8")).toBe("v".repeat(4096));
  });

  test("code planted into the staged score.py (hard-linked into the asset) is not shipped by the next synth", () => {
    const user = userProject();
    const outdir = path.join(sandbox(), `out${counter++}`);
    const first = synth(outdir, user);
    const staged = path.join(stagingRoot(), path.basename(first.contextRel), "source", "score.py");
    const { atime, mtime } = fs.statSync(staged);
    fs.writeFileSync(staged, "import os\nos.system('id')\n");
    fs.utimesSync(staged, atime, mtime);
    const second = synth(outdir, user);
    expect(second.contextRel).toBe(first.contextRel);
    const shipped = path.join(second.stackDir, ...second.contextRel.split("/"), "source", "score.py");
    expect(fs.readFileSync(shipped, "utf8")).toBe(SCRIPT);
    expect(fs.readFileSync(staged, "utf8")).toBe(SCRIPT);
  });

  test("the staged context stays valid after being linked (the next synth reuses it)", () => {
    const user = userProject();
    const outdir = path.join(sandbox(), `out${counter++}`);
    const first = synth(outdir, user);
    const staged = path.join(stagingRoot(), path.basename(first.contextRel), "model-small-files.tar");
    const before = ino(staged);
    synth(outdir, user);
    expect(ino(staged)).toBe(before);
  });

  test("across file systems (no hard link possible) the asset is a copy with mode 0644", () => {
    const user = userProject();
    (fs.linkSync as jest.Mock).mockImplementation(() => {
      throw Object.assign(new Error("EXDEV: cross-device link not permitted"), { code: "EXDEV" });
    });
    try {
      const { stackDir, contextRel } = synth(path.join(sandbox(), `out${counter++}`), user);
      for (const rel of ["model/m/big.bin", "model-small-files.tar"]) {
        const f = path.join(stackDir, ...contextRel.split("/"), rel);
        const staged = path.join(stagingRoot(), path.basename(contextRel), rel);
        expect(ino(f)).not.toBe(ino(staged));
        expect(fs.readFileSync(f).equals(fs.readFileSync(staged))).toBe(true);
        expect(fs.statSync(f).mode & 0o777).toBe(0o644);
      }
      expect(imageView(path.join(stackDir, ...contextRel.split("/")))["model/m/weights.bin"].toString("utf8")).toBe("w".repeat(4096));
    } finally {
      (fs.linkSync as jest.Mock).mockReset();
      (fs.linkSync as jest.Mock).mockImplementation(jest.requireActual("fs").linkSync);
    }
  });
});

describe("stackAsset", () => {
  test("a single file lands at assets/<id>/<fingerprint>/<name>, written by Testing.fullSynth, and the folder is relocatable", () => {
    const file = path.join(sandbox(), `context-${counter++}.tar.gz`);
    fs.writeFileSync(file, "archive bytes");
    const stack = new TerraformStack(Testing.app(), "files");
    const asset = stackAsset(stack, "archive", { path: file, kind: "file", fingerprint: "abc123" });
    expect(asset.relativePath).toMatch(/^assets\/archive\/abc123\/context-\d+\.tar\.gz$/);
    // Used by the configuration, as the builds use theirs (an asset nothing refers to is removed).
    new TerraformOutput(stack, "archive_path", { value: asset.relativePath });
    const out = Testing.fullSynth(stack);
    const written = path.join(out, "stacks", "files", ...asset.relativePath.split("/"));
    expect(fs.readFileSync(written, "utf8")).toBe("archive bytes");
    const moved = path.join(sandbox(), `moved-${counter++}`);
    fs.cpSync(path.join(out, "stacks", "files"), moved, { recursive: true });
    expect(fs.readFileSync(path.join(moved, ...asset.relativePath.split("/")), "utf8")).toBe("archive bytes");
  });

  test("bad input is a ValidationError naming the property and value", () => {
    const stack = new TerraformStack(Testing.app(), "bad");
    expect(() => stackAsset(stack, "a", { path: sandbox(), kind: "directory", fingerprint: "../x" })).toThrow(/^bad\/a: invalid fingerprint "\.\.\/x": not usable as a folder name\. Allowed: letters, digits/);
    expect(() => stackAsset(stack, "b", { path: "rel/path", kind: "directory", fingerprint: "f" })).toThrow(/invalid path "rel\/path": not an absolute path/);
    expect(() => stackAsset(stack, "c", { path: sandbox(), kind: "file", fingerprint: "f" })).toThrow(/invalid path ".*": it is not a regular file\. Allowed: an existing file/);
    expect(() => stackAsset(stack, "d", { path: path.join(sandbox(), "missing"), kind: "directory", fingerprint: "f" })).toThrow(/it does not exist/);
  });
});

describe("a stack folder holds only what its configuration uses", () => {
  /** Synthesizes deployments `ids` (ACR build: an archive each) into `outdir`; returns the stack folder. */
  function synthDeployments(outdir: string, ids: string[], handOff: boolean, extra?: (stack: TerraformStack) => void): string {
    const user = userProject();
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "s");
    new LocalBackend(stack, { path: "terraform.tfstate" });
    for (const id of ids) new AmlFunctionDeployment(stack, id, sampleProps({ model: ModelSource.fromLocalPath(user.model), entryScript: user.script }));
    extra?.(stack);
    app.synth();
    if (handOff) prepareHandOff(app);
    return path.join(outdir, Manifest.stacksFolder, "s");
  }
  /** The files below `assets/`, relative posix paths. */
  const assetFiles = (stackDir: string): string[] => {
    const assets = path.join(stackDir, "assets");
    if (!fs.existsSync(assets)) return [];
    return fs.readdirSync(assets, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(assets, path.join(e.parentPath, e.name)).split(path.sep).join("/")).sort();
  };

  test.each([["app.synth() alone", false], ["app.synth() and prepareHandOff(app)", true]])("three deployments, then one: the removed deployments' archives are gone (%s)", (_route, handOff) => {
    const outdir = path.join(sandbox(), `out${counter++}`);
    const three = assetFiles(synthDeployments(outdir, ["churn", "fraud", "upsell"], handOff));
    expect(three.filter((f) => f.endsWith(".tar.gz"))).toHaveLength(3);
    const stackDir = synthDeployments(outdir, ["fraud"], handOff);
    const one = assetFiles(stackDir);
    expect(one).toHaveLength(1);
    expect(one[0]).toMatch(/^fraud_image_context-archive_[0-9A-F]+\/[0-9a-f]{64}\/[0-9a-f]{64}\.tar\.gz$/);
    expect(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")).toContain(`assets/${one[0]}`);
  });

  test("no deployment left: prepareHandOff removes the assets folder", () => {
    const outdir = path.join(sandbox(), `out${counter++}`);
    expect(assetFiles(synthDeployments(outdir, ["churn"], true))).toHaveLength(1);
    const stackDir = synthDeployments(outdir, [], true, (stack) => new TerraformOutput(stack, "x", { value: "x" }));
    expect(fs.existsSync(path.join(stackDir, "assets"))).toBe(false);
  });

  test("a TerraformAsset the configuration uses is kept, one it no longer uses is removed", () => {
    const outdir = path.join(sandbox(), `out${counter++}`);
    const file = path.join(sandbox(), `user-file-${counter++}.txt`);
    fs.writeFileSync(file, "the user's own asset\n");
    const withAsset = (used: boolean) => (stack: TerraformStack) => {
      const asset = new TerraformAsset(stack, used ? "script" : "old-script", { path: file });
      new TerraformOutput(stack, "script_path", { value: asset.path });
    };
    synthDeployments(outdir, ["churn"], true, withAsset(false));
    const stackDir = synthDeployments(outdir, ["churn"], true, withAsset(true));
    const files = assetFiles(stackDir);
    expect(files.filter((f) => f.startsWith("script/"))).toHaveLength(1);
    expect(files.filter((f) => f.startsWith("old-script/"))).toHaveLength(0);
    expect(files.filter((f) => f.endsWith(".tar.gz"))).toHaveLength(1);
  });
});
