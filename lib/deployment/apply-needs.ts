/**
 * Collects what the parts of a deployment declared (lib/deployment/declared-needs.ts) and applies
 * each kind once, with the function for that kind: names (lib/naming.ts), private endpoints
 * (lib/network/private-endpoint.ts), diagnostic settings (lib/monitoring/diagnostic-settings.ts),
 * alerts (lib/monitoring/alerts.ts) and providers (lib/providers.ts). App settings, role
 * assignments and authentication are the function app's own arguments: the deployment passes the
 * collected ones to it when it creates the app.
 */
import { Construct } from "constructs";
import { ITerraformDependable, TerraformResource, TerraformStack } from "cdktf";
import type { DeclaredNeeds, DiagnosticsTarget, NameClaims, ProviderNeed } from "./declared-needs";
import { claimNames } from "../naming";
import { createPrivateEndpoints, PrivateEndpointNeed } from "../network/private-endpoint";
import type { NetworkOptions } from "../network/network-options";
import { addDiagnostics } from "../monitoring/diagnostic-settings";
import { AlertOptions, createMetricAlerts, MetricAlertNeed } from "../monitoring/alerts";
import { ensureProviders } from "../providers";

/** A part of the deployment once bound: how messages name it, and what it declared. */
export interface BoundPart {
  /** e.g. `model`, `trigger "score"`. */
  readonly from: string;
  readonly needs: DeclaredNeeds;
  /** A trigger's function name. */
  readonly functionName?: string;
  /** A trigger's scoring path below the host, for HTTP triggers. */
  readonly httpPath?: string;
}

/** Every part's needs, by kind, in the order of the parts. */
export interface CollectedNeeds {
  readonly nameClaims: NameClaims[];
  readonly providers: ProviderNeed[];
  readonly diagnostics: DiagnosticsTarget[];
  readonly privateEndpoints: PrivateEndpointNeed[];
  readonly alerts: MetricAlertNeed[];
  /** For mergeAppSettings (lib/app-settings.ts), which names the part of a setting set twice. */
  readonly appSettings: Array<{ from: string; settings: { [key: string]: string } | undefined }>;
  readonly dependencies: ITerraformDependable[];
}

/** The needs of `parts`, by kind. */
export function collectNeeds(parts: readonly BoundPart[]): CollectedNeeds {
  const collected: CollectedNeeds = { nameClaims: [], providers: [], diagnostics: [], privateEndpoints: [], alerts: [], appSettings: [], dependencies: [] };
  for (const { from, needs } of parts) {
    collected.nameClaims.push(...(needs.nameClaims ?? []));
    collected.providers.push(...(needs.providers ?? []));
    collected.diagnostics.push(...(needs.diagnostics ?? []));
    collected.privateEndpoints.push(...(needs.privateEndpoints ?? []));
    collected.alerts.push(...(needs.alerts ?? []));
    if (needs.appSettings !== undefined) collected.appSettings.push({ from, settings: needs.appSettings });
    collected.dependencies.push(...(needs.dependencies ?? []));
  }
  return collected;
}

/** Where the deployment puts what the needs ask for. */
export interface NeedsPlacement {
  readonly owner: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly tags?: { [key: string]: string };
  /** The deployment's `name` prop (as messages call it) and base name: the default source of claimed names. */
  readonly nameProp: string;
  readonly baseName: string;
  /** The workspace that receives logs and metrics. */
  readonly workspaceId: string;
  /** Prefix of alert names. */
  readonly alertNamePrefix: string;
  readonly network?: NetworkOptions;
  readonly alerts?: AlertOptions;
}

/** The function app and its own needs (its private endpoint, diagnostics and alerts). */
export interface FunctionAppPart {
  readonly resource: TerraformResource;
  readonly needs: DeclaredNeeds;
}

/**
 * Applies the needs of the parts and of the function app, once it exists: claims the names in the
 * stack, creates the private endpoints (the app waits for the parts' ones: it reaches their
 * resources through them), the diagnostic settings and the alerts, and adds the providers.
 */
export function applyNeeds(deployment: Construct, parts: CollectedNeeds, app: FunctionAppPart, placement: NeedsPlacement): void {
  const stack = TerraformStack.of(deployment);
  for (const c of parts.nameClaims) {
    claimNames(stack, c.claimant ?? deployment.node.path, c.owner ?? placement.owner, c.prop ?? placement.nameProp, c.value ?? placement.baseName, c.claims, c.allowed);
  }
  if (placement.network !== undefined) {
    const reachedByApp = parts.privateEndpoints.map((need) => ({ ...need, requiredBy: [...(need.requiredBy ?? []), app.resource] }));
    createPrivateEndpoints(new Construct(deployment, "private-endpoints"), [...reachedByApp, ...(app.needs.privateEndpoints ?? [])], { ...placement, network: placement.network });
  }
  addDiagnostics(deployment, [...(app.needs.diagnostics ?? []), ...parts.diagnostics], placement.workspaceId);
  if (placement.alerts !== undefined) {
    createMetricAlerts(new Construct(deployment, "alerts"), [...(app.needs.alerts ?? []), ...parts.alerts], placement.alerts,
      { owner: placement.owner, namePrefix: placement.alertNamePrefix, resourceGroupName: placement.resourceGroupName, tags: placement.tags });
  }
  ensureProviders(deployment, parts.providers);
}
