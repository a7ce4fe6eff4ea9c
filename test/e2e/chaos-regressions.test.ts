import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createIntegratorUser,
  eventually,
  integratorApi,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";
import { CONNECTOR, DAY, licensesOf, storeOf, uniqueEmail } from "#test/helpers/provisioning.ts";

// What the chaos suite (test/chaos) found, replayed deterministically: Stripe's events are taken
// from the simulator and posted by hand in the order that broke things.

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const signer = new Stripe("sk_test_signing_only");
async function post(event: Stripe.Event): Promise<void> {
  const payload = JSON.stringify(event);
  const signature = signer.webhooks.generateTestHeaderString({
    payload,
    secret: stack.env.STRIPE_WEBHOOK_SECRET ?? "",
  });
  const response = await fetch(`${stack.urls.api}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body: payload,
  });
  expect(response.status).toBe(200);
  const { inbox } = storeOf(stack);
  await eventually(async () => (await inbox.get(event.id))?.status === "processed", {
    what: `${event.type} ${event.id} processed`,
  });
}

/** Runs `act` with the simulator's webhook endpoint removed: its events are only recorded in Stripe. */
async function undelivered(act: () => Promise<void>): Promise<void> {
  const url = `${stack.urls.api}/webhooks/stripe`;
  const ours = (await stack.stripe.webhookEndpoints.list()).data.find((e) => e.url === url);
  await stack.stripe.webhookEndpoints.del(ours?.id ?? "");
  try {
    await act();
  } finally {
    await simControl(stack.urls.stripe, "POST", "/_sim/webhook_endpoints", {
      url,
      secret: stack.env.STRIPE_WEBHOOK_SECRET,
    });
  }
}

describe("chaos regressions", () => {
  it("never lets an older event snapshot replace what was fetched from Stripe later", {
    timeout: 60_000,
  }, async () => {
    const email = uniqueEmail("refreshed");
    await createIntegratorUser(stack, email);
    let customerId = "";
    await undelivered(async () => {
      const clock = await stack.stripe.testHelpers.testClocks.create({
        frozen_time: Math.floor(Date.now() / 1000) - 40 * DAY,
      });
      const customer = await stack.stripe.customers.create({ email, test_clock: clock.id });
      customerId = customer.id;
      const subscription = await stack.stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: "price_std_month" }],
      });
      const periodEnd = subscription.items.data[0]?.current_period_end ?? 0;
      // The renewal, then an upgrade in the same (frozen) second.
      await stack.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 60 });
      const renewed = await stack.stripe.subscriptions.retrieve(subscription.id);
      await stack.stripe.subscriptions.update(subscription.id, {
        items: [{ id: renewed.items.data[0]?.id ?? "", price: "price_prem_month" }],
      });
    });
    const events = (await stack.stripe.events.list({ limit: 100 })).data
      .filter((e) => (e.data.object as { customer?: string }).customer === customerId)
      .sort((a, b) => a.created - b.created);
    const firstPayment = events.find((e) => e.type === "invoice.paid");
    const renewal = events.find(
      (e) =>
        e.type === "customer.subscription.updated" &&
        (e.data.object as Stripe.Subscription).items.data[0]?.price.id === "price_std_month",
    );
    if (!firstPayment || !renewal) throw new Error("the simulator did not emit the expected events");
    const final = await stack.stripe.subscriptions.list({ customer: customerId });
    const finalEnd = final.data[0]?.items.data[0]?.current_period_end ?? 0;

    // The first payment arrives first: the worker stores Stripe's current (premium) subscription.
    await post(firstPayment);
    const [upgraded] = await licensesOf(stack, email);
    expect(upgraded?.opts.connectorEdition).toBe("premium");
    // The renewal's snapshot (still standard) is newer than the first payment, but older than
    // what was fetched: it must not downgrade the license.
    await post(renewal);
    const licenses = await licensesOf(stack, email);
    expect(licenses).toHaveLength(1);
    expect(licenses[0]?.opts.connectorEdition).toBe("premium");
    expect(Math.floor(Date.parse(licenses[0]?.expires ?? "") / 1000)).toBe(finalEnd + 3 * DAY);
  });
});

describe("chaos regressions: lost creates", () => {
  it("adopts the license a lost create made, not an older one of the customer on the same email", {
    timeout: 60_000,
  }, async () => {
    const email = uniqueEmail("lost-create");
    await createIntegratorUser(stack, email);
    const customer = await stack.stripe.customers.create({ email });
    await stack.stripe.subscriptions.create({ customer: customer.id, items: [{ price: "price_std_month" }] });
    const { licenses } = storeOf(stack);
    const first = await eventually(
      async () => {
        const record = await licenses.get(customer.id, CONNECTOR.key);
        return record?.state === "active" && record.licenseId ? record : undefined;
      },
      { what: "the first license" },
    );
    // The license moved away from this email and back within a minute (two transfers): the first
    // one was expired, and the create back onto the email lost its answer after integrator.io had
    // applied it, so the record says `creating`.
    await integratorApi(stack, "PUT", `/connectors/${CONNECTOR.id}/licenses/${first.licenseId}`, {
      expires: new Date(Date.now() - 1000).toISOString(),
      opts: first.opts,
    });
    const intent = await licenses.save(
      {
        customerId: first.customerId,
        connectorKey: first.connectorKey,
        connectorId: first.connectorId,
        subscriptionId: first.subscriptionId,
        email,
        expires: first.expires,
        opts: first.opts,
        state: "creating",
        intentAt: new Date().toISOString(),
      },
      first.rev,
    );
    const created = await integratorApi<{ _id: string }>(
      stack,
      "POST",
      `/connectors/${CONNECTOR.id}/licenses`,
      {
        email,
        expires: first.expires,
        opts: first.opts,
      },
    );
    expect(created.status).toBe(201);

    // The customer's next event resolves the intent.
    await stack.stripe.customers.update(customer.id, { name: "Next event" });
    await eventually(async () => (await licenses.get(customer.id, CONNECTOR.key))?.rev !== intent.rev, {
      what: "the intent resolved",
    });
    const live = (await licensesOf(stack, email)).filter((l) => Date.parse(l.expires) > Date.now());
    expect(live.map((l) => l._id)).toEqual([created.body._id]);
    expect(await licenses.get(customer.id, CONNECTOR.key)).toMatchObject({
      licenseId: created.body._id,
      state: "active",
    });
  });
});

describe("chaos regressions: customer profiles", () => {
  it("never lets an older customer event replace the customer fetched from Stripe later", {
    timeout: 60_000,
  }, async () => {
    const emails = [uniqueEmail("profile-0"), uniqueEmail("profile-1"), uniqueEmail("profile-2")];
    for (const email of emails) await createIntegratorUser(stack, email);
    let customerId = "";
    await undelivered(async () => {
      const clock = await stack.stripe.testHelpers.testClocks.create({
        frozen_time: Math.floor(Date.now() / 1000) - 10 * DAY,
      });
      const customer = await stack.stripe.customers.create({ email: emails[0], test_clock: clock.id });
      customerId = customer.id;
      await stack.stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: "price_std_month" }],
      });
      // Two email changes on later days (the license follows the billing email).
      for (const [day, email] of [
        [1, emails[1]],
        [2, emails[2]],
      ] as const) {
        await stack.stripe.testHelpers.testClocks.advance(clock.id, {
          frozen_time: clock.frozen_time + day * DAY,
        });
        await stack.stripe.customers.update(customer.id, { email });
      }
    });
    const events = (await stack.stripe.events.list({ limit: 100 })).data.filter((e) => {
      const object = e.data.object as { id?: string; customer?: string };
      return object.customer === customerId || object.id === customerId;
    });
    const created = events.find((e) => e.type === "customer.subscription.created");
    const firstChange = events.find(
      (e) => e.type === "customer.updated" && (e.data.object as Stripe.Customer).email === emails[1],
    );
    if (!created || !firstChange) throw new Error("the simulator did not emit the expected events");

    // The subscription arrives first: the worker fetches the customer (its email is the last one).
    await post(created);
    expect((await licensesOf(stack, emails[2] ?? "")).map((l) => l.opts.connectorEdition)).toEqual([
      "standard",
    ]);
    // The first email change arrives late: older than the fetched customer, it must change nothing.
    await post(firstChange);
    expect(await licensesOf(stack, emails[1] ?? "")).toEqual([]);
    const live = (await licensesOf(stack, emails[2] ?? "")).filter((l) => Date.parse(l.expires) > Date.now());
    expect(live).toHaveLength(1);
  });
});
