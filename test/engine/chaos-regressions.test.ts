import { describe, expect, it } from "vitest";
import {
  buyer,
  deliver,
  type EngineHarness,
  engineHarness,
  subscribe,
} from "#test/helpers/engine-harness.ts";
import { makeCustomer, makeInvoice, monthsAfter, unix } from "#test/helpers/stripe-fixtures.ts";
import { SHOPIFY } from "#test/unit/licensing/test-catalog.ts";

// What the chaos suite (test/chaos) found, replayed at the engine's seam: the events in the order
// that broke things, Stripe's current objects as the fakes' state.

const DAY = 86_400;
const live = (h: EngineHarness, email: string) =>
  h.integrator.forEmail(email).filter((l) => Date.parse(l.expires ?? "") > h.clock.now().getTime());

describe("chaos regressions", () => {
  it("never lets an older event snapshot replace what was fetched from Stripe later", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "refreshed");
    const t0 = unix(h.clock.now());
    const start = t0 - 40 * DAY;
    // Bought 40 days ago; renewed at the period's end, then upgraded in that same second.
    const bought = subscribe(h, customerId, {
      created: start,
      current_period_start: start,
      current_period_end: monthsAfter(start, 1),
    });
    const renewedAt = monthsAfter(start, 1) + 60;
    const renewal = subscribe(h, customerId, {
      id: bought.id,
      created: start,
      current_period_start: monthsAfter(start, 1),
      current_period_end: monthsAfter(start, 2),
    });
    const current = subscribe(h, customerId, {
      id: bought.id,
      created: start,
      current_period_start: monthsAfter(start, 1),
      current_period_end: monthsAfter(start, 2),
      items: [{ price: "price_prem_month" }],
    });
    expect(h.stripe.subscriptions.get(bought.id)).toEqual(current);

    // The first payment arrives first: the engine stores Stripe's current (premium) subscription.
    await deliver(h, "invoice.paid", makeInvoice({ customer: customerId, subscription: bought.id }), {
      created: start,
    });
    expect(live(h, email).map((l) => l.opts?.connectorEdition)).toEqual(["premium"]);
    // The renewal's snapshot (still standard) is newer than the first payment, but older than what
    // was fetched: it must not downgrade the license.
    await deliver(h, "customer.subscription.updated", renewal, { created: renewedAt });
    expect(h.integrator.forEmail(email)).toHaveLength(1);
    expect(h.integrator.forEmail(email)[0]?.opts).toMatchObject({ connectorEdition: "premium" });
    expect(Date.parse(h.integrator.forEmail(email)[0]?.expires ?? "") / 1000).toBe(
      monthsAfter(start, 2) + 3 * DAY,
    );
  });

  it("a create whose answer was lost adopts the license it made, not an older one of the customer on the same email", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "lost-create");
    const sub = subscribe(h, customerId);
    await deliver(h, "customer.subscription.created", sub);
    const first = await h.licenses.get(customerId, SHOPIFY.connectorKey);
    if (!first?.licenseId) throw new Error("no first license");

    // The license moved away from this email and back within a minute (two transfers): the first
    // one was expired, and the create back onto the email lost its answer after integrator.io had
    // applied it, so the record says `creating`.
    h.clock.advance(30_000);
    await h.integrator.update(SHOPIFY.connectorId, first.licenseId, {
      expires: new Date(h.clock.now().getTime() - 1000).toISOString(),
      opts: first.opts,
    });
    const intent = await h.licenses.save(
      {
        customerId,
        connectorKey: first.connectorKey,
        connectorId: first.connectorId,
        subscriptionId: first.subscriptionId,
        email,
        expires: first.expires,
        opts: first.opts,
        state: "creating",
        intentAt: h.clock.now().toISOString(),
      },
      first.rev,
    );
    const created = await h.integrator.create(SHOPIFY.connectorId, {
      email,
      expires: first.expires,
      opts: first.opts as never,
    });

    // The customer's next event resolves the intent.
    await deliver(h, "customer.updated", makeCustomer({ id: customerId, email, name: "Next event" }));
    const record = await h.licenses.get(customerId, SHOPIFY.connectorKey);
    expect(record?.rev).not.toBe(intent.rev);
    expect(record).toMatchObject({ licenseId: created._id, state: "active" });
    expect(live(h, email).map((l) => l._id)).toEqual([created._id]);
  });

  it("never lets an older customer event replace the customer fetched from Stripe later", async () => {
    const h = engineHarness();
    const emails = ["profile-0@example.com", "profile-1@example.com", "profile-2@example.com"];
    const { customerId } = buyer(h, "profile", { account: false });
    for (const email of emails) h.integrator.users.add(email);
    const t0 = unix(h.clock.now());
    // Two email changes on later days (the license follows the billing email): Stripe has the last.
    h.stripe.customers.set(customerId, makeCustomer({ id: customerId, email: emails[2] }));
    const sub = subscribe(h, customerId);

    // The subscription arrives first: the engine fetches the customer (its email is the last one).
    await deliver(h, "customer.subscription.created", sub, { created: t0 });
    expect(h.integrator.forEmail(emails[2] ?? "").map((l) => l.opts?.connectorEdition)).toEqual(["standard"]);
    // The first email change arrives late: older than the fetched customer, it must change nothing.
    await deliver(h, "customer.updated", makeCustomer({ id: customerId, email: emails[1] }), {
      created: t0 + DAY,
    });
    expect(h.integrator.forEmail(emails[1] ?? "")).toEqual([]);
    expect(live(h, emails[2] ?? "")).toHaveLength(1);
    expect((await h.customers.profile(customerId))?.email).toBe(emails[2]);
  });
});
