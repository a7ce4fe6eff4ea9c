import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createIntegratorUser,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";
import { DAY, licenseWhere, sameInstant, uniqueEmail } from "#test/helpers/provisioning.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const policy = { renewalBufferDays: 3, pastDueGraceDays: 14 };
const periodEnd = (subscription: Stripe.Subscription) => subscription.items.data[0]?.current_period_end ?? 0;

async function advance(clockId: string, toSeconds: number) {
  await stack.stripe.testHelpers.testClocks.advance(clockId, { frozen_time: toSeconds });
}

async function buyer(label: string, options: { trialDays?: number; withAccount?: boolean } = {}) {
  const email = uniqueEmail(label);
  if (options.withAccount !== false) await createIntegratorUser(stack, email);
  const start = Math.floor(Date.now() / 1000);
  const clock = await stack.stripe.testHelpers.testClocks.create({ frozen_time: start });
  const customer = await stack.stripe.customers.create({ email, test_clock: clock.id });
  const subscription = await stack.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: "price_std_month" }],
    ...(options.trialDays ? { trial_period_days: options.trialDays } : {}),
  });
  return { email, clock, customer, subscription, start };
}

describe("Stripe → integrator.io license, through the local stack", () => {
  it("follows a whole lifecycle: trial, conversion, renewal, failed payment with grace, recovery, upgrade, cancellation", async () => {
    const { email, clock, customer, subscription } = await buyer("lifecycle", { trialDays: 14 });
    expect(subscription.status).toBe("trialing");
    const trialEnd = subscription.trial_end ?? 0;
    let license = await licenseWhere(stack, email, (l) => sameInstant(l.expires, trialEnd), "trial license");
    expect(license.opts.connectorEdition).toBe("standard");

    // Trial ends: active, expires at period end + renewal buffer.
    await advance(clock.id, trialEnd + 60);
    let current = await stack.stripe.subscriptions.retrieve(subscription.id);
    expect(current.status).toBe("active");
    license = await licenseWhere(
      stack,
      email,
      (l) => sameInstant(l.expires, periodEnd(current) + policy.renewalBufferDays * DAY),
      "active license",
    );

    // Renewal: the next period moves the expiry.
    const firstEnd = periodEnd(current);
    await advance(clock.id, firstEnd + 60);
    current = await stack.stripe.subscriptions.retrieve(subscription.id);
    expect(periodEnd(current)).toBeGreaterThan(firstEnd);
    license = await licenseWhere(
      stack,
      email,
      (l) => sameInstant(l.expires, periodEnd(current) + policy.renewalBufferDays * DAY),
      "renewed license",
    );

    // The next renewal fails: past_due keeps access through the grace period.
    await simControl(stack.urls.stripe, "POST", `/_sim/customers/${customer.id}/payment`, { fails: true });
    await advance(clock.id, periodEnd(current) + 60);
    current = await stack.stripe.subscriptions.retrieve(subscription.id);
    expect(current.status).toBe("past_due");
    license = await licenseWhere(
      stack,
      email,
      (l) => sameInstant(l.expires, periodEnd(current) + policy.pastDueGraceDays * DAY),
      "grace license",
    );

    // The customer pays: active again.
    await simControl(stack.urls.stripe, "POST", `/_sim/customers/${customer.id}/payment`, { fails: false });
    await simControl(stack.urls.stripe, "POST", `/_sim/subscriptions/${subscription.id}/pay`, {});
    current = await stack.stripe.subscriptions.retrieve(subscription.id);
    expect(current.status).toBe("active");
    license = await licenseWhere(
      stack,
      email,
      (l) => sameInstant(l.expires, periodEnd(current) + policy.renewalBufferDays * DAY),
      "recovered license",
    );

    // Upgrade to premium with two store add-ons.
    const itemId = current.items.data[0]?.id ?? "";
    await stack.stripe.subscriptions.update(subscription.id, {
      items: [
        { id: itemId, price: "price_prem_month" },
        { price: "price_store_month", quantity: 2 },
      ],
    });
    license = await licenseWhere(
      stack,
      email,
      (l) => l.opts.connectorEdition === "premium" && (l.opts.addonLicenses?.length ?? 0) > 0,
      "premium license",
    );
    expect(license.opts.addonLicenses).toEqual([
      { type: "store", licenses: [{ addOnEdition: "standard" }, { addOnEdition: "standard" }] },
    ]);

    // Cancellation expires it now.
    const before = Date.now();
    await stack.stripe.subscriptions.cancel(subscription.id);
    license = await licenseWhere(stack, email, (l) => Date.parse(l.expires) <= Date.now(), "expired license");
    expect(Date.parse(license.expires)).toBeGreaterThanOrEqual(before - 2000);
  }, 120_000);

  it("cancel_at_period_end expires the license at the period end, without the buffer", async () => {
    const { email, subscription } = await buyer("cancel-at-end");
    await licenseWhere(stack, email, () => true, "license");
    const updated = await stack.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await licenseWhere(
      stack,
      email,
      (l) => sameInstant(l.expires, periodEnd(updated)),
      "license ending at period end",
    );
  }, 60_000);

  it("moves to the yearly price by lookup key and keeps the edition", async () => {
    const { email, subscription } = await buyer("yearly");
    await licenseWhere(stack, email, () => true, "license");
    const [yearly] = (await stack.stripe.prices.list({ lookup_keys: ["std_yearly"] })).data;
    expect(yearly?.lookup_key).toBe("std_yearly");
    const updated = await stack.stripe.subscriptions.update(subscription.id, {
      items: [{ id: subscription.items.data[0]?.id ?? "", price: yearly?.id ?? "" }],
    });
    const license = await licenseWhere(
      stack,
      email,
      (l) => sameInstant(l.expires, periodEnd(updated) + policy.renewalBufferDays * DAY),
      "yearly license",
    );
    expect(license.opts.connectorEdition).toBe("standard");
  }, 60_000);
});
