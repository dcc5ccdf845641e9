import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { TerraformStack } from "cdktf";
import { ServicePlan } from "@cdktf/provider-azurerm/lib/service-plan";
import { DataAzurermSubnet } from "@cdktf/provider-azurerm/lib/data-azurerm-subnet";
import { DataAzurermPrivateDnsZone } from "@cdktf/provider-azurerm/lib/data-azurerm-private-dns-zone";
import {
  AmlFunctionDeployment, BlobTrigger, HttpTrigger, ImageBuild, NetworkOptions, PlanSku, RegistrySku, ScoringPlan, ScoringRegistry, ServiceBusCardinality, ServiceBusSku, ServiceBusTrigger,
} from "../../lib";
import { message } from "../error-message";
import { newStack, refTo, resourcesOf, sampleProps, synthJson } from "../helpers";
import { schemaProblems } from "../schema-check";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups";
const VNET = `${SUB}/rg-net/providers/Microsoft.Network/virtualNetworks/vnet`;
const zone = (name: string): string => `${SUB}/rg-dns/providers/Microsoft.Network/privateDnsZones/${name}`;
const ZONES = {
  sites: zone("privatelink.azurewebsites.net"),
  blob: zone("privatelink.blob.core.windows.net"),
  queue: zone("privatelink.queue.core.windows.net"),
  table: zone("privatelink.table.core.windows.net"),
  registry: zone("privatelink.azurecr.io"),
  serviceBus: zone("privatelink.servicebus.windows.net"),
};
const NETWORK: NetworkOptions = {
  integrationSubnetId: `${VNET}/subnets/snet-app`,
  privateEndpointSubnetId: `${VNET}/subnets/snet-pe`,
  privateDnsZoneIds: ZONES,
};
const ACTION_GROUP = `${SUB}/rg-mon/providers/Microsoft.Insights/actionGroups/ag-oncall`;
const AUDIENCE = "11111111-1111-1111-1111-111111111111";

/** A deployment with all three: network, Entra ID callers, alerts; HTTP, Blob and Service Bus triggers. */
function fullStack(): TerraformStack {
  const stack = newStack();
  new AmlFunctionDeployment(stack, "churn", sampleProps({
    triggers: [
      new HttpTrigger({ entraId: { audienceClientId: AUDIENCE } }),
      new BlobTrigger(),
      new ServiceBusTrigger({ sku: ServiceBusSku.PREMIUM, cardinality: ServiceBusCardinality.MANY }),
    ],
    network: NETWORK,
    alerts: { actionGroupIds: [ACTION_GROUP] },
  }));
  return stack;
}

/** Resource types whose azurerm 4.55 schema has `public_network_access_enabled`. */
const SCHEMA = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "azurerm-4.55.0-subset.json"), "utf8"));
const TYPES_WITH_PUBLIC_ACCESS = Object.entries<any>(SCHEMA.resource_schemas)
  .filter(([, s]) => s.block.attributes?.public_network_access_enabled !== undefined)
  .map(([type]) => type);

describe("network: a private deployment", () => {
  const json = synthJson(fullStack());

  test("every synthesized resource matches the azurerm 4.55 schema", () => {
    expect(schemaProblems(json)).toEqual([]);
  });

  test("no resource it creates accepts public traffic; the build storage only lets trusted Azure services through", () => {
    // The types checked: the test would pass vacuously without them.
    expect(TYPES_WITH_PUBLIC_ACCESS).toEqual(expect.arrayContaining(["azurerm_storage_account", "azurerm_container_registry", "azurerm_servicebus_namespace", "azurerm_linux_function_app"]));
    const open: string[] = [];
    let checked = 0;
    for (const type of TYPES_WITH_PUBLIC_ACCESS) {
      for (const [id, r] of Object.entries<any>(resourcesOf(json, type))) {
        checked++;
        if (r.public_network_access_enabled === false) continue;
        // The ACR task reaches its context as a trusted service, which storage allows with a
        // deny-all public endpoint ("selected networks") only, never with public access off.
        const trustedOnly = type === "azurerm_storage_account" && r.name.includes("bld") &&
          r.network_rules?.default_action === "Deny" && JSON.stringify(r.network_rules.bypass) === '["AzureServices"]' &&
          r.network_rules.ip_rules === undefined && r.network_rules.virtual_network_subnet_ids === undefined;
        if (!trustedOnly) open.push(`${type}.${id}`);
      }
    }
    expect(open).toEqual([]);
    expect(checked).toBe(6); // host, trigger and build storage, registry, namespace, app
  });

  test("one private endpoint per (resource, subresource), in the endpoint subnet, with the zone of its subresource", () => {
    const got = Object.values<any>(resourcesOf(json, "azurerm_private_endpoint")).map((pe) => {
      expect(pe.subnet_id).toBe(NETWORK.privateEndpointSubnetId);
      expect(pe.private_service_connection.is_manual_connection).toBe(false);
      expect(pe.private_service_connection.subresource_names).toHaveLength(1);
      return [pe.private_service_connection.private_connection_resource_id, pe.private_service_connection.subresource_names[0], pe.private_dns_zone_group.private_dns_zone_ids].join(" ");
    }).sort();
    const storage = (part: string) => refTo(json, "azurerm_storage_account", "id", (r) => r.name.includes(part));
    const host = refTo(json, "azurerm_storage_account", "id", (r) => !r.name.includes("trg") && !r.name.includes("bld"));
    const expected = [
      [refTo(json, "azurerm_linux_function_app", "id"), "sites", ZONES.sites],
      [host, "blob", ZONES.blob], [host, "queue", ZONES.queue], [host, "table", ZONES.table],
      [storage("trg"), "blob", ZONES.blob], [storage("trg"), "queue", ZONES.queue],
      [storage("bld"), "blob", ZONES.blob],
      [refTo(json, "azurerm_container_registry", "id"), "registry", ZONES.registry],
      [refTo(json, "azurerm_servicebus_namespace", "id"), "namespace", ZONES.serviceBus],
    ].map((e) => e.join(" ")).sort();
    expect(got).toEqual(expected);
  });

  test("the app: VNet integration, image pull and all outbound traffic through it, runtime scale monitoring, after its endpoints", () => {
    const app = Object.values<any>(resourcesOf(json, "azurerm_linux_function_app"))[0];
    expect(app.virtual_network_subnet_id).toBe(NETWORK.integrationSubnetId);
    expect(app.vnet_image_pull_enabled).toBe(true);
    expect(app.site_config.vnet_route_all_enabled).toBe(true);
    expect(app.site_config.runtime_scale_monitoring_enabled).toBe(true);
    const endpoints = Object.entries<any>(resourcesOf(json, "azurerm_private_endpoint"));
    const others = endpoints.filter(([, pe]) => pe.private_service_connection.subresource_names[0] !== "sites").map(([id]) => `azurerm_private_endpoint.${id}`);
    expect(others).toHaveLength(8);
    expect(app.depends_on).toEqual(expect.arrayContaining(others));
  });

  test("the registry is Premium, closed, and lets trusted services (the build task) through", () => {
    expect(Object.values<any>(resourcesOf(json, "azurerm_container_registry"))[0]).toMatchObject({ sku: "Premium", public_network_access_enabled: false, network_rule_bypass_option: "AzureServices" });
  });

  test("the ACR build runs as the task's system-assigned identity, as trusted-service access requires", () => {
    const task = Object.values<any>(resourcesOf(json, "azurerm_container_registry_task"))[0];
    expect(task.identity).toEqual({ type: "SystemAssigned" });
    expect(task.registry_credential).toEqual({ source: { login_mode: "None" }, custom: [{ login_server: refTo(json, "azurerm_container_registry", "login_server"), identity: "[system]" }] });
    expect(task.encoded_step.values).toBeUndefined();
    // No user-assigned build identity: only the app's.
    expect(Object.values<any>(resourcesOf(json, "azurerm_user_assigned_identity")).map((i) => i.name)).toEqual([expect.not.stringContaining("build")]);
    const taskRef = Object.keys(resourcesOf(json, "azurerm_container_registry_task"))[0];
    const roles = Object.values<any>(resourcesOf(json, "azurerm_role_assignment")).filter((r) => r.principal_id === `\${azurerm_container_registry_task.${taskRef}.identity[0].principal_id}`);
    expect(roles.map((r) => [r.role_definition_name, r.scope]).sort()).toEqual([
      ["AcrPush", refTo(json, "azurerm_container_registry", "id")],
      ["Storage Blob Data Reader", refTo(json, "azurerm_storage_container", "id", (c) => c.name === "build-contexts")],
    ]);
    const yaml = parse(Buffer.from(task.encoded_step.task_content, "base64").toString("utf8"));
    const fetch = yaml.steps.find((s: any) => s.id === "fetch-context");
    expect(fetch.cmd).toContain("az login --identity --allow-no-subscriptions --output none &&");
    expect(fetch.cmd).not.toContain("--username");
    expect(fetch.env).toBeUndefined();
  });

  test("the context upload waits for the build storage's endpoint; the build waits for the registry's", () => {
    const blob = Object.values<any>(resourcesOf(json, "azurerm_storage_blob"))[0];
    const endpointOf = (sub: string, part: string) => `azurerm_private_endpoint.${Object.entries<any>(resourcesOf(json, "azurerm_private_endpoint")).find(([, pe]) => pe.private_service_connection.subresource_names[0] === sub && pe.name.includes(part))![0]}`;
    expect(blob.depends_on).toContain(endpointOf("blob", "bld"));
    const run = Object.values<any>(resourcesOf(json, "azurerm_container_registry_task_schedule_run_now"))[0];
    expect(run.depends_on).toContain(endpointOf("registry", "cr"));
  });
});

describe("network: variations", () => {
  test("without network nothing is private (no endpoints, public access as before)", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps());
    const json = synthJson(stack);
    expect(resourcesOf(json, "azurerm_private_endpoint")).toEqual({});
    const app = Object.values<any>(resourcesOf(json, "azurerm_linux_function_app"))[0];
    expect(app.public_network_access_enabled).toBe(true);
    expect(app.virtual_network_subnet_id).toBeUndefined();
  });

  test("a Dedicated plan: VNet integration without runtime scale monitoring (Elastic Premium only)", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ planSku: PlanSku.P1V3, network: NETWORK }));
    const json = synthJson(stack);
    const app = Object.values<any>(resourcesOf(json, "azurerm_linux_function_app"))[0];
    expect(app.virtual_network_subnet_id).toBe(NETWORK.integrationSubnetId);
    expect(app.site_config.vnet_route_all_enabled).toBe(true);
    expect(app.site_config.runtime_scale_monitoring_enabled).toBeUndefined();
  });

  test("the local Docker build pushes after the registry's endpoint exists", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ imageBuild: ImageBuild.localDocker(), network: NETWORK }));
    const json = synthJson(stack);
    const registryEndpoint = Object.entries<any>(resourcesOf(json, "azurerm_private_endpoint")).find(([, pe]) => pe.private_service_connection.subresource_names[0] === "registry")![0];
    const push = Object.values<any>(resourcesOf(json, "docker_registry_image"))[0];
    expect(push.depends_on).toContain(`azurerm_private_endpoint.${registryEndpoint}`);
    expect(schemaProblems(json)).toEqual([]);
  });

  test("existing resources passed in are not changed and get no endpoint; their zones are not needed", () => {
    const stack = newStack();
    const registry = { id: `${SUB}/rg/providers/Microsoft.ContainerRegistry/registries/platformacr`, name: "platformacr", loginServer: "platformacr.azurecr.io", resourceGroupName: "rg" };
    const storageAccount = { id: `${SUB}/rg/providers/Microsoft.Storage/storageAccounts/platformdata`, name: "platformdata", primaryBlobEndpoint: "https://platformdata.blob.core.windows.net/", primaryQueueEndpoint: "https://platformdata.queue.core.windows.net/" };
    const namespace = { id: `${SUB}/rg/providers/Microsoft.ServiceBus/namespaces/platform-bus`, name: "platform-bus" };
    const { registry: _r, serviceBus: _s, ...zones } = ZONES;
    new AmlFunctionDeployment(stack, "churn", sampleProps({
      registry, triggers: [new BlobTrigger({ storageAccount }), new ServiceBusTrigger({ namespace })],
      network: { ...NETWORK, privateDnsZoneIds: zones },
    }));
    const json = synthJson(stack);
    const targets = Object.values<any>(resourcesOf(json, "azurerm_private_endpoint")).map((pe) => pe.private_service_connection.private_connection_resource_id);
    expect(targets).not.toEqual(expect.arrayContaining([registry.id]));
    expect(targets.filter((t) => [registry.id, storageAccount.id, namespace.id].includes(t))).toEqual([]);
    expect(targets).toHaveLength(5); // the app, host storage blob/queue/table, build storage blob
    expect(resourcesOf(json, "azurerm_servicebus_namespace")).toEqual({});
    expect(resourcesOf(json, "azurerm_container_registry")).toEqual({});
  });

  test("a ScoringRegistry shared by two private deployments: closed once, one endpoint", () => {
    const stack = newStack();
    const registry = new ScoringRegistry(stack, "acr", { name: "sharedacr01", location: "westeurope", resourceGroupName: "rg", sku: RegistrySku.PREMIUM });
    const plan = new ScoringPlan(stack, "plan", { name: "plan", location: "westeurope", resourceGroupName: "rg" });
    new AmlFunctionDeployment(stack, "one", sampleProps({ registry, servicePlan: plan, network: NETWORK }));
    new AmlFunctionDeployment(stack, "two", sampleProps({ registry, servicePlan: plan, network: NETWORK }));
    const json = synthJson(stack);
    expect(Object.values<any>(resourcesOf(json, "azurerm_container_registry"))[0]).toMatchObject({ public_network_access_enabled: false, network_rule_bypass_option: "AzureServices" });
    expect(Object.values<any>(resourcesOf(json, "azurerm_private_endpoint")).filter((pe) => pe.private_service_connection.subresource_names[0] === "registry")).toHaveLength(1);
    expect(schemaProblems(json)).toEqual([]);
  });
});

describe("network: refused at synth", () => {
  const build = (props: Record<string, unknown>, stack = newStack()) => () => new AmlFunctionDeployment(stack, "churn", sampleProps({ network: NETWORK, ...props }));

  test("a registry SKU without private endpoints: the deployment's own, or a ScoringRegistry passed in", () => {
    expect(message(build({ registrySku: RegistrySku.STANDARD }))).toBe(
      'AmlFunctionDeployment "churn": invalid registrySku "Standard": with network the registry gets a private endpoint, which Azure Container Registry offers on Premium only. Allowed: RegistrySku.PREMIUM (the default with network)',
    );
    const stack = newStack();
    const registry = new ScoringRegistry(stack, "acr", { name: "sharedacr01", location: "westeurope", resourceGroupName: "rg", sku: "Basic" });
    expect(message(build({ registry }, stack))).toContain('invalid registry.sku "Basic": with network the registry gets a private endpoint');
  });

  test("a Service Bus namespace the trigger creates that is not Premium", () => {
    expect(message(build({ triggers: [new ServiceBusTrigger()] }))).toBe(
      'ServiceBusTrigger: invalid sku "Standard": the deployment has a network, so the namespace this trigger creates gets a private endpoint, which Service Bus offers on Premium only. Allowed: sku: ServiceBusSku.PREMIUM, or an existing namespace passed as namespace',
    );
  });

  test("a zone a created resource needs is missing: the registry's, the namespace's", () => {
    const { registry: _r, ...noRegistry } = ZONES;
    expect(message(build({ network: { ...NETWORK, privateDnsZoneIds: noRegistry } }))).toMatch(
      /^AmlFunctionDeployment "churn": invalid network\.privateDnsZoneIds\.registry undefined: the container registry "cr[a-z0-9]+" gets a private endpoint \(subresource "registry"\), which registers its address in that zone\. Allowed: the id of an existing private DNS zone .*the zone being privatelink\.azurecr\.io;/,
    );
    const { serviceBus: _s, ...noServiceBus } = ZONES;
    expect(message(build({ network: { ...NETWORK, privateDnsZoneIds: noServiceBus }, triggers: [new ServiceBusTrigger({ sku: ServiceBusSku.PREMIUM })] }))).toMatch(
      /invalid network\.privateDnsZoneIds\.serviceBus undefined: the Service Bus namespace "sb-[a-z0-9-]+" of the trigger "score-queue" gets a private endpoint \(subresource "namespace"\)/,
    );
  });

  test("ids that are not subnets or private DNS zones", () => {
    expect(message(build({ network: { ...NETWORK, integrationSubnetId: VNET } }))).toContain(
      `invalid network.integrationSubnetId "${VNET}": the id names a Microsoft.Network/virtualNetworks, not a Microsoft.Network/virtualNetworks/subnets`,
    );
    expect(message(build({ network: { ...NETWORK, privateEndpointSubnetId: "snet-pe" } }))).toContain('invalid network.privateEndpointSubnetId "snet-pe": not an Azure resource id');
    const publicZone = `${SUB}/rg-dns/providers/Microsoft.Network/dnszones/privatelink.blob.core.windows.net`;
    expect(message(build({ network: { ...NETWORK, privateDnsZoneIds: { ...ZONES, blob: publicZone } } }))).toContain("not a Microsoft.Network/privateDnsZones");
  });

  test("a zone that is not the zone of its key, an unknown key, a missing required zone", () => {
    expect(message(build({ network: { ...NETWORK, privateDnsZoneIds: { ...ZONES, blob: ZONES.queue } } }))).toBe(
      'AmlFunctionDeployment "churn": invalid network.privateDnsZoneIds.blob "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-dns/providers/Microsoft.Network/privateDnsZones/privatelink.queue.core.windows.net": the zone privatelink.queue.core.windows.net is not the zone of "blob" endpoints. ' +
        "Allowed: the id of an existing private DNS zone /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.Network/privateDnsZones/<zone>, the zone being privatelink.blob.core.windows.net; or a reference such as an azurerm_private_dns_zone's .id",
    );
    expect(message(build({ network: { ...NETWORK, privateDnsZoneIds: { ...ZONES, servicebus: ZONES.serviceBus } } }))).toContain(
      "invalid network.privateDnsZoneIds.servicebus",
    );
    const { table: _t, ...noTable } = ZONES;
    expect(message(build({ network: { ...NETWORK, privateDnsZoneIds: noTable } }))).toContain("invalid network.privateDnsZoneIds.table undefined: missing");
  });

  test("references (data sources, resources of the platform's stack) pass: their values are known at apply", () => {
    const stack = newStack();
    const subnet = new DataAzurermSubnet(stack, "snet", { name: "snet-app", virtualNetworkName: "vnet", resourceGroupName: "rg-net" });
    const blobZone = new DataAzurermPrivateDnsZone(stack, "zone", { name: "privatelink.blob.core.windows.net", resourceGroupName: "rg-dns" });
    build({ network: { ...NETWORK, integrationSubnetId: subnet.id, privateDnsZoneIds: { ...ZONES, blob: blobZone.id } } }, stack)();
    const app = Object.values<any>(resourcesOf(synthJson(stack), "azurerm_linux_function_app"))[0];
    expect(app.virtual_network_subnet_id).toBe("${data.azurerm_subnet.snet.id}");
  });

  test("one subnet for both integration and endpoints", () => {
    expect(message(build({ network: { ...NETWORK, privateEndpointSubnetId: NETWORK.integrationSubnetId } }))).toContain(
      "invalid network.privateEndpointSubnetId",
    );
  });

  test("a plan that cannot do VNet integration", () => {
    const stack = newStack();
    const plan = new ServicePlan(stack, "free", { name: "free", location: "westeurope", resourceGroupName: "rg", osType: "Linux", skuName: "F1" });
    expect(message(build({ servicePlan: plan }, stack))).toBe(
      'AmlFunctionDeployment "churn": invalid servicePlan.skuName "F1": with network the app is integrated with integrationSubnetId, which plans of this SKU cannot do. Allowed: Elastic Premium (EP1-EP3) or Dedicated Basic, Standard or Premium plans',
    );
  });

  test("public network access asked for together with network", () => {
    expect(message(build({ publicNetworkAccessEnabled: true }))).toContain("invalid publicNetworkAccessEnabled true: with network the app is reached through its private endpoint only");
  });

  test("a ScoringRegistry shared by a private and a public deployment, in either order", () => {
    for (const privateFirst of [true, false]) {
      const stack = newStack();
      const registry = new ScoringRegistry(stack, "acr", { name: "sharedacr01", location: "westeurope", resourceGroupName: "rg", sku: RegistrySku.PREMIUM });
      const add = (id: string, network?: NetworkOptions) => () => new AmlFunctionDeployment(stack, id, sampleProps({ registry, network }));
      if (privateFirst) add("private", NETWORK)(); else add("public")();
      const error = message(privateFirst ? add("public") : add("private", NETWORK));
      expect(error).toContain('AmlFunctionDeployment "private": invalid network "(set)": the registry "sharedacr01" is shared with AmlFunctionDeployment "public"');
    }
  });
});
