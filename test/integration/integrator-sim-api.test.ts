import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import {
  nextLinkOf,
  nextYear,
  type SimClient,
  type SimResponse,
  simClient,
} from "#test/helpers/integrator-sim-client.ts";

// Conformance of auth, the error envelope, connectors, licenses and pagination to docs/architecture.md §3.
const VENDOR = "vendor-token-for-api-tests";
let sim: IntegratorSimulator;
let client: SimClient;
let customer: { _id: string; email: string; token: string };

const vendor = (method: string, path: string, body?: unknown) => client.api(VENDOR, method, path, body);

function expectError(response: SimResponse, status: number, code: string, field?: string) {
  expect(response.status).toBe(status);
  expect(Array.isArray(response.body.errors)).toBe(true);
  const [error] = response.body.errors;
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe("string");
  if (field !== undefined) expect(error.field).toBe(field);
}

beforeAll(async () => {
  sim = await startIntegratorSimulator({ port: 0, vendorToken: VENDOR, quiet: true });
  client = simClient(sim);
  customer = await client.user("Buyer@Example.com", "Buyer One");
  const seeded = await client.control("POST", "/connectors", {
    _id: "conn-a",
    name: "Connector A",
    published: true,
  });
  expect(seeded.status).toBe(201);
  await client.control("POST", "/connectors", { _id: "conn-b", name: "Connector B" });
});
afterAll(() => sim.stop());

describe("authentication", () => {
  it("answers 401 unauthorized without a token, with a wrong one, or with another scheme", async () => {
    expectError(await client.api(undefined, "GET", "/tokenInfo"), 401, "unauthorized");
    expectError(await client.api("not-a-token", "GET", "/connectors"), 401, "unauthorized");
    const basic = await fetch(`${sim.url}/tokenInfo`, { headers: { authorization: `Basic ${VENDOR}` } });
    expect(basic.status).toBe(401);
  });

  it("tells each token's account through GET /v1/tokenInfo", async () => {
    const vendorInfo = await vendor("GET", "/tokenInfo");
    expect(vendorInfo.status).toBe(200);
    expect(typeof vendorInfo.body._userId).toBe("string");
    const userInfo = await client.api(customer.token, "GET", "/tokenInfo");
    expect(userInfo.body).toEqual({ _userId: customer._id });
    expect(userInfo.body._userId).not.toBe(vendorInfo.body._userId);
  });

  it("keeps the partner API (connectors, licenses) to the vendor's account: 403 access_restricted", async () => {
    expectError(
      await client.api(customer.token, "GET", "/connectors/conn-a/licenses"),
      403,
      "access_restricted",
    );
    expectError(
      await client.api(customer.token, "PUT", "/connectors/conn-a", { name: "x" }),
      403,
      "access_restricted",
    );
  });

  it("answers unknown routes 404 and wrong methods 405 in the same envelope", async () => {
    expectError(await vendor("GET", "/no-such-thing"), 404, "not_found");
    const wrong = await vendor("PATCH", "/connectors/conn-a");
    expectError(wrong, 405, "method_not_allowed");
    expect(wrong.headers.get("allow")).toContain("PUT");
  });

  it("answers malformed JSON with 400", async () => {
    const response = await vendor("POST", "/connectors/conn-a/licenses", "{not json");
    expect(response.status).toBe(400);
    expect(response.body.errors[0].code).toBe("invalid_json");
  });
});

describe("connectors", () => {
  it("creates (201), reads, replaces, lists and deletes (204) a connector", async () => {
    const created = await vendor("POST", "/connectors", {
      name: "Shopify to NetSuite",
      description: "orders",
      installerFunction: "installerFunction",
      applications: ["shopify", "netsuite"],
    });
    expect(created.status).toBe(201);
    const id = created.body._id;
    expect(typeof id).toBe("string");
    expect(created.body).toMatchObject({
      name: "Shopify to NetSuite",
      applications: ["shopify", "netsuite"],
    });

    const read = await vendor("GET", `/connectors/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.installerFunction).toBe("installerFunction");

    // PUT replaces the document: a field left out is gone.
    const replaced = await vendor("PUT", `/connectors/${id}`, { name: "Renamed", published: true });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ _id: id, name: "Renamed", published: true });
    expect(replaced.body.description).toBeUndefined();

    const listed = await vendor("GET", "/connectors");
    expect(listed.status).toBe(200);
    expect(listed.body.map((c: { _id: string }) => c._id)).toEqual(
      expect.arrayContaining([id, "conn-a", "conn-b"]),
    );

    const installBase = await vendor("GET", `/connectors/${id}/installBase`);
    expect(installBase.status).toBe(200);
    expect(installBase.body).toEqual([]);

    const deleted = await vendor("DELETE", `/connectors/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expectError(await vendor("GET", `/connectors/${id}`), 404, "not_found");
  });

  it("validates the fields: name required, _stackId must reference a stack", async () => {
    expectError(
      await vendor("POST", "/connectors", { description: "no name" }),
      422,
      "missing_required_field",
      "name",
    );
    expectError(
      await vendor("POST", "/connectors", { name: "x", published: "yes" }),
      422,
      "invalid_field",
      "published",
    );
    expectError(
      await vendor("POST", "/connectors", { name: "x", _stackId: "nope" }),
      422,
      "invalid_ref",
      "_stackId",
    );
  });

  it("answers 404 for unknown connector ids everywhere", async () => {
    expectError(await vendor("GET", "/connectors/missing"), 404, "not_found");
    expectError(await vendor("PUT", "/connectors/missing", { name: "x" }), 404, "not_found");
    expectError(await vendor("DELETE", "/connectors/missing"), 404, "not_found");
    expectError(await vendor("GET", "/connectors/missing/installBase"), 404, "not_found");
    expectError(await vendor("GET", "/connectors/missing/licenses"), 404, "not_found");
  });
});

describe("licenses", () => {
  const expires = "2031-05-01T00:00:00.000Z";

  it("creates a license (201) with the read-only user from the account", async () => {
    const created = await vendor("POST", "/connectors/conn-a/licenses", {
      email: customer.email,
      expires,
      opts: {
        connectorEdition: "standard",
        addonLicenses: [{ type: "store", licenses: [{ addOnEdition: "standard" }] }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      expires,
      opts: { connectorEdition: "standard" },
      sandbox: false,
      user: { email: "buyer@example.com", _id: customer._id, name: "Buyer One" },
    });
    expect(typeof created.body._id).toBe("string");
    expect(Number.isNaN(Date.parse(created.body.created))).toBe(false);
    expect(created.body._integrationId).toBeUndefined();
  });

  it("needs email and expires, and an integrator.io account for the email", async () => {
    const path = "/connectors/conn-a/licenses";
    expectError(await vendor("POST", path, { expires }), 422, "missing_required_field", "email");
    expectError(
      await vendor("POST", path, { email: customer.email }),
      422,
      "missing_required_field",
      "expires",
    );
    expectError(
      await vendor("POST", path, { email: customer.email, expires: "soon" }),
      422,
      "invalid_field",
      "expires",
    );
    expectError(await vendor("POST", path, { email: "nobody@example.com", expires }), 422, "invalid_user");
    expectError(
      await vendor("POST", path, { email: customer.email, expires, sandbox: "no" }),
      422,
      "invalid_field",
      "sandbox",
    );
    expectError(
      await vendor("POST", "/connectors/missing/licenses", { email: customer.email, expires }),
      404,
      "not_found",
    );
  });

  it("is not idempotent: the same POST twice makes two licenses", async () => {
    const body = { email: customer.email, expires, opts: { connectorEdition: "premium" } };
    const first = await vendor("POST", "/connectors/conn-b/licenses", body);
    const second = await vendor("POST", "/connectors/conn-b/licenses", body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body._id).not.toBe(first.body._id);
    const listed = await vendor("GET", "/connectors/conn-b/licenses");
    expect(listed.body.map((l: { _id: string }) => l._id)).toEqual(
      expect.arrayContaining([first.body._id, second.body._id]),
    );
  });

  it("reads, replaces (PUT without email) and deletes (204) a license", async () => {
    const created = await vendor("POST", "/connectors/conn-a/licenses", {
      email: customer.email,
      expires,
      opts: { connectorEdition: "standard" },
    });
    const path = `/connectors/conn-a/licenses/${created.body._id}`;
    expect((await vendor("GET", path)).body).toEqual(created.body);

    const later = "2032-01-01T00:00:00.000Z";
    const updated = await vendor("PUT", path, {
      expires: later,
      opts: { connectorEdition: "premium" },
      _integrationId: "not-yours-to-set",
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      _id: created.body._id,
      expires: later,
      opts: { connectorEdition: "premium" },
    });
    expect(updated.body.user.email).toBe(customer.email);
    expect(updated.body._integrationId).toBeUndefined();

    // The whole document back (same email) is fine; another email is not.
    expect((await vendor("PUT", path, { ...updated.body })).status).toBe(200);
    expectError(
      await vendor("PUT", path, { email: "other@example.com", expires: later }),
      422,
      "invalid_field",
      "email",
    );
    expectError(await vendor("PUT", path, { opts: {} }), 422, "missing_required_field", "expires");

    // A license of one connector is not found under another.
    expectError(await vendor("GET", `/connectors/conn-b/licenses/${created.body._id}`), 404, "not_found");

    const deleted = await vendor("DELETE", path);
    expect(deleted.status).toBe(204);
    expectError(await vendor("GET", path), 404, "not_found");
    expectError(await vendor("PUT", path, { expires }), 404, "not_found");
    expectError(await vendor("DELETE", path), 404, "not_found");
  });
});

describe("pagination", () => {
  const total = 250;
  let connectorId: string;

  beforeAll(async () => {
    connectorId = "conn-paged";
    await client.control("POST", "/connectors", { _id: connectorId, name: "Paged" });
    for (let batch = 0; batch < total; batch += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, total - batch) }, () =>
          vendor("POST", `/connectors/${connectorId}/licenses`, {
            email: customer.email,
            expires: nextYear(),
          }),
        ),
      );
    }
  });

  async function followAll(first: string) {
    const pages: { size: number; link: string | undefined }[] = [];
    const ids: string[] = [];
    let next: string | undefined = first;
    while (next !== undefined) {
      const page = await vendor("GET", next);
      expect(page.status).toBe(200);
      next = nextLinkOf(page.headers);
      pages.push({ size: page.body.length, link: next });
      ids.push(...page.body.map((l: { _id: string }) => l._id));
    }
    return { pages, ids };
  }

  it("pages 100 at a time with Link rel=next until there is none", async () => {
    const { pages, ids } = await followAll(`/connectors/${connectorId}/licenses`);
    expect(pages.map((p) => p.size)).toEqual([100, 100, 50]);
    expect(pages[0]?.link).toMatch(/[?&]skip=100(&|$)/);
    expect(pages[0]?.link).toMatch(/[?&]limit=100(&|$)/);
    expect(pages[1]?.link).toMatch(/[?&]skip=200(&|$)/);
    expect(pages[2]?.link).toBeUndefined();
    expect(new Set(ids).size).toBe(total);
  });

  it("honours ?limit= and keeps it in the next links", async () => {
    const { pages, ids } = await followAll(`/connectors/${connectorId}/licenses?limit=60`);
    expect(pages.map((p) => p.size)).toEqual([60, 60, 60, 60, 10]);
    expect(pages[0]?.link).toMatch(/[?&]limit=60(&|$)/);
    expect(new Set(ids).size).toBe(total);
    const past = await vendor("GET", `/connectors/${connectorId}/licenses?skip=${total}`);
    expect(past.body).toEqual([]);
    expect(past.headers.get("link")).toBeNull();
  });

  it("answers 400 invalid_query_params for a bad skip or limit", async () => {
    for (const query of ["skip=-1", "skip=abc", "limit=0", "limit=abc", "limit=1.5", "limit=100000"]) {
      const response = await vendor("GET", `/connectors/${connectorId}/licenses?${query}`);
      expectError(response, 400, "invalid_query_params");
    }
  });
});
