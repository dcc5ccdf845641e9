import * as fs from "fs";
import * as path from "path";

/**
 * The `scoring-image/` folder shipped with this library. Found relative to this file so it
 * works from the TypeScript sources (lib/image) and from compiled output (dist/lib/image).
 */
export function scoringImageDir(): string {
  for (const up of ["../..", "../../.."]) {
    const dir = path.resolve(__dirname, up, "scoring-image");
    if (fs.existsSync(path.join(dir, "Dockerfile"))) return dir;
  }
  throw new Error(`scoring-image/ not found near ${__dirname}: the library is installed incompletely`);
}
