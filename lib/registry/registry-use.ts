import { TerraformResource } from "cdktf";
import type { DeclaredNeeds } from "../deployment/declared-needs";
import type { ImageBuildBinding } from "../image/build/image-build-target";
import type { PrivateEndpointNeed } from "../network/private-endpoint";
import { IContainerRegistryRef, ScoringRegistry } from "./scoring-registry";

/**
 * What a deployment does with its registry: a ScoringRegistry (also the one a deployment creates)
 * is closed to public networks when the deployment is on a private network, refuses to be shared
 * by deployments with and without one, and sends its logs to the deployment's workspace unless it
 * already sends them somewhere. Returns the registry's private endpoint, for the first deployment
 * on a private network that uses it. Registries passed in as references are left as they are.
 */
export function useRegistry(registry: IContainerRegistryRef, owner: string, privateNetwork: boolean, workspaceId: string): PrivateEndpointNeed | undefined {
  if (!(registry instanceof ScoringRegistry)) return undefined;
  let endpoint: PrivateEndpointNeed | undefined;
  if (privateNetwork) endpoint = registry.usePrivateNetwork(owner);
  else registry.usePublicNetwork(owner);
  registry.sendLogsTo(workspaceId);
  return endpoint;
}

/**
 * The registry's needs once the image build bound: its private endpoint, if this deployment made
 * the registry private. The image is pushed through that endpoint, so the push waits for it.
 */
export function registryNeeds(endpoint: PrivateEndpointNeed | undefined, image: ImageBuildBinding): DeclaredNeeds {
  if (endpoint === undefined) return {};
  const push = image.dependencies.filter((d): d is TerraformResource => TerraformResource.isTerraformResource(d));
  return { privateEndpoints: [{ ...endpoint, requiredBy: push }] };
}
