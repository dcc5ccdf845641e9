/**
 * File names that flow into the Terraform configuration and the image build (the entry script's
 * name becomes the `AZUREML_ENTRY_SCRIPT` app setting and a Docker build argument).
 *
 * Rule: letters, digits, `_`, `-` and `.`, starting with a letter, digit or `_`, at most 255
 * characters. That is every name a Python module file normally has, and it leaves nothing that
 * Terraform (`${`, `%{`, quotes), a shell or a Dockerfile `ARG` could read as syntax.
 */
import { invalid } from "../errors";

const SAFE_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export const SAFE_FILE_NAME_ALLOWED = "a file name of letters, digits, '_', '-' and '.', starting with a letter, digit or '_' (at most 255 characters), e.g. score.py";

/** Throws a ValidationError naming `prop` unless `fileName` (a base name, not a path) is in the safe set. */
export function validateSafeFileName(owner: string, prop: string, fileName: string, given: string = fileName): void {
  if (typeof fileName !== "string" || !SAFE_FILE_NAME.test(fileName)) {
    const bad = typeof fileName === "string" ? [...new Set([...fileName].filter((c) => !/[A-Za-z0-9_.-]/.test(c)))] : [];
    const problem = bad.length > 0
      ? `the file name ${JSON.stringify(fileName)} contains ${bad.map((c) => JSON.stringify(c)).join(", ")}; it is written into app settings and build arguments`
      : `the file name ${JSON.stringify(fileName)} is not in the safe set`;
    invalid(owner, prop, given, problem, SAFE_FILE_NAME_ALLOWED);
  }
}
