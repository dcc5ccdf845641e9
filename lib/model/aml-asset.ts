/**
 * Name and version of a model registered in Azure ML, checked at synth time.
 *
 * Azure ML asset names are letters, digits, `-`, `_` and `.`, starting with a letter or digit,
 * up to 255 characters; versions are strings of the same characters. The label `latest` (and
 * `@latest`) is refused on purpose: a deployment must name the exact bytes it serves, so that
 * re-applying the same code serves the same model.
 */
import { Token } from "cdktf";
import { invalid } from "../errors";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const NAME_ALLOWED = "an Azure ML model name: 1-255 letters, digits, '-', '_' or '.', starting with a letter or digit";
const VERSION_ALLOWED = "an exact model version such as \"3\" (1-255 letters, digits, '-', '_' or '.', starting with a letter or digit); \"latest\" is not allowed because a deployment must be reproducible";

export function validateAssetName(owner: string, prop: string, value: unknown): void {
  if (typeof value !== "string") invalid(owner, prop, value, "the model name is required and must be a string", NAME_ALLOWED);
  if (Token.isUnresolved(value)) return;
  if (!NAME.test(value)) invalid(owner, prop, value, "not a valid Azure ML model name", NAME_ALLOWED);
}

export function validateAssetVersion(owner: string, prop: string, value: unknown): void {
  if (value === undefined || value === null || value === "") invalid(owner, prop, value, "the version is required", VERSION_ALLOWED);
  if (typeof value !== "string") invalid(owner, prop, value, "the version must be a string", VERSION_ALLOWED);
  if (Token.isUnresolved(value)) return;
  if (/^@?latest$/i.test(value.trim())) invalid(owner, prop, value, "\"latest\" would make the deployment serve whatever was registered last", VERSION_ALLOWED);
  if (!VERSION.test(value)) invalid(owner, prop, value, "not a valid Azure ML model version", VERSION_ALLOWED);
}
