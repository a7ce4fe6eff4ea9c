import { describe, expect, it } from "vitest";
import type { StripeSubscription } from "#lib/stripe/schemas.ts";
import {
  buyer,
  deliver,
  type EngineHarness,
  engineHarness,
  subscribe,
} from "#test/helpers/engine-harness.ts";
import { makeInvoice, monthsAfter, unix } from "#test/helpers/stripe-fixtures.ts";
import { SHOPIFY } from "#test/unit/licensing/test-catalog.ts";

// A subscription's billing life as Stripe's events tell it, through the engine on a fake clock:
// the license's expiry follows the catalog's policy (a 3-day renewal buffer, 14 days of grace
// while past due). These cases ran through the local stack and Stripe's test clocks before
// (test/e2e/provisioning-lifecycle).

const DAY = 86_400;
const policy = { renewalBufferDays: 3, pastDueGraceDays: 14 };
const periodEnd = (subscription: StripeSubscription) => subscription.items.data[0]?.current_period_end ?? 0;
const licenseOf = (h: EngineHarness, email: string) => {
  const licenses = h.integrator.forEmail(email);
  expect(licenses).toHaveLength(1);
  return licenses[0];
};
const expiresOf = (h: EngineHarness, email: string) => Date.parse(licenseOf(h, email)?.expires ?? "") / 1000;

describe("a subscription's billing life", () => {
  it("trial, conversion, renewal, failed payment with grace, recovery, upgrade with add-ons, cancellation", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "billing");
    const now = () => unix(h.clock.now());
    const at = (seconds: number) => h.clock.advance(seconds * 1000 - h.clock.now().getTime());

    // A 14-day trial: the license ends with the trial.
    const trialEnd = now() + 14 * DAY;
    const trial = subscribe(h, customerId, { status: "trialing", trial_start: now(), trial_end: trialEnd });
    const id = trial.id;
    await deliver(h, "customer.subscription.created", trial);
    expect(licenseOf(h, email)?.opts).toEqual({ connectorEdition: "standard" });
    expect(expiresOf(h, email)).toBe(trialEnd);

    // The trial ends: active, to the period's end plus the renewal buffer.
    at(trialEnd + 60);
    const period = (start: number, extra: Parameters<typeof subscribe>[2] = {}) =>
      subscribe(h, customerId, {
        id,
        trial_start: trial.trial_start ?? null,
        trial_end: trialEnd,
        current_period_start: start,
        current_period_end: monthsAfter(start, 1),
        ...extra,
      });
    let current = period(trialEnd);
    await deliver(h, "customer.subscription.updated", current);
    expect(expiresOf(h, email)).toBe(periodEnd(current) + policy.renewalBufferDays * DAY);

    // The renewal: its invoice is paid, and Stripe's subscription (fetched) moves the expiry.
    at(periodEnd(current) + 60);
    current = { ...period(periodEnd(current)), latest_invoice: "in_renewal" };
    h.stripe.subscriptions.set(id, current);
    await deliver(
      h,
      "invoice.paid",
      makeInvoice({ id: "in_renewal", customer: customerId, subscription: id }),
    );
    expect(expiresOf(h, email)).toBe(periodEnd(current) + policy.renewalBufferDays * DAY);

    // The next renewal fails: past_due keeps access through the grace period.
    at(periodEnd(current) + 60);
    current = { ...period(periodEnd(current), { status: "past_due" }), latest_invoice: "in_failed" };
    h.stripe.subscriptions.set(id, current);
    const failed = makeInvoice({ id: "in_failed", customer: customerId, subscription: id, status: "open" });
    await deliver(h, "invoice.payment_failed", failed);
    expect(expiresOf(h, email)).toBe(periodEnd(current) + policy.pastDueGraceDays * DAY);

    // The customer pays: active again.
    h.clock.advance(DAY * 1000);
    current = { ...current, status: "active" };
    h.stripe.subscriptions.set(id, current);
    await deliver(h, "invoice.paid", { ...failed, status: "paid" });
    expect(expiresOf(h, email)).toBe(periodEnd(current) + policy.renewalBufferDays * DAY);

    // Upgrade to premium with two store add-ons.
    h.clock.advance(60_000);
    current = period(current.items.data[0]?.current_period_start ?? 0, {
      items: [{ price: "price_prem_month" }, { price: "price_store_month", quantity: 2 }],
    });
    await deliver(h, "customer.subscription.updated", current);
    expect(licenseOf(h, email)?.opts).toEqual({
      connectorEdition: "premium",
      addonLicenses: [
        { type: "store", licenses: [{ addOnEdition: "standard" }, { addOnEdition: "standard" }] },
      ],
    });

    // Cancellation expires it now.
    h.clock.advance(60_000);
    const canceled = period(current.items.data[0]?.current_period_start ?? 0, {
      status: "canceled",
      items: [{ price: "price_prem_month" }, { price: "price_store_month", quantity: 2 }],
      ended_at: now(),
    });
    await deliver(h, "customer.subscription.deleted", canceled);
    expect(expiresOf(h, email)).toBeLessThanOrEqual(now());
    expect(await h.licenses.get(customerId, SHOPIFY.connectorKey)).toMatchObject({ state: "expired" });

    // One license all along, created once.
    expect(h.integrator.creates).toBe(1);
    expect(h.announced.typesFor(customerId)).toEqual([
      "license.provisioned",
      ...Array(5).fill("license.updated"),
      "license.expired",
    ]);
  });

  it("cancel_at_period_end ends the license at the period end, without the buffer", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "cancel-at-end");
    const sub = subscribe(h, customerId);
    await deliver(h, "customer.subscription.created", sub);
    expect(expiresOf(h, email)).toBe(periodEnd(sub) + policy.renewalBufferDays * DAY);
    h.clock.advance(60_000);
    const ending = subscribe(h, customerId, { id: sub.id, cancel_at_period_end: true });
    await deliver(h, "customer.subscription.updated", ending);
    expect(expiresOf(h, email)).toBe(periodEnd(ending));
    expect(await h.licenses.get(customerId, SHOPIFY.connectorKey)).toMatchObject({ state: "active" });
  });

  it("a move to the yearly price (by its lookup key) keeps the edition and runs to the year's end", async () => {
    const h = engineHarness();
    const { customerId, email } = buyer(h, "yearly");
    const sub = subscribe(h, customerId);
    await deliver(h, "customer.subscription.created", sub);
    h.clock.advance(60_000);
    const yearly = subscribe(h, customerId, { id: sub.id, items: [{ price: "std_yearly" }] });
    expect(yearly.items.data[0]?.price).toMatchObject({ lookup_key: "std_yearly" });
    expect(yearly.items.data[0]?.price.id).not.toBe("std_yearly");
    await deliver(h, "customer.subscription.updated", yearly);
    expect(periodEnd(yearly)).toBeGreaterThan(periodEnd(sub) + 300 * DAY);
    expect(expiresOf(h, email)).toBe(periodEnd(yearly) + policy.renewalBufferDays * DAY);
    expect(licenseOf(h, email)?.opts).toEqual({ connectorEdition: "standard" });
  });
});
