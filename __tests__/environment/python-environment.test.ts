import * as fs from "fs";
import * as path from "path";
import { Token } from "cdktf";
import { PythonEnvironment } from "../../lib/python-environment";
import { condaHasNoPipEquivalent, condaToPip, condaVersionToPip } from "../../lib/environment/conda-file";
import { requirementProblem } from "../../lib/environment/requirement-line";
import { message } from "../error-message";
import { tempDir } from "../temp-dirs";

const FIXTURES = path.join(__dirname, "..", "fixtures", "env");
const fixture = (name: string): string => path.join(FIXTURES, name);
const ALLOWED = "Allowed: PEP 508 requirements such as";

describe("fromPipPackages", () => {
  test("renders one requirement per line with a trailing newline, keeping the order", () => {
    const env = PythonEnvironment.fromPipPackages(["scikit-learn==1.5.2", "numpy", "  pandas  >=2.0 "]);
    expect(env.requirements("D")).toBe("scikit-learn==1.5.2\nnumpy\npandas >=2.0\n");
    expect(env.condaPythonVersion).toBeUndefined();
  });

  test("an empty list means no extra packages", () => {
    expect(PythonEnvironment.fromPipPackages([]).requirements("D")).toBe("");
  });

  test("same input gives the same bytes", () => {
    const a = PythonEnvironment.fromPipPackages(["b", "a"]).requirements("D");
    const b = PythonEnvironment.fromPipPackages(["b", "a"]).requirements("D");
    expect(a).toBe(b);
  });

  test("an invalid requirement names environment, the value and what is allowed", () => {
    const m = message(() => PythonEnvironment.fromPipPackages(["numpy", "not a package!"]).requirements("MyDeployment"));
    expect(m).toContain('MyDeployment: invalid environment "not a package!": 1 invalid requirement(s): package 2 "not a package!": it is not a PEP 508 requirement');
    expect(m).toContain(ALLOWED);
  });

  test("pip options are rejected", () => {
    const m = message(() => PythonEnvironment.fromPipPackages(["--index-url https://x/simple"]).requirements("D"));
    expect(m).toContain('invalid environment "--index-url https://x/simple"');
    expect(m).toContain("pip option --index-url cannot be resolved in the image build");
    expect(m).toContain(ALLOWED);
  });

  test("tokens are rejected (the file is written at synth time)", () => {
    const m = message(() => PythonEnvironment.fromPipPackages([Token.asString({ Ref: "p" })]).requirements("D"));
    expect(m).toContain("every package must be a literal string");
  });
});

describe("requirementProblem (loose PEP 508)", () => {
  test.each([
    "numpy",
    "numpy==1.26.4",
    "scikit-learn>=1.3,<1.6",
    "pandas[parquet,performance]~=2.2",
    "torch (>=2.0)",
    "zope.interface===5.0",
    "pkg @ https://example.com/pkg.whl",
    "pkg[extra] @ git+https://example.com/pkg.git@v1",
    "colorama; sys_platform == 'win32'",
    "typing-extensions>=4; python_version < \"3.12\" and (os_name == 'posix' or extra == 'x')",
    "numpy==1.26.*",
  ])("accepts %j", (r) => {
    expect(requirementProblem(r)).toBeUndefined();
  });

  test.each([
    ["", "empty"],
    ["numpy===", "not a PEP 508 requirement"],
    ["-r other.txt", "pip option -r"],
    ["-e .", "pip option -e"],
    ["./local", "bare path or URL"],
    ["https://x/y.whl", "bare path or URL"],
    ["git+https://github.com/x/y", "bare path or URL"],
    ["numpy; ", "marker after ';' is empty"],
    ["numpy; foo == '1'", "unknown environment marker variable \"foo\""],
    ["numpy; (python_version > '3'", "unbalanced parentheses"],
    ["num py", "not a PEP 508 requirement"],
    ["numpy=1.2", "not a PEP 508 requirement"],
  ])("rejects %j (%s)", (r, problem) => {
    expect(requirementProblem(r)).toContain(problem);
  });
});

describe("insecure sources are refused (issue 7, item 12)", () => {
  test.each<[string, string]>([
    ["pkg @ http://example.com/pkg-1.0-py3-none-any.whl", "is not fetched over HTTPS (scheme http)"],
    ["pkg @ HTTP://example.com/pkg.whl", "scheme http"],
    ["pkg @ git+http://example.com/repo.git", "scheme git+http"],
    ["pkg @ ftp://example.com/pkg.whl", "scheme ftp"],
    ["pkg @ file:///tmp/pkg.whl", "scheme file"],
    ["pkg @ https://user:secret@example.com/pkg.whl", "holds credentials"],
    ["--index-url http://pypi.example.com/simple", "pip option --index-url"],
    ["--extra-index-url http://pypi.example.com/simple", "pip option --extra-index-url"],
    ["-i http://pypi.example.com/simple", "pip option -i"],
    ["-f http://example.com/wheels/", "pip option -f"],
    ["--find-links=http://example.com/wheels/", "pip option --find-links"],
    ["--trusted-host pypi.example.com", "pip option --trusted-host"],
  ])("%j", (requirement, problem) => {
    expect(requirementProblem(requirement)).toContain(problem);
    const m = message(() => PythonEnvironment.fromPipPackages([requirement]).requirements("D"));
    expect(m).toContain(`D: invalid environment ${JSON.stringify(requirement)}`);
    expect(m).toContain("direct references over https:// only");
  });

  test("a requirements file with an http:// reference is refused, naming the line", () => {
    const dir = tempDir("aml-req-");
    const file = path.join(dir, "requirements.txt");
    fs.writeFileSync(file, "numpy==1.26.4\npkg @ http://example.com/pkg.whl\n");
    expect(message(() => PythonEnvironment.fromRequirementsFile(file).requirements("D"))).toContain("is not fetched over HTTPS");
  });

  test.each(["pkg @ https://example.com/pkg-1.0-py3-none-any.whl", "pkg @ git+https://github.com/org/repo.git@v1.0", "pkg @ https://example.com/pkg.whl ; python_version >= '3.10'"])("%j is accepted", (requirement) => {
    expect(requirementProblem(requirement)).toBeUndefined();
  });
});

describe("fromRequirementsFile", () => {
  test("drops comments and blanks, joins continuations, keeps hashes and the order", () => {
    expect(PythonEnvironment.fromRequirementsFile(fixture("requirements.txt")).requirements("D")).toBe(
      [
        "numpy==1.26.4",
        "scikit-learn>=1.3,<1.6",
        'pandas[parquet] ~= 2.2 ; python_version >= "3.10"',
        "joblib ==1.4.2",
        "mypkg @ https://example.com/mypkg-1.0-py3-none-any.whl#sha256=abc",
        "requests==2.32.3 --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6",
        "",
      ].join("\n"),
    );
  });

  test("relative paths resolve against process.cwd()", () => {
    const spy = jest.spyOn(process, "cwd").mockReturnValue(FIXTURES);
    try {
      expect(PythonEnvironment.fromRequirementsFile("requirements.txt").requirements("D")).toContain("numpy==1.26.4\n");
    } finally {
      spy.mockRestore();
    }
  });

  test("-r, --index-url, -e and bare paths are all reported with line numbers", () => {
    const m = message(() => PythonEnvironment.fromRequirementsFile(fixture("requirements-options.txt")).requirements("D"));
    expect(m).toContain("invalid environment [");
    expect(m).toContain(`in ${fixture("requirements-options.txt")}, 4 invalid requirement(s)`);
    expect(m).toContain('line 2 "-r other.txt": pip option -r cannot be resolved in the image build');
    expect(m).toContain('line 3 "--index-url https://private.example/simple": pip option --index-url');
    expect(m).toContain('line 4 "-e ./local-package": pip option -e');
    expect(m).toContain('line 5 "./wheels/pkg.whl": a bare path or URL');
    expect(m).toContain(ALLOWED);
  });

  test("invalid requirements are reported", () => {
    const m = message(() => PythonEnvironment.fromRequirementsFile(fixture("requirements-invalid.txt")).requirements("D"));
    expect(m).toContain('line 1 "numpy===": it is not a PEP 508 requirement');
    expect(m).toContain('line 3 "pandas>=2; weird_marker == \\"x\\"": unknown environment marker variable');
    expect(m).not.toContain("good-package");
  });

  test("a missing file names environment and the path", () => {
    const given = fixture("nope.txt");
    const m = message(() => PythonEnvironment.fromRequirementsFile(given).requirements("D"));
    expect(m).toContain(`D: invalid environment ${JSON.stringify(given)}: no file exists at`);
    expect(m).toContain("Allowed: a path to a readable requirements file");
  });

  test("a folder is rejected", () => {
    expect(message(() => PythonEnvironment.fromRequirementsFile(FIXTURES).requirements("D"))).toContain("is not a regular file");
  });

  test("an empty file gives an empty requirements.txt", () => {
    const dir = tempDir("pyenv-");
    try {
      fs.writeFileSync(path.join(dir, "r.txt"), "# nothing\n\n");
      expect(PythonEnvironment.fromRequirementsFile(path.join(dir, "r.txt")).requirements("D")).toBe("");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("fromCondaFile", () => {
  test("maps conda packages to pip and appends the pip entries verbatim", () => {
    const env = PythonEnvironment.fromCondaFile(fixture("environment.yml"));
    expect(env.requirements("D")).toBe(
      [
        "numpy==1.24.*",
        "scipy==1.11.4",
        "pandas>=2.0,<2.3",
        "torch",
        "xgboost==2.0.*",
        "tables",
        "matplotlib==3.8.2",
        "scikit-learn",
        "azureml-inference-server-http==1.3.2",
        "inference-schema[numpy-support]",
        "",
      ].join("\n"),
    );
    expect(env.condaPythonVersion).toBe("3.11");
  });

  test("condaPythonVersion can be read before requirements()", () => {
    expect(PythonEnvironment.fromCondaFile(fixture("environment.yml")).condaPythonVersion).toBe("3.11");
  });

  test("lists every unmappable package in one message with the file path", () => {
    const file = fixture("environment-system-libs.yml");
    const m = message(() => PythonEnvironment.fromCondaFile(file).requirements("D"));
    expect(m).toContain(`D: invalid environment ${JSON.stringify(file)}: 5 conda package(s) have no pip equivalent:`);
    for (const name of ['"mkl"', '"cudatoolkit=11.8"', '"libgcc-ng"', '"_libgcc_mutex=0.1=conda_forge"', '"openssl"']) expect(m).toContain(name);
    expect(m).not.toContain("librosa");
    expect(m).toContain("Allowed: conda packages that exist on PyPI");
  });

  test("a YAML syntax error names environment and the file", () => {
    const file = fixture("environment-broken.yml");
    const m = message(() => PythonEnvironment.fromCondaFile(file).requirements("D"));
    expect(m).toContain(`invalid environment ${JSON.stringify(file)}: YAML syntax error`);
    expect(m).toContain("Allowed: a conda environment file");
  });

  test("pip entries are validated", () => {
    const m = message(() => PythonEnvironment.fromCondaFile(fixture("environment-pip-options.yml")).requirements("D"));
    expect(m).toContain('invalid environment "-r requirements.txt"');
    expect(m).toContain("pip option -r");
  });

  test("a missing file and a non-mapping file are rejected", () => {
    expect(message(() => PythonEnvironment.fromCondaFile(fixture("missing.yml")).requirements("D"))).toContain("no file exists at");
    const dir = tempDir("pyenv-");
    try {
      fs.writeFileSync(path.join(dir, "list.yml"), "- numpy\n");
      expect(message(() => PythonEnvironment.fromCondaFile(path.join(dir, "list.yml")).requirements("D"))).toContain("the file is not a YAML mapping");
      fs.writeFileSync(path.join(dir, "deps.yml"), "dependencies: numpy\n");
      expect(message(() => PythonEnvironment.fromCondaFile(path.join(dir, "deps.yml")).requirements("D"))).toContain("`dependencies` is not a list");
      fs.writeFileSync(path.join(dir, "none.yml"), "name: x\n");
      expect(PythonEnvironment.fromCondaFile(path.join(dir, "none.yml")).requirements("D")).toBe("");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("conda mapping rules", () => {
  test.each([
    ["numpy", "numpy"],
    ["numpy=1.24", "numpy==1.24.*"],
    ["numpy=1.24.2", "numpy==1.24.2"],
    ["numpy=1.24.2=py311h_0", "numpy==1.24.2"],
    ["numpy==1.24.2", "numpy==1.24.2"],
    ["numpy>=1.24", "numpy>=1.24"],
    ["numpy >=1.24, <2", "numpy>=1.24,<2"],
    ["numpy 1.24.*", "numpy==1.24.*"],
    ["numpy=1.24.*", "numpy==1.24.*"],
    ["numpy[version='>=1.24']", "numpy>=1.24"],
    ["conda-forge::numpy", "numpy"],
    ["conda-forge/label/main::numpy=1", "numpy==1.*"],
    ["pytorch=2.1", "torch==2.1.*"],
    ["py-xgboost", "xgboost"],
    ["pytables", "tables"],
    ["matplotlib-base", "matplotlib"],
    ["msgpack-python", "msgpack"],
    ["python-graphviz", "graphviz"],
    ["PyYAML", "pyyaml"],
  ])("%j -> %j", (conda, pip) => {
    expect(condaToPip(conda)).toEqual({ kind: "pip", requirement: pip });
  });

  test("python and pip are skipped", () => {
    expect(condaToPip("python=3.12")).toEqual({ kind: "skip", name: "python", version: "=3.12" });
    expect(condaToPip("pip")).toEqual({ kind: "skip", name: "pip", version: undefined });
  });

  test("OR specs cannot be mapped", () => {
    expect(condaToPip("numpy 1.24|1.25")).toEqual({ kind: "unmappable", reason: 'version "1.24|1.25" has no pip equivalent' });
    expect(condaVersionToPip("1.2|1.3")).toBeUndefined();
  });

  test.each(["mkl", "cudatoolkit", "libgcc-ng", "_libgcc_mutex", "openssl", "blas", "libstdcxx-ng", "xorg-libx11", "r-base", "tzdata"])("%s has no pip equivalent", (n) => {
    expect(condaHasNoPipEquivalent(n)).toBe(true);
  });

  test.each(["numpy", "librosa", "libcst", "scikit-learn", "lightgbm"])("%s is a pip package", (n) => {
    expect(condaHasNoPipEquivalent(n)).toBe(false);
  });

  test("conda python ranges expose no pinned version", () => {
    const dir = tempDir("pyenv-");
    try {
      fs.writeFileSync(path.join(dir, "e.yml"), "dependencies:\n  - python>=3.10\n  - numpy\n");
      expect(PythonEnvironment.fromCondaFile(path.join(dir, "e.yml")).condaPythonVersion).toBeUndefined();
      fs.writeFileSync(path.join(dir, "f.yml"), "dependencies:\n  - python=3.12.4\n");
      expect(PythonEnvironment.fromCondaFile(path.join(dir, "f.yml")).condaPythonVersion).toBe("3.12.4");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
