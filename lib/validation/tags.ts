/**
 * Resource tags: checked against Azure's limits at synth time and escaped for Terraform.
 *
 * Azure's rules (Azure Resource Manager docs, "Use tags to organize your Azure resources",
 * Limitations): at most 50 tags per resource; names up to 512 characters, but 128 on storage
 * accounts, which every deployment creates, so 128 here; values up to 256 characters; names
 * without `<`, `>`, `%`, `&`, `\`, `?`, `/`; names are case-insensitive (two names differing only in
 * case are one tag); the prefixes `microsoft`, `azure` and `windows` are reserved.
 *
 * On top of that, for the Terraform configuration: no control characters in names or values, no
 * `"` or `${` in names (cdktf writes map keys into HCL without escaping them, and a quoted HCL map
 * key is a template), and values are escaped with {@link terraformLiteral}.
 */
import { Token } from "cdktf";
import { invalid } from "../errors";
import { firstControl, terraformLiteral } from "./terraform-literal";

export const MAX_TAGS = 50;
/** 512 in general; storage accounts allow 128, and every deployment creates one. */
export const MAX_TAG_NAME_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
const RESERVED_PREFIXES = ["microsoft", "azure", "windows"];
const NAME_FORBIDDEN = /[<>%&\\?/"]/;

const NAME_ALLOWED = `1-${MAX_TAG_NAME_LENGTH} characters without < > % & \\ ? / " or control characters, not '\${', not starting with microsoft, azure or windows, unique ignoring case`;
const VALUE_ALLOWED = `at most ${MAX_TAG_VALUE_LENGTH} characters without control characters or '\\' ('\${' and '%{' stay literal text)`;

/**
 * Validates a tags map and returns a copy whose values are escaped for Terraform. Throws a
 * ValidationError naming `prop` (e.g. `tags`) and the offending name or value.
 */
export function validateTags(owner: string, prop: string, tags: { [key: string]: string } | undefined): { [key: string]: string } | undefined {
  if (tags === undefined) return undefined;
  if (tags === null || typeof tags !== "object" || Array.isArray(tags)) invalid(owner, prop, tags, "not a map of tag names to values", "an object such as { env: \"prod\" }");
  if (Token.isUnresolved(tags)) invalid(owner, prop, tags, "tags are a token; they are checked at synth time", "a literal object of tag names to values");
  const entries = Object.entries(tags);
  if (entries.length > MAX_TAGS) invalid(owner, prop, `${entries.length} tags`, `Azure allows at most ${MAX_TAGS} tags per resource`, `at most ${MAX_TAGS} tags`);
  const seen = new Map<string, string>();
  const result: { [key: string]: string } = {};
  for (const [name, value] of entries) {
    const nameProp = `${prop} name`;
    if (name.length === 0 || name.length > MAX_TAG_NAME_LENGTH) invalid(owner, nameProp, name, `length ${name.length} is outside 1-${MAX_TAG_NAME_LENGTH}`, NAME_ALLOWED);
    if (Token.isUnresolved(name) || name.includes("${")) invalid(owner, nameProp, name, "contains '${'; a tag name is written as a Terraform map key, which would be evaluated", NAME_ALLOWED);
    const forbidden = NAME_FORBIDDEN.exec(name);
    if (forbidden !== null) invalid(owner, nameProp, name, `contains ${JSON.stringify(forbidden[0])}`, NAME_ALLOWED);
    if (firstControl(name) !== undefined) {
      invalid(owner, nameProp, name, "contains a control character", NAME_ALLOWED);
    }
    const reserved = RESERVED_PREFIXES.find((p) => name.toLowerCase().startsWith(p));
    if (reserved !== undefined) invalid(owner, nameProp, name, `the prefix "${reserved}" is reserved by Azure`, NAME_ALLOWED);
    const clash = seen.get(name.toLowerCase());
    if (clash !== undefined) invalid(owner, nameProp, name, `Azure tag names ignore case, so it is the same tag as "${clash}"`, NAME_ALLOWED);
    seen.set(name.toLowerCase(), name);

    if (typeof value !== "string") invalid(owner, `${prop}.${name}`, value, "a tag value must be a string", VALUE_ALLOWED);
    // Azure sees the value Terraform sends, so an already escaped `$${` counts as `${`.
    const sent = value.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
    if (!Token.isUnresolved(value) && sent.length > MAX_TAG_VALUE_LENGTH) {
      invalid(owner, `${prop}.${name}`, value, `length ${sent.length} is over Azure's ${MAX_TAG_VALUE_LENGTH}`, VALUE_ALLOWED);
    }
    result[name] = terraformLiteral(owner, `${prop}.${name}`, value);
  }
  return result;
}
