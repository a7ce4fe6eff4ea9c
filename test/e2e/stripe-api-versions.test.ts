import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminApi,
  CONNECTOR,
  itemsFor,
  licensesOf,
  licenseWhere,
  purchase,
  reconcile,
  seconds,
  storeOf,
} from "#test/helpers/admin-api.ts";
import {
  createIntegratorUser,
  eventually,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";

/**
 * A Stripe account on an older API version, through the local stack: the simulator's webhook
 * endpoint is switched to 2024-06-20 (before 2025-03-31: periods on the subscription, invoices with
 * a top-level `subscription`), and a checkout still ends in the right license. Reconcile skips and
 * reports a subscription it cannot read instead of failing its run.
 */

const OLD_VERSION = "2024-06-20";
const RENEWAL_BUFFER_DAYS = 3;
let stack: TestStack;
let stripeOrigin: string;

beforeAll(async () => {
  stack = await startTestStack();
  stripeOrigin = new URL(stack.urls.stripe).origin;
  // Registering the stack's URL again updates its endpoint: now on the old version.
  await simControl(stripeOrigin, "POST", "/_sim/webhook_endpoints", {
    url: `${stack.urls.api}/webhooks/stripe`,
    secret: stack.env.STRIPE_WEBHOOK_SECRET,
    apiVersion: OLD_VERSION,
  });
});
afterAll(async () => {
  await stack?.stop();
});

type Json = Record<string, unknown>;

/** The payloads the webhook stored for a customer, as Stripe delivered them. */
async function deliveredFor(customerId: string, settled: number) {
  const { inbox } = storeOf(stack);
  return eventually(
    async () => {
      const events = (await inbox.list({ limit: 200 })).items.filter((e) => e.customerId === customerId);
      if (events.length < settled || events.some((e) => e.status !== "processed")) return undefined;
      return events.map((e) => JSON.parse(e.payload) as Json & { type: string; data: { object: Json } });
    },
    { what: `${settled} processed events of ${customerId}` },
  );
}

describe("a webhook endpoint on an API version before 2025-03-31", () => {
  it("takes a checkout to the right license, and its trial's end to the paid one", {
    timeout: 90_000,
  }, async () => {
    const email = `old-version-${Date.now().toString(36)}@example.com`;
    await createIntegratorUser(stack, email);
    const started = await fetch(`${stack.urls.api}/checkout/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        connector: CONNECTOR.key,
        edition: "standard",
        interval: "month",
        integratorEmail: email,
        successUrl: "http://localhost:3000/thanks?session={CHECKOUT_SESSION_ID}",
        cancelUrl: "http://localhost:3000/pricing",
      }),
    });
    expect(started.status).toBe(201);
    const session = (await started.json()) as { id: string };
    const completed = await simControl<{ customer: string; subscription: string }>(
      stripeOrigin,
      "POST",
      `/_sim/checkout/sessions/${session.id}/complete`,
      { email },
    );
    const trialing = await stack.stripe.subscriptions.retrieve(completed.subscription);
    expect(trialing.status).toBe("trialing");
    await licenseWhere(stack, email, (l) => seconds(l.expires) === trialing.trial_end, "the trial license");

    // The trial ends now: invoice.paid carries its subscription at the top level.
    const active = await stack.stripe.subscriptions.update(completed.subscription, { trial_end: "now" });
    const periodEnd = active.items.data[0]?.current_period_end ?? 0;
    const license = await licenseWhere(
      stack,
      email,
      (l) => seconds(l.expires) === periodEnd + RENEWAL_BUFFER_DAYS * 86_400,
      "the paid license",
    );
    expect(license.opts.connectorEdition).toBe("standard");

    // Every event arrived in the old version, and was processed, none failed.
    const delivered = await deliveredFor(completed.customer, 5);
    expect(new Set(delivered.map((event) => event.api_version))).toEqual(new Set([OLD_VERSION]));
    const created = delivered.find((event) => event.type === "customer.subscription.created");
    expect(created?.data.object).toMatchObject({ current_period_end: expect.any(Number) });
    const items = created?.data.object.items as { data: Json[] } | undefined;
    expect(items?.data[0]).toBeDefined();
    expect(items?.data[0]).not.toHaveProperty("current_period_end");
    const paid = delivered.find((event) => event.type === "invoice.paid");
    expect(paid?.data.object).toMatchObject({ subscription: completed.subscription });
    expect(paid?.data.object).not.toHaveProperty("parent");
  });
});

describe("reconcile and a subscription it cannot read", () => {
  it("completes the run, reports the subscription as unreadable and leaves its license alone", {
    timeout: 90_000,
  }, async () => {
    const { email, customer, subscription, license } = await purchase(stack, "unreadable");
    await deliveredFor(customer.id, 3);
    await simControl(stripeOrigin, "PUT", `/_sim/subscriptions/${subscription.id}/shown-status`, {
      status: "awaiting_renewal",
    });
    try {
      const run = await reconcile(stack);
      expect(run).toMatchObject({ state: "done", dryRun: false });
      expect(run.counts.unreadable).toBeGreaterThanOrEqual(1);
      expect(itemsFor(run, customer.id)).toEqual([
        expect.objectContaining({
          kind: "unreadable",
          subscriptionId: subscription.id,
          detail: expect.stringContaining('status: unknown value "awaiting_renewal"'),
        }),
      ]);
      const [after] = await licensesOf(stack, email);
      expect(after).toMatchObject({ _id: license?._id, expires: license?.expires });
      expect(await storeOf(stack).customers.subscription(customer.id, subscription.id)).toMatchObject({
        status: "active",
      });
    } finally {
      await simControl(stripeOrigin, "PUT", `/_sim/subscriptions/${subscription.id}/shown-status`, {
        status: null,
      });
    }
    // Readable again: nothing left to report about it.
    expect(itemsFor(await reconcile(stack), customer.id)).toEqual([]);
  });
});

describe("an admin transfer meeting a subscription Stripe shows with a value this version does not know", () => {
  it("answers 409 saying so, never a 5xx, and leaves the license as it was", {
    timeout: 90_000,
  }, async () => {
    const { email, customer, subscription, license } = await purchase(stack, "transfer-unreadable");
    await deliveredFor(customer.id, 3);
    await simControl(stripeOrigin, "PUT", `/_sim/subscriptions/${subscription.id}/shown-status`, {
      status: "awaiting_renewal",
    });
    try {
      const to = `moved-${Date.now().toString(36)}@example.com`;
      await createIntegratorUser(stack, to);
      const moved = await adminApi<{ error: { code: string; message: string } }>(
        stack,
        "POST",
        `/admin/customers/${customer.id}/licenses/${CONNECTOR.key}/transfer`,
        { email: to },
      );
      expect(moved.status).toBe(409);
      expect(moved.body.error.message).toContain('status: unknown value "awaiting_renewal"');
      const [after] = await licensesOf(stack, email);
      expect(after).toMatchObject({ _id: license?._id, expires: license?.expires });
    } finally {
      await simControl(stripeOrigin, "PUT", `/_sim/subscriptions/${subscription.id}/shown-status`, {
        status: null,
      });
    }
  });
});
