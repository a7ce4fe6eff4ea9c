import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import {
  createIntegratorUser,
  eventually,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";
import {
  CONNECTOR,
  DAY,
  licensesOf,
  licenseWhere,
  sameInstant,
  storeOf,
  uniqueEmail,
} from "#test/helpers/provisioning.ts";

// Stripe → integrator.io through the local stack: what only the wiring can show — Stripe's SDK and
// simulator, signed webhooks, the inbox, the queue and its retries, the worker processes, and the
// integrator.io simulator's answers and faults. The rules (ordering, duplicates, a subscription's
// billing life, lost creates) are the engine's, tested at its seam: test/engine/.

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const policy = { renewalBufferDays: 3 };
const periodEnd = (subscription: Stripe.Subscription) => subscription.items.data[0]?.current_period_end ?? 0;

async function buyer(label: string, { account = true } = {}) {
  const email = uniqueEmail(label);
  if (account) await createIntegratorUser(stack, email);
  const customer = await stack.stripe.customers.create({ email });
  const subscription = await stack.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: "price_std_month" }],
  });
  return { email, customer, subscription };
}

/** Messages on a queue, visible or in flight. */
async function queued(url: string) {
  const { Attributes } = await createSqsClient(stack.config).send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * Waits until Stripe delivered everything and every event in the inbox (of `customerId`, or all) is
 * settled: processed (or ignored) and off the queue, so no retry is left to change anything.
 */
async function settled(customerId?: string) {
  await simControl(stack.urls.stripe, "POST", "/_sim/delivery/flush", { timeoutMs: 20_000 });
  const { inbox } = storeOf(stack);
  await eventually(
    async () => {
      const { items } = await inbox.list({ limit: 500 });
      const events = items.filter((e) => customerId === undefined || e.customerId === customerId);
      return (
        (customerId === undefined || events.length > 0) &&
        events.every((e) => e.status === "processed" || e.status === "ignored") &&
        (await queued(stack.queueUrl)) === 0
      );
    },
    { what: `every event${customerId ? ` of ${customerId}` : ""} settled` },
  );
}

describe("Stripe → integrator.io license, through the local stack", () => {
  it("a purchase provisions a license; an upgrade with add-ons updates it; a cancellation expires it", async () => {
    const { email, subscription } = await buyer("lifecycle");
    let license = await licenseWhere(
      stack,
      email,
      (l) => sameInstant(l.expires, periodEnd(subscription) + policy.renewalBufferDays * DAY),
      "the license",
    );
    expect(license.opts.connectorEdition).toBe("standard");

    await stack.stripe.subscriptions.update(subscription.id, {
      items: [
        { id: subscription.items.data[0]?.id ?? "", price: "price_prem_month" },
        { price: "price_store_month", quantity: 2 },
      ],
    });
    license = await licenseWhere(
      stack,
      email,
      (l) => l.opts.connectorEdition === "premium" && (l.opts.addonLicenses?.length ?? 0) > 0,
      "the premium license",
    );
    expect(license.opts.addonLicenses).toEqual([
      { type: "store", licenses: [{ addOnEdition: "standard" }, { addOnEdition: "standard" }] },
    ]);

    const before = Date.now();
    await stack.stripe.subscriptions.cancel(subscription.id);
    license = await licenseWhere(stack, email, (l) => Date.parse(l.expires) <= Date.now(), "expired license");
    expect(Date.parse(license.expires)).toBeGreaterThanOrEqual(before - 2000);
  }, 60_000);

  it("licenses a customer created only in Stripe (no customer event) on the Stripe email", async () => {
    const email = uniqueEmail("stripe-only");
    await createIntegratorUser(stack, email);
    const endpoints = await stack.stripe.webhookEndpoints.list();
    const ours = endpoints.data.find((e) => e.url === `${stack.urls.api}/webhooks/stripe`);
    expect(ours).toBeDefined();
    await stack.stripe.webhookEndpoints.del(ours?.id ?? "");
    const customer = await stack.stripe.customers.create({ email });
    await simControl(stack.urls.stripe, "POST", "/_sim/webhook_endpoints", {
      url: `${stack.urls.api}/webhooks/stripe`,
      secret: stack.env.STRIPE_WEBHOOK_SECRET,
    });
    await stack.stripe.subscriptions.create({ customer: customer.id, items: [{ price: "price_std_month" }] });
    await licenseWhere(stack, email, () => true, "license on the Stripe email");
    const { inbox } = storeOf(stack);
    const received = await inbox.list({ type: "customer.created", limit: 100 });
    expect(received.items.some((e) => e.customerId === customer.id)).toBe(false);
  }, 60_000);

  it("keeps a license for an email without an integrator.io account as pending_user", async () => {
    const { email, customer } = await buyer("no-account", { account: false });
    const { licenses } = storeOf(stack);
    const pending = await eventually(
      async () => {
        const record = await licenses.get(customer.id, CONNECTOR.key);
        return record?.state === "pending_user" ? record : undefined;
      },
      { what: "pending_user" },
    );
    expect(pending).toMatchObject({ email, reason: "invalid_user" });
    expect(await licensesOf(stack, email)).toEqual([]);
  }, 60_000);
});

describe("at the edges: Stripe's signatures, integrator.io's faults", () => {
  const signer = new Stripe("sk_test_signing_only");
  const faults = (body: object) => simControl(stack.integratorOrigin, "PUT", "/_sim/faults", body);
  const noFaults = () => faults({ errorRate: 0, latencyMs: 0, dropResponseRate: 0 });

  it("refuses forged, stale, wrongly signed and unsigned deliveries over HTTP, storing nothing", async () => {
    const { inbox } = storeOf(stack);
    const event = {
      id: "evt_forged_1",
      object: "event",
      type: "customer.created",
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: { id: "cus_forged", object: "customer" } },
    };
    const payload = JSON.stringify(event);
    const secret = stack.env.STRIPE_WEBHOOK_SECRET ?? "";
    const signatures = [
      signer.webhooks.generateTestHeaderString({ payload, secret: "whsec_wrong" }),
      signer.webhooks.generateTestHeaderString({ payload: `${payload} `, secret }),
      signer.webhooks.generateTestHeaderString({
        payload,
        secret,
        timestamp: Math.floor(Date.now() / 1000) - 600,
      }),
      undefined,
    ];
    for (const signature of signatures) {
      const response = await fetch(`${stack.urls.api}/webhooks/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(signature ? { "stripe-signature": signature } : {}),
        },
        body: payload,
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_signature");
    }
    expect(await inbox.get("evt_forged_1")).toBeUndefined();
  });

  it("never POSTs a license twice when the answer to the license POST is lost", async () => {
    const email = uniqueEmail("dropped");
    await createIntegratorUser(stack, email);
    const route = `POST /v1/connectors/:connectorId/licenses`;
    const posts = async () =>
      (
        await simControl<{ byRoute: Record<string, { requests: number }> }>(
          stack.integratorOrigin,
          "GET",
          "/_sim/stats",
        )
      ).byRoute[route]?.requests ?? 0;
    // The earlier tests' customers are done: every license POST from here on is this customer's.
    await settled();
    const postsBefore = await posts();
    await faults({ dropResponseRate: 1 });
    let customerId = "";
    try {
      const customer = await stack.stripe.customers.create({ email });
      customerId = customer.id;
      await stack.stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: "price_std_month" }],
      });
      // The POST reached integrator.io (and was applied) but its answer was lost.
      await eventually(async () => (await posts()) > postsBefore, { what: "a license POST" });
    } finally {
      await noFaults();
    }
    await licenseWhere(stack, email, () => true, "the license");
    // Once every event of the customer is settled, no retry is left to (wrongly) POST again.
    await settled(customerId);
    expect(await posts()).toBe(postsBefore + 1);
    expect(await licensesOf(stack, email)).toHaveLength(1);
  }, 60_000);

  it("delays but never loses a license through a burst of integrator.io 5xx, the queue retrying the event", async () => {
    const email = uniqueEmail("outage");
    await createIntegratorUser(stack, email);
    await faults({ errorRate: 1, status: 503 });
    try {
      const customer = await stack.stripe.customers.create({ email });
      await stack.stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: "price_std_month" }],
      });
      // The outage is felt: the customer's events fail and wait for their retry.
      const { inbox } = storeOf(stack);
      const failed = await eventually(
        async () =>
          (await inbox.list({ status: "failed", limit: 100 })).items.find(
            (e) => e.customerId === customer.id,
          ),
        { what: "a failed event" },
      );
      expect(failed.reason).toMatch(/503/);
    } finally {
      await noFaults();
    }
    await licenseWhere(
      stack,
      email,
      (l) => l.opts.connectorEdition === "standard",
      "license after the outage",
    );
  }, 60_000);
});
