/**
 * The AML entry script (`score.py`): a Python file defining top-level `init()` and `run(...)`.
 * The text is scanned, never executed.
 */
import * as fs from "fs";
import * as path from "path";
import { Token } from "cdktf";
import { invalid } from "./errors";
import { validateSafeFileName } from "./validation/file-name";

export interface ResolvedEntryScript {
  /** Absolute path of the script. */
  readonly absolutePath: string;
  /** Folder of the script: copied to `source/` in the image. */
  readonly sourceDir: string;
  /** Posix path of the script relative to sourceDir (its file name). */
  readonly relativePath: string;
  /** The path as the user gave it (for error messages). */
  readonly given?: string;
}

const ALLOWED = "a path to a readable .py file that defines top-level `def init(` and `def run(` (plain, not async; decorators above run are fine)";

/** Removes the contents of triple-quoted strings so docstrings cannot fake a definition. */
function blankTripleQuotedStrings(text: string): string {
  return text.replace(/("""|''')[\s\S]*?\1/g, (m) => m.replace(/[^\n]/g, " "));
}

/** Names of top-level functions, and which of them are async. */
export function scanTopLevelFunctions(source: string): { defs: Set<string>; asyncDefs: Set<string> } {
  const defs = new Set<string>();
  const asyncDefs = new Set<string>();
  const text = blankTripleQuotedStrings(source.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n"));
  for (const line of text.split("\n")) {
    const m = /^(async\s+)?def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(line);
    if (m === null) continue;
    (m[1] ? asyncDefs : defs).add(m[2]);
  }
  return { defs, asyncDefs };
}

export function resolveEntryScript(owner: string, entryScript: string): ResolvedEntryScript {
  if (typeof entryScript !== "string" || entryScript.trim() === "") invalid(owner, "entryScript", entryScript, "the path is empty", ALLOWED);
  if (Token.isUnresolved(entryScript)) invalid(owner, "entryScript", entryScript, "the path is a token; the script is copied at synth time, so it must be a literal path", ALLOWED);
  if (!entryScript.endsWith(".py")) invalid(owner, "entryScript", entryScript, "the file name does not end in .py", ALLOWED);
  const absolutePath = path.resolve(process.cwd(), entryScript);
  // The file name becomes the AZUREML_ENTRY_SCRIPT app setting and a Docker build argument.
  validateSafeFileName(owner, "entryScript", path.basename(absolutePath), entryScript);
  let text: string;
  try {
    const stat = fs.statSync(absolutePath);
    if (!stat.isFile()) invalid(owner, "entryScript", entryScript, `${absolutePath} is not a regular file`, ALLOWED);
    text = fs.readFileSync(absolutePath, "utf8");
  } catch (e) {
    if ((e as Error).name === "ValidationError") throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") invalid(owner, "entryScript", entryScript, `no file exists at ${absolutePath}`, ALLOWED);
    invalid(owner, "entryScript", entryScript, `cannot read ${absolutePath} (${code ?? (e as Error).message})`, ALLOWED);
  }
  const { defs, asyncDefs } = scanTopLevelFunctions(text);
  const problems: string[] = [];
  for (const name of ["init", "run"]) {
    if (defs.has(name)) continue;
    if (asyncDefs.has(name)) problems.push(`\`${name}\` is defined with \`async def\`, which the scoring host does not await; make it a plain \`def\``);
    else problems.push(`no top-level \`def ${name}(\` found`);
  }
  if (problems.length > 0) invalid(owner, "entryScript", entryScript, `${absolutePath}: ${problems.join("; ")}`, ALLOWED);
  return { absolutePath, sourceDir: path.dirname(absolutePath), relativePath: path.basename(absolutePath), given: entryScript };
}
