import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseCatalog } from "#lib/licensing/catalog.ts";
import { catalogJsonSchema } from "#lib/licensing/catalog-schema.ts";

const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(repoFile(path), "utf8"));

const committed = readJson("local/catalog.schema.json");
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(committed);

/** The local catalog with its first edition's prices replaced. */
function withPrices(prices: unknown[]): Record<string, unknown> {
  const json = structuredClone(readJson("local/catalog.json")) as {
    connectors: { editions: { prices: unknown[] }[] }[];
  };
  const edition = json.connectors[0]?.editions[0];
  if (!edition) throw new Error("local/catalog.json changed shape");
  edition.prices = prices;
  return json as unknown as Record<string, unknown>;
}

describe("local/catalog.schema.json", () => {
  it("is what the zod schema generates (npm run build:catalog-schema writes it)", () => {
    expect(committed).toEqual(catalogJsonSchema());
  });

  it("is the schema local/catalog.json names, and the local catalog validates against it", () => {
    const local = readJson("local/catalog.json");
    expect(local.$schema).toBe("./catalog.schema.json");
    expect(validate(local), JSON.stringify(validate.errors)).toBe(true);
  });

  it("describes the fields, for editors", () => {
    const text = JSON.stringify(committed);
    expect(text).toContain("in the currency's minor unit (cents for usd)");
    expect(text).toContain("The connector's _connectorId in integrator.io.");
  });

  it.each([
    { name: "a string price", prices: ["price_x_month", "x_yearly"], valid: true },
    {
      name: "a price object with its terms",
      prices: [{ lookupKey: "x_yearly", amount: 1000, currency: "eur", interval: "year" }],
      valid: true,
    },
    { name: "a price object with only its lookup key", prices: [{ lookupKey: "x_yearly" }], valid: true },
    {
      name: "an amount without currency and interval",
      prices: [{ lookupKey: "x", amount: 1000 }],
      valid: false,
    },
    {
      name: "a lookup key that reads as a price id",
      prices: [{ lookupKey: "price_x", amount: 1, currency: "usd", interval: "month" }],
      valid: false,
    },
    {
      name: "a weekly interval",
      prices: [{ lookupKey: "x", amount: 1, currency: "usd", interval: "week" }],
      valid: false,
    },
    {
      name: "an upper-case currency",
      prices: [{ lookupKey: "x", amount: 1, currency: "USD", interval: "month" }],
      valid: false,
    },
    { name: "an unknown field", prices: [{ lookupKey: "x", price: 10 }], valid: false },
  ])("JSON Schema and parseCatalog agree on $name", ({ prices, valid }) => {
    const json = withPrices(prices);
    expect(validate(json)).toBe(valid);
    if (valid) expect(() => parseCatalog(json)).not.toThrow();
    else expect(() => parseCatalog(json)).toThrow();
  });
});
