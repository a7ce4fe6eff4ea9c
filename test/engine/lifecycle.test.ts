import { describe, expect, it } from "vitest";
import { buyer, deliver, engineHarness, subscribe } from "#test/helpers/engine-harness.ts";
import { daysAfter, unix } from "#test/helpers/stripe-fixtures.ts";
import { SHOPIFY } from "#test/unit/licensing/test-catalog.ts";

// A license's life through the engine, on a fake clock with the stores in memory: what the
// customer ends up with in integrator.io, in our records, and what the vendor's systems were told.

describe("a subscription's lifecycle", () => {
  it("a purchase provisions one license; an upgrade updates it; a cancellation expires it", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "lifecycle");
    const sub = subscribe(h, customerId);
    await deliver(h, "customer.subscription.created", sub);

    const [license] = h.integrator.forEmail(email);
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(license?.opts).toMatchObject({ connectorEdition: "standard" });
    expect(await h.licenses.get(customerId, SHOPIFY.connectorKey)).toMatchObject({
      state: "active",
      licenseId: license?._id,
      email,
    });

    h.clock.advance(60_000);
    const upgraded = subscribe(h, customerId, { id: sub.id, items: [{ price: "price_prem_month" }] });
    await deliver(h, "customer.subscription.updated", upgraded);
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(h.integrator.forEmail(email)[0]?.opts).toMatchObject({ connectorEdition: "premium" });

    h.clock.advance(60_000);
    const canceled = subscribe(h, customerId, {
      id: sub.id,
      status: "canceled",
      items: [{ price: "price_prem_month" }],
    });
    await deliver(h, "customer.subscription.deleted", canceled);
    const [expired] = h.integrator.forEmail(email);
    expect(Date.parse(expired?.expires ?? "")).toBeLessThanOrEqual(h.clock.now().getTime());
    expect(await h.licenses.get(customerId, SHOPIFY.connectorKey)).toMatchObject({ state: "expired" });
    expect(h.announced.typesFor(customerId)).toEqual([
      "license.provisioned",
      "license.updated",
      "license.expired",
    ]);
  });

  it("an email without an integrator.io account parks the license, announced once, until the account exists", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "pending", { account: false });
    const sub = subscribe(h, customerId);
    await deliver(h, "customer.subscription.created", sub);
    expect(await h.licenses.get(customerId, SHOPIFY.connectorKey)).toMatchObject({
      state: "pending_user",
      email,
    });
    await h.engine.converge(customerId, "retry");
    expect(h.announced.typesFor(customerId)).toEqual(["license.pending_user"]);

    h.integrator.users.add(email);
    await h.engine.converge(customerId, "reconcile:1");
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(h.announced.typesFor(customerId)).toEqual(["license.pending_user", "license.provisioned"]);
  });
});

describe("duplicates and reordering", () => {
  it("the same event twice changes nothing the second time", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "twice");
    const sub = subscribe(h, customerId);
    await deliver(h, "customer.subscription.created", sub, { id: "evt_same" });
    await deliver(h, "customer.subscription.created", sub, { id: "evt_same" });
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(h.integrator.creates).toBe(1);
    expect(h.announced.typesFor(customerId)).toEqual(["license.provisioned"]);
  });

  it("an older snapshot delivered after a newer one is kept out", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "older");
    const now = unix(h.clock.now());
    const premium = subscribe(h, customerId, { items: [{ price: "price_prem_month" }] });
    const standard = {
      ...premium,
      items: subscribe(h, customerId, { items: [{ price: "price_std_month" }] }).items,
    };
    h.stripe.subscriptions.set(premium.id, premium);
    await deliver(h, "customer.subscription.updated", premium, { created: now });
    await deliver(h, "customer.subscription.created", standard, { created: now - 60 });
    expect(h.integrator.forEmail(email)[0]?.opts).toMatchObject({ connectorEdition: "premium" });
    expect((await h.customers.subscription(customerId, premium.id))?.version).toBe(now);
  });

  it("a cancellation delivered before the creation stays canceled: terminal is terminal", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "terminal");
    const now = unix(h.clock.now());
    const canceled = subscribe(h, customerId, { status: "canceled" });
    const active = { ...canceled, status: "active" as const, ended_at: null, canceled_at: null };
    await deliver(h, "customer.subscription.deleted", canceled, { created: now });
    // Newer by its event time, yet not final: Stripe never leaves `canceled`.
    await deliver(h, "customer.subscription.updated", active, { created: now + 5 });
    expect((await h.customers.subscription(customerId, canceled.id))?.status).toBe("canceled");
    expect(h.integrator.forEmail(email)).toEqual([]);
  });

  it("a snapshot fetched before a cancellation was stored never undoes it", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "late-fetch");
    const sub = subscribe(h, customerId);
    await deliver(h, "customer.subscription.created", sub);
    // Reconcile (or a transfer) fetches the subscription while it is still active...
    const canceled = { ...sub, status: "canceled" as const, ended_at: unix(h.clock.now()) };
    const fetch = h.stripe.subscription.bind(h.stripe);
    h.stripe.subscription = async (id) => {
      const fetched = await fetch(id);
      // ...and the worker stores the cancellation before that fetch is written.
      h.stripe.subscription = fetch;
      h.stripe.subscriptions.set(sub.id, canceled);
      await deliver(h, "customer.subscription.deleted", canceled, { created: unix(h.clock.now()) + 1 });
      return fetched;
    };
    await h.engine.refreshSubscription(customerId, sub.id, 0);
    expect((await h.customers.subscription(customerId, sub.id))?.status).toBe("canceled");
    // A fetched active snapshot after the fact is dropped too.
    h.stripe.subscriptions.set(sub.id, sub);
    await h.engine.refreshSubscription(customerId, sub.id, 0);
    expect((await h.customers.subscription(customerId, sub.id))?.status).toBe("canceled");
    await h.engine.converge(customerId, "reconcile:1");
    expect(Date.parse(h.integrator.forEmail(email)[0]?.expires ?? "")).toBeLessThanOrEqual(
      h.clock.now().getTime(),
    );
  });

  it("a snapshot of the same second with other content asks Stripe, which decides", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "tie");
    const now = unix(h.clock.now());
    const standard = subscribe(h, customerId);
    const premium = subscribe(h, customerId, { id: standard.id, items: [{ price: "price_prem_month" }] });
    await deliver(h, "customer.subscription.updated", premium, { created: now });
    const fetchesBefore = h.stripe.fetches;
    await deliver(h, "customer.subscription.updated", standard, { created: now });
    expect(h.stripe.fetches).toBeGreaterThan(fetchesBefore);
    expect(h.integrator.forEmail(email)[0]?.opts).toMatchObject({ connectorEdition: "premium" });
  });

  it("a trial ending with the renewal buffer: the license runs to the period end plus the buffer", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "period");
    const end = daysAfter(h.clock.now(), 20);
    const sub = subscribe(h, customerId, { current_period_end: end });
    await deliver(h, "customer.subscription.created", sub);
    const expires = Date.parse(h.integrator.forEmail(email)[0]?.expires ?? "") / 1000;
    expect(expires).toBe(end + 3 * 86_400);
  });
});
