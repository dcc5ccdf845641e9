/**
 * The Python packages the entry script needs, rendered as the image's `requirements.txt`: given
 * inline, as a requirements file or as a conda environment file. Each line is checked as a
 * requirement (lib/environment/requirement-line.ts); an empty environment is allowed (no extra
 * packages) and renders as an empty file.
 */
import { Token } from "cdktf";
import { invalid } from "./errors";
import { readCondaFile } from "./environment/conda-file";
import { readEnvironmentFile } from "./environment/environment-file";
import { checkRequirements, ENVIRONMENT_PROP, REQUIREMENT_ALLOWED } from "./environment/requirement-line";
import { parseRequirementsText, renderRequirementsTxt } from "./environment/requirements-file";

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
      if (!Array.isArray(s.packages)) invalid(owner, ENVIRONMENT_PROP, s.packages, "fromPipPackages needs an array of strings", REQUIREMENT_ALLOWED);
      const tokens = s.packages.filter((p) => typeof p !== "string" || Token.isUnresolved(p));
      if (tokens.length > 0) invalid(owner, ENVIRONMENT_PROP, s.packages, "every package must be a literal string (tokens are resolved only at apply time)", REQUIREMENT_ALLOWED);
      checkRequirements(owner, undefined, s.packages.map((p, i) => ({ label: `package ${i + 1}`, text: p })));
      return { requirementsTxt: renderRequirementsTxt(s.packages.map((p) => p.trim().replace(/\s+/g, " "))) };
    }
    if (s.kind === "requirements") {
      const { absolutePath, text } = readEnvironmentFile(owner, s.file, "requirements file");
      return { requirementsTxt: renderRequirementsTxt(parseRequirementsText(owner, absolutePath, text)) };
    }
    return readCondaFile(owner, s.file);
  }
}
