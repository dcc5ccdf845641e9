import { Construct } from "constructs";
import type { DeploymentContext, DeploymentIdentity } from "../deployment/deployment-context";
import type { DeclaredNeeds } from "../deployment/declared-needs";

/**
 * What a trigger sees of the deployment it binds to: the deployment calls
 * `trigger.bind(scope, target)` once, before it builds the image, and the trigger creates its own
 * resources, role assignments and outputs.
 */
export type ITriggerTarget = DeploymentContext;

/** The identity a trigger grants data roles to and names in its connection settings. */
export type TriggerIdentity = DeploymentIdentity;

/** The adapters `scoring-image/adapters/` holds: `<kind>_adapter.py` serves a function of that kind. */
export type AdapterKind = "http" | "blob" | "servicebus";

/**
 * An adapter a trigger ships itself, for a kind the image does not hold: the module is copied
 * into the image's `adapters/` beside the built-in ones.
 */
export interface TriggerAdapter {
  /**
   * The kind: `aml.json`'s `kind`, and the module `adapters/<kind>_adapter.py` the function's
   * `__init__.py` imports. Lowercase letters, digits and `_`, starting with a letter; not a
   * kind of the image (`http`, `blob`, `servicebus`, `health`).
   */
  readonly kind: string;
  /**
   * Path of the adapter module: a Python file that defines the function's `main` (absolute, or
   * relative to the current working directory). Read at synth; part of the image's fingerprint.
   */
  readonly modulePath: string;
}

/** What a trigger hands back to the deployment after it bound: its function and its needs. */
export interface TriggerBinding extends DeclaredNeeds {
  /** Function name: folder name in the image and name in the portal; unique within the app. */
  readonly functionName: string;
  /** The adapter that serves the function: one of the image, or one the trigger ships. */
  readonly adapter: AdapterKind | TriggerAdapter;
  /** The `bindings` array of the function's `function.json`. */
  readonly bindings: Array<{ [key: string]: unknown }>;
  /**
   * Settings written to `aml.json` beside `function.json`, read by the adapter at run time; its
   * `kind` is the adapter's.
   * @default `{ kind }`
   */
  readonly adapterSettings?: { [key: string]: unknown };
  /**
   * host.json `functionTimeout` ("hh:mm:ss") the function's delivery guarantees rely on; the
   * library's default (`scoring-image/host.json`) applies when no trigger sets it. host.json is
   * one file for the app, so triggers of one deployment must agree.
   */
  readonly functionTimeout?: string;
  /** Settings merged into host.json `extensions.<name>` (e.g. `serviceBus`). */
  readonly hostExtensions?: { [extension: string]: { [key: string]: unknown } };
  /** Path of the scoring URL below the host, for HTTP triggers (e.g. `api/score`). */
  readonly httpPath?: string;
}

/** A trigger of the scoring function: HTTP, Blob, Service Bus, or one of your own. */
export interface ITrigger {
  /** Creates the trigger's resources under `scope` and describes its function. Called once. */
  bind(scope: Construct, target: ITriggerTarget): TriggerBinding;
}
