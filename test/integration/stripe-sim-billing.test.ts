/**
 * Billing in the Stripe simulator, driven through the official SDK and test clocks: the exact
 * event sequences of trials, renewals, failed payments, recovery and cancellations, subscription
 * updates, and Checkout completion.
 */
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SimHarness, seedPrice, startSimHarness } from "#test/helpers/stripe-sim.ts";

const DAY = 86_400;
/** 2027-01-15T00:00:00Z: mid-month, so monthly periods are plain calendar months. */
const T0 = 1_799_971_200;

let h: SimHarness;
let stripe: Stripe;

beforeAll(async () => {
  h = await startSimHarness("whsec_billing_suite");
  stripe = h.stripe;
  await seedPrice(h, { product: "prod_conn", price: "price_std_month", unitAmount: 1000 });
  await seedPrice(h, { product: "prod_conn", price: "price_prem_month", unitAmount: 3000 });
  await seedPrice(h, { product: "prod_conn", price: "price_store", unitAmount: 500 });
  await seedPrice(h, { product: "prod_conn", price: "price_std_year", unitAmount: 10_000, interval: "year" });
});

afterAll(async () => {
  await h?.stop();
});

/** A customer on its own test clock frozen at T0. */
async function clockCustomer(
  email: string,
): Promise<{ clock: Stripe.TestHelpers.TestClock; customer: Stripe.Customer }> {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: email });
  const customer = await stripe.customers.create({ email, test_clock: clock.id });
  return { clock, customer };
}

async function advance(clock: Stripe.TestHelpers.TestClock, to: number): Promise<void> {
  const answer = await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: to });
  expect(answer.status).toBe("advancing");
  const ready = await stripe.testHelpers.testClocks.retrieve(clock.id);
  expect(ready).toMatchObject({ status: "ready", frozen_time: to });
}

/** The customer's delivered events after `skip`, as [type, created]. */
async function eventsSince(customerId: string, skip: number): Promise<Stripe.Event[]> {
  await h.flush();
  return h.eventsFor(customerId).slice(skip);
}

const types = (events: Stripe.Event[]) => events.map((event) => event.type);
const subscriptionOf = (event: Stripe.Event | undefined) => event?.data.object as Stripe.Subscription;
const invoiceOf = (event: Stripe.Event | undefined) =>
  event?.data.object as Stripe.Invoice & { subscription: string };
const periodOf = (subscription: Stripe.Subscription) => {
  const item = subscription.items.data[0];
  return [item?.current_period_start, item?.current_period_end];
};

describe("creating subscriptions", () => {
  it("emits customer.subscription.created then invoice.paid, at the clock's time", async () => {
    const { customer } = await clockCustomer("create@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [
        { price: "price_std_month", quantity: 1 },
        { price: "price_store", quantity: 3 },
      ],
      metadata: { integrator_email: "ops@example.com" },
    });
    expect(subscription).toMatchObject({
      status: "active",
      start_date: T0,
      created: T0,
      test_clock: expect.stringMatching(/^clock_/),
    });
    expect(periodOf(subscription)).toEqual([T0, T0 + 31 * DAY]);
    const events = await eventsSince(customer.id, 0);
    expect(types(events)).toEqual(["customer.created", "customer.subscription.created", "invoice.paid"]);
    expect(events.map((event) => event.created)).toEqual([T0, T0, T0]);
    const invoice = invoiceOf(events[2]);
    expect(invoice).toMatchObject({
      status: "paid",
      amount_paid: 2500,
      billing_reason: "subscription_create",
      customer: customer.id,
      subscription: subscription.id,
      parent: {
        subscription_details: {
          subscription: subscription.id,
          metadata: { integrator_email: "ops@example.com" },
        },
      },
    });
    expect(
      invoice.lines.data.map((line) => [line.quantity, line.amount, line.period.start, line.period.end]),
    ).toEqual([
      [1, 1000, T0, T0 + 31 * DAY],
      [3, 1500, T0, T0 + 31 * DAY],
    ]);
  });

  it("a trial emits no invoice.paid, then trial end emits customer.subscription.updated (trialing → active) then invoice.paid", async () => {
    const { clock, customer } = await clockCustomer("trial@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
      trial_period_days: 30,
    });
    expect(subscription).toMatchObject({ status: "trialing", trial_start: T0, trial_end: T0 + 30 * DAY });
    expect(periodOf(subscription)).toEqual([T0, T0 + 30 * DAY]);
    expect(types(await eventsSince(customer.id, 0))).toEqual([
      "customer.created",
      "customer.subscription.created",
    ]);

    await advance(clock, T0 + 29 * DAY);
    expect(await eventsSince(customer.id, 2)).toEqual([]);

    await advance(clock, T0 + 31 * DAY);
    const events = await eventsSince(customer.id, 2);
    expect(types(events)).toEqual(["customer.subscription.updated", "invoice.paid"]);
    const trialEnd = T0 + 30 * DAY;
    expect(events.map((event) => event.created)).toEqual([trialEnd, trialEnd]);
    const updated = subscriptionOf(events[0]);
    expect(updated.status).toBe("active");
    // Feb 14 → Mar 14: the new cycle is anchored at the trial end.
    expect(periodOf(updated)).toEqual([trialEnd, trialEnd + 28 * DAY]);
    expect(events[0]?.data.previous_attributes).toMatchObject({ status: "trialing" });
    expect(invoiceOf(events[1])).toMatchObject({
      amount_paid: 1000,
      billing_reason: "subscription_cycle",
      subscription: subscription.id,
    });
  });

  it("lists with customer, price, status and status=all filters", async () => {
    const { customer } = await clockCustomer("list@example.com");
    const active = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    const canceled = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_prem_month" }],
    });
    await stripe.subscriptions.cancel(canceled.id);
    const ids = async (params: Stripe.SubscriptionListParams) =>
      (await stripe.subscriptions.list({ customer: customer.id, ...params })).data.map((s) => s.id);
    expect(await ids({})).toEqual([active.id]);
    expect(await ids({ status: "all" })).toEqual([canceled.id, active.id]);
    expect(await ids({ status: "canceled" })).toEqual([canceled.id]);
    expect(await ids({ status: "all", price: "price_prem_month" })).toEqual([canceled.id]);
  });
});

describe("renewals", () => {
  it("renews at each period end: invoice.paid then customer.subscription.updated with the new period", async () => {
    const { clock, customer } = await clockCustomer("renew@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    const feb15 = T0 + 31 * DAY;
    const mar15 = feb15 + 28 * DAY;
    const apr15 = mar15 + 31 * DAY;
    await advance(clock, apr15 + DAY);
    const events = await eventsSince(customer.id, 3);
    expect(types(events)).toEqual([
      "invoice.paid",
      "customer.subscription.updated",
      "invoice.paid",
      "customer.subscription.updated",
      "invoice.paid",
      "customer.subscription.updated",
    ]);
    expect(events.map((event) => event.created)).toEqual([feb15, feb15, mar15, mar15, apr15, apr15]);
    const firstRenewal = subscriptionOf(events[1]);
    expect(periodOf(firstRenewal)).toEqual([feb15, mar15]);
    const previousItems = (
      events[1]?.data.previous_attributes as { items?: Stripe.ApiList<Stripe.SubscriptionItem> } | undefined
    )?.items;
    expect(previousItems?.data[0]?.current_period_end).toBe(feb15);
    // A renewal invoice's own period is the one that just ended; its lines cover the new one.
    expect(invoiceOf(events[0])).toMatchObject({
      period_start: T0,
      period_end: feb15,
      billing_reason: "subscription_cycle",
    });
    expect(invoiceOf(events[0]).lines.data[0]?.period).toEqual({ start: feb15, end: mar15 });
    const now = await stripe.subscriptions.retrieve(subscription.id, { expand: ["latest_invoice"] });
    expect(periodOf(now)).toEqual([apr15, apr15 + 30 * DAY]);
    expect((now.latest_invoice as Stripe.Invoice).id).toBe(invoiceOf(events[4]).id);
  });

  it("anchors monthly periods at the month's day, clamped to shorter months (Jan 31 → Feb 28 → Mar 31)", async () => {
    const jan31 = Date.UTC(2027, 0, 31, 12) / 1000;
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: jan31 });
    const customer = await stripe.customers.create({ email: "month-end@example.com", test_clock: clock.id });
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: "price_std_month" }] });
    await advance(clock, Date.UTC(2027, 3, 1) / 1000);
    const renewals = (await eventsSince(customer.id, 3)).filter(
      (event) => event.type === "customer.subscription.updated",
    );
    expect(renewals.map((event) => periodOf(subscriptionOf(event)))).toEqual([
      [Date.UTC(2027, 1, 28, 12) / 1000, Date.UTC(2027, 2, 31, 12) / 1000],
      [Date.UTC(2027, 2, 31, 12) / 1000, Date.UTC(2027, 3, 30, 12) / 1000],
    ]);
  });

  it("a failed renewal emits invoice.payment_failed then customer.subscription.updated (→ past_due); the next advance recovers it", async () => {
    const { clock, customer } = await clockCustomer("past-due@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    expect((await h.control("POST", `/_sim/customers/${customer.id}/payment`, { fails: true })).status).toBe(
      200,
    );
    const feb15 = T0 + 31 * DAY;
    await advance(clock, feb15 + 3600);
    const failed = await eventsSince(customer.id, 3);
    expect(types(failed)).toEqual(["invoice.payment_failed", "customer.subscription.updated"]);
    expect(invoiceOf(failed[0])).toMatchObject({
      status: "open",
      attempt_count: 1,
      amount_paid: 0,
      next_payment_attempt: feb15 + 3 * DAY,
    });
    expect(subscriptionOf(failed[1]).status).toBe("past_due");
    expect(failed[1]?.data.previous_attributes).toMatchObject({ status: "active" });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).delinquent).toBe(true);

    await h.control("POST", `/_sim/customers/${customer.id}/payment`, { fails: false });
    await advance(clock, feb15 + 7200);
    const recovered = await eventsSince(customer.id, 5);
    expect(types(recovered)).toEqual(["invoice.paid", "customer.subscription.updated"]);
    expect(recovered.map((event) => event.created)).toEqual([feb15 + 3600, feb15 + 3600]);
    expect(invoiceOf(recovered[0])).toMatchObject({
      status: "paid",
      attempt_count: 2,
      id: invoiceOf(failed[0]).id,
    });
    expect(subscriptionOf(recovered[1]).status).toBe("active");
    expect(recovered[1]?.data.previous_attributes).toEqual({ status: "past_due" });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe("active");
  });

  it("POST /_sim/subscriptions/{id}/pay recovers past_due → active with invoice.paid", async () => {
    const { clock, customer } = await clockCustomer("pay-now@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    await h.control("POST", `/_sim/customers/${customer.id}/payment`, { fails: true });
    await advance(clock, T0 + 32 * DAY);
    const paid = await h.control("POST", `/_sim/subscriptions/${subscription.id}/pay`, {});
    expect(paid.status).toBe(200);
    expect(paid.body.status).toBe("active");
    expect(types(await eventsSince(customer.id, 5))).toEqual([
      "invoice.paid",
      "customer.subscription.updated",
    ]);
    const again = await h.control("POST", `/_sim/subscriptions/${subscription.id}/pay`, {});
    expect(again.status).toBe(400);
  });

  it("retries a failing card on schedule and cancels the subscription when retries run out", async () => {
    const { clock, customer } = await clockCustomer("exhausted@example.com");
    await stripe.subscriptions.create({ customer: customer.id, items: [{ price: "price_std_month" }] });
    await h.control("POST", `/_sim/customers/${customer.id}/payment`, { fails: true });
    const feb15 = T0 + 31 * DAY;
    await advance(clock, feb15 + 20 * DAY);
    const events = await eventsSince(customer.id, 3);
    expect(types(events)).toEqual([
      "invoice.payment_failed",
      "customer.subscription.updated",
      "invoice.payment_failed",
      "invoice.payment_failed",
      "invoice.payment_failed",
      "customer.subscription.deleted",
    ]);
    expect(events.map((event) => event.created)).toEqual([
      feb15,
      feb15,
      feb15 + 3 * DAY,
      feb15 + 8 * DAY,
      feb15 + 15 * DAY,
      feb15 + 15 * DAY,
    ]);
    expect(subscriptionOf(events[5])).toMatchObject({
      status: "canceled",
      ended_at: feb15 + 15 * DAY,
      cancellation_details: { reason: "payment_failed" },
    });
  });

  it("a failing card at trial end: updated (→ active), invoice.payment_failed, updated (→ past_due)", async () => {
    const { clock, customer } = await clockCustomer("trial-fail@example.com");
    await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
      trial_period_days: 7,
    });
    await h.control("POST", `/_sim/customers/${customer.id}/payment`, { fails: true });
    await advance(clock, T0 + 8 * DAY);
    const events = await eventsSince(customer.id, 2);
    expect(types(events)).toEqual([
      "customer.subscription.updated",
      "invoice.payment_failed",
      "customer.subscription.updated",
    ]);
    expect(subscriptionOf(events[0]).status).toBe("active");
    expect(subscriptionOf(events[2]).status).toBe("past_due");
  });
});

describe("cancellation", () => {
  it("cancel_at_period_end: updated now, customer.subscription.deleted at the period end and no renewal", async () => {
    const { clock, customer } = await clockCustomer("period-end@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    await advance(clock, T0 + 10 * DAY);
    const updated = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    const feb15 = T0 + 31 * DAY;
    expect(updated).toMatchObject({
      status: "active",
      cancel_at_period_end: true,
      cancel_at: feb15,
      canceled_at: T0 + 10 * DAY,
    });
    const requested = await eventsSince(customer.id, 3);
    expect(types(requested)).toEqual(["customer.subscription.updated"]);
    expect(requested[0]?.data.previous_attributes).toEqual({
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
    });

    await advance(clock, feb15 + DAY);
    const ended = await eventsSince(customer.id, 4);
    expect(types(ended)).toEqual(["customer.subscription.deleted"]);
    expect(ended[0]?.created).toBe(feb15);
    expect(subscriptionOf(ended[0])).toMatchObject({
      status: "canceled",
      ended_at: feb15,
      cancellation_details: { reason: "cancellation_requested" },
    });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe("canceled");
  });

  it("undoing cancel_at_period_end before the end keeps the subscription renewing", async () => {
    const { clock, customer } = await clockCustomer("undo@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false });
    await advance(clock, T0 + 32 * DAY);
    expect(types(await eventsSince(customer.id, 3))).toEqual([
      "customer.subscription.updated",
      "customer.subscription.updated",
      "invoice.paid",
      "customer.subscription.updated",
    ]);
  });

  it("cancel_at mid-period ends the subscription at that instant", async () => {
    const { clock, customer } = await clockCustomer("cancel-at@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    const at = T0 + 12 * DAY;
    await stripe.subscriptions.update(subscription.id, { cancel_at: at });
    await advance(clock, T0 + 40 * DAY);
    const events = await eventsSince(customer.id, 4);
    expect(types(events)).toEqual(["customer.subscription.deleted"]);
    expect(events[0]?.created).toBe(at);
  });

  it("cancel now emits customer.subscription.deleted", async () => {
    const { customer } = await clockCustomer("cancel-now@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    const canceled = await stripe.subscriptions.cancel(subscription.id, {
      cancellation_details: { comment: "moving on" },
    });
    expect(canceled).toMatchObject({
      status: "canceled",
      canceled_at: T0,
      ended_at: T0,
      cancellation_details: { comment: "moving on" },
    });
    expect(types(await eventsSince(customer.id, 3))).toEqual(["customer.subscription.deleted"]);
    await expect(stripe.subscriptions.cancel(subscription.id)).rejects.toMatchObject({ statusCode: 400 });
  });
});

describe("updates", () => {
  it("changes an item's price and quantity in place, adds and deletes items, with previous_attributes", async () => {
    const { customer } = await clockCustomer("change@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    const itemId = subscription.items.data[0]?.id ?? "";
    const upgraded = await stripe.subscriptions.update(subscription.id, {
      items: [
        { id: itemId, price: "price_prem_month" },
        { price: "price_store", quantity: 2 },
      ],
      metadata: { integrator_email: "new-owner@example.com" },
    });
    expect(upgraded.items.data.map((item) => [item.id === itemId, item.price.id, item.quantity])).toEqual([
      [true, "price_prem_month", 1],
      [false, "price_store", 2],
    ]);
    expect(periodOf(upgraded)).toEqual(periodOf(subscription));
    const storeItem = upgraded.items.data[1]?.id ?? "";
    const trimmed = await stripe.subscriptions.update(subscription.id, {
      items: [{ id: storeItem, deleted: true }],
    });
    expect(trimmed.items.data.map((item) => item.price.id)).toEqual(["price_prem_month"]);

    const events = await eventsSince(customer.id, 3);
    expect(types(events)).toEqual(["customer.subscription.updated", "customer.subscription.updated"]);
    const previous = events[0]?.data.previous_attributes as {
      items: Stripe.ApiList<Stripe.SubscriptionItem>;
      metadata: object;
    };
    expect(previous.items.data.map((item) => item.price.id)).toEqual(["price_std_month"]);
    expect(previous.metadata).toEqual({ integrator_email: null });
  });

  it("rejects a duplicate price or a mixed interval, changing nothing", async () => {
    const { customer } = await clockCustomer("reject@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    await expect(
      stripe.subscriptions.update(subscription.id, { items: [{ price: "price_std_month" }] }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
    await expect(
      stripe.subscriptions.update(subscription.id, {
        items: [{ price: "price_std_year" }],
        metadata: { x: "y" },
      }),
    ).rejects.toMatchObject({ statusCode: 400 });
    const unchanged = await stripe.subscriptions.retrieve(subscription.id);
    expect(unchanged.metadata).toEqual({});
    expect(unchanged.items.data).toHaveLength(1);
  });

  it("switching the interval restarts the cycle and invoices now: updated then invoice.paid", async () => {
    const { clock, customer } = await clockCustomer("yearly@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    await advance(clock, T0 + 5 * DAY);
    const item = subscription.items.data[0]?.id ?? "";
    const yearly = await stripe.subscriptions.update(subscription.id, {
      items: [{ id: item, price: "price_std_year" }],
    });
    expect(periodOf(yearly)).toEqual([T0 + 5 * DAY, T0 + 5 * DAY + 365 * DAY]);
    const events = await eventsSince(customer.id, 3);
    expect(types(events)).toEqual(["customer.subscription.updated", "invoice.paid"]);
    expect(invoiceOf(events[1])).toMatchObject({
      billing_reason: "subscription_update",
      amount_paid: 10_000,
    });
  });

  it("trial_end=now ends a trial at once", async () => {
    const { customer } = await clockCustomer("end-trial@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
      trial_period_days: 14,
    });
    const active = await stripe.subscriptions.update(subscription.id, { trial_end: "now" });
    expect(active).toMatchObject({ status: "active", trial_end: T0 });
    expect(types(await eventsSince(customer.id, 2))).toEqual([
      "customer.subscription.updated",
      "invoice.paid",
    ]);
  });
});

describe("collection", () => {
  it("pause_collection: a renewal while paused voids its invoice and emits only customer.subscription.updated; resumes_at ends the pause", async () => {
    const { clock, customer } = await clockCustomer("paused@example.com");
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    const feb15 = T0 + 31 * DAY;
    const resumesAt = feb15 + 10 * DAY;
    await stripe.subscriptions.update(subscription.id, {
      pause_collection: { behavior: "void", resumes_at: resumesAt },
    });
    await advance(clock, resumesAt + DAY);
    const events = await eventsSince(customer.id, 3);
    expect(types(events)).toEqual([
      "customer.subscription.updated",
      "customer.subscription.updated",
      "customer.subscription.updated",
    ]);
    expect(subscriptionOf(events[0]).pause_collection).toEqual({ behavior: "void", resumes_at: resumesAt });
    expect(events[1]?.created).toBe(feb15);
    expect(subscriptionOf(events[1]).status).toBe("active");
    const voided = await stripe.invoices.retrieve(subscriptionOf(events[1]).latest_invoice as string);
    expect(voided).toMatchObject({ status: "void", amount_paid: 0, billing_reason: "subscription_cycle" });
    expect(events[2]?.created).toBe(resumesAt);
    expect(subscriptionOf(events[2]).pause_collection).toBeNull();
  });

  it("invoices.pay answers 402 card_declined for a failing card, after emitting invoice.payment_failed", async () => {
    const { customer } = await clockCustomer("pay-api@example.com");
    await h.control("POST", `/_sim/customers/${customer.id}/payment`, { fails: true });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
    });
    expect(subscription.status).toBe("incomplete");
    const invoiceId = subscription.latest_invoice as string;
    const declined = await stripe.invoices.pay(invoiceId).catch((error: unknown) => error);
    expect(declined).toMatchObject({ statusCode: 402, type: "StripeCardError", code: "card_declined" });
    await h.control("POST", `/_sim/customers/${customer.id}/payment`, { fails: false });
    const paid = await stripe.invoices.pay(invoiceId);
    expect(paid).toMatchObject({ status: "paid", attempt_count: 3 });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe("active");
    expect(types(await eventsSince(customer.id, 1))).toEqual([
      "customer.subscription.created",
      "invoice.payment_failed",
      "invoice.payment_failed",
      "invoice.paid",
      "customer.subscription.updated",
    ]);
  });

  it("payment_behavior=error_if_incomplete refuses a declined first payment and creates nothing", async () => {
    const { customer } = await clockCustomer("strict@example.com");
    await h.control("POST", `/_sim/customers/${customer.id}/payment`, { fails: true });
    await expect(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: "price_std_month" }],
        payment_behavior: "error_if_incomplete",
      }),
    ).rejects.toMatchObject({ statusCode: 402, code: "card_declined" });
    expect((await stripe.subscriptions.list({ customer: customer.id, status: "all" })).data).toEqual([]);
  });
});

describe("Checkout", () => {
  async function session(params: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
    return stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: "price_std_month", quantity: 1 }],
      success_url: "http://localhost:3000/done?session={CHECKOUT_SESSION_ID}",
      cancel_url: "http://localhost:3000/cancel",
      ...params,
    });
  }

  it("completion emits customer.created, checkout.session.completed, customer.subscription.created, invoice.paid", async () => {
    const created = await session({
      customer_email: "buyer@example.com",
      client_reference_id: "ref-42",
      metadata: { connector: "shopify-netsuite" },
      subscription_data: { metadata: { integrator_email: "buyer-io@example.com" } },
    });
    expect(created).toMatchObject({
      status: "open",
      payment_status: "unpaid",
      customer: null,
      subscription: null,
      mode: "subscription",
    });
    expect(created.url).toBe(`${h.sim.url}/checkout/${created.id}`);
    const done = await h.control("POST", `/_sim/checkout/sessions/${created.id}/complete`, {});
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      status: "complete",
      payment_status: "paid",
      customer_details: { email: "buyer@example.com" },
    });

    const customerId = String(done.body.customer);
    const events = await eventsSince(customerId, 0);
    expect(types(events)).toEqual([
      "customer.created",
      "checkout.session.completed",
      "customer.subscription.created",
      "invoice.paid",
    ]);
    const completed = events[1]?.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({
      id: created.id,
      client_reference_id: "ref-42",
      metadata: { connector: "shopify-netsuite" },
      customer: customerId,
      subscription: done.body.subscription,
      url: null,
    });
    expect(subscriptionOf(events[2])).toMatchObject({
      status: "active",
      metadata: { integrator_email: "buyer-io@example.com" },
    });
    expect(((await stripe.customers.retrieve(customerId)) as Stripe.Customer).email).toBe(
      "buyer@example.com",
    );
    expect((await h.control("POST", `/_sim/checkout/sessions/${created.id}/complete`, {})).status).toBe(400);
  });

  it("a trial through Checkout: no_payment_required, trialing, no invoice event", async () => {
    const created = await session({ subscription_data: { trial_period_days: 30 } });
    const done = await h.control("POST", `/_sim/checkout/sessions/${created.id}/complete`, {
      email: "trial-buyer@example.com",
    });
    expect(done.body).toMatchObject({ payment_status: "no_payment_required" });
    const events = await eventsSince(String(done.body.customer), 0);
    expect(types(events)).toEqual([
      "customer.created",
      "checkout.session.completed",
      "customer.subscription.created",
    ]);
    expect(subscriptionOf(events[2]).status).toBe("trialing");
    const noEmail = await session();
    expect((await h.control("POST", `/_sim/checkout/sessions/${noEmail.id}/complete`, {})).status).toBe(400);
  });

  it("a declined payment leaves the subscription incomplete, and incomplete_expired after 23 hours", async () => {
    const { clock, customer } = await clockCustomer("declined@example.com");
    const created = await session({ customer: customer.id });
    const done = await h.control("POST", `/_sim/checkout/sessions/${created.id}/complete`, {
      paymentSucceeds: false,
    });
    expect(done.body).toMatchObject({ payment_status: "unpaid", customer: customer.id });
    const events = await eventsSince(customer.id, 1);
    expect(types(events)).toEqual([
      "checkout.session.completed",
      "customer.subscription.created",
      "invoice.payment_failed",
    ]);
    expect(subscriptionOf(events[1]).status).toBe("incomplete");

    await advance(clock, T0 + 22 * 3600);
    expect(await eventsSince(customer.id, 4)).toEqual([]);
    await advance(clock, T0 + 24 * 3600);
    const expired = await eventsSince(customer.id, 4);
    expect(types(expired)).toEqual(["customer.subscription.updated"]);
    expect(expired[0]?.created).toBe(T0 + 23 * 3600);
    expect(subscriptionOf(expired[0]).status).toBe("incomplete_expired");
    expect(expired[0]?.data.previous_attributes).toMatchObject({ status: "incomplete" });
  });

  it("expires a session by itself at its expires_at (the customer's clock): checkout.session.expired, no completion after", async () => {
    const { clock, customer } = await clockCustomer("expiring@example.com");
    const expiresAt = T0 + 31 * 60;
    const created = await session({ customer: customer.id, expires_at: expiresAt });
    expect(created.expires_at).toBe(expiresAt);
    await advance(clock, expiresAt - 1);
    expect((await stripe.checkout.sessions.retrieve(created.id)).status).toBe("open");
    expect(await eventsSince(customer.id, 1)).toEqual([]);

    await advance(clock, expiresAt);
    expect(await stripe.checkout.sessions.retrieve(created.id)).toMatchObject({
      status: "expired",
      url: null,
    });
    const events = await eventsSince(customer.id, 1);
    expect(types(events)).toEqual(["checkout.session.expired"]);
    expect(events[0]?.created).toBe(expiresAt);
    expect(events[0]?.data.object).toMatchObject({ id: created.id, status: "expired" });
    const completed = await h.control("POST", `/_sim/checkout/sessions/${created.id}/complete`, {});
    expect(completed.status).toBe(400);
    expect(JSON.stringify(completed.body)).toContain("already expired");
    expect(await (await fetch(`${h.sim.url}/checkout/${created.id}`)).text()).toContain("is expired");
  });

  it("takes expires_at from 30 minutes to 24 hours ahead, as Stripe does", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(session({ expires_at: now + 29 * 60 })).rejects.toMatchObject({ param: "expires_at" });
    await expect(session({ expires_at: now + 24 * 3600 + 60 })).rejects.toMatchObject({
      param: "expires_at",
    });
    expect((await session({ expires_at: now + 31 * 60 })).expires_at).toBe(now + 31 * 60);
  });

  it("serves a Checkout page whose form completes the session and redirects to success_url", async () => {
    const created = await session({ customer_email: "browser@example.com" });
    const page = await fetch(created.url ?? "");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("browser@example.com");
    const submit = await fetch(created.url ?? "", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "paymentSucceeds=true",
      redirect: "manual",
    });
    expect(submit.status).toBe(303);
    expect(submit.headers.get("location")).toBe(`http://localhost:3000/done?session=${created.id}`);
    expect((await stripe.checkout.sessions.retrieve(created.id)).status).toBe("complete");
  });
});

describe("real time", () => {
  it("moves subscriptions without a test clock along in real time", async () => {
    const customer = await stripe.customers.create({ email: "real-time@example.com" });
    const trialEnd = Math.floor(Date.now() / 1000) + 2;
    await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }],
      trial_end: trialEnd,
    });
    const deadline = Date.now() + 6000;
    while (Date.now() < deadline && h.eventsFor(customer.id).length < 4)
      await new Promise((r) => setTimeout(r, 100));
    const events = await eventsSince(customer.id, 0);
    expect(types(events)).toEqual([
      "customer.created",
      "customer.subscription.created",
      "customer.subscription.updated",
      "invoice.paid",
    ]);
    expect(events[2]?.created).toBe(trialEnd);
  });
});
