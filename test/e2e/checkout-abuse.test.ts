import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordedDomainEvents } from "#lib/events/domain-events.ts";
import {
  createIntegratorUser,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";
import { CONNECTOR, licenseWhere, storeOf, uniqueEmail } from "#test/helpers/provisioning.ts";

/**
 * Abuse costs the attacker, not the vendor: a checkout flood reads no Stripe prices (they come
 * from the stored listings), a missing price refreshes the listings once, a trial is granted once
 * per integrator.io email and connector, and an add-on quantity is capped by the catalog.
 */

const SHOP = "http://localhost:3000";
let stack: TestStack;

interface CheckoutAnswer {
  id: string;
  url: string;
  trial: boolean;
  trialDays?: number;
  noTrialReason?: string;
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

const checkout = async (overrides: Record<string, unknown> = {}) => {
  const response = await fetch(`${stack.urls.api}/checkout/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      connector: CONNECTOR.key,
      edition: "standard",
      interval: "month",
      integratorEmail: uniqueEmail("buyer"),
      successUrl: `${SHOP}/thanks`,
      cancelUrl: `${SHOP}/pricing`,
      ...overrides,
    }),
  });
  return { status: response.status, body: (await response.json()) as CheckoutAnswer };
};
const flood = (count: number, overrides: (index: number) => Record<string, unknown>) =>
  Promise.all(Array.from({ length: count }, (_, index) => checkout(overrides(index))));

/** Stripe API requests by route (`GET /v1/prices/:id`, ...), counted by the simulator. */
const stripeRequests = async () =>
  (
    await simControl<{ byRoute: Record<string, number> }>(
      new URL(stack.urls.stripe).origin,
      "GET",
      "/_sim/stats",
    )
  ).byRoute;
const priceReads = (byRoute: Record<string, number>) =>
  (byRoute["GET /v1/prices/:id"] ?? 0) + (byRoute["GET /v1/prices"] ?? 0);
const adminSync = () =>
  fetch(`${stack.urls.api}/admin/listings/sync`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });

/** The Stripe price behind the catalog's `prem_yearly` lookup key, switched on or off. */
const setPremiumYearly = async (active: boolean) => {
  const [price] = (await stack.stripe.prices.list({ lookup_keys: ["prem_yearly"] })).data;
  if (!price) throw new Error("the seed has no prem_yearly price");
  await stack.stripe.prices.update(price.id, { active });
};

beforeAll(async () => {
  stack = await startTestStack();
  expect((await adminSync()).status).toBe(200);
});
afterAll(async () => {
  await stack?.stop();
});

describe("checkout prices come from the listings", () => {
  it("a flood of checkouts reads no Stripe price: one Stripe call each, the session", async () => {
    const before = await stripeRequests();
    const answers = await flood(25, () => ({ addons: [{ key: "store", quantity: 2 }] }));
    expect(answers.map((answer) => answer.status)).toEqual(Array(25).fill(201));
    const after = await stripeRequests();
    expect(priceReads(after) - priceReads(before)).toBe(0);
    expect((after["POST /v1/checkout/sessions"] ?? 0) - (before["POST /v1/checkout/sessions"] ?? 0)).toBe(25);
    const session = await stack.stripe.checkout.sessions.retrieve(answers[0]?.body.id ?? "", {
      expand: ["line_items"],
    });
    expect(session.line_items?.data.map((line) => [line.price?.id, line.quantity])).toEqual([
      ["price_std_month", 1],
      ["price_store_month", 2],
    ]);
  });

  it("a price missing from the listings refreshes them once; then a flood for a missing price costs no more reads", async () => {
    const start = await stripeRequests();
    expect((await adminSync()).status).toBe(200);
    const synced = await stripeRequests();
    const oneSync = priceReads(synced) - priceReads(start);
    expect(oneSync).toBeGreaterThan(0);

    // Stripe lacked the yearly premium price at the last sync, and has it again now.
    await setPremiumYearly(false);
    expect((await adminSync()).status).toBe(200);
    await setPremiumYearly(true);
    const before = await stripeRequests();
    const found = await checkout({ edition: "premium", interval: "year" });
    expect(found.status).toBe(201);
    expect(priceReads(await stripeRequests()) - priceReads(before)).toBe(oneSync);

    // Gone from Stripe again: within the minute no checkout refreshes the listings again, however many.
    await setPremiumYearly(false);
    expect((await adminSync()).status).toBe(200);
    const beforeFlood = await stripeRequests();
    const refused = await flood(20, () => ({ edition: "premium", interval: "year" }));
    for (const { status, body } of refused) {
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ code: "invalid_request", details: [{ path: "body.interval" }] });
      expect(body.error.message).toBe(
        'Edition "premium" of connector "shopify-netsuite" has no "year" price.',
      );
    }
    const afterFlood = await stripeRequests();
    expect(priceReads(afterFlood) - priceReads(beforeFlood)).toBe(0);
    expect(afterFlood["POST /v1/checkout/sessions"]).toBe(beforeFlood["POST /v1/checkout/sessions"]);
    await setPremiumYearly(true);
  });
});

describe("a price Stripe deactivated since the last sync", () => {
  it("is a 400 naming the field it buys, not a 5xx", async () => {
    await stack.stripe.prices.update("price_store_month", { active: false });
    const answer = await checkout({ addons: [{ key: "store", quantity: 1 }] });
    await stack.stripe.prices.update("price_store_month", { active: true });
    expect((await adminSync()).status).toBe(200);
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([
      { path: "body.addons.0.key", message: "A price of this order is no longer on sale." },
    ]);
  });
});

describe("one trial per integrator.io email and connector", () => {
  it("offers the trial to the first checkout of an email only, and says so", async () => {
    const email = uniqueEmail("trial");
    const first = await checkout({ integratorEmail: email });
    expect(first).toMatchObject({ status: 201, body: { trial: true, trialDays: 30 } });
    const second = await checkout({ integratorEmail: email.toUpperCase(), edition: "premium" });
    expect(second).toMatchObject({ status: 201, body: { trial: false, noTrialReason: "already_used" } });
    expect(second.body.trialDays).toBeUndefined();

    // The buyer pays the second session: Stripe bills at once, no trial.
    const completed = await simControl<{ subscription: string }>(
      new URL(stack.urls.stripe).origin,
      "POST",
      `/_sim/checkout/sessions/${second.body.id}/complete`,
      { email: "billing@buyer.example" },
    );
    const subscription = await stack.stripe.subscriptions.retrieve(completed.subscription);
    expect(subscription).toMatchObject({ status: "active", trial_end: null });
  });

  it("gives the trial to exactly one of concurrent checkouts of one email", async () => {
    const email = uniqueEmail("race");
    const answers = await flood(8, () => ({ integratorEmail: email }));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(201));
    expect(answers.filter((answer) => answer.body.trial)).toHaveLength(1);
  });
});

describe("add-on quantity cap (catalog maxQuantity, 100 here)", () => {
  it("checkout takes the cap and refuses more, naming the field and the cap", async () => {
    expect((await checkout({ addons: [{ key: "store", quantity: 100 }] })).status).toBe(201);
    const over = await checkout({ addons: [{ key: "store", quantity: 101 }] });
    expect(over.status).toBe(400);
    expect(over.body.error.details).toEqual([
      {
        path: "body.addons.0.quantity",
        message: 'Add-on "store" allows at most 100 per license; asked for 101.',
      },
    ]);
    const absurd = await checkout({ addons: [{ key: "store", quantity: 50_000 }] });
    expect(absurd.status).toBe(400);
    expect(JSON.stringify(absurd.body.error.details)).toContain("body.addons.0.quantity");
  });

  it("a subscription of 5000 add-ons gets a license of 100, and the worker announces why", async () => {
    const email = uniqueEmail("bulk");
    await createIntegratorUser(stack, email);
    const customer = await stack.stripe.customers.create({ email });
    const subscription = await stack.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_std_month" }, { price: "price_store_month", quantity: 5000 }],
    });
    const license = await licenseWhere(stack, email, () => true, "the bulk license");
    expect(license.opts.connectorEdition).toBe("standard");
    const [stores] = (license.opts.addonLicenses ?? []) as { type: string; licenses: unknown[] }[];
    expect(stores?.type).toBe("store");
    expect(stores?.licenses).toHaveLength(100);

    const events = await new RecordedDomainEvents(storeOf(stack).table).list();
    const capped = events.filter(
      (event) => event.type === "quantity.capped" && event.detail.customerId === customer.id,
    );
    expect(capped[0]?.detail).toMatchObject({
      connectorKey: CONNECTOR.key,
      addonKey: "store",
      quantity: 5000,
      maxQuantity: 100,
      items: [{ subscriptionId: subscription.id, quantity: 5000 }],
    });
  });
});
