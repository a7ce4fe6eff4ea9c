import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  invoiceSubscriptionId,
  stripeCheckoutSessionSchema,
  stripeCustomerSchema,
  stripeEventSchema,
  stripeId,
  stripeInvoiceSchema,
  stripePriceSchema,
  stripeProductSchema,
  stripeSubscriptionItemSchema,
  stripeSubscriptionSchema,
} from "#lib/stripe/schemas.ts";
import {
  loadStripeFixture,
  makeCheckoutSession,
  makeCustomer,
  makeEvent,
  makeInvoice,
  makeSubscription,
  STRIPE_FIXTURE_NAMES,
  STRIPE_FIXTURES_DIR,
  type StripeFixtureName,
} from "#test/helpers/stripe-fixtures.ts";

/** The schema each fixture must satisfy; the entitlement summary is an object we never read (event payload only). */
const schemaFor: Record<
  StripeFixtureName,
  { safeParse: (input: unknown) => { success: boolean; error?: unknown } }
> = {
  "checkout.session": stripeCheckoutSessionSchema,
  customer: stripeCustomerSchema,
  "entitlements.active_entitlement_summary": stripeEventSchema.shape.data.shape.object,
  event: stripeEventSchema,
  invoice: stripeInvoiceSchema,
  price: stripePriceSchema,
  product: stripeProductSchema,
  subscription: stripeSubscriptionSchema,
  subscription_item: stripeSubscriptionItemSchema,
};

describe("Stripe fixtures", () => {
  it("lists every fixture file in test/fixtures/stripe", () => {
    const files = readdirSync(STRIPE_FIXTURES_DIR)
      .filter((file) => file.endsWith(".json"))
      .map((file) => file.replace(/\.json$/, ""))
      .sort();
    expect(files).toEqual([...STRIPE_FIXTURE_NAMES].sort());
  });

  it.each(STRIPE_FIXTURE_NAMES)("%s parses with its schema", (name) => {
    const result = schemaFor[name].safeParse(loadStripeFixture(name));
    expect(result.error).toBeUndefined();
    expect(result.success).toBe(true);
  });

  it.each(STRIPE_FIXTURE_NAMES.filter((name) => name !== "event"))(
    "%s parses as an event's data.object",
    (name) => {
      const result = stripeEventSchema.safeParse({
        ...loadStripeFixture("event"),
        data: { object: loadStripeFixture(name) },
      });
      expect(result.success).toBe(true);
    },
  );
});

describe("stripeSubscriptionSchema", () => {
  it("reads the periods from the items and keeps fields it does not name", () => {
    const parsed = stripeSubscriptionSchema.parse(loadStripeFixture("subscription"));
    expect(parsed.items.data[0]?.current_period_end).toBe(976287773);
    expect(parsed.customer).toBe("cus_QXg1o8vcGmoR32");
    expect(parsed.cancel_at_period_end).toBe(true);
    expect((parsed as Record<string, unknown>).billing_mode).toEqual({ type: "classic", flexible: {} });
    expect((parsed.items.data[0] as Record<string, unknown>).tax_rates).toEqual([]);
  });

  it("accepts an expanded customer and normalises null metadata to {}", () => {
    const raw = {
      ...loadStripeFixture("subscription"),
      customer: loadStripeFixture("customer"),
      metadata: null,
    };
    const parsed = stripeSubscriptionSchema.parse(raw);
    expect(stripeId(parsed.customer)).toBe("cus_QXg1o8vcGmoR32");
    expect(parsed.metadata).toEqual({});
  });

  it.each([
    {
      name: "an unknown status",
      change: (s: Record<string, unknown>) => Object.assign(s, { status: "frozen" }),
      path: "status",
    },
    {
      name: "no items",
      change: (s: Record<string, unknown>) => Object.assign(s, { items: undefined }),
      path: "items",
    },
    {
      name: "an item without its period (old API shape)",
      change: (s: Record<string, unknown>) => {
        const item = (s.items as { data: Record<string, unknown>[] }).data[0];
        delete item?.current_period_end;
      },
      path: "items.data.0.current_period_end",
    },
    {
      name: "a customer that is not an id",
      change: (s: Record<string, unknown>) => Object.assign(s, { customer: 42 }),
      path: "customer",
    },
  ])("rejects $name", ({ change, path }) => {
    const raw = loadStripeFixture("subscription");
    change(raw);
    const result = stripeSubscriptionSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toContain(path);
  });
});

describe("other objects", () => {
  it("finds an invoice's subscription in parent.subscription_details, or the legacy field", () => {
    expect(invoiceSubscriptionId(makeInvoice({ subscription: "sub_123" }))).toBe("sub_123");
    const legacy = stripeInvoiceSchema.parse({
      ...loadStripeFixture("invoice"),
      parent: null,
      subscription: "sub_old",
    });
    expect(invoiceSubscriptionId(legacy)).toBe("sub_old");
    expect(invoiceSubscriptionId(makeInvoice({ subscription: null }))).toBeUndefined();
  });

  it("parses a deleted customer, which carries no email or metadata", () => {
    const deleted = makeCustomer({ id: "cus_gone", deleted: true });
    expect(deleted).toMatchObject({ id: "cus_gone", deleted: true, metadata: {} });
    expect(deleted.email).toBeUndefined();
  });

  it("reads checkout custom fields", () => {
    const session = makeCheckoutSession({ integratorEmail: "Ops@Buyer.example", subscription: "sub_1" });
    expect(session.custom_fields[0]?.text?.value).toBe("Ops@Buyer.example");
    expect(stripeId(session.subscription)).toBe("sub_1");
  });

  it("builds events as Stripe sends them", () => {
    const subscription = makeSubscription({ status: "active" });
    const event = makeEvent("customer.subscription.updated", subscription, {
      previous_attributes: { status: "trialing" },
      created: 1_763_208_000,
    });
    expect(event).toMatchObject({
      object: "event",
      type: "customer.subscription.updated",
      created: 1_763_208_000,
    });
    expect(event.data.object.id).toBe(subscription.id);
    expect(event.data.previous_attributes).toEqual({ status: "trialing" });
    expect("previous_attributes" in makeEvent("customer.subscription.created", subscription).data).toBe(
      false,
    );
  });

  it("rejects an event without data.object", () => {
    const result = stripeEventSchema.safeParse({ ...loadStripeFixture("event"), data: {} });
    expect(result.success).toBe(false);
  });
});
