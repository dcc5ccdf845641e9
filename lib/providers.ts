import { IConstruct } from "constructs";
import { TerraformProvider, TerraformStack, Token } from "cdktf";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { describeValue } from "./errors";
import type { ProviderNeed } from "./deployment/declared-needs";

/**
 * Providers for the stacks that hold deployments: the user's, or defaults this library adds.
 *
 * Works with one or two copies of cdktf in the process (a `file:`/symlinked dependency loads the
 * library's own copy next to the app's). Everything here therefore recognises constructs by
 * shape, through cdktf's `Symbol.for` markers (`TerraformProvider.isTerraformProvider`,
 * `TerraformStack.isStack`), never by `instanceof`.
 *
 * - The defaults are added when the deployment is constructed (not in an aspect: aspects live in
 *   a per-copy registry, so an aspect registered by the library's copy never runs when the app's
 *   copy synthesizes).
 * - At synth (lib/stack-checks.ts), a default gives way to a provider of the same type the user
 *   added afterwards (two default providers of one type fail in Terraform), and a user's azurerm
 *   provider must set `storageUseAzuread`.
 */

/** Marks a provider this library added (global symbol: the same in every copy of this library). */
const DEFAULT_PROVIDER = Symbol.for("@aml-functions/aml-function-deployment.default-provider");
/** Construct paths of the deployments in a stack (for messages). */
const DEPLOYMENTS = Symbol.for("@aml-functions/aml-function-deployment.deployments");

type Marked = IConstruct & { [DEFAULT_PROVIDER]?: boolean };
type StackState = IConstruct & { [DEPLOYMENTS]?: string[] };

const AZURERM: ProviderNeed = "azurerm";
const DOCKER: ProviderNeed = "docker";

function defaultProviders(stack: IConstruct, type: string): TerraformProvider[] {
  return stack.node
    .findAll()
    .filter((c): c is TerraformProvider => TerraformProvider.isTerraformProvider(c))
    .filter((p) => p.terraformResourceType === type && p.alias === undefined);
}

const isOurs = (p: IConstruct): boolean => (p as Marked)[DEFAULT_PROVIDER] === true;

function addDefault(stack: TerraformStack, type: string, create: (id: string) => TerraformProvider): void {
  if (defaultProviders(stack, type).length > 0) return;
  // Not the usual id "azurerm"/"docker": the user may still add theirs under that id.
  const provider = create(`aml-default-${type}`) as TerraformProvider & Marked;
  provider[DEFAULT_PROVIDER] = true;
}

/**
 * Removes this library's defaults where the user has a provider of the same type, and returns
 * the problems with the user's providers (empty when all is well).
 */
export function reconcileProviders(stack: IConstruct): string[] {
  for (const type of [AZURERM, DOCKER]) {
    const all = defaultProviders(stack, type);
    if (all.some((p) => !isOurs(p))) {
      for (const ours of all.filter(isOurs)) ours.node.scope?.node.tryRemoveChild(ours.node.id);
    }
  }
  const deployments = (stack as StackState)[DEPLOYMENTS] ?? [];
  const problems: string[] = [];
  for (const p of defaultProviders(stack, AZURERM).filter((x) => !isOurs(x))) {
    // The generated class exposes the prop as a getter; a token (known at apply) is accepted.
    const value = (p as unknown as { storageUseAzuread?: unknown }).storageUseAzuread;
    if (value === true || (value !== undefined && value !== false && Token.isUnresolved(value))) continue;
    problems.push(
      `AzurermProvider "${p.node.path}": invalid storageUseAzuread ${describeValue(value)}: the storage accounts of ` +
        `${deployments.map((d) => `"${d}"`).join(", ")} have shared keys turned off, so the provider must reach their ` +
        "blobs and queues with Azure AD. Allowed: storageUseAzuread: true (or leave the azurerm provider out: the deployment adds one)",
    );
  }
  return problems;
}

/**
 * Adds the default providers a deployment needs to its stack when the stack has none yet, and
 * records the deployment for messages. The synth-time check is lib/stack-checks.ts. azurerm is
 * always needed; the others only when a part of the deployment declares them (a stack that builds
 * in Azure must not need a Docker engine, nor even the docker provider binary).
 */
export function ensureProviders(deployment: IConstruct, needed: readonly ProviderNeed[]): void {
  const stack = TerraformStack.of(deployment);
  const state = stack as unknown as StackState;
  state[DEPLOYMENTS] = [...(state[DEPLOYMENTS] ?? []), deployment.node.path];
  // storage_use_azuread: the storage accounts have shared keys turned off, so the provider must
  // reach their data plane with Azure AD.
  addDefault(stack, AZURERM, (id) => new AzurermProvider(stack, id, { features: [{}], storageUseAzuread: true }));
  if (needed.includes(DOCKER)) addDefault(stack, DOCKER, (id) => new DockerProvider(stack, id, {}));
}
