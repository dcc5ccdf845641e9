import { deriveNames } from "../lib/naming";
import { ITriggerTarget } from "../lib/triggers/trigger";

/** Identity ids of the fake deployment that trigger unit tests bind to. */
export const PRINCIPAL = "00000000-0000-0000-0000-000000000001";
export const CLIENT = "00000000-0000-0000-0000-000000000002";

/** A deployment as a trigger sees it, with literal values, for unit tests of `bind`. */
export const fakeTarget: ITriggerTarget = {
  owner: 'AmlFunctionDeployment "churn"',
  deploymentId: "churn",
  location: "westeurope",
  resourceGroupName: "rg-churn",
  tags: { app: "churn" },
  identity: { id: "/subscriptions/s/resourceGroups/rg-churn/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-churn", principalId: PRINCIPAL, clientId: CLIENT },
  baseName: "churn",
  uniqueSuffix: "0123abcd",
  names: deriveNames("churn", "0123abcd"),
  defaultHostname: "func-churn-0123abcd.azurewebsites.net",
  outputId: (name: string) => `churn_${name}`,
};
