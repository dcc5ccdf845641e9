/**
 * The documentation's snippets are what users copy, so they are held to what users will run:
 * every ```ts block of README.md and docs/*.md is a whole module that imports the library by its
 * package name, and all of them together type-check (one tsc run) with the compiler options of
 * the README's tsconfig.json, the package name mapped to lib/index.ts. A block that cannot be a
 * whole module is marked ```ts fragment and is left out.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CodeBlock, codeBlocks } from "../markdown-code-blocks";
import { tempDir } from "../temp-dirs";

const REPO = path.resolve(__dirname, "../..");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
const README = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
const DOC_FILES = [
  "README.md",
  ...fs.readdirSync(path.join(REPO, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`),
];
const BLOCKS = DOC_FILES.flatMap((f) => codeBlocks(f, fs.readFileSync(path.join(REPO, f), "utf8")));
const SNIPPETS = BLOCKS.filter((b) => ["ts", "typescript"].includes(b.language) && b.info !== "fragment");

/** What a user's project can import: the library by name, the framework, deep provider paths. */
const IMPORTABLE = [
  new RegExp(`^${PACKAGE.name.replace(/[/.]/g, "\\$&")}$`),
  /^cdktf$/,
  /^constructs$/,
  /^@cdktf\/provider-(azurerm|docker)\/lib\/[a-z0-9-]+$/,
  /^node:[a-z_/]+$/,
];

function where(block: CodeBlock, lineInBlock = 1, column?: number): string {
  return `${block.file}:${block.line + lineInBlock - 1}${column === undefined ? "" : `:${column + block.indent}`}`;
}

function moduleSpecifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(/\bfrom\s+["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']|\brequire\(\s*["']([^"']+)["']/g)) {
    found.push(m[1] ?? m[2] ?? m[3]);
  }
  return found;
}

/** The README's ```json <name> block, parsed. */
function readmeJson(name: string): any {
  const block = BLOCKS.find((b) => b.file === "README.md" && b.language === "json" && b.info === name);
  if (!block) throw new Error(`README.md has no \`\`\`json ${name} block`);
  return JSON.parse(block.code);
}

describe("documentation snippets", () => {
  test("the README and docs pages have TypeScript snippets to check", () => {
    expect(SNIPPETS.filter((s) => s.file === "README.md").length).toBeGreaterThanOrEqual(2);
    expect(new Set(SNIPPETS.map((s) => s.file)).size).toBeGreaterThanOrEqual(8);
  });

  test("every snippet imports the library by its package name and providers by deep path", () => {
    const wrong = SNIPPETS.flatMap((s) =>
      moduleSpecifiers(s.code).filter((spec) => !IMPORTABLE.some((re) => re.test(spec))).map((spec) => `${where(s)}: "${spec}"`),
    );
    expect(wrong).toEqual([]);
    for (const s of SNIPPETS) expect(moduleSpecifiers(s.code).length).toBeGreaterThan(0);
  });

  test("every snippet type-checks as a module of a project set up as the README says", () => {
    const dir = tempDir("docs-snippets-");
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
    const files = SNIPPETS.map((s, i) => {
      const name = `snippet-${String(i).padStart(3, "0")}.ts`;
      fs.writeFileSync(path.join(dir, name), `${s.code}\nexport {};\n`);
      return name;
    });
    const { rootDir: _rootDir, outDir: _outDir, ...readmeOptions } = readmeJson("tsconfig.json").compilerOptions;
    const tsconfig = {
      compilerOptions: { ...readmeOptions, noEmit: true, paths: { [PACKAGE.name]: [path.join(REPO, "lib/index.ts")] } },
      files,
    };
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));

    const tsc = spawnSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json", "--pretty", "false"], {
      cwd: dir,
      encoding: "utf8",
    });
    // Diagnostics name the Markdown file and line the snippet came from.
    const report = `${tsc.stdout}${tsc.stderr}`.replace(/snippet-(\d{3})\.ts\((\d+),(\d+)\)/g, (_all, i, line, col) =>
      where(SNIPPETS[Number(i)], Number(line), Number(col)),
    );
    expect(report.trim()).toBe("");
    expect(tsc.status).toBe(0);
  }, 120_000);

  test("the README's new project asks for the peers the library declares, at the library's version", () => {
    const pkg = readmeJson("package.json");
    for (const [name, range] of Object.entries(PACKAGE.peerDependencies)) {
      expect([name, pkg.dependencies[name]]).toEqual([name, range]);
    }
    expect(pkg.dependencies[PACKAGE.name]).toBe(`^${PACKAGE.version}`);
  });

  test("the README's cdktf.json runs the JavaScript its tsconfig.json compiles, not ts-node", () => {
    const outDir = readmeJson("tsconfig.json").compilerOptions.outDir;
    const app: string = readmeJson("cdktf.json").app;
    expect(app).toMatch(new RegExp(`node ${outDir}/main\\.js$`));
    expect(app).not.toMatch(/ts-node/);
    expect(readmeJson("tsconfig.json").include).toEqual(["main.ts"]);
  });

  test("every JSON block of the docs is valid JSON", () => {
    const invalid = BLOCKS.filter((b) => b.language === "json").flatMap((b) => {
      try {
        JSON.parse(b.code);
        return [];
      } catch (err) {
        return [`${where(b)}: ${(err as Error).message}`];
      }
    });
    expect(invalid).toEqual([]);
  });
});

describe("README", () => {
  test("opens with the two commands, the main job and the whole test suite", () => {
    const top = README.split("\n").slice(0, 6).join("\n");
    expect(top).toMatch(/^npm ci && npm run synth\b/m);
    expect(top).toMatch(/^npm ci && npm test\b/m);
  });

  test("stays short enough to read: at most 300 lines", () => {
    expect(README.split("\n").length).toBeLessThanOrEqual(300);
  });

  test("links to at least the main docs pages", () => {
    const linked = new Set([...README.matchAll(/\]\((docs\/[a-z-]+\.md)[)#]/g)].map((m) => m[1]));
    for (const page of ["triggers", "model-sources", "image-build", "networking", "security", "hand-off", "performance", "design", "contributing"]) {
      expect(linked).toContain(`docs/${page}.md`);
    }
  });
});

describe("documentation links", () => {
  /** GitHub's heading anchors: lower case, punctuation dropped, spaces made hyphens. */
  function anchors(file: string): Set<string> {
    const text = fs.readFileSync(path.join(REPO, file), "utf8").replace(/^\s*```[^]*?^\s*```/gm, "");
    return new Set([...text.matchAll(/^#+ (.*)$/gm)].map((m) => m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/ /g, "-")));
  }

  test("every relative link of the README and docs pages names a file and a heading that exist", () => {
    const broken: string[] = [];
    for (const file of DOC_FILES) {
      const text = fs.readFileSync(path.join(REPO, file), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [linked, anchor] = target.split("#");
        const resolved = linked ? path.posix.normalize(path.posix.join(path.posix.dirname(file), linked)) : file;
        if (!fs.existsSync(path.join(REPO, resolved))) broken.push(`${file}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith(".md") && !anchors(resolved).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
