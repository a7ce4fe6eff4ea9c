/**
 * Signed webhook delivery by the Stripe simulator, verified with the official SDK's
 * `stripe.webhooks.constructEvent`, and the delivery faults of its control API.
 */
import { createHmac } from "node:crypto";
import { createServer } from "node:net";
import type Stripe from "stripe";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type SimHarness,
  startSimHarness,
  startWebhookReceiver,
  stripeFor,
} from "#test/helpers/stripe-sim.ts";

let h: SimHarness;
let stripe: Stripe;

beforeAll(async () => {
  h = await startSimHarness("whsec_webhook_suite");
  stripe = h.stripe;
});

afterAll(async () => {
  await h?.stop();
});

afterEach(async () => {
  // Back to plain, immediate delivery, whatever a test changed.
  await h.control("PUT", "/_sim/delivery", {
    duplicateRate: 0,
    reorderWindowMs: 0,
    delayMs: 0,
    paused: false,
    retryDelaysMs: [250, 1000, 4000],
  });
  h.receiver.respondWith(() => 200);
  await h.flush();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("signing", () => {
  it("signs the raw body as Stripe does: t=<unix>,v1=<hex HMAC-SHA256 of 't.body'>", async () => {
    const customer = await stripe.customers.create({ email: "signed@example.com" });
    await h.flush();
    const delivery = h.receiver.deliveries.find(
      (d) => d.event?.type === "customer.created" && d.raw.includes(customer.id),
    );
    expect(delivery?.error).toBeUndefined();
    const header = String(delivery?.headers["stripe-signature"]);
    const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
    expect(match).not.toBeNull();
    const [, timestamp, signature] = match as RegExpExecArray;
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(30);
    const expected = createHmac("sha256", "whsec_webhook_suite")
      .update(`${timestamp}.${delivery?.raw}`)
      .digest("hex");
    expect(signature).toBe(expected);
    expect(delivery?.headers["content-type"]).toBe("application/json; charset=utf-8");
    // Any change to the body breaks the signature.
    expect(() =>
      stripe.webhooks.constructEvent(`${delivery?.raw} `, header, "whsec_webhook_suite"),
    ).toThrow();
    expect(() => stripe.webhooks.constructEvent(delivery?.raw ?? "", header, "whsec_other")).toThrow();
  });

  it("delivers events shaped like Stripe's", async () => {
    const customer = await stripe.customers.create({ email: "shape-event@example.com" });
    await h.flush();
    const event = h.eventsFor(customer.id)[0];
    expect(event).toMatchObject({
      object: "event",
      type: "customer.created",
      livemode: false,
      api_version: "2026-10-28.endive",
      pending_webhooks: 1,
      request: {
        id: expect.stringMatching(/^req_/),
        idempotency_key: expect.stringMatching(/^stripe-node-retry-/),
      },
      data: { object: { id: customer.id, object: "customer", email: "shape-event@example.com" } },
    });
    expect(event?.id).toMatch(/^evt_/);
    expect(Number.isInteger(event?.created)).toBe(true);
    const stored = await stripe.events.retrieve(event?.id ?? "");
    expect(stored.id).toBe(event?.id);
    expect(stored.pending_webhooks).toBe(0);
  });
});

describe("webhook endpoints API", () => {
  it("creates an endpoint with a whsec_ secret, delivers only its enabled events, and stops after delete", async () => {
    const verifier = stripeFor(h.sim.port);
    const created = await stripe.webhookEndpoints.create({
      url: "http://127.0.0.1:1/placeholder",
      enabled_events: ["customer.updated"],
    });
    expect(created.secret).toMatch(/^whsec_/);
    const other = await startWebhookReceiver(verifier, created.secret ?? "");
    try {
      await stripe.webhookEndpoints.update(created.id, { url: other.url });
      const listed = await stripe.webhookEndpoints.list();
      expect(listed.data.map((endpoint) => endpoint.id)).toContain(created.id);
      expect(listed.data.every((endpoint) => endpoint.secret === undefined)).toBe(true);

      const customer = await stripe.customers.create({ email: "filtered@example.com" });
      await stripe.customers.update(customer.id, { name: "Filtered" });
      await h.flush();
      expect(other.events().map((event) => event.type)).toEqual(["customer.updated"]);
      expect(other.deliveries.every((delivery) => delivery.error === undefined)).toBe(true);

      const deleted = await stripe.webhookEndpoints.del(created.id);
      expect(deleted).toMatchObject({ id: created.id, deleted: true });
      await stripe.customers.update(customer.id, { name: "After delete" });
      await h.flush();
      expect(other.events()).toHaveLength(1);
    } finally {
      await other.stop();
    }
  });

  it("registers an endpoint with a chosen secret through the control API, once per URL", async () => {
    const verifier = stripeFor(h.sim.port);
    const other = await startWebhookReceiver(verifier, "whsec_chosen");
    try {
      const first = await h.control("POST", "/_sim/webhook_endpoints", {
        url: other.url,
        secret: "whsec_wrong",
      });
      const again = await h.control("POST", "/_sim/webhook_endpoints", {
        url: other.url,
        secret: "whsec_chosen",
      });
      expect(again.body.id).toBe(first.body.id);
      const customer = await stripe.customers.create({ email: "chosen@example.com" });
      await h.flush();
      expect(other.deliveries).toHaveLength(1);
      expect(other.events()[0]?.data.object).toMatchObject({ id: customer.id });
      await stripe.webhookEndpoints.del(String(first.body.id));
    } finally {
      await other.stop();
    }
  });
});

describe("retries", () => {
  it("retries a non-2xx answer with backoff until it succeeds, and records every attempt", async () => {
    await h.control("PUT", "/_sim/delivery", { retryDelaysMs: [30, 60] });
    let failures = 0;
    h.receiver.respondWith((delivery) => {
      if (delivery.raw.includes("retry@example.com") && failures < 2) {
        failures++;
        return 500;
      }
      return 200;
    });
    const customer = await stripe.customers.create({ email: "retry@example.com" });
    await h.flush();
    const event = (await stripe.events.list({ type: "customer.created", limit: 5 })).data.find(
      (e) => (e.data.object as Stripe.Customer).id === customer.id,
    );
    const attempts = (await h.deliveryLog()).filter((attempt) => attempt.eventId === event?.id);
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(Date.parse(attempts[2]?.at ?? "") - Date.parse(attempts[0]?.at ?? "")).toBeGreaterThanOrEqual(85);
    expect((await stripe.events.retrieve(event?.id ?? "")).pending_webhooks).toBe(0);
  });

  it("gives up after the configured attempts on a refused connection", async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    await h.control("PUT", "/_sim/delivery", { retryDelaysMs: [10, 10] });
    const endpoint = await stripe.webhookEndpoints.create({
      url: `http://127.0.0.1:${closed}/hook`,
      enabled_events: ["customer.created"],
    });
    await stripe.customers.create({ email: "refused@example.com" });
    await h.flush();
    const attempts = (await h.deliveryLog()).filter((attempt) => attempt.endpointId === endpoint.id);
    expect(attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, null],
      [2, null],
      [3, null],
    ]);
    expect(attempts[0]?.error).toMatch(/ECONNREFUSED/);
    await stripe.webhookEndpoints.del(endpoint.id);
  });
});

describe("delivery faults", () => {
  it("answers PUT /_sim/delivery with the current settings and rejects bad ones", async () => {
    const put = await h.control("PUT", "/_sim/delivery", { delayMs: 5, duplicateRate: 0.25 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ delayMs: 5, duplicateRate: 0.25, reorderWindowMs: 0, paused: false });
    const bad = await h.control("PUT", "/_sim/delivery", { duplicateRate: 2 });
    expect(bad.status).toBe(400);
    const unknown = await h.control("PUT", "/_sim/delivery", { dropRate: 1 });
    expect(unknown.status).toBe(400);
  });

  it("duplicateRate 1 delivers every event twice, same id, both signed", async () => {
    await h.control("PUT", "/_sim/delivery", { duplicateRate: 1 });
    const customer = await stripe.customers.create({ email: "twice@example.com" });
    await stripe.customers.update(customer.id, { name: "Twice" });
    await h.flush();
    const events = h.eventsFor(customer.id);
    expect(events.map((event) => event.type)).toEqual([
      "customer.created",
      "customer.created",
      "customer.updated",
      "customer.updated",
    ]);
    expect(events[0]?.id).toBe(events[1]?.id);
    const log = (await h.deliveryLog()).filter((attempt) => attempt.eventId === events[0]?.id);
    expect(log.map((attempt) => attempt.duplicate)).toEqual([false, true]);
  });

  it("reorderWindowMs holds events and delivers them shuffled, each exactly once", async () => {
    await h.control("PUT", "/_sim/delivery", { reorderWindowMs: 1000 });
    const emails = Array.from({ length: 6 }, (_, i) => `shuffle-${i}@example.com`);
    const before = h.receiver.deliveries.length;
    const ids: string[] = [];
    for (const email of emails) ids.push((await stripe.customers.create({ email })).id);
    await sleep(50);
    expect(h.receiver.deliveries.length).toBe(before);
    await h.flush();
    const arrived = h.receiver
      .events()
      .filter(
        (event) =>
          event.type === "customer.created" && ids.includes((event.data.object as Stripe.Customer).id),
      )
      .map((event) => (event.data.object as Stripe.Customer).id);
    expect([...arrived].sort()).toEqual([...ids].sort());
    expect(arrived).not.toEqual(ids);
  });

  it("delayMs delays every delivery", async () => {
    await h.control("PUT", "/_sim/delivery", { delayMs: 300 });
    const started = Date.now();
    const customer = await stripe.customers.create({ email: "late@example.com" });
    await h.flush();
    const delivery = h.receiver.deliveries.find((d) => d.raw.includes(customer.id));
    expect((delivery?.receivedAt ?? 0) - started).toBeGreaterThanOrEqual(290);
  });

  it("paused holds everything until unpaused; flush refuses to wait while paused", async () => {
    await h.control("PUT", "/_sim/delivery", { paused: true });
    const customer = await stripe.customers.create({ email: "paused@example.com" });
    await stripe.customers.update(customer.id, { name: "Paused" });
    await sleep(150);
    expect(h.eventsFor(customer.id)).toEqual([]);
    const refused = await h.control("POST", "/_sim/delivery/flush", {});
    expect(refused.status).toBe(409);
    const state = await h.control("GET", "/_sim/delivery");
    expect(state.body.pending).toBe(2);
    await h.control("PUT", "/_sim/delivery", { paused: false });
    await h.flush();
    expect(h.eventsFor(customer.id).map((event) => event.type)).toEqual([
      "customer.created",
      "customer.updated",
    ]);
  });

  it("flush waits for retries still scheduled", async () => {
    await h.control("PUT", "/_sim/delivery", { retryDelaysMs: [200] });
    let first = true;
    h.receiver.respondWith((delivery) => {
      if (first && delivery.raw.includes("flush-wait@example.com")) {
        first = false;
        return 503;
      }
      return 200;
    });
    const customer = await stripe.customers.create({ email: "flush-wait@example.com" });
    const started = Date.now();
    await h.flush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(h.eventsFor(customer.id)).toHaveLength(2);
  });
});

describe("reset", () => {
  it("clears customer data and deliveries, keeps the catalog and the webhook endpoints", async () => {
    await h.control("POST", "/_sim/products", { id: "prod_kept", name: "Kept" });
    const customer = await stripe.customers.create({ email: "reset@example.com" });
    await h.flush();
    const reset = await h.control("POST", "/_sim/reset", {});
    expect(reset.status).toBe(200);
    await expect(stripe.customers.retrieve(customer.id)).rejects.toMatchObject({ statusCode: 404 });
    expect((await stripe.events.list()).data).toEqual([]);
    expect(await h.deliveryLog()).toEqual([]);
    expect((await stripe.products.retrieve("prod_kept")).name).toBe("Kept");
    const next = await stripe.customers.create({ email: "after-reset@example.com" });
    await h.flush();
    expect(h.eventsFor(next.id).map((event) => event.type)).toEqual(["customer.created"]);

    await h.control("POST", "/_sim/reset", { keepCatalog: false });
    await expect(stripe.products.retrieve("prod_kept")).rejects.toMatchObject({ statusCode: 404 });
  });
});
