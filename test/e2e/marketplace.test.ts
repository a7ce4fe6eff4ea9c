import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as listingsSync from "#functions/listings-sync.ts";
import { loadEnvironment } from "#lib/runtime.ts";
import { simControl, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";

/** The marketplace through the local stack: listings joined from the catalog, integrator.io and Stripe, cached in DynamoDB. */

const CONNECTOR_ID = "65f1c0a2b7d94e3a1c8b7d20";
const ORIGIN = "http://localhost:3000";
let stack: TestStack;

const api = async (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
  const response = await fetch(`${stack.urls.api}${path}`, {
    method: init.method ?? "GET",
    headers: init.headers ?? {},
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text ? JSON.parse(text) : undefined,
  };
};
const sync = () =>
  api("/admin/listings/sync", { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}` } });
const integratorRequests = async () =>
  (await simControl<{ requests: number }>(stack.integratorOrigin, "GET", "/_sim/stats")).requests;
const putTemplate = (template: Record<string, unknown>) =>
  simControl<{ _id: string }>(stack.integratorOrigin, "POST", "/_sim/templates", template);

const templates = [
  {
    name: "Shopify orders to NetSuite",
    description: "Orders as sales orders",
    applications: ["Shopify", "NetSuite"],
    published: true,
  },
  {
    name: "Amazon settlements",
    description: "Settlement reports to NetSuite journals",
    applications: ["Amazon", "NetSuite"],
    published: true,
  },
  {
    name: "BigCommerce customers",
    description: "Customer sync",
    applications: ["BigCommerce", "NetSuite"],
    published: true,
  },
  {
    name: "Draft: Salesforce opportunities",
    description: "Not reviewed yet",
    applications: ["Salesforce"],
    published: false,
  },
  {
    name: "Shopify refunds",
    description: "Refunds as credit memos",
    applications: ["Shopify", "NetSuite"],
    published: true,
  },
  {
    name: "Zendesk tickets",
    description: "Tickets to cases in Shopify stores",
    applications: ["Zendesk"],
    published: true,
  },
];
const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack();
  // What the vendor set up in integrator.io before the first buyer arrives.
  await simControl(stack.integratorOrigin, "POST", "/_sim/connectors", {
    _id: CONNECTOR_ID,
    description: "Orders, customers, items and fulfillments between Shopify and NetSuite.",
    imageURL: "https://cdn.example.com/shopify-netsuite.png",
    websiteURL: "https://vendor.example.com/shopify-netsuite",
    applications: ["shopify", "netsuite"],
  });
  for (const template of templates) ids[template.name] = (await putTemplate(template))._id;
});
afterAll(async () => {
  await stack?.stop();
});

describe("connector listings", () => {
  it("joins each catalog connector with its integrator.io listing and its Stripe prices", async () => {
    const { status, body, headers } = await api("/marketplace/connectors");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/application\/json/);
    expect(body.data).toHaveLength(1);
    const [listing] = body.data;
    expect(listing).toMatchObject({
      key: "shopify-netsuite",
      connectorId: CONNECTOR_ID,
      name: "Shopify ↔ NetSuite",
      description: "Orders, customers, items and fulfillments between Shopify and NetSuite.",
      imageURL: "https://cdn.example.com/shopify-netsuite.png",
      websiteURL: "https://vendor.example.com/shopify-netsuite",
      applications: ["shopify", "netsuite"],
      trialDays: 30,
    });
    expect(listing.editions).toEqual([
      {
        key: "standard",
        name: "Standard",
        prices: [
          {
            id: "price_std_month",
            lookupKey: null,
            amount: 9900,
            currency: "usd",
            interval: "month",
            intervalCount: 1,
            trialDays: 30,
          },
          // A lookup key resolves to the Stripe price that holds it now.
          {
            id: expect.stringMatching(/^price_/),
            lookupKey: "std_yearly",
            amount: 99000,
            currency: "usd",
            interval: "year",
            intervalCount: 1,
            trialDays: 30,
          },
        ],
      },
      {
        key: "premium",
        name: "Premium",
        prices: [
          expect.objectContaining({ id: "price_prem_month", amount: 19900, interval: "month" }),
          expect.objectContaining({ lookupKey: "prem_yearly", amount: 199000, interval: "year" }),
        ],
      },
    ]);
    expect(listing.addons).toEqual([
      {
        key: "store",
        name: "Additional Shopify store",
        type: "store",
        maxQuantity: 100,
        prices: [
          {
            id: "price_store_month",
            lookupKey: null,
            amount: 2900,
            currency: "usd",
            interval: "month",
            intervalCount: 1,
            trialDays: 30,
          },
        ],
      },
    ]);
  });

  it("serves one connector by key, and 404 for a key the catalog does not list", async () => {
    const list = await api("/marketplace/connectors");
    const one = await api("/marketplace/connectors/shopify-netsuite");
    expect(one.status).toBe(200);
    expect(one.body).toEqual(list.body.data[0]);
    const missing = await api("/marketplace/connectors/no-such-connector");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({
      code: "not_found",
      message: expect.stringContaining('"no-such-connector"'),
    });
  });

  it("answers from the DynamoDB cache with an ETag, and 304 to a matching If-None-Match", async () => {
    const first = await api("/marketplace/connectors");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get("cache-control")).toMatch(/max-age=\d+/);

    const before = await integratorRequests();
    const again = await api("/marketplace/connectors", { headers: { "if-none-match": etag ?? "" } });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    expect(
      (await api("/marketplace/connectors", { headers: { "if-none-match": `W/${etag}, "other"` } })).status,
    ).toBe(304);
    expect((await api("/marketplace/connectors", { headers: { "if-none-match": '"stale"' } })).status).toBe(
      200,
    );
    // Served from the cache: integrator.io is not asked on a read.
    expect(await integratorRequests()).toBe(before);
  });

  it("shows integrator.io changes after a sync, with a new ETag", async () => {
    const before = await api("/marketplace/connectors/shopify-netsuite");
    await simControl(stack.integratorOrigin, "POST", "/_sim/connectors", {
      _id: CONNECTOR_ID,
      name: "Shopify ↔ NetSuite (2026)",
    });
    expect((await api("/marketplace/connectors/shopify-netsuite")).body.name).toBe("Shopify ↔ NetSuite");

    const synced = await sync();
    expect(synced.status).toBe(200);
    expect(synced.body).toMatchObject({ changed: true, connectors: 1, templates: 5, problems: [] });

    const after = await api("/marketplace/connectors/shopify-netsuite", {
      headers: { "if-none-match": before.headers.get("etag") ?? "" },
    });
    expect(after.status).toBe(200);
    expect(after.body.name).toBe("Shopify ↔ NetSuite (2026)");
    expect(after.headers.get("etag")).not.toBe(before.headers.get("etag"));

    // Nothing changed since: the sync writes nothing new and keeps the generation.
    const unchanged = await sync();
    expect(unchanged.body).toMatchObject({ changed: false, generation: synced.body.generation });
  });

  it("refuses the admin sync without the admin token", async () => {
    expect((await api("/admin/listings/sync", { method: "POST" })).status).toBe(401);
    expect(
      (await api("/admin/listings/sync", { method: "POST", headers: { authorization: "Bearer wrong" } }))
        .status,
    ).toBe(403);
  });

  it("answers browsers from allow-listed origins only (CORS)", async () => {
    const allowed = await api("/marketplace/connectors", { headers: { origin: ORIGIN } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const other = await api("/marketplace/connectors", { headers: { origin: "https://elsewhere.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    // Every answer of a CORS route varies by Origin, or a shared cache would serve the one without
    // the CORS headers to the allowed site.
    const none = await api("/marketplace/connectors");
    for (const answer of [allowed, other, none]) expect(answer.headers.get("vary")).toBe("Origin");
    const preflight = await api("/marketplace/templates", {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });
});

describe("template listings", () => {
  const names = (body: { data: { name: string }[] }) => body.data.map((template) => template.name);

  it("lists published templates only, by name", async () => {
    const { status, body } = await api("/marketplace/templates");
    expect(status).toBe(200);
    expect(names(body)).toEqual([
      "Amazon settlements",
      "BigCommerce customers",
      "Shopify orders to NetSuite",
      "Shopify refunds",
      "Zendesk tickets",
    ]);
    expect(body.nextCursor).toBeUndefined();
    expect(body.data[0]).toEqual({
      id: ids["Amazon settlements"],
      name: "Amazon settlements",
      description: "Settlement reports to NetSuite journals",
      applications: ["Amazon", "NetSuite"],
      lastModified: expect.any(String),
    });
  });

  it("filters by application (case-insensitive) and by text", async () => {
    expect(names((await api("/marketplace/templates?application=shopify")).body)).toEqual([
      "Shopify orders to NetSuite",
      "Shopify refunds",
    ]);
    // Text matches name, description and applications.
    expect(names((await api("/marketplace/templates?q=SHOPIFY")).body)).toEqual([
      "Shopify orders to NetSuite",
      "Shopify refunds",
      "Zendesk tickets",
    ]);
    expect(names((await api("/marketplace/templates?application=netsuite&q=credit")).body)).toEqual([
      "Shopify refunds",
    ]);
    expect((await api("/marketplace/templates?application=salesforce")).body).toEqual({ data: [] });
  });

  it("pages with limit and an opaque cursor, also under a filter", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { status, body } = await api(
        `/marketplace/templates?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(status).toBe(200);
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...names(body));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(names((await api("/marketplace/templates")).body));

    const first = await api("/marketplace/templates?application=netsuite&limit=1");
    expect(names(first.body)).toEqual(["Amazon settlements"]);
    const second = await api(
      `/marketplace/templates?application=netsuite&limit=3&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    expect(names(second.body)).toEqual([
      "BigCommerce customers",
      "Shopify orders to NetSuite",
      "Shopify refunds",
    ]);
    expect(second.body.nextCursor).toBeUndefined();
  });

  it("refuses a cursor it did not hand out, and a bad limit", async () => {
    for (const cursor of [
      "not-a-cursor",
      Buffer.from(JSON.stringify({ pk: "CUSTOMER#x", sk: "A" })).toString("base64url"),
    ]) {
      const { status, body } = await api(`/marketplace/templates?cursor=${cursor}`);
      expect(status).toBe(400);
      expect(body.error.message).toMatch(/cursor/);
    }
    for (const limit of ["0", "101", "two"]) {
      const { status, body } = await api(`/marketplace/templates?limit=${limit}`);
      expect(status).toBe(400);
      expect(body.error.message).toMatch(/limit/);
    }
  });

  it("serves one published template by id; 404 for an unpublished or unknown one", async () => {
    const one = await api(`/marketplace/templates/${ids["Zendesk tickets"]}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: ids["Zendesk tickets"],
      name: "Zendesk tickets",
      applications: ["Zendesk"],
    });
    expect(one.headers.get("etag")).toBeTruthy();
    expect((await api(`/marketplace/templates/${ids["Draft: Salesforce opportunities"]}`)).status).toBe(404);
    expect((await api("/marketplace/templates/000000000000000000000000")).status).toBe(404);
  });

  it("drops a template unpublished in integrator.io and adds a newly published one at the next sync", async () => {
    const zendesk = ids["Zendesk tickets"] ?? "";
    await putTemplate({ _id: zendesk, published: false });
    await putTemplate({ _id: ids["Draft: Salesforce opportunities"], published: true });
    // Until the sync, the cache answers as before.
    expect((await api(`/marketplace/templates/${zendesk}`)).status).toBe(200);

    const synced = await sync();
    expect(synced.body).toMatchObject({ changed: true, templates: 5 });
    expect((await api(`/marketplace/templates/${zendesk}`)).status).toBe(404);
    const list = await api("/marketplace/templates");
    expect(names(list.body)).not.toContain("Zendesk tickets");
    expect(names(list.body)).toContain("Draft: Salesforce opportunities");
  });
});

describe("scheduled sync", () => {
  it("runs the listings-sync function as the scheduler does, and serves what it found", async () => {
    // The very handler the local scheduler (and EventBridge in AWS) invokes.
    const run = listingsSync.makeHandler(await listingsSync.createDeps(await loadEnvironment(stack.env)));
    await putTemplate({ name: "Scheduled: Magento orders", applications: ["Magento"], published: true });
    const result = await run({ source: "local.scheduler", "detail-type": "Scheduled Event", detail: {} });
    expect(result).toMatchObject({ changed: true, problems: [] });
    const { body } = await api("/marketplace/templates?application=magento");
    expect(body.data.map((template: { name: string }) => template.name)).toEqual([
      "Scheduled: Magento orders",
    ]);
  });
});

describe("OpenAPI document", () => {
  it("is served at /openapi.json with every marketplace route", async () => {
    const { status, body, headers } = await api("/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        "/marketplace/connectors",
        "/marketplace/templates/{id}",
        "/checkout/sessions",
        "/admin/listings/sync",
      ]),
    );
    expect(
      (await api("/openapi.json", { headers: { "if-none-match": headers.get("etag") ?? "" } })).status,
    ).toBe(304);
  });
});
