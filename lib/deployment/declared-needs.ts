/**
 * What a part of a deployment needs from it, declared as data in the part's binding (triggers,
 * the model source, the build mode; the deployment's own resources declare theirs the same way).
 * The deployment collects the needs of every part in one place and applies each kind once
 * (lib/deployment/apply-needs.ts), so a part never reaches into the deployment, and the
 * deployment never asks what kind of part it holds.
 */
import type { IConstruct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { LinuxFunctionAppAuthSettingsV2 } from "@cdktf/provider-azurerm/lib/linux-function-app";
import type { NameClaim } from "../naming";
import type { PrivateEndpointNeed } from "../network/private-endpoint";
import type { MetricAlertNeed } from "../monitoring/alerts";
import type { DiagnosticCategories } from "../monitoring/diagnostic-categories";

/**
 * Names a part creates, claimed in the stack: two constructs of a stack that would create the
 * same one fail at synth, naming both, instead of at apply.
 */
export interface NameClaims {
  readonly claims: NameClaim[];
  /**
   * Construct path of the part that creates them (named in the message).
   * @default the deployment's path
   */
  readonly claimant?: string;
  /**
   * Who the message is about (e.g. `BlobTrigger`).
   * @default the deployment
   */
  readonly owner?: string;
  /**
   * The prop the names come from, and its value.
   * @default the deployment's `name` and base name
   */
  readonly prop?: string;
  readonly value?: string;
  /**
   * What to do instead, for names that come from another prop than the deployment's `name`.
   * @default pass a distinct `name` to one of the deployments
   */
  readonly allowed?: string;
}

/** A Terraform provider a part's resources need, added to the stack unless the user has one. */
export type ProviderNeed = "azurerm" | "docker";

/**
 * A resource whose logs and metrics go to the deployment's Log Analytics workspace: its
 * diagnostic settings are created beside it (same parent), named `<its construct id>-diagnostics`.
 */
export interface DiagnosticsTarget {
  readonly resource: IConstruct;
  /** Its Azure resource id. */
  readonly resourceId: string;
  /**
   * What it sends: `"storageAccount"` for transaction metrics of the account and the logs and
   * metrics of its blob, queue and table services, or the categories of a single setting.
   */
  readonly categories: DiagnosticCategories | "storageAccount";
}

/** The needs a binding declares (TriggerBinding, ModelBinding and ImageBuildBinding extend it). */
export interface DeclaredNeeds {
  /**
   * Names the part creates. A part that creates something inside a resource other deployments
   * may share (a container in a given storage account) claims it itself before creating it, so
   * that a refused part leaves nothing behind in the shared resource.
   * @default none
   */
  readonly nameClaims?: NameClaims[];
  /**
   * Providers the part's resources need beyond azurerm (e.g. `docker`).
   * @default none
   */
  readonly providers?: ProviderNeed[];
  /**
   * Resources the part created whose logs and metrics go to the deployment's workspace.
   * @default none
   */
  readonly diagnostics?: DiagnosticsTarget[];
  /**
   * Private endpoints for what the part created, created by the deployment when it has a
   * `network` (one per resource and subresource). The function app waits for them.
   * @default none
   */
  readonly privateEndpoints?: PrivateEndpointNeed[];
  /**
   * Metric alerts on what the part watches, created by the deployment when it has `alerts`.
   * @default none
   */
  readonly alerts?: MetricAlertNeed[];
  /**
   * App settings of the function app (identity-based connection settings, never secrets).
   * @default none
   */
  readonly appSettings?: { [key: string]: string };
  /**
   * Resources the function app must wait for (role assignments that make a connection work).
   * @default none
   */
  readonly dependencies?: ITerraformDependable[];
  /**
   * The app's authentication (`auth_settings_v2`): it applies to the whole app, so at most one
   * part of a deployment sets it.
   * @default none
   */
  readonly authSettingsV2?: LinuxFunctionAppAuthSettingsV2;
}
