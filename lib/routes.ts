import * as z from "zod/mini";
import type { Role } from "./access/roles.ts";
import {
  operatorCreated,
  operatorListQuery,
  operatorListResponse,
  operatorParams,
  operatorRequest,
  sessionResponse,
  signInRequest,
} from "./access/schemas.ts";
import {
  catalogResponse,
  customerParams,
  customerReconcileRequest,
  customerReconcileResponse,
  customerSearchQuery,
  customerSearchResponse,
  customerViewSchema,
  dlqListResponse,
  dlqQuery,
  eventListQuery,
  eventListResponse,
  eventParams,
  licenseListQuery,
  licenseListResponse,
  licenseRecordSchema,
  overviewResponse,
  portalSessionRequest,
  portalSessionResponse,
  reconcileAccepted,
  reconcileRequest,
  reconcileRunListResponse,
  reconcileRunSchema,
  redriveAccepted,
  redriveJobParams,
  redriveJobSchema,
  replayResponse,
  runListQuery,
  runParams,
  transferBody,
  transferParams,
} from "./admin/schemas.ts";
import { extensionCallBody } from "./extension/call-schema.ts";
import { installListResponse, installsQuery, stackHealthResponse } from "./extension/install-schemas.ts";
import type { FunctionName } from "./functions.ts";
import type { AuthKind, ErrorFormat, HttpMethod } from "./http/types.ts";
import {
  checkoutRequestSchema,
  checkoutResponseSchema,
  connectorKeyParams,
  connectorListingSchema,
  connectorListResponse,
  listingsSyncResponseSchema,
  templateIdParams,
  templateListingSchema,
  templateListResponse,
  templateQuery,
} from "./marketplace/schemas.ts";
import { API_ERROR_CODES } from "./openapi/error-codes.ts";
import { DRIFT_COUNT_KEYS } from "./reconcile/drift-kinds.ts";

/**
 * The single route table: the local gateway, CDK's HTTP API routes and the OpenAPI document are
 * all built from it. Handlers are named by function (see lib/functions.ts), never imported here.
 */
export interface RouteDefinition {
  method: HttpMethod;
  /** API Gateway path template, e.g. `/admin/customers/{customerId}`. */
  path: string;
  function: FunctionName;
  auth: AuthKind;
  /**
   * The least role an `admin` route needs (lib/access/roles.ts), checked before the body is read:
   * by default `viewer` to read (GET) and `operator` to act; operator management needs `admin`.
   */
  role?: Role;
  /** Largest accepted body in bytes (after base64 decoding); more → 413. */
  bodyLimit: number;
  /** Keep the body as received (no JSON parsing): signature checks need the exact bytes. */
  rawBody: boolean;
  errorFormat: ErrorFormat;
  /** Answer browsers from `CORS_ALLOWED_ORIGINS`. */
  cors: boolean;
  summary: string;
  request: {
    /** The JSON body, validated by the shared HTTP stack (400 with details). */
    body?: z.ZodMiniType;
    /** A JSON body the handler checks itself, with its own codes: documented, parsed, never validated here. */
    handlerCheckedBody?: z.ZodMiniType;
    query?: z.ZodMiniType;
    params?: z.ZodMiniType;
  };
  /** Every status the route itself answers; the shared HTTP stack's own (auth, limits, 500) are added to the document. */
  responses: Record<number, RouteResponse>;
  /**
   * What the OpenAPI document shows as this operation's example: a request body, and the body of
   * its success answer (the route's 200, 201 or 202). test/unit/openapi-examples.test.ts validates
   * both against the document's schemas, so an example cannot drift from what the route takes and answers.
   */
  example?: RouteExample;
}

export interface RouteExample {
  request?: unknown;
  response?: unknown;
}

export interface RouteResponse {
  description: string;
  schema?: z.ZodMiniType;
  /** The media type of a body that is not JSON (the console's page and assets). */
  contentType?: string;
  /** Response headers that come with this status, by name, with what they say. */
  headers?: Record<string, string>;
}

export const KB = 1024;
export const MB = 1024 * KB;
const DEFAULT_BODY_LIMIT = 1 * MB;

const healthResponse = z.object({
  status: z.enum(["ok", "degraded"]),
  // `not_configured`: a secret (named) still holding its placeholder or of the wrong form.
  checks: z.record(z.string(), z.enum(["ok", "failing", "not_configured"])),
});

type RouteInputDefinition = Partial<RouteDefinition> &
  Pick<RouteDefinition, "method" | "path" | "function" | "summary" | "responses">;

function route(definition: RouteInputDefinition): RouteDefinition {
  return {
    auth: "public",
    bodyLimit: DEFAULT_BODY_LIMIT,
    rawBody: false,
    errorFormat: "api",
    cors: false,
    request: {},
    ...definition,
  };
}

/**
 * What a POST that takes no input accepts: no body, or `{}` (what many clients send for "nothing").
 * Anything else is refused (400), never silently ignored.
 */
const noInput = z.optional(z.strictObject({}));

const webhookReceipt = z.object({
  received: z.literal(true),
  eventId: z.string(),
  outcome: z.enum(["enqueued", "duplicate", "ignored"]),
});
const apiError = z.object({
  error: z
    .object({
      // Every code the API answers (lib/openapi/error-codes.ts; a test finds each one the code uses).
      code: z.enum(API_ERROR_CODES).check(z.describe("Stable and machine-readable: what went wrong.")),
      message: z.string().check(z.describe("What went wrong, for people; never internals.")),
      details: z.optional(
        z
          .array(z.unknown())
          .check(
            z.describe(
              "More about the error: each problem of an invalid input (`{path, message, code?}`), or what holds a 409 (the run or transfer working).",
            ),
          ),
      ),
    })
    .check(z.describe("The error: a code for programs, a message for people.")),
});
/** The error bodies of the two formats (docs/architecture.md §6): the OpenAPI document's `ApiError` and `IntegratorError`. */
export const apiErrorBody = apiError;
export const integratorErrorBody = z.object({
  errors: z.array(z.object({ code: z.string(), message: z.string() })),
});

/*
 * Examples of the OpenAPI document, one per operation (`example` on each route): a request body
 * and the success answer. test/unit/openapi-examples.test.ts validates each against the schemas.
 */
const EX_CUSTOMER = "cus_Qx7Lk2Ab9Example";
const EX_SUBSCRIPTION = "sub_1QxExampleA2b3C4";
const EX_EVENT = "evt_1QxExampleD5e6F7";
const EX_CONNECTOR = { connectorKey: "shopify-netsuite", connectorId: "65f1c0a2b7d94e3a1c8b7d20" };
const EX_LICENSE_ID = "6b09f3e8fecb848ad311168c";
const EX_RUN = "20261127T211951Z-a3af1d";
const EX_NOW = "2026-11-27T21:19:51.000Z";
const EX_TOKEN = "ilop.YW5h.q3W2bNwQ0aJ7pFZc8sVhY1xR4mT6uE9kL5oP2dG0iHs";
const exPrice = (id: string, amount: number) => ({
  id,
  lookupKey: null,
  amount,
  currency: "usd",
  interval: "month",
  intervalCount: 1,
  trialDays: 30,
});
const EX_LISTING = {
  key: EX_CONNECTOR.connectorKey,
  connectorId: EX_CONNECTOR.connectorId,
  name: "Shopify ↔ NetSuite",
  description: "Syncs Shopify orders, customers, products, inventory and fulfillments with NetSuite.",
  applications: ["Shopify", "NetSuite"],
  trialDays: 30,
  editions: [{ key: "standard", name: "Standard", prices: [exPrice("price_std_month", 9900)] }],
  addons: [
    {
      key: "store",
      name: "Additional Shopify store",
      type: "store",
      maxQuantity: 100,
      prices: [exPrice("price_store_month", 2900)],
    },
  ],
};
const EX_TEMPLATE = {
  id: "6650c1d2e3f4a5b6c7d8e9f0",
  name: "Shopify orders to NetSuite",
  applications: ["Shopify", "NetSuite"],
  lastModified: EX_NOW,
};
const EX_LICENSE = {
  customerId: EX_CUSTOMER,
  ...EX_CONNECTOR,
  licenseId: EX_LICENSE_ID,
  email: "ops@buyer.example",
  expires: "2026-12-30T21:19:51.000Z",
  opts: {
    connectorEdition: "premium",
    addonLicenses: [{ type: "store", licenses: [{ addOnEdition: "standard" }] }],
  },
  state: "active",
  subscriptionId: EX_SUBSCRIPTION,
  rev: 3,
  updatedAt: EX_NOW,
};
const EX_EVENT_SUMMARY = {
  eventId: EX_EVENT,
  type: "invoice.paid",
  customerId: EX_CUSTOMER,
  groupId: EX_CUSTOMER,
  status: "processed",
  attempts: 0,
  created: 1764278390,
  livemode: false,
  receivedAt: EX_NOW,
  updatedAt: EX_NOW,
};
const EX_FINDING = {
  kind: "wrongExpiry",
  detail: "expires 2026-12-01T00:00:00.000Z; should be 2026-12-30T21:19:51.000Z",
  licenseId: EX_LICENSE_ID,
  subscriptionId: EX_SUBSCRIPTION,
};
const EX_RUN_SUMMARY = {
  runId: EX_RUN,
  state: "done",
  dryRun: true,
  trigger: "admin",
  requestedBy: "operator:ana",
  startedAt: EX_NOW,
  finishedAt: "2026-11-27T21:19:53.000Z",
  counts: { ...Object.fromEntries(DRIFT_COUNT_KEYS.map((key) => [key, 0])), checked: 2, wrongExpiry: 1 },
  itemCount: 1,
};
const EX_INSTALL = {
  integrationId: "66a1b2c3d4e5f60718293a4b",
  ...EX_CONNECTOR,
  licenseId: EX_LICENSE_ID,
  email: "ops@buyer.example",
  customerId: EX_CUSTOMER,
  edition: "premium",
  version: "1.0.0",
  state: "installed",
  createdAt: EX_NOW,
  installedAt: EX_NOW,
  updatedAt: EX_NOW,
};
const EX_SESSION = {
  operator: { name: "ana", role: "operator" },
  csrfToken: "Jf3kQ9zX1mB7vN2cR8tY4wL6pA0sD5eG",
  expiresAt: "2026-11-28T05:19:51.000Z",
};
const EX_PAGE = <T>(item: T) => ({ data: [item] });

export const routes: readonly RouteDefinition[] = [
  route({
    method: "POST",
    path: "/webhooks/stripe",
    function: "stripe-webhook",
    auth: "stripe",
    bodyLimit: 256 * KB,
    rawBody: true,
    summary:
      "Receives Stripe events: verifies the signature on the raw body, records the event once and queues it.",
    responses: {
      200: { description: "Recorded (or a duplicate, or ignored).", schema: webhookReceipt },
      400: { description: "Missing, forged or stale signature, or not a Stripe event.", schema: apiError },
      413: { description: "Body over 256 KB.", schema: apiError },
      503: {
        description: "STRIPE_WEBHOOK_SECRET is not configured yet (`not_configured`): Stripe retries later.",
        schema: apiError,
      },
    },
    example: {
      request: {
        id: EX_EVENT,
        object: "event",
        type: "invoice.paid",
        created: 1764278390,
        livemode: false,
        api_version: "2026-10-28.endive",
        data: { object: { id: "in_1QxExampleG8h9I0", object: "invoice", customer: EX_CUSTOMER } },
      },
      response: { received: true, eventId: EX_EVENT, outcome: "enqueued" },
    },
  }),
  route({
    method: "GET",
    path: "/health",
    function: "health",
    summary: "Liveness with dependency checks (DynamoDB, queue).",
    responses: {
      200: { description: "Every dependency answers.", schema: healthResponse },
      503: {
        description:
          "A dependency is failing, or a secret is not configured yet; the check is named (a secret by its setting).",
        schema: healthResponse,
      },
    },
    example: { response: { status: "ok", checks: { dynamodb: "ok", queue: "ok" } } },
  }),
  // Marketplace and checkout (functions/marketplace.ts); listings are cached, with ETag and 304.
  route({
    method: "GET",
    path: "/marketplace/connectors",
    function: "marketplace",
    cors: true,
    summary:
      "Every catalog connector with its integrator.io listing and its Stripe prices per edition and add-on.",
    responses: {
      200: { description: "The listings (ETag, Cache-Control).", schema: connectorListResponse },
      304: { description: "Unchanged since the ETag in If-None-Match." },
      503: {
        description: "Nothing stored yet and integrator.io or Stripe unreachable; retry later.",
        schema: apiError,
        headers: { "Retry-After": "Seconds to wait before retrying." },
      },
    },
    example: { response: EX_PAGE(EX_LISTING) },
  }),
  route({
    method: "GET",
    path: "/marketplace/connectors/{key}",
    function: "marketplace",
    cors: true,
    summary: "One connector's listing by catalog key.",
    request: { params: connectorKeyParams },
    responses: {
      200: { description: "The listing (ETag, Cache-Control).", schema: connectorListingSchema },
      304: { description: "Unchanged since the ETag in If-None-Match." },
      404: { description: "No listed connector has this key.", schema: apiError },
      503: {
        description: "Nothing stored yet and integrator.io or Stripe unreachable; retry later.",
        schema: apiError,
        headers: { "Retry-After": "Seconds to wait before retrying." },
      },
    },
    example: { response: EX_LISTING },
  }),
  route({
    method: "GET",
    path: "/marketplace/templates",
    function: "marketplace",
    cors: true,
    summary: "Published templates by name, filtered by application and text, a page at a time.",
    request: { query: templateQuery },
    responses: {
      200: {
        description: "One page; `nextCursor` while more remain (ETag, Cache-Control).",
        schema: templateListResponse,
      },
      304: { description: "Unchanged since the ETag in If-None-Match." },
      503: {
        description: "Nothing stored yet and integrator.io unreachable; retry later.",
        schema: apiError,
        headers: { "Retry-After": "Seconds to wait before retrying." },
      },
    },
    example: { response: EX_PAGE(EX_TEMPLATE) },
  }),
  route({
    method: "GET",
    path: "/marketplace/templates/{id}",
    function: "marketplace",
    cors: true,
    summary: "One published template by integrator.io id.",
    request: { params: templateIdParams },
    responses: {
      200: { description: "The template (ETag, Cache-Control).", schema: templateListingSchema },
      304: { description: "Unchanged since the ETag in If-None-Match." },
      404: { description: "No published template has this id.", schema: apiError },
      503: {
        description: "Nothing stored yet and integrator.io unreachable; retry later.",
        schema: apiError,
        headers: { "Retry-After": "Seconds to wait before retrying." },
      },
    },
    example: { response: EX_TEMPLATE },
  }),
  route({
    method: "POST",
    path: "/checkout/sessions",
    function: "marketplace",
    cors: true,
    summary:
      "Creates a Stripe Checkout session (subscription) for a connector edition and add-ons, carrying the buyer's integrator.io email.",
    request: { body: checkoutRequestSchema },
    responses: {
      201: { description: "Redirect the buyer to `url`.", schema: checkoutResponseSchema },
      400: {
        description:
          "Invalid input: an unknown connector, edition, interval or add-on (quoted), or a redirect URL off the allow-list.",
        schema: apiError,
      },
      502: { description: "Stripe did not create the session.", schema: apiError },
    },
    example: {
      request: {
        connector: EX_CONNECTOR.connectorKey,
        edition: "standard",
        interval: "month",
        addons: [{ key: "store", quantity: 2 }],
        integratorEmail: "buyer@example.com",
        successUrl: "https://shop.example.com/thanks",
        cancelUrl: "https://shop.example.com/pricing",
      },
      response: {
        id: "cs_test_a1B2c3D4e5F6",
        url: "https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5F6",
        trial: true,
        trialDays: 30,
      },
    },
  }),
  route({
    method: "POST",
    path: "/admin/listings/sync",
    function: "admin",
    auth: "admin",
    summary:
      "Refreshes the marketplace listings from integrator.io and Stripe now, and reports what it left out.",
    request: { body: noInput },
    responses: {
      200: { description: "Synced; counts of what is now served.", schema: listingsSyncResponseSchema },
      502: {
        description: "integrator.io or Stripe did not answer; the listings served are left as they were.",
        schema: apiError,
      },
    },
    example: {
      response: {
        generation: "1764278391000",
        changed: true,
        connectors: 1,
        templates: 3,
        syncedAt: EX_NOW,
        problems: [],
      },
    },
  }),
  route({
    method: "GET",
    path: "/openapi.json",
    function: "openapi",
    summary: "This API's OpenAPI 3.1 document, generated from the route table.",
    responses: {
      200: { description: "The document (ETag, Cache-Control).", schema: z.record(z.string(), z.unknown()) },
      304: { description: "Unchanged since the ETag in If-None-Match." },
    },
    example: {
      response: { openapi: "3.1.0", info: { title: "integrator-licensing API", version: "0.1.0" } },
    },
  }),
  // The document as a page (functions/openapi.ts): lib/openapi/docs-assets.ts serves the files
  // scripts/build-docs-ui.ts built from docs-ui/; the page reads /openapi.json.
  ...(
    [
      [
        "/docs",
        "This API's reference: the OpenAPI document rendered as a page, with a strict Content-Security-Policy and nothing from another origin.",
        "text/html; charset=utf-8",
      ],
      ["/docs/app.js", "The reference page's script.", "text/javascript; charset=utf-8"],
      ["/docs/app.css", "The reference page's style sheet.", "text/css; charset=utf-8"],
    ] as const
  ).map(([path, summary, contentType]) =>
    route({
      method: "GET",
      path,
      function: "openapi",
      summary,
      responses: {
        200: { description: path === "/docs" ? "The page." : "The file.", contentType },
        304: { description: "Unchanged since the ETag in If-None-Match." },
        503: { description: "The page was not built (npm run build:docs).", schema: apiError },
      },
    }),
  ),
  // The vendor's integrator.io stack (functions/integrator-extension.ts), integrator.io's conventions (docs/architecture.md §3).
  route({
    method: "POST",
    path: "/integrator/function",
    function: "integrator-extension",
    auth: "system",
    bodyLimit: 6 * MB,
    errorFormat: "integrator",
    summary:
      "integrator.io calls an extension function: body `{_connectorId, type?, function, options, maxResponseSize?}`; " +
      "the envelope is checked by the framework (422 `missing_required_field`, `invalid_field`, `object_not_found`, `invalid_function`).",
    request: { handlerCheckedBody: extensionCallBody },
    responses: {
      200: { description: "The function's result, as JSON.", schema: z.unknown() },
      422: {
        description:
          "The function refused or failed (`err.code || err.name`), or the envelope is wrong, or the result is over `maxResponseSize` (`response_size_exceeded`).",
        schema: integratorErrorBody,
      },
    },
    example: {
      request: {
        _connectorId: EX_CONNECTOR.connectorId,
        type: "hook",
        function: "preSavePageOrders",
        options: { data: [{ id: 1 }, { id: 2, test: true }], errors: [] },
      },
      response: { data: [{ id: 1 }], errors: [] },
    },
  }),
  route({
    method: "GET",
    path: "/integrator/healthCheck",
    function: "integrator-extension",
    errorFormat: "integrator",
    summary: "integrator.io's stack health check.",
    responses: { 200: { description: "The stack answers.", schema: stackHealthResponse } },
    example: { response: { success: true } },
  }),
  // The admin API (functions/admin.ts, route groups in lib/admin/*-routes.ts): bearer ADMIN_TOKEN.
  ...adminRoutes(),
  // Installs of the vendor's connectors, recorded by the stack (lib/admin/installs-routes.ts in functions/admin.ts).
  route({
    method: "GET",
    path: "/admin/installs",
    function: "admin",
    auth: "admin",
    summary:
      "Installs of the vendor's connectors as the stack recorded them, newest first, filtered by connector (catalog key or _connectorId) and email, a page at a time.",
    request: { query: installsQuery },
    responses: {
      200: { description: "One page; `nextCursor` while more remain.", schema: installListResponse },
      400: { description: "Invalid input: an unknown connector, a bad cursor or limit.", schema: apiError },
    },
    example: { response: EX_PAGE(EX_INSTALL) },
  }),
  ...consoleAndOperatorRoutes(),
];

/** Named operators (admin role, functions/admin.ts) and the operator console (functions/console.ts, lib/console). */
function consoleAndOperatorRoutes(): RouteDefinition[] {
  const page = (definition: Omit<RouteInputDefinition, "function">) =>
    route({ function: "console", ...definition });
  return [
    route({
      method: "POST",
      path: "/admin/operators",
      function: "admin",
      auth: "admin",
      role: "admin",
      summary: "Creates a named operator with a role; the token is in this answer only (stored as a hash).",
      request: { body: operatorRequest },
      responses: {
        201: { description: "Created; hand the token to the operator.", schema: operatorCreated },
        409: { description: "An active operator has this name.", schema: apiError },
      },
      example: {
        request: { name: "ana", role: "operator" },
        response: { name: "ana", role: "operator", token: EX_TOKEN },
      },
    }),
    route({
      method: "GET",
      path: "/admin/operators",
      function: "admin",
      auth: "admin",
      role: "admin",
      summary: "The active operators and their roles (never their tokens), by name, a page at a time.",
      request: { query: operatorListQuery },
      responses: {
        200: { description: "One page; `nextCursor` while more remain.", schema: operatorListResponse },
      },
      example: {
        response: EX_PAGE({ name: "ana", role: "operator", createdAt: EX_NOW, createdBy: "root" }),
      },
    }),
    route({
      method: "DELETE",
      path: "/admin/operators/{name}",
      function: "admin",
      auth: "admin",
      role: "admin",
      summary:
        "Revokes an operator: their token and console sessions stop working within a minute on every function.",
      request: { params: operatorParams },
      responses: {
        204: { description: "Revoked." },
        404: { description: "No active operator has this name.", schema: apiError },
      },
    }),
    page({
      method: "GET",
      path: "/console",
      summary: "The operator console: one page (hash routing) with a strict Content-Security-Policy.",
      responses: {
        200: { description: "The page.", contentType: "text/html; charset=utf-8" },
        304: { description: "Unchanged since the ETag in If-None-Match." },
        503: { description: "The console was not built (npm run build:console).", schema: apiError },
      },
    }),
    ...(["app.js", "app.css"] as const).map((file) =>
      page({
        method: "GET",
        path: `/console/${file}`,
        summary: `The console's ${file === "app.js" ? "script" : "style sheet"}.`,
        responses: {
          200: {
            description: "The file.",
            contentType: file === "app.js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
          },
          304: { description: "Unchanged since the ETag in If-None-Match." },
          503: { description: "The console was not built (npm run build:console).", schema: apiError },
        },
      }),
    ),
    page({
      method: "POST",
      path: "/console/session",
      summary:
        "Signs in to the console: trades an operator's token for a session cookie (HttpOnly, SameSite=Strict, Secure, 8 h).",
      request: { body: signInRequest },
      responses: {
        201: {
          description: "Signed in; the session cookie is set.",
          schema: sessionResponse,
          headers: { "Set-Cookie": "The session cookie `il_session`." },
        },
        401: {
          description: "Wrong or revoked operator token, or ADMIN_TOKEN (not a person).",
          schema: apiError,
        },
        503: { description: "Sign-in is not configured (CONSOLE_SESSION_KEY unset).", schema: apiError },
      },
      example: { request: { token: EX_TOKEN }, response: EX_SESSION },
    }),
    page({
      method: "GET",
      path: "/console/session",
      summary: "The console session of the cookie: who is signed in, until when, and the CSRF token.",
      responses: {
        200: { description: "Signed in.", schema: sessionResponse },
        401: {
          description: "No session: none, expired, signed out, or its operator revoked.",
          schema: apiError,
        },
      },
      example: { response: EX_SESSION },
    }),
    page({
      method: "DELETE",
      path: "/console/session",
      summary: "Signs out: ends the session (a copy of the cookie stops working too) and clears the cookie.",
      responses: {
        204: { description: "Signed out.", headers: { "Set-Cookie": "Clears `il_session`." } },
        403: { description: "A live session without its X-CSRF-Token header.", schema: apiError },
      },
    }),
  ];
}

/** The admin routes of functions/admin.ts (401 without a token and 403 with a wrong one: the shared stack's). */
function adminRoutes(): RouteDefinition[] {
  const admin = (definition: Omit<RouteInputDefinition, "function">) =>
    route({ function: "admin", auth: "admin", ...definition });
  return [
    admin({
      method: "GET",
      path: "/admin/customers",
      summary:
        "Finds customers by email (profile, checkout or license email; exact, any case), Stripe customer id, " +
        "subscription id or integrator.io license id, in customer-id order, a page at a time.",
      request: { query: customerSearchQuery },
      responses: {
        200: {
          description: "One page (empty when nothing matches); `nextCursor` while more remain.",
          schema: customerSearchResponse,
        },
      },
      example: {
        response: EX_PAGE({
          customerId: EX_CUSTOMER,
          email: "billing@buyer.example",
          matchedBy: "licenseEmail",
          subscriptions: [{ subscriptionId: EX_SUBSCRIPTION, status: "active" }],
          licenses: [
            { connectorKey: EX_CONNECTOR.connectorKey, state: "active", email: "ops@buyer.example" },
          ],
        }),
      },
    }),
    admin({
      method: "GET",
      path: "/admin/overview",
      summary:
        "Licenses by state, events failed in the last 24 hours, the DLQ's depth, the last reconcile run and the " +
        "integrator.io rate-limit bucket.",
      responses: { 200: { description: "The overview.", schema: overviewResponse } },
      example: {
        response: {
          licenses: { creating: 0, active: 42, pending_user: 1, expired: 7, deleted: 0 },
          eventsFailed24h: 0,
          dlq: { approximateCount: 0 },
          lastReconcile: EX_RUN_SUMMARY,
          rateLimit: { tokens: 950, capacity: 950, refillPerSecond: 285, pausedUntil: null, updatedAt: null },
          generatedAt: EX_NOW,
        },
      },
    }),
    admin({
      method: "GET",
      path: "/admin/customers/{customerId}",
      summary:
        "One Stripe customer as the store holds it: profile, subscriptions, licenses (with integrator.io's copy where it " +
        "differs), installs, inbox events and audit trail.",
      request: { params: customerParams },
      responses: {
        200: { description: "The customer.", schema: customerViewSchema },
        404: { description: "The store holds nothing about this customer.", schema: apiError },
      },
      example: {
        response: {
          customerId: EX_CUSTOMER,
          profile: {
            email: "billing@buyer.example",
            metadata: {},
            checkoutEmail: "ops@buyer.example",
            version: 1764278390,
            updatedAt: EX_NOW,
          },
          subscriptions: [
            {
              subscriptionId: EX_SUBSCRIPTION,
              status: "active",
              integratorEmail: "ops@buyer.example",
              cancelAtPeriodEnd: false,
              cancelAt: null,
              trialEnd: null,
              items: [
                { price: "price_prem_month", lookupKey: null, quantity: 1, currentPeriodEnd: 1766870391 },
              ],
              version: 1764278390,
              source: EX_EVENT,
              updatedAt: EX_NOW,
            },
          ],
          licenses: [EX_LICENSE],
          installs: [EX_INSTALL],
          events: [EX_EVENT_SUMMARY],
          audit: [
            {
              at: EX_NOW,
              action: "license.updated",
              connectorKey: EX_CONNECTOR.connectorKey,
              licenseId: EX_LICENSE_ID,
              cause: EX_EVENT,
            },
          ],
        },
      },
    }),
    admin({
      method: "POST",
      path: "/admin/customers/{customerId}/reconcile",
      summary:
        "Reconciles one customer now (Stripe ↔ store ↔ integrator.io): a dry run reports the findings, a repair " +
        "carries them out as a run's repair does.",
      request: { params: customerParams, body: customerReconcileRequest },
      responses: {
        200: { description: "The findings, and how many were repaired.", schema: customerReconcileResponse },
        404: { description: "Neither the store nor Stripe knows this customer.", schema: apiError },
        409: {
          description:
            "A repair while a repairing run holds the repair lease (`details`: `[{runId, leaseExpiresAt}]`); a dry run may always run.",
          schema: apiError,
        },
      },
      example: {
        request: { dryRun: true },
        response: {
          customerId: EX_CUSTOMER,
          dryRun: true,
          findings: [{ ...EX_FINDING, connectorKey: EX_CONNECTOR.connectorKey }],
          repaired: 0,
        },
      },
    }),
    admin({
      method: "GET",
      path: "/admin/licenses",
      summary:
        "Stored licenses, filtered by email, connector (catalog key) and state, a page at a time. Without `state` " +
        "each page is one bounded scan: it may hold fewer than `limit` licenses, even none; follow `nextCursor`.",
      request: { query: licenseListQuery },
      responses: {
        200: { description: "One page; `nextCursor` while more remain.", schema: licenseListResponse },
      },
      example: { response: EX_PAGE(EX_LICENSE) },
    }),
    admin({
      method: "POST",
      path: "/admin/customers/{customerId}/licenses/{connector}/transfer",
      summary:
        "Moves the customer's license of a connector to another integrator.io email: the old license expires, a new one " +
        "is created (both audited), and the email is kept in the subscription's `metadata.integrator_email`.",
      request: { params: transferParams, body: transferBody },
      responses: {
        200: {
          description: "The license now (`pending_user` until the email has an integrator.io account).",
          schema: licenseRecordSchema,
        },
        404: { description: "Unknown connector, or no license of it for this customer.", schema: apiError },
        409: {
          description:
            "No live subscription for the connector, a change of the license in progress, or another transfer of it " +
            "working (`details`: `[{email, transferringTo}]`, the email it is on and the one it is being moved to).",
          schema: apiError,
        },
      },
      example: { request: { email: "ops@buyer.example" }, response: EX_LICENSE },
    }),
    admin({
      method: "GET",
      path: "/admin/events",
      summary: "Stripe events in the inbox, newest first, filtered by status and type.",
      request: { query: eventListQuery },
      responses: {
        200: { description: "One page; `nextCursor` while more remain.", schema: eventListResponse },
      },
      example: { response: EX_PAGE(EX_EVENT_SUMMARY) },
    }),
    admin({
      method: "POST",
      path: "/admin/events/{eventId}/replay",
      summary: "Queues an inbox event for the worker again, under a new FIFO deduplication id.",
      request: { params: eventParams, body: noInput },
      responses: {
        202: { description: "Queued.", schema: replayResponse },
        404: { description: "No such event in the inbox.", schema: apiError },
        409: { description: "The event was ignored (never processed).", schema: apiError },
      },
      example: {
        response: {
          eventId: EX_EVENT,
          deduplicationId: `${EX_EVENT}:replay:3f1c9a2e-7b4d-4e8f-9a0b-1c2d3e4f5a6b`,
        },
      },
    }),
    admin({
      method: "GET",
      path: "/admin/dlq",
      summary:
        "Dead-lettered events with their inbox entries and failure reasons, read without consuming them.",
      request: { query: dlqQuery },
      responses: {
        200: { description: "The messages seen, and SQS's approximate total.", schema: dlqListResponse },
      },
      example: {
        response: {
          data: [
            {
              messageId: "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e",
              groupId: EX_CUSTOMER,
              sentAt: EX_NOW,
              receiveCount: 5,
              eventId: EX_EVENT,
              event: {
                ...EX_EVENT_SUMMARY,
                status: "failed",
                attempts: 5,
                reason: "integrator.io answered 500",
              },
              reason: "integrator.io answered 500",
            },
          ],
          approximateTotal: 1,
        },
      },
    }),
    admin({
      method: "POST",
      path: "/admin/dlq/redrive",
      summary:
        "Moves every dead-lettered message back to the event queue (new deduplication ids) and out of the DLQ.",
      request: { body: noInput },
      responses: {
        202: {
          description: "Started as a job; poll its location. The worker processes the messages moved.",
          schema: redriveAccepted,
          headers: { Location: "The job: `/admin/dlq/redrive/{jobId}`." },
        },
        503: { description: "Redrives cannot be started here (no event bus configured).", schema: apiError },
      },
      example: { response: { jobId: EX_RUN, location: `/admin/dlq/redrive/${EX_RUN}` } },
    }),
    admin({
      method: "GET",
      path: "/admin/dlq/redrive/{jobId}",
      summary: "A dead-letter redrive job: its state and the messages moved so far.",
      request: { params: redriveJobParams },
      responses: {
        200: { description: "The job.", schema: redriveJobSchema },
        404: { description: "No such job (or older than 7 days).", schema: apiError },
      },
      example: {
        response: {
          jobId: EX_RUN,
          state: "done",
          moved: 1,
          requestedBy: "operator:ana",
          startedAt: "2026-11-27T21:19:51.000Z",
          finishedAt: "2026-11-27T21:19:53.000Z",
        },
      },
    }),
    admin({
      method: "POST",
      path: "/admin/reconcile",
      summary:
        "Starts a reconcile run (Stripe ↔ store ↔ integrator.io); a dry run only reports. Poll GET /admin/reconcile/{runId}.",
      request: { body: reconcileRequest },
      responses: {
        202: {
          description: "Started; poll the run.",
          schema: reconcileAccepted,
          headers: { Location: "The run: `/admin/reconcile/{runId}`." },
        },
        409: {
          description:
            "Another repairing run holds the repair lease (`details`: `[{runId, leaseExpiresAt}]`); a dry run may always start.",
          schema: apiError,
        },
        503: { description: "Runs cannot be started here (no event bus configured).", schema: apiError },
      },
      example: { request: { dryRun: true }, response: { runId: EX_RUN } },
    }),
    admin({
      method: "GET",
      path: "/admin/reconcile",
      summary: "Reconcile runs, newest first, with their counts.",
      request: { query: runListQuery },
      responses: {
        200: { description: "One page; `nextCursor` while more remain.", schema: reconcileRunListResponse },
      },
      example: { response: EX_PAGE(EX_RUN_SUMMARY) },
    }),
    admin({
      method: "GET",
      path: "/admin/reconcile/{runId}",
      summary: "A reconcile run: its state and drift report (counts and findings).",
      request: { params: runParams },
      responses: {
        200: { description: "The run.", schema: reconcileRunSchema },
        404: { description: "No such run.", schema: apiError },
      },
      example: {
        response: {
          ...EX_RUN_SUMMARY,
          items: [{ ...EX_FINDING, customerId: EX_CUSTOMER, connector: EX_CONNECTOR.connectorKey }],
          itemsTruncated: false,
        },
      },
    }),
    admin({
      method: "GET",
      path: "/admin/catalog",
      summary: "The catalog of connectors, editions, add-ons, prices and policy in force.",
      responses: { 200: { description: "The catalog.", schema: catalogResponse } },
      example: {
        response: {
          connectors: [
            {
              key: EX_CONNECTOR.connectorKey,
              connectorId: EX_CONNECTOR.connectorId,
              name: "Shopify ↔ NetSuite",
              trialDays: 30,
              editions: [{ key: "standard", name: "Standard", prices: ["price_std_month", "std_yearly"] }],
              addons: [
                {
                  key: "store",
                  name: "Additional Shopify store",
                  type: "store",
                  prices: ["price_store_month"],
                },
              ],
            },
          ],
          policy: { renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" },
        },
      },
    }),
    admin({
      method: "POST",
      path: "/admin/billing/portal-sessions",
      summary: "A Stripe customer portal session for a customer (the portal is reachable only this way).",
      request: { body: portalSessionRequest },
      responses: {
        201: { description: "Send the customer to `url`.", schema: portalSessionResponse },
        404: { description: "No such Stripe customer.", schema: apiError },
        502: { description: "Stripe refused to create the session.", schema: apiError },
      },
      example: {
        request: { customerId: EX_CUSTOMER, returnUrl: "https://shop.example.com/account" },
        response: { url: "https://billing.stripe.com/p/session/test_YWNjdF8xExample" },
      },
    }),
  ];
}

/** The role an `admin` route needs: its own, else `viewer` to read and `operator` to act. */
export const requiredRole = (r: Pick<RouteDefinition, "method" | "role">): Role =>
  r.role ?? (r.method === "GET" ? "viewer" : "operator");

export const routeKey = (r: Pick<RouteDefinition, "method" | "path">) => `${r.method} ${r.path}`;

/** The methods a route answers: its own, and HEAD wherever GET (RFC 9110 §9.3.2: GET without the body). */
export const methodsOf = (r: Pick<RouteDefinition, "method">): string[] =>
  r.method === "GET" ? ["GET", "HEAD"] : [r.method];

/** The key of the route whose handler answers an API Gateway `routeKey`: `HEAD /x` is answered by `GET /x`. */
export const answeringKey = (key: string): string => (key.startsWith("HEAD ") ? `GET ${key.slice(5)}` : key);

/** True when the route reads a request body (a schema, one its handler checks, or the raw bytes); others ignore one. */
export const takesBody = (r: RouteDefinition): boolean =>
  r.rawBody || r.request.body !== undefined || r.request.handlerCheckedBody !== undefined;

const byKey = new Map(routes.map((r) => [routeKey(r), r]));

/** The route behind an API Gateway `routeKey` such as `GET /health` (`HEAD /health` too). */
export function routeByKey(key: string): RouteDefinition | undefined {
  return byKey.get(answeringKey(key));
}

const compiled = routes.map((r) => ({
  route: r,
  pattern: new RegExp(
    `^${r.path.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === "{" || c === "}" ? c : `\\${c}`)).replace(/\{(\w+)\+?\}/g, "(?<$1>[^/]+)")}$`,
  ),
}));

export type RouteMatch =
  | {
      kind: "found";
      route: RouteDefinition;
      routeKey: string;
      params: Record<string, string>;
      allowed: string[];
    }
  | { kind: "method_not_allowed"; allowed: string[] }
  | { kind: "not_found" };

/**
 * Matches a method and path against the table (path parameters are URL-decoded). `routeKey` is
 * the API Gateway route key the request takes (`HEAD /x` for a HEAD on a GET route); `allowed`
 * is what the path answers, for `Allow`: its routes' methods, and OPTIONS where a route takes CORS
 * preflights.
 */
export function matchRoute(method: string, path: string): RouteMatch {
  const onPath = compiled.flatMap(({ route: r, pattern }) => {
    const match = pattern.exec(path);
    return match ? [{ route: r, groups: match.groups ?? {} }] : [];
  });
  if (onPath.length === 0) return { kind: "not_found" };
  const allowed = [...new Set(onPath.flatMap(({ route: r }) => methodsOf(r)))];
  if (onPath.some(({ route: r }) => r.cors)) allowed.push("OPTIONS");
  const found = onPath.find(({ route: r }) => methodsOf(r).includes(method));
  if (!found) return { kind: "method_not_allowed", allowed };
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(found.groups)) {
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      params[name] = value;
    }
  }
  return { kind: "found", route: found.route, routeKey: `${method} ${found.route.path}`, params, allowed };
}
