/**
 * The Python packages the entry script needs, rendered as the image's `requirements.txt`.
 *
 * Requirement-line policy: one PEP 508 requirement per line (name, extras, version specifiers or
 * `name @ url`, markers), optionally followed by `--hash=...` options. Blank lines and comments are
 * dropped. pip options that change where packages come from or pull in other files (`-r`, `-c`,
 * `-e`, `--index-url`, `--extra-index-url`, `-f`, `--trusted-host`, bare paths or URLs, ...) are
 * rejected: they cannot be resolved inside the image build, and some (`--trusted-host`, an
 * `http://` index) would turn off TLS checks. A direct reference `name @ url` must be `https://` or
 * `git+https://` and hold no credentials. An empty environment is allowed (no extra packages) and
 * renders as an empty file. Same input gives the same bytes; the user's order is kept.
 *
 * Conda files: `dependencies` strings are conda specs mapped to pip (see condaToPip); `python`
 * and `pip` are skipped (the python pin is exposed as condaPythonVersion); `{pip: [...]}` items are
 * added verbatim after validation. Packages without a pip equivalent are reported all at once.
 */
import * as fs from "fs";
import * as path from "path";
import { Token } from "cdktf";
import { parseDocument } from "yaml";
import { invalid } from "./errors";

const PROP = "environment";
const REQUIREMENT_ALLOWED =
  "PEP 508 requirements such as \"numpy\", \"numpy==1.26.4\", \"scikit-learn>=1.3,<1.6\", \"pandas[parquet]~=2.2; python_version>='3.10'\" or \"pkg @ https://host/pkg.whl\" (direct references over https:// only, without credentials; no -r, -c, -e, --index-url, --trusted-host or other pip options)";

const NAME = "[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?";
const EXTRAS = `\\[\\s*(?:${NAME}(?:\\s*,\\s*${NAME})*)?\\s*\\]`;
const VERSION_CLAUSE = "(?:~=|===|==|!=|<=|>=|<|>)\\s*[A-Za-z0-9.*+!_-]+";
const VERSION_SPEC = `${VERSION_CLAUSE}(?:\\s*,\\s*${VERSION_CLAUSE})*`;
const REQUIREMENT_RE = new RegExp(`^(${NAME})\\s*(?:${EXTRAS})?\\s*(?:\\(\\s*${VERSION_SPEC}\\s*\\)|${VERSION_SPEC}|@\\s*(\\S+))?\\s*(?:;(.*))?$`);
const MARKER_VARIABLES = new Set([
  "python_version",
  "python_full_version",
  "os_name",
  "sys_platform",
  "platform_release",
  "platform_system",
  "platform_version",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "implementation_version",
  "extra",
]);

/** Returns a problem description, or undefined when the marker looks like a PEP 508 marker. */
function markerProblem(marker: string): string | undefined {
  const text = marker.trim();
  if (text === "") return "the environment marker after ';' is empty";
  const token = /\s*(?:('[^']*'|"[^"]*")|(===|==|!=|<=|>=|~=|<|>)|(\(|\))|([A-Za-z_][A-Za-z0-9_.]*))/y;
  let pos = 0;
  let depth = 0;
  while (pos < text.length) {
    token.lastIndex = pos;
    const m = token.exec(text);
    if (m === null) return `the environment marker has unexpected text at ${JSON.stringify(text.slice(pos))}`;
    if (m[3] === "(") depth++;
    if (m[3] === ")" && --depth < 0) return "the environment marker has unbalanced parentheses";
    if (m[4] !== undefined && !["and", "or", "in", "not"].includes(m[4]) && !MARKER_VARIABLES.has(m[4])) {
      return `unknown environment marker variable ${JSON.stringify(m[4])}`;
    }
    pos = token.lastIndex;
    if (/^\s*$/.test(text.slice(pos))) break;
  }
  if (depth !== 0) return "the environment marker has unbalanced parentheses";
  return undefined;
}

/** Returns a problem description, or undefined when `line` is an acceptable requirement. */
export function requirementProblem(line: string): string | undefined {
  const text = line.trim();
  if (text === "") return "the requirement is empty";
  if (text.startsWith("-")) {
    const option = text.split(/[\s=]/)[0];
    return `pip option ${option} cannot be resolved in the image build`;
  }
  if (/^(?:[a-z+]+:\/\/|\.{0,2}\/|[A-Za-z]:\\)/i.test(text) || text.startsWith("git+")) {
    return "a bare path or URL is not a requirement; use \"name @ url\" with a URL reachable from the build";
  }
  const m = REQUIREMENT_RE.exec(text);
  if (m === null) return "it is not a PEP 508 requirement";
  if (m[2] !== undefined) {
    const problem = urlProblem(m[2]);
    if (problem !== undefined) return problem;
  }
  if (m[3] !== undefined) return markerProblem(m[3]);
  return undefined;
}

/**
 * Direct references (`name @ url`) are fetched by pip inside the image build and run as code in
 * the app: only HTTPS (and git over HTTPS) is accepted, so nobody on the network path can swap
 * the package, and no user name or password in the URL, which would be baked into the image.
 */
function urlProblem(url: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== "https" && scheme !== "git+https") {
    return `the direct reference ${JSON.stringify(url)} is not fetched over HTTPS (${scheme === undefined ? "no scheme" : `scheme ${scheme}`}); plain HTTP, file and other schemes can be tampered with or cannot be resolved in the image build`;
  }
  const authority = url.slice(url.indexOf("://") + 3).split(/[/?#]/)[0];
  if (authority.includes("@")) return `the direct reference ${JSON.stringify(url)} holds credentials, which would be baked into the image`;
  return undefined;
}

/** Splits `--hash=...` options off a requirements-file line. */
function splitHashes(line: string): { requirement: string; hashes: string[] } | undefined {
  const m = /^(.*?)((?:\s+--hash[=\s]\S+)+)\s*$/.exec(line);
  if (m === null) return { requirement: line, hashes: [] };
  const hashes = m[2].trim().split(/\s+(?=--hash)/).map((h) => h.replace(/^--hash\s+/, "--hash="));
  if (!hashes.every((h) => /^--hash=[a-z0-9]+:[A-Fa-f0-9]+$/.test(h))) return undefined;
  return { requirement: m[1], hashes };
}

function render(lines: string[]): string {
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

function readText(owner: string, file: string, what: string): { absolutePath: string; text: string } {
  if (typeof file !== "string" || file.trim() === "") invalid(owner, PROP, file, `the ${what} path is empty`, `a path to a readable ${what}`);
  if (Token.isUnresolved(file)) invalid(owner, PROP, file, `the ${what} path is a token; it is read at synth time`, `a literal path to a readable ${what}`);
  const absolutePath = path.resolve(process.cwd(), file);
  try {
    if (!fs.statSync(absolutePath).isFile()) invalid(owner, PROP, file, `${absolutePath} is not a regular file`, `a path to a readable ${what}`);
    return { absolutePath, text: fs.readFileSync(absolutePath, "utf8").replace(/^\uFEFF/, "") };
  } catch (e) {
    if ((e as Error).name === "ValidationError") throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") invalid(owner, PROP, file, `no file exists at ${absolutePath}`, `a path to a readable ${what}`);
    invalid(owner, PROP, file, `cannot read ${absolutePath} (${code ?? (e as Error).message})`, `a path to a readable ${what}`);
  }
}

function checkAll(owner: string, where: string | undefined, items: Array<{ label: string; text: string }>): void {
  const problems: string[] = [];
  const bad: string[] = [];
  for (const item of items) {
    const problem = requirementProblem(item.text);
    if (problem === undefined) continue;
    bad.push(item.text);
    problems.push(`${item.label} ${JSON.stringify(item.text)}: ${problem}`);
  }
  if (problems.length === 0) return;
  const prefix = where === undefined ? "" : `in ${where}, `;
  invalid(owner, PROP, bad.length === 1 ? bad[0] : bad, `${prefix}${problems.length} invalid requirement(s): ${problems.join("; ")}`, REQUIREMENT_ALLOWED);
}

/** Parses requirements.txt text into normalized lines (comments, blanks, continuations handled). */
function parseRequirementsText(owner: string, where: string, text: string): string[] {
  const logical: Array<{ line: number; text: string }> = [];
  let pending = "";
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    if (pending === "") start = index + 1;
    if (raw.endsWith("\\")) {
      pending += `${raw.slice(0, -1)} `;
      return;
    }
    logical.push({ line: start, text: pending + raw });
    pending = "";
  });
  if (pending !== "") logical.push({ line: start, text: pending });

  const out: string[] = [];
  const items: Array<{ label: string; text: string }> = [];
  const badHashes: string[] = [];
  for (const entry of logical) {
    const stripped = entry.text.replace(/(^|\s)#.*$/, "").trim().replace(/\s+/g, " ");
    if (stripped === "") continue;
    const split = splitHashes(stripped);
    if (split === undefined) {
      badHashes.push(`line ${entry.line}`);
      continue;
    }
    items.push({ label: `line ${entry.line}`, text: split.requirement });
    out.push([split.requirement.trim(), ...split.hashes].join(" "));
  }
  if (badHashes.length > 0) invalid(owner, PROP, where, `malformed --hash option on ${badHashes.join(", ")}`, "--hash=<algorithm>:<hex digest>");
  checkAll(owner, where, items);
  return out;
}

/** conda package names whose pip name differs. */
export const CONDA_TO_PIP_NAMES: { readonly [conda: string]: string } = Object.freeze({
  pytorch: "torch",
  "pytorch-cpu": "torch",
  "pytorch-gpu": "torch",
  "py-xgboost": "xgboost",
  "py-xgboost-cpu": "xgboost",
  "py-xgboost-gpu": "xgboost",
  "py-lightgbm": "lightgbm",
  "py-catboost": "catboost",
  pytables: "tables",
  "matplotlib-base": "matplotlib",
  "numpy-base": "numpy",
  "tensorflow-base": "tensorflow",
  "tensorflow-cpu": "tensorflow-cpu",
  "python-graphviz": "graphviz",
  "msgpack-python": "msgpack",
  "ruamel_yaml": "ruamel.yaml",
  "ruamel.yaml": "ruamel.yaml",
  opencv: "opencv-python-headless",
  "py-opencv": "opencv-python-headless",
  "pyqt": "PyQt5",
  "protobuf": "protobuf",
  "libprotobuf-python": "protobuf",
  "python-dateutil": "python-dateutil",
  "python-tzdata": "tzdata",
  "python-kaleido": "kaleido",
  "arrow-cpp-python": "pyarrow",
  "pyarrow-core": "pyarrow",
  "cudf": "cudf-cu12",
});

/** conda packages that are system libraries or tools with no pip equivalent. */
export const CONDA_WITHOUT_PIP: readonly string[] = Object.freeze([
  "mkl",
  "mkl-include",
  "mkl-devel",
  "mkl-service",
  "mkl_fft",
  "mkl_random",
  "intel-openmp",
  "llvm-openmp",
  "tbb",
  "blas",
  "openblas",
  "cudatoolkit",
  "cuda-toolkit",
  "cuda-nvcc",
  "cuda-runtime",
  "cuda-version",
  "cudnn",
  "nccl",
  "pytorch-cuda",
  "pytorch-mutex",
  "cpuonly",
  "openssl",
  "ca-certificates",
  "tk",
  "xz",
  "zlib",
  "zstd",
  "bzip2",
  "lz4-c",
  "sqlite",
  "readline",
  "ncurses",
  "tzdata",
  "yaml",
  "expat",
  "icu",
  "krb5",
  "jpeg",
  "freetype",
  "fontconfig",
  "gettext",
  "pcre",
  "pcre2",
  "glib",
  "hdf5",
  "arrow-cpp",
  "graphviz",
  "ffmpeg",
  "gcc",
  "gxx",
  "gfortran",
  "gcc_linux-64",
  "gxx_linux-64",
  "make",
  "git",
  "curl",
  "wget",
  "nodejs",
  "r-base",
  "conda",
  "ld_impl_linux-64",
  "pthread-stubs",
  "qt",
  "qt-main",
  "openjdk",
]);

/** Names starting with `lib` that are genuine pip packages (the rule otherwise treats `lib*` as system libraries). */
const PIP_LIB_PACKAGES = new Set(["librosa", "libcst", "libpysal", "liblinear-official"]);

const DENY = new Set(CONDA_WITHOUT_PIP);

/** True when a conda package name has no pip equivalent (curated list, `lib*`, `_*`, `xorg-*`, `r-*`). */
export function condaHasNoPipEquivalent(name: string): boolean {
  const n = name.toLowerCase();
  if (DENY.has(n)) return true;
  if (n.startsWith("_") || n.startsWith("xorg-") || n.startsWith("r-") || n.startsWith("cuda-")) return true;
  return n.startsWith("lib") && !PIP_LIB_PACKAGES.has(n);
}

/** A conda spec split into channel, name, version and build. */
interface CondaSpec {
  readonly name: string;
  readonly version?: string;
}

function parseCondaSpec(spec: string): CondaSpec | undefined {
  let text = spec.trim();
  const channelEnd = text.lastIndexOf("::");
  if (channelEnd >= 0) text = text.slice(channelEnd + 2);
  // name[version='>=1.2'] bracket form
  const bracket = /^([A-Za-z0-9_.-]+)\s*\[\s*version\s*=\s*['"]?([^'"\]]+)['"]?\s*\]$/.exec(text);
  if (bracket) return { name: bracket[1], version: bracket[2].trim() };
  const m = /^([A-Za-z0-9_.-]+?)\s*((?:==|>=|<=|!=|~=|=|<|>|\s)\s*.*)?$/.exec(text);
  if (m === null) return undefined;
  const rest = (m[2] ?? "").trim();
  if (rest === "") return { name: m[1] };
  if (rest.startsWith("=") && !rest.startsWith("==")) {
    // name=version[=build]
    const [version] = rest.slice(1).split("=");
    return { name: m[1], version: `=${version.trim()}` };
  }
  // Operator specs keep everything ("numpy >=1.24, <2"); "name 1.2.3 build" drops the build.
  if (/^[<>=!~]/.test(rest)) return { name: m[1], version: rest.replace(/\s+/g, "") };
  const [version] = rest.split(/\s+/);
  return { name: m[1], version };
}

/**
 * Maps a conda version spec to a pip specifier. `=1.24` (fuzzy) -> `==1.24.*`; `=1.24.2`
 * (three or more release parts) -> `==1.24.2`; `1.24*` -> `==1.24.*`; operators are kept.
 * Returns undefined for specs pip cannot express (`|` alternatives).
 */
export function condaVersionToPip(version: string): string | undefined {
  const v = version.trim();
  if (v.includes("|")) return undefined;
  if (v.startsWith("=") && !v.startsWith("==")) {
    const bare = v.slice(1).replace(/\.?\*$/, "");
    if (bare === "") return "";
    const parts = bare.split(".");
    return parts.length >= 3 && !v.endsWith("*") ? `==${bare}` : `==${bare}.*`;
  }
  const clauses = v.split(",").map((c) => c.trim()).filter((c) => c !== "");
  const out: string[] = [];
  for (const c of clauses) {
    if (/^(==|>=|<=|!=|~=|<|>)/.test(c)) {
      out.push(c.replace(/\s+/g, ""));
    } else if (/^[0-9][A-Za-z0-9.]*\.?\*$/.test(c)) {
      out.push(`==${c.replace(/\.?\*$/, "")}.*`);
    } else if (/^[0-9][A-Za-z0-9.+!-]*$/.test(c)) {
      out.push(`==${c}`);
    } else {
      return undefined;
    }
  }
  return out.join(",");
}

/** Converts one conda spec to a pip requirement; `skip` for python/pip; `unmappable` otherwise. */
export function condaToPip(spec: string): { kind: "pip"; requirement: string } | { kind: "skip"; name: string; version?: string } | { kind: "unmappable"; reason: string } {
  const parsed = parseCondaSpec(spec);
  if (parsed === undefined) return { kind: "unmappable", reason: "not a conda package spec" };
  const name = parsed.name.toLowerCase();
  if (name === "python" || name === "pip") return { kind: "skip", name, version: parsed.version };
  if (condaHasNoPipEquivalent(name)) return { kind: "unmappable", reason: "a system library or tool without a pip package" };
  const pipName = CONDA_TO_PIP_NAMES[name] ?? name;
  if (parsed.version === undefined) return { kind: "pip", requirement: pipName };
  const pipVersion = condaVersionToPip(parsed.version);
  if (pipVersion === undefined) return { kind: "unmappable", reason: `version ${JSON.stringify(parsed.version)} has no pip equivalent` };
  return { kind: "pip", requirement: `${pipName}${pipVersion}` };
}

/** The "major.minor[.patch]" a conda python spec pins, or undefined for ranges and no pin. */
function pinnedPython(version: string | undefined): string | undefined {
  if (version === undefined) return undefined;
  const m = /^(?:==?)?\s*([0-9]+(?:\.[0-9]+){0,2})(?:\.\*|\*)?$/.exec(version.trim());
  return m === null ? undefined : m[1];
}

interface Resolved {
  readonly requirementsTxt: string;
  readonly condaPythonVersion?: string;
}

type Source =
  | { readonly kind: "pip"; readonly packages: string[] }
  | { readonly kind: "requirements"; readonly file: string }
  | { readonly kind: "conda"; readonly file: string };

export class PythonEnvironment {
  /** Packages given inline, each a PEP 508 requirement. An empty list means no extra packages. */
  public static fromPipPackages(packages: string[]): PythonEnvironment {
    return new PythonEnvironment({ kind: "pip", packages: Array.isArray(packages) ? [...packages] : packages });
  }

  /** A pip requirements file (path relative to process.cwd()). */
  public static fromRequirementsFile(file: string): PythonEnvironment {
    return new PythonEnvironment({ kind: "requirements", file });
  }

  /** A conda environment file (`environment.yml`); its packages are mapped to pip. */
  public static fromCondaFile(file: string): PythonEnvironment {
    return new PythonEnvironment({ kind: "conda", file });
  }

  private resolved?: Resolved;

  private constructor(private readonly source: Source) {}

  /** Content of the image's requirements.txt: one requirement per line, trailing newline. */
  public requirements(owner: string): string {
    return this.resolve(owner).requirementsTxt;
  }

  /**
   * The Python version a conda file pins (`python=3.11` -> "3.11"), or undefined (no conda file,
   * no python entry, or a range). Reads the file if requirements() was not called first.
   */
  public get condaPythonVersion(): string | undefined {
    return this.resolve("PythonEnvironment").condaPythonVersion;
  }

  private resolve(owner: string): Resolved {
    if (this.resolved === undefined) this.resolved = this.load(owner);
    return this.resolved;
  }

  private load(owner: string): Resolved {
    const s = this.source;
    if (s.kind === "pip") {
      if (!Array.isArray(s.packages)) invalid(owner, PROP, s.packages, "fromPipPackages needs an array of strings", REQUIREMENT_ALLOWED);
      const tokens = s.packages.filter((p) => typeof p !== "string" || Token.isUnresolved(p));
      if (tokens.length > 0) invalid(owner, PROP, s.packages, "every package must be a literal string (tokens are resolved only at apply time)", REQUIREMENT_ALLOWED);
      const items = s.packages.map((p, i) => ({ label: `package ${i + 1}`, text: p }));
      checkAll(owner, undefined, items);
      return { requirementsTxt: render(s.packages.map((p) => p.trim().replace(/\s+/g, " "))) };
    }
    if (s.kind === "requirements") {
      const { absolutePath, text } = readText(owner, s.file, "requirements file");
      return { requirementsTxt: render(parseRequirementsText(owner, absolutePath, text)) };
    }
    return this.loadConda(owner, s.file);
  }

  private loadConda(owner: string, file: string): Resolved {
    const { absolutePath, text } = readText(owner, file, "conda environment file");
    const allowed = "a conda environment file with a `dependencies` list of package specs and an optional `{pip: [...]}` entry";
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      invalid(owner, PROP, absolutePath, `YAML syntax error: ${doc.errors[0].message.split("\n")[0]}`, allowed);
    }
    const data: unknown = doc.toJS();
    if (data === null || typeof data !== "object" || Array.isArray(data)) invalid(owner, PROP, absolutePath, "the file is not a YAML mapping", allowed);
    const deps = (data as { dependencies?: unknown }).dependencies;
    if (deps === undefined || deps === null) return { requirementsTxt: "" };
    if (!Array.isArray(deps)) invalid(owner, PROP, absolutePath, "`dependencies` is not a list", allowed);

    const lines: string[] = [];
    const unmappable: string[] = [];
    const pipItems: Array<{ label: string; text: string }> = [];
    let condaPythonVersion: string | undefined;
    for (const dep of deps) {
      if (typeof dep === "string" || typeof dep === "number") {
        const result = condaToPip(String(dep));
        if (result.kind === "pip") lines.push(result.requirement);
        else if (result.kind === "skip") {
          if (result.name === "python") condaPythonVersion = pinnedPython(result.version);
        } else unmappable.push(`${JSON.stringify(String(dep))} (${result.reason})`);
      } else if (dep !== null && typeof dep === "object" && !Array.isArray(dep) && Object.keys(dep).length === 1 && "pip" in dep) {
        const pip = (dep as { pip: unknown }).pip;
        if (!Array.isArray(pip)) invalid(owner, PROP, absolutePath, "the `pip` entry is not a list", allowed);
        for (const item of pip) {
          const itemText = typeof item === "string" ? item.trim().replace(/\s+/g, " ") : JSON.stringify(item);
          pipItems.push({ label: "pip entry", text: itemText });
          lines.push(itemText);
        }
      } else {
        invalid(owner, PROP, absolutePath, `unsupported dependencies entry ${JSON.stringify(dep)}`, allowed);
      }
    }
    if (unmappable.length > 0) {
      invalid(
        owner,
        PROP,
        absolutePath,
        `${unmappable.length} conda package(s) have no pip equivalent: ${unmappable.join(", ")}`,
        "conda packages that exist on PyPI (system libraries such as mkl, cudatoolkit, openssl or lib* come with the pip wheels or the base image; remove them)",
      );
    }
    checkAll(owner, absolutePath, pipItems);
    return { requirementsTxt: render(lines), condaPythonVersion };
  }
}
