import { describe, expect, it } from "vitest";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";
import {
  buyer,
  deliver,
  type EngineHarness,
  engineHarness,
  subscribe,
} from "#test/helpers/engine-harness.ts";
import { makeInvoice, unix } from "#test/helpers/stripe-fixtures.ts";
import { SHOPIFY } from "#test/unit/licensing/test-catalog.ts";

// Stripe delivers at least once and in no particular order: what the engine makes of its events
// whatever their order (these cases ran through the local stack before, test/e2e/provisioning-faults).

const DAY = 86_400;
const expiresOf = (h: EngineHarness, email: string) =>
  Date.parse(h.integrator.forEmail(email)[0]?.expires ?? "") / 1000;
const periodEnd = (subscription: StripeSubscription) => subscription.items.data[0]?.current_period_end ?? 0;

/** Every order of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe("deliveries duplicated and in any order", () => {
  it("end in Stripe's final state, with one license created once, for every order of four changes", async () => {
    const orders = permutations([0, 1, 2, 3]);
    expect(orders).toHaveLength(24);
    for (const [n, order] of orders.entries()) {
      const h = engineHarness();
      const { customerId, email } = buyer(h, `shuffled-${n}`);
      const t0 = unix(h.clock.now());
      // Bought standard, moved to premium, added three stores, then set to cancel at the period end.
      const standard = subscribe(h, customerId);
      const id = standard.id;
      const premium = subscribe(h, customerId, { id, items: [{ price: "price_prem_month" }] });
      const stores = [{ price: "price_prem_month" }, { price: "price_store_month", quantity: 3 }];
      const withStores = subscribe(h, customerId, { id, items: stores });
      const final = subscribe(h, customerId, { id, items: stores, cancel_at_period_end: true });
      const events = [
        { type: "customer.subscription.created", object: standard, created: t0, id: `evt_${n}_0` },
        { type: "customer.subscription.updated", object: premium, created: t0 + 1, id: `evt_${n}_1` },
        { type: "customer.subscription.updated", object: withStores, created: t0 + 2, id: `evt_${n}_2` },
        { type: "customer.subscription.updated", object: final, created: t0 + 3, id: `evt_${n}_3` },
      ];
      // Stripe's current subscription is the last one; each order also delivers one event twice.
      const deliveries = [...order, order[n % 4] ?? 0].map((i) => events[i]);
      for (const event of deliveries) {
        if (!event) continue;
        await deliver(h, event.type, event.object, { created: event.created, id: event.id });
      }

      const what = `order ${order.join(",")}`;
      expect(h.integrator.forEmail(email), what).toHaveLength(1);
      expect(h.integrator.creates, what).toBe(1);
      expect(h.integrator.forEmail(email)[0]?.opts, what).toEqual({
        connectorEdition: "premium",
        addonLicenses: [{ type: "store", licenses: Array(3).fill({ addOnEdition: "standard" }) }],
      });
      // Canceling at the period end: the license ends there, without the renewal buffer.
      expect(expiresOf(h, email), what).toBe(periodEnd(final));
      expect((await h.customers.subscription(customerId, id))?.snapshot.cancel_at_period_end, what).toBe(
        true,
      );
    }
  });

  for (const order of ["older-last", "older-first"] as const) {
    it(`two snapshots of the same second, ${order}: Stripe's current subscription decides`, async () => {
      const h = engineHarness();
      const { customerId, email } = buyer(h, `tie-${order}`);
      const t0 = unix(h.clock.now());
      const standard = subscribe(h, customerId);
      await deliver(h, "customer.subscription.created", standard, { created: t0 });
      const premium = subscribe(h, customerId, { id: standard.id, items: [{ price: "price_prem_month" }] });
      await deliver(h, "customer.subscription.updated", premium, { created: t0 + 60 });
      expect(h.integrator.forEmail(email)[0]?.opts).toMatchObject({ connectorEdition: "premium" });

      // Two events of one second: a stale standard snapshot and the current premium one.
      const stale = { ...premium, items: standard.items };
      const events = [
        { object: premium, id: `evt_tie_new_${order}` },
        { object: stale, id: `evt_tie_old_${order}` },
      ];
      if (order === "older-first") events.reverse();
      const fetches = h.stripe.fetches;
      for (const { object, id } of events) {
        await deliver(h, "customer.subscription.updated", object, { created: t0 + 65, id });
      }
      expect(h.stripe.fetches).toBeGreaterThan(fetches);
      expect(h.integrator.forEmail(email)).toHaveLength(1);
      expect(h.integrator.forEmail(email)[0]?.opts).toMatchObject({ connectorEdition: "premium" });
      expect((await h.customers.subscription(customerId, standard.id))?.snapshot.items).toEqual(
        premium.items,
      );
    });
  }
});

describe("invoice events", () => {
  it("ask Stripe about a paid invoice only when the stored subscription does not show it paid", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "invoice-paid");
    const t0 = unix(h.clock.now());
    const monthly = { ...subscribe(h, customerId), latest_invoice: "in_first" };
    h.stripe.subscriptions.set(monthly.id, monthly);
    await deliver(h, "customer.subscription.created", monthly, { created: t0 });
    const first = expiresOf(h, email);
    expect(first).toBe(periodEnd(monthly) + 3 * DAY);

    // Stripe moves on (a yearly price: a new invoice, paid) while its events are held back.
    const yearly = {
      ...subscribe(h, customerId, { id: monthly.id, items: [{ price: "std_yearly" }] }),
      latest_invoice: "in_yearly",
    };
    h.stripe.subscriptions.set(yearly.id, yearly);
    const paid = (invoiceId: string, created: number) =>
      deliver(
        h,
        "invoice.paid",
        makeInvoice({ id: invoiceId, customer: customerId, subscription: monthly.id }),
        {
          created,
        },
      );

    // The first invoice, of the second the stored subscription is from: the stored one shows it
    // paid, so Stripe is not asked and the held-back change stays unseen.
    const fetches = h.stripe.fetches;
    await paid("in_first", t0);
    expect(h.stripe.fetches).toBe(fetches);
    expect(expiresOf(h, email)).toBe(first);

    // The new invoice, of the same second, is not the stored one's latest: Stripe is asked and the
    // license follows it.
    await paid("in_yearly", t0);
    expect(h.stripe.fetches).toBe(fetches + 1);
    expect(expiresOf(h, email)).toBe(periodEnd(yearly) + 3 * DAY);
    expect(h.integrator.forEmail(email)).toHaveLength(1);
  });

  it("ask Stripe about a paid invoice the stored subscription shows unpaid, even of the same second", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "paid-past-due");
    const t0 = unix(h.clock.now());
    // The renewal failed (past_due, its invoice open); the customer pays it in the same second.
    const pastDue = { ...subscribe(h, customerId, { status: "past_due" }), latest_invoice: "in_renewal" };
    await deliver(h, "customer.subscription.updated", pastDue, { created: t0 });
    expect(expiresOf(h, email)).toBe(periodEnd(pastDue) + 14 * DAY);
    const paid = { ...pastDue, status: "active" as const };
    h.stripe.subscriptions.set(paid.id, paid);
    await deliver(
      h,
      "invoice.paid",
      makeInvoice({ id: "in_renewal", customer: customerId, subscription: paid.id }),
      { created: t0 },
    );
    expect((await h.customers.subscription(customerId, paid.id))?.status).toBe("active");
    expect(expiresOf(h, email)).toBe(periodEnd(paid) + 3 * DAY);
  });

  it("after a paid invoice newer than the stored subscription, an older snapshot delivered late is refused", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "paid-fence");
    const t0 = unix(h.clock.now());
    const subscription = { ...subscribe(h, customerId), latest_invoice: "in_first" };
    h.stripe.subscriptions.set(subscription.id, subscription);
    await deliver(h, "customer.subscription.created", subscription, { created: t0 });
    const first = h.integrator.forEmail(email)[0];

    // A payment a minute later (Stripe: still active), then a redelivered snapshot from before it
    // saying the subscription had gone unpaid.
    await deliver(
      h,
      "invoice.paid",
      makeInvoice({ id: "in_first", customer: customerId, subscription: subscription.id }),
      { created: t0 + 60 },
    );
    await deliver(
      h,
      "customer.subscription.updated",
      { ...subscription, status: "unpaid" },
      { created: t0 + 30, id: "evt_late_unpaid" },
    );
    expect(h.integrator.forEmail(email)).toEqual([first]);
    expect(await h.licenses.get(customerId, SHOPIFY.connectorKey)).toMatchObject({ state: "active" });
    expect((await h.customers.subscription(customerId, subscription.id))?.status).toBe("active");
  });
});
