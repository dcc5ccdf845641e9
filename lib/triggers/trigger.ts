import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import type { LinuxFunctionAppAuthSettingsV2 } from "@cdktf/provider-azurerm/lib/linux-function-app";
import type { PrivateEndpointNeed } from "../network/private-endpoint";
import type { MetricAlertNeed } from "../monitoring/alerts";

/**
 * What a trigger sees of the deployment it binds to (the AWS CDK event-source pattern:
 * the deployment calls `trigger.bind(scope, target)` once, before it builds the image, and the
 * trigger creates its own resources, role assignments and outputs).
 */
export interface ITriggerTarget {
  /** The deployment's construct id (for messages; not unique when a wrapper construct is used twice). */
  readonly deploymentId: string;
  /** Azure region of the deployment (a literal, validated). */
  readonly location: string;
  /** Resource group the deployment's resources go into. */
  readonly resourceGroupName: string;
  /** Tags applied to every resource the deployment creates. */
  readonly tags: { [key: string]: string };
  /** The user-assigned identity the function app runs as. */
  readonly identity: TriggerIdentity;
  /** Base of the deployment's resource names: lowercase letters, digits and hyphens. */
  readonly baseName: string;
  /** Stable 8-hex-digit suffix for globally unique names (derived from the construct path). */
  readonly uniqueSuffix: string;
  /** The function app's default hostname (a token until apply). */
  readonly defaultHostname: string;
  /**
   * Logical id for a stack output of this deployment: `<prefix>_<name>`, unique in the stack (the
   * construct id, or the deployment's `name` when another deployment has the same id). A token
   * until synth: pass it to `overrideLogicalId` as it is.
   */
  outputId(name: string): string;
  /**
   * True when the deployment is on a private network (its `network` prop): what the trigger
   * creates turns public network access off and is reached through the private endpoints the
   * binding asks for (`privateEndpoints`).
   * @default false
   */
  readonly privateNetwork?: boolean;
}

/** The identity a trigger grants data roles to and names in its connection settings. */
export interface TriggerIdentity {
  /** Azure resource id of the user-assigned identity. */
  readonly id: string;
  /** Object (principal) id: what role assignments grant to. */
  readonly principalId: string;
  /** Client id: what `<connection>__clientId` names. */
  readonly clientId: string;
}

/** Which thin adapter in `scoring-image/adapters/` serves a function. */
export type AdapterKind = "http" | "blob" | "servicebus";

/** What a trigger hands back to the deployment after it bound. */
export interface TriggerBinding {
  /** Function name: folder name in the image and name in the portal; unique within the app. */
  readonly functionName: string;
  /** Adapter module that serves the function. */
  readonly adapter: AdapterKind;
  /** The `bindings` array of the function's `function.json`. */
  readonly bindings: Array<{ [key: string]: unknown }>;
  /** Settings written to `aml.json` beside `function.json`, read by the adapter at run time. */
  readonly adapterSettings?: { [key: string]: unknown };
  /** App settings the function needs (identity-based connection settings, never secrets). */
  readonly appSettings?: { [key: string]: string };
  /**
   * host.json `functionTimeout` ("hh:mm:ss") the function's delivery guarantees rely on; the
   * library's default (`scoring-image/host.json`) applies when no trigger sets it. host.json is
   * one file for the app, so triggers of one deployment must agree.
   */
  readonly functionTimeout?: string;
  /** Settings merged into host.json `extensions.<name>` (e.g. `serviceBus`). */
  readonly hostExtensions?: { [extension: string]: { [key: string]: unknown } };
  /** Resources the function app must wait for (role assignments that make the connection work). */
  readonly dependencies?: ITerraformDependable[];
  /** Path of the scoring URL below the host, for HTTP triggers (e.g. `api/score`). */
  readonly httpPath?: string;
  /**
   * The app's authentication (`auth_settings_v2`) the function needs: it applies to the whole
   * app, so at most one trigger of a deployment sets it.
   * @default none
   */
  readonly authSettingsV2?: LinuxFunctionAppAuthSettingsV2;
  /**
   * Private endpoints for what the trigger created, created by the deployment when it has a
   * `network` (one per resource and subresource).
   * @default none
   */
  readonly privateEndpoints?: PrivateEndpointNeed[];
  /**
   * Metric alerts on what the trigger watches, created by the deployment when it has `alerts`.
   * @default none
   */
  readonly alerts?: MetricAlertNeed[];
}

/** A trigger of the scoring function: HTTP, Blob or Service Bus. */
export interface ITrigger {
  /** Creates the trigger's resources under `scope` and describes its function. Called once. */
  bind(scope: Construct, target: ITriggerTarget): TriggerBinding;
}
