/**
 * The `network` prop of AmlFunctionDeployment: the subnets and the private DNS zones of a
 * platform-owned virtual network, and their checks. The zones are never created here (the Azure
 * Verified Modules convention: the platform owns the zones and links them to its networks).
 */
import { Token } from "cdktf";
import { checkPropsObject, invalid } from "../errors";
import { validateResourceId } from "../validation/resource-id";
import { splitTokens } from "../validation/terraform-literal";

/**
 * Ids of existing private DNS zones (`Microsoft.Network/privateDnsZones`), one per kind of private
 * endpoint this library creates. Each endpoint registers its A records in its zone.
 */
export interface PrivateDnsZoneIds {
  /** `privatelink.azurewebsites.net`: the function app (and its SCM site). */
  readonly sites: string;
  /** `privatelink.blob.core.windows.net`: storage accounts' blob service. */
  readonly blob: string;
  /** `privatelink.queue.core.windows.net`: storage accounts' queue service. */
  readonly queue: string;
  /** `privatelink.table.core.windows.net`: the host storage's table service. */
  readonly table: string;
  /**
   * `privatelink.azurecr.io`: needed when the deployment creates its registry or uses a
   * {@link ScoringRegistry} that no other deployment of the stack has made private yet.
   * @default none (refused at synth when a registry endpoint needs it)
   */
  readonly registry?: string;
  /**
   * `privatelink.servicebus.windows.net`: needed when a ServiceBusTrigger creates its namespace.
   * @default none (refused at synth when a namespace endpoint needs it)
   */
  readonly serviceBus?: string;
}

/** Private networking of a deployment: see the README, "Private network". */
export interface NetworkOptions {
  /**
   * Subnet for the app's outbound VNet integration (`virtual_network_subnet_id`), delegated to
   * `Microsoft.Web/serverFarms`; one plan per subnet, /26 or larger recommended.
   */
  readonly integrationSubnetId: string;
  /** Subnet that holds every private endpoint this deployment creates (not the integration subnet). */
  readonly privateEndpointSubnetId: string;
  /** Existing private DNS zones, linked to the virtual network by the platform. */
  readonly privateDnsZoneIds: PrivateDnsZoneIds;
}

/** The keys of {@link PrivateDnsZoneIds}. */
export type PrivateDnsZoneKey = keyof PrivateDnsZoneIds;

const ZONE_KEYS: readonly PrivateDnsZoneKey[] = ["sites", "blob", "queue", "table", "registry", "serviceBus"];
const REQUIRED_ZONE_KEYS: readonly PrivateDnsZoneKey[] = ["sites", "blob", "queue", "table"];

/**
 * The private DNS zone of each key (Azure Private Endpoint DNS configuration). The library deploys
 * to public Azure regions only (`location` is checked against them), so these are the public
 * cloud's zones; a literal zone id must name the zone of its key.
 */
export const PRIVATE_DNS_ZONE_NAMES: { readonly [key in PrivateDnsZoneKey]: string } = {
  sites: "privatelink.azurewebsites.net",
  blob: "privatelink.blob.core.windows.net",
  queue: "privatelink.queue.core.windows.net",
  table: "privatelink.table.core.windows.net",
  registry: "privatelink.azurecr.io",
  serviceBus: "privatelink.servicebus.windows.net",
};

const SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets";
const ZONE_TYPE = "Microsoft.Network/privateDnsZones";
const SUBNET_ALLOWED = "a subnet id: /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>, or a reference such as an azurerm_subnet's .id";

/** The zone id's allowed form, for messages. */
export function zoneIdAllowed(key: PrivateDnsZoneKey): string {
  return `the id of an existing private DNS zone /subscriptions/<guid>/resourceGroups/<group>/providers/${ZONE_TYPE}/<zone>, the zone being ${PRIVATE_DNS_ZONE_NAMES[key]}; or a reference such as an azurerm_private_dns_zone's .id`;
}

/**
 * Checks `network` and returns it. Subnet and zone ids must be resource ids of their type
 * (references pass); a literal zone id must name the zone of its key, and the two subnets must
 * differ (a subnet delegated to Microsoft.Web/serverFarms holds no private endpoints).
 */
export function validateNetworkOptions(owner: string, network: NetworkOptions): NetworkOptions {
  checkPropsObject(owner, network, "not an object", "{ integrationSubnetId, privateEndpointSubnetId, privateDnsZoneIds: { sites, blob, queue, table, registry?, serviceBus? } }");
  for (const key of Object.keys(network)) {
    if (!["integrationSubnetId", "privateEndpointSubnetId", "privateDnsZoneIds"].includes(key)) {
      invalid(owner, `network.${key}`, (network as unknown as Record<string, unknown>)[key], "not a network option", "integrationSubnetId, privateEndpointSubnetId, privateDnsZoneIds");
    }
  }
  for (const prop of ["integrationSubnetId", "privateEndpointSubnetId"] as const) {
    const value = network[prop];
    if (typeof value !== "string") invalid(owner, `network.${prop}`, value, "missing", SUBNET_ALLOWED);
    validateResourceId(owner, `network.${prop}`, value, SUBNET_TYPE);
  }
  if (!Token.isUnresolved(network.integrationSubnetId) && network.integrationSubnetId.toLowerCase() === network.privateEndpointSubnetId.toLowerCase()) {
    invalid(owner, "network.privateEndpointSubnetId", network.privateEndpointSubnetId, "it is the integration subnet, which is delegated to Microsoft.Web/serverFarms and cannot hold private endpoints", "another subnet of the virtual network");
  }

  const zones = network.privateDnsZoneIds;
  checkPropsObject(owner, zones, "missing", "{ sites, blob, queue, table, registry?, serviceBus? }: ids of existing private DNS zones");
  for (const key of Object.keys(zones)) {
    if (!(ZONE_KEYS as string[]).includes(key)) {
      invalid(owner, `network.privateDnsZoneIds.${key}`, (zones as unknown as Record<string, unknown>)[key], "not a private DNS zone key", ZONE_KEYS.join(", "));
    }
  }
  for (const key of ZONE_KEYS) {
    const value = zones[key];
    const prop = `network.privateDnsZoneIds.${key}`;
    if (value === undefined && !REQUIRED_ZONE_KEYS.includes(key)) continue;
    if (typeof value !== "string") invalid(owner, prop, value, "missing", zoneIdAllowed(key));
    validateResourceId(owner, prop, value, ZONE_TYPE);
    const name = literalZoneName(value);
    if (name !== undefined && name.toLowerCase() !== PRIVATE_DNS_ZONE_NAMES[key]) {
      invalid(owner, prop, value, `the zone ${name} is not the zone of "${key}" endpoints`, zoneIdAllowed(key));
    }
  }
  return network;
}

/** The zone name at the end of a zone id, when it is literal text (not a reference). */
function literalZoneName(id: string): string | undefined {
  const parts = splitTokens(id);
  const last = parts[parts.length - 1];
  if (last === undefined || last.token) return undefined;
  const m = /\/privateDnsZones\/([^/]+)$/i.exec(last.text);
  return m === null ? undefined : m[1];
}

/**
 * Plan SKUs that can do regional VNet integration: Elastic Premium, and Dedicated Basic, Standard
 * and Premium (v1-v4, memory-optimized). Not Free, Shared, Consumption, Flex Consumption (its own
 * integration model, and no custom containers), nor Isolated (the app is in its App Service
 * Environment's network already: `virtual_network_subnet_id` does not apply).
 */
const VNET_INTEGRATION_SKU = /^(EP[1-3]|B[1-3]|S[1-3]|P[1-3]|P[0-5]v[234]|P[1-5]mv[34])$/i;

/** Whether an App Service plan of `skuName` can do regional VNet integration. */
export function supportsVnetIntegration(skuName: string): boolean {
  return VNET_INTEGRATION_SKU.test(skuName.trim());
}

/** What a deployment's other props say that matters on a private network. */
export interface PrivateNetworkInputs {
  readonly publicNetworkAccessEnabled?: boolean;
  /** The registrySku prop, when given. */
  readonly registrySku?: { readonly name: string };
  /** The SKU of a ScoringRegistry passed as `registry`, when it is one. */
  readonly sharedRegistrySku?: { readonly name: string };
  /** The plan's SKU name when known at synth, and the prop it comes from. */
  readonly planSku?: { readonly name: string; readonly prop: string };
}

/**
 * Refuses what cannot be on a private network: public network access asked for, a registry this
 * library creates that is not Premium (private endpoints exist on Premium only), a plan that
 * cannot do VNet integration.
 */
export function checkPrivateNetworkInputs(owner: string, inputs: PrivateNetworkInputs): void {
  if (inputs.publicNetworkAccessEnabled === true) {
    invalid(owner, "publicNetworkAccessEnabled", true, "with network the app is reached through its private endpoint only", "false or unset with network");
  }
  for (const [prop, sku] of [["registrySku", inputs.registrySku], ["registry.sku", inputs.sharedRegistrySku]] as const) {
    if (sku !== undefined && sku.name !== "Premium") {
      invalid(owner, prop, sku.name, "with network the registry gets a private endpoint, which Azure Container Registry offers on Premium only", "RegistrySku.PREMIUM (the default with network)");
    }
  }
  if (inputs.planSku !== undefined && !supportsVnetIntegration(inputs.planSku.name)) {
    invalid(owner, inputs.planSku.prop, inputs.planSku.name, "with network the app is integrated with integrationSubnetId, which plans of this SKU cannot do", "Elastic Premium (EP1-EP3) or Dedicated Basic, Standard or Premium plans");
  }
}
