import { Token } from "cdktf";
import { AZURE_PUBLIC_REGIONS, closestRegions, normalizeLocation } from "../lib/azure-regions";

describe("normalizeLocation", () => {
  test.each([
    ["westeurope", "westeurope"],
    ["West Europe", "westeurope"],
    ["WEST EUROPE", "westeurope"],
    ["  west   europe ", "westeurope"],
    ["WestEurope", "westeurope"],
    ["East US 2", "eastus2"],
    ["eastus2", "eastus2"],
    ["UK South", "uksouth"],
    ["Southeast Asia", "southeastasia"],
    ["New Zealand North", "newzealandnorth"],
    ["swedencentral", "swedencentral"],
  ])("%j -> %j", (given, expected) => {
    expect(normalizeLocation("D", "location", given)).toBe(expected);
  });

  test("every listed region is accepted in both forms", () => {
    for (const [name, display] of Object.entries(AZURE_PUBLIC_REGIONS)) {
      expect(normalizeLocation("D", "location", name)).toBe(name);
      expect(normalizeLocation("D", "location", display)).toBe(name);
      expect(name).toMatch(/^[a-z0-9]+$/);
    }
    expect(Object.keys(AZURE_PUBLIC_REGIONS).length).toBeGreaterThanOrEqual(50);
  });

  test("tokens pass through unchanged", () => {
    const token = Token.asString({ Ref: "loc" });
    expect(normalizeLocation("D", "location", token)).toBe(token);
  });

  test("an unknown region names the prop, the value, close matches and the allowed list", () => {
    expect(() => normalizeLocation("MyDeployment", "location", "westeurop")).toThrow(
      /^MyDeployment: invalid location "westeurop": not a public Azure region; closest matches: westeurope, .*Allowed: .*public Azure regions/,
    );
  });

  test("a misspelt display name suggests the right region", () => {
    expect(() => normalizeLocation("D", "location", "Noth Europe")).toThrow(/closest matches: northeurope/);
  });

  test("hyphenated and sovereign names are rejected", () => {
    expect(() => normalizeLocation("D", "location", "west-europe")).toThrow(/"west-europe".*westeurope/);
    expect(() => normalizeLocation("D", "location", "usgovvirginia")).toThrow(/not a public Azure region/);
    expect(() => normalizeLocation("D", "location", "")).toThrow(/invalid location ""/);
  });
});

describe("closestRegions", () => {
  test("prefers shared prefixes", () => {
    expect(closestRegions("australia")).toEqual(expect.arrayContaining(["australiaeast"]));
    expect(closestRegions("australia").every((r) => r.startsWith("australia"))).toBe(true);
  });
  test("falls back to edit distance", () => {
    expect(closestRegions("estus")[0]).toBe("eastus");
  });
});
