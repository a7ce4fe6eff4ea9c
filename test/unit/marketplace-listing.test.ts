import { describe, expect, it } from "vitest";
import { cacheableJson, etagOf, matchesIfNoneMatch } from "#lib/marketplace/http-cache.ts";
import { connectorListing, templateListing, templateSearchText } from "#lib/marketplace/listing.ts";
import type { StripePrice } from "#lib/marketplace/prices.ts";
import { catalog } from "#test/unit/licensing/test-catalog.ts";

const [shopify, amazon] = catalog.connectors;
if (!shopify || !amazon) throw new Error("the test catalog lists two connectors");
const price = (id: string, interval: "month" | "year", lookupKey: string | null = null): StripePrice => ({
  id,
  active: true,
  currency: "usd",
  unit_amount: 9900,
  lookup_key: lookupKey,
  recurring: { interval, interval_count: 1 },
});

describe("connectorListing", () => {
  const prices = new Map<string, StripePrice>([
    ["price_std_month", price("price_std_month", "month")],
    ["std_yearly", price("price_1Y", "year", "std_yearly")],
    ["price_prem_month", price("price_prem_month", "month")],
    ["price_store_month", price("price_store_month", "month")],
  ]);

  it("joins the catalog with integrator.io's texts and Stripe's prices", () => {
    const { listing } = connectorListing(
      shopify,
      {
        _id: shopify.connectorId,
        name: "Shopify + NetSuite",
        imageURL: "https://cdn.example/x.png",
        applications: ["shopify"],
      },
      prices,
    );
    expect(listing).toMatchObject({
      key: "shopify-netsuite",
      name: "Shopify + NetSuite",
      imageURL: "https://cdn.example/x.png",
      applications: ["shopify"],
      trialDays: 30,
    });
    expect(listing).not.toHaveProperty("websiteURL");
    expect(listing.editions[0]).toEqual({
      key: "standard",
      name: "standard",
      prices: [
        {
          id: "price_std_month",
          lookupKey: null,
          amount: 9900,
          currency: "usd",
          interval: "month",
          intervalCount: 1,
          trialDays: 30,
        },
        {
          id: "price_1Y",
          lookupKey: "std_yearly",
          amount: 9900,
          currency: "usd",
          interval: "year",
          intervalCount: 1,
          trialDays: 30,
        },
      ],
    });
  });

  it("leaves out prices Stripe lacks, editions and add-ons without any, and names each", () => {
    const { listing, problems } = connectorListing(shopify, { _id: shopify.connectorId }, prices);
    expect(listing.name).toBe("Shopify ↔ NetSuite");
    expect(listing.editions.map((edition) => [edition.key, edition.prices.length])).toEqual([
      ["standard", 2],
      ["premium", 1],
    ]);
    expect(listing.addons.map((addon) => addon.key)).toEqual(["store"]);
    expect(problems).toEqual([
      'shopify-netsuite edition "premium": Stripe has no active recurring price "prem_yearly"',
      'shopify-netsuite add-on "store-premium": Stripe has no active recurring price "price_store_prem_month"',
      'shopify-netsuite add-on "subsidiary": Stripe has no active recurring price "subsidiary_monthly"',
    ]);
  });

  it("lists no trial for a connector without trialDays", () => {
    const { listing } = connectorListing(
      amazon,
      { _id: amazon.connectorId },
      new Map([["price_amz_month", price("price_amz_month", "month")]]),
    );
    expect(listing.trialDays).toBe(0);
    expect(listing.editions[0]?.prices[0]?.trialDays).toBe(0);
  });
});

describe("templateListing", () => {
  it("lists published templates only", () => {
    expect(templateListing({ _id: "t1", name: "Draft", published: false })).toBeUndefined();
    expect(templateListing({ _id: "t1", name: "Draft" })).toBeUndefined();
    const listed = templateListing({
      _id: "t2",
      name: "Orders",
      published: true,
      contactEmail: "x@vendor.example",
      applications: ["Shopify"],
    });
    expect(listed).toEqual({ id: "t2", name: "Orders", applications: ["Shopify"] });
    expect(listed && templateSearchText(listed)).toBe("orders\n\nshopify");
  });
});

describe("ETag and If-None-Match", () => {
  it("matches strong, weak, listed and * validators", () => {
    const etag = etagOf({ data: [1] });
    expect(etag).toBe(etagOf({ data: [1] }));
    expect(etag).not.toBe(etagOf({ data: [2] }));
    expect(matchesIfNoneMatch(etag, etag)).toBe(true);
    expect(matchesIfNoneMatch(`"a", W/${etag}`, etag)).toBe(true);
    expect(matchesIfNoneMatch("*", etag)).toBe(true);
    expect(matchesIfNoneMatch('"a"', etag)).toBe(false);
    expect(matchesIfNoneMatch(undefined, etag)).toBe(false);
  });

  it("answers 304 without a body when the validator matches", () => {
    const fresh = cacheableJson({ a: 1 }, {});
    expect(fresh).toMatchObject({ status: 200, body: { a: 1 } });
    const etag = fresh.headers?.etag ?? "";
    expect(cacheableJson({ a: 1 }, { "if-none-match": etag })).toEqual({
      status: 304,
      headers: fresh.headers,
    });
  });
});
