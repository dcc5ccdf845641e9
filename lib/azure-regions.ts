/**
 * Azure public-cloud regions: accepts a region in programmatic form (`westeurope`) or display
 * form (`West Europe`, any case) and returns the programmatic form Terraform stores.
 */
import { Token } from "cdktf";
import { invalid } from "./errors";

/**
 * Public Azure regions (programmatic name -> display name), including regions whose access is
 * restricted to in-country customers. Sovereign clouds (US Gov, China) and canary regions are not
 * listed. A region launched after this list was written can be passed as a token to bypass the check.
 */
export const AZURE_PUBLIC_REGIONS: { readonly [name: string]: string } = Object.freeze({
  eastus: "East US",
  eastus2: "East US 2",
  westus: "West US",
  westus2: "West US 2",
  westus3: "West US 3",
  centralus: "Central US",
  northcentralus: "North Central US",
  southcentralus: "South Central US",
  westcentralus: "West Central US",
  canadacentral: "Canada Central",
  canadaeast: "Canada East",
  mexicocentral: "Mexico Central",
  brazilsouth: "Brazil South",
  brazilsoutheast: "Brazil Southeast",
  chilecentral: "Chile Central",
  northeurope: "North Europe",
  westeurope: "West Europe",
  uksouth: "UK South",
  ukwest: "UK West",
  francecentral: "France Central",
  francesouth: "France South",
  germanywestcentral: "Germany West Central",
  germanynorth: "Germany North",
  norwayeast: "Norway East",
  norwaywest: "Norway West",
  swedencentral: "Sweden Central",
  swedensouth: "Sweden South",
  switzerlandnorth: "Switzerland North",
  switzerlandwest: "Switzerland West",
  polandcentral: "Poland Central",
  italynorth: "Italy North",
  spaincentral: "Spain Central",
  australiaeast: "Australia East",
  australiasoutheast: "Australia Southeast",
  australiacentral: "Australia Central",
  australiacentral2: "Australia Central 2",
  newzealandnorth: "New Zealand North",
  eastasia: "East Asia",
  southeastasia: "Southeast Asia",
  japaneast: "Japan East",
  japanwest: "Japan West",
  koreacentral: "Korea Central",
  koreasouth: "Korea South",
  centralindia: "Central India",
  southindia: "South India",
  westindia: "West India",
  jioindiawest: "Jio India West",
  jioindiacentral: "Jio India Central",
  indonesiacentral: "Indonesia Central",
  malaysiawest: "Malaysia West",
  uaenorth: "UAE North",
  uaecentral: "UAE Central",
  qatarcentral: "Qatar Central",
  israelcentral: "Israel Central",
  southafricanorth: "South Africa North",
  southafricawest: "South Africa West",
});

const BY_LOWER_NAME = new Map<string, string>();
for (const [name, display] of Object.entries(AZURE_PUBLIC_REGIONS)) {
  BY_LOWER_NAME.set(name, name);
  BY_LOWER_NAME.set(display.toLowerCase(), name);
}

/** Levenshtein distance (small strings only). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

function sharedPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Up to `count` region names closest to `value` (shared prefix first, then edit distance). */
export function closestRegions(value: string, count = 4): string[] {
  const key = value.toLowerCase().replace(/[\s_-]+/g, "");
  return Object.keys(AZURE_PUBLIC_REGIONS)
    .map((name) => ({ name, prefix: sharedPrefix(key, name), distance: editDistance(key, name) }))
    .sort((x, y) => {
      const px = x.prefix >= 4 ? 1 : 0;
      const py = y.prefix >= 4 ? 1 : 0;
      return py - px || x.distance - y.distance || y.prefix - x.prefix || (x.name < y.name ? -1 : 1);
    })
    .slice(0, count)
    .map((r) => r.name);
}

/**
 * Returns the programmatic name (`westeurope`) of a public Azure region given in programmatic or
 * display form (case-insensitive, surrounding spaces ignored). Tokens pass through unchanged.
 */
export function normalizeLocation(owner: string, prop: string, value: string): string {
  if (typeof value === "string" && Token.isUnresolved(value)) return value;
  if (typeof value !== "string") invalid(owner, prop, value, "a region must be a string", "a public Azure region name, e.g. \"westeurope\" or \"West Europe\"");
  const key = value.trim().replace(/\s+/g, " ").toLowerCase();
  const found = BY_LOWER_NAME.get(key);
  if (found !== undefined) return found;
  const close = closestRegions(value);
  invalid(
    owner,
    prop,
    value,
    `not a public Azure region; closest matches: ${close.join(", ")}`,
    "a public Azure region in programmatic (\"westeurope\") or display (\"West Europe\") form; the full list is the public Azure regions (AZURE_PUBLIC_REGIONS, `az account list-locations`)",
  );
}
