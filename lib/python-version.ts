/** Python runtime of the scoring image (the Azure Functions Python base images). */
import { memberNamed, NotAnInstance } from "./validation/enum-like";

export class PythonVersion {
  /** Python 3.11 (the default). */
  public static readonly PYTHON_3_11 = new PythonVersion("3.11");
  /** Python 3.12. */
  public static readonly PYTHON_3_12 = new PythonVersion("3.12");
  /** The version used when none is given. */
  public static readonly DEFAULT = PythonVersion.PYTHON_3_11;

  /** Every supported version. */
  public static all(): PythonVersion[] {
    return [PythonVersion.PYTHON_3_11, PythonVersion.PYTHON_3_12];
  }

  /** Looks up a version by its "major.minor" text, e.g. "3.12". */
  public static of(version: string, owner = "PythonVersion"): PythonVersion {
    return memberNamed(owner, "pythonVersion", version, PythonVersion.all(), (v) => v.version, "not a supported Python version");
  }

  /** Base image of the Azure Functions host for this version (amd64 only). */
  public readonly baseImage: string;

  private constructor(public readonly version: string) {
    this.baseImage = `mcr.microsoft.com/azure-functions/python:4-python${version}`;
  }

  public toString(): string {
    return this.version;
  }
}

/** How a `pythonVersion` prop refuses a value that is neither a PythonVersion nor a version. */
export const NOT_A_PYTHON_VERSION: NotAnInstance = {
  problem: "not a PythonVersion",
  allowed: "PythonVersion.PYTHON_3_11, PythonVersion.PYTHON_3_12 or PythonVersion.of(\"3.11\")",
};
