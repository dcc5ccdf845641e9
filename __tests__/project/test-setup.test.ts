/**
 * `npm test` starts with scripts/test-setup.js, so that the README's `npm ci && npm test` is all a
 * fresh machine needs. A fresh machine is simulated: a Python that finds none of the modules until
 * a fake apt-get has "installed" them, and a search path with or without openssl and terraform.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO } from "../helpers";
import { tempDir } from "../temp-dirs";

const SCRIPT = path.join(REPO, "scripts", "test-setup.js");
const ALL_PACKAGES = ["python3-sklearn", "python3-joblib", "python3-grpcio", "python3-protobuf", "python3-dateutil", "python3-requests"];

interface FreshMachine {
  readonly dir: string;
  readonly aptLog: string;
  run(asRoot: boolean): { status: number | null; stdout: string; stderr: string };
}

function executable(file: string, body: string): void {
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/**
 * A machine whose Python finds a module only once apt-get was run with its package, and whose
 * search path holds the given tools.
 */
function freshMachine(tools: string[]): FreshMachine {
  const dir = tempDir("aml-test-setup-");
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  for (const tool of tools) executable(path.join(bin, tool), "exit 0");
  const aptLog = path.join(dir, "apt.log");
  const installed = path.join(dir, "installed");
  // apt-get: logs its arguments; `install` records the packages as installed (and puts openssl
  // on the search path when asked for it).
  const openssl = path.join(bin, "openssl");
  executable(path.join(dir, "apt-get"), [
    `echo "$*" >> "${aptLog}"`,
    `[ "$1" = install ] || exit 0`,
    `echo "$*" > "${installed}"`,
    `case " $* " in *" openssl "*) printf '#!/bin/sh\\nexit 0\\n' > "${openssl}"; chmod 755 "${openssl}";; esac`,
  ].join("\n"));
  // python3: answers the probe with the real interpreter, but a module is found only when its
  // Debian package was "installed".
  const real = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const shim = path.join(dir, "shim.py");
  fs.writeFileSync(shim, [
    "import sys",
    "packages = {'sklearn': 'python3-sklearn', 'joblib': 'python3-joblib', 'grpc': 'python3-grpcio',",
    "            'google.protobuf': 'python3-protobuf', 'dateutil': 'python3-dateutil', 'requests': 'python3-requests'}",
    "try:",
    `    installed = open(${JSON.stringify(installed)}).read().split()`,
    "except FileNotFoundError:",
    "    installed = []",
    "for m in sys.argv[1:]:",
    "    print(m, packages[m] in installed)",
  ].join("\n"));
  const python = path.join(dir, "python3");
  // The setup script passes `-c <probe> modules...`: the shim replaces the probe.
  executable(python, `shift 2\nexec ${real} "${shim}" "$@"`);
  return {
    dir,
    aptLog,
    run(asRoot) {
      const r = spawnSync(process.execPath, [SCRIPT], {
        encoding: "utf8",
        env: {
          ...process.env,
          AML_SETUP_PYTHON: python,
          AML_SETUP_APT_GET: path.join(dir, "apt-get"),
          AML_SETUP_AS_ROOT: asRoot ? "1" : "0",
          AML_SETUP_PATH: bin,
        },
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

describe("test set-up on a machine without the Debian packages", () => {
  test("as root, installs every missing package with apt-get and succeeds", () => {
    const machine = freshMachine(["terraform"]);
    const r = machine.run(true);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const calls = fs.readFileSync(machine.aptLog, "utf8").trim().split("\n");
    expect(calls[0]).toBe("update -qq");
    expect(calls[1].split(" ")).toEqual(["install", "-y", "-qq", ...ALL_PACKAGES, "openssl"]);
    // Once installed, a second run finds everything and calls apt-get no more.
    expect(machine.run(true).status).toBe(0);
    expect(fs.readFileSync(machine.aptLog, "utf8").trim().split("\n")).toHaveLength(2);
  });

  test("not as root, fails at once with the one command that installs them", () => {
    const machine = freshMachine(["terraform", "openssl"]);
    const r = machine.run(false);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`apt-get update && apt-get install -y ${ALL_PACKAGES.join(" ")}`);
    expect(r.stderr).not.toContain("openssl");
    expect(fs.existsSync(machine.aptLog)).toBe(false);
  });

  test("a failing apt-get fails the set-up, naming the call", () => {
    const machine = freshMachine(["terraform", "openssl"]);
    executable(path.join(machine.dir, "apt-get"), "exit 100");
    const r = machine.run(true);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/apt-get update -qq failed \(exit 100\)/);
  });

  test("without terraform, says what is needed instead of running the suite", () => {
    const r = freshMachine(["openssl"]).run(true);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/terraform \(any 1\.x\) is needed/);
  });

  test("this machine is set up: the real probe finds every module", () => {
    // The suite is running, so its own set-up passed: the unsimulated script must agree.
    const r = spawnSync(process.execPath, [SCRIPT], { encoding: "utf8", env: { ...process.env, AML_SETUP_AS_ROOT: "0" } });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("the README's test command runs the set-up", () => {
  test("npm test starts with the set-up, and CI runs npm ci && npm test with no set-up of its own", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts: { test: string } };
    expect(pkg.scripts.test.startsWith("node scripts/test-setup.js && ")).toBe(true);
    const ci = fs.readFileSync(path.join(REPO, ".ci", "run"), "utf8");
    const commands = ci.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(commands).toContain("npm ci --no-audit --no-fund");
    expect(commands[commands.length - 1]).toBe("npm test");
    expect(ci).not.toMatch(/apt-get/);
  });
});
