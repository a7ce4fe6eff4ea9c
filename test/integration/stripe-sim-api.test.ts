/**
 * The Stripe simulator's wire format, through the official SDK and raw HTTP: CRUD, lists and
 * auto-pagination, filters, expand, errors, Idempotency-Key, and object shapes against the
 * Stripe fixtures.
 */
import { readFileSync } from "node:fs";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeForm } from "#local/sim/stripe/form.ts";
import { type SimHarness, seedPrice, startSimHarness, stripeFor } from "#test/helpers/stripe-sim.ts";

const FIXTURES = new URL("../fixtures/stripe/", import.meta.url);
function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), "utf8")) as Record<string, unknown>;
}

let h: SimHarness;
let stripe: Stripe;

beforeAll(async () => {
  h = await startSimHarness();
  stripe = h.stripe;
  await seedPrice(h, { product: "prod_api", price: "price_api_month", lookupKey: "api_month_key" });
});

afterAll(async () => {
  await h?.stop();
});

/** What the raw-HTTP tests read from a response. */
interface ApiBody {
  id?: string;
  error?: { type: string; message: string; code?: string; param?: string };
  items?: { data: { price: { id: string }; quantity: number }[] };
}

async function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${h.sim.url}${path}`, {
    method,
    headers: {
      authorization: "Bearer sk_test_local",
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as ApiBody,
  };
}

describe("form decoding", () => {
  it("decodes nested keys, list indices and [] appends without prototype pollution", () => {
    const form = decodeForm(
      "items[1][price]=b&items[0][price]=a&items[0][quantity]=2&metadata[plan]=gold+plus&expand[]=x&expand[]=y&__proto__[polluted]=1",
    );
    expect(
      JSON.parse(
        JSON.stringify(Object.fromEntries(Object.entries(form).filter(([key]) => key !== "__proto__"))),
      ),
    ).toEqual({
      items: { "1": { price: "b" }, "0": { price: "a", quantity: "2" } },
      metadata: { plan: "gold plus" },
      expand: { "0": "x", "1": "y" },
    });
    // `__proto__` is plain data on a prototype-less object.
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(form, "__proto__")?.value).toEqual({ polluted: "1" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("orders items by index when the SDK's nested encoding arrives out of order", async () => {
    const customer = await stripe.customers.create({ email: "order@example.com" });
    await seedPrice(h, { product: "prod_api", price: "price_api_addon" });
    const { status, json } = await raw(
      "POST",
      "/v1/subscriptions",
      `customer=${customer.id}&items[1][price]=price_api_addon&items[1][quantity]=3&items[0][price]=price_api_month`,
    );
    expect(status).toBe(200);
    expect(json.items?.data.map((item) => [item.price.id, item.quantity])).toEqual([
      ["price_api_month", 1],
      ["price_api_addon", 3],
    ]);
  });

  it("answers 400 with the param when a key is both a value and a hash", async () => {
    const { status, json } = await raw("POST", "/v1/customers", "metadata=x&metadata[a]=b");
    expect(status).toBe(400);
    expect(json.error?.type).toBe("invalid_request_error");
  });
});

describe("customers", () => {
  it("creates, retrieves, updates (metadata merge and unset) and emits customer.created / customer.updated", async () => {
    const created = await stripe.customers.create({
      email: "crud@example.com",
      name: "Crud",
      metadata: { integrator_email: "owner@example.com", keep: "yes" },
    });
    expect(created).toMatchObject({
      object: "customer",
      livemode: false,
      email: "crud@example.com",
      test_clock: null,
    });
    expect(created.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);

    const updated = await stripe.customers.update(created.id, {
      name: "Renamed",
      metadata: { integrator_email: "new@example.com", keep: "" },
    });
    expect(updated.name).toBe("Renamed");
    expect(updated.metadata).toEqual({ integrator_email: "new@example.com" });
    expect((await stripe.customers.retrieve(created.id)) as Stripe.Customer).toMatchObject({
      name: "Renamed",
    });

    await h.flush();
    const events = h.eventsFor(created.id);
    expect(events.map((event) => event.type)).toEqual(["customer.created", "customer.updated"]);
    expect(events[1]?.data.previous_attributes).toEqual({
      name: "Crud",
      metadata: { integrator_email: "owner@example.com", keep: "yes" },
    });
    expect(events[1]?.request).toMatchObject({ id: expect.stringMatching(/^req_/) });
  });

  it("does not emit customer.updated when nothing changed", async () => {
    const customer = await stripe.customers.create({ email: "same@example.com" });
    await stripe.customers.update(customer.id, { email: "same@example.com" });
    await h.flush();
    expect(h.eventsFor(customer.id).map((event) => event.type)).toEqual(["customer.created"]);
  });

  it("lists with an email filter and pages through everything with for-await auto-pagination", async () => {
    const tag = `page-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      ids.push(
        (await stripe.customers.create({ email: `${tag}@example.com`, metadata: { i: String(i) } })).id,
      );
    }
    const firstPage = await stripe.customers.list({ email: `${tag}@example.com`, limit: 5 });
    expect(firstPage).toMatchObject({ object: "list", has_more: true, url: "/v1/customers" });
    expect(firstPage.data.map((c) => c.id)).toEqual(ids.slice(-5).reverse());

    const seen: string[] = [];
    for await (const customer of stripe.customers.list({ email: `${tag}@example.com`, limit: 4 }))
      seen.push(customer.id);
    expect(seen).toEqual([...ids].reverse());

    const after = await stripe.customers.list({
      email: `${tag}@example.com`,
      limit: 100,
      starting_after: ids[5],
    });
    expect(after.data.map((c) => c.id)).toEqual(ids.slice(0, 5).reverse());
    expect(after.has_more).toBe(false);
    const before = await stripe.customers.list({
      email: `${tag}@example.com`,
      limit: 3,
      ending_before: ids[10],
    });
    expect(before.data.map((c) => c.id)).toEqual([ids[13], ids[12], ids[11]]);
    expect(before.has_more).toBe(true);
  });
});

describe("products and prices", () => {
  it("creates with a chosen product id, filters prices by lookup_keys / product / active, and keeps lookup keys unique", async () => {
    const product = await stripe.products.create({ id: "prod_chosen_id", name: "Chosen" });
    expect(product.id).toBe("prod_chosen_id");
    const monthly = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 2500,
      recurring: { interval: "month" },
      lookup_key: "chosen_monthly",
    });
    expect(monthly).toMatchObject({ type: "recurring", unit_amount: 2500, lookup_key: "chosen_monthly" });
    expect(String(monthly.unit_amount_decimal)).toBe("2500");
    expect(monthly.id).toMatch(/^price_/);
    const yearly = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 25000,
      recurring: { interval: "year" },
      lookup_key: "chosen_yearly",
    });
    const byKey = await stripe.prices.list({ lookup_keys: ["chosen_yearly", "chosen_monthly"] });
    expect(byKey.data.map((price) => price.id).sort()).toEqual([monthly.id, yearly.id].sort());

    await stripe.prices.update(yearly.id, { active: false });
    const active = await stripe.prices.list({ product: product.id, active: true });
    expect(active.data.map((price) => price.id)).toEqual([monthly.id]);

    await expect(
      stripe.prices.create({
        product: product.id,
        currency: "usd",
        unit_amount: 1,
        recurring: { interval: "month" },
        lookup_key: "chosen_monthly",
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: "lookup_key" });
    const moved = await stripe.prices.create({
      product: product.id,
      currency: "usd",
      unit_amount: 3000,
      recurring: { interval: "month" },
      lookup_key: "chosen_monthly",
      transfer_lookup_key: true,
    });
    expect((await stripe.prices.retrieve(monthly.id)).lookup_key).toBeNull();
    expect(
      (await stripe.prices.list({ lookup_keys: ["chosen_monthly"] })).data.map((price) => price.id),
    ).toEqual([moved.id]);
  });

  it("serves prices seeded through the control API under their catalog ids", async () => {
    const price = await stripe.prices.retrieve("price_api_month", { expand: ["product"] });
    expect(price).toMatchObject({
      id: "price_api_month",
      lookup_key: "api_month_key",
      recurring: { interval: "month" },
    });
    expect((price.product as Stripe.Product).id).toBe("prod_api");
  });
});

describe("errors", () => {
  it("answers 404 resource_missing with Stripe's message and param", async () => {
    const error = await stripe.customers.retrieve("cus_missing").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      statusCode: 404,
      type: "StripeInvalidRequestError",
      code: "resource_missing",
      param: "id",
      message: "No such customer: 'cus_missing'",
    });
    const { status, json } = await raw("GET", "/v1/subscriptions/sub_missing");
    expect(status).toBe(404);
    expect(json.error).toMatchObject({
      type: "invalid_request_error",
      code: "resource_missing",
      param: "id",
    });
    expect(json.error?.message).toBe("No such subscription: 'sub_missing'");
  });

  it("answers 400 for missing, unknown and malformed parameters", async () => {
    await expect(stripe.subscriptions.create({} as Stripe.SubscriptionCreateParams)).rejects.toMatchObject({
      statusCode: 400,
      code: "parameter_missing",
      param: "customer",
    });
    const unknown = await raw("POST", "/v1/customers", "emial=x@example.com");
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ code: "parameter_unknown", param: "emial" });
    const badLimit = await raw("GET", "/v1/customers?limit=abc");
    expect(badLimit.json.error).toMatchObject({ code: "parameter_invalid_integer", param: "limit" });
    const tooMany = await raw("GET", "/v1/customers?limit=101");
    expect(tooMany.status).toBe(400);
    const nestedUnknown = await raw("POST", "/v1/subscriptions", "customer=cus_x&items[0][prise]=p");
    expect(nestedUnknown.json.error).toMatchObject({ code: "parameter_unknown", param: "items[0][prise]" });
  });

  it("answers 401 for a missing key or any key that is not a test key", async () => {
    const live = stripeFor(h.sim.port, "sk_live_0123456789abcdef");
    const error = await live.customers.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error).toMatchObject({ statusCode: 401 });
    expect((error as Error).message).not.toContain("0123456789abcdef");
    const restricted = stripeFor(h.sim.port, "rk_test_restricted");
    await expect(restricted.customers.list({ limit: 1 })).resolves.toMatchObject({ object: "list" });
    const none = await fetch(`${h.sim.url}/v1/customers`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("answers 404 for unknown URLs and methods, as Stripe does", async () => {
    const unknown = await raw("GET", "/v1/nothing_here");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error?.message).toContain("Unrecognized request URL (GET: /v1/nothing_here)");
    const wrongMethod = await raw("DELETE", "/v1/customers");
    expect(wrongMethod.status).toBe(404);
  });

  it("rejects a change to a canceled subscription beyond metadata", async () => {
    const customer = await stripe.customers.create({ email: "ended@example.com" });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_api_month" }],
    });
    await stripe.subscriptions.cancel(subscription.id);
    await expect(
      stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true }),
    ).rejects.toMatchObject({
      statusCode: 400,
    });
    await expect(
      stripe.subscriptions.update(subscription.id, { metadata: { note: "after" } }),
    ).resolves.toMatchObject({
      metadata: { note: "after" },
    });
  });
});

describe("Idempotency-Key", () => {
  it("replays the stored response for the same key and parameters, creating one object and one event", async () => {
    const email = `idem-${Date.now()}@example.com`;
    const first = await stripe.customers.create({ email }, { idempotencyKey: "key-one" });
    const second = await stripe.customers.create({ email }, { idempotencyKey: "key-one" });
    expect(second.id).toBe(first.id);
    expect(second).toEqual(first);
    expect((await stripe.customers.list({ email })).data).toHaveLength(1);
    const replay = await raw("POST", "/v1/customers", `email=${encodeURIComponent(email)}`, {
      "idempotency-key": "key-one",
    });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json.id).toBe(first.id);
    await h.flush();
    expect(h.eventsFor(first.id).map((event) => event.type)).toEqual(["customer.created"]);
  });

  it("answers idempotency_error when the key is reused with other parameters", async () => {
    await stripe.customers.create({ email: "a@example.com" }, { idempotencyKey: "key-two" });
    const error = await stripe.customers
      .create({ email: "b@example.com" }, { idempotencyKey: "key-two" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error).toMatchObject({ statusCode: 400, rawType: "idempotency_error" });
  });

  it("does not store validation failures: a corrected retry with the same key succeeds", async () => {
    const bad = await raw("POST", "/v1/customers", "emial=x", { "idempotency-key": "key-three" });
    expect(bad.status).toBe(400);
    // Were the 400 stored, other parameters under the same key would be an idempotency_error.
    const fixed = await raw("POST", "/v1/customers", "email=x@example.com", {
      "idempotency-key": "key-three",
    });
    expect(fixed.json.error).toBeUndefined();
    expect(fixed.status).toBe(200);
  });
});

describe("expand", () => {
  it("expands customer and latest_invoice on a subscription, and data.customer on a list", async () => {
    const customer = await stripe.customers.create({ email: "expand@example.com" });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_api_month" }],
      expand: ["customer", "latest_invoice"],
    });
    expect((subscription.customer as Stripe.Customer).email).toBe("expand@example.com");
    const invoice = subscription.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({
      object: "invoice",
      status: "paid",
      amount_paid: 1000,
      customer: customer.id,
    });

    const plain = await stripe.subscriptions.retrieve(subscription.id);
    expect(plain.customer).toBe(customer.id);
    expect(typeof plain.latest_invoice).toBe("string");

    const listed = await stripe.subscriptions.list({
      customer: customer.id,
      expand: ["data.customer", "data.items.data.price.product"],
    });
    const [first] = listed.data;
    expect((first?.customer as Stripe.Customer | undefined)?.id).toBe(customer.id);
    expect((first?.items.data[0]?.price.product as Stripe.Product | undefined)?.id).toBe("prod_api");
  });

  it("expands subscription, customer and line_items on a Checkout session", async () => {
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: "price_api_month", quantity: 2 }],
      customer_email: "session-expand@example.com",
      success_url: "http://localhost:3000/ok",
    });
    const done = await h.control("POST", `/_sim/checkout/sessions/${session.id}/complete`, {});
    expect(done.status).toBe(200);
    const retrieved = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ["subscription", "customer", "line_items"],
    });
    expect((retrieved.subscription as Stripe.Subscription).object).toBe("subscription");
    expect((retrieved.customer as Stripe.Customer).email).toBe("session-expand@example.com");
    expect(
      retrieved.line_items?.data.map((item) => [item.price?.id, item.quantity, item.amount_total]),
    ).toEqual([["price_api_month", 2, 2000]]);
  });

  it("rejects a property that cannot be expanded", async () => {
    const customer = await stripe.customers.create({ email: "noexpand@example.com" });
    await expect(stripe.customers.retrieve(customer.id, { expand: ["email"] })).rejects.toMatchObject({
      statusCode: 400,
      message: "This property cannot be expanded (email).",
    });
  });
});

describe("shapes", () => {
  /** Every key of the fixture is present (values may differ); ids are not expanded unless asked. */
  function expectShape(actual: object, fixtureObject: Record<string, unknown>): void {
    const missing = Object.keys(fixtureObject).filter((key) => !(key in actual));
    expect(missing).toEqual([]);
  }

  it("returns objects with every field of Stripe's fixtures, livemode false", async () => {
    const customer = await stripe.customers.create({ email: "shape@example.com" });
    const subscription = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_api_month" }],
    });
    const invoice = await stripe.invoices.retrieve(subscription.latest_invoice as string);
    const session = await stripe.checkout.sessions.create({
      mode: "subscription",
      line_items: [{ price: "price_api_month", quantity: 1 }],
      success_url: "http://localhost:3000/ok",
    });
    const price = await stripe.prices.retrieve("price_api_month");
    const product = await stripe.products.retrieve("prod_api");
    const event = (await stripe.events.list({ limit: 1 })).data[0];

    expectShape(customer, fixture("customer"));
    expectShape(subscription, fixture("subscription"));
    expectShape(subscription.items.data[0] as object, fixture("subscription_item"));
    expectShape(invoice, fixture("invoice"));
    expectShape(
      invoice.lines.data[0] as object,
      (fixture("invoice").lines as { data: Record<string, unknown>[] }).data[0] ?? {},
    );
    expectShape(session, fixture("checkout.session"));
    expectShape(price, fixture("price"));
    expectShape(product, fixture("product"));
    expectShape(event as object, fixture("event"));
    for (const object of [customer, subscription, invoice, session, price, product, event]) {
      expect((object as { livemode: boolean }).livemode).toBe(false);
    }
    // The current API: periods live on the items, not on the subscription.
    expect(subscription).not.toHaveProperty("current_period_end");
    expect(subscription.items.data[0]?.current_period_end).toBeGreaterThan(
      subscription.items.data[0]?.current_period_start ?? 0,
    );
    expect(invoice).toMatchObject({
      customer: customer.id,
      subscription: subscription.id,
      parent: { subscription_details: { subscription: subscription.id }, type: "subscription_details" },
      status: "paid",
      amount_paid: 1000,
    });
    expect(session.url).toBe(`${h.sim.url}/checkout/${session.id}`);
    expect(event?.api_version).toBe(Stripe.API_VERSION);
  });
});

describe("events", () => {
  it("lists events newest first with type wildcards and types[], and retrieves one", async () => {
    const customer = await stripe.customers.create({ email: "events@example.com" });
    await stripe.customers.update(customer.id, { name: "Evented" });
    const ofCustomer = (events: Stripe.Event[]) =>
      events
        .filter((event) => (event.data.object as { id?: string }).id === customer.id)
        .map((event) => event.type);
    expect(ofCustomer((await stripe.events.list({ type: "customer.*", limit: 100 })).data)).toEqual([
      "customer.updated",
      "customer.created",
    ]);
    expect(ofCustomer((await stripe.events.list({ types: ["customer.created"], limit: 100 })).data)).toEqual([
      "customer.created",
    ]);
    const all: string[] = [];
    for await (const event of stripe.events.list({ limit: 3 })) all.push(event.id);
    expect(new Set(all).size).toBe(all.length);
    const latest = (await stripe.events.list({ limit: 1 })).data[0];
    expect((await stripe.events.retrieve(latest?.id ?? "")).id).toBe(latest?.id);
  });
});

describe("billing portal", () => {
  it("creates a session whose url is served by the simulator", async () => {
    const customer = await stripe.customers.create({ email: "portal@example.com" });
    const session = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "http://localhost:3000/account",
    });
    expect(session).toMatchObject({
      object: "billing_portal.session",
      customer: customer.id,
      livemode: false,
    });
    expect(session.url.startsWith(`${h.sim.url}/billing_portal/`)).toBe(true);
    const page = await fetch(session.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("portal@example.com");
  });
});

describe("request stats", () => {
  it("counts /v1 requests by route, unknown URLs as unmatched, and forgets them on reset", async () => {
    await h.control("POST", "/_sim/reset", {});
    await stripe.prices.retrieve("price_api_month");
    await stripe.prices.retrieve("price_api_month");
    await stripe.prices.list({ lookup_keys: ["api_month_key"] });
    await raw("GET", "/v1/nothing-here");
    expect((await h.control("GET", "/_sim/stats")).body).toEqual({
      requests: 4,
      byRoute: { "GET /v1/prices/:id": 2, "GET /v1/prices": 1, "GET (unmatched)": 1 },
    });
    await h.control("POST", "/_sim/reset", {});
    expect((await h.control("GET", "/_sim/stats")).body).toEqual({ requests: 0, byRoute: {} });
  });
});
