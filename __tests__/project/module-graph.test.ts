/**
 * The library's import graph: no module imports itself through others (type-only imports
 * included: a circle of types still ties the files together for a reader and a refactor).
 */
import * as fs from "fs";
import * as path from "path";
import { REPO } from "../helpers";

const LIB = path.join(REPO, "lib");

/** Every .ts file below `dir`, relative to the repository. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.relative(REPO, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

/** The relative imports and re-exports of each file, resolved to repository paths. */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(path.join(REPO, file), "utf8");
    const targets: string[] = [];
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']/gm)) {
      const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
      const resolved = [`${base}.ts`, `${base}/index.ts`].find((f) => fs.existsSync(path.join(REPO, f)));
      if (resolved !== undefined) targets.push(resolved);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Each import circle once, as the path that closes it. */
function circles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const trail: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    trail.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push([...trail.slice(trail.indexOf(next)), next].join(" -> "));
      else if (!state.has(next)) visit(next);
    }
    trail.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

test("lib/ has no import circles", () => {
  const graph = importGraph(sources(LIB));
  expect(graph.size).toBeGreaterThan(50);
  expect(circles(graph)).toEqual([]);
});

test("the circle finder finds a circle of type-only imports", () => {
  const graph = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]], ["d.ts", ["a.ts"]]]);
  expect(circles(graph)).toEqual(["a.ts -> b.ts -> c.ts -> a.ts"]);
});
