import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PageCursors } from "#lib/http/page-cursor.ts";
import { methodsOf, type RouteDefinition, routeKey, routes, takesBody } from "#lib/routes.ts";
import { CONNECTOR, storeOf } from "#test/helpers/admin-api.ts";
import {
  bodyKeys,
  captureOutput,
  deepArray,
  deepObject,
  errorFormatFor,
  expectNoServerError,
  expectRefusal,
  fillPath,
  HOSTILE_SCALARS,
  LONG_EMAIL,
  ODD_PATH_VALUES,
  ODD_QUERY_VALUES,
  type OutputCapture,
  pathParams,
  queryKeys,
  quiescentSnapshot,
  type RawAnswer,
  RawClient,
  type StoreSnapshot,
  secretSightings,
  storeSnapshot,
} from "#test/helpers/hostile.ts";
import {
  connectorLicenses,
  createIntegratorUser,
  eventually,
  integratorApi,
  startTestStack,
  type TestStack,
} from "#test/helpers/local-stack.ts";

/**
 * docs/architecture.md §9: bad input gets a clear 4xx and changes nothing, and no secret ever shows in a log or
 * a response. Every route of lib/routes.ts is attacked (a new route is covered by being in the
 * table), against a stack whose every secret is a distinctive value, while every line the stack
 * writes — this process's handlers and the worker processes — is captured.
 */

const SECRETS = {
  STRIPE_WEBHOOK_SECRET: "whsec_hostile_9f3c2a7b51d84e06aa",
  ADMIN_TOKEN: "adm_hostile_5e1b7c93fd2a4068bb",
  INTEGRATOR_SYSTEM_TOKEN: "sys_hostile_0c6d2e8a47b1f935cc",
  // The integrator.io simulator's vendor token follows it.
  INTEGRATOR_TOKEN: "itg_hostile_7a4f1e0b9c3d2856dd",
  CURSOR_SIGNING_KEY: "cur_hostile_3b8e6d1f0a9c4725ee",
};
// The Stripe simulator runs only with the local key, so it stays; it must not leak either.
const STRIPE_SECRET_KEY = "sk_test_local";

const JSON_TYPE = { "content-type": "application/json" };

let stack: TestStack;
let client: RawClient;
let output: OutputCapture;
let baseline: StoreSnapshot;
let customerId: string;

/** The credentials a route accepts (none for public and Stripe-signed routes). */
const credentials = (route: RouteDefinition): Record<string, string> =>
  route.auth === "admin"
    ? { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` }
    : route.auth === "system"
      ? { authorization: `Bearer ${SECRETS.INTEGRATOR_SYSTEM_TOKEN}` }
      : {};

/**
 * Routes that read a request body: a body schema, the signed raw body of the webhook, or the
 * extension envelope (checked by the framework itself; docs/decisions.md). The others ignore one.
 */
const readsBody = takesBody;

/** A body that passes validation, for routes where the attack is elsewhere (path, query). */
const VALID_BODIES: Record<string, string> = {
  "POST /admin/customers/{customerId}/licenses/{connector}/transfer": '{"email":"hostile@example.com"}',
  "POST /admin/reconcile": '{"dryRun":true}',
  "POST /admin/customers/{customerId}/reconcile": '{"dryRun":true}',
};
const validBodyOf = (route: RouteDefinition) =>
  VALID_BODIES[routeKey(route)] ?? (route.method === "GET" ? undefined : "{}");

const send = (route: RouteDefinition, path: string, body?: string, headers: Record<string, string> = {}) =>
  client.send({
    method: route.method,
    path,
    headers: { ...credentials(route), ...(body === undefined ? {} : JSON_TYPE), ...headers },
    ...(body === undefined ? {} : { body }),
  });

const byKey = <T extends RouteDefinition>(list: T[]) =>
  list.map((route) => [routeKey(route), route] as const);

/** Compares the whole store before and after a group of refusals. */
function storeUnchangedByThisGroup() {
  let before: StoreSnapshot;
  beforeAll(async () => {
    before = await storeSnapshot(stack);
  });
  return () =>
    it("changed nothing in the store", async () => {
      expect(await quiescentSnapshot(stack)).toEqual(before);
    });
}

beforeAll(async () => {
  output = captureOutput();
  stack = await startTestStack(
    { ...SECRETS, STRIPE_SECRET_KEY, LOG_LEVEL: "DEBUG" },
    {
      workerOutput: (line) => output.add(line),
      log: (line) => output.add(line),
      // The attacks load the machine; a worker slower than a 2 s visibility timeout would see its
      // event again (at least once is the rule) and touch the store this suite checks is at rest.
      visibilityTimeoutSeconds: 30,
    },
  );
  client = new RawClient(stack.urls.api);

  // Something to leave alone: a customer with a license, installed from integrator.io (which calls
  // the stack with the system token), and the marketplace listings filled.
  const email = `hostile-${Date.now().toString(36)}@example.com`;
  const user = await createIntegratorUser(stack, email);
  const customer = await stack.stripe.customers.create({ email });
  customerId = customer.id;
  await stack.stripe.subscriptions.create({ customer: customer.id, items: [{ price: "price_std_month" }] });
  const license = await eventually(
    async () => (await connectorLicenses(stack, CONNECTOR.id)).find((l) => l.user.email === email),
    { what: "the license in integrator.io", timeoutMs: 45_000 },
  );
  const { licenses } = storeOf(stack);
  await eventually(async () => (await licenses.get(customer.id, CONNECTOR.key))?.licenseId === license._id, {
    what: "the license in the store",
  });
  const installed = await integratorApi(
    stack,
    "POST",
    `/integrations/${CONNECTOR.id}/install`,
    {},
    user.token,
  );
  if (installed.status !== 201)
    throw new Error(`install: ${installed.status} ${JSON.stringify(installed.body)}`);
  for (const path of ["/marketplace/connectors", "/marketplace/templates"]) {
    const warm = await client.send({ method: "GET", path });
    if (warm.status !== 200) throw new Error(`${path}: ${warm.status} ${warm.text}`);
  }
  baseline = await quiescentSnapshot(stack);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  output?.restore();
});

describe("the route table", () => {
  it("has only auth kinds this suite knows how to attack", () => {
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) expect(["public", "admin", "system", "stripe"]).toContain(route.auth);
  });
});

describe("missing or wrong credentials", () => {
  const checkStore = storeUnchangedByThisGroup();
  const body = "{}";

  it.each(byKey(routes.filter((r) => r.auth === "admin")))(
    "%s: 401 without a token, 403 with a wrong one",
    async (_key, route) => {
      const path = fillPath(route.path);
      const missing = await client.send({ method: route.method, path, headers: JSON_TYPE, body });
      expectRefusal(missing, "api", [401], "no token");
      expect(missing.headers["www-authenticate"]).toBe("Bearer");
      const basic = `Basic ${Buffer.from(`admin:${SECRETS.ADMIN_TOKEN}`).toString("base64")}`;
      expectRefusal(await send(route, path, body, { authorization: basic }), "api", [401], "basic auth");
      expectRefusal(await send(route, path, body, { authorization: "Bearer" }), "api", [401], "empty bearer");
      for (const [what, token] of [
        ["wrong token", "not-the-admin-token"],
        ["the system token", SECRETS.INTEGRATOR_SYSTEM_TOKEN],
        ["the admin token with a suffix", `${SECRETS.ADMIN_TOKEN}x`],
        ["a prefix of the admin token", SECRETS.ADMIN_TOKEN.slice(0, -1)],
        ["an 8 KB token", "t".repeat(8192)],
      ] as const) {
        expectRefusal(
          await send(route, path, body, { authorization: `Bearer ${token}` }),
          "api",
          [403],
          what,
        );
      }
    },
  );

  it.each(byKey(routes.filter((r) => r.auth === "system")))(
    "%s: 401 with WWW-Authenticate for a missing or wrong system token",
    async (_key, route) => {
      const path = fillPath(route.path);
      const attempts: [string, Record<string, string>][] = [
        ["no token", {}],
        ["wrong token", { authorization: "Bearer not-the-system-token" }],
        ["the admin token", { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` }],
        ["the vendor token", { authorization: `Bearer ${SECRETS.INTEGRATOR_TOKEN}` }],
        [
          "basic auth",
          { authorization: `Basic ${Buffer.from(SECRETS.INTEGRATOR_SYSTEM_TOKEN).toString("base64")}` },
        ],
      ];
      for (const [what, headers] of attempts) {
        const answer = await client.send({
          method: route.method,
          path,
          headers: { ...JSON_TYPE, ...headers },
          body,
        });
        expectRefusal(answer, "integrator", [401], what);
        expect(answer.headers["www-authenticate"], what).toBe("invalid system token");
        expect(answer.json).toEqual({ errors: [{ code: "unauthorized", message: "Invalid system token." }] });
      }
    },
  );

  it.each(byKey(routes.filter((r) => r.auth === "stripe")))(
    "%s: 400 without a Stripe signature",
    async (_key, route) => {
      const answer = await client.send({ method: route.method, path: route.path, headers: JSON_TYPE, body });
      expectRefusal(answer, route.errorFormat, [400]);
    },
  );

  checkStore();
});

describe("bodies over the route's limit", () => {
  const checkStore = storeUnchangedByThisGroup();

  it.each(byKey([...routes]))("%s: 413", async (_key, route) => {
    const prefix = '{"padding":"';
    const body = `${prefix}${"x".repeat(route.bodyLimit + 1 - prefix.length - 2)}"}`;
    expect(Buffer.byteLength(body)).toBe(route.bodyLimit + 1);
    const answer = await send(route, fillPath(route.path), body);
    expectRefusal(answer, route.errorFormat, [413]);
  });

  checkStore();
});

describe("malformed JSON and wrong content types", () => {
  const checkStore = storeUnchangedByThisGroup();
  const malformed = [
    '{"a":',
    "{'a':1}",
    '{"a":1}{"b":2}',
    "NaN",
    "\u0000",
    "\ufeff{}",
    '{"a":1,}',
    "undefined",
  ];
  const otherTypes = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/octet-stream",
    "application/jsonp",
  ];

  it.each(byKey(routes.filter(readsBody)))(
    "%s: 400 for malformed JSON, 415 for other content types",
    async (_key, route) => {
      const path = fillPath(route.path);
      for (const body of malformed) {
        const answer = await send(route, path, body);
        expectRefusal(answer, route.errorFormat, [400], `malformed ${JSON.stringify(body)}`);
      }
      for (const type of otherTypes) {
        const answer = await send(route, path, '{"a":1}', { "content-type": type });
        // The webhook takes its raw body whatever the type: without a signature it is a 400.
        expectRefusal(answer, route.errorFormat, [route.rawBody ? 400 : 415], type);
      }
    },
  );

  checkStore();
});

describe("odd path parameters", () => {
  const checkStore = storeUnchangedByThisGroup();
  const withParams = routes.filter((route) => pathParams(route.path).length > 0);

  it("exist in the table", () => {
    expect(withParams.length).toBeGreaterThan(3);
  });

  it.each(byKey(withParams))("%s: a clear 4xx for each odd value", async (_key, route) => {
    for (const name of pathParams(route.path)) {
      for (const [what, value] of Object.entries(ODD_PATH_VALUES)) {
        const path = fillPath(route.path, { [name]: value });
        const answer = await send(route, path, validBodyOf(route));
        expectRefusal(answer, errorFormatFor(route.method, path), undefined, `${name} = ${what}`);
      }
    }
  });

  it.each(byKey(withParams))(
    "%s: 400 naming the parameter for an id over 128 characters or outside [A-Za-z0-9_-]",
    async (_key, route) => {
      for (const name of pathParams(route.path)) {
        for (const value of ["a".repeat(129), "a.b", "a%20b", "%C3%A9"]) {
          const answer = await send(route, fillPath(route.path, { [name]: value }), validBodyOf(route));
          expectRefusal(answer, "api", [400], `${name} = ${value.slice(0, 20)}`);
          const { error } = answer.json as { error: { details?: { path: string }[] } };
          expect(error.details?.[0]?.path, `${name} = ${value.slice(0, 20)}`).toBe(`path.${name}`);
        }
      }
    },
  );

  it("an existing customer behind traversal or NUL is still refused", async () => {
    const route = routes.find((r) => r.path === "/admin/customers/{customerId}");
    if (!route) throw new Error("no customer route");
    for (const value of [
      `${customerId}%00`,
      `..%2F${customerId}`,
      `${customerId}%2F..`,
      `%20${customerId}`,
    ]) {
      const answer = await send(route, fillPath(route.path, { customerId: value }));
      expectRefusal(answer, "api", [400, 404], value);
    }
    const plain = await send(route, fillPath(route.path, { customerId }));
    expect(plain.status).toBe(200);
  });

  checkStore();
});

describe("odd query strings", () => {
  const checkStore = storeUnchangedByThisGroup();
  const withQuery = routes.filter((route) => queryKeys(route).length > 0);

  it.each(byKey(withQuery))("%s: never a 5xx, refusals in the route's format", async (_key, route) => {
    const path = fillPath(route.path);
    for (const key of queryKeys(route)) {
      for (const [what, value] of Object.entries(ODD_QUERY_VALUES)) {
        const answer = await send(route, `${path}?${key}=${value}`, validBodyOf(route));
        expectNoServerError(answer, route.errorFormat, `${key} = ${what}`);
      }
      const repeated = await send(route, `${path}?${key}=1&${key}=2`, validBodyOf(route));
      expectNoServerError(repeated, route.errorFormat, `${key} twice`);
    }
  });

  checkStore();
});

describe("list cursors", () => {
  const checkStore = storeUnchangedByThisGroup();
  const lists = routes.filter((route) => queryKeys(route).includes("cursor"));
  /** The list each route's cursors belong to (lib/http/page-cursor.ts). */
  const LIST_NAMES: Record<string, string> = {
    "/admin/licenses": "licenses",
    "/admin/events": "events",
    "/admin/reconcile": "reconcile-runs",
    "/admin/installs": "installs",
    "/admin/customers": "customers",
    "/admin/operators": "operators",
    "/marketplace/templates": "templates",
  };
  /** What a list needs besides its cursor (the customer search, its `q`). */
  const LIST_QUERIES: Record<string, string> = { "/admin/customers": "q=hostile%40example.com&" };
  const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const tableKey = base64({ pk: "CUSTOMER#cus_hostile", sk: "LICENSE#shopify-netsuite" });
  const expectInvalidCursor = (answer: RawAnswer, what: string) => {
    expectRefusal(answer, "api", [400], what);
    expect((answer.json as { error: { code: string } }).error.code, what).toBe("invalid_cursor");
  };

  it("are every list of the table", () => {
    expect(lists.map((route) => route.path).sort()).toEqual(Object.keys(LIST_NAMES).sort());
  });

  it.each(byKey(lists))("%s: 400 invalid_cursor for one it did not hand out", async (_key, route) => {
    const list = LIST_NAMES[route.path] as string;
    const forged = {
      "made up": "not-a-cursor",
      "a bare DynamoDB key": base64({ pk: 1 }),
      // The install list's own position format, unsigned (a 500 once).
      "an install list position": base64({ c: 0, k: base64({ pk: 1 }) }),
      "an admin page cursor of the old format": base64({ list, at: tableKey }),
      "signed with another key": new PageCursors("not-the-key").issue({ list }, tableKey) as string,
      "another list's": new PageCursors(SECRETS.CURSOR_SIGNING_KEY).issue(
        { list: list === "events" ? "licenses" : "events" },
        tableKey,
      ) as string,
      "for other filters": new PageCursors(SECRETS.CURSOR_SIGNING_KEY).issue(
        { list, filters: { email: "someone@example.com" } },
        tableKey,
      ) as string,
    };
    for (const [what, cursor] of Object.entries(forged)) {
      const query = LIST_QUERIES[route.path] ?? "";
      expectInvalidCursor(
        await send(route, `${route.path}?${query}cursor=${encodeURIComponent(cursor)}`),
        what,
      );
    }
  });

  it("a real cursor is refused truncated, altered, or with other filters, and taken as it was", async () => {
    const route = routes.find((r) => r.path === "/admin/events") as RouteDefinition;
    const first = await send(route, "/admin/events?limit=1");
    const cursor = (first.json as { nextCursor?: string }).nextCursor;
    if (!cursor) throw new Error("the seeded events fit one page");
    const dot = cursor.lastIndexOf(".");
    const flipped = `${cursor.slice(0, dot - 1)}${cursor[dot - 1] === "A" ? "B" : "A"}${cursor.slice(dot)}`;
    for (const [what, path] of [
      ["truncated", `/admin/events?limit=1&cursor=${encodeURIComponent(cursor.slice(0, -1))}`],
      ["a character of the position changed", `/admin/events?limit=1&cursor=${encodeURIComponent(flipped)}`],
      ["another status", `/admin/events?limit=1&status=failed&cursor=${encodeURIComponent(cursor)}`],
    ] as const) {
      expectInvalidCursor(await send(route, path), what);
    }
    expect((await send(route, `/admin/events?limit=1&cursor=${encodeURIComponent(cursor)}`)).status).toBe(
      200,
    );
  });

  checkStore();
});

describe("unknown routes and methods", () => {
  const checkStore = storeUnchangedByThisGroup();

  it("405 with Allow for a known path and another method", async () => {
    const paths = [...new Set(routes.map((route) => route.path))];
    for (const template of paths) {
      const onPath = routes.filter((r) => r.path === template);
      const allowed = [
        ...onPath.flatMap((r) => methodsOf(r)),
        ...(onPath.some((r) => r.cors) ? ["OPTIONS"] : []),
      ];
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !allowed.includes(m))) {
        const answer = await client.send({ method, path: fillPath(template) });
        expectRefusal(answer, "api", [405], `${method} ${template}`);
        expect(String(answer.headers.allow).split(", ").sort()).toEqual([...allowed].sort());
      }
    }
  });

  it("404 for paths no route has", async () => {
    for (const path of [
      "/",
      "/admin",
      "/admin/",
      "/admin/customer",
      "/admin/customers/cus_1/licenses",
      "/webhooks/stripe/extra",
      "/%00",
      "/..%2F..%2Fetc%2Fpasswd",
      "/%F0%9F%92%A5",
      `/${"x".repeat(4096)}`,
      "/integrator/function/..",
    ]) {
      const answer = await client.send({
        method: "GET",
        path,
        headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` },
      });
      expectRefusal(answer, "api", [404], path);
    }
  });

  checkStore();
});

describe("hostile JSON values", () => {
  const checkStore = storeUnchangedByThisGroup();
  const withBodySchema = routes.filter((route) => bodyKeys(route).length > 0);

  it.each(byKey(withBodySchema))(
    "%s: refuses huge numbers, unicode, NUL, prototype keys in every field",
    async (_key, route) => {
      for (const [what, value] of Object.entries(HOSTILE_SCALARS)) {
        const body = `{${bodyKeys(route)
          .map((key) => `${JSON.stringify(key)}:${value}`)
          .join(",")}}`;
        const answer = await send(route, fillPath(route.path), body);
        expectRefusal(answer, route.errorFormat, [400], what);
      }
      for (const body of ["[]", '"text"', "1e400", "null", "true", '{"__proto__":{"dryRun":true}}']) {
        expectRefusal(await send(route, fillPath(route.path), body), route.errorFormat, [400], body);
      }
    },
  );

  it("an email longer than SMTP allows is a 400 wherever the admin API takes one", async () => {
    const admin = { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` };
    for (const path of [`/admin/licenses?email=${LONG_EMAIL}`, `/admin/installs?email=${LONG_EMAIL}`]) {
      expectRefusal(
        await client.send({ method: "GET", path, headers: admin }),
        "api",
        [400],
        path.slice(0, 30),
      );
    }
    const transfer = await client.send({
      method: "POST",
      path: `/admin/customers/${customerId}/licenses/${CONNECTOR.key}/transfer`,
      headers: { ...admin, ...JSON_TYPE },
      body: JSON.stringify({ email: LONG_EMAIL }),
    });
    expectRefusal(transfer, "api", [400], "transfer");
  });

  it("the extension envelope: 422 for hostile connector ids, function names and types", async () => {
    const route = routes.find((r) => r.path === "/integrator/function");
    if (!route) throw new Error("no extension route");
    const envelopes = [
      { _connectorId: 1e300, function: "installerFunction", options: {} },
      { _connectorId: "💥\u0000", function: "installerFunction", options: {} },
      { _connectorId: "x".repeat(100_000), function: "installerFunction", options: {} },
      { _connectorId: CONNECTOR.id, function: "__proto__", options: {} },
      { _connectorId: CONNECTOR.id, function: "constructor", options: {} },
      { _connectorId: CONNECTOR.id, function: "toString", options: {} },
      { _connectorId: CONNECTOR.id, function: "hasOwnProperty", options: {} },
      { _connectorId: CONNECTOR.id, type: "__proto__", function: "persistSettings", options: {} },
      { _connectorId: CONNECTOR.id, type: "💥", function: "persistSettings", options: {} },
      { _connectorId: CONNECTOR.id, function: "installerFunction", options: [] },
      { _connectorId: CONNECTOR.id, function: "installerFunction", options: "💥" },
      { _connectorId: CONNECTOR.id, function: "installerFunction", options: { bearerToken: 1e300 } },
      {
        _connectorId: CONNECTOR.id,
        function: "installerFunction",
        options: { bearerToken: "forged", _integrationId: "%00", license: { _id: "__proto__" } },
      },
      { _connectorId: CONNECTOR.id, function: "installerFunction", options: {}, maxResponseSize: -1 },
    ];
    const texts = [
      ...envelopes.map((envelope) => JSON.stringify(envelope)),
      // An own `__proto__` key (as JSON.parse makes it) in settings: refused, never merged.
      `{"_connectorId":${JSON.stringify(CONNECTOR.id)},"type":"setting","function":"persistSettings","options":{"bearerToken":"forged","_integrationId":"nope","pending":{"__proto__":{"admin":true}}}}`,
    ];
    for (const text of texts) {
      const answer = await send(route, route.path, text);
      expectRefusal(answer, "integrator", [422], text.slice(0, 160));
    }
    // Malformed types of the whole body count as a missing envelope.
    for (const body of ["[]", '"text"', "1e400", "null", "true"]) {
      expectRefusal(await send(route, route.path, body), "integrator", [422], body);
    }
  });

  checkStore();
});

describe("deeply nested JSON (10,000 levels)", () => {
  const checkStore = storeUnchangedByThisGroup();
  const bodies = { "nested arrays": deepArray(10_000), "nested objects": deepObject(10_000) };

  it.each(byKey(routes.filter(readsBody)))("%s: a clear 4xx", async (_key, route) => {
    for (const [what, body] of Object.entries(bodies)) {
      expectRefusal(await send(route, fillPath(route.path), body), route.errorFormat, undefined, what);
    }
    for (const [what, fieldValue] of Object.entries(bodies)) {
      const fields = bodyKeys(route).length > 0 ? bodyKeys(route) : ["_connectorId", "function", "options"];
      const body = `{${fields.map((key) => `${JSON.stringify(key)}:${fieldValue}`).join(",")}}`;
      expectRefusal(
        await send(route, fillPath(route.path), body),
        route.errorFormat,
        undefined,
        `fields of ${what}`,
      );
    }
  });

  it("in the options of a real extension function: a 4xx, no crash", async () => {
    const route = routes.find((r) => r.path === "/integrator/function");
    if (!route) throw new Error("no extension route");
    for (const [what, deep] of Object.entries(bodies)) {
      for (const [type, fn, key] of [
        [undefined, "installerFunction", "opts"],
        ["setting", "persistSettings", "pending"],
        ["setting", "changeEdition", "toEdition"],
        [undefined, "updateFunction", "license"],
      ] as const) {
        const body = `{"_connectorId":${JSON.stringify(CONNECTOR.id)},${type ? `"type":"${type}",` : ""}"function":"${fn}","options":{"bearerToken":"forged","_integrationId":"nope","${key}":${deep}}}`;
        const answer = await send(route, route.path, body);
        expectRefusal(answer, "integrator", [400, 422], `${fn} with ${what}`);
      }
    }
  });

  checkStore();
});

describe("the Stripe webhook", () => {
  const checkStore = storeUnchangedByThisGroup();
  const route = routes.find((r) => r.auth === "stripe") as RouteDefinition;
  const sign = (payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)) =>
    stack.stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
  const post = (payload: string, signature?: string) =>
    client.send({
      method: "POST",
      path: route.path,
      headers: { ...JSON_TYPE, ...(signature === undefined ? {} : { "stripe-signature": signature }) },
      body: payload,
    });

  /** A processed event of the seeded customer, as Stripe delivered it. */
  async function processedEvent() {
    const { inbox } = storeOf(stack);
    const page = await inbox.list({ status: "processed", limit: 50 });
    const event = page.items.find((item) => item.customerId === customerId);
    if (!event) throw new Error("no processed event");
    return event;
  }

  it("refuses forged, stale and garbled signatures with 400", async () => {
    const { payload } = await processedEvent();
    const now = Math.floor(Date.now() / 1000);
    const attempts: [string, string | undefined][] = [
      ["missing", undefined],
      ["empty", ""],
      ["forged with another secret", sign(payload, "whsec_forged")],
      ["forged with the admin token", sign(payload, SECRETS.ADMIN_TOKEN)],
      ["stale (10 minutes old)", sign(payload, SECRETS.STRIPE_WEBHOOK_SECRET, now - 600)],
      ["stale (just past the 300 s tolerance)", sign(payload, SECRETS.STRIPE_WEBHOOK_SECRET, now - 330)],
      ["no timestamp", `v1=${"0".repeat(64)}`],
      ["no v1", `t=${now}`],
      ["only a v0 scheme", `t=${now},v0=${"0".repeat(64)}`],
      ["garbage", "💥".repeat(10)],
      [
        "8 KB of signatures",
        `t=${now},${Array.from({ length: 120 }, () => `v1=${"a".repeat(64)}`).join(",")}`,
      ],
    ];
    for (const [what, signature] of attempts) {
      const header = signature === undefined ? undefined : Buffer.from(signature).toString("latin1");
      expectRefusal(await post(payload, header), "api", [400], what);
    }
    // A valid signature over a payload changed after signing.
    const signature = sign(payload, SECRETS.STRIPE_WEBHOOK_SECRET);
    const tampered = payload.replace(/"livemode":\s*false/, '"livemode": true');
    expect(tampered).not.toBe(payload);
    expectRefusal(await post(tampered, signature), "api", [400], "tampered after signing");
  });

  it("refuses correctly signed bodies that are not Stripe events with 400", async () => {
    for (const payload of [
      "{}",
      '{"id":"evt_1","object":"event"}',
      '{"a":',
      "[]",
      "null",
      deepArray(10_000),
      deepObject(10_000),
      `{"id":"evt_x","object":"event","type":"customer.created","created":1e400,"livemode":false,"data":{"object":{}}}`,
      // Event ids no inbox key or FIFO deduplication id can hold.
      ...[`evt_${"a".repeat(2048)}`, "evt_\u0000", "evt_\ud800", "evt_a.b"].map(
        (id) =>
          `{"id":${JSON.stringify(id)},"object":"event","type":"customer.created","created":1,"livemode":false,"data":{"object":{"id":"cus_x"}}}`,
      ),
    ]) {
      const answer = await post(payload, sign(payload, SECRETS.STRIPE_WEBHOOK_SECRET));
      expectRefusal(answer, "api", [400], payload.slice(0, 60));
    }
  });

  it("answers a replayed event id 200 and changes nothing, even with other content", async () => {
    const event = await processedEvent();
    const again = await post(event.payload, sign(event.payload, SECRETS.STRIPE_WEBHOOK_SECRET));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ received: true, eventId: event.eventId, outcome: "duplicate" });
    const altered = JSON.stringify({ ...JSON.parse(event.payload), type: "customer.subscription.deleted" });
    const twin = await post(altered, sign(altered, SECRETS.STRIPE_WEBHOOK_SECRET));
    expect(twin.status).toBe(200);
    expect(twin.json).toEqual({ received: true, eventId: event.eventId, outcome: "duplicate" });
  });

  checkStore();
});

describe("after every attack", () => {
  it("the store is exactly as before the first one", async () => {
    expect(await quiescentSnapshot(stack)).toEqual(baseline);
  });

  it("a deep body on a route that takes none is ignored, never a 5xx", async () => {
    // Last, because such a route does its work (a listings sync writes its time).
    for (const route of routes.filter((r) => !readsBody(r))) {
      for (const body of [deepArray(10_000), deepObject(10_000)]) {
        expectNoServerError(
          await send(route, fillPath(route.path), body),
          route.errorFormat,
          routeKey(route),
        );
      }
    }
  });

  it("log lines carry the ids they are about (event, customer, integration, request)", () => {
    const records = output.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    const of = (service: string) => records.filter((r) => r.service === `integrator-licensing.${service}`);
    expect(
      of("provision-worker").some(
        (r) =>
          r.customerId === customerId && typeof r.eventId === "string" && typeof r.eventType === "string",
      ),
    ).toBe(true);
    expect(
      of("integrator-extension").some(
        (r) => r.message === "extension function called" && typeof r.integrationId === "string",
      ),
    ).toBe(true);
    // A refused request about a customer (the odd path values above) names it and the request.
    expect(
      of("admin").some(
        (r) =>
          r.message === "request refused" &&
          typeof r.customerId === "string" &&
          typeof r.requestId === "string",
      ),
    ).toBe(true);
  });

  it("no secret appears in any log line of the run or in any answer", async () => {
    await quiescentSnapshot(stack);
    const lines = output.lines;
    // The capture saw the in-process handlers and the worker processes.
    expect(lines.some((line) => line.includes('"service":"integrator-licensing.admin"'))).toBe(true);
    expect(lines.some((line) => line.includes('"service":"integrator-licensing.provision-worker"'))).toBe(
      true,
    );
    expect(lines.some((line) => line.includes('"service":"integrator-licensing.integrator-extension"'))).toBe(
      true,
    );
    const secrets = { ...SECRETS, STRIPE_SECRET_KEY };
    const texts = [
      ...lines.map((text, i) => ({ where: `log line ${i}`, text })),
      ...client.answers.map(({ request, answer }) => ({
        where: `answer to ${request.method} ${request.path.slice(0, 80)}`,
        text: `${JSON.stringify(answer.headers)}\n${answer.text}`,
      })),
    ];
    expect(client.answers.length).toBeGreaterThan(500);
    expect(secretSightings(texts, secrets)).toEqual([]);
  });
});
