import { Token } from "cdktf";
import {
  deriveNames,
  NameValidator,
  uniqueSuffix,
  validateApplicationInsightsName,
  validateBlobContainerName,
  validateContainerRegistryName,
  validateDeploymentBaseName,
  validateFunctionAppName,
  validateIdentityName,
  validateLogAnalyticsWorkspaceName,
  validateRegistryTokenName,
  validateResourceGroupName,
  validateServiceBusNamespaceName,
  validateServiceBusQueueName,
  validateServicePlanName,
  validateStorageAccountName,
} from "../lib/naming";

interface Case {
  readonly validator: NameValidator;
  readonly allowedText: string;
  readonly valid: string[];
  readonly invalid: string[];
}

const cases: { [name: string]: Case } = {
  storageAccount: {
    validator: validateStorageAccountName,
    allowedText: "3-24 characters, lowercase letters and digits",
    valid: ["abc", "st1234", "a".repeat(24)],
    invalid: ["ab", "a".repeat(25), "Abc", "st-acc", "st_acc", ""],
  },
  blobContainer: {
    validator: validateBlobContainerName,
    allowedText: "3-63 characters",
    valid: ["input", "out-put", "a1b", "1ab", "a".repeat(63)],
    invalid: ["ab", "a".repeat(64), "-abc", "abc-", "a--b", "Input", "in_put"],
  },
  containerRegistry: {
    validator: validateContainerRegistryName,
    allowedText: "5-50 characters, lowercase letters and digits",
    valid: ["crabc", "cr12345", "a".repeat(50)],
    invalid: ["crab", "a".repeat(51), "crAbcde", "cr-abcde"],
  },
  functionApp: {
    validator: validateFunctionAppName,
    allowedText: "collide on host ids in shared storage",
    valid: ["ab", "func-demo-1234abcd", "Func-A", "a".repeat(32)],
    invalid: ["a", "-abc", "abc-", "a_b", "a".repeat(33), "a".repeat(61)],
  },
  servicePlan: {
    validator: validateServicePlanName,
    allowedText: "1-60 characters",
    valid: ["p", "plan-demo", "plan_demo", "a".repeat(60)],
    invalid: ["", "a".repeat(61), "plan.demo", "plan demo"],
  },
  serviceBusNamespace: {
    validator: validateServiceBusNamespaceName,
    allowedText: "6-50 characters",
    valid: ["sb-demo", "Abcdef", "sb-demo-1234abcd", "a".repeat(50)],
    invalid: ["abcde", "a".repeat(51), "1abcdef", "abcdef-", "demo-sb", "demo-mgmt", "DEMO-SB", "abc_def"],
  },
  serviceBusQueue: {
    validator: validateServiceBusQueueName,
    allowedText: "1-260 characters",
    valid: ["q", "inqueue", "a.b-c_d/e", "a".repeat(260)],
    invalid: ["", "a".repeat(261), ".abc", "abc/", "ab c", "ab#c"],
  },
  identity: {
    validator: validateIdentityName,
    allowedText: "3-128 characters",
    valid: ["id-demo", "ID_demo", "abc", "a".repeat(128)],
    invalid: ["ab", "a".repeat(129), "-abc", "_abc", "ab.c"],
  },
  resourceGroup: {
    validator: validateResourceGroupName,
    allowedText: "1-90 characters",
    valid: ["r", "rg-demo", "rg_(demo).1", "a".repeat(90)],
    invalid: ["", "a".repeat(91), "rg.", "rg demo", "rg/demo"],
  },
  registryToken: {
    validator: validateRegistryTokenName,
    allowedText: "5-50 characters",
    valid: ["demo-push", "abcde", "a".repeat(50)],
    invalid: ["abcd", "a".repeat(51), "demo_push"],
  },
  logAnalytics: {
    validator: validateLogAnalyticsWorkspaceName,
    allowedText: "4-63 characters",
    valid: ["log-demo", "abcd"],
    invalid: ["abc", "-abcd", "abcd-", "ab_cd"],
  },
  appInsights: {
    validator: validateApplicationInsightsName,
    allowedText: "1-260 characters",
    valid: ["appi-demo", "App Insights (x)"],
    invalid: ["", "appi.", "appi/demo", "a".repeat(261)],
  },
  deploymentBase: {
    validator: validateDeploymentBaseName,
    allowedText: "2-20 characters",
    valid: ["ab", "demo", "my-model-2", "a".repeat(20)],
    invalid: ["a", "a".repeat(21), "1demo", "-demo", "demo-", "my--model", "Demo", "my_model", "my.model"],
  },
};

describe.each(Object.entries(cases))("%s name rule", (_label, c) => {
  test.each(c.valid)("accepts %j", (name) => {
    expect(() => c.validator("MyDeployment", "someName", name)).not.toThrow();
  });

  test.each(c.invalid)("rejects %j with a message naming prop, value and rule", (name) => {
    let message = "";
    try {
      c.validator("MyDeployment", "someName", name);
    } catch (e) {
      message = (e as Error).message;
      expect((e as Error).name).toBe("ValidationError");
    }
    expect(message).toContain("MyDeployment");
    expect(message).toContain("someName");
    expect(message).toContain(JSON.stringify(name.length > 190 ? name.slice(0, 150) : name).replace(/"$/, ""));
    expect(message).toContain(c.allowedText);
  });

  test("skips values that are tokens", () => {
    expect(() => c.validator("MyDeployment", "someName", Token.asString({ Ref: "x" }))).not.toThrow();
  });
});

describe("specific messages", () => {
  test("function app over 32 characters explains the host id collision", () => {
    expect(() => validateFunctionAppName("D", "functionAppName", "a".repeat(40))).toThrow(/40 characters long.*collide/);
  });
  test("service bus namespace ending in -sb names the reserved suffix", () => {
    expect(() => validateServiceBusNamespaceName("D", "namespaceName", "orders-sb")).toThrow(/must not end with "-sb" or "-mgmt"/);
  });
  test("characters that are not allowed are listed", () => {
    expect(() => validateStorageAccountName("D", "accountName", "my_acc.x")).toThrow(/contains "_", "\."/);
  });
  test("consecutive hyphens in a base name are named", () => {
    expect(() => validateDeploymentBaseName("D", "name", "a--b")).toThrow(/consecutive hyphens/);
  });
});

describe("uniqueSuffix", () => {
  test("is the first 8 hex characters of sha256(seed)", () => {
    // sha256("abc") = ba7816bf8f01cfea...
    expect(uniqueSuffix("abc")).toBe("ba7816bf");
  });
  test("is deterministic and seed-dependent", () => {
    expect(uniqueSuffix("stack/deployment")).toBe(uniqueSuffix("stack/deployment"));
    expect(uniqueSuffix("stack/deployment")).not.toBe(uniqueSuffix("stack/deployment2"));
    expect(uniqueSuffix("x")).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe("deriveNames", () => {
  test("derives the documented names", () => {
    const n = deriveNames("my-model", "1234abcd");
    expect(n.resourceGroup).toBe("rg-my-model");
    expect(n.functionApp).toBe("func-my-model-1234abcd");
    expect(n.servicePlan).toBe("plan-my-model");
    expect(n.identity).toBe("id-my-model");
    expect(n.appInsights).toBe("appi-my-model");
    expect(n.logAnalytics).toBe("log-my-model");
    expect(n.containerRegistry).toBe("crmymodel1234abcd");
    expect(n.hostStorage).toBe("stmymodel1234abcd");
    expect(n.imageRepository).toBe("aml/my-model");
    expect(n.scopeMap).toBe("my-model-push");
    expect(n.token).toBe("my-model-push");
    expect(n.storageAccount("trg")).toBe("stmymodeltrg1234abcd");
    expect(n.serviceBusNamespace()).toBe("sb-my-model-1234abcd");
  });

  test("truncates long bases to keep the function app within 32 and storage within 24", () => {
    const n = deriveNames("abcdefghijklmnopq-st", "1234abcd");
    expect(n.functionApp).toBe("func-abcdefghijklmnopq-1234abcd");
    expect(n.functionApp.length).toBeLessThanOrEqual(32);
    expect(n.hostStorage).toBe("stabcdefghijklmn1234abcd");
    expect(n.hostStorage).toHaveLength(24);
    expect(n.storageAccount("trg")).toBe("stabcdefghijktrg1234abcd");
  });

  test("is deterministic", () => {
    expect(JSON.stringify(deriveNames("demo", "00ff00ff"))).toBe(JSON.stringify(deriveNames("demo", "00ff00ff")));
  });

  test("rejects an invalid base or suffix", () => {
    expect(() => deriveNames("Demo", "1234abcd")).toThrow(/base "Demo"/);
    expect(() => deriveNames("demo", "xyz")).toThrow(/suffix "xyz".*8 lowercase hexadecimal digits/);
  });

  test("rejects invalid storage roles and role collisions", () => {
    const n = deriveNames("demo", "1234abcd");
    expect(() => n.storageAccount("TRG")).toThrow(/storage account role "TRG".*1-6 lowercase letters or digits/);
    expect(() => n.storageAccount("toolong")).toThrow(/"toolong"/);
    expect(n.storageAccount("trg")).toBe(n.storageAccount("trg"));
    const long = deriveNames("abcdefghijklmtrg", "1234abcd");
    // st + abcdefghijklmt + suffix == st + abcdefghijk + lmt + suffix
    expect(() => long.storageAccount("lmt")).toThrow(/already used by the host storage/);
  });

  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
  function pseudoRandomBase(seed: number): string {
    let x = seed * 2654435761 % 4294967296;
    const next = (): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x;
    };
    const length = 2 + (next() % 19);
    let s = "abcdefghijklmnopqrstuvwxyz"[next() % 26];
    while (s.length < length) {
      const c = alphabet[next() % alphabet.length];
      if (c === "-" && (s.endsWith("-") || s.length === length - 1)) continue;
      s += c;
    }
    return s;
  }

  test("every derived name passes its validator for many bases", () => {
    const bases = ["ab", "a1", "a-b", "a".repeat(20), "a-".repeat(9) + "bc", "z9-z9-z9-z9-z9-z9-z9"];
    for (let i = 0; i < 400; i++) bases.push(pseudoRandomBase(i + 1));
    for (const base of bases) {
      expect(() => validateDeploymentBaseName("T", "name", base)).not.toThrow();
      const suffix = uniqueSuffix(base);
      const n = deriveNames(base, suffix);
      validateResourceGroupName("T", "resourceGroup", n.resourceGroup);
      validateFunctionAppName("T", "functionApp", n.functionApp);
      validateServicePlanName("T", "servicePlan", n.servicePlan);
      validateIdentityName("T", "identity", n.identity);
      validateApplicationInsightsName("T", "appInsights", n.appInsights);
      validateLogAnalyticsWorkspaceName("T", "logAnalytics", n.logAnalytics);
      validateContainerRegistryName("T", "containerRegistry", n.containerRegistry);
      validateStorageAccountName("T", "hostStorage", n.hostStorage);
      validateRegistryTokenName("T", "scopeMap", n.scopeMap);
      validateRegistryTokenName("T", "token", n.token);
      validateStorageAccountName("T", "trg", n.storageAccount("trg"));
      validateStorageAccountName("T", "out", n.storageAccount("out"));
      validateServiceBusNamespaceName("T", "serviceBusNamespace", n.serviceBusNamespace());
      expect(n.imageRepository).toMatch(/^aml\/[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(n.functionApp.endsWith(suffix)).toBe(true);
      expect(n.hostStorage.endsWith(suffix)).toBe(true);
    }
  });
});
