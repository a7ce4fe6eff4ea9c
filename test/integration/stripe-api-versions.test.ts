import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as worker from "#functions/provision-worker.ts";
import * as webhook from "#functions/stripe-webhook.ts";
import { loadConfig } from "#lib/config.ts";
import { createTable as createTableAdapter } from "#lib/engine/wiring.ts";
import { loadEnvironment } from "#lib/runtime.ts";
import { Customers } from "#lib/store/customers.ts";
import { Inbox } from "#lib/store/inbox.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { type StripeSimulator, startStripeSimulator } from "#local/sim/stripe/index.ts";
import { functionEnv, signedDelivery, workerRecord, writtenDuring } from "#test/helpers/function-harness.ts";
import { lambdaContext } from "#test/helpers/http-events.ts";
import { simControl } from "#test/helpers/local-stack.ts";
import { makeEvent } from "#test/helpers/stripe-fixtures.ts";
import { stripeFor } from "#test/helpers/stripe-sim.ts";

/**
 * Events Stripe sends in another API version than the pinned one, or with a value the pinned
 * version does not know, through the real webhook and worker handlers (DynamoDB Local, the SQS
 * emulator, both simulators, the official SDK). The Stripe simulator has no webhook endpoint here:
 * it only answers the worker's fetches, and each test hands the webhook the event it means.
 */

const CONNECTOR_ID = "65f1c0a2b7d94e3a1c8b7d20"; // local/catalog.json: price_std_month is its standard edition
const SECRET = "whsec_api_versions";
const VENDOR_TOKEN = "api-versions-vendor-token";
const OLD_VERSION = "2024-06-20";
const RENEWAL_BUFFER_DAYS = 3;

let dynamo: DynamoDbLocal;
let queues: LocalQueues;
let integrator: IntegratorSimulator;
let stripeSim: StripeSimulator;
let stripe: Stripe;
let env: Record<string, string>;

beforeAll(async () => {
  [dynamo, queues, integrator, stripeSim] = await Promise.all([
    startDynamoDbLocal(),
    startLocalQueues({ visibilityTimeoutSeconds: 1 }),
    startIntegratorSimulator({ vendorToken: VENDOR_TOKEN, quiet: true }),
    startStripeSimulator({ quiet: true }),
  ]);
  await createTable(dynamo.endpoint, "api-versions");
  await simControl(integrator.origin, "POST", "/_sim/connectors", { _id: CONNECTOR_ID, name: "Shopify" });
  await simControl(stripeSim.url, "POST", "/_sim/products", { id: "prod_shopify", name: "Shopify" });
  await simControl(stripeSim.url, "POST", "/_sim/prices", {
    id: "price_std_month",
    product: "prod_shopify",
    unit_amount: 1000,
    currency: "usd",
    recurring: { interval: "month" },
  });
  stripe = stripeFor(stripeSim.port);
  env = functionEnv(
    { dynamo, queues, tableName: "api-versions", webhookSecret: SECRET },
    {
      STRIPE_API_URL: stripeSim.url,
      INTEGRATOR_API_URL: integrator.url,
      INTEGRATOR_TOKEN: VENDOR_TOKEN,
      LOG_LEVEL: "INFO",
    },
  );
  // Metrics leave as EMF lines on stdout (the test config disables them).
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([dynamo?.stop(), queues?.stop(), integrator?.stop(), stripeSim?.stop()]);
});

type Json = Record<string, unknown>;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A customer with an integrator.io account and a monthly subscription, in the Stripe simulator. */
async function subscribed(label: string) {
  const email = `${label}-${Date.now().toString(36)}@example.com`;
  await simControl(integrator.origin, "POST", "/_sim/users", { email });
  const customer = await stripe.customers.create({ email });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: "price_std_month" }],
  });
  return { email, customer, subscription, snapshot: JSON.parse(JSON.stringify(subscription)) as Json };
}

/** The subscription as an API version before 2025-03-31 renders it: periods on it, none on the items. */
function beforeBasil(snapshot: Json): Json {
  const items = snapshot.items as { data: Json[] };
  const [first] = items.data;
  return {
    ...snapshot,
    current_period_start: first?.current_period_start,
    current_period_end: first?.current_period_end,
    items: {
      ...items,
      data: items.data.map(({ current_period_start: _s, current_period_end: _e, ...item }) => item),
    },
  };
}

/** The worker and webhook handlers over this file's services, and what they wrote. */
async function handlers() {
  const environment = await loadEnvironment(env);
  const receive = webhook.makeHandler(webhook.createDeps(environment));
  const work = worker.makeHandler(await worker.createDeps(environment));
  const table = createTableAdapter(loadConfig(env));
  return {
    inbox: new Inbox(table),
    customers: new Customers(table),
    async deliver(...events: { id: string; created: number }[]) {
      for (const event of events) {
        let status: number | undefined;
        await writtenDuring(async () => {
          status = (await receive(signedDelivery(JSON.stringify(event), SECRET), lambdaContext)).statusCode;
        });
        expect(status).toBe(200);
      }
    },
    /** One worker batch of `eventIds` in `group`; its result and the JSON lines it wrote. */
    async run(group: string, ...eventIds: string[]) {
      let result: Awaited<ReturnType<typeof work>> | undefined;
      const output = await writtenDuring(async () => {
        result = await work({ Records: eventIds.map((id) => workerRecord(id, group)) }, lambdaContext);
      }, [process.stdout, process.stderr]);
      const lines = output
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Json);
      return { failures: result?.batchItemFailures ?? [], lines };
    },
  };
}

/** Delivers `event` and runs it alone through the worker: no failure, and the inbox says processed. */
async function processedAlone(customerId: string, event: { id: string; created: number }) {
  const h = await handlers();
  await h.deliver(event);
  expect((await h.run(customerId, event.id)).failures).toEqual([]);
  expect((await h.inbox.get(event.id))?.status).toBe("processed");
  return h;
}

async function licensesOf(email: string) {
  const response = await fetch(`${integrator.url}/connectors/${CONNECTOR_ID}/licenses?limit=100`, {
    headers: { authorization: `Bearer ${VENDOR_TOKEN}` },
  });
  const all = (await response.json()) as { _id: string; expires: string; user: { email: string } }[];
  return all.filter((license) => license.user.email === email);
}

const expectedExpiry = (subscription: Stripe.Subscription) =>
  new Date(
    ((subscription.items.data[0]?.current_period_end ?? 0) + RENEWAL_BUFFER_DAYS * 86_400) * 1000,
  ).toISOString();

describe("a customer.subscription.* snapshot the pinned API version cannot read", () => {
  it.each([
    ["periods on the subscription, none on its items (before 2025-03-31)", OLD_VERSION, beforeBasil],
    [
      "a status this version does not know, which Stripe no longer shows",
      "2026-10-28.endive",
      (snapshot: Json) => ({ ...snapshot, status: "awaiting_renewal" }),
    ],
  ])(
    "%s: provisions from the subscription fetched in the pinned version",
    async (_case, apiVersion, render) => {
      const { email, customer, subscription, snapshot } = await subscribed("old-version");
      const event = {
        ...makeEvent("customer.subscription.created", render(snapshot), { created: nowSeconds() }),
        api_version: apiVersion,
      };
      const h = await handlers();
      await h.deliver(event);

      const { failures, lines } = await h.run(customer.id, event.id);
      expect(failures).toEqual([]);
      expect(await h.inbox.get(event.id)).toMatchObject({ status: "processed" });
      expect(await h.inbox.get(event.id)).not.toHaveProperty("reason");
      const [license] = await licensesOf(email);
      expect(license?.expires).toBe(expectedExpiry(subscription));
      // Stored as fetched, at the event's version: only a strictly newer event replaces it.
      expect(await h.customers.subscription(customer.id, subscription.id)).toMatchObject({
        source: "stripe",
        version: event.created,
        status: "active",
      });
      expect(
        lines.find((line) => line.message?.toString().includes("fetching it from Stripe")),
      ).toMatchObject({
        objectId: subscription.id,
        apiVersion,
      });
    },
  );

  it("a date no clock reads (9e12 seconds) is resolved by the fetch too, never retried", async () => {
    const { email, customer, subscription, snapshot } = await subscribed("far-future");
    const items = snapshot.items as { data: Json[] };
    const broken = {
      ...snapshot,
      items: { ...items, data: items.data.map((item) => ({ ...item, current_period_end: 9e12 })) },
    };
    const event = makeEvent("customer.subscription.updated", broken, { created: nowSeconds() });
    await processedAlone(customer.id, event);
    const [license] = await licensesOf(email);
    expect(license?.expires).toBe(expectedExpiry(subscription));
  });

  it("metadata Stripe would never send (a number, a 5,000-character email) is passed over, never retried", async () => {
    const { email, customer, subscription, snapshot } = await subscribed("odd-metadata");
    const h = await handlers();
    const updated = makeEvent(
      "customer.updated",
      { id: customer.id, object: "customer", email, metadata: { integrator_email: 5 } },
      { created: nowSeconds() },
    );
    const created = makeEvent(
      "customer.subscription.created",
      { ...snapshot, metadata: { integrator_email: `${"x".repeat(5000)}@example.com` } },
      { created: nowSeconds() },
    );
    for (const event of [updated, created]) {
      await h.deliver(event);
      expect((await h.run(customer.id, event.id)).failures, event.type).toEqual([]);
      expect((await h.inbox.get(event.id))?.status, event.type).toBe("processed");
    }
    // Neither metadata value is an email: the license goes to the customer's own.
    const [license] = await licensesOf(email);
    expect(license?.expires).toBe(expectedExpiry(subscription));
  });

  it("leaves a subscription Stripe answers 404 for as it is, processed", async () => {
    const { customer, snapshot } = await subscribed("gone");
    const event = {
      ...makeEvent("customer.subscription.updated", beforeBasil({ ...snapshot, id: "sub_never_existed" })),
      api_version: OLD_VERSION,
    };
    const h = await processedAlone(customer.id, event);
    expect(await h.customers.subscription(customer.id, "sub_never_existed")).toBeUndefined();
  });
});

describe("a status Stripe added after the pinned API version", () => {
  it("changes nothing, counts EventsUnrecognised, and does not hold back the customer's later events", async () => {
    const { email, customer, subscription, snapshot } = await subscribed("new-status");
    await simControl(stripeSim.url, "PUT", `/_sim/subscriptions/${subscription.id}/shown-status`, {
      status: "awaiting_renewal",
    });
    const created = nowSeconds();
    const unknown = makeEvent(
      "customer.subscription.updated",
      { ...snapshot, status: "awaiting_renewal" },
      {
        created,
      },
    );
    const later = makeEvent("customer.updated", JSON.parse(JSON.stringify(customer)) as Json, {
      created: created + 1,
    });
    const h = await handlers();
    await h.deliver(unknown, later);

    const { failures, lines } = await h.run(customer.id, unknown.id, later.id);
    expect(failures).toEqual([]);
    expect(await h.inbox.get(unknown.id)).toMatchObject({
      status: "processed",
      reason: expect.stringMatching(/^unrecognised: .*status: unknown value "awaiting_renewal"/),
    });
    expect((await h.inbox.get(later.id))?.status).toBe("processed");
    expect(await h.customers.subscription(customer.id, subscription.id)).toBeUndefined();
    expect(await licensesOf(email)).toEqual([]);

    const warning = lines.find(
      (line) => line.message === "Stripe object not recognised; event left unapplied",
    );
    expect(warning).toMatchObject({
      level: "WARN",
      eventId: unknown.id,
      objectType: "subscription",
      objectId: subscription.id,
    });
    expect(JSON.stringify(warning).length).toBeLessThan(2000);
    const emf = lines.find((line) => "_aws" in line);
    expect(emf).toMatchObject({ EventsUnrecognised: 1, EventsProcessed: 1 });

    // Once Stripe shows a known status again, the next event provisions as usual.
    await simControl(stripeSim.url, "PUT", `/_sim/subscriptions/${subscription.id}/shown-status`, {
      status: null,
    });
    const next = makeEvent("customer.subscription.updated", snapshot, { created: created + 2 });
    await h.deliver(next);
    expect((await h.run(customer.id, next.id)).failures).toEqual([]);
    const [license] = await licensesOf(email);
    expect(license?.expires).toBe(expectedExpiry(subscription));
  });
});

describe("an invoice.* the pinned API version cannot read", () => {
  it("is resolved by fetching the invoice, then its subscription", async () => {
    const { email, customer, subscription } = await subscribed("invoice");
    const invoiceId = String(subscription.latest_invoice);
    // Nothing in it names the subscription, and its status is one this version does not know.
    const event = makeEvent(
      "invoice.paid",
      { id: invoiceId, object: "invoice", customer: customer.id, status: "paid_elsewhere" },
      { created: nowSeconds() },
    );
    await processedAlone(customer.id, event);
    const [license] = await licensesOf(email);
    expect(license?.expires).toBe(expectedExpiry(subscription));
  });

  it("takes the subscription an unreadable invoice names (either version's shape) without fetching the invoice", async () => {
    const { email, customer, subscription } = await subscribed("invoice-named");
    // An invoice Stripe never had: only the subscription it names can make this event work.
    const event = makeEvent(
      "invoice.paid",
      {
        id: "in_not_in_stripe",
        object: "invoice",
        customer: customer.id,
        status: "paid_elsewhere",
        subscription: subscription.id,
      },
      { created: nowSeconds() },
    );
    await processedAlone(customer.id, event);
    const [license] = await licensesOf(email);
    expect(license?.expires).toBe(expectedExpiry(subscription));
  });

  it("leaves an invoice Stripe answers 404 for as it is, processed", async () => {
    const { email, customer } = await subscribed("invoice-gone");
    const event = makeEvent(
      "invoice.payment_failed",
      { id: "in_never_existed", object: "invoice", customer: customer.id, status: "paid_elsewhere" },
      { created: nowSeconds() },
    );
    await processedAlone(customer.id, event);
    expect(await licensesOf(email)).toEqual([]);
  });
});
