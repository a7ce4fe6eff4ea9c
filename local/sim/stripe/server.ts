/**
 * The HTTP front of the simulator: Stripe's `/v1` API (auth, form decoding, `expand[]`,
 * Idempotency-Key, error bodies), the control API (`/_sim/*`) and the Checkout / portal pages.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { ApiRoute } from "./api.ts";
import { handleControl } from "./control.ts";
import { StripeSimError } from "./errors.ts";
import { API_VERSION, type EventOrigin } from "./events.ts";
import { expandResponse } from "./expand.ts";
import { decodeForm, emptyForm, FormDecodeError, type FormObject } from "./form.ts";
import { readBody, sendJson } from "./http-util.ts";
import { newId } from "./ids.ts";
import { handlePage } from "./pages.ts";
import { Params } from "./params.ts";
import { catalogRoutes } from "./resources/catalog.ts";
import { checkoutRoutes } from "./resources/checkout.ts";
import { customerRoutes } from "./resources/customers.ts";
import { invoiceRoutes } from "./resources/invoices.ts";
import { subscriptionRoutes } from "./resources/subscriptions.ts";
import { testClockRoutes } from "./resources/test-clocks.ts";
import { webhookRoutes } from "./resources/webhooks.ts";
import type { Simulator } from "./simulator.ts";
import type { StoredResponse } from "./store.ts";

export const API_ROUTES: ApiRoute[] = [
  ...customerRoutes,
  ...catalogRoutes,
  ...subscriptionRoutes,
  ...invoiceRoutes,
  ...checkoutRoutes,
  ...webhookRoutes,
  ...testClockRoutes,
];

interface CompiledRoute {
  route: ApiRoute;
  segments: string[];
}

const compiled: CompiledRoute[] = API_ROUTES.map((route) => ({ route, segments: route.path.split("/") }));

function matchRoute(
  method: string,
  pathname: string,
): { route: ApiRoute; path: Record<string, string> } | undefined {
  const parts = pathname.split("/");
  for (const { route, segments } of compiled) {
    if (route.method !== method || segments.length !== parts.length) continue;
    const path: Record<string, string> = {};
    const matches = segments.every((segment, index) => {
      const part = parts[index] ?? "";
      if (segment.startsWith(":")) {
        if (part === "") return false;
        try {
          path[segment.slice(1)] = decodeURIComponent(part);
        } catch {
          return false;
        }
        return true;
      }
      return segment === part;
    });
    if (matches) return { route, path };
  }
  return undefined;
}

/** Keys Stripe accepts: test-mode secret or restricted keys. Anything else is refused. */
const TEST_KEY = /^(sk|rk)_test_[A-Za-z0-9_]+$/;

function apiKey(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() === "bearer") return value;
  if (scheme?.toLowerCase() === "basic") return Buffer.from(value, "base64").toString("utf8").split(":")[0];
  return header;
}

function authenticate(request: IncomingMessage): void {
  const key = apiKey(request);
  if (key === undefined || key === "") {
    throw new StripeSimError(
      401,
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    );
  }
  if (!TEST_KEY.test(key)) {
    const masked =
      key.length > 12
        ? `${key.slice(0, 8)}${"*".repeat(Math.min(20, key.length - 12))}${key.slice(-4)}`
        : "****";
    throw new StripeSimError(401, `Invalid API Key provided: ${masked}`);
  }
}

/** A canonical form of the parameters (key order ignored), to tell a replay from a reuse of the key. */
function fingerprint(form: FormObject): string {
  const canonical = (value: unknown): unknown =>
    typeof value === "object" && value !== null
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
        )
      : value;
  return JSON.stringify(canonical(form));
}

/** Statuses whose response Stripe saves for the Idempotency-Key: the endpoint ran (validation failures are not saved). */
function replayable(status: number): boolean {
  return status === 200 || status === 402;
}

async function handleApi(
  sim: Simulator,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  requestId: string,
): Promise<void> {
  const method = request.method ?? "GET";
  const headers: Record<string, string> = {
    "request-id": requestId,
    "stripe-version":
      typeof request.headers["stripe-version"] === "string" ? request.headers["stripe-version"] : API_VERSION,
  };
  const idempotencyKey = method === "POST" ? request.headers["idempotency-key"] : undefined;
  if (typeof idempotencyKey === "string") headers["idempotency-key"] = idempotencyKey;
  const fail = (error: StripeSimError): void =>
    sendJson(response, error.status, error.body(requestId), headers);
  try {
    const matched = matchRoute(method, url.pathname);
    sim.countRequest(matched ? `${method} ${matched.route.path}` : `${method} (unmatched)`);
    if (matched === undefined) {
      throw new StripeSimError(
        404,
        `Unrecognized request URL (${method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      );
    }
    authenticate(request);
    const body = await readBody(request);
    const form = decodeForm(url.search.slice(1), emptyForm());
    if (method === "POST") decodeForm(body, form);
    const params = new Params(form);
    const expand = params.stringList("expand") ?? [];
    delete form.expand;

    // From here to the response nothing awaits: a request runs whole, as one step of the simulation.
    let stored: StoredResponse | undefined;
    if (typeof idempotencyKey === "string") {
      if (idempotencyKey.length > 255) {
        throw new StripeSimError(400, "Idempotency keys can be no longer than 255 characters.", {
          type: "idempotency_error",
        });
      }
      stored = sim.store.idempotency.get(idempotencyKey);
      const print = fingerprint({ ...form, ...(expand.length > 0 ? { expand: expand.join(",") } : {}) });
      if (stored !== undefined) {
        if (stored.method !== method || stored.path !== url.pathname || stored.fingerprint !== print) {
          throw new StripeSimError(
            400,
            `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            { type: "idempotency_error" },
          );
        }
        response.writeHead(stored.status, {
          "content-type": "application/json",
          ...headers,
          "idempotent-replayed": "true",
        });
        response.end(stored.body);
        return;
      }
      const origin: EventOrigin = { requestId, idempotencyKey };
      const [status, text] = run(sim, matched.route, matched.path, params, expand, origin, requestId);
      if (replayable(status)) {
        sim.store.rememberResponse(idempotencyKey, {
          method,
          path: url.pathname,
          fingerprint: print,
          status,
          body: text,
          createdAt: Date.now(),
        });
      }
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(text);
      return;
    }
    const [status, text] = run(
      sim,
      matched.route,
      matched.path,
      params,
      expand,
      { requestId, idempotencyKey: null },
      requestId,
    );
    response.writeHead(status, { "content-type": "application/json", ...headers });
    response.end(text);
  } catch (error) {
    if (error instanceof StripeSimError) fail(error);
    else if (error instanceof FormDecodeError)
      fail(new StripeSimError(400, error.message, { param: error.param }));
    else throw error;
  }
}

/** Runs one API handler and renders its answer or its Stripe error. */
function run(
  sim: Simulator,
  route: ApiRoute,
  path: Record<string, string>,
  params: Params,
  expand: string[],
  origin: EventOrigin,
  requestId: string,
): [number, string] {
  try {
    const result = route.handler({ sim, params, path, origin });
    return [200, JSON.stringify(expandResponse(sim.store, result, expand), null, 2)];
  } catch (error) {
    if (error instanceof StripeSimError)
      return [error.status, JSON.stringify(error.body(requestId), null, 2)];
    sim.warn(
      `${route.method} ${route.path} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return [
      500,
      JSON.stringify({ error: { type: "api_error", message: "An unknown error occurred" } }, null, 2),
    ];
  }
}

export function createRequestListener(sim: Simulator): RequestListener {
  return (request, response) => {
    const url = new URL(request.url ?? "/", "http://simulator");
    const requestId = newId("req");
    const done = (async () => {
      if (url.pathname.startsWith("/_sim/")) return handleControl(sim, request, response, url, requestId);
      if (await handlePage(sim, request, response, url)) return;
      return handleApi(sim, request, response, url, requestId);
    })();
    done.catch((error: unknown) => {
      sim.warn(`request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!response.headersSent)
        sendJson(response, 500, { error: { type: "api_error", message: "An unknown error occurred" } });
      else response.destroy();
    });
  };
}
