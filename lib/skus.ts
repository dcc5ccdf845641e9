/** App Service plan and container registry SKUs this library supports. */
import { invalid } from "./errors";
import { memberNamed, NotAnInstance } from "./validation/enum-like";

/**
 * App Service plan SKU for the function app. Custom Linux containers run on Elastic Premium
 * (EP1-EP3) and Dedicated plans; this library offers the Premium v3 Dedicated sizes.
 */
export class PlanSku {
  /** Elastic Premium, 1 core / 3.5 GB (the default). */
  public static readonly EP1 = new PlanSku("EP1", true, "Elastic Premium, 1 core, 3.5 GB");
  /** Elastic Premium, 2 cores / 7 GB. */
  public static readonly EP2 = new PlanSku("EP2", true, "Elastic Premium, 2 cores, 7 GB");
  /** Elastic Premium, 4 cores / 14 GB. */
  public static readonly EP3 = new PlanSku("EP3", true, "Elastic Premium, 4 cores, 14 GB");
  /** Dedicated Premium v3, 1 core / 4 GB. */
  public static readonly P0V3 = new PlanSku("P0v3", false, "Dedicated Premium v3, 1 core, 4 GB");
  /** Dedicated Premium v3, 2 cores / 8 GB. */
  public static readonly P1V3 = new PlanSku("P1v3", false, "Dedicated Premium v3, 2 cores, 8 GB");
  /** Dedicated Premium v3, 4 cores / 16 GB. */
  public static readonly P2V3 = new PlanSku("P2v3", false, "Dedicated Premium v3, 4 cores, 16 GB");
  /** Dedicated Premium v3, 8 cores / 32 GB. */
  public static readonly P3V3 = new PlanSku("P3v3", false, "Dedicated Premium v3, 8 cores, 32 GB");
  /** The SKU used when none is given. */
  public static readonly DEFAULT = PlanSku.EP1;

  public static all(): PlanSku[] {
    return [PlanSku.EP1, PlanSku.EP2, PlanSku.EP3, PlanSku.P0V3, PlanSku.P1V3, PlanSku.P2V3, PlanSku.P3V3];
  }

  /** Looks up a SKU by name, case-insensitively ("ep1", "P1V3"). */
  public static of(name: string, owner = "PlanSku"): PlanSku {
    const key = typeof name === "string" ? name.trim().toLowerCase() : "";
    if (key === "y1" || key === "fc1") {
      const allowed = PlanSku.all().map((s) => s.name).join(", ");
      invalid(owner, "planSku", name, `${key === "y1" ? "Consumption (Y1)" : "Flex Consumption (FC1)"} plans cannot run custom containers`, `Elastic Premium or Dedicated SKUs: ${allowed}`);
    }
    return memberNamed(owner, "planSku", name, PlanSku.all(), (s) => s.name, "not a supported plan SKU");
  }

  private constructor(
    /** SKU name as azurerm expects it (`sku_name`). */
    public readonly name: string,
    /** True for Elastic Premium (EP*) plans, false for Dedicated plans. */
    public readonly isElasticPremium: boolean,
    /** Short human description. */
    public readonly description: string,
  ) {}

  public toString(): string {
    return this.name;
  }
}

/** Azure Container Registry SKU. */
export class RegistrySku {
  public static readonly BASIC = new RegistrySku("Basic");
  /** The default. */
  public static readonly STANDARD = new RegistrySku("Standard");
  public static readonly PREMIUM = new RegistrySku("Premium");
  /** The SKU used when none is given. */
  public static readonly DEFAULT = RegistrySku.STANDARD;

  public static all(): RegistrySku[] {
    return [RegistrySku.BASIC, RegistrySku.STANDARD, RegistrySku.PREMIUM];
  }

  /** Looks up a SKU by name, case-insensitively ("standard"). */
  public static of(name: string, owner = "RegistrySku"): RegistrySku {
    return memberNamed(owner, "registrySku", name, RegistrySku.all(), (s) => s.name, "not a container registry SKU");
  }

  /** SKU name as azurerm expects it ("Basic", "Standard", "Premium"). */
  private constructor(public readonly name: string) {}

  public toString(): string {
    return this.name;
  }
}

/** How a `planSku` prop refuses a value that is neither a PlanSku nor a SKU name. */
export const NOT_A_PLAN_SKU: NotAnInstance = { problem: "not a PlanSku", allowed: PlanSku.all().join(", ") };

/** How a `registrySku` prop refuses a value that is neither a RegistrySku nor a SKU name. */
export const NOT_A_REGISTRY_SKU: NotAnInstance = { problem: "not a RegistrySku", allowed: RegistrySku.all().join(", ") };
