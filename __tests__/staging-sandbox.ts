import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { STAGING_DIR_ENV } from "../lib/image/build-context";

/**
 * Gives a test file its own temporary folder, with the build-context staging root inside it
 * (through AML_FUNCTION_STAGING_DIR), restored and removed after the file's tests. Returns a
 * getter for the folder (it exists from beforeAll on).
 */
export function useStagingSandbox(prefix: string): () => string {
  let work = "";
  let savedEnv: string | undefined;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    savedEnv = process.env[STAGING_DIR_ENV];
    process.env[STAGING_DIR_ENV] = path.join(work, "staging");
  });
  afterAll(() => {
    if (savedEnv === undefined) delete process.env[STAGING_DIR_ENV];
    else process.env[STAGING_DIR_ENV] = savedEnv;
    fs.rmSync(work, { recursive: true, force: true });
  });
  return () => work;
}
