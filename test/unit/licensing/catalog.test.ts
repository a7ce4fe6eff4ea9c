import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CatalogError,
  catalogPriceRefs,
  connectorById,
  connectorByKey,
  isPriceIdRef,
  lookupPrice,
  lookupPriceRef,
  parseCatalog,
} from "#lib/licensing/catalog.ts";
import { loadCatalogFile } from "#lib/licensing/catalog-file.ts";
import { catalog, catalogJson } from "./test-catalog.ts";

const repoFile = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

interface Draft {
  json: Record<string, unknown> & { policy: Record<string, unknown> };
  /** connectors[0] and [1] */
  shopify: Record<string, unknown>;
  amazon: Record<string, unknown>;
  /** shopify's editions[0] and [1], addons[0] */
  standard: { key: string; prices: string[] };
  premium: { key: string; prices: string[] };
  store: Record<string, unknown>;
}

/** The test catalog JSON with one change applied (a deep copy; the original stays intact). */
function variant(change: (draft: Draft) => void): unknown {
  const json = structuredClone(catalogJson);
  const [shopify, amazon] = json.connectors;
  const [standard, premium] = shopify?.editions ?? [];
  const store = shopify?.addons?.[0];
  if (!shopify || !amazon || !standard || !premium || !store)
    throw new Error("the test catalog changed shape");
  change({ json: json as Draft["json"], shopify, amazon, standard, premium, store });
  return json;
}

function issuesOf(json: unknown): string[] {
  try {
    parseCatalog(json);
  } catch (error) {
    if (error instanceof CatalogError) return error.issues;
    throw error;
  }
  throw new Error("expected the catalog to be rejected");
}

describe("local/catalog.json", () => {
  it("loads and validates", async () => {
    const local = await loadCatalogFile(repoFile("local/catalog.json"));
    const connector = connectorByKey(local, "shopify-netsuite");
    expect(connector?.connectorId).toMatch(/^[0-9a-f]{24}$/);
    expect(connector?.editions.map((edition) => edition.key)).toEqual(["standard", "premium"]);
    expect(local.policy).toEqual({ renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" });
    expect(lookupPrice(local, { id: "price_1TESTyearly", lookup_key: "prem_yearly" })).toMatchObject({
      kind: "edition",
      edition: { key: "premium" },
    });
  });

  it("has a seed amount for every price reference", async () => {
    const local = await loadCatalogFile(repoFile("local/catalog.json"));
    const { readFile } = await import("node:fs/promises");
    const seed = JSON.parse(await readFile(repoFile("local/stripe-seed.json"), "utf8")) as {
      prices: Record<string, { unit_amount: number; currency: string; interval: string }>;
    };
    expect(Object.keys(seed.prices).sort()).toEqual(
      catalogPriceRefs(local)
        .map((match) => match.ref)
        .sort(),
    );
    for (const price of Object.values(seed.prices)) {
      expect(price.unit_amount).toBeGreaterThan(0);
      expect(price.currency).toBe("usd");
      expect(["month", "year"]).toContain(price.interval);
    }
  });
});

describe("loadCatalogFile", () => {
  it("names the path of a missing file", async () => {
    await expect(loadCatalogFile("/nonexistent/catalog.json")).rejects.toThrow(
      /Cannot read catalog file \/nonexistent\/catalog\.json: ENOENT/,
    );
  });

  it("names the path of a file that is not JSON", async () => {
    await expect(loadCatalogFile(repoFile("test/unit/licensing/test-catalog.ts"))).rejects.toThrow(
      /test-catalog\.ts is not valid JSON/,
    );
  });
});

describe("parseCatalog", () => {
  it("accepts the test catalog and defaults addons to []", () => {
    expect(catalog.connectors).toHaveLength(2);
    expect(connectorByKey(catalog, "amazon-netsuite")?.addons).toEqual([]);
  });

  it("gives an add-on maxQuantity 100 unless the catalog says otherwise", () => {
    expect(connectorByKey(catalog, "shopify-netsuite")?.addons.map((addon) => addon.maxQuantity)).toEqual([
      100, 100, 100,
    ]);
    const capped = parseCatalog(
      variant((d) => {
        d.store.maxQuantity = 5;
      }),
    );
    expect(connectorByKey(capped, "shopify-netsuite")?.addons[0]?.maxQuantity).toBe(5);
  });

  it.each([
    {
      name: "an edition key that is not a slug",
      json: variant((d) => {
        d.premium.key = "Premium Plan";
      }),
      issue: "connectors[0].editions[1].key: must be lowercase letters, digits and single dashes",
    },
    {
      name: "a duplicate connector key",
      json: variant((d) => {
        d.amazon.key = "shopify-netsuite";
      }),
      issue: "connectors[1].key: duplicate key (also connectors[0])",
    },
    {
      name: "a duplicate connector id",
      json: variant((d) => {
        d.amazon.connectorId = d.shopify.connectorId;
      }),
      issue: "connectors[1].connectorId: duplicate connectorId (also connectors[0])",
    },
    {
      name: "a connector id that is not an integrator.io id",
      json: variant((d) => {
        d.shopify.connectorId = "shopify";
      }),
      issue: "connectors[0].connectorId: must be an integrator.io _connectorId (24 lowercase hex characters)",
    },
    {
      name: "a duplicate edition key",
      json: variant((d) => {
        d.premium.key = "standard";
      }),
      issue: "connectors[0].editions[1].key: duplicate key (also editions[0])",
    },
    {
      name: "a price used by an edition and an add-on",
      json: variant((d) => {
        d.store.prices = ["price_std_month"];
      }),
      issue:
        'connectors[0].addons[0].prices[0]: price "price_std_month" is already used at connectors[0].editions[0].prices[0]',
    },
    {
      name: "a lookup key used by two connectors",
      json: variant((d) => {
        (d.amazon.editions as { prices: string[] }[])[0]?.prices.push("std_yearly");
      }),
      issue:
        'connectors[1].editions[0].prices[1]: price "std_yearly" is already used at connectors[0].editions[0].prices[1]',
    },
    {
      name: "a price reference with a space",
      json: variant((d) => {
        d.standard.prices[1] = "std yearly";
      }),
      issue:
        "connectors[0].editions[0].prices[1]: must be a Stripe price id (price_...) or a lookup key, without spaces",
    },
    {
      name: "an edition without prices",
      json: variant((d) => {
        d.standard.prices = [];
      }),
      issue: "connectors[0].editions[0].prices: must list at least one price",
    },
    {
      name: "a connector without editions",
      json: variant((d) => {
        d.amazon.editions = [];
      }),
      issue: "connectors[1].editions: must list at least one edition",
    },
    {
      name: "an add-on without addOnEdition",
      json: variant((d) => {
        delete d.store.addOnEdition;
      }),
      issue: "connectors[0].addons[0].addOnEdition: is required",
    },
    {
      name: "a misspelled field",
      json: variant((d) => {
        d.shopify.trialdays = 14;
      }),
      issue: "connectors[0]: unknown field(s) trialdays",
    },
    {
      name: "negative trial days",
      json: variant((d) => {
        d.shopify.trialDays = -1;
      }),
      issue: "connectors[0].trialDays: must not be negative",
    },
    {
      name: "fractional grace days",
      json: variant((d) => {
        d.json.policy.pastDueGraceDays = 1.5;
      }),
      issue: "policy.pastDueGraceDays: must be a whole number of days",
    },
    {
      name: "an unknown onEnd",
      json: variant((d) => {
        d.json.policy.onEnd = "archive";
      }),
      issue: 'policy.onEnd: must be one of "expire", "delete"',
    },
    {
      name: "a missing policy",
      json: variant((d) => {
        delete (d.json as { policy?: unknown }).policy;
      }),
      issue: "policy: is required",
    },
    ...[
      [0, "must be at least 1"],
      [2.5, "must be a whole number"],
      [1001, "must be at most 1000"],
      ["10", "must be a number"],
    ].map(([maxQuantity, message]) => ({
      name: `an add-on maxQuantity of ${JSON.stringify(maxQuantity)}`,
      json: variant((d) => {
        d.store.maxQuantity = maxQuantity;
      }),
      issue: `connectors[0].addons[0].maxQuantity: ${message}`,
    })),
    { name: "not an object", json: [], issue: "catalog: must be an object" },
  ])("rejects $name, naming the field", ({ json, issue }) => {
    expect(issuesOf(json).join("\n")).toContain(issue);
  });

  it("reports every problem at once in one CatalogError", () => {
    const json = variant((d) => {
      d.premium.key = "Premium";
      d.json.policy.onEnd = "archive";
    });
    const error = (() => {
      try {
        parseCatalog(json);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(CatalogError);
    expect((error as CatalogError).name).toBe("CatalogError");
    expect((error as CatalogError).issues).toHaveLength(2);
    expect((error as CatalogError).message).toMatch(
      /^Invalid catalog: connectors\[0\]\.editions\[1\]\.key: .*; policy\.onEnd: /,
    );
  });
});

describe("catalog lookups", () => {
  it.each([
    { price: { id: "price_std_month", lookup_key: null }, expected: { kind: "edition", key: "standard" } },
    {
      price: { id: "price_1QyearlyXyz", lookup_key: "std_yearly" },
      expected: { kind: "edition", key: "standard" },
    },
    { price: { id: "price_prem_month" }, expected: { kind: "edition", key: "premium" } },
    {
      price: { id: "price_store_month", lookup_key: "something_else" },
      expected: { kind: "addon", key: "store" },
    },
    {
      price: { id: "price_1Qsub", lookup_key: "subsidiary_monthly" },
      expected: { kind: "addon", key: "subsidiary" },
    },
    // An id match wins over a lookup-key match.
    {
      price: { id: "price_prem_month", lookup_key: "std_yearly" },
      expected: { kind: "edition", key: "premium" },
    },
    // A catalog reference starting with price_ is an id, never a lookup key.
    { price: { id: "price_1Qother", lookup_key: "price_std_month" }, expected: undefined },
    { price: { id: "price_unknown", lookup_key: "unknown_key" }, expected: undefined },
  ])("price $price.id / $price.lookup_key → $expected.kind $expected.key", ({ price, expected }) => {
    const match = lookupPrice(catalog, price);
    if (expected === undefined) {
      expect(match).toBeUndefined();
      return;
    }
    expect(match?.kind).toBe(expected.kind);
    expect(match?.connector.key).toBe("shopify-netsuite");
    expect(match?.kind === "edition" ? match.edition.key : match?.addon.key).toBe(expected.key);
  });

  it("finds connectors by id and by key", () => {
    expect(connectorById(catalog, "65f1c0a2b7d94e3a1c8b7d21")?.key).toBe("amazon-netsuite");
    expect(connectorById(catalog, "000000000000000000000000")).toBeUndefined();
    expect(connectorByKey(catalog, "shopify-netsuite")?.name).toBe("Shopify ↔ NetSuite");
    expect(connectorByKey(catalog, "nope")).toBeUndefined();
  });

  it("finds a catalog reference and lists them all", () => {
    expect(lookupPriceRef(catalog, "prem_yearly")).toMatchObject({
      kind: "edition",
      edition: { key: "premium" },
    });
    expect(catalogPriceRefs(catalog).map((match) => match.ref)).toEqual([
      "price_std_month",
      "std_yearly",
      "price_prem_month",
      "prem_yearly",
      "price_store_month",
      "price_store_prem_month",
      "subsidiary_monthly",
      "price_amz_month",
    ]);
    expect(isPriceIdRef("price_std_month")).toBe(true);
    expect(isPriceIdRef("std_yearly")).toBe(false);
  });
});
