/**
 * The Python adapter that serves a trigger's function: one of the image's own
 * (`scoring-image/adapters/<kind>_adapter.py`, the kinds of aml_host/contract.json), or a module
 * the trigger ships, which the image gets beside them. Either way the function's `__init__.py`
 * imports `adapters.<kind>_adapter` and its `aml.json` names the kind. The library's own triggers
 * keep the adapters they ship in `scoring-image/trigger-adapters/` (packaged with the library,
 * copied only into the images of deployments that have such a trigger).
 */
import * as fs from "fs";
import * as path from "path";
import { invalid } from "../errors";
import { hostContract } from "../host-contract";
import { scoringImageDir } from "../image/scoring-image-dir";
import type { AdapterKind, TriggerAdapter } from "./trigger";

/** A kind is part of a Python module name: `<kind>_adapter`. */
const KIND = /^[a-z][a-z0-9_]{0,62}$/;
const KIND_ALLOWED = "1-63 lowercase letters, digits and '_', starting with a letter (the module is adapters/<kind>_adapter.py)";

/** An adapter, resolved at synth. */
export interface ResolvedAdapter {
  readonly kind: string;
  /** The module the trigger ships: its path (for messages) and its source. Absent for the image's own. */
  readonly module?: { readonly path: string; readonly source: string };
}

/** Where the library keeps the adapter of `kind` that one of its triggers ships. */
export function triggerAdapterPath(kind: string): string {
  return path.join(scoringImageDir(), "trigger-adapters", `${kind}_adapter.py`);
}

/** The kinds whose adapters the image holds. */
export function imageAdapterKinds(): string[] {
  const contract = hostContract();
  return [...contract.triggerAdapterKinds, contract.healthAdapterKind];
}

/** Checks the adapter of the function `functionName` and reads the module it ships, if any. */
export function resolveAdapter(owner: string, functionName: string, adapter: AdapterKind | TriggerAdapter): ResolvedAdapter {
  const own = imageAdapterKinds();
  const where = `the adapter of function "${functionName}"`;
  if (typeof adapter === "string") {
    if (!hostContract().triggerAdapterKinds.includes(adapter)) {
      invalid(owner, "triggers", adapter, `${where} is not one the image holds`, `${hostContract().triggerAdapterKinds.join(", ")}, or { kind, modulePath } for an adapter the trigger ships`);
    }
    return { kind: adapter };
  }
  if (adapter === null || typeof adapter !== "object") invalid(owner, "triggers", adapter, `${where} is neither a kind nor { kind, modulePath }`, "an AdapterKind, or { kind, modulePath }");
  const { kind, modulePath } = adapter;
  if (typeof kind !== "string" || !KIND.test(kind)) invalid(owner, "triggers", kind, `${where} has a kind that cannot name its module`, KIND_ALLOWED);
  if (own.includes(kind)) {
    invalid(owner, "triggers", kind, `${where} ships a module for "${kind}", a kind whose adapter the image holds`, `another kind than ${own.join(", ")}`);
  }
  const allowed = "the path of a readable Python file (.py) that defines the function's main";
  if (typeof modulePath !== "string" || !modulePath.endsWith(".py")) invalid(owner, "triggers", modulePath, `${where} ("${kind}") has no Python module path`, allowed);
  const absolute = path.resolve(process.cwd(), modulePath);
  let source: string | undefined;
  let problem: string;
  try {
    source = fs.statSync(absolute).isFile() ? fs.readFileSync(absolute, "utf8") : undefined;
    problem = `${absolute} is not a file`;
  } catch (e) {
    problem = `cannot read ${absolute} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (source === undefined) invalid(owner, "triggers", modulePath, `${where} ("${kind}"): ${problem}`, allowed);
  return { kind, module: { path: absolute, source } };
}
