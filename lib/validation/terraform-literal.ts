/**
 * User strings that reach the synthesized Terraform as literal values.
 *
 * Terraform reads every string in `cdk.tf.json` and `cdk.tf` as a template: `${...}` is an
 * interpolation and `%{...}` a directive, evaluated by `terraform plan` (a tag value
 * `${file("/etc/hostname")}` reads a file on the machine that plans). cdktf writes strings as
 * given, so this module escapes them (`$${` and `%%{` are Terraform's literal `${` and `%{`).
 *
 * cdktf's HCL output (`cdktf synth --hcl`) also writes strings as given, with three gaps that
 * turn a value into HCL syntax: a line break becomes a `<<EOF` heredoc (a line `EOF` in the value
 * ends it early and the rest is parsed as HCL), a backslash is not escaped, and a double quote is
 * not escaped in a string that contains `${` (cdktf takes such a string for an expression). Those
 * characters are refused rather than escaped, because the JSON and HCL outputs come from the same
 * value and no escape would be right for both.
 *
 * cdktf tokens (references to other resources, `${TfToken[...]}` markers) pass unchanged; only
 * the literal text around them is escaped. cdktf resolves a marker whoever wrote it, so a user
 * value that merely looks like one is refused where the value enters the library, unless it
 * names a token the user's code made (token-provenance.ts).
 */
import { invalid } from "../errors";

/**
 * A cdktf string-token marker: replaced by a Terraform reference at synth (its key characters as
 * cdktf's encoding allows them). Whether a user value may carry one: token-provenance.ts.
 */
const TOKEN_MARKER = /\$\{TfToken\[[A-Za-z0-9:_.-]+\]\}/g;

/** Characters refused in every literal: C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
export function firstControl(text: string): string | undefined {
  return [...text].find((c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  });
}

/** What {@link terraformLiteral} accepts, in words (the "Allowed:" part of messages). */
export const LITERAL_ALLOWED = "text without control characters (no line breaks or tabs) and without '\\'; '${' and '%{' are kept as literal text";

/**
 * Escapes Terraform template sequences in literal text: `${` becomes `$${`, `%{` becomes `%%{`.
 * Idempotent: a `${` already preceded by `$` (an escape, or a literal `$` before it) is left alone,
 * and so is every cdktf token marker. Never throws; use {@link terraformLiteral} for user input.
 */
export function escapeTemplateSequences(text: string): string {
  const parts = splitTokens(text);
  return parts.map((p) => (p.token ? p.text : p.text.replace(/(?<!\$)\$\{/g, () => "$${").replace(/(?<!%)%\{/g, () => "%%{"))).join("");
}

/**
 * Validates a user-provided string that is written into the Terraform configuration as a
 * literal, and returns it escaped (see the module comment). Throws a ValidationError naming
 * `prop` for control characters (a line break would open an HCL heredoc), a backslash, a double
 * quote together with `${`/`%{` or a reference, or a `$` right before a reference (Terraform would
 * read `$${` as an escape and drop the reference).
 */
export function terraformLiteral(owner: string, prop: string, value: string): string {
  if (typeof value !== "string") invalid(owner, prop, value, "not a string", LITERAL_ALLOWED);
  const parts = splitTokens(value);
  const literal = parts.filter((p) => !p.token).map((p) => p.text).join("");
  const control = firstControl(literal);
  if (control !== undefined) {
    invalid(owner, prop, value, `contains the control character U+${control.charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()}; a line break would end the HCL string early (cdktf writes multi-line strings as <<EOF heredocs)`, LITERAL_ALLOWED);
  }
  if (literal.includes("\\")) {
    invalid(owner, prop, value, "contains a backslash, which cdktf's HCL output does not escape", LITERAL_ALLOWED);
  }
  parts.forEach((p, i) => {
    if (!p.token && p.text.endsWith("$") && parts[i + 1]?.token) {
      invalid(owner, prop, value, "a '$' directly before a reference would turn the reference into literal text", "a separator between '$' and the reference");
    }
  });
  const escaped = escapeTemplateSequences(value);
  if (literal.includes("\"") && (escaped.includes("${") || escaped.includes("%{"))) {
    invalid(owner, prop, value, "contains a double quote together with '${', '%{' or a reference; cdktf's HCL output leaves quotes unescaped in such strings", `${LITERAL_ALLOWED}; no '"' in a value that also holds '\${', '%{' or a reference`);
  }
  return escaped;
}

interface Part {
  readonly text: string;
  readonly token: boolean;
}

/** Splits text into literal parts and cdktf string-token markers, in order. */
export function splitTokens(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN_MARKER)) {
    const at = m.index ?? 0;
    if (at > last) parts.push({ text: text.slice(last, at), token: false });
    parts.push({ text: m[0], token: true });
    last = at + m[0].length;
  }
  if (last < text.length || parts.length === 0) parts.push({ text: text.slice(last), token: false });
  return parts;
}
