/**
 * Fixes to the HCL cdktf 0.21 writes (`cdk.tf`), so that plain Terraform takes it without
 * warnings: cdktf quotes the references in `depends_on` ("azurerm_x.y"), a form Terraform
 * deprecated in 0.12 and warns about once per reference.
 */

/** `depends_on = [ "a.b", "c.d" ]` -> `depends_on = [ a.b, c.d ]` (only inside depends_on lists). */
export function unquoteDependsOn(hcl: string): string {
  return hcl.replace(/(\bdepends_on\s*=\s*\[)([^\]]*)(\])/g, (_all, open: string, items: string, close: string) =>
    open + items.replace(/"((?:data\.)?[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*)"/g, "$1") + close,
  );
}
