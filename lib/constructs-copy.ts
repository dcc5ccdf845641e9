import * as fs from "fs";
import * as path from "path";
import { IConstruct, Node } from "constructs";
import { ValidationError } from "./errors";

/**
 * Guards the constructors that take a user's scope against a second copy of `constructs` of
 * another version. A linked library (`npm link`, a `file:` dependency on a folder) resolves its
 * own `constructs` and `cdktf` next to the app's; two copies of the same version work together
 * (everything here recognises cdktf constructs by shape), but two versions do not: constructs
 * reads private fields of the scope's node, and fails deep inside with "scope.node._scopes is
 * not iterable". This check says why, and what to do, before that happens.
 */
export function sameConstructsCopy<T extends IConstruct>(scope: T, owner: string): T {
  const node = (scope as { node?: unknown } | undefined)?.node;
  if (node === undefined || node instanceof Node) return scope;
  const versions = loadedConstructsCopies();
  if (new Set(versions.map((v) => v.version)).size <= 1) return scope;
  throw new ValidationError(
    `${owner}: invalid scope: it comes from another copy of the "constructs" package, and the copies loaded have different versions ` +
      `(${versions.map((v) => `${v.version} at ${v.dir}`).join(", ")}). This happens when @aml-functions/aml-function-deployment is linked ` +
      "(npm link, or a file: dependency on a folder) and so loads its own constructs and cdktf. Allowed: one version of constructs: install " +
      "the library from its tarball or the registry (npm install ./aml-functions-aml-function-deployment-<version>.tgz), or give the app " +
      "the same constructs version as the linked folder",
  );
}

/** The `constructs` packages loaded in this process, with their versions. */
function loadedConstructsCopies(): { dir: string; version: string }[] {
  const dirs = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const m = /^(.*[\\/]node_modules[\\/]constructs)[\\/]lib[\\/]/.exec(file);
    if (m) dirs.add(m[1]);
  }
  return [...dirs].sort().map((dir) => {
    let version = "unknown";
    try {
      version = (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      // unreadable package.json: reported as "unknown"
    }
    return { dir, version };
  });
}
