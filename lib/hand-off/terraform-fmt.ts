import { spawnSync } from "child_process";

/**
 * Formats HCL with `terraform fmt` (the only formatter whose output `terraform fmt -check`
 * accepts by definition). Returns undefined when no terraform binary can be run: the HCL is
 * valid either way, only not canonically formatted.
 */
export function terraformFmt(hcl: string, terraform = process.env.TERRAFORM_BINARY ?? "terraform"): string | undefined {
  const r = spawnSync(terraform, ["fmt", "-no-color", "-"], { input: hcl, encoding: "utf8", maxBuffer: 256 << 20 });
  if (r.error || r.status === null) return undefined;
  if (r.status !== 0) {
    throw new Error(`terraform fmt rejected the synthesized HCL (exit ${r.status}): ${r.stderr.trim()}`);
  }
  return r.stdout;
}
