/**
 * What every part of a deployment sees of the deployment it binds to. Triggers, the model source
 * and the build mode are objects the deployment binds (the AWS CDK event-source pattern): it calls
 * `part.bind(scope, context)` once, before the function app exists, and each part creates its
 * own resources under `scope` and hands back what it needs from the deployment
 * (lib/deployment/declared-needs.ts).
 */
import type { DerivedNames } from "../naming";

/** The user-assigned identity the function app runs as. */
export interface DeploymentIdentity {
  /** Azure resource id of the user-assigned identity. */
  readonly id: string;
  /** Object (principal) id: what role assignments grant to. */
  readonly principalId: string;
  /** Client id: what `<connection>__clientId` names. */
  readonly clientId: string;
}

/** The deployment as its parts see it. */
export interface DeploymentContext {
  /** Construct description for error messages, e.g. `AmlFunctionDeployment "churn"`. */
  readonly owner: string;
  /** The deployment's construct id (not unique when a wrapper construct is used twice). */
  readonly deploymentId: string;
  /** Azure region of the deployment (a literal, validated). */
  readonly location: string;
  /** Resource group the deployment's resources go into. */
  readonly resourceGroupName: string;
  /** Tags applied to every resource the deployment creates (empty when there are none). */
  readonly tags: { [key: string]: string };
  /** The user-assigned identity the function app runs as. */
  readonly identity: DeploymentIdentity;
  /** Base of the deployment's resource names: lowercase letters, digits and hyphens. */
  readonly baseName: string;
  /** Stable 8-hex-digit suffix for globally unique names (derived from the construct path). */
  readonly uniqueSuffix: string;
  /** The resource names derived from `baseName` and `uniqueSuffix`. */
  readonly names: DerivedNames;
  /** The function app's default hostname (a token until apply; the app is created after the parts bind). */
  readonly defaultHostname: string;
  /**
   * Logical id for a stack output of this deployment: `<prefix>_<name>`, unique in the stack (the
   * construct id, or the deployment's `name` when another deployment has the same id). A token
   * until synth: pass it to `overrideLogicalId` as it is.
   */
  outputId(name: string): string;
  /**
   * True when the deployment is on a private network (its `network` prop): what a part creates
   * turns public network access off and is reached through the private endpoints the part asks
   * for (`privateEndpoints` of its binding).
   * @default false
   */
  readonly privateNetwork?: boolean;
}
