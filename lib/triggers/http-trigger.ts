import { Construct } from "constructs";
import { Annotations } from "cdktf";
import { checkPropsObject, invalid } from "../errors";
import { ITrigger, ITriggerTarget, TriggerBinding } from "./trigger";
import { validateFunctionName } from "./function-name";
import { EntraIdOptions, entraIdAuthSettings, validateEntraIdOptions } from "./entra-id";
import { HEALTH_CHECK_PATH } from "./function-definitions";
import { coerce, memberNamed } from "../validation/enum-like";

/** Who may call the HTTP scoring function (the Functions `authLevel`). */
export class HttpAuthLevel {
  /** No key needed. Put the app behind your own gateway or Easy Auth if you choose this. */
  public static readonly ANONYMOUS = new HttpAuthLevel("anonymous");
  /** A function or host key in `x-functions-key` or `?code=` (the retired AML feature's default). */
  public static readonly FUNCTION = new HttpAuthLevel("function");
  /** The host's master key only. */
  public static readonly ADMIN = new HttpAuthLevel("admin");

  /** Looks a level up by its function.json name ("anonymous", "function", "admin", any case). */
  public static of(value: string): HttpAuthLevel {
    return memberNamed("HttpTrigger", "authLevel", value, [HttpAuthLevel.ANONYMOUS, HttpAuthLevel.FUNCTION, HttpAuthLevel.ADMIN], (l) => l.value, "not an HTTP auth level", "HttpAuthLevel.ANONYMOUS, HttpAuthLevel.FUNCTION, HttpAuthLevel.ADMIN (\"anonymous\", \"function\", \"admin\")");
  }

  private constructor(public readonly value: "anonymous" | "function" | "admin") {}

  public toString(): string {
    return this.value;
  }
}

/** Props of {@link HttpTrigger}. */
export interface HttpTriggerProps {
  /**
   * Who may call the endpoint.
   * @default HttpAuthLevel.FUNCTION; HttpAuthLevel.ANONYMOUS with `entraId` (the token is the
   * credential: a caller must not need a key as well)
   */
  readonly authLevel?: HttpAuthLevel | "anonymous" | "function" | "admin";
  /**
   * Callers authenticate with an Entra ID bearer token instead of a function key: the app's
   * authentication (`auth_settings_v2`) answers 401 to a request without a valid token for
   * `audienceClientId` before the function runs. It applies to the whole app, so it is refused
   * together with another HTTP trigger without it, and with a key `authLevel`.
   * @default no Entra ID authentication (function keys)
   */
  readonly entraId?: EntraIdOptions;
  /**
   * Route below `/api/`: the scoring URL is `https://<host>/api/<route>`.
   * @default "score" (the path Azure ML online endpoints use)
   */
  readonly route?: string;
  /**
   * Name of the function in the app.
   * @default "score"
   */
  readonly functionName?: string;
}

const ROUTE = /^[A-Za-z0-9][A-Za-z0-9_\-./]*$/;

/**
 * Scores the body of each HTTPS POST request with the entry script's `run()` and answers with
 * its JSON result, as the Azure ML inference server does.
 */
export class HttpTrigger implements ITrigger {
  public readonly authLevel: HttpAuthLevel;
  public readonly route: string;
  public readonly functionName: string;
  /** The Entra ID authentication of callers, if any. */
  public readonly entraId?: EntraIdOptions;

  constructor(props: HttpTriggerProps = {}) {
    const owner = "HttpTrigger";
    checkPropsObject(owner, props, "not an object", "HttpTriggerProps ({ route?, authLevel?, ... }), or nothing for the defaults");
    if (props.entraId !== undefined) this.entraId = validateEntraIdOptions(owner, props.entraId);
    const defaultLevel = this.entraId === undefined ? HttpAuthLevel.FUNCTION : HttpAuthLevel.ANONYMOUS;
    this.authLevel = coerce(owner, "authLevel", props.authLevel, HttpAuthLevel, defaultLevel, { problem: "not an HttpAuthLevel", allowed: "HttpAuthLevel.ANONYMOUS, HttpAuthLevel.FUNCTION, HttpAuthLevel.ADMIN" });
    if (this.entraId !== undefined && this.authLevel !== HttpAuthLevel.ANONYMOUS) {
      invalid(owner, "authLevel", this.authLevel.value, "with entraId the Entra ID token authenticates the caller; a key level would make callers send a key as well", "HttpAuthLevel.ANONYMOUS or no authLevel with entraId");
    }
    this.route = props.route ?? "score";
    if (!ROUTE.test(this.route) || this.route.length > 200 || /(^|\/)admin(\/|$)/i.test(this.route) || this.route.includes("//")) {
      invalid(owner, "route", this.route, "not a usable route", "letters, digits, '-', '_', '.', '/' (no leading '/', no '//', at most 200 characters, not the reserved 'admin' segment)");
    }
    this.functionName = props.functionName ?? "score";
    validateFunctionName(owner, "functionName", this.functionName);
  }

  public bind(scope: Construct, target: ITriggerTarget): TriggerBinding {
    if (this.authLevel === HttpAuthLevel.ANONYMOUS && this.entraId === undefined) {
      // Allowed (a gateway in front may authenticate), but what a scanner flags: say it at synth.
      Annotations.of(scope).addWarning(
        `AmlFunctionDeployment "${target.deploymentId}": HttpTrigger "${this.functionName}" is anonymous: anyone who can reach the function app can call /api/${this.route} ` +
          "(no function key, and the app has no Entra ID authentication of its own). Keep it only behind a gateway that authenticates, or use HttpAuthLevel.FUNCTION (the default).",
      );
    }
    return {
      functionName: this.functionName,
      adapter: "http",
      bindings: [
        { type: "httpTrigger", direction: "in", name: "req", authLevel: this.authLevel.value, methods: ["post"], route: this.route },
        { type: "http", direction: "out", name: "$return" },
      ],
      adapterSettings: { kind: "http" },
      httpPath: `api/${this.route}`,
      // The platform's health check pings without a token.
      authSettingsV2: this.entraId === undefined ? undefined : entraIdAuthSettings(scope, this.entraId, [HEALTH_CHECK_PATH]),
    };
  }
}
