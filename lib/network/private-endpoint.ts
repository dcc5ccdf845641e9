/**
 * Private endpoints, declared as data by the parts of a deployment (the deployment itself, each
 * trigger binding, the image build, a ScoringRegistry) and created in one place: one endpoint per
 * (resource, subresource), in the deployment's private endpoint subnet, with a DNS zone group that
 * registers its A records in the platform's zone for that subresource.
 */
import { Construct } from "constructs";
import { dependable, TerraformResource } from "cdktf";
import { PrivateEndpoint } from "@cdktf/provider-azurerm/lib/private-endpoint";
import { invalid } from "../errors";
import { NetworkOptions, PrivateDnsZoneKey, zoneIdAllowed } from "./network-options";

/** The private link subresources (group ids) this library connects to. */
export type PrivateLinkSubresource = "sites" | "blob" | "queue" | "table" | "registry" | "namespace";

/** The zone of each subresource's endpoint (its key in `network.privateDnsZoneIds`). */
export const ZONE_OF_SUBRESOURCE: { readonly [s in PrivateLinkSubresource]: PrivateDnsZoneKey } = {
  sites: "sites",
  blob: "blob",
  queue: "queue",
  table: "table",
  registry: "registry",
  namespace: "serviceBus",
};

/** A private endpoint a part of the deployment needs for a resource it created. */
export interface PrivateEndpointNeed {
  /**
   * Literal name of the resource (globally unique, as account, registry, namespace and app names
   * are): names the endpoint `pe-<resourceName>-<subresource>` and its construct.
   */
  readonly resourceName: string;
  /** Azure resource id of the resource. */
  readonly resourceId: string;
  readonly subresource: PrivateLinkSubresource;
  /** What the resource is, for messages: e.g. `the host storage account "stchurnhost1234abcd"`. */
  readonly description: string;
  /**
   * Resources that reach the resource through this endpoint while Terraform applies (an upload
   * from the machine that runs Terraform): they get a `depends_on` on the endpoint.
   * @default none
   */
  readonly requiredBy?: TerraformResource[];
}

/** Where the endpoints go. */
export interface PrivateEndpointPlacement {
  readonly owner: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly tags?: { [key: string]: string };
  readonly network: NetworkOptions;
}

/** Name of an endpoint (and of its connection): at most 3 + 60 + 1 + 9 = 73 characters. */
export function privateEndpointName(need: PrivateEndpointNeed): string {
  return `pe-${need.resourceName}-${need.subresource}`;
}

/**
 * Creates one `azurerm_private_endpoint` per need under `scope` (needs naming the same resource
 * and subresource are one endpoint). Refuses a need whose zone is missing from
 * `network.privateDnsZoneIds`, naming the resource that needs it.
 */
export function createPrivateEndpoints(scope: Construct, needs: readonly PrivateEndpointNeed[], placement: PrivateEndpointPlacement): PrivateEndpoint[] {
  const created = new Map<string, PrivateEndpoint>();
  const waiting = new Set<string>();
  for (const need of needs) {
    const name = privateEndpointName(need);
    let endpoint = created.get(name);
    if (endpoint === undefined) {
      endpoint = createPrivateEndpoint(scope, name, need, placement);
      created.set(name, endpoint);
    }
    for (const resource of need.requiredBy ?? []) {
      const key = `${resource.node.path}\u0000${name}`;
      if (waiting.has(key)) continue;
      waiting.add(key);
      resource.dependsOn = [...(resource.dependsOn ?? []), dependable(endpoint)];
    }
  }
  return [...created.values()];
}

function createPrivateEndpoint(scope: Construct, name: string, need: PrivateEndpointNeed, placement: PrivateEndpointPlacement): PrivateEndpoint {
  const zoneKey = ZONE_OF_SUBRESOURCE[need.subresource];
  const zoneId = placement.network.privateDnsZoneIds[zoneKey];
  if (zoneId === undefined) {
    invalid(placement.owner, `network.privateDnsZoneIds.${zoneKey}`, zoneId, `${need.description} gets a private endpoint (subresource "${need.subresource}"), which registers its address in that zone`, zoneIdAllowed(zoneKey));
  }
  return new PrivateEndpoint(scope, name, {
    name,
    location: placement.location,
    resourceGroupName: placement.resourceGroupName,
    subnetId: placement.network.privateEndpointSubnetId,
    privateServiceConnection: {
      name,
      privateConnectionResourceId: need.resourceId,
      subresourceNames: [need.subresource],
      isManualConnection: false,
    },
    privateDnsZoneGroup: { name: "default", privateDnsZoneIds: [zoneId] },
    tags: placement.tags,
  });
}
