/**
 * The names this library shares with the scoring image's host code, read from
 * `scoring-image/aml_host/contract.json`: the Python side reads the same file in the image, so
 * the two cannot drift apart unnoticed (the file's `$comment` says what each part means).
 */
import * as fs from "fs";
import * as path from "path";
import { scoringImageDir } from "./image/scoring-image-dir";

/** Who sets an app setting the host reads. */
export type HostSettingSource = "deployment" | "image" | "user" | "host";

/** One app setting the host reads. */
export interface HostAppSetting {
  readonly setBy: readonly HostSettingSource[];
  /** The value the image's Dockerfile gives it, for settings the image sets. */
  readonly imageValue?: string;
  readonly meaning: string;
}

/** The content of contract.json. */
export interface HostContract {
  /** `kind` of a trigger function's aml.json (each served by `adapters/<kind>_adapter.py`). */
  readonly triggerAdapterKinds: readonly string[];
  /** `kind` of the health function's aml.json. */
  readonly healthAdapterKind: string;
  /** `kind` of the AML_MODEL_SOURCE JSON, with the fields each kind carries. */
  readonly modelSources: { readonly [kind: string]: readonly string[] };
  /** Every app setting the host reads, by name. */
  readonly appSettings: { readonly [name: string]: HostAppSetting };
}

/** Where the contract is: inside aml_host/, which the image build copies as a whole. */
export function hostContractPath(): string {
  return path.join(scoringImageDir(), "aml_host", "contract.json");
}

let contract: HostContract | undefined;

/** The contract, read once. */
export function hostContract(): HostContract {
  if (contract === undefined) contract = JSON.parse(fs.readFileSync(hostContractPath(), "utf8")) as HostContract;
  return contract;
}

/**
 * `name`, once the contract declares it as an app setting the host reads: a name this library
 * writes but the host would never read fails when the library loads, not in Azure.
 */
export function hostSetting(name: string): string {
  if (!Object.prototype.hasOwnProperty.call(hostContract().appSettings, name)) {
    throw new Error(`${name} is not an app setting of ${hostContractPath()}: the scoring image's host does not read it`);
  }
  return name;
}
