import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LICENSE_STATES } from "#lib/admin/schemas.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import { REPAIR_LEASE, REPAIR_LEASE_MS } from "#lib/reconcile/run.ts";
import { AuditTrail } from "#lib/store/audit.ts";
import {
  adminApi,
  CONNECTOR,
  licensesOf,
  licenseWhere,
  purchase,
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

/**
 * The admin API the console reads (docs/architecture.md §6): customer search, the overview, one
 * customer's reconcile, and the customer view's events and integrator.io copies — through the
 * local stack's real admin function, DynamoDB Local and the simulators.
 */

let stack: TestStack;
beforeAll(async () => {
  // A failing event dead-letters after 5 receives: a 1 s visibility timeout brings each back in a second.
  stack = await startTestStack({}, { visibilityTimeoutSeconds: 1 });
});
afterEach(async () => {
  await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
});
afterAll(async () => {
  await stack?.stop();
});

interface Match {
  customerId: string;
  email: string | null;
  matchedBy: string;
  subscriptions: { subscriptionId: string; status: string }[];
  licenses: { connectorKey: string; state: string; email: string }[];
}
interface SearchPage {
  data: Match[];
  nextCursor?: string;
}
interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}
interface EventItem {
  eventId: string;
  type: string;
  status: string;
  reason?: string;
  created: number;
  customerId?: string;
}
interface View {
  licenses: { licenseId?: string; state: string; email: string; integrator?: Record<string, unknown> }[];
  integratorUnavailable?: boolean;
  events: EventItem[];
  audit: { action: string; cause?: string; detail?: Record<string, unknown> }[];
}
interface Reconciled {
  customerId: string;
  dryRun: boolean;
  findings: { kind: string; connectorKey?: string; licenseId?: string; detail: string }[];
  repaired: number;
}

const search = (q: string, extra = "") =>
  adminApi<SearchPage>(stack, "GET", `/admin/customers?q=${encodeURIComponent(q)}${extra}`);
const view = (customerId: string) => adminApi<View>(stack, "GET", `/admin/customers/${customerId}`);
const reconcileCustomer = (customerId: string, dryRun: boolean) =>
  adminApi<Reconciled & ErrorBody>(stack, "POST", `/admin/customers/${customerId}/reconcile`, { dryRun });

/** Waits until the search index (eventually consistent, as DynamoDB's indexes are) finds what `accept` wants. */
const searched = (q: string, accept: (page: SearchPage) => boolean, extra = "") =>
  eventually(
    async () => {
      const answer = await search(q, extra);
      expect(answer.status).toBe(200);
      return accept(answer.body) ? answer.body : undefined;
    },
    { what: `a search for ${q}` },
  );

/** A buyer through Stripe Checkout: the license goes to the email typed at checkout, not the one paid with. */
async function checkoutPurchase(label: string) {
  const typed = uniqueEmail(`${label}-typed`);
  const billing = uniqueEmail(`${label}-billing`);
  await createIntegratorUser(stack, typed);
  const response = await fetch(`${stack.urls.api}/checkout/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      connector: CONNECTOR.key,
      edition: "standard",
      integratorEmail: typed,
      successUrl: "http://localhost:3000/thanks",
      cancelUrl: "http://localhost:3000/pricing",
    }),
  });
  expect(response.status).toBe(201);
  const session = (await response.json()) as { id: string };
  const completed = await simControl<{ customer: string; subscription: string }>(
    new URL(stack.urls.stripe).origin,
    "POST",
    `/_sim/checkout/sessions/${session.id}/complete`,
    { email: billing },
  );
  const license = await licenseWhere(stack, typed, () => true, `the license of ${typed}`);
  return { typed, billing, customerId: completed.customer, subscriptionId: completed.subscription, license };
}

/** A subscription whose license goes to `integratorEmail` (its metadata), not the customer's email. */
async function purchaseFor(integratorEmail: string, label: string) {
  const customer = await stack.stripe.customers.create({ email: uniqueEmail(label) });
  const subscription = await stack.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: "price_std_month" }],
    metadata: { integrator_email: integratorEmail },
  });
  await eventually(
    async () => (await storeOf(stack).licenses.get(customer.id, CONNECTOR.key))?.state === "active",
    { what: `the license of ${customer.id}` },
  );
  return { customer, subscription };
}

describe("GET /admin/customers?q=", () => {
  it("finds a customer by profile email in any case, by customer, subscription and license id", {
    timeout: 60_000,
  }, async () => {
    const { email, customer, subscription, license } = await purchase(stack, "search-find");
    const expected = {
      customerId: customer.id,
      email,
      subscriptions: [{ subscriptionId: subscription.id, status: "active" }],
      licenses: [{ connectorKey: CONNECTOR.key, state: "active", email }],
    };
    for (const q of [email, email.toUpperCase(), `  ${email.replace("search", "SEARCH")}  `]) {
      const page = await searched(q, (p) => p.data.length > 0);
      expect(page, q).toEqual({ data: [{ ...expected, matchedBy: "email" }] });
    }
    expect((await search(customer.id)).body).toEqual({ data: [{ ...expected, matchedBy: "customerId" }] });
    expect((await searched(subscription.id, (p) => p.data.length > 0)).data).toEqual([
      { ...expected, matchedBy: "subscriptionId" },
    ]);
    expect((await search(license?._id ?? "")).body).toEqual({
      data: [{ ...expected, matchedBy: "licenseId" }],
    });
  });

  it("finds a checkout buyer by the email typed at checkout and by the one paid with", {
    timeout: 60_000,
  }, async () => {
    const { typed, billing, customerId } = await checkoutPurchase("search-checkout");
    const byTyped = await searched(typed.toUpperCase(), (p) => p.data.length > 0);
    expect(byTyped.data).toEqual([
      expect.objectContaining({
        customerId,
        email: billing,
        matchedBy: "checkoutEmail",
        licenses: [{ connectorKey: CONNECTOR.key, state: "active", email: typed }],
      }),
    ]);
    const byBilling = await searched(billing, (p) => p.data.length > 0);
    expect(byBilling.data).toEqual([expect.objectContaining({ customerId, matchedBy: "email" })]);
  });

  it("finds customers by a license email alone, a page at a time, each once", {
    timeout: 90_000,
  }, async () => {
    const shared = uniqueEmail("search-shared");
    await createIntegratorUser(stack, shared);
    const first = await purchaseFor(shared, "search-owner-a");
    const second = await purchaseFor(shared, "search-owner-b");
    const ids = [first.customer.id, second.customer.id].sort();

    const all = await searched(shared, (p) => p.data.length === 2);
    expect(all.data.map((m) => [m.customerId, m.matchedBy])).toEqual(ids.map((id) => [id, "licenseEmail"]));
    expect(all.nextCursor).toBeUndefined();

    const one = await search(shared, "&limit=1");
    expect(one.body.data.map((m) => m.customerId)).toEqual([ids[0]]);
    expect(one.body.nextCursor).toEqual(expect.any(String));
    const two = await search(shared, `&limit=1&cursor=${one.body.nextCursor}`);
    expect(two.body.data.map((m) => m.customerId)).toEqual([ids[1]]);
    expect(two.body.nextCursor).toBeUndefined();
    // The same query in another case is the same query: its cursor holds.
    const upper = await search(shared.toUpperCase(), `&limit=1&cursor=${one.body.nextCursor}`);
    expect(upper.body.data.map((m) => m.customerId)).toEqual([ids[1]]);

    // A cursor is good only for the query that returned it.
    const other = await adminApi<ErrorBody>(
      stack,
      "GET",
      `/admin/customers?q=${encodeURIComponent(first.customer.id)}&cursor=${one.body.nextCursor}`,
    );
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe("invalid_cursor");
  });

  it("answers an empty page when nothing matches", async () => {
    for (const q of [
      uniqueEmail("nobody"),
      "cus_nobody",
      "sub_nobody",
      "65f1c0a2b7d94e3a1c8b0000",
      "two words",
    ]) {
      const answer = await search(q);
      expect(answer.status, q).toBe(200);
      expect(answer.body, q).toEqual({ data: [] });
    }
  });

  it("refuses a missing, blank or over-long q with a 400 naming it", async () => {
    for (const query of [
      "",
      "?q=",
      `?q=${encodeURIComponent("   ")}`,
      `?q=${"a".repeat(255)}`,
      "?q=x&limit=0",
    ]) {
      const answer = await adminApi<ErrorBody>(stack, "GET", `/admin/customers${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code).toBe("invalid_request");
      expect(answer.body.error.details?.map((d) => d.path).join(), query).toMatch(/query\.(q|limit)/);
    }
    // A q of 254 characters is looked up (and finds nothing).
    expect((await search(`${"a".repeat(242)}@example.com`)).body).toEqual({ data: [] });
  });

  it("finds a customer stored before the search keys by its id, not by its email", async () => {
    const { table } = storeOf(stack);
    const customerId = `cus_legacy${Date.now().toString(36)}`;
    const email = uniqueEmail("legacy");
    // A profile as it was written before the email keys: no gsi1pk / gsi2pk.
    await table.put({
      pk: `CUSTOMER#${customerId}`,
      sk: "PROFILE",
      customerId,
      email,
      checkoutEmail: email,
      metadata: {},
      version: 1,
      updatedAt: new Date().toISOString(),
    });
    expect((await search(customerId)).body.data).toEqual([
      { customerId, email, matchedBy: "customerId", subscriptions: [], licenses: [] },
    ]);
    expect((await search(email)).body.data).toEqual([]);
    // Its view shows no events: they were recorded before the customer's event pointers.
    const legacy = await view(customerId);
    expect(legacy.status).toBe(200);
    expect(legacy.body.events).toEqual([]);
  });
});

describe("GET /admin/customers/{customerId}: events and integrator.io's copies", () => {
  it("lists the customer's events newest first, and shows integrator.io's copy only where it differs", {
    timeout: 60_000,
  }, async () => {
    const { customer, license } = await purchase(stack, "view-copy");
    const settled = await eventually(
      async () => {
        const answer = await view(customer.id);
        const processed = answer.body.events.filter((e) => e.status === "processed");
        return processed.length >= 2 ? answer.body : undefined;
      },
      { what: "the customer's processed events" },
    );
    expect(settled.events.every((e) => e.customerId === customer.id)).toBe(true);
    const created = settled.events.map((e) => e.created);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(settled.events.map((e) => e.type)).toContain("customer.subscription.created");
    expect(settled.licenses[0]).not.toHaveProperty("integrator");
    expect(settled.integratorUnavailable).toBeUndefined();

    // Stripe delivering an event again, even with other content, adds no second entry.
    const first = settled.events.at(-1) as EventItem;
    const stored = await storeOf(stack).inbox.get(first.eventId);
    const twin = JSON.stringify({ ...JSON.parse(stored?.payload ?? "{}"), created: first.created + 999 });
    const delivered = await fetch(`${stack.urls.api}/webhooks/stripe`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": stack.stripe.webhooks.generateTestHeaderString({
          payload: twin,
          secret: stack.env.STRIPE_WEBHOOK_SECRET ?? "",
        }),
      },
      body: twin,
    });
    expect(await delivered.json()).toMatchObject({ outcome: "duplicate" });
    const again = (await view(customer.id)).body.events;
    expect(again.filter((e) => e.eventId === first.eventId)).toHaveLength(1);
    expect(again.map((e) => e.eventId)).toEqual(settled.events.map((e) => e.eventId));

    const path = `/connectors/${CONNECTOR.id}/licenses/${license?._id}`;
    const changed = await integratorApi(stack, "PUT", path, {
      expires: license?.expires,
      opts: { connectorEdition: "premium" },
    });
    expect(changed.status).toBe(200);
    const differs = await view(customer.id);
    expect(differs.body.licenses[0]?.integrator).toMatchObject({
      email: license?.user.email,
      opts: { connectorEdition: "premium" },
    });

    expect((await integratorApi(stack, "DELETE", path)).status).toBe(204);
    expect((await view(customer.id)).body.licenses[0]?.integrator).toEqual({ missing: true });
  });

  it("during an integrator.io outage: ours only, integratorUnavailable, and the failed event with its reason", {
    timeout: 120_000,
  }, async () => {
    const healthy = await purchase(stack, "outage-seen");
    await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { errorRate: 1, status: 403 });
    const during = await view(healthy.customer.id);
    expect(during.status).toBe(200);
    expect(during.body.integratorUnavailable).toBe(true);
    expect(during.body.licenses).toEqual([
      expect.objectContaining({ licenseId: healthy.license?._id, state: "active" }),
    ]);
    expect(during.body.licenses[0]).not.toHaveProperty("integrator");

    const failing = await purchase(stack, "outage-failed", { waitForLicense: false });
    const failed = await eventually(
      async () => (await view(failing.customer.id)).body.events.find((e) => e.status === "failed"),
      { what: "a failed event in the customer's view", timeoutMs: 60_000 },
    );
    expect(failed.reason).toMatch(/403|access_restricted/);
  });
});

describe("GET /admin/overview", () => {
  const depth = async (queueUrl: string) => {
    const { Attributes } = await createSqsClient(stack.config).send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };

  it("counts what the store and the queues hold, with the last run and the rate-limit bucket", {
    timeout: 120_000,
  }, async () => {
    await purchase(stack, "overview");
    // A customer whose events fail until they dead-letter.
    await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { errorRate: 1, status: 403 });
    const dead = await purchase(stack, "overview-dead", { waitForLicense: false });
    const store = storeOf(stack);
    await eventually(
      async () => {
        const events = (await store.inbox.list({ limit: 500 })).items.filter(
          (e) => e.customerId === dead.customer.id,
        );
        return (
          events.some((e) => e.status === "failed") &&
          (await depth(stack.queueUrl)) === 0 &&
          (await depth(stack.dlqUrl)) > 0
        );
      },
      { what: "the failing customer's events dead-lettered", timeoutMs: 60_000, intervalMs: 500 },
    );
    await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", {});
    const run = await adminApi<{ runId: string }>(stack, "POST", "/admin/reconcile", { dryRun: true });
    expect(run.status).toBe(202);
    await eventually(async () => (await store.runs.get(run.body.runId))?.state === "done", {
      what: "the dry run",
    });
    // Settled: no event queued or in flight, so nothing moves until the next request.
    await eventually(async () => (await depth(stack.queueUrl)) === 0, {
      what: "an empty event queue",
      timeoutMs: 60_000,
    });

    const answer = await adminApi<{
      licenses: Record<string, number>;
      licensesPartial?: boolean;
      eventsFailed24h: number;
      dlq: { approximateCount: number };
      lastReconcile: { runId: string; state: string; dryRun: boolean; counts: Record<string, number> } | null;
      rateLimit: {
        tokens: number;
        capacity: number;
        refillPerSecond: number;
        pausedUntil: string | null;
        updatedAt: string | null;
      };
      generatedAt: string;
    }>(stack, "GET", "/admin/overview");
    expect(answer.status).toBe(200);
    const overview = answer.body;

    const expected: Record<string, number> = {};
    for (const state of LICENSE_STATES) {
      let count = 0;
      let cursor: string | undefined;
      do {
        const page = await store.licenses.list({ state, limit: 100, ...(cursor ? { cursor } : {}) });
        count += page.items.length;
        cursor = page.nextCursor;
      } while (cursor);
      expected[state] = count;
    }
    expect(overview.licenses).toEqual(expected);
    expect(overview.licenses.active).toBeGreaterThanOrEqual(1);
    expect(overview.licensesPartial).toBeUndefined();

    const failedEvents = (await store.inbox.list({ status: "failed", limit: 500 })).items;
    expect(overview.eventsFailed24h).toBe(failedEvents.length);
    expect(failedEvents.some((e) => e.customerId === dead.customer.id)).toBe(true);
    expect(overview.dlq.approximateCount).toBe(await depth(stack.dlqUrl));
    expect(overview.dlq.approximateCount).toBeGreaterThan(0);
    expect(overview.lastReconcile).toMatchObject({ runId: run.body.runId, state: "done", dryRun: true });
    expect(overview.rateLimit).toMatchObject({ capacity: 980, refillPerSecond: 294, updatedAt: null });
    expect(overview.rateLimit.tokens).toBeGreaterThanOrEqual(0);
    expect(overview.rateLimit.tokens).toBeLessThanOrEqual(980);
    expect(Date.parse(overview.generatedAt)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("POST /admin/customers/{customerId}/reconcile", () => {
  it("a dry run reports a license deleted in integrator.io and changes nothing; the repair recreates it", {
    timeout: 90_000,
  }, async () => {
    const { email, customer, license } = await purchase(stack, "one-customer");
    const store = storeOf(stack);
    const deleted = await integratorApi(
      stack,
      "DELETE",
      `/connectors/${CONNECTOR.id}/licenses/${license?._id}`,
    );
    expect(deleted.status).toBe(204);
    const recordBefore = await store.licenses.get(customer.id, CONNECTOR.key);

    const dry = await reconcileCustomer(customer.id, true);
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({
      customerId: customer.id,
      dryRun: true,
      findings: [
        expect.objectContaining({
          kind: "missing",
          connectorKey: CONNECTOR.key,
          detail: expect.stringContaining("would repair"),
        }),
      ],
      repaired: 0,
    });
    expect(await licensesOf(stack, email)).toEqual([]);
    expect(await store.licenses.get(customer.id, CONNECTOR.key)).toEqual(recordBefore);

    const repair = await reconcileCustomer(customer.id, false);
    expect(repair.status).toBe(200);
    expect(repair.body).toMatchObject({ customerId: customer.id, dryRun: false, repaired: 1 });
    expect(repair.body.findings.map((f) => f.kind)).toEqual(["missing"]);
    const [recreated] = await licensesOf(stack, email);
    expect(recreated?._id).toEqual(expect.any(String));
    expect(recreated?._id).not.toBe(license?._id);
    expect(await store.licenses.get(customer.id, CONNECTOR.key)).toMatchObject({
      licenseId: recreated?._id,
      state: "active",
    });
    const audit = await new AuditTrail(store.table).forCustomer(customer.id);
    expect(audit.find((entry) => entry.action === "admin.reconcile")).toMatchObject({
      detail: { findings: 1, repaired: 1 },
    });

    // Repaired: nothing left to find.
    expect((await reconcileCustomer(customer.id, true)).body.findings).toEqual([]);
  });

  it("repairs an edition changed in integrator.io, which the customer view showed beside ours", {
    timeout: 60_000,
  }, async () => {
    const { email, customer, license } = await purchase(stack, "one-edition");
    await integratorApi(stack, "PUT", `/connectors/${CONNECTOR.id}/licenses/${license?._id}`, {
      expires: license?.expires,
      opts: { connectorEdition: "premium" },
    });
    expect((await view(customer.id)).body.licenses[0]?.integrator).toMatchObject({
      opts: { connectorEdition: "premium" },
    });
    const repair = await reconcileCustomer(customer.id, false);
    expect(repair.body.findings.map((f) => f.kind)).toEqual(["wrongEdition"]);
    expect(repair.body.repaired).toBe(1);
    const [restored] = await licensesOf(stack, email);
    expect(restored).toMatchObject({ _id: license?._id, opts: { connectorEdition: "standard" } });
    expect((await view(customer.id)).body.licenses[0]).not.toHaveProperty("integrator");
  });

  it("refuses a repair while a repairing run holds the repair lease; a dry run still runs", {
    timeout: 30_000,
  }, async () => {
    const { customer } = await purchase(stack, "one-leased");
    const store = storeOf(stack);
    await store.leases.take(REPAIR_LEASE, "run-working", REPAIR_LEASE_MS);
    try {
      const refused = await reconcileCustomer(customer.id, false);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe("conflict");
      expect(refused.body.error.details).toEqual([
        { runId: "run-working", leaseExpiresAt: expect.any(String) },
      ]);
      const dry = await reconcileCustomer(customer.id, true);
      expect(dry.status).toBe(200);
      expect(dry.body.findings).toEqual([]);
    } finally {
      await store.leases.release(REPAIR_LEASE, "run-working");
    }
    expect((await reconcileCustomer(customer.id, false)).status).toBe(200);
  });

  it("answers 404 for a customer neither the store nor Stripe knows, and 400 for a body without dryRun", async () => {
    const unknown = await reconcileCustomer("cus_nobody", true);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    for (const body of [{}, { dryRun: "yes" }, { dryRun: true, all: true }]) {
      const bad = await adminApi<ErrorBody>(stack, "POST", "/admin/customers/cus_nobody/reconcile", body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
  });
});
