import * as fs from "fs";
import * as path from "path";

/**
 * Checks synthesized azurerm resources against the provider's own schema (azurerm 4.55.0,
 * `terraform providers schema -json`): every attribute and block exists, required ones are set,
 * computed-only ones are not set, and single blocks are not repeated. This is what
 * `terraform validate` would catch first, and it runs without the provider binary.
 */
const schema = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "azurerm-4.55.0-subset.json"), "utf8"));

export function schemaProblems(json: any): string[] {
  const problems: string[] = [];
  for (const [kind, schemas] of [["resource", schema.resource_schemas], ["data", schema.data_source_schemas]] as const) {
    for (const [type, instances] of Object.entries<any>(json[kind] ?? {})) {
      if (!type.startsWith("azurerm_")) continue;
      const s = schemas[type];
      if (!s) {
        problems.push(`${kind} ${type}: not in the schema subset (add it to scripts/extract-schema-subset.js)`);
        continue;
      }
      for (const [name, body] of Object.entries<any>(instances)) checkBlock(`${type}.${name}`, s.block, body, problems);
    }
  }
  return problems;
}

const META = new Set(["depends_on", "lifecycle", "provider", "count", "for_each", "//"]);

function checkBlock(where: string, block: any, body: any, problems: string[]): void {
  const attributes = block.attributes ?? {};
  const blocks = block.block_types ?? {};
  for (const [key, value] of Object.entries<any>(body)) {
    if (META.has(key)) continue;
    if (attributes[key]) {
      const a = attributes[key];
      if (a.computed && !a.optional && !a.required) problems.push(`${where}.${key}: computed only, cannot be set`);
      continue;
    }
    const nested = blocks[key];
    if (!nested) {
      problems.push(`${where}.${key}: no such argument`);
      continue;
    }
    const items = Array.isArray(value) ? value : [value];
    if (nested.max_items !== undefined && items.length > nested.max_items) problems.push(`${where}.${key}: at most ${nested.max_items} block(s)`);
    items.forEach((item, i) => checkBlock(`${where}.${key}[${i}]`, nested.block, item, problems));
  }
  for (const [key, a] of Object.entries<any>(attributes)) {
    if (a.required && !(key in body)) problems.push(`${where}.${key}: required but not set`);
  }
  for (const [key, nested] of Object.entries<any>(blocks)) {
    if ((nested.min_items ?? 0) > 0 && !(key in body)) problems.push(`${where}.${key}: required block missing`);
  }
}
