/**
 * Fixes to the HCL cdktf 0.21 writes (`cdk.tf`), so that plain Terraform takes it as it is:
 * cdktf quotes the references in `depends_on` ("azurerm_x.y"), a form Terraform deprecated in
 * 0.12 and warns about once per reference, and the addresses in `lifecycle.replace_triggered_by`,
 * where Terraform refuses a quoted reference outright.
 */

/** The reference lists cdktf writes quoted. */
const REFERENCE_LISTS = ["depends_on", "replace_triggered_by"];

/**
 * `depends_on = [ "a.b", "c.d" ]` -> `depends_on = [ a.b, c.d ]`, and the same inside
 * `replace_triggered_by` lists (nothing else is touched).
 */
export function unquoteReferences(hcl: string): string {
  const lists = new RegExp(`(\\b(?:${REFERENCE_LISTS.join("|")})\\s*=\\s*\\[)([^\\]]*)(\\])`, "g");
  return hcl.replace(lists, (_all, open: string, items: string, close: string) =>
    open + items.replace(/"((?:data\.)?[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_-]*)"/g, "$1") + close,
  );
}
