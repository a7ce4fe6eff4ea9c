import { describe, expect, it } from "vitest";
import {
  CatalogError,
  catalogPriceRefs,
  lookupPrice,
  lookupPriceRef,
  parseCatalog,
  priceRefs,
} from "#lib/licensing/catalog.ts";
import { connectorListing } from "#lib/marketplace/listing.ts";
import type { StripePrice } from "#lib/marketplace/prices.ts";
import {
  chargesTerms,
  checkFindings,
  countPlan,
  describeStep,
  formatTerms,
  type PushPlan,
  priceTerms,
  productIdFor,
} from "#lib/stripe/catalog-push.ts";

const yearly = { lookupKey: "std_yearly", amount: 99000, currency: "usd", interval: "year" } as const;

function catalogWith(prices: unknown[], extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    connectors: [
      {
        key: "shopify-netsuite",
        connectorId: "65f1c0a2b7d94e3a1c8b7d20",
        name: "Shopify ↔ NetSuite",
        editions: [{ key: "standard", prices }],
        addons: [{ key: "store", type: "store", addOnEdition: "standard", prices: ["store_monthly"] }],
      },
    ],
    policy: { renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" },
  };
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

describe("catalog prices in both shapes", () => {
  const catalog = parseCatalog(
    catalogWith(["price_std_month", yearly], { $schema: "./catalog.schema.json" }),
  );

  it("accepts `$schema` and drops it", () => {
    expect(catalog).not.toHaveProperty("$schema");
  });

  it("keeps each price as written and reads its reference", () => {
    const edition = catalog.connectors[0]?.editions[0];
    expect(edition?.prices).toEqual(["price_std_month", yearly]);
    expect(priceRefs(edition ?? { prices: [] })).toEqual(["price_std_month", "std_yearly"]);
    expect(catalogPriceRefs(catalog).map(({ ref, price }) => [ref, price])).toEqual([
      ["price_std_month", "price_std_month"],
      ["std_yearly", yearly],
      ["store_monthly", "store_monthly"],
    ]);
  });

  it("finds what a Stripe price buys by the object's lookup key", () => {
    expect(lookupPrice(catalog, { id: "price_1Q", lookup_key: "std_yearly" })).toMatchObject({
      kind: "edition",
      edition: { key: "standard" },
      ref: "std_yearly",
      price: yearly,
    });
    expect(lookupPriceRef(catalog, "std_yearly")?.kind).toBe("edition");
  });

  it("lists a price object's Stripe price like a string's", () => {
    const prices = new Map<string, StripePrice>([
      [
        "std_yearly",
        {
          id: "price_1Q",
          active: true,
          currency: "usd",
          unit_amount: 99000,
          lookup_key: "std_yearly",
          recurring: { interval: "year", interval_count: 1 },
        },
      ],
    ]);
    const connector = catalog.connectors[0];
    if (!connector) throw new Error("no connector");
    const { listing, problems } = connectorListing(connector, { _id: connector.connectorId }, prices);
    expect(listing.editions[0]?.prices.map((price) => price.lookupKey)).toEqual(["std_yearly"]);
    expect(problems).toEqual([
      'shopify-netsuite edition "standard": Stripe has no active recurring price "price_std_month"',
      'shopify-netsuite add-on "store": Stripe has no active recurring price "store_monthly"',
    ]);
  });

  it.each([
    {
      name: "a lookup key given twice, as a string and an object",
      prices: ["std_yearly", yearly],
      issue:
        'connectors[0].editions[0].prices[1]: price "std_yearly" is already used at connectors[0].editions[0].prices[0]',
    },
    {
      name: "an amount without currency and interval",
      prices: [{ lookupKey: "x", amount: 100 }],
      issue:
        "connectors[0].editions[0].prices[0].currency: is required with amount (amount, currency and interval go together)",
    },
    {
      name: "a negative amount",
      prices: [{ ...yearly, amount: -1 }],
      issue: "connectors[0].editions[0].prices[0].amount: must not be negative",
    },
    {
      name: "a fractional amount",
      prices: [{ ...yearly, amount: 99.5 }],
      issue:
        "connectors[0].editions[0].prices[0].amount: must be a whole number in the currency's minor unit (cents for usd)",
    },
    {
      name: "a weekly interval",
      prices: [{ ...yearly, interval: "week" }],
      issue: 'connectors[0].editions[0].prices[0].interval: must be one of "month", "year"',
    },
    {
      name: "a lookup key that reads as a price id",
      prices: [{ ...yearly, lookupKey: "price_yearly" }],
      issue:
        "connectors[0].editions[0].prices[0].lookupKey: must be a lookup key without spaces, not starting with price_ (that reads as a price id)",
    },
    {
      name: "a misspelled field",
      prices: [{ ...yearly, ammount: 1 }],
      issue: "connectors[0].editions[0].prices[0]: unknown field(s) ammount",
    },
    {
      name: "a price that is neither a string nor an object",
      prices: [42],
      issue:
        "connectors[0].editions[0].prices[0]: must be a price id or lookup key (a string), or an object {lookupKey, amount, currency, interval}",
    },
  ])("rejects $name", ({ prices, issue }) => {
    expect(issuesOf(catalogWith(prices))).toContain(issue);
  });
});

describe("catalog-push, pure parts", () => {
  const catalog = parseCatalog(catalogWith(["price_std_month", yearly]));
  const [idMatch, yearlyMatch, storeMatch] = catalogPriceRefs(catalog);

  it("reads a price's terms only when the catalog gives all three", () => {
    expect(priceTerms(yearly)).toEqual({ amount: 99000, currency: "usd", interval: "year" });
    expect(priceTerms("std_yearly")).toBeUndefined();
    expect(priceTerms({ lookupKey: "std_yearly" })).toBeUndefined();
  });

  it("puts a connector's prices on the product named by its key, an add-on's on <connector>_<add-on>", () => {
    expect(yearlyMatch && productIdFor(yearlyMatch)).toBe("shopify-netsuite");
    expect(storeMatch && productIdFor(storeMatch)).toBe("shopify-netsuite_store");
  });

  it("compares amount, currency, interval and a single interval", () => {
    const price = {
      id: "price_1",
      product: "p",
      active: true,
      amount: 99000,
      currency: "usd",
      interval: "year",
      intervalCount: 1,
    };
    const terms = { amount: 99000, currency: "usd", interval: "year" } as const;
    expect(chargesTerms(price, terms)).toBe(true);
    expect(chargesTerms({ ...price, amount: 1 }, terms)).toBe(false);
    expect(chargesTerms({ ...price, currency: "eur" }, terms)).toBe(false);
    expect(chargesTerms({ ...price, interval: "month" }, terms)).toBe(false);
    expect(chargesTerms({ ...price, intervalCount: 2 }, terms)).toBe(false);
    expect(chargesTerms({ ...price, interval: null, intervalCount: null }, terms)).toBe(false);
  });

  it("formats amounts in the currency's own decimals", () => {
    expect(formatTerms(99000, "usd", "year")).toBe("990.00 USD / year");
    expect(formatTerms(5000, "jpy", "month")).toBe("5000 JPY / month");
    expect(formatTerms(1000, "kwd", "month")).toBe("1.000 KWD / month");
    expect(formatTerms(900, "usd", "month", 3)).toBe("9.00 USD / 3 months");
    expect(formatTerms(null, "usd", null)).toBe("(no unit amount) / once");
  });

  it("counts a plan and names what check reports", () => {
    if (!idMatch || !yearlyMatch || !storeMatch) throw new Error("the catalog changed shape");
    const old = {
      id: "price_old",
      product: "shopify-netsuite",
      active: true,
      amount: 89000,
      currency: "usd",
      interval: "year",
      intervalCount: 1,
    };
    const plan: PushPlan = {
      steps: [
        {
          kind: "product",
          action: "create",
          id: "shopify-netsuite",
          name: "Shopify ↔ NetSuite",
          metadata: {},
        },
        {
          kind: "price",
          action: "unchanged",
          ref: "price_std_month",
          owner: "shopify-netsuite edition standard",
          price: { ...old, id: "price_std_month", amount: 9900, interval: "month" },
        },
        {
          kind: "price",
          action: "replace",
          ref: "std_yearly",
          owner: "shopify-netsuite edition standard",
          old,
          moveDefaultPrice: false,
          product: "shopify-netsuite",
          terms: { amount: 99000, currency: "usd", interval: "year" },
          nickname: "",
          metadata: {},
        },
        {
          kind: "price",
          action: "missing",
          ref: "store_monthly",
          owner: "shopify-netsuite add-on store",
          reason: "no Stripe price has this lookup key",
        },
      ],
    };
    expect(countPlan(plan)).toEqual({ created: 1, updated: 1, unchanged: 1, missing: 1 });
    expect(plan.steps.map(describeStep)).toEqual([
      'create     product shopify-netsuite "Shopify ↔ NetSuite"',
      "unchanged  price price_std_month (shopify-netsuite edition standard): 99.00 USD / month",
      "replace    price std_yearly (shopify-netsuite edition standard): 890.00 USD / year → 990.00 USD / year; a new price on product shopify-netsuite takes the lookup key, price_old is archived",
      "missing    price store_monthly (shopify-netsuite add-on store): no Stripe price has this lookup key",
    ]);
    expect(checkFindings(plan).map((finding) => finding.ref)).toEqual(["std_yearly", "store_monthly"]);
  });
});
