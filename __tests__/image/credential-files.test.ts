/**
 * Issue 15, review finding 1: credential files stay out of the image by name (Azure, Functions,
 * Terraform, cloud SDKs, SSH), and a credential in an innocently named file of the entry
 * script's folder is found by its content, without reading an unchanged file again.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BuildContextSpec, SECRET_EXCLUDES } from "../../lib/image/build-context";
import { folderInput } from "../../lib/image/staging/input-manifest";
import { findCredential, SCAN_VERSION } from "../../lib/image/staging/credential-scan";
import { resolveEntryScript } from "../../lib/entry-script";
import { ModelSource } from "../../lib/model/model-source";
import { useStagingSandbox } from "../staging-sandbox";
import { validationMessage } from "../error-message";
import { contextSpec } from "./context-spec";
import { imageView, stageContext } from "../context-view";
import { REPO, SAMPLE_MODEL, SAMPLE_SCRIPT } from "../helpers";

const sandbox = useStagingSandbox("credential-files-");

let counter = 0;
function project(extra: { [rel: string]: string } = {}): string {
  const root = path.join(sandbox(), `p${counter++}`);
  const files = {
    "scoring-image/Dockerfile": "FROM python\n",
    "scoring-image/requirements.txt": "azure-functions\n",
    "scoring-image/aml_host/server.py": "print('host')\n",
    "scoring-image/adapters/http.py": "# http\n",
    "src/score.py": "def init():\n    pass\n\ndef run(data):\n    return data\n",
    "models/bundle/weights.bin": "0123456789",
    ...extra,
  };
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(root, ...rel.split("/"));
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return root;
}

// Made up at run time: random, never a real credential, and no credential-shaped text in the repository.
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const alnum = (n: number): string => Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join("");
const base64 = (bytes: number): string => randomBytes(bytes).toString("base64");
const pemBody = (): string => (base64(600).match(/.{1,64}/g) ?? []).join("\n");

describe("credential files by name", () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  /** The files the issue and FIELD-NOTES §12 name, and the other common ones of the same tools; content harmless. */
  const NAMED = [
    // Azure Functions and Azure.
    "local.settings.json",
    "app/local.settings.json",
    "prod.PublishSettings",
    "site.publishsettings",
    ".azure/azureProfile.json",
    "msal_token_cache.json",
    "msal_token_cache.bin",
    "accessTokens.json",
    "service_principal_entries.json",
    "azureauth.json",
    "my.azureauth",
    // Terraform.
    ".terraformrc",
    "terraform.rc",
    ".terraform.d/credentials.tfrc.json",
    "credentials.tfrc.json",
    "terraform.tfvars",
    "terraform.tfstate",
    // Cloud SDKs, Kubernetes, registries, package indexes.
    "credentials.json",
    ".aws/credentials",
    ".s3cfg",
    ".config/gcloud/application_default_credentials.json",
    "application_default_credentials.json",
    ".kube/config",
    "kubeconfig",
    ".docker/config.json",
    ".dockercfg",
    ".git-credentials",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    // SSH, TLS and signing keys.
    "deploy.ppk",
    "id_rsa",
    "id_ed25519",
    "tls.pem",
    "server.key",
    "AuthKey.p8",
    "cert.pfx",
    "cert.p12",
    "release.keystore",
    // Generic.
    ".env",
    ".env.local",
    "secrets.yaml",
    "secrets.yml",
    ".my.cnf",
    ".htpasswd",
  ];

  test("the list has the files the issue names", () => {
    for (const p of ["**/local.settings.json", "**/.terraformrc", "**/credentials.json", "**/*.PublishSettings", "**/*.ppk"]) expect(SECRET_EXCLUDES).toContain(p);
  });

  test.each(["src", "models/bundle"])("each one in %s is left out of the image and reported", (folder) => {
    const root = project(Object.fromEntries(NAMED.map((f) => [`${folder}/${f}`, "not a secret, a name the rules know\n"])));
    const staged = stageContext(contextSpec(root));
    const prefix = folder === "src" ? "source/" : "model/bundle/";
    const inImage = Object.keys(imageView(staged.directory)).filter((f) => f.startsWith(prefix));
    expect(inImage).toEqual([folder === "src" ? "source/score.py" : "model/bundle/weights.bin"]);
    // Reported: each file, or the folder that holds it (".aws/", ".config/gcloud/", ...).
    const reported = staged.secretExcluded!;
    const unreported = NAMED.filter((f) => !reported.some((r) => r === `${prefix}${f}` || (r.endsWith("/") && `${prefix}${f}`.startsWith(r))));
    expect(unreported).toEqual([]);
    expect(String(warn.mock.calls[0][0])).toContain(`${prefix}local.settings.json`);
  });
});

describe("credentials by content in the entry script's folder", () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  const storageKey = base64(64);
  /** [what, innocent file name, content with a made-up credential]. */
  const CASES: Array<[string, string, string]> = [
    ["an Azure Storage account key", "settings.json", JSON.stringify({ IsEncrypted: false, Values: { AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=stx;AccountKey=${storageKey};EndpointSuffix=core.windows.net` } }, null, 2)],
    ["an Azure shared access key", "queue.cfg", `conn = Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${base64(32)}\n`],
    ["an Azure shared access signature", "download.py", `URL = "https://stx.blob.core.windows.net/models/m.pkl?sv=2022-11-02&sr=b&sp=r&se=2030-01-01&sig=${encodeURIComponent(base64(32))}"\n`],
    ["an Azure publish profile password", "profile.xml", `<publishData><publishProfile publishMethod="MSDeploy" userName="$app" userPWD="${alnum(60)}" /></publishData>\n`],
    ["a Microsoft Entra application client secret", "auth.yaml", `client_secret: ${alnum(3)}8Q~${alnum(34)}\n`],
    ["a private key", "notes.txt", `-----BEGIN RSA PRIVATE KEY-----\n${pemBody()}\n-----END RSA PRIVATE KEY-----\n`],
    ["a private key", "deploy_key", `-----BEGIN OPENSSH PRIVATE KEY-----\n${pemBody()}\n-----END OPENSSH PRIVATE KEY-----\n`],
    ["a private key", "service-account.json", JSON.stringify({ type: "service_account", private_key: `-----BEGIN PRIVATE KEY-----\n${pemBody()}\n-----END PRIVATE KEY-----\n` })],
    ["a PuTTY private key", "putty.txt", `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\n${base64(48)}\n`],
    ["an AWS secret access key", "config.ini", `[default]\naws_access_key_id = AKIA${alnum(16).toUpperCase()}\naws_secret_access_key = ${alnum(40)}\n`],
    ["a Kubernetes client key", "cluster.yaml", `users:\n- name: admin\n  user:\n    client-key-data: ${base64(300)}\n`],
    ["a Terraform Cloud / Enterprise API token", "cli.hcl", `credentials "app.terraform.io" {\n  token = "${alnum(14)}.atlasv1.${alnum(67)}"\n}\n`],
    ["an npm registry token", "build.cfg", `//registry.npmjs.org/:_authToken=npm_${alnum(36)}\n`],
    ["a GitHub token", "clone.sh", `git clone https://x:ghp_${alnum(36)}@github.com/org/repo.git\n`],
  ];

  test.each(CASES)("%s in %s is refused at synth, naming the file and how to leave it out", (what, name, content) => {
    const root = project({ [`src/sub/${name}`]: content });
    const m = validationMessage(() => stageContext(contextSpec(root)));
    expect(m).toContain(`invalid entryScript "${path.join(root, "src", "sub", name)}"`);
    expect(m).toContain(`sub/${name} in the entry script's folder holds what looks like ${what}`);
    expect(m).toContain(`a line \`sub/${name}\` in ${path.join(root, "src", ".dockerignore")}`);
    // The message names the kind, never the secret.
    for (const secret of content.match(/[A-Za-z0-9+/%]{30,}/g) ?? []) expect(m).not.toContain(secret);
  });

  test("findCredential sees each case (and the tests above are not passing for another reason)", () => {
    for (const [what, , content] of CASES) expect(findCredential(Buffer.from(content))?.what).toContain(what);
  });

  test("a line in the folder's .dockerignore leaves the file out, and the synth goes on", () => {
    const root = project({ "src/sub/settings.json": CASES[0][2], "src/.dockerignore": "sub/settings.json\n" });
    const staged = stageContext(contextSpec(root));
    expect(staged.files.filter((f) => f.startsWith("source/"))).toEqual(["source/score.py"]);
  });

  test("a ! line naming the file keeps it on purpose, reported as kept on every synth", () => {
    const root = project({ "src/sub/settings.json": CASES[0][2], "src/.dockerignore": "!sub/settings.json\n" });
    for (let i = 0; i < 2; i++) {
      warn.mockClear();
      const staged = stageContext(contextSpec(root));
      expect(staged.files).toContain("source/sub/settings.json");
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
        "Deployment: in the image although they look like secrets, because a `!` line of a .dockerignore names them: source/sub/settings.json (holds what looks like an Azure Storage account key (as in a connection string or Functions' local.settings.json)).",
      ]);
    }
    // Only a line naming the file counts, not one for its folder or for everything.
    const folderOnly = project({ "src/sub/settings.json": CASES[0][2], "src/.dockerignore": "*\n!score.py\n!sub\n" });
    expect(validationMessage(() => stageContext(contextSpec(folderOnly)))).toContain("sub/settings.json in the entry script's folder holds what looks like");
  });

  test("a normal project is unaffected: the sample, and text that only mentions credentials", () => {
    const sample: BuildContextSpec = { ...contextSpec(project()), model: ModelSource.fromLocalPath(SAMPLE_MODEL).resolve("T"), entryScript: resolveEntryScript("T", SAMPLE_SCRIPT), scoringImageDir: path.join(REPO, "scoring-image") };
    expect(() => stageContext(sample)).not.toThrow();
    const lookalikes = [
      // Code that reads connection strings, placeholders, references to the environment.
      "parts = dict(p.split('=', 1) for p in conn.split(';'))\nkey = parts['AccountKey']\nassert 'AccountKey=' in conn\n",
      "# AccountKey=<your account key>\n# SharedAccessKey=...\n",
      "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
      "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
      "aws_secret_access_key = os.environ['AWS_SECRET_ACCESS_KEY']\n",
      // Azurite's published development key is not a secret.
      "AzureWebJobsStorage=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;\n",
      "UseDevelopmentStorage=true\n",
    ];
    const root = project(Object.fromEntries(lookalikes.map((text, i) => [`src/docs/note${i}.txt`, text])));
    const staged = stageContext(contextSpec(root));
    expect(staged.files.filter((f) => f.startsWith("source/docs/"))).toHaveLength(lookalikes.length);
    expect(warn).not.toHaveBeenCalled();
  });

  test("files over 1 MiB are not scanned (a big file is not a configuration file; scanning it would mean reading it again)", () => {
    const big = `${"x".repeat((1 << 20) + 10)}\nAccountKey=${storageKey}\n`;
    const root = project({ "src/data/big.txt": big });
    expect(() => stageContext(contextSpec(root))).not.toThrow();
  });
});

describe("the content check costs no read on an unchanged re-synth", () => {
  const sha = (bytes: Buffer | string): string => createHash("sha256").update(bytes).digest("hex");
  /** A clock 2.1 s ahead, so files written just now count as settled (cacheable). */
  let clock: jest.SpyInstance | undefined;
  beforeEach(() => {
    const real = Date.now.bind(Date);
    clock = jest.spyOn(Date, "now").mockImplementation(() => real() + 2_100);
  });
  afterEach(() => clock?.mockRestore());
  /**
   * The files of `dir` hashed with their input manifest in `manifests`: as the entry script's
   * folder (scanned) or as a model folder (not). The files read, and the findings.
   */
  const hashFolder = (dir: string, manifests: string, scanned: boolean): { reads: number; files: Array<{ dest: string; sha256: string }>; findings: Array<{ dest: string; marker: string }> } => {
    let reads = 0;
    const scan = scanned ? { version: SCAN_VERSION, scan: findCredential } : undefined;
    const r = folderInput(manifests, { owner: "T", prop: scanned ? "entryScript" : "model", root: dir, destPrefix: "source/" }, { reading: () => reads++ }, scan);
    return { reads, files: r.files, findings: (r.findings ?? []).map((f) => ({ dest: f.dest, marker: f.finding.marker })) };
  };

  test("a clean file is read and scanned once, then answered from the cache; a file with a finding is read (and reported) every time", () => {
    const dir = path.join(sandbox(), "cache-case");
    fs.mkdirSync(dir);
    const clean = path.join(dir, "clean.py");
    const dirty = path.join(dir, "dirty.json");
    fs.writeFileSync(clean, "print('hi')\n");
    fs.writeFileSync(dirty, `AccountKey=${base64(64)}`);
    const manifests = path.join(sandbox(), "cache-case-manifests");
    fs.mkdirSync(manifests);
    const round = (): { reads: number; finding?: string } => {
      const r = hashFolder(dir, manifests, true);
      expect(r.files.find((f) => f.dest === "source/clean.py")?.sha256).toBe(sha(fs.readFileSync(clean)));
      return { reads: r.reads, finding: r.findings.find((f) => f.dest === "source/dirty.json")?.marker };
    };
    expect(round()).toEqual({ reads: 2, finding: "AccountKey=" });
    expect(round()).toEqual({ reads: 1, finding: "AccountKey=" });
    expect(round()).toEqual({ reads: 1, finding: "AccountKey=" });
  });

  test("a file cached without the scan (as a model file) is read once more before it counts as scanned", () => {
    const dir = path.join(sandbox(), "cache-roles");
    fs.mkdirSync(dir);
    const f = path.join(dir, "shared.txt");
    fs.writeFileSync(f, "plain\n");
    const manifests = path.join(sandbox(), "cache-roles-manifests");
    fs.mkdirSync(manifests);
    const ask = (scanned: boolean): number => hashFolder(dir, manifests, scanned).reads;
    expect(ask(false)).toBe(1);
    expect(ask(false)).toBe(0);
    expect(ask(true)).toBe(1);
    expect(ask(true)).toBe(0);
    expect(ask(false)).toBe(0);
  });
});
