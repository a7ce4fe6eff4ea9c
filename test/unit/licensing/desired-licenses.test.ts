import { describe, expect, it } from "vitest";
import { parseCatalog } from "#lib/licensing/catalog.ts";
import { type DesiredLicense, desiredLicenses, LicensingError } from "#lib/licensing/desired-licenses.ts";
import { type LicenseCustomer, resolveLicenseEmail } from "#lib/licensing/email.ts";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";
import {
  daysAfter,
  FIXED_NOW,
  makeCustomer,
  makeSubscription,
  type SubscriptionInput,
} from "#test/helpers/stripe-fixtures.ts";
import { AMAZON, catalog, catalogJson, deleteOnEndCatalog, SHOPIFY } from "./test-catalog.ts";

const now = FIXED_NOW; // 2026-11-15T12:00:00Z; default periods run 2026-11-05T12:00Z → 2026-12-05T12:00Z
const CUSTOMER = "cus_1TESTcustomer0001";
const stripeCustomer = makeCustomer({ id: CUSTOMER, email: "buyer@example.com" });
const customer: LicenseCustomer = {
  id: stripeCustomer.id,
  email: stripeCustomer.email,
  metadata: stripeCustomer.metadata,
};

/** The single desired license of the Shopify connector for these subscriptions. */
function shopifyLicense(
  subscriptions: StripeSubscription[],
  options: { who?: LicenseCustomer; policy?: "delete" } = {},
) {
  const result = desiredLicenses(
    subscriptions,
    options.who ?? customer,
    options.policy ? deleteOnEndCatalog : catalog,
    now,
  );
  const license = result.licenses.find((entry) => entry.connectorKey === SHOPIFY.connectorKey);
  if (!license) throw new Error("no Shopify license in the result");
  return license;
}

const sub = (input: SubscriptionInput) => makeSubscription({ customer: CUSTOMER, ...input });

describe("desiredLicenses: one subscription per docs/architecture.md §5 row", () => {
  it.each<{
    name: string;
    input: SubscriptionInput;
    expected: Partial<DesiredLicense> & { reason?: string };
  }>([
    {
      name: "trialing → expires at trial_end",
      input: { status: "trialing" },
      expected: { kind: "active", status: "trialing", expires: "2026-12-10T12:00:00.000Z" },
    },
    {
      name: "active → period end + renewalBufferDays",
      input: { status: "active" },
      expected: { kind: "active", status: "active", expires: "2026-12-08T12:00:00.000Z" },
    },
    {
      name: "active with cancel_at_period_end → period end, no buffer",
      input: { status: "active", cancel_at_period_end: true },
      expected: { kind: "active", expires: "2026-12-05T12:00:00.000Z" },
    },
    {
      name: "active with cancel_at inside the period → cancel_at, no buffer",
      input: { status: "active", cancel_at: daysAfter(now, 5) },
      expected: { kind: "active", expires: "2026-11-20T12:00:00.000Z" },
    },
    {
      name: "active with cancel_at after the period → period end + buffer (renewal comes first)",
      input: { status: "active", cancel_at: daysAfter(now, 90) },
      expected: { kind: "active", expires: "2026-12-08T12:00:00.000Z" },
    },
    {
      name: "active with pause_collection → still licensed (status stays active)",
      input: { status: "active", pause_collection: { behavior: "void", resumes_at: null } },
      expected: { kind: "active", expires: "2026-12-08T12:00:00.000Z" },
    },
    {
      name: "past_due → period end + pastDueGraceDays",
      input: { status: "past_due" },
      expected: { kind: "active", status: "past_due", expires: "2026-12-19T12:00:00.000Z" },
    },
    {
      name: "past_due with cancel_at_period_end → period end (no grace past the cancellation)",
      input: { status: "past_due", cancel_at_period_end: true },
      expected: { kind: "active", status: "past_due", expires: "2026-12-05T12:00:00.000Z" },
    },
    {
      name: "trialing with cancel_at_period_end → trial_end",
      input: { status: "trialing", cancel_at_period_end: true },
      expected: { kind: "active", expires: "2026-12-10T12:00:00.000Z" },
    },
    {
      name: "trialing with cancel_at before trial_end → cancel_at",
      input: { status: "trialing", cancel_at: daysAfter(now, 2) },
      expected: { kind: "active", expires: "2026-11-17T12:00:00.000Z" },
    },
    {
      name: "paused → expire now",
      input: { status: "paused" },
      expected: { kind: "expire", status: "paused", expires: now.toISOString() },
    },
    {
      name: "unpaid → expire now",
      input: { status: "unpaid" },
      expected: { kind: "expire", status: "unpaid", expires: now.toISOString() },
    },
    {
      name: "canceled → expire now",
      input: { status: "canceled" },
      expected: { kind: "expire", status: "canceled", expires: now.toISOString() },
    },
    {
      name: "incomplete_expired → expire now",
      input: { status: "incomplete_expired" },
      expected: { kind: "expire", status: "incomplete_expired", expires: now.toISOString() },
    },
    {
      name: "incomplete → none yet",
      input: { status: "incomplete" },
      expected: { kind: "none", reason: "incomplete" },
    },
  ])("$name", ({ input, expected }) => {
    const subscription = sub(input);
    expect(shopifyLicense([subscription])).toMatchObject({
      ...SHOPIFY,
      subscriptionId: subscription.id,
      ...expected,
    });
  });

  it.each(["paused", "unpaid", "canceled", "incomplete_expired"] as const)(
    "%s → delete when policy.onEnd is delete",
    (status) => {
      const license = shopifyLicense([sub({ status })], { policy: "delete" });
      expect(license).toEqual({
        ...SHOPIFY,
        customerId: CUSTOMER,
        subscriptionId: expect.any(String),
        kind: "delete",
        status,
      });
    },
  );

  it("returns the whole active license", () => {
    const subscription = sub({ id: "sub_whole", status: "active" });
    expect(desiredLicenses([subscription], customer, catalog, now)).toEqual({
      licenses: [
        {
          kind: "active",
          customerId: CUSTOMER,
          connectorKey: "shopify-netsuite",
          connectorId: "65f1c0a2b7d94e3a1c8b7d20",
          subscriptionId: "sub_whole",
          status: "active",
          email: "buyer@example.com",
          emailSource: "customer_email",
          expires: "2026-12-08T12:00:00.000Z",
          opts: { connectorEdition: "standard" },
        },
      ],
      unknownPrices: [],
      cappedAddons: [],
    });
  });
});

describe("desiredLicenses: editions and add-ons", () => {
  it.each([
    {
      name: "standard monthly by price id",
      price: "price_std_month",
      edition: "standard",
      expires: "2026-12-08T12:00:00.000Z",
    },
    {
      name: "premium monthly by price id",
      price: "price_prem_month",
      edition: "premium",
      expires: "2026-12-08T12:00:00.000Z",
    },
    // Yearly prices are referenced by lookup key: the Stripe price id is not in the catalog.
    {
      name: "standard yearly by lookup key",
      price: "std_yearly",
      edition: "standard",
      expires: "2027-11-08T12:00:00.000Z",
    },
    {
      name: "premium yearly by lookup key",
      price: "prem_yearly",
      edition: "premium",
      expires: "2027-11-08T12:00:00.000Z",
    },
  ])("$name → edition $edition", ({ price, edition, expires }) => {
    const subscription = sub({ items: [{ price }] });
    const stripePrice = subscription.items.data[0]?.price;
    // A lookup-key reference matches a price whose id the catalog does not list.
    if (!price.startsWith("price_")) {
      expect(stripePrice?.lookup_key).toBe(price);
      expect(stripePrice?.id).not.toBe(price);
    }
    expect(shopifyLicense([subscription])).toMatchObject({
      kind: "active",
      opts: { connectorEdition: edition },
      expires,
    });
  });

  it.each([
    { quantity: 0, addonLicenses: undefined },
    { quantity: 1, addonLicenses: [{ type: "store", licenses: [{ addOnEdition: "standard" }] }] },
    {
      quantity: 3,
      addonLicenses: [
        {
          type: "store",
          licenses: [
            { addOnEdition: "standard" },
            { addOnEdition: "standard" },
            { addOnEdition: "standard" },
          ],
        },
      ],
    },
  ])("store add-on quantity $quantity → $quantity store licenses", ({ quantity, addonLicenses }) => {
    const license = shopifyLicense([
      sub({ items: [{ price: "price_std_month" }, { price: "price_store_month", quantity }] }),
    ]);
    expect(license.kind === "active" && license.opts).toEqual({
      connectorEdition: "standard",
      ...(addonLicenses ? { addonLicenses } : {}),
    });
  });

  it("groups add-ons by type in catalog order, whatever the item order", () => {
    const license = shopifyLicense([
      sub({
        items: [
          { price: "subsidiary_monthly", quantity: 1 },
          { price: "price_store_prem_month", quantity: 1 },
          { price: "price_prem_month" },
          { price: "price_store_month", quantity: 2 },
        ],
      }),
    ]);
    expect(license.kind === "active" && license.opts).toEqual({
      connectorEdition: "premium",
      addonLicenses: [
        {
          type: "store",
          licenses: [{ addOnEdition: "standard" }, { addOnEdition: "standard" }, { addOnEdition: "premium" }],
        },
        { type: "subsidiary", licenses: [{ addOnEdition: "standard" }] },
      ],
    });
  });

  it("ignores the base item's quantity (one license per customer and connector)", () => {
    const license = shopifyLicense([sub({ items: [{ price: "price_std_month", quantity: 5 }] })]);
    expect(license.kind === "active" && license.opts).toEqual({ connectorEdition: "standard" });
  });

  it("takes the edition listed last when one subscription holds two editions", () => {
    const license = shopifyLicense([
      sub({ items: [{ price: "price_prem_month" }, { price: "price_std_month" }] }),
    ]);
    expect(license.kind === "active" && license.opts.connectorEdition).toBe("premium");
  });

  it("counts add-ons bought as their own subscription, while it is live", () => {
    const base = sub({ status: "active", items: [{ price: "price_std_month" }] });
    const addOnly = sub({ status: "active", items: [{ price: "price_store_month", quantity: 2 }] });
    const license = shopifyLicense([base, addOnly]);
    expect(license).toMatchObject({ kind: "active", subscriptionId: base.id });
    expect(license.kind === "active" && license.opts.addonLicenses?.[0]?.licenses).toHaveLength(2);

    const canceledAddOns = sub({ status: "canceled", items: [{ price: "price_store_month", quantity: 2 }] });
    const without = shopifyLicense([base, canceledAddOns]);
    expect(without.kind === "active" && without.opts).toEqual({ connectorEdition: "standard" });
  });

  it("gives no license for add-ons without any base edition", () => {
    const addOnly = sub({ status: "active", items: [{ price: "price_store_month", quantity: 1 }] });
    expect(shopifyLicense([addOnly])).toMatchObject({
      kind: "none",
      reason: "no_edition",
      subscriptionId: addOnly.id,
    });
  });

  it("gives one license per connector a subscription touches, in catalog order", () => {
    const subscription = sub({ items: [{ price: "price_amz_month" }, { price: "price_prem_month" }] });
    const { licenses } = desiredLicenses([subscription], customer, catalog, now);
    expect(
      licenses.map((license) => [
        license.connectorKey,
        license.kind === "active" && license.opts.connectorEdition,
      ]),
    ).toEqual([
      ["shopify-netsuite", "premium"],
      ["amazon-netsuite", "standard"],
    ]);
    expect(licenses[1]).toMatchObject(AMAZON);
  });
});

describe("desiredLicenses: add-on quantity cap (catalog maxQuantity, default 100)", () => {
  const storeLicenses = (license: DesiredLicense) =>
    license.kind === "active" ? (license.opts.addonLicenses?.[0]?.licenses.length ?? 0) : undefined;

  it("grants the cap for an item over it, and reports why", () => {
    const subscription = sub({
      items: [{ price: "price_std_month" }, { price: "price_store_month", quantity: 5000 }],
    });
    const result = desiredLicenses([subscription], customer, catalog, now);
    expect(result.licenses[0] && storeLicenses(result.licenses[0])).toBe(100);
    expect(result.cappedAddons).toEqual([
      {
        connectorKey: "shopify-netsuite",
        addonKey: "store",
        items: [{ subscriptionId: subscription.id, itemId: subscription.items.data[1]?.id, quantity: 5000 }],
        quantity: 5000,
        maxQuantity: 100,
      },
    ]);
  });

  it("grants exactly the cap without a report", () => {
    const result = desiredLicenses(
      [sub({ items: [{ price: "price_std_month" }, { price: "price_store_month", quantity: 100 }] })],
      customer,
      catalog,
      now,
    );
    expect(result.licenses[0] && storeLicenses(result.licenses[0])).toBe(100);
    expect(result.cappedAddons).toEqual([]);
  });

  it("caps what every live subscription adds up to, at the catalog's own maxQuantity", () => {
    const tight = parseCatalog({
      ...catalogJson,
      connectors: catalogJson.connectors.map((connector) => ({
        ...connector,
        addons: connector.addons?.map((addon) =>
          addon.key === "store" ? { ...addon, maxQuantity: 3 } : addon,
        ),
      })),
    });
    const base = sub({ items: [{ price: "price_std_month" }, { price: "price_store_month", quantity: 2 }] });
    const more = sub({ items: [{ price: "price_store_month", quantity: 2 }] });
    const result = desiredLicenses([base, more], customer, tight, now);
    expect(result.licenses[0] && storeLicenses(result.licenses[0])).toBe(3);
    expect(result.cappedAddons).toMatchObject([
      {
        addonKey: "store",
        items: [
          { subscriptionId: base.id, quantity: 2 },
          { subscriptionId: more.id, quantity: 2 },
        ],
        quantity: 4,
        maxQuantity: 3,
      },
    ]);
  });

  it("reports nothing for an ended subscription's add-ons (its license expires)", () => {
    const result = desiredLicenses(
      [
        sub({
          status: "canceled",
          items: [{ price: "price_std_month" }, { price: "price_store_month", quantity: 5000 }],
        }),
      ],
      customer,
      catalog,
      now,
    );
    expect(result.licenses[0]?.kind).toBe("expire");
    expect(result.cappedAddons).toEqual([]);
  });
});

describe("desiredLicenses: unknown prices", () => {
  it("records an unknown price and never guesses it", () => {
    const subscription = sub({
      items: [{ price: { id: "price_1Qmystery", lookup_key: "mystery_monthly" } }],
    });
    const result = desiredLicenses([subscription], customer, catalog, now);
    expect(result.licenses).toEqual([]);
    expect(result.unknownPrices).toEqual([
      {
        subscriptionId: subscription.id,
        itemId: subscription.items.data[0]?.id,
        priceId: "price_1Qmystery",
        lookupKey: "mystery_monthly",
      },
    ]);
  });

  it("still licenses the known items of the same subscription", () => {
    const subscription = sub({ items: [{ price: "price_std_month" }, { price: { id: "price_1Qextra" } }] });
    const result = desiredLicenses([subscription], customer, catalog, now);
    expect(result.licenses).toMatchObject([{ kind: "active", opts: { connectorEdition: "standard" } }]);
    expect(result.unknownPrices).toMatchObject([{ priceId: "price_1Qextra", lookupKey: null }]);
  });
});

describe("desiredLicenses: several subscriptions for one connector", () => {
  const s = {
    active: () => sub({ status: "active" }),
    activeLater: () => sub({ status: "active", current_period_end: daysAfter(now, 60) }),
    trialingLater: () => sub({ status: "trialing", trial_end: daysAfter(now, 40) }),
    pastDue: () => sub({ status: "past_due" }),
    canceled: () => sub({ status: "canceled" }),
    incomplete: () => sub({ status: "incomplete" }),
  };

  it.each([
    {
      name: "active beats trialing, even one that expires later",
      subs: ["trialingLater", "active"],
      winner: 1,
      kind: "active",
    },
    { name: "trialing beats past_due", subs: ["pastDue", "trialingLater"], winner: 1, kind: "active" },
    { name: "active beats past_due", subs: ["pastDue", "active"], winner: 1, kind: "active" },
    {
      name: "of two active, the later expires wins",
      subs: ["active", "activeLater"],
      winner: 1,
      kind: "active",
    },
    { name: "any live one beats an ended one", subs: ["canceled", "pastDue"], winner: 1, kind: "active" },
    {
      name: "an ended one beats an incomplete one (access ends)",
      subs: ["incomplete", "canceled"],
      winner: 1,
      kind: "expire",
    },
  ] as const)("$name", ({ subs, winner, kind }) => {
    const built = subs.map((name) => s[name]());
    const license = shopifyLicense(built);
    expect(license).toMatchObject({ kind, subscriptionId: built[winner]?.id });
    // The order the subscriptions come in does not matter.
    expect(shopifyLicense([...built].reverse())).toEqual(license);
  });

  it("uses the most recently ended subscription when none is live", () => {
    const older = sub({ status: "canceled", ended_at: daysAfter(now, -30) });
    const newer = sub({ status: "unpaid", ended_at: null, canceled_at: null, created: daysAfter(now, -5) });
    expect(shopifyLicense([older, newer])).toMatchObject({
      kind: "expire",
      subscriptionId: newer.id,
      status: "unpaid",
    });
  });
});

describe("desiredLicenses: email", () => {
  const sources = {
    subscriptionMetadata: { integrator_email: "Sub@Meta.Example " },
    customerMetadata: { integrator_email: "cust@meta.example" },
    checkoutEmail: "Checkout@Example.com",
    email: "billing@example.com",
  };

  it.each([
    {
      name: "subscription metadata.integrator_email first",
      subMeta: sources.subscriptionMetadata,
      who: {
        id: CUSTOMER,
        email: sources.email,
        metadata: sources.customerMetadata,
        checkoutEmail: sources.checkoutEmail,
      },
      email: "sub@meta.example",
      source: "subscription_metadata",
    },
    {
      name: "then customer metadata.integrator_email",
      subMeta: {},
      who: {
        id: CUSTOMER,
        email: sources.email,
        metadata: sources.customerMetadata,
        checkoutEmail: sources.checkoutEmail,
      },
      email: "cust@meta.example",
      source: "customer_metadata",
    },
    {
      name: "then the checkout email",
      subMeta: {},
      who: { id: CUSTOMER, email: sources.email, metadata: {}, checkoutEmail: sources.checkoutEmail },
      email: "checkout@example.com",
      source: "checkout",
    },
    {
      name: "then the customer email",
      subMeta: {},
      who: { id: CUSTOMER, email: sources.email, metadata: {} },
      email: "billing@example.com",
      source: "customer_email",
    },
    {
      name: "skipping a blank or malformed value",
      subMeta: { integrator_email: "   " },
      who: {
        id: CUSTOMER,
        email: sources.email,
        metadata: { integrator_email: "not-an-email" },
        checkoutEmail: "",
      },
      email: "billing@example.com",
      source: "customer_email",
    },
  ])("$name", ({ subMeta, who, email, source }) => {
    const license = shopifyLicense([sub({ metadata: subMeta })], { who });
    expect(license).toMatchObject({ kind: "active", email, emailSource: source });
  });

  it("gives none (no_email) to a live subscription without any email", () => {
    const subscription = sub({ status: "active" });
    const license = shopifyLicense([subscription], { who: { id: CUSTOMER, email: null, metadata: {} } });
    expect(license).toEqual({
      ...SHOPIFY,
      customerId: CUSTOMER,
      subscriptionId: subscription.id,
      kind: "none",
      status: "active",
      reason: "no_email",
    });
  });

  it("expires an ended subscription's license even without an email", () => {
    const license = shopifyLicense([sub({ status: "canceled" })], { who: { id: CUSTOMER } });
    expect(license.kind).toBe("expire");
  });

  it("resolveLicenseEmail reports where the email came from", () => {
    expect(resolveLicenseEmail({ metadata: {} }, { id: CUSTOMER, checkoutEmail: " A@B.CO " })).toEqual({
      email: "a@b.co",
      source: "checkout",
    });
    expect(resolveLicenseEmail({ metadata: {} }, { id: CUSTOMER })).toBeUndefined();
  });
});

describe("desiredLicenses: inputs", () => {
  it("accepts a subscription whose customer is expanded", () => {
    const subscription = sub({ customer: stripeCustomer });
    expect(shopifyLicense([subscription]).kind).toBe("active");
  });

  it("refuses a subscription of another customer", () => {
    const other = makeSubscription({ customer: "cus_other" });
    expect(() => desiredLicenses([other], customer, catalog, now)).toThrow(LicensingError);
    expect(() => desiredLicenses([other], customer, catalog, now)).toThrow(/belongs to customer cus_other/);
  });

  it("returns nothing for no subscriptions", () => {
    expect(desiredLicenses([], customer, catalog, now)).toEqual({
      licenses: [],
      unknownPrices: [],
      cappedAddons: [],
    });
  });
});
