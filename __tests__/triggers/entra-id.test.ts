import { Construct } from "constructs";
import { AmlFunctionDeployment, BlobTrigger, HttpAuthLevel, HttpTrigger } from "../../lib";
import { message } from "../error-message";
import { fakeTarget } from "../fake-target";
import { newStack, resourcesOf, sampleProps, synthJson } from "../helpers";
import { schemaProblems } from "../schema-check";

const AUDIENCE = "11111111-1111-1111-1111-111111111111";
const TENANT = "33333333-3333-3333-3333-333333333333";
const CALLER_APP = "22222222-2222-2222-2222-222222222222";
const CALLER_IDENTITY = "44444444-4444-4444-4444-444444444444";

const appOf = (json: any): any => Object.values<any>(resourcesOf(json, "azurerm_linux_function_app"))[0];

describe("HttpTrigger entraId: the app validates Entra ID tokens", () => {
  test("auth_settings_v2: token required (401 without), the tenant's v2.0 endpoint, both audience forms, the allowed callers, the health path open", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({
      triggers: [new HttpTrigger({ entraId: { audienceClientId: AUDIENCE, tenantId: TENANT, allowedClientApplicationIds: [CALLER_APP], allowedPrincipalIds: [CALLER_IDENTITY] } })],
    }));
    const json = synthJson(stack);
    expect(appOf(json).auth_settings_v2).toEqual({
      auth_enabled: true,
      require_authentication: true,
      unauthenticated_action: "Return401",
      require_https: true,
      excluded_paths: ["/api/health"],
      login: { token_store_enabled: false },
      active_directory_v2: {
        client_id: AUDIENCE,
        tenant_auth_endpoint: `https://login.microsoftonline.com/${TENANT}/v2.0`,
        allowed_audiences: [`api://${AUDIENCE}`, AUDIENCE],
        allowed_applications: [CALLER_APP],
        allowed_identities: [CALLER_IDENTITY],
      },
    });
    expect(schemaProblems(json)).toEqual([]);
  });

  test("no client secret anywhere: not in the auth settings, not in the app settings", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new HttpTrigger({ entraId: { audienceClientId: AUDIENCE } })] }));
    const app = appOf(synthJson(stack));
    expect(JSON.stringify(app.auth_settings_v2)).not.toMatch(/secret/i);
    // Easy Auth keeps a client secret in an app setting (MICROSOFT_PROVIDER_AUTHENTICATION_SECRET by convention) only when it signs users in.
    expect(Object.keys(app.app_settings).filter((k) => /secret/i.test(k))).toEqual([]);
  });

  test("the default tenant is the deployer's, from one data.azurerm_client_config per stack", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "one", sampleProps({ triggers: [new HttpTrigger({ entraId: { audienceClientId: AUDIENCE } })] }));
    new AmlFunctionDeployment(stack, "two", sampleProps({ triggers: [new HttpTrigger({ entraId: { audienceClientId: AUDIENCE } })] }));
    const json = synthJson(stack);
    const endpoints = Object.values<any>(resourcesOf(json, "azurerm_linux_function_app")).map((a) => a.auth_settings_v2.active_directory_v2.tenant_auth_endpoint);
    expect(endpoints).toEqual([
      "https://login.microsoftonline.com/${data.azurerm_client_config.aml-client-config.tenant_id}/v2.0",
      "https://login.microsoftonline.com/${data.azurerm_client_config.aml-client-config.tenant_id}/v2.0",
    ]);
    expect(Object.keys(json.data.azurerm_client_config)).toContain("aml-client-config");
  });

  test("the HTTP function is anonymous behind it (a caller must not need a key and a token), without the anonymous warning", () => {
    const trigger = new HttpTrigger({ entraId: { audienceClientId: AUDIENCE } });
    expect(trigger.authLevel).toBe(HttpAuthLevel.ANONYMOUS);
    const stack = newStack();
    const binding = trigger.bind(new Construct(stack, "t"), fakeTarget);
    expect(binding.bindings[0]).toMatchObject({ type: "httpTrigger", authLevel: "anonymous" });
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === "@cdktf/warn");
    expect(warnings).toEqual([]);
    // Anonymous given explicitly is the same.
    expect(new HttpTrigger({ entraId: { audienceClientId: AUDIENCE }, authLevel: "anonymous" }).authLevel).toBe(HttpAuthLevel.ANONYMOUS);
  });

  test("without entraId nothing changes: no auth_settings_v2, function key", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps());
    expect(appOf(synthJson(stack)).auth_settings_v2).toBeUndefined();
    expect(new HttpTrigger().authLevel).toBe(HttpAuthLevel.FUNCTION);
  });

  test("other triggers beside it are fine (authentication covers HTTP only)", () => {
    const stack = newStack();
    new AmlFunctionDeployment(stack, "churn", sampleProps({ triggers: [new HttpTrigger({ entraId: { audienceClientId: AUDIENCE } }), new BlobTrigger()] }));
    expect(appOf(synthJson(stack)).auth_settings_v2.require_authentication).toBe(true);
  });
});

describe("HttpTrigger entraId: refused at synth", () => {
  test("together with a key authLevel", () => {
    for (const level of [HttpAuthLevel.FUNCTION, "admin" as const]) {
      expect(message(() => new HttpTrigger({ entraId: { audienceClientId: AUDIENCE }, authLevel: level }))).toBe(
        `HttpTrigger: invalid authLevel "${level.toString()}": with entraId the Entra ID token authenticates the caller; a key level would make callers send a key as well. Allowed: HttpAuthLevel.ANONYMOUS or no authLevel with entraId`,
      );
    }
  });

  test("ids that are not GUIDs, empty caller lists, unknown options", () => {
    expect(message(() => new HttpTrigger({ entraId: { audienceClientId: "api://scoring" } }))).toBe(
      'HttpTrigger: invalid entraId.audienceClientId "api://scoring": not a GUID. Allowed: a GUID such as 00000000-0000-0000-0000-000000000000, or a reference such as an azuread resource\'s attribute',
    );
    expect(message(() => new HttpTrigger({ entraId: { audienceClientId: AUDIENCE, tenantId: "contoso" } }))).toContain('invalid entraId.tenantId "contoso": not a GUID');
    expect(message(() => new HttpTrigger({ entraId: { audienceClientId: AUDIENCE, allowedPrincipalIds: [CALLER_IDENTITY, "x"] } }))).toContain('invalid entraId.allowedPrincipalIds[1] "x": not a GUID');
    expect(message(() => new HttpTrigger({ entraId: { audienceClientId: AUDIENCE, allowedClientApplicationIds: [] } }))).toContain("invalid entraId.allowedClientApplicationIds []: an empty list would not narrow who may call");
    expect(message(() => new HttpTrigger({ entraId: { audienceClientId: AUDIENCE, clientSecret: "s" } as never }))).toContain('invalid entraId.clientSecret "s": not an entraId option');
  });

  test("two HTTP triggers with entraId, or one with and one without: the setting is the whole app's", () => {
    const two = () => new AmlFunctionDeployment(newStack(), "churn", sampleProps({
      triggers: [new HttpTrigger({ entraId: { audienceClientId: AUDIENCE } }), new HttpTrigger({ functionName: "other", route: "other", entraId: { audienceClientId: AUDIENCE } })],
    }));
    expect(message(two)).toBe(
      'AmlFunctionDeployment "churn": invalid triggers ["score","other"]: more than one trigger sets the app\'s authentication (entraId), which is one setting of the whole app. Allowed: entraId on one HTTP trigger',
    );
    const mixed = () => new AmlFunctionDeployment(newStack(), "churn", sampleProps({
      triggers: [new HttpTrigger({ entraId: { audienceClientId: AUDIENCE } }), new HttpTrigger({ functionName: "keyed", route: "keyed" })],
    }));
    expect(message(mixed)).toContain('invalid triggers "keyed": the HTTP trigger "score" has entraId, which applies to the whole app');
  });
});
