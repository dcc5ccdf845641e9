/** Reading a user's environment file (requirements.txt, environment.yml) at synth. */
import * as fs from "fs";
import * as path from "path";
import { Token } from "cdktf";
import { invalid } from "../errors";
import { ENVIRONMENT_PROP } from "./requirement-line";

/**
 * The text of `file` (relative to the working directory), without a UTF-8 BOM; a
 * ValidationError naming the environment prop when it is empty, a token, missing or unreadable.
 */
export function readEnvironmentFile(owner: string, file: string, what: string): { absolutePath: string; text: string } {
  if (typeof file !== "string" || file.trim() === "") invalid(owner, ENVIRONMENT_PROP, file, `the ${what} path is empty`, `a path to a readable ${what}`);
  if (Token.isUnresolved(file)) invalid(owner, ENVIRONMENT_PROP, file, `the ${what} path is a token; it is read at synth time`, `a literal path to a readable ${what}`);
  const absolutePath = path.resolve(process.cwd(), file);
  try {
    if (!fs.statSync(absolutePath).isFile()) invalid(owner, ENVIRONMENT_PROP, file, `${absolutePath} is not a regular file`, `a path to a readable ${what}`);
    return { absolutePath, text: fs.readFileSync(absolutePath, "utf8").replace(/^\uFEFF/, "") };
  } catch (e) {
    if ((e as Error).name === "ValidationError") throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") invalid(owner, ENVIRONMENT_PROP, file, `no file exists at ${absolutePath}`, `a path to a readable ${what}`);
    invalid(owner, ENVIRONMENT_PROP, file, `cannot read ${absolutePath} (${code ?? (e as Error).message})`, `a path to a readable ${what}`);
  }
}
