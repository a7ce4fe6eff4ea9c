import { describe, expect, it } from "vitest";
import { connectorByKey } from "#lib/licensing/catalog.ts";
import { checkoutLineItems, planCheckout, unlistedPriceRefs } from "#lib/marketplace/checkout.ts";
import { CheckoutRequestError } from "#lib/marketplace/errors.ts";
import { connectorListing } from "#lib/marketplace/listing.ts";
import type { StripePrice } from "#lib/marketplace/prices.ts";
import type { CheckoutRequest } from "#lib/marketplace/schemas.ts";
import { checkoutRequestSchema } from "#lib/marketplace/schemas.ts";
import { catalog } from "#test/unit/licensing/test-catalog.ts";

const origins = ["https://shop.example.com", "http://localhost:3000"];
const request = (overrides: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  connector: "shopify-netsuite",
  edition: "standard",
  integratorEmail: "Ops@Buyer.example",
  successUrl: "https://shop.example.com/thanks",
  cancelUrl: "https://shop.example.com/pricing",
  ...overrides,
});
const price = (id: string, interval: "month" | "year", extra: Partial<StripePrice> = {}): StripePrice => ({
  id,
  active: true,
  currency: "usd",
  unit_amount: 1000,
  lookup_key: null,
  recurring: { interval, interval_count: 1 },
  ...extra,
});
/** What Stripe holds for the test catalog: lookup keys resolve to generated ids. */
const prices = new Map<string, StripePrice>([
  ["price_std_month", price("price_std_month", "month")],
  ["std_yearly", price("price_1StdYear", "year", { lookup_key: "std_yearly" })],
  ["price_prem_month", price("price_prem_month", "month")],
  ["prem_yearly", price("price_1PremYear", "year", { lookup_key: "prem_yearly" })],
  ["price_store_month", price("price_store_month", "month")],
  ["subsidiary_monthly", price("price_1Sub", "month", { currency: "eur", lookup_key: "subsidiary_monthly" })],
]);
const shopify = connectorByKey(catalog, "shopify-netsuite");
if (!shopify) throw new Error("the test catalog changed shape");
/** The connector's listing as a sync builds it from what Stripe holds. */
const listingOf = (held: ReadonlyMap<string, StripePrice>) =>
  connectorListing(shopify, { _id: shopify.connectorId, name: shopify.name }, held).listing;
const listing = listingOf(prices);
const refused = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CheckoutRequestError);
    return (error as Error).message;
  }
  throw new Error("expected a CheckoutRequestError");
};

describe("planCheckout", () => {
  it("resolves the connector, edition and add-ons and normalises the email", () => {
    const plan = planCheckout(
      catalog,
      request({ edition: "premium", addons: [{ key: "store", quantity: 3 }] }),
      origins,
    );
    expect(plan.connector.key).toBe("shopify-netsuite");
    expect(plan.edition.key).toBe("premium");
    expect(plan.addons.map(({ addon, quantity }) => [addon.key, quantity])).toEqual([["store", 3]]);
    expect(plan.email).toBe("ops@buyer.example");
  });

  it.each([
    [{ connector: "magento" }, 'Unknown connector "magento".'],
    [{ edition: "gold" }, 'Unknown edition "gold" of connector "shopify-netsuite".'],
    [
      { addons: [{ key: "warehouse", quantity: 1 }] },
      'Unknown add-on "warehouse" of connector "shopify-netsuite".',
    ],
    [
      {
        addons: [
          { key: "store", quantity: 1 },
          { key: "store", quantity: 2 },
        ],
      },
      'Add-on "store" is listed twice.',
    ],
    [{ successUrl: "https://evil.example/x" }, 'successUrl origin "https://evil.example" is not allowed.'],
    [
      { addons: [{ key: "store", quantity: 101 }] },
      'Add-on "store" allows at most 100 per license; asked for 101.',
    ],
    [
      { cancelUrl: "https://shop.example.com.evil.example/x" },
      'cancelUrl origin "https://shop.example.com.evil.example" is not allowed.',
    ],
    [
      { cancelUrl: "http://shop.example.com/x" },
      'cancelUrl origin "http://shop.example.com" is not allowed.',
    ],
  ])("refuses %j: %s", (overrides, message) => {
    expect(refused(() => planCheckout(catalog, request(overrides), origins))).toBe(message);
  });
});

describe("checkoutLineItems", () => {
  const items = (overrides: Partial<CheckoutRequest>) =>
    checkoutLineItems(planCheckout(catalog, request(overrides), origins), listing);

  it("takes the edition price of the interval, then add-ons on the same interval", () => {
    expect(items({ interval: "year" })).toEqual([{ price: "price_1StdYear", quantity: 1 }]);
    expect(items({ interval: "month", addons: [{ key: "store", quantity: 2 }] })).toEqual([
      { price: "price_std_month", quantity: 1 },
      { price: "price_store_month", quantity: 2 },
    ]);
  });

  it("without an interval takes the edition's first listed price", () => {
    expect(items({ edition: "premium" })).toEqual([{ price: "price_prem_month", quantity: 1 }]);
  });

  it("refuses an interval or currency an add-on has no price for", () => {
    expect(refused(() => items({ interval: "year", addons: [{ key: "store", quantity: 1 }] }))).toBe(
      'Add-on "store" has no "year" price in USD.',
    );
    expect(refused(() => items({ addons: [{ key: "subsidiary", quantity: 1 }] }))).toBe(
      'Add-on "subsidiary" has no "month" price in USD.',
    );
  });

  it("refuses an interval the edition has no listed price for (Stripe lost it, or never had it)", () => {
    const monthlyOnly = listingOf(new Map([...prices].filter(([ref]) => ref !== "std_yearly")));
    const plan = planCheckout(catalog, request({ interval: "year" }), origins);
    expect(refused(() => checkoutLineItems(plan, monthlyOnly))).toBe(
      'Edition "standard" of connector "shopify-netsuite" has no "year" price.',
    );
    expect(refused(() => checkoutLineItems(plan, undefined))).toMatch(/has no "year" price/);
    const unpriced = planCheckout(catalog, request(), origins);
    expect(refused(() => checkoutLineItems(unpriced, undefined))).toBe(
      'Edition "standard" of connector "shopify-netsuite" has no price on sale.',
    );
  });

  it("ignores prices billed every N intervals (a quarterly price is not monthly)", () => {
    const quarterly = listingOf(
      new Map(prices).set(
        "price_std_month",
        price("price_std_month", "month", { recurring: { interval: "month", interval_count: 3 } }),
      ),
    );
    const plan = planCheckout(catalog, request({ interval: "month" }), origins);
    expect(refused(() => checkoutLineItems(plan, quarterly))).toMatch(/no "month" price/);
  });
});

describe("unlistedPriceRefs", () => {
  it("names the plan's catalog prices its listing lacks, by id or lookup key", () => {
    const plan = planCheckout(catalog, request({ addons: [{ key: "store", quantity: 1 }] }), origins);
    expect(unlistedPriceRefs(plan, listing)).toEqual([]);
    const held = new Map([...prices].filter(([ref]) => ref !== "std_yearly" && ref !== "price_store_month"));
    expect(unlistedPriceRefs(plan, listingOf(held))).toEqual(["std_yearly", "price_store_month"]);
    expect(unlistedPriceRefs(plan, undefined)).toEqual([
      "price_std_month",
      "std_yearly",
      "price_store_month",
    ]);
  });

  it("names nothing when the catalog itself has no such price (a yearly add-on the catalog never sold)", () => {
    const plan = planCheckout(
      catalog,
      request({ interval: "year", addons: [{ key: "store", quantity: 1 }] }),
      origins,
    );
    expect(refused(() => checkoutLineItems(plan, listing))).toMatch(/"store" has no "year" price/);
    expect(unlistedPriceRefs(plan, listing)).toEqual([]);
  });
});

describe("checkout request schema", () => {
  it("quotes an unknown interval and defaults an add-on's quantity to 1", () => {
    const bad = checkoutRequestSchema.safeParse({ ...request(), interval: "week" });
    expect(bad.error?.issues[0]?.message).toContain('"week"');
    const good = checkoutRequestSchema.parse({ ...request(), addons: [{ key: "store" }] });
    expect(good.addons).toEqual([{ key: "store", quantity: 1 }]);
  });

  it("takes http(s) URLs only, and no unknown fields", () => {
    expect(checkoutRequestSchema.safeParse({ ...request(), successUrl: "javascript:alert(1)" }).success).toBe(
      false,
    );
    expect(
      checkoutRequestSchema.safeParse({ ...request(), cancelUrl: "ftp://shop.example.com/x" }).success,
    ).toBe(false);
    expect(checkoutRequestSchema.safeParse({ ...request(), price: "price_free" }).success).toBe(false);
  });
});
