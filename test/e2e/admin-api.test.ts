import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routes } from "#lib/routes.ts";
import {
  adminApi,
  CONNECTOR,
  licensesOf,
  licenseWhere,
  purchase,
  reconcile,
  storeOf,
  uniqueEmail,
} from "#test/helpers/admin-api.ts";
import {
  createIntegratorUser,
  eventually,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";
import { makeCustomer, makeEvent } from "#test/helpers/stripe-fixtures.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** A concrete path for a route template (path parameters filled with plausible values). */
const concrete = (path: string) =>
  path
    .replace("{customerId}", "cus_unknown")
    .replace("{connector}", CONNECTOR.key)
    .replace("{eventId}", "evt_unknown")
    .replace("{runId}", "unknown-run");

type License = { licenseId?: string; email: string; state: string; customerId: string; connectorKey: string };

describe("admin API", () => {
  const adminRoutes = routes.filter((route) => route.auth === "admin");

  it("covers the operations of docs/architecture.md §6", () => {
    const keys = adminRoutes.map((route) => `${route.method} ${route.path}`);
    for (const key of [
      "GET /admin/customers/{customerId}",
      "GET /admin/licenses",
      "POST /admin/customers/{customerId}/licenses/{connector}/transfer",
      "GET /admin/events",
      "POST /admin/events/{eventId}/replay",
      "POST /admin/reconcile",
      "GET /admin/reconcile/{runId}",
      "GET /admin/dlq",
      "POST /admin/dlq/redrive",
      "GET /admin/catalog",
      "POST /admin/billing/portal-sessions",
    ]) {
      expect(keys).toContain(key);
    }
  });

  it.each(
    routes
      .filter((route) => route.auth === "admin")
      .map((route) => [`${route.method} ${route.path}`, route] as const),
  )("%s answers 401 without a token and 403 with a wrong one", async (_key, route) => {
    const body = route.method === "POST" ? {} : undefined;
    const missing = await adminApi<{ error: { code: string } }>(
      stack,
      route.method,
      concrete(route.path),
      body,
      null,
    );
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe("unauthorized");
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    const wrong = await adminApi<{ error: { code: string } }>(
      stack,
      route.method,
      concrete(route.path),
      body,
      "not-the-admin-token",
    );
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe("forbidden");
  });

  it("shows a customer: profile, subscriptions, licenses and audit trail; 404 for one it does not know", {
    timeout: 60_000,
  }, async () => {
    const { email, customer, subscription, license } = await purchase(stack, "view");
    // The license shows in integrator.io a moment before the worker has recorded it.
    const view = await eventually(
      async () => {
        const answer = await adminApi<{
          profile: { email: string };
          subscriptions: { subscriptionId: string; status: string; items: { price: string }[] }[];
          licenses: License[];
          audit: { action: string }[];
        }>(stack, "GET", `/admin/customers/${customer.id}`);
        return answer.body.audit?.length ? answer : undefined;
      },
      { what: "the customer's audit trail" },
    );
    expect(view.status).toBe(200);
    expect(view.body.profile.email).toBe(email);
    expect(view.body.subscriptions).toEqual([
      expect.objectContaining({
        subscriptionId: subscription.id,
        status: "active",
        items: [expect.objectContaining({ price: "price_std_month" })],
      }),
    ]);
    expect(view.body.licenses).toEqual([
      expect.objectContaining({ licenseId: license?._id, email, state: "active" }),
    ]);
    expect(view.body.audit.map((entry) => entry.action)).toContain("license.provisioned");

    const unknown = await adminApi<{ error: { code: string } }>(stack, "GET", "/admin/customers/cus_nobody");
    expect(unknown.status).toBe(404);
  });

  it("lists licenses by email, connector and state, a page at a time; a bad cursor is a 400", {
    timeout: 60_000,
  }, async () => {
    const first = await purchase(stack, "list-a");
    await purchase(stack, "list-b");
    const byEmail = await adminApi<{ data: License[] }>(
      stack,
      "GET",
      `/admin/licenses?email=${encodeURIComponent(first.email.toUpperCase())}`,
    );
    expect(byEmail.status).toBe(200);
    expect(byEmail.body.data).toEqual([
      expect.objectContaining({ customerId: first.customer.id, email: first.email }),
    ]);

    /** Every page of a license listing at `limit` per page: each page's licenses, in order. */
    const pagesOf = async (query: string, limit: number) => {
      const pages: License[][] = [];
      let cursor: string | undefined;
      do {
        const page = await adminApi<{ data: License[]; nextCursor?: string }>(
          stack,
          "GET",
          `/admin/licenses?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.data.length).toBeLessThanOrEqual(limit);
        pages.push(page.body.data);
        cursor = page.body.nextCursor;
      } while (cursor && pages.length < 2000);
      return pages;
    };
    const byState = await pagesOf(`state=active&connector=${CONNECTOR.key}`, 1);
    for (const license of byState.flat())
      expect(license).toMatchObject({ state: "active", connectorKey: CONNECTOR.key });
    expect(new Set(byState.flat().map((l) => l.customerId)).size).toBeGreaterThanOrEqual(3);
    expect(byState.length).toBeGreaterThanOrEqual(3);

    // Without a state (one bounded scan request a page): pages of at most `limit`, none lost or
    // repeated, whatever the page size.
    const key = (l: License) => `${l.customerId}/${l.connectorKey}`;
    const all = (await pagesOf(`connector=${CONNECTOR.key}`, 100)).flat();
    expect(all.map((l) => l.customerId)).toEqual(
      expect.arrayContaining(byState.flat().map((l) => l.customerId)),
    );
    const scanned = await pagesOf(`connector=${CONNECTOR.key}`, 2);
    expect(scanned.flat().map(key).sort()).toEqual(all.map(key).sort());
    expect(scanned.length).toBeGreaterThanOrEqual(2);

    for (const query of [
      "cursor=garbage",
      `cursor=${Buffer.from(JSON.stringify({ list: "events", at: "x" })).toString("base64url")}`,
      "state=bogus",
      "connector=nope",
      "limit=1000",
    ]) {
      const bad = await adminApi<{ error: { code: string } }>(stack, "GET", `/admin/licenses?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.body.error.code).toBe(query.startsWith("cursor=") ? "invalid_cursor" : "invalid_request");
    }
  });

  it("lists inbox events by status and type; a bad cursor is a 400", { timeout: 60_000 }, async () => {
    const { customer } = await purchase(stack, "events");
    const events = await eventually(
      async () => {
        const page = await adminApi<{ data: { customerId?: string; type: string; status: string }[] }>(
          stack,
          "GET",
          "/admin/events?status=processed&type=customer.subscription.created&limit=100",
        );
        return page.body.data.some((event) => event.customerId === customer.id) ? page.body.data : undefined;
      },
      { what: "the processed subscription event" },
    );
    expect(
      events.every((event) => event.type === "customer.subscription.created" && event.status === "processed"),
    ).toBe(true);
    expect(events[0]).not.toHaveProperty("payload");
    const bad = await adminApi(stack, "GET", "/admin/events?cursor=not-a-cursor");
    expect(bad.status).toBe(400);
  });

  it("replays an event under a new deduplication id without changing the license", {
    timeout: 60_000,
  }, async () => {
    const { email, customer, license } = await purchase(stack, "replay");
    const store = storeOf(stack);
    const event = await eventually(
      async () =>
        (await store.inbox.list({ limit: 100 })).items.find(
          (e) =>
            e.customerId === customer.id &&
            e.type === "customer.subscription.created" &&
            e.status === "processed",
        ),
      { what: "the subscription event" },
    );
    const replay = await adminApi<{ eventId: string; deduplicationId: string }>(
      stack,
      "POST",
      `/admin/events/${event.eventId}/replay`,
    );
    expect(replay.status).toBe(202);
    expect(replay.body.eventId).toBe(event.eventId);
    expect(replay.body.deduplicationId).not.toBe(event.eventId);
    await eventually(
      async () => {
        const now = await store.inbox.get(event.eventId);
        return now?.status === "processed" && now.updatedAt > event.updatedAt;
      },
      { what: "the replay to be processed" },
    );
    expect(await licensesOf(stack, email)).toEqual([expect.objectContaining({ _id: license?._id })]);
    const view = await adminApi<{ audit: { action: string; cause?: string }[] }>(
      stack,
      "GET",
      `/admin/customers/${customer.id}`,
    );
    const audited = view.body.audit.find((entry) => entry.action === "admin.replay");
    // One replay, one id: the answer's deduplication id names the request the audit entry names.
    expect(replay.body.deduplicationId).toBe(
      `${event.eventId}:replay:${audited?.cause?.replace("admin:", "")}`,
    );
    expect((await adminApi(stack, "POST", "/admin/events/evt_nothing/replay")).status).toBe(404);
  });

  it("replays an event whose id is 128 characters under a deduplication id SQS holds (at most 128)", {
    timeout: 60_000,
  }, async () => {
    const { inbox } = storeOf(stack);
    const customer = makeCustomer({ id: "cus_replay_limit", email: uniqueEmail("replay-limit") });
    const event = makeEvent("customer.created", customer, { id: `evt_${"r".repeat(124)}` });
    await inbox.record(
      {
        eventId: event.id,
        type: event.type,
        groupId: customer.id,
        customerId: customer.id,
        livemode: false,
        created: event.created,
        payload: JSON.stringify(event),
      },
      "received",
    );
    const replay = await adminApi<{ deduplicationId: string }>(
      stack,
      "POST",
      `/admin/events/${event.id}/replay`,
    );
    expect(replay.status).toBe(202);
    expect(replay.body.deduplicationId.length).toBeLessThanOrEqual(128);
    expect(replay.body.deduplicationId).toMatch(/^evt_r+:replay:[^:]+$/);
    await eventually(async () => (await inbox.get(event.id))?.status === "processed", {
      what: "the replayed event to be processed",
    });
  });

  it("transfers a license to another email: old expired, new created, both audited, and it stays there", {
    timeout: 90_000,
  }, async () => {
    const { email, customer, subscription, license } = await purchase(stack, "transfer-from");
    const to = uniqueEmail("transfer-to");
    await createIntegratorUser(stack, to);

    const moved = await adminApi<License & { expires: string }>(
      stack,
      "POST",
      `/admin/customers/${customer.id}/licenses/${CONNECTOR.key}/transfer`,
      { email: to },
    );
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      email: to,
      state: "active",
      customerId: customer.id,
      connectorKey: CONNECTOR.key,
    });
    expect(moved.body.licenseId).not.toBe(license?._id);

    const [old] = await licensesOf(stack, email);
    expect(old?._id).toBe(license?._id);
    expect(Date.parse(old?.expires ?? "")).toBeLessThanOrEqual(Date.now());
    const [created] = await licensesOf(stack, to);
    expect(created).toMatchObject({ _id: moved.body.licenseId, opts: { connectorEdition: "standard" } });
    expect(Date.parse(created?.expires ?? "")).toBeGreaterThan(Date.now());

    const current = await stack.stripe.subscriptions.retrieve(subscription.id);
    expect(current.metadata.integrator_email).toBe(to);

    const view = await adminApi<{ audit: { action: string; licenseId?: string }[] }>(
      stack,
      "GET",
      `/admin/customers/${customer.id}`,
    );
    const actions = view.body.audit.map((entry) => `${entry.action}:${entry.licenseId ?? ""}`);
    expect(actions).toContain(`license.expired:${license?._id}`);
    expect(actions).toContain(`license.provisioned:${moved.body.licenseId}`);
    expect(actions).toContain(`admin.transfer:${license?._id}`);

    // The metadata change's own webhook, a replay-free reconcile and a second transfer call all leave it on `to`.
    await eventually(
      async () =>
        (await storeOf(stack).customers.subscription(customer.id, subscription.id))?.snapshot.metadata
          .integrator_email === to,
      { what: "the stored subscription to carry the new email" },
    );
    // That webhook raced the transfer's own converge: it plans again rather than failing (a failed
    // event would hold the customer's later events back for a whole visibility timeout).
    const events = await eventually(
      async () => {
        const page = await adminApi<{ data: { type: string; status: string; attempts: number }[] }>(
          stack,
          "GET",
          `/admin/events?customerId=${customer.id}`,
        );
        return page.body.data.every((e) => e.status === "processed" || e.status === "ignored")
          ? page.body.data
          : undefined;
      },
      { what: "the customer's events to be processed" },
    );
    expect(events.map((e) => e.type)).toContain("customer.subscription.updated");
    expect(events.filter((e) => e.attempts > 0)).toEqual([]);
    const run = await reconcile(stack);
    expect(run.items.filter((item) => item.customerId === customer.id)).toEqual([]);
    const again = await adminApi<License>(
      stack,
      "POST",
      `/admin/customers/${customer.id}/licenses/${CONNECTOR.key}/transfer`,
      { email: to },
    );
    expect(again.body.licenseId).toBe(moved.body.licenseId);
    await licenseWhere(stack, to, (l) => l._id === moved.body.licenseId, "the transferred license");
    expect(await licensesOf(stack, email)).toHaveLength(1);
  });

  it("refuses transfers it cannot make", { timeout: 60_000 }, async () => {
    const { customer, subscription } = await purchase(stack, "transfer-refused");
    const path = `/admin/customers/${customer.id}/licenses`;
    expect(
      (await adminApi(stack, "POST", `${path}/${CONNECTOR.key}/transfer`, { email: "not an email" })).status,
    ).toBe(400);
    expect(
      (await adminApi(stack, "POST", `${path}/unknown-connector/transfer`, { email: "a@example.com" }))
        .status,
    ).toBe(404);
    expect(
      (
        await adminApi(stack, "POST", `/admin/customers/cus_nobody/licenses/${CONNECTOR.key}/transfer`, {
          email: "a@example.com",
        })
      ).status,
    ).toBe(404);
    await stack.stripe.subscriptions.cancel(subscription.id);
    await eventually(
      async () => (await storeOf(stack).licenses.get(customer.id, CONNECTOR.key))?.state === "expired",
      {
        what: "the license to expire",
      },
    );
    expect(
      (await adminApi(stack, "POST", `${path}/${CONNECTOR.key}/transfer`, { email: "a@example.com" })).status,
    ).toBe(409);
  });

  it("serves the catalog", async () => {
    const catalog = await adminApi<{ connectors: { key: string }[]; policy: { pastDueGraceDays: number } }>(
      stack,
      "GET",
      "/admin/catalog",
    );
    expect(catalog.status).toBe(200);
    expect(catalog.body.connectors.map((c) => c.key)).toEqual([CONNECTOR.key]);
    expect(catalog.body.policy.pastDueGraceDays).toBe(14);
  });

  it("creates a billing portal session for a customer; refuses an unknown customer and a foreign return URL", async () => {
    const customer = await stack.stripe.customers.create({ email: uniqueEmail("portal") });
    const created = await adminApi<{ url: string }>(stack, "POST", "/admin/billing/portal-sessions", {
      customerId: customer.id,
      returnUrl: "http://localhost:3000/account",
    });
    expect(created.status).toBe(201);
    expect(created.body.url).toMatch(/^https?:\/\//);
    const unknown = await adminApi(stack, "POST", "/admin/billing/portal-sessions", {
      customerId: "cus_nobody",
      returnUrl: "http://localhost:3000/",
    });
    expect(unknown.status).toBe(404);
    const offList = await adminApi(stack, "POST", "/admin/billing/portal-sessions", {
      customerId: customer.id,
      returnUrl: "https://evil.example.com/",
    });
    expect(offList.status).toBe(400);
  });
});
