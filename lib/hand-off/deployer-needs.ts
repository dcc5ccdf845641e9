/**
 * The "What the deployer needs" section of the stack README: the roles the principal that runs
 * `terraform apply` must hold, derived from the stack's Terraform JSON. The scopes outside the
 * stack are those of its role assignments (and custom role definitions) that refer to no resource
 * the stack creates: a literal resource id or a data source, i.e. resources of other teams.
 */
import type { TerraformConfig } from "./terraform-config";

type Body = Record<string, unknown>;

/** The Azure AD principal running the apply, as the ACR build's deployer grant names it. */
const CLIENT_CONFIG = "data.azurerm_client_config.";
/** Attributes that put a created resource inside another one (a queue in a namespace, ...). */
const PARENT_ATTRIBUTES = ["namespace_id", "storage_account_id", "container_registry_id"];

const sortedEntries = <T>(o: Record<string, T> | undefined): [string, T][] => Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (text: string): string => `\`${cell(text)}\``;

/** The `<type>.<id>` addresses of the resources the stack creates. */
function createdAddresses(config: TerraformConfig): Set<string> {
  const out = new Set<string>();
  for (const [type, byId] of sortedEntries(config.resource)) for (const [id] of sortedEntries(byId)) out.add(`${type}.${id}`);
  return out;
}

/** Whether `value` refers to a resource the stack creates (`${azurerm_x.y.id}`, not `${data.azurerm_x.y.id}`). */
function refersToCreated(value: string, created: Set<string>): boolean {
  for (const m of value.matchAll(/(?<![\w.-])([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\./g)) {
    if (created.has(`${m[1]}.${m[2]}`)) return true;
  }
  return false;
}

/** A scope for the reader: the value, and for a data source `name` in resource group `rg` when literal. */
function describeScope(value: string, config: TerraformConfig): string {
  const m = /^\$\{data\.([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.id\}$/.exec(value);
  const data = m ? config.data?.[m[1]]?.[m[2]] : undefined;
  const literal = (v: unknown): v is string => typeof v === "string" && !v.includes("${");
  if (data && literal(data.name)) {
    return `${code(value)} (${code(data.name)}${literal(data.resource_group_name) ? ` in resource group ${code(data.resource_group_name)}` : ""})`;
  }
  return code(value);
}

/** Who a role assignment grants to: a user-assigned identity of the stack by name, or the deployer. */
function describePrincipal(value: unknown, config: TerraformConfig): string {
  if (typeof value !== "string") return "—";
  if (value.includes(CLIENT_CONFIG)) return "the deployer";
  const m = /^\$\{azurerm_user_assigned_identity\.([A-Za-z0-9_-]+)\.principal_id\}$/.exec(value);
  const name = m ? config.resource?.azurerm_user_assigned_identity?.[m[1]]?.name : undefined;
  return typeof name === "string" ? `identity ${code(name)}` : code(value);
}

/** The role of an assignment: its built-in name, or the name of the stack's custom role. */
function describeRole(body: Body, config: TerraformConfig): string {
  if (typeof body.role_definition_name === "string") return body.role_definition_name;
  const id = body.role_definition_id;
  const m = typeof id === "string" ? /^\$\{azurerm_role_definition\.([A-Za-z0-9_-]+)\./.exec(id) : null;
  const name = m ? config.resource?.azurerm_role_definition?.[m[1]]?.name : undefined;
  return typeof name === "string" ? `custom role ${code(name)}` : code(String(id));
}

/** Where the stack deploys: the subscription when it creates resource groups, else the groups its resources name. */
function targetScopes(config: TerraformConfig, created: Set<string>): string {
  const groups = sortedEntries(config.resource?.azurerm_resource_group).map(([, b]) => b.name).filter((n): n is string => typeof n === "string");
  if (groups.length > 0) return `the subscription (it creates the resource group${groups.length > 1 ? "s" : ""} ${groups.map(code).join(", ")})`;
  const existing = new Set<string>();
  for (const [, byId] of sortedEntries(config.resource)) {
    for (const [, body] of sortedEntries(byId)) {
      const rg = body.resource_group_name;
      if (typeof rg === "string" && !refersToCreated(rg, created)) existing.add(rg);
    }
  }
  if (existing.size === 0) return "the scope its resources go into";
  return `the resource group${existing.size > 1 ? "s" : ""} ${[...existing].sort().map((rg) => {
    const m = /^\$\{data\.azurerm_resource_group\.([A-Za-z0-9_-]+)\.name\}$/.exec(rg);
    const name = m ? config.data?.azurerm_resource_group?.[m[1]]?.name : undefined;
    return typeof name === "string" && !name.includes("${") ? code(name) : code(rg);
  }).join(", ")}`;
}

export function deployerNeeds(config: TerraformConfig): string[] {
  const created = createdAddresses(config);
  const assignments = sortedEntries(config.resource?.azurerm_role_assignment);
  const definitions = sortedEntries(config.resource?.azurerm_role_definition);
  const lines: string[] = ["## What the deployer needs", ""];
  lines.push("The principal that runs `terraform apply` (your `az login`, or the `ARM_*` service principal) needs, before the first apply:", "");
  const grants = assignments.length > 0 || definitions.length > 0;
  lines.push(
    `- On ${targetScopes(config, created)}: **Contributor**, to create the resources` +
      (grants ? `, and **User Access Administrator** (or **Owner** instead of both): the stack creates role assignments${definitions.length > 0 ? " and custom role definitions" : ""}, which Contributor cannot.` : "."),
  );
  // The ACR build: the deployer uploads the build context with its Azure AD identity.
  const uploads = assignments.some(([, b]) => b.role_definition_name === "Storage Blob Data Contributor" && typeof b.principal_id === "string" && b.principal_id.includes(CLIENT_CONFIG));
  if (uploads) {
    lines.push(
      "- **Storage Blob Data Contributor** on the same scope: `terraform apply` uploads the image build context (`azurerm_storage_blob`) into the build storage account the stack creates, " +
        "with your Azure AD identity (the account has no keys). The stack grants you that role on the container, but Azure can take minutes to make a new grant effective: " +
        "without the role held beforehand, the first apply may stop at the blob with `403 AuthorizationPermissionMismatch` (applying again then succeeds).",
    );
  }
  const outside: [string, string, string][] = [];
  let definesOutside = false;
  for (const [, body] of assignments) {
    const scope = body.scope;
    if (typeof scope !== "string" || refersToCreated(scope, created)) continue;
    outside.push([describeScope(scope, config), describeRole(body, config), describePrincipal(body.principal_id, config)]);
  }
  for (const [, body] of definitions) {
    const scope = body.scope;
    if (typeof scope !== "string" || refersToCreated(scope, created)) continue;
    outside.push([describeScope(scope, config), `defines custom role ${code(String(body.name))}`, "—"]);
    definesOutside = true;
  }
  if (outside.length === 0) {
    lines.push("- Nothing outside the stack: every role it grants is on a resource it creates.", "");
  } else {
    // A custom role is defined in the resource group of the resource it is for: a write of its own there.
    const written = definesOutside
      ? "the role assignment, or the custom role definition (`Microsoft.Authorization/roleDefinitions/write`, which both roles include), is written there"
      : "the role assignment is written there";
    lines.push(`- **User Access Administrator** (or **Owner**) on each scope outside this stack that gets a grant (resources of other teams: ${written}):`, "");
    lines.push("| scope outside this stack | role | granted to |", "| --- | --- | --- |");
    const rows = [...new Set(outside.map(([s, r, p]) => `| ${s} | ${r} | ${p} |`))].sort();
    lines.push(...rows, "");
  }
  // Existing resource → the types the stack creates inside it.
  const parents = new Map<string, Set<string>>();
  for (const [type, byId] of sortedEntries(config.resource)) {
    for (const [, body] of sortedEntries(byId)) {
      for (const attr of PARENT_ATTRIBUTES) {
        const parent = body[attr];
        if (typeof parent === "string" && !refersToCreated(parent, created)) parents.set(parent, (parents.get(parent) ?? new Set<string>()).add(type));
      }
    }
  }
  if (parents.size > 0) {
    lines.push("It also creates resources inside existing resources outside the stack, where the deployer needs write access (e.g. Contributor) too:", "");
    for (const [parent, types] of [...parents].sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`- ${describeScope(parent, config)}: ${[...types].sort().map(code).join(", ")}`);
    lines.push("");
  }
  return lines;
}
