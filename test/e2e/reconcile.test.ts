import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPAIR_LEASE, REPAIR_LEASE_MS } from "#lib/reconcile/run.ts";
import {
  adminApi,
  CONNECTOR,
  issueLicenseDirectly,
  itemsFor,
  licensesOf,
  licenseWhere,
  pauseDelivery,
  purchase,
  reconcile,
  seconds,
  storeOf,
  uniqueEmail,
} from "#test/helpers/admin-api.ts";
import {
  createIntegratorUser,
  eventually,
  integratorApi,
  simControl,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await pauseDelivery(stack, false).catch(() => undefined);
  await stack?.stop();
});

const DAY = 86_400;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const kinds = (items: { kind: string }[]) => items.map((item) => item.kind).sort();

/** Waits until every event of a customer's purchase is processed, so reconcile sees it at rest. */
async function purchaseSettled(customerId: string) {
  const { inbox } = storeOf(stack);
  await eventually(
    async () => {
      const events = (await inbox.list({ limit: 200 })).items.filter((e) => e.customerId === customerId);
      return events.length >= 3 && events.every((e) => e.status === "processed" || e.status === "ignored");
    },
    { what: "the purchase's events processed" },
  );
}

describe("reconcile through the admin API", () => {
  it("recreates a license deleted in integrator.io; a dry run before it reports and changes nothing", {
    timeout: 90_000,
  }, async () => {
    const { email, customer, license } = await purchase(stack, "deleted");
    const store = storeOf(stack);
    const deleted = await integratorApi(
      stack,
      "DELETE",
      `/connectors/${CONNECTOR.id}/licenses/${license?._id}`,
    );
    expect(deleted.status).toBe(204);
    const recordBefore = await store.licenses.get(customer.id, CONNECTOR.key);

    const dry = await reconcile(stack, true);
    expect(dry).toMatchObject({ state: "done", dryRun: true });
    expect(itemsFor(dry, customer.id)).toEqual([
      expect.objectContaining({
        kind: "missing",
        connector: CONNECTOR.key,
        detail: expect.stringContaining("would repair"),
      }),
    ]);
    expect(dry.counts.missing).toBeGreaterThanOrEqual(1);
    expect(await licensesOf(stack, email)).toEqual([]);
    expect(await store.licenses.get(customer.id, CONNECTOR.key)).toEqual(recordBefore);

    const run = await reconcile(stack);
    expect(run).toMatchObject({ state: "done", dryRun: false });
    expect(kinds(itemsFor(run, customer.id))).toEqual(["missing"]);
    const [recreated] = await licensesOf(stack, email);
    expect(recreated?._id).not.toBe(license?._id);
    expect(recreated?.opts.connectorEdition).toBe("standard");
    expect(await store.licenses.get(customer.id, CONNECTOR.key)).toMatchObject({
      licenseId: recreated?._id,
      state: "active",
    });

    // Repaired: the next run finds nothing about this customer.
    expect(itemsFor(await reconcile(stack), customer.id)).toEqual([]);
  });

  it("puts back an edition and expiry changed in integrator.io", { timeout: 60_000 }, async () => {
    const { email, customer, license } = await purchase(stack, "tampered");
    const rightExpiry = license?.expires ?? "";
    const tampered = await integratorApi(
      stack,
      "PUT",
      `/connectors/${CONNECTOR.id}/licenses/${license?._id}`,
      {
        expires: new Date(Date.now() + 2 * DAY * 1000).toISOString(),
        opts: { connectorEdition: "premium" },
      },
    );
    expect(tampered.status).toBe(200);

    const run = await reconcile(stack);
    expect(kinds(itemsFor(run, customer.id))).toEqual(["wrongEdition", "wrongExpiry"]);
    expect(itemsFor(run, customer.id)[0]).toMatchObject({
      licenseId: license?._id,
      connector: CONNECTOR.key,
    });
    const [restored] = await licensesOf(stack, email);
    expect(restored).toMatchObject({ _id: license?._id, opts: { connectorEdition: "standard" } });
    expect(seconds(restored?.expires ?? "")).toBe(seconds(rightExpiry));
  });

  it("creates the license of a purchase whose events never arrived, and stays at one license when they do", {
    timeout: 90_000,
  }, async () => {
    await pauseDelivery(stack, true);
    const { email, customer } = await purchase(stack, "undelivered", { waitForLicense: false });
    await new Promise((r) => setTimeout(r, 500));
    expect(await licensesOf(stack, email)).toEqual([]);

    const run = await reconcile(stack);
    expect(kinds(itemsFor(run, customer.id))).toEqual(["missing"]);
    await licenseWhere(stack, email, (l) => l.opts.connectorEdition === "standard", "the reconciled license");
    const store = storeOf(stack);
    expect(await store.customers.subscriptions(customer.id)).toHaveLength(1);

    await pauseDelivery(stack, false);
    await eventually(
      async () => {
        const { items } = await store.inbox.list({ limit: 100 });
        const mine = items.filter((event) => event.customerId === customer.id);
        return mine.length > 0 && mine.every((event) => event.status === "processed");
      },
      { what: "the late events to be processed" },
    );
    expect(await licensesOf(stack, email)).toHaveLength(1);
  });

  it("expires the license of a subscription canceled while events were lost", {
    timeout: 90_000,
  }, async () => {
    const { email, customer, subscription } = await purchase(stack, "canceled");
    await purchaseSettled(customer.id);
    await pauseDelivery(stack, true);
    await stack.stripe.subscriptions.cancel(subscription.id);

    const run = await reconcile(stack);
    await pauseDelivery(stack, false);
    expect(itemsFor(run, customer.id)).toEqual([
      expect.objectContaining({
        kind: "shouldBeExpired",
        connector: CONNECTOR.key,
        detail: expect.stringContaining("canceled"),
      }),
    ]);
    const [expired] = await licensesOf(stack, email);
    expect(Date.parse(expired?.expires ?? "")).toBeLessThanOrEqual(Date.now());
    expect(await storeOf(stack).licenses.get(customer.id, CONNECTOR.key)).toMatchObject({ state: "expired" });
  });

  it("expires a license whose grace period lapsed while the subscription still reads past_due", {
    timeout: 90_000,
  }, async () => {
    // A billing clock 80 days back. The renewal a month in fails; Stripe moves the period on anyway,
    // so the grace runs to the end of that unpaid period + 14 days: about 5 days ago.
    const start = nowSeconds() - 80 * DAY;
    const clock = await stack.stripe.testHelpers.testClocks.create({ frozen_time: start });
    const { email, customer, subscription } = await purchase(stack, "lapsed", { clock: clock.id });
    await fetch(`${stack.urls.stripe}/_sim/customers/${customer.id}/payment`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fails: true }),
    });
    const periodEnd = subscription.items.data[0]?.current_period_end ?? 0;
    await stack.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 60 });
    const pastDue = await stack.stripe.subscriptions.retrieve(subscription.id);
    expect(pastDue.status).toBe("past_due");
    const graceEnd = (pastDue.items.data[0]?.current_period_end ?? 0) + 14 * DAY;
    expect(graceEnd).toBeLessThan(nowSeconds());
    await licenseWhere(stack, email, (l) => seconds(l.expires) === graceEnd, "the grace-period license");
    const store = storeOf(stack);
    expect(await store.licenses.get(customer.id, CONNECTOR.key)).toMatchObject({ state: "active" });

    const run = await reconcile(stack);
    expect(itemsFor(run, customer.id)).toEqual([
      expect.objectContaining({ kind: "shouldBeExpired", detail: expect.stringContaining("past_due") }),
    ]);
    expect(await store.licenses.get(customer.id, CONNECTOR.key)).toMatchObject({ state: "expired" });
    const [license] = await licensesOf(stack, email);
    expect(seconds(license?.expires ?? "")).toBe(graceEnd);
    expect(
      (await adminApi<{ audit: { action: string }[] }>(stack, "GET", `/admin/customers/${customer.id}`)).body
        .audit[0],
    ).toMatchObject({
      action: "license.expired",
    });
    expect(itemsFor(await reconcile(stack), customer.id)).toEqual([]);
  });

  it("provisions a pending_user license once the buyer has an integrator.io account", {
    timeout: 60_000,
  }, async () => {
    const { email, customer } = await purchase(stack, "pending", { account: false });
    const store = storeOf(stack);
    await eventually(
      async () => (await store.licenses.get(customer.id, CONNECTOR.key))?.state === "pending_user",
      {
        what: "the pending_user license",
      },
    );
    // Every event of the purchase settled (each one retries the create), so no create is in
    // flight when reconcile looks: it skips a customer whose create may still be landing.
    await purchaseSettled(customer.id);
    expect((await store.licenses.get(customer.id, CONNECTOR.key))?.state).toBe("pending_user");

    const waiting = await reconcile(stack);
    expect(itemsFor(waiting, customer.id)).toEqual([
      expect.objectContaining({ kind: "pendingRetried", detail: expect.stringContaining("still waiting") }),
    ]);

    await createIntegratorUser(stack, email);
    const run = await reconcile(stack);
    expect(itemsFor(run, customer.id)).toEqual([
      expect.objectContaining({ kind: "pendingRetried", detail: expect.stringContaining("provisioned") }),
    ]);
    const [license] = await licensesOf(stack, email);
    expect(await store.licenses.get(customer.id, CONNECTOR.key)).toMatchObject({
      state: "active",
      licenseId: license?._id,
    });
  });

  it("reports a license it did not create and leaves it alone", { timeout: 60_000 }, async () => {
    const email = uniqueEmail("comped");
    const expires = new Date(Date.now() + 90 * DAY * 1000).toISOString();
    const comped = await issueLicenseDirectly(stack, email, expires, { connectorEdition: "premium" });

    const run = await reconcile(stack);
    expect(run.items.filter((item) => item.licenseId === comped._id)).toEqual([
      expect.objectContaining({
        kind: "foreign",
        connector: CONNECTOR.key,
        customerId: null,
        detail: expect.stringContaining(email),
      }),
    ]);
    const [after] = await licensesOf(stack, email);
    expect(after).toMatchObject({ _id: comped._id, opts: { connectorEdition: "premium" } });
    expect(seconds(after?.expires ?? "")).toBe(seconds(expires));
  });

  it("reports a stored subscription Stripe no longer has, and never expires its license", {
    timeout: 60_000,
  }, async () => {
    const clock = await stack.stripe.testHelpers.testClocks.create({ frozen_time: nowSeconds() });
    const { email, customer, subscription, license } = await purchase(stack, "vanished", { clock: clock.id });
    // Deleting a test clock deletes its customers and subscriptions: Stripe answers 404 for them.
    await stack.stripe.testHelpers.testClocks.del(clock.id);
    await expect(stack.stripe.subscriptions.retrieve(subscription.id)).rejects.toMatchObject({
      statusCode: 404,
    });

    const run = await reconcile(stack);
    expect(itemsFor(run, customer.id)).toEqual([
      expect.objectContaining({
        kind: "notInStripe",
        subscriptionId: subscription.id,
        connector: CONNECTOR.key,
      }),
    ]);
    const [after] = await licensesOf(stack, email);
    expect(after?.expires).toBe(license?.expires);
    const stored = await storeOf(stack).customers.subscription(customer.id, subscription.id);
    expect(stored?.status).toBe("active");
  });

  it("queues again an inbox event left received for longer than the stale limit", {
    timeout: 60_000,
  }, async () => {
    await pauseDelivery(stack, true);
    const { email, customer, subscription } = await purchase(stack, "stuck", { waitForLicense: false });
    const events = await stack.stripe.events.list({ type: "customer.subscription.created", limit: 20 });
    const event = events.data.find((e) => (e.data.object as { id?: string }).id === subscription.id);
    expect(event).toBeDefined();
    // As if the webhook had recorded it ten minutes ago and crashed before queueing it.
    const tenMinutesAgo = storeOf(stack, () => Date.now() - 10 * 60_000);
    await tenMinutesAgo.inbox.record(
      {
        eventId: event?.id ?? "",
        type: "customer.subscription.created",
        groupId: customer.id,
        customerId: customer.id,
        livemode: false,
        created: event?.created ?? 0,
        payload: JSON.stringify(event),
      },
      "received",
    );

    const run = await reconcile(stack);
    expect(run.items.filter((item) => item.eventId === event?.id)).toEqual([
      expect.objectContaining({ kind: "reenqueued", customerId: customer.id, connector: null }),
    ]);
    const store = storeOf(stack);
    await eventually(async () => (await store.inbox.get(event?.id ?? ""))?.status === "processed", {
      what: "the event to be processed",
    });
    await pauseDelivery(stack, false);
    await licenseWhere(stack, email, () => true, "the one license");
  });

  it("refuses a second repairing run while one holds the repair lease, and lists runs", {
    timeout: 30_000,
  }, async () => {
    const store = storeOf(stack);
    await store.leases.take(REPAIR_LEASE, "run-working", REPAIR_LEASE_MS);
    const refused = await adminApi<{ error: { message: string } }>(stack, "POST", "/admin/reconcile", {
      dryRun: false,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("run-working");
    await store.leases.release(REPAIR_LEASE, "run-working");
    const dry = await adminApi<{ runId: string }>(stack, "POST", "/admin/reconcile", { dryRun: true });
    expect(dry.status).toBe(202);
    expect(dry.headers.get("location")).toBe(`/admin/reconcile/${dry.body.runId}`);
    const listed = await adminApi<{ data: { runId: string }[] }>(stack, "GET", "/admin/reconcile?limit=5");
    expect(listed.body.data.map((r) => r.runId)).toContain(dry.body.runId);
    expect((await adminApi(stack, "GET", "/admin/reconcile/nope")).status).toBe(404);
  });
});

describe("a license create whose answer is lost before integrator.io commits it", () => {
  const lateCommits = (lateCommitMs: number) =>
    simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { lateCommitRate: 1, lateCommitMs });
  const noFaults = () => simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
  const answerLost = (customerId: string) =>
    eventually(
      async () => (await storeOf(stack).licenses.get(customerId, CONNECTOR.key))?.reason === "answer_lost",
      { what: "the create recorded with its answer lost" },
    );

  it("is adopted by the worker when it lands within the window: one license", {
    timeout: 60_000,
  }, async () => {
    await lateCommits(1_500);
    const { email, customer } = await purchase(stack, "late-commit", { waitForLicense: false });
    await answerLost(customer.id);
    await noFaults();
    const license = await licenseWhere(stack, email, () => true, "the late license");
    await eventually(
      async () => (await storeOf(stack).licenses.get(customer.id, CONNECTOR.key))?.licenseId === license._id,
      { what: "the late license adopted" },
    );
    await purchaseSettled(customer.id);
    expect(await licensesOf(stack, email)).toHaveLength(1);
  });

  it("landing after the window (created again meanwhile) is claimed by reconcile and expired as a second license, never reported foreign", {
    timeout: 90_000,
  }, async () => {
    await lateCommits(6_000);
    const { email, customer } = await purchase(stack, "later-commit", { waitForLicense: false });
    await answerLost(customer.id);
    await noFaults();
    // The window (2 s in tests) passes: the next delivery creates again; then the first lands.
    const both = await eventually(
      async () => {
        const licenses = await licensesOf(stack, email);
        return licenses.length === 2 ? licenses : undefined;
      },
      { what: "the second create and the late first license", timeoutMs: 30_000 },
    );
    await purchaseSettled(customer.id);
    const recorded = await storeOf(stack).licenses.get(customer.id, CONNECTOR.key);
    const late = both.find((l) => l._id !== recorded?.licenseId);
    expect(recorded).toMatchObject({ state: "active" });
    expect(await storeOf(stack).licenses.owner(late?._id ?? "")).toBeUndefined();

    const run = await reconcile(stack);
    expect(itemsFor(run, customer.id)).toEqual([
      expect.objectContaining({ kind: "shouldBeExpired", licenseId: late?._id }),
    ]);
    expect(run.items.filter((item) => item.kind === "foreign" && item.licenseId === late?._id)).toEqual([]);
    const live = (await licensesOf(stack, email)).filter((l) => Date.parse(l.expires ?? "") > Date.now());
    expect(live.map((l) => l._id)).toEqual([recorded?.licenseId]);
    expect(await storeOf(stack).licenses.owner(late?._id ?? "")).toMatchObject({ customerId: customer.id });
  });
});
