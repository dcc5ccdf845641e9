/**
 * A big model file in the staged context (local build): a copy of its own with mode 0644, the
 * file that was hashed, holes kept, and nothing left behind in the staging root.
 */
import * as fs from "fs";
import * as path from "path";
import { BuildContextSpec, prepareBuildContext, stagingRoot } from "../lib/image/build-context";
import { useStagingSandbox } from "./staging-sandbox";
import { modelProject } from "./model-project";

const sandbox = useStagingSandbox("staged-big-file-test-");
let counter = 0;

const leftovers = (): string[] => fs.readdirSync(stagingRoot()).filter((n) => n.startsWith(".staging-"));

// Each project's big file has its own bytes: the same bytes would give the same fingerprint,
// and an already staged context is reused without a copy.
function project(): { spec: BuildContextSpec; big: string } {
  const fill = 10 + counter;
  const root = path.join(sandbox(), `p${counter++}`);
  const { model, spec } = modelProject(root, { "small.txt": "s", "weights.bin": Buffer.alloc(40 << 20, fill) });
  return { spec, big: path.join(model, "weights.bin") };
}

describe("staging a big model file (local build)", () => {
  test("is a copy of its own with mode 0644, and nothing is left behind", () => {
    const { spec, big } = project();
    fs.chmodSync(big, 0o600);
    const staged = path.join(prepareBuildContext(spec).stageFolder().directory, "model", "m", "weights.bin");
    expect(fs.readFileSync(staged).equals(fs.readFileSync(big))).toBe(true);
    expect(fs.statSync(staged).mode & 0o777).toBe(0o644);
    expect(fs.statSync(staged).ino).not.toBe(fs.statSync(big).ino);
    expect(leftovers()).toEqual([]);
  });

  test("a big file changed after it was hashed fails the synth by name, even with its size and mtime kept", () => {
    const { spec, big } = project();
    const context = prepareBuildContext(spec);
    const { atime, mtime } = fs.statSync(big);
    fs.writeFileSync(big, Buffer.alloc(40 << 20, 255));
    fs.utimesSync(big, atime, mtime);
    expect(() => context.stageFolder()).toThrow(`Deployment: invalid buildContext ${JSON.stringify(fs.realpathSync(big))}: the file changed while it was being staged`);
    expect(leftovers()).toEqual([]);
    expect(fs.existsSync(path.join(stagingRoot(), context.fingerprint))).toBe(false);
  });

  test("a sparse big file keeps its holes", () => {
    const { spec, big } = project();
    fs.rmSync(big);
    const fd = fs.openSync(big, "w");
    fs.ftruncateSync(fd, 64 << 20);
    fs.writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, 32 << 20);
    fs.closeSync(fd);
    const staged = path.join(prepareBuildContext(spec).stageFolder().directory, "model", "m", "weights.bin");
    expect(fs.statSync(staged).blocks * 512).toBeLessThan(4 << 20);
    expect(fs.readFileSync(staged).equals(fs.readFileSync(big))).toBe(true);
  });
});
