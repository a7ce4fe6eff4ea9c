/**
 * The Stripe simulator speaks a webhook endpoint's API version: an endpoint on a version before
 * 2025-03-31 (basil) receives subscriptions with their periods on the subscription (none on the
 * items) and invoices with a top-level `subscription` (no `parent`); an endpoint without a version
 * keeps receiving the pinned one. Plus the control hook that shows a status Stripe added later.
 */
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type SimHarness,
  seedPrice,
  startSimHarness,
  startWebhookReceiver,
  type WebhookReceiver,
} from "#test/helpers/stripe-sim.ts";

const OLD_VERSION = "2024-06-20";
const OLD_SECRET = "whsec_old_version";

let h: SimHarness;
let old: WebhookReceiver;

beforeAll(async () => {
  h = await startSimHarness("whsec_pinned_version");
  old = await startWebhookReceiver(new Stripe("sk_test_verifier"), OLD_SECRET);
  const registered = await h.control("POST", "/_sim/webhook_endpoints", {
    url: old.url,
    secret: OLD_SECRET,
    apiVersion: OLD_VERSION,
  });
  expect(registered).toMatchObject({ status: 200, body: { api_version: OLD_VERSION } });
  await seedPrice(h, { product: "prod_versions", price: "price_versions_month" });
});
afterAll(async () => {
  await h?.stop();
  await old?.stop();
});

type Json = Record<string, unknown>;
const objectOf = (event: Stripe.Event) => event.data.object as unknown as Json;
const itemsOf = (subscription: Json) => (subscription.items as { data: Json[] }).data;

/** The verified event of `type` about `objectId` that `receiver` got. */
function received(receiver: WebhookReceiver, type: string, objectId: string): Stripe.Event {
  const event = receiver.events().find((e) => e.type === type && objectOf(e).id === objectId);
  if (!event) throw new Error(`no ${type} for ${objectId}`);
  return event;
}

async function subscribe(clock?: string) {
  const customer = await h.stripe.customers.create({
    email: "versions@example.com",
    ...(clock ? { test_clock: clock } : {}),
  });
  const subscription = await h.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: "price_versions_month" }],
  });
  await h.flush();
  return subscription;
}

describe("events in an endpoint's API version", () => {
  it("renders a subscription's periods on the subscription for an endpoint before 2025-03-31", async () => {
    const subscription = await subscribe();
    const periodEnd = subscription.items.data[0]?.current_period_end;
    const periodStart = subscription.items.data[0]?.current_period_start;
    expect(periodEnd).toBeGreaterThan(0);

    const before = received(old, "customer.subscription.created", subscription.id);
    expect(before.api_version).toBe(OLD_VERSION);
    expect(objectOf(before)).toMatchObject({
      current_period_start: periodStart,
      current_period_end: periodEnd,
      status: "active",
    });
    for (const item of itemsOf(objectOf(before))) {
      expect(item).not.toHaveProperty("current_period_end");
      expect(item).not.toHaveProperty("current_period_start");
    }

    const pinned = received(h.receiver, "customer.subscription.created", subscription.id);
    expect(pinned.api_version).toBe(Stripe.API_VERSION);
    expect(objectOf(pinned)).not.toHaveProperty("current_period_end");
    expect(itemsOf(objectOf(pinned))[0]).toMatchObject({ current_period_end: periodEnd });
  });

  it("renders an invoice with a top-level subscription and no parent for an endpoint before 2025-03-31", async () => {
    const subscription = await subscribe();
    const invoiceId = String(subscription.latest_invoice);
    const before = objectOf(received(old, "invoice.paid", invoiceId));
    expect(before).toMatchObject({ subscription: subscription.id, subscription_details: { metadata: {} } });
    expect(before).not.toHaveProperty("parent");
    const [line] = (before.lines as { data: Json[] }).data;
    expect(line).toMatchObject({ subscription: subscription.id, type: "subscription" });
    expect(line).not.toHaveProperty("parent");

    const pinned = objectOf(received(h.receiver, "invoice.paid", invoiceId));
    expect(pinned).toMatchObject({ parent: { subscription_details: { subscription: subscription.id } } });
  });

  it("names a renewal's old periods on the subscription in previous_attributes", async () => {
    const clock = await h.stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.now() / 1000),
    });
    const subscription = await subscribe(clock.id);
    const firstEnd = subscription.items.data[0]?.current_period_end ?? 0;
    await h.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: firstEnd + 60 });
    await h.flush();

    const renewal = old
      .events()
      .find((e) => e.type === "customer.subscription.updated" && objectOf(e).id === subscription.id);
    expect(renewal?.data.previous_attributes).toMatchObject({ current_period_end: firstEnd });
    expect(renewal?.data.previous_attributes).not.toHaveProperty("items");
    expect(objectOf(renewal as Stripe.Event).current_period_start).toBe(firstEnd);
  });

  it("uses the api_version an endpoint was created with through the API", async () => {
    const other = await startWebhookReceiver(new Stripe("sk_test_verifier"), "whsec_unknown_yet");
    try {
      const endpoint = await h.stripe.webhookEndpoints.create({
        url: other.url,
        enabled_events: ["customer.subscription.created"],
        api_version: "2025-02-24.acacia" as Stripe.WebhookEndpointCreateParams.ApiVersion,
      });
      const subscription = await subscribe();
      const raw = other.deliveries.map((d) => JSON.parse(d.raw) as Json & { data: { object: Json } });
      const event = raw.find((e) => e.data.object.id === subscription.id);
      expect(event).toMatchObject({ api_version: "2025-02-24.acacia" });
      expect(event?.data.object.current_period_end).toBe(subscription.items.data[0]?.current_period_end);
      await h.stripe.webhookEndpoints.del(endpoint.id);
    } finally {
      await other.stop();
    }
  });
});

describe("a status Stripe added after the pinned version", () => {
  it("is shown on the subscription everywhere until cleared, billing unchanged", async () => {
    const subscription = await subscribe();
    const shown = await h.control("PUT", `/_sim/subscriptions/${subscription.id}/shown-status`, {
      status: "awaiting_renewal",
    });
    expect(shown).toMatchObject({ status: 200, body: { status: "awaiting_renewal" } });
    const retrieved = (await h.stripe.subscriptions.retrieve(subscription.id)) as unknown as Json;
    expect(retrieved.status).toBe("awaiting_renewal");
    const listed = await h.stripe.subscriptions.list({
      customer: String(subscription.customer),
      status: "all",
    });
    expect(listed.data.map((s) => s.status)).toEqual(["awaiting_renewal"]);

    await h.control("PUT", `/_sim/subscriptions/${subscription.id}/shown-status`, { status: null });
    expect((await h.stripe.subscriptions.retrieve(subscription.id)).status).toBe("active");
  });
});
