/**
 * Scenario: an enterprise landing zone. The platform team owns the virtual network, its subnets
 * and the private DNS zones; the deployment puts the app, its storage, registry and Service Bus
 * namespace behind private endpoints, lets HTTP callers in with Entra ID tokens only, and alerts
 * the on-call action group when messages fail.
 */
import { App, TerraformStack } from "cdktf";
import {
  AmlFunctionDeployment, BlobTrigger, HttpTrigger, ModelSource, PythonEnvironment, ServiceBusCardinality, ServiceBusSku, ServiceBusTrigger,
} from "../../lib";

/** The platform's subscription and resource groups (ids the platform team hands over). */
const PLATFORM = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups";
const VNET = `${PLATFORM}/rg-network/providers/Microsoft.Network/virtualNetworks/vnet-ml-westeurope`;
const zone = (name: string): string => `${PLATFORM}/rg-dns/providers/Microsoft.Network/privateDnsZones/${name}`;

export function buildPrivateNetwork(app: App): TerraformStack {
  const stack = new TerraformStack(app, "aml-private");
  new AmlFunctionDeployment(stack, "churn", {
    location: "westeurope",
    name: "churn-private",
    model: ModelSource.fromLocalPath("examples/churn/models/churn"),
    entryScript: "examples/churn/scoring/score.py",
    environment: PythonEnvironment.fromRequirementsFile("examples/churn/requirements.txt"),
    triggers: [
      // Callers present a token for the scoring API's app registration; no function key.
      new HttpTrigger({
        entraId: {
          audienceClientId: "11111111-1111-1111-1111-111111111111",
          allowedClientApplicationIds: ["22222222-2222-2222-2222-222222222222"],
        },
      }),
      new BlobTrigger(),
      // Private endpoints exist on Premium namespaces only.
      new ServiceBusTrigger({ sku: ServiceBusSku.PREMIUM, cardinality: ServiceBusCardinality.MANY }),
    ],
    network: {
      integrationSubnetId: `${VNET}/subnets/snet-functions`,
      privateEndpointSubnetId: `${VNET}/subnets/snet-private-endpoints`,
      privateDnsZoneIds: {
        sites: zone("privatelink.azurewebsites.net"),
        blob: zone("privatelink.blob.core.windows.net"),
        queue: zone("privatelink.queue.core.windows.net"),
        table: zone("privatelink.table.core.windows.net"),
        registry: zone("privatelink.azurecr.io"),
        serviceBus: zone("privatelink.servicebus.windows.net"),
      },
    },
    alerts: {
      actionGroupIds: [`${PLATFORM}/rg-monitoring/providers/Microsoft.Insights/actionGroups/ag-ml-oncall`],
    },
  });
  return stack;
}
