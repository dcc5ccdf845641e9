import { IConstruct } from "constructs";
import { Aspects, IAspect, TerraformProvider, TerraformResource, TerraformStack } from "cdktf";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";

const ENSURED = Symbol.for("aml-function-deployment.providers-ensured");

/**
 * Adds the azurerm provider (and the docker provider, when the stack has docker resources) to a
 * stack that has none, at synth time.
 *
 * An aspect (not the constructor) does it so that a provider the user adds after the deployment
 * is still found and no second, conflicting default provider appears. The azurerm provider
 * this adds sets `storage_use_azuread = true`: the storage accounts have shared keys turned off,
 * so the provider must reach their data plane with Azure AD.
 */
class EnsureProviders implements IAspect {
  public visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    const providers = node.node.findAll().filter((c): c is TerraformProvider => c instanceof TerraformProvider);
    const has = (type: string) => providers.some((p) => p.terraformResourceType === type && p.alias === undefined);
    if (!has(AzurermProvider.tfResourceType)) {
      new AzurermProvider(node, "azurerm", { features: [{}], storageUseAzuread: true });
    }
    // The docker provider only where something builds locally: a stack that builds in Azure
    // must not need a Docker engine, nor even the docker provider binary.
    const usesDocker = node.node.findAll().some((c) => c instanceof TerraformResource && c.terraformResourceType.startsWith("docker_"));
    if (usesDocker && !has(DockerProvider.tfResourceType)) {
      new DockerProvider(node, "docker", {});
    }
  }
}

/** Registers the provider check on the stack that holds `scope` (once per stack). */
export function ensureProviders(scope: IConstruct): void {
  const stack = TerraformStack.of(scope) as TerraformStack & { [ENSURED]?: boolean };
  if (stack[ENSURED]) return;
  stack[ENSURED] = true;
  Aspects.of(stack).add(new EnsureProviders());
}
