/** A model version in an Azure ML registry, fetched by the app's identity at start. */
import { Construct } from "constructs";
import { Fn } from "cdktf";
import { RoleDefinition } from "@cdktf/provider-azurerm/lib/role-definition";
import { checkPropsObject } from "../errors";
import { grantRoleById } from "../security/role-assignment";
import { AML_REGISTRY, ParsedResourceId, parseResourceId } from "./azure-resource-id";
import { validateAssetName, validateAssetVersion } from "./aml-asset";
import { fetchSettings, validateArmEndpoint } from "./fetch-settings";
import { REGISTRY_MODEL_READER_ACTIONS } from "./model-roles";
import type { IModelSource, ModelBinding, ModelTarget } from "./model-target";

/** How the custom role's name starts; the downloader names it in its access-denied errors. */
export const REGISTRY_MODEL_READER_ROLE = "AML registry model reader";

/** Props of `ModelSource.fromAmlRegistry`. */
export interface AmlRegistryModelProps {
  /** Resource id of the Azure ML registry. */
  readonly registryId: string;
  /** Model name in the registry. */
  readonly name: string;
  /** Exact model version, e.g. "3" ("latest" is refused: deployments must be reproducible). */
  readonly version: string;
  /**
   * Azure Resource Manager endpoint (sovereign clouds).
   * @default "https://management.azure.com"
   */
  readonly armEndpoint?: string;
}

const OWNER = "ModelSource.fromAmlRegistry";

/** Made by `ModelSource.fromAmlRegistry(props)`. */
export class AmlRegistryModelSource implements IModelSource {
  private readonly armEndpoint: string;
  /** The registry id's parts; undefined when it is a token. */
  private readonly registry?: ParsedResourceId;

  constructor(public readonly props: AmlRegistryModelProps) {
    checkPropsObject(OWNER, props, "props are required", "{ registryId, name, version }");
    this.registry = parseResourceId(OWNER, "registryId", props.registryId, AML_REGISTRY);
    validateAssetName(OWNER, "name", props.name);
    validateAssetVersion(OWNER, "version", props.version);
    this.armEndpoint = validateArmEndpoint(OWNER, "armEndpoint", props.armEndpoint);
  }

  /**
   * Read-only access to the registry, through a custom role with `registries/read` and
   * `registries/assets/read` only (REGISTRY_MODEL_READER_ACTIONS): the identity reads the model
   * version and asks the registry for a read-only data reference to the model's blobs (the
   * registry's storage is Azure ML's, so no storage role can be granted on it). It cannot write
   * or delete anything in the registry.
   *
   * The role is defined in the registry's resource group (custom roles are assignable at
   * management groups, subscriptions and resource groups only) and assigned on the registry
   * alone. Its name must be unique in the tenant: it carries the deployment's name and unique
   * suffix, and the registry's name when the id is a literal.
   */
  public bind(scope: Construct, target: ModelTarget): ModelBinding {
    const p = this.props;
    const id = p.registryId;
    const reg = this.registry;
    const resourceGroupId = reg === undefined ? Fn.join("/", Fn.slice(Fn.split("/", id), 0, 5)) : `/subscriptions/${reg.subscriptionId}/resourceGroups/${reg.resourceGroupName}`;
    const role = new RoleDefinition(scope, "registry-reader-role", {
      name: `${REGISTRY_MODEL_READER_ROLE} ${target.baseName} ${target.uniqueSuffix}${reg === undefined ? "" : ` on ${reg.name}`}`,
      scope: resourceGroupId,
      assignableScopes: [resourceGroupId],
      description: "Read an Azure ML registry and its assets: the scoring app downloads a model version (no writes or deletes)",
      permissions: [{ actions: [...REGISTRY_MODEL_READER_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }],
    });
    const reader = grantRoleById(scope, "registry-reader", id, role.roleDefinitionResourceId, target.identity.principalId);
    return {
      appSettings: fetchSettings({ kind: "amlRegistry", registryId: id, name: p.name, version: p.version }, target.identity.clientId, { armEndpoint: this.armEndpoint }),
      dependencies: [reader],
    };
  }
}
