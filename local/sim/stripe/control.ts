/**
 * The simulator's control API, at the root of its port (not under /v1), without auth — the
 * server listens on loopback only. JSON in, JSON out; errors in Stripe's error shape.
 * Documented in README.md.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { payInvoiceNow, retryUnpaidSoon } from "./billing.ts";
import { invalidRequest, StripeSimError } from "./errors.ts";
import { readBody, sendJson } from "./http-util.ts";
import type { JsonObject } from "./model.ts";
import {
  renderCheckoutSession,
  renderPrice,
  renderProduct,
  renderSubscription,
  renderWebhookEndpoint,
} from "./render.ts";
import { addPrice, addProduct } from "./resources/catalog.ts";
import { completeCheckout } from "./resources/checkout.ts";
import type { Simulator } from "./simulator.ts";

const webhookEndpointBody = z.object({
  url: z.string().regex(/^https?:\/\/\S+$/, "must be an http(s) URL"),
  secret: z.string().min(1),
  enabledEvents: z.array(z.string().min(1)).min(1).optional(),
  /** The API version its events are rendered in (see versions.ts); default the pinned one. */
  apiVersion: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(\.\w+)?$/, "must be an API version like 2024-06-20")
    .optional(),
});

const shownStatusBody = z
  .object({
    status: z
      .string()
      .regex(/^[a-z_]+$/)
      .nullable(),
  })
  .strict();

const productBody = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  description: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

const priceBody = z.object({
  id: z.string().min(1),
  product: z.string().min(1),
  unit_amount: z.number().int().min(0),
  currency: z.string().length(3),
  recurring: z
    .object({
      interval: z.enum(["day", "week", "month", "year"]),
      interval_count: z.number().int().min(1).optional(),
    })
    .nullable()
    .optional(),
  lookup_key: z.string().min(1).nullable().optional(),
  nickname: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

const deliveryBody = z
  .object({
    duplicateRate: z.number().min(0).max(1),
    reorderWindowMs: z.number().int().min(0).max(60_000),
    delayMs: z.number().int().min(0).max(60_000),
    paused: z.boolean(),
    retryDelaysMs: z.array(z.number().int().min(0).max(600_000)).max(10),
    timeoutMs: z.number().int().min(1).max(120_000),
    maxInFlight: z.number().int().min(1).max(256),
  })
  .partial()
  .strict();

const flushBody = z.object({ timeoutMs: z.number().int().min(1).max(120_000).optional() }).strict();
const completeBody = z
  .object({ paymentSucceeds: z.boolean().optional(), email: z.string().email().optional() })
  .strict();
const paymentBody = z.object({ fails: z.boolean() }).strict();
const resetBody = z.object({ keepCatalog: z.boolean().optional() }).strict();

function parse<T>(schema: z.ZodType<T>, text: string): T {
  let json: unknown = {};
  if (text.trim() !== "") {
    try {
      json = JSON.parse(text);
    } catch {
      throw new StripeSimError(400, "The control API takes a JSON body.");
    }
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue?.path.join(".") ?? "";
    throw new StripeSimError(
      400,
      `Invalid ${param || "body"}: ${issue?.message ?? "invalid"}`,
      param === "" ? {} : { param },
    );
  }
  return result.data;
}

type ControlHandler = (
  sim: Simulator,
  body: string,
  match: string[],
  url: URL,
) => Promise<[number, unknown]> | [number, unknown];

function upsertProduct(sim: Simulator, input: z.infer<typeof productBody>): JsonObject {
  const existing = sim.store.products.get(input.id);
  if (existing === undefined) return renderProduct(addProduct(sim, input));
  existing.name = input.name;
  if (input.description !== undefined) existing.description = input.description;
  if (input.metadata !== undefined) existing.metadata = input.metadata;
  existing.updated = sim.realNow();
  return renderProduct(existing);
}

function upsertPrice(sim: Simulator, input: z.infer<typeof priceBody>): JsonObject {
  // Seeding replaces a price of the same id (Stripe's prices are immutable; seeds are configuration).
  sim.store.products.require(input.product, "product");
  sim.store.prices.delete(input.id);
  const price = addPrice(sim, {
    id: input.id,
    product: input.product,
    currency: input.currency,
    unitAmount: input.unit_amount,
    recurring:
      input.recurring == null
        ? null
        : { interval: input.recurring.interval, intervalCount: input.recurring.interval_count ?? 1 },
    lookupKey: input.lookup_key ?? null,
    transferLookupKey: true,
    nickname: input.nickname ?? null,
    metadata: input.metadata ?? {},
  });
  return renderPrice(price);
}

const routes: { method: string; pattern: RegExp; handler: ControlHandler }[] = [
  { method: "GET", pattern: /^\/_sim\/health$/, handler: () => [200, { ok: true }] },
  {
    method: "GET",
    pattern: /^\/_sim\/stats$/,
    handler: (sim) => {
      const byRoute = Object.fromEntries(sim.requestCounts);
      const requests = [...sim.requestCounts.values()].reduce((sum, count) => sum + count, 0);
      return [200, { requests, byRoute }];
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/webhook_endpoints$/,
    handler: (sim, body) => {
      const input = parse(webhookEndpointBody, body);
      // Registering a URL again (a restarted local stack) updates that endpoint instead of adding a second one.
      const existing = sim.store.webhookEndpoints.values().find((endpoint) => endpoint.url === input.url);
      if (existing !== undefined) {
        existing.secret = input.secret;
        existing.enabledEvents = input.enabledEvents ?? ["*"];
        existing.apiVersion = input.apiVersion ?? null;
        existing.status = "enabled";
        return [200, renderWebhookEndpoint(existing, true)];
      }
      const endpoint = sim.addWebhookEndpoint({
        url: input.url,
        secret: input.secret,
        enabledEvents: input.enabledEvents ?? ["*"],
        apiVersion: input.apiVersion ?? null,
      });
      return [200, renderWebhookEndpoint(endpoint, true)];
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/products$/,
    handler: (sim, body) => [200, upsertProduct(sim, parse(productBody, body))],
  },
  {
    method: "POST",
    pattern: /^\/_sim\/prices$/,
    handler: (sim, body) => [200, upsertPrice(sim, parse(priceBody, body))],
  },
  {
    method: "GET",
    pattern: /^\/_sim\/delivery$/,
    handler: (sim) => [200, { ...sim.delivery.settings, pending: sim.delivery.pending }],
  },
  {
    method: "PUT",
    pattern: /^\/_sim\/delivery$/,
    handler: (sim, body) => {
      const changes = parse(deliveryBody, body);
      const next = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
      return [200, sim.delivery.update(next)];
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/delivery\/flush$/,
    handler: async (sim, body) => {
      const { timeoutMs = 10_000 } = parse(flushBody, body);
      if (sim.delivery.settings.paused && sim.delivery.pending > 0) {
        throw new StripeSimError(
          409,
          `Delivery is paused with ${sim.delivery.pending} pending; unpause it first.`,
        );
      }
      const drained = await sim.delivery.flush(timeoutMs);
      if (!drained) {
        throw new StripeSimError(
          504,
          `Deliveries still pending after ${timeoutMs} ms: ${sim.delivery.pending}.`,
        );
      }
      return [200, { pending: 0 }];
    },
  },
  {
    method: "GET",
    pattern: /^\/_sim\/deliveries$/,
    handler: (sim, _body, _match, url) => {
      const limit = Number(url.searchParams.get("limit") ?? "1000");
      const event = url.searchParams.get("event");
      const type = url.searchParams.get("type");
      const data = sim.delivery
        .attempts()
        .filter(
          (attempt) =>
            (event === null || attempt.eventId === event) && (type === null || attempt.eventType === type),
        );
      return [
        200,
        {
          data: data.slice(Math.max(0, data.length - (Number.isFinite(limit) ? limit : 1000))),
          pending: sim.delivery.pending,
        },
      ];
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/checkout\/sessions\/([^/]+)\/complete$/,
    handler: (sim, body, [id]) => {
      const input = parse(completeBody, body);
      const session = sim.store.checkoutSessions.require(id ?? "");
      completeCheckout(sim, session, {
        ...(input.paymentSucceeds === undefined ? {} : { paymentSucceeds: input.paymentSucceeds }),
        ...(input.email === undefined ? {} : { email: input.email }),
      });
      return [200, renderCheckoutSession(sim.baseUrl, session)];
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/customers\/([^/]+)\/payment$/,
    handler: (sim, body, [id]) => {
      const { fails } = parse(paymentBody, body);
      const customer = sim.store.customers.require(id ?? "");
      const wasFailing = customer.paymentFails;
      customer.paymentFails = fails;
      if (wasFailing && !fails) {
        retryUnpaidSoon(sim, customer);
        if (customer.testClock === null) sim.sweep();
      }
      return [200, { customer: customer.id, fails }];
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/subscriptions\/([^/]+)\/pay$/,
    handler: (sim, body, [id]) => {
      parse(z.object({}).strict(), body);
      const subscription = sim.store.subscriptions.require(id ?? "");
      const open = sim.store.invoices
        .values()
        .filter((invoice) => invoice.subscription === subscription.id && invoice.status === "open");
      if (open.length === 0) throw invalidRequest("This subscription has no open invoice to pay.");
      for (const invoice of open)
        payInvoiceNow(sim, invoice, { requestId: null, idempotencyKey: null }, true);
      return [200, renderSubscription(sim.store, subscription)];
    },
  },
  {
    method: "PUT",
    pattern: /^\/_sim\/subscriptions\/([^/]+)\/shown-status$/,
    handler: (sim, body, [id]) => {
      // A status Stripe added after the pinned API version: shown, billing goes on as before.
      const { status } = parse(shownStatusBody, body);
      const subscription = sim.store.subscriptions.require(id ?? "");
      subscription.shownStatus = status;
      return [200, renderSubscription(sim.store, subscription)];
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/reset$/,
    handler: (sim, body) => {
      const { keepCatalog = true } = parse(resetBody, body);
      sim.reset({ keepCatalog });
      return [200, { reset: true, keepCatalog }];
    },
  },
];

/** Serves `/_sim/*`. */
export async function handleControl(
  sim: Simulator,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  requestId: string,
): Promise<void> {
  try {
    const candidates = routes
      .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
      .filter((candidate) => candidate.match !== null);
    const chosen = candidates.find((candidate) => candidate.route.method === request.method);
    if (chosen === undefined || chosen.match === null) {
      const status = candidates.length > 0 ? 405 : 404;
      throw new StripeSimError(
        status,
        `No control route ${request.method} ${url.pathname} (see local/sim/stripe/README.md).`,
      );
    }
    const body = await readBody(request);
    const params = chosen.match.slice(1).map((part) => decodeURIComponent(part));
    const [status, result] = await chosen.route.handler(sim, body, params, url);
    sendJson(response, status, result);
  } catch (error) {
    if (error instanceof StripeSimError) {
      sendJson(response, error.status, error.body(requestId));
      return;
    }
    sim.warn(
      `control ${request.method} ${url.pathname} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    sendJson(response, 500, { error: { type: "api_error", message: "The simulator failed; see its log." } });
  }
}
