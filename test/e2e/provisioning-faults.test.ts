import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createIntegratorUser,
  eventually,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";
import {
  CONNECTOR,
  licensesOf,
  licenseWhere,
  sameInstant,
  storeOf,
  uniqueEmail,
} from "#test/helpers/provisioning.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const signer = new Stripe("sk_test_signing_only");
const postEvent = async (event: object, secret = stack.env.STRIPE_WEBHOOK_SECRET ?? "") => {
  const payload = JSON.stringify(event);
  const signature = signer.webhooks.generateTestHeaderString({ payload, secret });
  const response = await fetch(`${stack.urls.api}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body: payload,
  });
  return { status: response.status, body: await response.json() };
};
/** A hand-made event in Stripe's envelope, for deliveries Stripe would make at another moment. */
const envelope = (id: string, type: string, created: number, object: object) => ({
  id,
  object: "event",
  api_version: "2026-10-28.endive",
  created,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type,
  data: { object, previous_attributes: {} },
});
const faults = (body: object) => simControl(stack.integratorOrigin, "PUT", "/_sim/faults", body);
const noFaults = () => faults({ errorRate: 0, latencyMs: 0, dropResponseRate: 0 });

async function subscribe(email: string, price = "price_std_month") {
  const customer = await stack.stripe.customers.create({ email });
  const subscription = await stack.stripe.subscriptions.create({ customer: customer.id, items: [{ price }] });
  return { customer, subscription };
}

describe("provisioning under Stripe's and integrator.io's misbehaviour", () => {
  it("converges to Stripe's final state with duplicated and reordered deliveries", async () => {
    const email = uniqueEmail("shuffled");
    await createIntegratorUser(stack, email);
    await simControl(stack.urls.stripe, "PUT", "/_sim/delivery", {
      duplicateRate: 0.5,
      reorderWindowMs: 600,
    });
    try {
      const { subscription } = await subscribe(email);
      const itemId = subscription.items.data[0]?.id ?? "";
      await stack.stripe.subscriptions.update(subscription.id, {
        items: [{ id: itemId, price: "price_prem_month" }],
      });
      await stack.stripe.subscriptions.update(subscription.id, {
        items: [{ price: "price_store_month", quantity: 3 }],
      });
      const final = await stack.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
      await simControl(stack.urls.stripe, "POST", "/_sim/delivery/flush", { timeoutMs: 20_000 });
      const periodEnd =
        final.items.data.find((i) => i.price.id === "price_prem_month")?.current_period_end ?? 0;
      const license = await licenseWhere(
        stack,
        email,
        (l) =>
          l.opts.connectorEdition === "premium" &&
          l.opts.addonLicenses?.length === 1 &&
          sameInstant(l.expires, periodEnd),
        "final license",
      );
      expect(license.opts.addonLicenses).toEqual([
        { type: "store", licenses: Array(3).fill({ addOnEdition: "standard" }) },
      ]);
    } finally {
      await simControl(stack.urls.stripe, "PUT", "/_sim/delivery", { duplicateRate: 0, reorderWindowMs: 0 });
    }
  }, 90_000);

  it("orders two snapshots of the same second by asking Stripe, in either order", async () => {
    for (const order of ["older-last", "older-first"] as const) {
      const email = uniqueEmail(`tie-${order}`);
      await createIntegratorUser(stack, email);
      const { subscription } = await subscribe(email);
      await licenseWhere(stack, email, () => true, "first license");
      const current = await stack.stripe.subscriptions.update(subscription.id, {
        items: [{ id: subscription.items.data[0]?.id ?? "", price: "price_prem_month" }],
      });
      await licenseWhere(stack, email, (l) => l.opts.connectorEdition === "premium", "premium license");
      // Two hand-made events of one second: the stale standard snapshot and the premium one.
      const created = Math.floor(Date.now() / 1000) + 5;
      const stale = {
        ...current,
        items: {
          ...current.items,
          data: current.items.data.map((i) => ({ ...i, price: { ...i.price, id: "price_std_month" } })),
        },
      };
      const updated = (id: string, object: object) =>
        envelope(id, "customer.subscription.updated", created, object);
      const events = [updated(`evt_tie_new_${order}`, current), updated(`evt_tie_old_${order}`, stale)];
      if (order === "older-first") events.reverse();
      for (const event of events) expect((await postEvent(event)).status).toBe(200);
      const { inbox } = storeOf(stack);
      await eventually(async () => (await inbox.get(events[1]?.id ?? ""))?.status === "processed", {
        what: "both events processed",
      });
      const [license] = await licensesOf(stack, email);
      expect(license?.opts.connectorEdition).toBe("premium");
    }
  }, 90_000);

  /** Delivers a hand-made event and waits until the worker processed it. */
  const deliverProcessed = async (event: ReturnType<typeof envelope>) => {
    expect((await postEvent(event)).status).toBe(200);
    const { inbox } = storeOf(stack);
    await eventually(async () => (await inbox.get(event.id))?.status === "processed", {
      what: `${event.type} ${event.id} processed`,
    });
  };
  const paid = async (invoiceId: string, created: number) =>
    envelope(
      `evt_paid_${invoiceId}_${created}`,
      "invoice.paid",
      created,
      await stack.stripe.invoices.retrieve(invoiceId),
    );

  it("asks Stripe about a paid invoice only when the stored subscription does not show it paid", async () => {
    const email = uniqueEmail("invoice-paid");
    await createIntegratorUser(stack, email);
    const { subscription } = await subscribe(email);
    const first = await licenseWhere(stack, email, () => true, "first license");
    // Stripe moves on (a yearly price: a new invoice, paid) while its events are held back.
    await simControl(stack.urls.stripe, "PUT", "/_sim/delivery", { paused: true });
    try {
      const [yearly] = (await stack.stripe.prices.list({ lookup_keys: ["std_yearly"] })).data;
      const moved = await stack.stripe.subscriptions.update(subscription.id, {
        items: [{ id: subscription.items.data[0]?.id ?? "", price: yearly?.id ?? "" }],
      });
      // The first invoice, of the second the stored subscription is from: it already shows that
      // invoice paid, so Stripe is not asked and the held-back change stays unseen.
      await deliverProcessed(await paid(String(subscription.latest_invoice), subscription.created));
      expect((await licensesOf(stack, email))[0]?.expires).toBe(first.expires);
      // The new invoice is not the stored one's latest: Stripe is asked and the license follows it.
      expect(moved.latest_invoice).not.toBe(subscription.latest_invoice);
      await deliverProcessed(await paid(String(moved.latest_invoice), subscription.created + 1));
      const [license] = await licensesOf(stack, email);
      const yearlyEnd = moved.items.data[0]?.current_period_end ?? 0;
      expect(Date.parse(license?.expires ?? "") / 1000).toBeGreaterThan(yearlyEnd);
    } finally {
      await simControl(stack.urls.stripe, "PUT", "/_sim/delivery", { paused: false });
      await simControl(stack.urls.stripe, "POST", "/_sim/delivery/flush", { timeoutMs: 20_000 });
    }
  }, 60_000);

  it("after a paid invoice newer than the stored subscription, refuses an older snapshot delivered late", async () => {
    const email = uniqueEmail("paid-fence");
    await createIntegratorUser(stack, email);
    const { subscription } = await subscribe(email);
    const first = await licenseWhere(stack, email, () => true, "first license");
    // A payment a minute later (Stripe: still active), then a redelivered snapshot from before it
    // saying the subscription had gone unpaid.
    await deliverProcessed(await paid(String(subscription.latest_invoice), subscription.created + 60));
    const current = await stack.stripe.subscriptions.retrieve(subscription.id);
    await deliverProcessed(
      envelope(
        `evt_late_unpaid_${subscription.id}`,
        "customer.subscription.updated",
        subscription.created + 30,
        {
          ...current,
          status: "unpaid",
        },
      ),
    );
    const [license] = await licensesOf(stack, email);
    expect(license?.expires).toBe(first.expires);
  }, 60_000);

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

  it("keeps a license for an email without an integrator.io account as pending_user", async () => {
    const email = uniqueEmail("no-account");
    const { customer } = await subscribe(email);
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

  it("never leaves two licenses when the answer to the license POST is lost", async () => {
    const email = uniqueEmail("dropped");
    await createIntegratorUser(stack, email);
    const route = `POST /v1/connectors/:connectorId/licenses`;
    const stats = () =>
      simControl<{ byRoute: Record<string, { requests: number }> }>(
        stack.integratorOrigin,
        "GET",
        "/_sim/stats",
      );
    const postsBefore = (await stats()).byRoute[route]?.requests ?? 0;
    await faults({ dropResponseRate: 1 });
    try {
      await subscribe(email);
      // The POST reached integrator.io (and was applied) but its answer was lost.
      await eventually(async () => ((await stats()).byRoute[route]?.requests ?? 0) > postsBefore, {
        what: "a license POST",
      });
    } finally {
      await noFaults();
    }
    await licenseWhere(stack, email, () => true, "the license");
    // Give the retries time to (wrongly) create a second one.
    await new Promise((r) => setTimeout(r, 4000));
    expect(await licensesOf(stack, email)).toHaveLength(1);
  }, 60_000);

  it("delays but never loses a license through a burst of integrator.io 5xx", async () => {
    const email = uniqueEmail("outage");
    await createIntegratorUser(stack, email);
    await faults({ errorRate: 1, status: 503 });
    try {
      const { customer } = await subscribe(email);
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
  }, 90_000);

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
});
