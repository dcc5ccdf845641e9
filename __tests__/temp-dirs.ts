import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const created: string[] = [];

/**
 * A new empty folder under the system's temporary folder, removed when the test file ends
 * (setup.ts calls removeTempDirs in afterAll), whether or not the test removes it itself.
 */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every folder tempDir made in this test file. */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
