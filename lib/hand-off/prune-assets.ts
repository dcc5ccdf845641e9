import * as fs from "fs";
import * as path from "path";

/**
 * Removes from the stack folder's `assets/` everything its configuration does not mention, so
 * the folder handed over holds only what Terraform uses. Assets live at `assets/<asset>/<hash>`
 * (this library's and cdktf's `TerraformAsset` alike) and the configuration refers to them (or a
 * file in them) by that relative path; what it does not mention is left over from an earlier
 * synth: an older hash of an asset, or the asset of a deployment (or `TerraformAsset`) that is no
 * longer in the stack, such as a removed deployment's build context.
 */
export function pruneUnusedAssets(stackDir: string, config: string): void {
  const assets = path.join(stackDir, "assets");
  if (!fs.existsSync(assets)) return;
  for (const asset of fs.readdirSync(assets)) {
    const assetPath = path.join(assets, asset);
    const isFolder = fs.statSync(assetPath).isDirectory();
    if (!mentions(config, isFolder ? `assets/${asset}/` : `assets/${asset}`)) {
      fs.rmSync(assetPath, { recursive: true, force: true });
      continue;
    }
    if (!isFolder) continue;
    for (const hash of fs.readdirSync(assetPath)) {
      if (!mentions(config, `assets/${asset}/${hash}`)) fs.rmSync(path.join(assetPath, hash), { recursive: true, force: true });
    }
    if (fs.readdirSync(assetPath).length === 0) fs.rmdirSync(assetPath);
  }
  if (fs.readdirSync(assets).length === 0) fs.rmdirSync(assets);
}

/** Whether `config` holds `relative` as a whole path (not only as the start of a longer name). */
function mentions(config: string, relative: string): boolean {
  if (relative.endsWith("/")) return config.includes(relative);
  for (let at = config.indexOf(relative); at >= 0; at = config.indexOf(relative, at + 1)) {
    if (!/[A-Za-z0-9._-]/.test(config[at + relative.length] ?? "")) return true;
  }
  return false;
}
