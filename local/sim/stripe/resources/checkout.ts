/** Checkout sessions (mode `subscription`) and billing portal sessions. */
import { type ApiRequest, type ApiRoute, pathParam } from "../api.ts";
import { invalidParam, invalidRequest, StripeSimError } from "../errors.ts";
import { AUTOMATIC, type EventOrigin } from "../events.ts";
import { newId } from "../ids.ts";
import type { CheckoutSessionRecord, JsonObject } from "../model.ts";
import { missingParam, type Params } from "../params.ts";
import { renderCheckoutSession, renderPortalSession } from "../render.ts";
import type { Simulator } from "../simulator.ts";
import { addCustomer } from "./customers.ts";
import { emitOpened, openSubscription } from "./subscription-open.ts";

/** Stripe's bounds on `expires_at`: 30 minutes to 24 hours from creation. */
const MIN_EXPIRY_SECONDS = 30 * 60;
const MAX_EXPIRY_SECONDS = 24 * 3600;

/** Accepted, with no effect on what the simulator does. */
const IGNORED = [
  "payment_method_types",
  "payment_method_collection",
  "customer_update",
  "tax_id_collection",
  "automatic_tax",
  "consent_collection",
  "custom_text",
  "custom_fields",
  "phone_number_collection",
  "saved_payment_method_options",
  "billing_address_collection",
  "allow_promotion_codes",
  "locale",
  "submit_type",
  "payment_method_options",
] as const;

function readLineItems(sim: Simulator, params: Params): CheckoutSessionRecord["lineItems"] {
  const items = params.objectList("line_items");
  if (items === undefined || items.length === 0) throw missingParam("line_items");
  const lines = items.map((item) => {
    item.allowOnly([
      "price",
      "quantity",
      "adjustable_quantity",
      "tax_rates",
      "dynamic_tax_rates",
      "price_data",
    ]);
    if (item.has("price_data"))
      throw invalidParam(
        "The simulator does not support price_data; create the price first.",
        item.name("price_data"),
      );
    const priceId = item.nonEmptyString("price");
    if (priceId === undefined) throw missingParam(item.name("price"));
    const price = sim.store.prices.require(priceId, item.name("price"));
    if (price.recurring === null) {
      throw invalidParam(
        "The simulator's subscription-mode Checkout accepts recurring prices only.",
        item.name("price"),
      );
    }
    if (!price.active)
      throw invalidParam(
        "The price specified is inactive. This field only accepts active prices.",
        item.name("price"),
      );
    const quantity = item.integer("quantity", { min: 1 });
    if (quantity === undefined) throw missingParam(item.name("quantity"));
    return { id: newId("li"), price: price.id, quantity };
  });
  const prices = lines.map((line) => sim.store.prices.require(line.price));
  const first = prices[0];
  if (
    prices.some(
      (price) =>
        price.currency !== first?.currency ||
        price.recurring?.interval !== first.recurring?.interval ||
        price.recurring?.intervalCount !== first.recurring?.intervalCount,
    )
  ) {
    throw invalidParam(
      "All prices on a subscription must have the same currency and recurring interval.",
      "line_items",
    );
  }
  return lines;
}

function create({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly([
    "mode",
    "line_items",
    "success_url",
    "cancel_url",
    "customer",
    "customer_email",
    "client_reference_id",
    "metadata",
    "subscription_data",
    "expires_at",
    "ui_mode",
    "currency",
    ...IGNORED,
  ]);
  const mode = params.enumeration("mode", ["payment", "setup", "subscription"] as const);
  if (mode === undefined) throw missingParam("mode");
  if (mode !== "subscription") throw invalidParam("The simulator supports mode=subscription only.", "mode");
  if (params.has("ui_mode") && params.string("ui_mode") !== "hosted") {
    throw invalidParam("The simulator supports ui_mode=hosted only.", "ui_mode");
  }
  const customerId = params.nonEmptyString("customer");
  const customerEmail = params.nonEmptyString("customer_email");
  if (customerId !== undefined && customerEmail !== undefined) {
    throw new StripeSimError(400, "You may only specify one of these parameters: customer, customer_email.", {
      code: "parameters_exclusive",
      param: "customer",
    });
  }
  if (customerEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(customerEmail)) {
    throw invalidParam(`Invalid email address: ${customerEmail}`, "customer_email", "email_invalid");
  }
  const customer = customerId === undefined ? undefined : sim.store.customers.require(customerId, "customer");
  const now = sim.customerNow(customer?.id);
  const expiresAt = params.timestamp("expires_at") ?? now + MAX_EXPIRY_SECONDS;
  if (expiresAt < now + MIN_EXPIRY_SECONDS || expiresAt > now + MAX_EXPIRY_SECONDS) {
    throw invalidParam(
      "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.",
      "expires_at",
    );
  }
  const clientReferenceId = params.clearableString("client_reference_id") ?? null;
  if (clientReferenceId !== null && clientReferenceId.length > 200) {
    throw invalidParam("client_reference_id can have up to 200 characters.", "client_reference_id");
  }
  const data = params.object("subscription_data");
  data?.allowOnly([
    "metadata",
    "description",
    "trial_period_days",
    "trial_end",
    "trial_settings",
    "default_tax_rates",
    "proration_behavior",
    "invoice_settings",
    "billing_mode",
  ]);
  const trialPeriodDays = data?.integer("trial_period_days", { min: 1, max: 730 }) ?? null;
  const trialEnd = data?.timestamp("trial_end") ?? null;
  if (trialPeriodDays !== null && trialEnd !== null) {
    throw new StripeSimError(
      400,
      "You may only specify one of these parameters: subscription_data[trial_end], subscription_data[trial_period_days].",
      {
        code: "parameters_exclusive",
        param: "subscription_data[trial_end]",
      },
    );
  }
  if (trialEnd !== null && trialEnd < now + 2 * 86_400) {
    throw invalidParam(
      "subscription_data[trial_end] must be at least 48 hours in the future.",
      "subscription_data[trial_end]",
    );
  }
  const lineItems = readLineItems(sim, params);
  const prices = lineItems.map((line) => sim.store.prices.require(line.price));
  const session: CheckoutSessionRecord = {
    id: newId("cs_test"),
    created: now,
    expiresAt,
    mode: "subscription",
    lineItems,
    clientReferenceId,
    metadata: params.metadata(),
    subscriptionData: {
      metadata: data?.metadata() ?? {},
      description: data?.clearableString("description") ?? null,
      trialPeriodDays,
      trialEnd,
    },
    customer: customer?.id ?? null,
    customerEmail: customerEmail ?? null,
    successUrl: params.clearableString("success_url") ?? null,
    cancelUrl: params.clearableString("cancel_url") ?? null,
    allowPromotionCodes: params.boolean("allow_promotion_codes") ?? null,
    billingAddressCollection: params.string("billing_address_collection") ?? null,
    locale: params.string("locale") ?? null,
    status: "open",
    paymentStatus: "unpaid",
    subscription: null,
    detailsEmail: null,
    currency: prices[0]?.currency ?? "usd",
    amountTotal: lineItems.reduce(
      (sum, line, index) => sum + (prices[index]?.unitAmount ?? 0) * line.quantity,
      0,
    ),
  };
  sim.store.checkoutSessions.add(session);
  return renderCheckoutSession(sim.baseUrl, session);
}

/**
 * What the buyer does on Stripe's page: completes the session — creates the customer (unless the
 * session names one) and the subscription, and emits `customer.created`,
 * `checkout.session.completed`, `customer.subscription.created` and `invoice.paid` (or
 * `invoice.payment_failed`, leaving the subscription `incomplete`). Nothing is emitted for the
 * $0 first invoice of a trial.
 */
export function completeCheckout(
  sim: Simulator,
  session: CheckoutSessionRecord,
  input: { paymentSucceeds?: boolean; email?: string },
  origin: EventOrigin = AUTOMATIC,
): CheckoutSessionRecord {
  expireIfDue(sim, session);
  if (session.status !== "open") throw invalidRequest(`This Checkout Session is already ${session.status}.`);
  const existing =
    session.customer === null ? undefined : sim.store.customers.require(session.customer, "customer");
  // The email the buyer leaves on the page: prefilled (and locked) by customer_email.
  const entered = session.customerEmail ?? input.email ?? null;
  const email = entered ?? existing?.email ?? null;
  if (existing === undefined && entered === null) {
    throw invalidParam(
      'The session has no customer_email: pass the buyer\'s {"email"}.',
      "email",
      "parameter_missing",
    );
  }
  const customer = existing ?? addCustomer(sim, { email: entered }, origin);
  const at = sim.customerNow(customer.id);
  const { trialPeriodDays, trialEnd } = session.subscriptionData;
  const opened = openSubscription(sim, {
    customer,
    items: session.lineItems.map((line) => ({
      price: sim.store.prices.require(line.price),
      quantity: line.quantity,
      metadata: {},
    })),
    metadata: { ...session.subscriptionData.metadata },
    description: session.subscriptionData.description,
    trialEnd:
      trialPeriodDays !== null
        ? at + trialPeriodDays * 86_400
        : trialEnd !== null && trialEnd > at
          ? trialEnd
          : null,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    paymentBehavior: "allow_incomplete",
    ...(input.paymentSucceeds === undefined ? {} : { succeed: input.paymentSucceeds }),
  });
  session.status = "complete";
  session.customer = customer.id;
  session.subscription = opened.subscription.id;
  session.detailsEmail = email;
  session.paymentStatus =
    opened.outcome === "trial" ? "no_payment_required" : opened.outcome === "paid" ? "paid" : "unpaid";
  sim.events.emit("checkout.session.completed", renderCheckoutSession(sim.baseUrl, session), {
    created: at,
    origin,
  });
  emitOpened(sim, opened, origin);
  return session;
}

/** Expires an open session and emits `checkout.session.expired` at `created`. */
function markExpired(
  sim: Simulator,
  session: CheckoutSessionRecord,
  created: number,
  origin: EventOrigin,
): void {
  session.status = "expired";
  sim.events.emit("checkout.session.expired", renderCheckoutSession(sim.baseUrl, session), {
    created,
    origin,
  });
}

/**
 * What Stripe does by itself once a session's `expires_at` has come (at its customer's test clock,
 * else in real time): an open session expires, `checkout.session.expired` at `expires_at`. Called
 * by the sweep, by a clock advance, and before anything reads or completes a session, so no answer
 * shows a session open past its `expires_at`. True when it expired the session.
 */
export function expireIfDue(
  sim: Simulator,
  session: CheckoutSessionRecord,
  now: number = sim.customerNow(session.customer),
): boolean {
  if (session.status !== "open" || session.expiresAt > now) return false;
  markExpired(sim, session, session.expiresAt, AUTOMATIC);
  return true;
}

/** Expires every open session due by `now` whose customer is on test clock `clockId` (null: no clock, real time). */
export function expireDueSessions(sim: Simulator, clockId: string | null, now: number): void {
  for (const session of sim.store.checkoutSessions.values()) {
    if (session.status !== "open" || session.expiresAt > now) continue;
    const customer = session.customer === null ? undefined : sim.store.customers.get(session.customer);
    if ((customer?.testClock ?? null) === clockId) expireIfDue(sim, session, now);
  }
}

/** A session as it stands now: expired first if its `expires_at` has come. */
export function currentSession(sim: Simulator, id: string): CheckoutSessionRecord {
  const session = sim.store.checkoutSessions.require(id);
  expireIfDue(sim, session);
  return session;
}

function expire(request: ApiRequest): JsonObject {
  const { sim, params, origin } = request;
  params.allowOnly([]);
  const session = currentSession(sim, pathParam(request, "id"));
  if (session.status !== "open")
    throw invalidRequest(`Only open Checkout Sessions can be expired; this one is ${session.status}.`);
  markExpired(sim, session, sim.customerNow(session.customer), origin);
  return renderCheckoutSession(sim.baseUrl, session);
}

function createPortalSession({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly(["customer", "return_url", "configuration", "flow_data", "locale", "on_behalf_of"]);
  const customer = sim.store.customers.require(params.requiredString("customer"), "customer");
  const session = sim.store.portalSessions.add({
    id: newId("bps"),
    created: sim.customerNow(customer.id),
    customer: customer.id,
    returnUrl: params.clearableString("return_url") ?? null,
    locale: params.string("locale") ?? null,
  });
  return renderPortalSession(sim.baseUrl, session);
}

export const checkoutRoutes: ApiRoute[] = [
  { method: "POST", path: "/v1/checkout/sessions", handler: create },
  {
    method: "GET",
    path: "/v1/checkout/sessions/:id",
    handler: (request) =>
      renderCheckoutSession(request.sim.baseUrl, currentSession(request.sim, pathParam(request, "id"))),
  },
  { method: "POST", path: "/v1/checkout/sessions/:id/expire", handler: expire },
  { method: "POST", path: "/v1/billing_portal/sessions", handler: createPortalSession },
];
