import { invalid } from "../errors";
import { TriggerBinding } from "./trigger";
import { resolveAdapter } from "./trigger-adapter";

/** Deterministic JSON: object keys sorted, two-space indent, trailing newline. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** Name of the health function every app gets (folder `app/health`). */
export const HEALTH_FUNCTION_NAME = "health";
/** Its route below `/api/`. */
export const HEALTH_ROUTE = "health";
/** The app's `health_check_path`: answers 200 once the entry script's `init()` succeeded, else 503. */
export const HEALTH_CHECK_PATH = `/api/${HEALTH_ROUTE}`;
/**
 * Minutes an instance may fail the health check before the platform replaces it (2–10). The
 * maximum: a first `init()` may wait minutes for role assignments or a model download.
 */
export const HEALTH_CHECK_EVICTION_TIME_IN_MIN = 10;

/**
 * The health function: anonymous (the platform's probe sends no key; the answer is only
 * `{"status": ...}`), GET only, served by `adapters/health_adapter.py`.
 */
function healthFunctionFiles(): { [path: string]: string } {
  const dir = `app/${HEALTH_FUNCTION_NAME}`;
  return {
    [`${dir}/function.json`]: stableJson({
      bindings: [
        { type: "httpTrigger", direction: "in", name: "req", authLevel: "anonymous", methods: ["get"], route: HEALTH_ROUTE },
        { type: "http", direction: "out", name: "$return" },
      ],
    }),
    [`${dir}/__init__.py`]: "from adapters.health_adapter import main  # noqa: F401\n",
    [`${dir}/aml.json`]: stableJson({ kind: "health" }),
  };
}

/**
 * The generated part of the image: one folder per function (`function.json`, a one-line
 * `__init__.py` that points at the shared adapter, and `aml.json` with the adapter's settings),
 * the adapters the triggers ship (`adapters/<kind>_adapter.py`), the health function, and
 * `host.json` with the triggers' extension settings merged in.
 */
export function functionDefinitionFiles(owner: string, baseHostJson: Record<string, unknown>, bindings: TriggerBinding[]): { [path: string]: string } {
  const files: { [path: string]: string } = {};
  const seen = new Set<string>([HEALTH_FUNCTION_NAME]);
  // Adapters the triggers ship, by kind: they go into the image's adapters/ beside its own.
  const shipped = new Map<string, { functionName: string; source: string }>();
  for (const b of bindings) {
    // Function names are folder names; the Functions host treats them case-insensitively.
    const key = b.functionName.toLowerCase();
    if (key === HEALTH_FUNCTION_NAME) {
      invalid(owner, "triggers", b.functionName, `the function name "${HEALTH_FUNCTION_NAME}" is reserved for the app's health function`, `any other functionName`);
    }
    if (seen.has(key)) {
      invalid(owner, "triggers", b.functionName, "two triggers use the same function name", "a distinct functionName for each trigger");
    }
    seen.add(key);
    // Routes match case-insensitively and ignore a trailing slash.
    if (b.httpPath !== undefined && b.httpPath.toLowerCase().replace(/\/+$/, "") === `api/${HEALTH_ROUTE}`) {
      invalid(owner, "triggers", b.httpPath, `the route "${HEALTH_ROUTE}" is taken by the app's health function (${HEALTH_CHECK_PATH})`, `any other route, e.g. "score"`);
    }
    const adapter = resolveAdapter(owner, b.functionName, b.adapter);
    const settings = b.adapterSettings ?? { kind: adapter.kind };
    if (settings.kind !== adapter.kind) {
      invalid(owner, "triggers", settings.kind, `the aml.json of function "${b.functionName}" names another kind than its adapter ("${adapter.kind}")`, `kind "${adapter.kind}" in adapterSettings, or no kind there`);
    }
    files[`app/${b.functionName}/function.json`] = stableJson({ bindings: b.bindings });
    files[`app/${b.functionName}/__init__.py`] = `from adapters.${adapter.kind}_adapter import main  # noqa: F401\n`;
    files[`app/${b.functionName}/aml.json`] = stableJson(settings);
    if (adapter.module !== undefined) {
      const dest = `app/adapters/${adapter.kind}_adapter.py`;
      const earlier = shipped.get(adapter.kind);
      if (earlier !== undefined && earlier.source !== adapter.module.source) {
        invalid(owner, "triggers", adapter.module.path, `the triggers of functions "${earlier.functionName}" and "${b.functionName}" ship different modules for the adapter "${adapter.kind}" (${dest} in the image)`, "one module per adapter kind");
      }
      shipped.set(adapter.kind, { functionName: b.functionName, source: adapter.module.source });
      files[dest] = adapter.module.source;
    }
  }
  Object.assign(files, healthFunctionFiles());
  files["app/host.json"] = stableJson(mergeHostExtensions(owner, withFunctionTimeout(owner, baseHostJson, bindings), bindings));
  return files;
}

/** host.json `functionTimeout` from the triggers that set one (they must agree). */
function withFunctionTimeout(owner: string, hostJson: Record<string, unknown>, bindings: TriggerBinding[]): Record<string, unknown> {
  const setting = bindings.filter((b) => b.functionTimeout !== undefined);
  if (setting.length === 0) return hostJson;
  const first = setting[0];
  const other = setting.find((b) => b.functionTimeout !== first.functionTimeout);
  if (other) {
    invalid(owner, "triggers", other.functionTimeout, `host.json functionTimeout is "${first.functionTimeout}" for function "${first.functionName}" and differs for function "${other.functionName}"`, "the same functionTimeout on every trigger of one deployment (host.json is shared by the app)");
  }
  return { ...hostJson, functionTimeout: first.functionTimeout };
}

function mergeHostExtensions(owner: string, base: Record<string, unknown>, bindings: TriggerBinding[]): Record<string, unknown> {
  const extensions: Record<string, Record<string, unknown>> = { ...(base.extensions as Record<string, Record<string, unknown>> | undefined) };
  const setBy: Record<string, string> = {};
  for (const b of bindings) {
    for (const [name, settings] of Object.entries(b.hostExtensions ?? {})) {
      const merged = { ...extensions[name] };
      for (const [k, v] of Object.entries(settings)) {
        const where = `${name}.${k}`;
        // host.json is one file for the whole app: two triggers may not ask for different values.
        if (setBy[where] !== undefined && JSON.stringify(merged[k]) !== JSON.stringify(v)) {
          invalid(owner, "triggers", v, `host.json setting extensions.${where} is ${JSON.stringify(merged[k])} for function "${setBy[where]}" and differs for function "${b.functionName}"`, "the same value on every trigger of one deployment (host.json is shared by the app)");
        }
        merged[k] = v;
        setBy[where] = b.functionName;
      }
      extensions[name] = merged;
    }
  }
  return Object.keys(extensions).length > 0 ? { ...base, extensions } : { ...base };
}
