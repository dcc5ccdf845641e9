/**
 * conda environment files mapped to pip: `dependencies` strings are conda specs turned into pip
 * requirements (see condaToPip); `python` and `pip` are skipped (the python pin is reported as
 * the file's Python version); `{pip: [...]}` items are added verbatim after validation. Packages
 * without a pip equivalent are reported all at once.
 */
import { parseDocument } from "yaml";
import { invalid } from "../errors";
import { readEnvironmentFile } from "./environment-file";
import { checkRequirements, ENVIRONMENT_PROP, LabelledRequirement } from "./requirement-line";
import { renderRequirementsTxt } from "./requirements-file";

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

/**
 * A conda environment file as the image's requirements.txt, and the Python version it pins
 * (`python=3.11` gives "3.11"; undefined for no pin or a range).
 */
export function readCondaFile(owner: string, file: string): { requirementsTxt: string; condaPythonVersion?: string } {
  const { absolutePath, text } = readEnvironmentFile(owner, file, "conda environment file");
  const allowed = "a conda environment file with a `dependencies` list of package specs and an optional `{pip: [...]}` entry";
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    invalid(owner, ENVIRONMENT_PROP, absolutePath, `YAML syntax error: ${doc.errors[0].message.split("\n")[0]}`, allowed);
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== "object" || Array.isArray(data)) invalid(owner, ENVIRONMENT_PROP, absolutePath, "the file is not a YAML mapping", allowed);
  const deps = (data as { dependencies?: unknown }).dependencies;
  if (deps === undefined || deps === null) return { requirementsTxt: "" };
  if (!Array.isArray(deps)) invalid(owner, ENVIRONMENT_PROP, absolutePath, "`dependencies` is not a list", allowed);

  const lines: string[] = [];
  const unmappable: string[] = [];
  const pipItems: LabelledRequirement[] = [];
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
      if (!Array.isArray(pip)) invalid(owner, ENVIRONMENT_PROP, absolutePath, "the `pip` entry is not a list", allowed);
      for (const item of pip) {
        const itemText = typeof item === "string" ? item.trim().replace(/\s+/g, " ") : JSON.stringify(item);
        pipItems.push({ label: "pip entry", text: itemText });
        lines.push(itemText);
      }
    } else {
      invalid(owner, ENVIRONMENT_PROP, absolutePath, `unsupported dependencies entry ${JSON.stringify(dep)}`, allowed);
    }
  }
  if (unmappable.length > 0) {
    invalid(
      owner,
      ENVIRONMENT_PROP,
      absolutePath,
      `${unmappable.length} conda package(s) have no pip equivalent: ${unmappable.join(", ")}`,
      "conda packages that exist on PyPI (system libraries such as mkl, cudatoolkit, openssl or lib* come with the pip wheels or the base image; remove them)",
    );
  }
  checkRequirements(owner, absolutePath, pipItems);
  return { requirementsTxt: renderRequirementsTxt(lines), condaPythonVersion };
}
