import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenApiDocument } from "#lib/openapi/document.ts";
import { methodsOf, type RouteDefinition, routeKey, routes, takesBody } from "#lib/routes.ts";
import { CONNECTOR, purchase } from "#test/helpers/admin-api.ts";
import {
  fillPath,
  pathParams,
  queryKeys,
  type RawAnswer,
  RawClient,
  type RawRequest,
} from "#test/helpers/hostile.ts";
import { simControl, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";
import { makeEvent } from "#test/helpers/stripe-fixtures.ts";

/**
 * The OpenAPI document says exactly what the API does (docs/architecture.md §6): every route of the
 * local stack gets good and bad requests, and each answer's status must be declared for that
 * operation (a GET's HEAD included), its body must validate against the declared schema (none for
 * a HEAD, a 304 or a response declared without content) and every header the response declares
 * must be there. The document checked is the one the stack serves.
 */

let stack: TestStack;
let client: RawClient;
let document: OpenApiDocument;
let ajv: Ajv2020;
let ids: SampleIds;

/** Things the good requests are about, made through the stack before the samples run. */
interface SampleIds {
  customerId: string;
  processedEventId: string;
  ignoredEventId: string;
  runId: string;
  /** A dead-letter redrive job's id. */
  redriveJobId: string;
  templateId: string;
  webhookSecret: string;
  /** An operator's token, and a console session of theirs (cookie and CSRF token). */
  operatorToken: string;
  sessionCookie: string;
  csrfToken: string;
}

const JSON_TYPE = { "content-type": "application/json" };
const SHOP = "http://localhost:3000";

/** The token a route takes (none for public and Stripe-signed routes). */
const credentials = (route: RouteDefinition): Record<string, string> =>
  route.auth === "admin"
    ? { authorization: `Bearer ${stack.adminToken}` }
    : route.auth === "system"
      ? { authorization: `Bearer ${stack.env.INTEGRATOR_SYSTEM_TOKEN}` }
      : {};

const json = (body: unknown) => ({ headers: JSON_TYPE, body: JSON.stringify(body) });

/** A signed Stripe delivery of `event`, as Stripe sends it. */
function signed(event: object): Pick<RawRequest, "headers" | "body"> {
  const payload = JSON.stringify(event);
  const signature = stack.stripe.webhooks.generateTestHeaderString({ payload, secret: ids.webhookSecret });
  return { headers: { ...JSON_TYPE, "stripe-signature": signature }, body: payload };
}

/** A request to send; `status`, when given, is the one answer that is right for it. */
type Sample = Omit<RawRequest, "method"> & { what: string; status?: number };

/**
 * Each route's own requests, good and bad; the shared refusals (credentials, body limit, JSON,
 * odd query and path values) are added for every route by `sharedSamples`.
 */
const ROUTE_SAMPLES: Record<string, () => Sample[]> = {
  "POST /webhooks/stripe": () => [
    { what: "an event of a type nothing handles", path: "/webhooks/stripe", ...signed(otherEvent()) },
    {
      what: "the same event again",
      path: "/webhooks/stripe",
      ...signed(otherEvent(ids.ignoredEventId)),
    },
    { what: "no signature", path: "/webhooks/stripe", ...json(otherEvent()), status: 400 },
    { what: "signed, not an event", path: "/webhooks/stripe", ...signed({ hello: "world" }), status: 400 },
  ],
  "GET /health": () => [{ what: "health", path: "/health" }],
  "GET /marketplace/connectors": () => [
    { what: "the listings", path: "/marketplace/connectors" },
    { what: "unchanged", path: "/marketplace/connectors", headers: { "if-none-match": "*" } },
  ],
  "GET /marketplace/connectors/{key}": () => [
    { what: "a listed connector", path: `/marketplace/connectors/${CONNECTOR.key}` },
    {
      what: "unchanged",
      path: `/marketplace/connectors/${CONNECTOR.key}`,
      headers: { "if-none-match": "*" },
    },
    { what: "an unlisted key", path: "/marketplace/connectors/nothing-here", status: 404 },
  ],
  "GET /marketplace/templates": () => [
    { what: "the first page", path: "/marketplace/templates" },
    { what: "a page of one", path: "/marketplace/templates?limit=1&application=shopify" },
    { what: "unchanged", path: "/marketplace/templates", headers: { "if-none-match": "*" } },
  ],
  "GET /marketplace/templates/{id}": () => [
    { what: "a published template", path: `/marketplace/templates/${ids.templateId}` },
    { what: "an unknown id", path: "/marketplace/templates/tpl_nothing", status: 404 },
  ],
  "POST /checkout/sessions": () => [
    {
      what: "an edition",
      path: "/checkout/sessions",
      ...json({
        connector: CONNECTOR.key,
        edition: "standard",
        integratorEmail: "conformance@buyer.example",
        successUrl: `${SHOP}/thanks`,
        cancelUrl: `${SHOP}/pricing`,
      }),
    },
    {
      what: "an unknown edition and a foreign redirect",
      status: 400,
      path: "/checkout/sessions",
      ...json({
        connector: CONNECTOR.key,
        edition: "gold",
        integratorEmail: "conformance@buyer.example",
        successUrl: "https://evil.example/thanks",
        cancelUrl: `${SHOP}/pricing`,
      }),
    },
  ],
  "POST /admin/listings/sync": () => [
    { what: "no body", path: "/admin/listings/sync", status: 200 },
    { what: "an empty object", path: "/admin/listings/sync", ...json({}), status: 200 },
    { what: "options it does not take", path: "/admin/listings/sync", ...json({ force: true }), status: 400 },
  ],
  "GET /openapi.json": () => [
    { what: "the document", path: "/openapi.json" },
    { what: "unchanged", path: "/openapi.json", headers: { "if-none-match": "*" } },
  ],
  "GET /docs": () => [
    { what: "the reference page", path: "/docs", status: 200 },
    { what: "unchanged", path: "/docs", headers: { "if-none-match": "*" }, status: 304 },
  ],
  "GET /docs/app.js": () => [
    { what: "its script", path: "/docs/app.js", status: 200 },
    { what: "unchanged", path: "/docs/app.js", headers: { "if-none-match": "*" }, status: 304 },
  ],
  "GET /docs/app.css": () => [{ what: "its style sheet", path: "/docs/app.css", status: 200 }],
  "POST /integrator/function": () => [
    {
      what: "a hook",
      status: 200,
      path: "/integrator/function",
      ...json({
        _connectorId: CONNECTOR.id,
        type: "hook",
        function: "preSavePageOrders",
        options: { data: [{ id: 1 }, { id: 2, test: true }], errors: [] },
      }),
    },
    {
      what: "an unknown function",
      status: 422,
      path: "/integrator/function",
      ...json({ _connectorId: CONNECTOR.id, function: "nothing", options: {} }),
    },
    { what: "no envelope", path: "/integrator/function", ...json({}), status: 422 },
  ],
  "GET /integrator/healthCheck": () => [{ what: "health", path: "/integrator/healthCheck" }],
  "GET /admin/customers/{customerId}": () => [
    { what: "a customer", path: `/admin/customers/${ids.customerId}` },
    { what: "an unknown customer", path: "/admin/customers/cus_nobody", status: 404 },
  ],
  "GET /admin/customers": () => [
    { what: "a customer by id", path: `/admin/customers?q=${ids.customerId}` },
    { what: "by email, one a page", path: "/admin/customers?q=Conformance%40Nobody.example&limit=1" },
    { what: "no q", path: "/admin/customers", status: 400 },
    { what: "a q over 254 characters", path: `/admin/customers?q=${"a".repeat(255)}`, status: 400 },
    { what: "a made-up cursor", path: "/admin/customers?q=x&cursor=abc.def", status: 400 },
  ],
  "GET /admin/overview": () => [{ what: "the overview", path: "/admin/overview" }],
  "POST /admin/customers/{customerId}/reconcile": () => [
    {
      what: "a dry run",
      path: `/admin/customers/${ids.customerId}/reconcile`,
      ...json({ dryRun: true }),
      status: 200,
    },
    {
      what: "a repair",
      path: `/admin/customers/${ids.customerId}/reconcile`,
      ...json({ dryRun: false }),
      status: 200,
    },
    {
      what: "an unknown customer",
      path: "/admin/customers/cus_nobody/reconcile",
      ...json({ dryRun: true }),
      status: 404,
    },
    { what: "no dryRun", path: `/admin/customers/${ids.customerId}/reconcile`, ...json({}), status: 400 },
  ],
  "GET /admin/licenses": () => [
    { what: "every license", path: "/admin/licenses" },
    {
      what: "active ones, one a page",
      path: `/admin/licenses?state=active&limit=1&connector=${CONNECTOR.key}`,
    },
    { what: "an unknown connector", path: "/admin/licenses?connector=nothing-here", status: 400 },
  ],
  "POST /admin/customers/{customerId}/licenses/{connector}/transfer": () => [
    {
      what: "to another email",
      path: `/admin/customers/${ids.customerId}/licenses/${CONNECTOR.key}/transfer`,
      ...json({ email: "moved@conformance.example" }),
    },
    {
      what: "an unknown customer",
      path: `/admin/customers/cus_nobody/licenses/${CONNECTOR.key}/transfer`,
      ...json({ email: "moved@conformance.example" }),
    },
    {
      what: "no email",
      status: 400,
      path: `/admin/customers/${ids.customerId}/licenses/${CONNECTOR.key}/transfer`,
      ...json({}),
    },
  ],
  "GET /admin/events": () => [
    { what: "the inbox", path: "/admin/events" },
    { what: "processed ones, one a page", path: "/admin/events?status=processed&limit=1" },
  ],
  "POST /admin/events/{eventId}/replay": () => [
    { what: "a processed event", path: `/admin/events/${ids.processedEventId}/replay` },
    {
      what: "an ignored event",
      path: `/admin/events/${ids.ignoredEventId}/replay`,
      ...json({}),
      status: 409,
    },
    { what: "an unknown event", path: "/admin/events/evt_nothing/replay", status: 404 },
    {
      what: "options it does not take",
      path: `/admin/events/${ids.processedEventId}/replay`,
      ...json({ all: true }),
      status: 400,
    },
  ],
  "GET /admin/dlq": () => [
    { what: "the dead letters", path: "/admin/dlq" },
    { what: "a few", path: "/admin/dlq?limit=5" },
  ],
  "POST /admin/dlq/redrive": () => [
    { what: "no body", path: "/admin/dlq/redrive", status: 202 },
    { what: "options it does not take", path: "/admin/dlq/redrive", ...json({ limit: 1 }), status: 400 },
  ],
  "GET /admin/dlq/redrive/{jobId}": () => [
    { what: "a redrive job", path: `/admin/dlq/redrive/${ids.redriveJobId}` },
    { what: "an unknown job", path: "/admin/dlq/redrive/no-such-job", status: 404 },
  ],
  "POST /admin/reconcile": () => [
    { what: "a dry run", path: "/admin/reconcile", ...json({ dryRun: true }), status: 202 },
    { what: "a typo", path: "/admin/reconcile", ...json({ dryrun: true }), status: 400 },
  ],
  "GET /admin/reconcile": () => [
    { what: "the runs", path: "/admin/reconcile" },
    { what: "one a page", path: "/admin/reconcile?limit=1" },
  ],
  "GET /admin/reconcile/{runId}": () => [
    { what: "a run", path: `/admin/reconcile/${ids.runId}` },
    { what: "an unknown run", path: "/admin/reconcile/no-such-run", status: 404 },
  ],
  "GET /admin/catalog": () => [{ what: "the catalog", path: "/admin/catalog" }],
  "POST /admin/billing/portal-sessions": () => [
    {
      what: "a customer",
      path: "/admin/billing/portal-sessions",
      ...json({ customerId: ids.customerId, returnUrl: `${SHOP}/account` }),
    },
    {
      what: "an unknown customer",
      path: "/admin/billing/portal-sessions",
      ...json({ customerId: "cus_nobody", returnUrl: `${SHOP}/account` }),
    },
    {
      what: "a foreign return URL",
      status: 400,
      path: "/admin/billing/portal-sessions",
      ...json({ customerId: ids.customerId, returnUrl: "https://evil.example/account" }),
    },
  ],
  "POST /admin/operators": () => [
    {
      what: "a viewer",
      path: "/admin/operators",
      ...json({ name: "conformance-viewer", role: "viewer" }),
      status: 201,
    },
    {
      what: "the same name again",
      path: "/admin/operators",
      ...json({ name: "conformance-viewer", role: "admin" }),
      status: 409,
    },
    {
      what: "a role that does not exist",
      path: "/admin/operators",
      ...json({ name: "x", role: "owner" }),
      status: 400,
    },
    {
      what: "an operator's token (role operator, not admin)",
      path: "/admin/operators",
      ...json({ name: "y", role: "viewer" }),
      headers: { ...JSON_TYPE, authorization: `Bearer ${ids.operatorToken}` },
      status: 403,
    },
  ],
  "GET /admin/operators": () => [{ what: "the operators", path: "/admin/operators", status: 200 }],
  "DELETE /admin/operators/{name}": () => [
    { what: "the viewer made above", path: "/admin/operators/conformance-viewer", status: 204 },
    { what: "an unknown operator", path: "/admin/operators/nobody-here", status: 404 },
    { what: "a bad name", path: "/admin/operators/Not%20A%20Name", status: 400 },
  ],
  "GET /console": () => [
    { what: "the page", path: "/console", status: 200 },
    { what: "unchanged", path: "/console", headers: { "if-none-match": "*" }, status: 304 },
  ],
  "GET /console/app.js": () => [
    { what: "the script", path: "/console/app.js", status: 200 },
    { what: "unchanged", path: "/console/app.js", headers: { "if-none-match": "*" }, status: 304 },
  ],
  "GET /console/app.css": () => [{ what: "the style sheet", path: "/console/app.css", status: 200 }],
  "POST /console/session": () => [
    { what: "a wrong token", path: "/console/session", ...json({ token: "wrong" }), status: 401 },
    { what: "no token", path: "/console/session", ...json({}), status: 400 },
    {
      what: "an operator's token",
      path: "/console/session",
      ...json({ token: ids.operatorToken }),
      status: 201,
    },
  ],
  "GET /console/session": () => [
    { what: "a session", path: "/console/session", headers: { cookie: ids.sessionCookie }, status: 200 },
    { what: "no session", path: "/console/session", status: 401 },
  ],
  "DELETE /console/session": (): Sample[] => [
    {
      what: "a session without CSRF",
      path: "/console/session",
      headers: { cookie: ids.sessionCookie },
      status: 403,
    },
    {
      what: "sign-out",
      path: "/console/session",
      headers: { cookie: ids.sessionCookie, "x-csrf-token": ids.csrfToken },
      status: 204,
    },
    { what: "no session", path: "/console/session", status: 204 },
  ],
  "GET /admin/installs": () => [
    { what: "every install", path: "/admin/installs" },
    { what: "one connector, one a page", path: `/admin/installs?connector=${CONNECTOR.key}&limit=1` },
    { what: "an unknown connector", path: "/admin/installs?connector=nothing-here", status: 400 },
  ],
};

/** An event of a type nothing handles: recorded `ignored`, never queued. */
function otherEvent(id?: string) {
  const event = makeEvent("product.created", { id: "prod_conformance", object: "product" }, id ? { id } : {});
  return { ...event, created: Math.floor(Date.now() / 1000) };
}

/** The refusals the shared HTTP stack gives every route: credentials, body limit, JSON, query and path values. */
function sharedSamples(route: RouteDefinition): Sample[] {
  const path = fillPath(route.path);
  const samples: Sample[] = [];
  if (route.auth === "admin" || route.auth === "system") {
    samples.push({ what: "no token", path, headers: { authorization: "" }, status: 401 });
    const wrong = route.auth === "admin" ? 403 : 401;
    samples.push({ what: "a wrong token", path, headers: { authorization: "Bearer wrong" }, status: wrong });
  }
  const padding = "x".repeat(route.bodyLimit);
  samples.push({ what: "a body over the limit", path, ...json({ padding }), status: 413 });
  if (takesBody(route) && !route.rawBody) {
    samples.push({ what: "malformed JSON", path, headers: JSON_TYPE, body: '{"a":', status: 400 });
    const text = { "content-type": "text/plain" };
    samples.push({ what: "not JSON", path, headers: text, body: "a=1", status: 415 });
  }
  if (!takesBody(route)) samples.push({ what: "a body it ignores", path, headers: JSON_TYPE, body: '{"a":' });
  for (const key of queryKeys(route).filter((name) => name !== "limit"))
    samples.push({ what: `${key}=%00`, path: `${path}?${key}=%00` });
  if (queryKeys(route).includes("limit")) {
    samples.push({ what: "limit=0", path: `${path}?limit=0`, status: 400 });
    samples.push({ what: "limit=many", path: `${path}?limit=many`, status: 400 });
  }
  for (const name of pathParams(route.path))
    samples.push({ what: `${name} with a NUL`, path: fillPath(route.path, { [name]: "%00" }), status: 400 });
  return samples;
}

/** `openapi#/paths/…/<method>/responses/<status>/content/application~1json/schema`, for ajv. */
const schemaRef = (template: string, method: string, status: number) =>
  `openapi#/paths/${template.replaceAll("~", "~0").replaceAll("/", "~1")}/${method}/responses/${status}/content/application~1json/schema`;

/** The problems with an answer to `method` on a route's path, against the document; none when it conforms. */
function problemsWith(route: RouteDefinition, method: string, answer: RawAnswer): string[] {
  const op = document.paths[route.path]?.[method.toLowerCase()] as
    | { responses: Record<string, { content?: unknown; headers?: Record<string, unknown> }> }
    | undefined;
  if (!op) return [`${method} ${route.path} is not in the document`];
  const declared = op.responses[String(answer.status)];
  if (!declared) return [`${answer.status} is not declared (${answer.text.slice(0, 200)})`];
  const problems: string[] = [];
  for (const name of Object.keys(declared.headers ?? {}))
    if (answer.headers[name.toLowerCase()] === undefined) problems.push(`header ${name} is missing`);
  if (method === "HEAD" || !declared.content) {
    if (answer.text !== "") problems.push(`a body where none is declared: ${answer.text.slice(0, 200)}`);
    return problems;
  }
  const mediaTypes = Object.keys(declared.content as Record<string, unknown>);
  if (!mediaTypes.includes("application/json")) {
    // A page or an asset: its declared media type, and text.
    const type = String(answer.headers["content-type"]).split(";")[0] ?? "";
    if (!mediaTypes.some((declaredType) => declaredType.split("/")[0] === type.split("/")[0]))
      problems.push(`content-type ${answer.headers["content-type"]}, not ${mediaTypes.join(" or ")}`);
    return problems;
  }
  if (!/^application\/json/.test(String(answer.headers["content-type"])))
    problems.push(`content-type ${answer.headers["content-type"]}`);
  const validate = ajv.getSchema(schemaRef(route.path, method.toLowerCase(), answer.status));
  if (!validate) return [...problems, "no schema to validate against"];
  if (!validate(answer.json))
    problems.push(`body does not match: ${ajv.errorsText(validate.errors)} in ${answer.text.slice(0, 300)}`);
  return problems;
}

beforeAll(async () => {
  stack = await startTestStack();
  client = new RawClient(stack.urls.api);
  const served = await client.send({ method: "GET", path: "/openapi.json" });
  document = served.json as OpenApiDocument;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  formats.default(ajv);
  ajv.addSchema(document, "openapi");

  const { customer } = await purchase(stack, "conformance");
  const published = await simControl<{ _id: string }>(stack.integratorOrigin, "POST", "/_sim/templates", {
    name: "Conformance orders",
    applications: ["Shopify"],
    published: true,
  });
  const events = await client.send({
    method: "GET",
    path: "/admin/events?status=processed&limit=1",
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  const processed = (events.json as { data: { eventId: string }[] }).data[0];
  const run = await client.send({
    method: "POST",
    path: "/admin/reconcile",
    headers: { authorization: `Bearer ${stack.adminToken}`, ...JSON_TYPE },
    body: '{"dryRun":true}',
  });
  const redrive = await client.send({
    method: "POST",
    path: "/admin/dlq/redrive",
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  const operator = await client.send({
    method: "POST",
    path: "/admin/operators",
    headers: { authorization: `Bearer ${stack.adminToken}`, ...JSON_TYPE },
    body: '{"name":"conformance","role":"operator"}',
  });
  const operatorToken = (operator.json as { token: string }).token;
  const signIn = await client.send({
    method: "POST",
    path: "/console/session",
    headers: JSON_TYPE,
    body: JSON.stringify({ token: operatorToken }),
  });
  const setCookie = signIn.headers["set-cookie"];
  ids = {
    operatorToken,
    sessionCookie: String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(";")[0] ?? "",
    csrfToken: (signIn.json as { csrfToken: string }).csrfToken,
    customerId: customer.id,
    processedEventId: processed?.eventId ?? "",
    ignoredEventId: `evt_conformance_${Date.now().toString(36)}`,
    runId: (run.json as { runId: string }).runId,
    redriveJobId: (redrive.json as { jobId: string }).jobId,
    templateId: published._id,
    webhookSecret: stack.env.STRIPE_WEBHOOK_SECRET ?? "",
  };
  const ignored = await client.send({
    method: "POST",
    path: "/webhooks/stripe",
    ...signed(otherEvent(ids.ignoredEventId)),
  });
  if (!ids.processedEventId || !ids.templateId || ignored.status !== 200)
    throw new Error(`samples not ready: ${JSON.stringify(ids)} ${ignored.status} ${ignored.text}`);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe("the OpenAPI document against the running API", () => {
  it("has samples for every route of the table", () => {
    expect(Object.keys(ROUTE_SAMPLES).sort()).toEqual(routes.map(routeKey).sort());
  });

  it.each(routes.map((route) => [routeKey(route), route] as const))(
    "%s answers only what the document declares",
    async (key, route) => {
      const own = ROUTE_SAMPLES[key]?.() ?? [];
      const problems: string[] = [];
      const statuses = new Set<number>();
      for (const sample of [...own, ...sharedSamples(route)]) {
        const headers = { ...credentials(route), ...sample.headers };
        if (headers.authorization === "") delete headers.authorization;
        for (const method of methodsOf(route)) {
          if (method === "HEAD" && sample.body !== undefined) continue;
          const answer = await client.send({ ...sample, method, headers });
          if (own.includes(sample) && method === route.method) statuses.add(answer.status);
          const wrongStatus = sample.status !== undefined && answer.status !== sample.status;
          // Every operation declares a 500 (a function failing outright): a sample never expects one.
          const failed = sample.status === undefined && answer.status >= 500;
          for (const problem of [
            ...(wrongStatus ? [`${answer.status}, not ${sample.status}`] : []),
            ...(failed ? [`${answer.status}: the request failed`] : []),
            ...problemsWith(route, method, answer),
          ])
            problems.push(`${method} ${sample.path.slice(0, 120)} (${sample.what}): ${problem}`);
        }
      }
      expect(problems).toEqual([]);
      // The route's own samples reach its success answer, so its schema is checked too.
      expect(
        [...statuses].some((status) => status < 300),
        `${key} answered ${[...statuses]}`,
      ).toBe(true);
    },
    60_000,
  );
});
