/** Subscriptions: create, retrieve, update, cancel, list — billing itself lives in billing.ts. */
import { type ApiRequest, type ApiRoute, LIST_KEYS, pathParam } from "../api.ts";
import {
  attemptPayment,
  createInvoice,
  emitPaymentOutcome,
  endSubscription,
  type PaymentOutcome,
  periodEndOf,
  restartCycle,
  snapshot,
  subscriptionInterval,
} from "../billing.ts";
import { cardDeclined, invalidParam, invalidRequest, resourceMissing, StripeSimError } from "../errors.ts";
import type { EventOrigin } from "../events.ts";
import { newId } from "../ids.ts";
import type {
  CustomerRecord,
  InvoiceRecord,
  JsonObject,
  PauseCollection,
  PriceRecord,
  SubscriptionItemRecord,
  SubscriptionRecord,
  SubscriptionStatus,
} from "../model.ts";
import { type Metadata, missingParam, type Params, rangeFilter } from "../params.ts";
import { renderSubscription } from "../render.ts";
import type { Simulator } from "../simulator.ts";

const MAX_TRIAL_SECONDS = 730 * 86_400;

type PaymentBehavior =
  | "allow_incomplete"
  | "default_incomplete"
  | "error_if_incomplete"
  | "pending_if_incomplete";
const PAYMENT_BEHAVIORS: PaymentBehavior[] = [
  "allow_incomplete",
  "default_incomplete",
  "error_if_incomplete",
  "pending_if_incomplete",
];

/** Parameters that change nothing the simulator models (payment methods, tax, invoicing details). */
const IGNORED = [
  "automatic_tax",
  "billing_mode",
  "default_payment_method",
  "default_source",
  "default_tax_rates",
  "off_session",
  "payment_settings",
  "proration_behavior",
  "proration_date",
  "trial_settings",
  "trial_from_plan",
  "days_until_due",
  "invoice_settings",
] as const;

/** Validates a price for a subscription item. */
function recurringPrice(sim: Simulator, id: string, param: string): PriceRecord {
  const price = sim.store.prices.require(id, param);
  if (price.recurring === null) {
    throw invalidParam(
      "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.",
      param,
    );
  }
  if (!price.active)
    throw invalidParam("The price specified is inactive. This field only accepts active prices.", param);
  return price;
}

/** Classic billing: every item shares one currency and one interval; a price appears once. */
function checkItems(sim: Simulator, items: SubscriptionItemRecord[]): void {
  if (items.length === 0)
    throw invalidRequest("A subscription must have at least one active price.", "items");
  const prices = items.map((item) => sim.store.prices.require(item.price));
  const first = prices[0] as PriceRecord;
  const seen = new Set<string>();
  for (const [index, price] of prices.entries()) {
    if (seen.has(price.id)) {
      throw invalidParam(
        `Cannot add multiple subscription items with the same price: ${price.id}`,
        `items[${index}][price]`,
      );
    }
    seen.add(price.id);
    if (price.currency !== first.currency) {
      throw invalidParam(
        "Currency and interval fields must match across all prices on this subscription. Found mismatch in currency field.",
        `items[${index}][price]`,
      );
    }
    if (
      price.recurring?.interval !== first.recurring?.interval ||
      price.recurring?.intervalCount !== first.recurring?.intervalCount
    ) {
      throw invalidParam(
        "Currency and interval fields must match across all prices on this subscription. Found mismatch in interval field.",
        `items[${index}][price]`,
      );
    }
  }
}

function readTrialEnd(params: Params, at: number): number | "now" | undefined {
  if (params.string("trial_end") === "now") return "now";
  const trialEnd = params.timestamp("trial_end");
  if (trialEnd === undefined) return undefined;
  if (trialEnd <= at)
    throw invalidParam("Invalid timestamp: must be an integer Unix timestamp in the future.", "trial_end");
  if (trialEnd > at + MAX_TRIAL_SECONDS)
    throw invalidParam("Invalid timestamp: can be no more than two years in the future.", "trial_end");
  return trialEnd;
}

type CancelAt = number | "min_period_end" | "max_period_end";

function readCancelAt(params: Params, at: number): CancelAt | null | undefined {
  if (params.isEmpty("cancel_at")) return null;
  const raw = params.string("cancel_at");
  if (raw === "min_period_end" || raw === "max_period_end") return raw;
  const cancelAt = params.timestamp("cancel_at");
  if (cancelAt !== undefined && cancelAt <= at) {
    throw invalidParam("Invalid timestamp: must be an integer Unix timestamp in the future.", "cancel_at");
  }
  return cancelAt;
}

function checkCancelExclusive(params: Params): void {
  if (
    params.boolean("cancel_at_period_end") === true &&
    params.has("cancel_at") &&
    !params.isEmpty("cancel_at")
  ) {
    throw new StripeSimError(
      400,
      "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
      {
        code: "parameters_exclusive",
        param: "cancel_at",
      },
    );
  }
}

export interface NewSubscription {
  customer: CustomerRecord;
  items: { price: PriceRecord; quantity: number; metadata: Metadata }[];
  metadata: Metadata;
  description: string | null;
  trialEnd: number | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: CancelAt | null;
  paymentBehavior: PaymentBehavior;
  /** Forces the first payment's outcome (Checkout completion); default: the customer's card. */
  succeed?: boolean;
}

export interface OpenedSubscription {
  subscription: SubscriptionRecord;
  invoice: InvoiceRecord;
  /** `trial`: a $0 trial invoice, paid without an event; `deferred`: default_incomplete, not attempted. */
  outcome: PaymentOutcome | "trial" | "deferred";
}

/**
 * Creates a subscription and its first invoice and takes the first payment; emits nothing, so
 * that callers (API create, Checkout completion) order the events as Stripe does.
 */
export function openSubscription(sim: Simulator, input: NewSubscription): OpenedSubscription {
  const at = sim.customerNow(input.customer.id);
  const first = input.items[0]?.price;
  if (first === undefined) throw missingParam("items");
  const trial = input.trialEnd !== null;
  const total = input.items.reduce((sum, item) => sum + item.price.unitAmount * item.quantity, 0);
  const fails = !(input.succeed ?? !input.customer.paymentFails);
  if (!trial && total > 0 && fails && input.paymentBehavior === "error_if_incomplete") throw cardDeclined();
  if (input.customer.currency !== null && input.customer.currency !== first.currency) {
    throw invalidParam(
      `You cannot combine currencies on a single customer. This customer has had a subscription or payment in ${input.customer.currency}, but you are trying to pay in ${first.currency}.`,
      "items[0][price]",
    );
  }
  const id = newId("sub");
  const subscription: SubscriptionRecord = {
    id,
    created: at,
    customer: input.customer.id,
    status: trial ? "trialing" : "incomplete",
    items: input.items.map((item) => ({
      id: newId("si"),
      created: at,
      price: item.price.id,
      quantity: item.quantity,
      metadata: item.metadata,
    })),
    metadata: input.metadata,
    description: input.description,
    currency: first.currency,
    collectionMethod: "charge_automatically",
    startDate: at,
    billingCycleAnchor: input.trialEnd ?? at,
    cycle: trial ? -1 : 0,
    currentPeriodStart: at,
    currentPeriodEnd: input.trialEnd ?? at,
    trialStart: trial ? at : null,
    trialEnd: input.trialEnd,
    cancelAt: null,
    cancelAtPeriodEnd: false,
    canceledAt: null,
    endedAt: null,
    cancellationDetails: { comment: null, feedback: null, reason: null },
    latestInvoice: null,
    pauseCollection: null,
    testClock: input.customer.testClock,
  };
  checkItems(sim, subscription.items);
  if (!trial) subscription.currentPeriodEnd = periodEndOf(sim, subscription, 0);
  if (input.cancelAtPeriodEnd) {
    subscription.cancelAtPeriodEnd = true;
    subscription.cancelAt = subscription.currentPeriodEnd;
    subscription.canceledAt = at;
  } else if (input.cancelAt !== null) {
    subscription.cancelAt =
      typeof input.cancelAt === "number" ? input.cancelAt : subscription.currentPeriodEnd;
    subscription.canceledAt = at;
  }
  input.customer.currency ??= first.currency;
  sim.store.subscriptions.add(subscription);
  const invoice = createInvoice(
    sim,
    subscription,
    "subscription_create",
    at,
    { start: at, end: at },
    { trial },
  );
  if (trial) {
    attemptPayment(sim, invoice, at, true);
    return { subscription, invoice, outcome: "trial" };
  }
  if (input.paymentBehavior === "default_incomplete") return { subscription, invoice, outcome: "deferred" };
  const outcome = attemptPayment(sim, invoice, at, input.succeed);
  if (outcome === "paid") subscription.status = "active";
  return { subscription, invoice, outcome };
}

/** `customer.subscription.created`, then the first invoice's outcome (none for a trial). */
export function emitOpened(sim: Simulator, opened: OpenedSubscription, origin: EventOrigin): void {
  const at = opened.subscription.created;
  sim.events.emit("customer.subscription.created", snapshot(sim, opened.subscription), {
    created: at,
    origin,
  });
  if (opened.outcome === "paid" || opened.outcome === "failed") {
    emitPaymentOutcome(sim, opened.invoice, opened.outcome, at, origin);
  }
}

const ITEM_KEYS = [
  "price",
  "quantity",
  "metadata",
  "tax_rates",
  "billing_thresholds",
  "price_data",
  "discounts",
];

function readNewItems(sim: Simulator, params: Params): NewSubscription["items"] {
  const items = params.objectList("items");
  if (items === undefined || items.length === 0) throw missingParam("items");
  return items.map((item) => {
    item.allowOnly(ITEM_KEYS);
    if (item.has("price_data"))
      throw invalidParam(
        "The simulator does not support price_data; create the price first.",
        item.name("price_data"),
      );
    const priceId = item.nonEmptyString("price");
    if (priceId === undefined) throw missingParam(item.name("price"));
    return {
      price: recurringPrice(sim, priceId, item.name("price")),
      quantity: item.integer("quantity", { min: 0 }) ?? 1,
      metadata: item.metadata(),
    };
  });
}

function create({ sim, params, origin }: ApiRequest): JsonObject {
  params.allowOnly([
    "customer",
    "items",
    "metadata",
    "description",
    "trial_period_days",
    "trial_end",
    "cancel_at_period_end",
    "cancel_at",
    "payment_behavior",
    "collection_method",
    "currency",
    ...IGNORED,
  ]);
  // The whole request is validated before any lookup, as Stripe does.
  for (const item of params.objectList("items") ?? []) item.allowOnly(ITEM_KEYS);
  const customer = sim.store.customers.require(params.requiredString("customer"), "customer");
  const at = sim.customerNow(customer.id);
  if (params.has("collection_method") && params.string("collection_method") !== "charge_automatically") {
    throw invalidParam(
      "The simulator supports collection_method=charge_automatically only.",
      "collection_method",
    );
  }
  const trialEnd = readTrialEnd(params, at);
  const trialDays = params.integer("trial_period_days", { min: 0, max: 730 });
  if (trialEnd !== undefined && trialDays !== undefined) {
    throw new StripeSimError(
      400,
      "You may only specify one of these parameters: trial_end, trial_period_days.",
      {
        code: "parameters_exclusive",
        param: "trial_end",
      },
    );
  }
  checkCancelExclusive(params);
  const opened = openSubscription(sim, {
    customer,
    items: readNewItems(sim, params),
    metadata: params.metadata(),
    description: params.clearableString("description") ?? null,
    trialEnd: typeof trialEnd === "number" ? trialEnd : trialDays ? at + trialDays * 86_400 : null,
    cancelAtPeriodEnd: params.boolean("cancel_at_period_end") ?? false,
    cancelAt: readCancelAt(params, at) ?? null,
    paymentBehavior: params.enumeration("payment_behavior", PAYMENT_BEHAVIORS) ?? "allow_incomplete",
  });
  emitOpened(sim, opened, origin);
  return renderSubscription(sim.store, opened.subscription);
}

/** Applies `items[n]` of an update to `draft` (by id: change or delete; without id: add). Returns whether any interval changed. */
function applyItemChanges(sim: Simulator, draft: SubscriptionRecord, params: Params, at: number): boolean {
  const changes = params.objectList("items");
  if (changes === undefined) return false;
  const before = subscriptionInterval(sim, draft);
  for (const change of changes) {
    change.allowOnly([
      "id",
      "price",
      "quantity",
      "metadata",
      "deleted",
      "clear_usage",
      "tax_rates",
      "billing_thresholds",
      "price_data",
      "discounts",
    ]);
    if (change.has("price_data"))
      throw invalidParam(
        "The simulator does not support price_data; create the price first.",
        change.name("price_data"),
      );
    const id = change.nonEmptyString("id");
    const priceId = change.nonEmptyString("price");
    const price = priceId === undefined ? undefined : recurringPrice(sim, priceId, change.name("price"));
    const quantity = change.integer("quantity", { min: 0 });
    if (id === undefined) {
      if (price === undefined) throw missingParam(change.name("price"));
      draft.items.push({
        id: newId("si"),
        created: at,
        price: price.id,
        quantity: quantity ?? 1,
        metadata: change.metadata(),
      });
      continue;
    }
    const index = draft.items.findIndex((item) => item.id === id);
    const item = draft.items[index];
    if (item === undefined) throw resourceMissing("subscription item", id, change.name("id"));
    if (change.boolean("deleted") === true) {
      draft.items.splice(index, 1);
      continue;
    }
    if (price !== undefined) item.price = price.id;
    if (quantity !== undefined) item.quantity = quantity;
    item.metadata = change.metadata("metadata", item.metadata);
  }
  checkItems(sim, draft.items);
  const currency = sim.store.prices.require((draft.items[0] as SubscriptionItemRecord).price).currency;
  if (currency !== draft.currency)
    throw invalidParam("You cannot change the currency of a subscription.", "items");
  const after = subscriptionInterval(sim, draft);
  return before.interval !== after.interval || before.count !== after.count;
}

function readPauseCollection(params: Params): PauseCollection | null | undefined {
  if (params.isEmpty("pause_collection")) return null;
  const pause = params.object("pause_collection")?.allowOnly(["behavior", "resumes_at"]);
  if (pause === undefined) return undefined;
  const behavior = pause.enumeration("behavior", ["keep_as_draft", "mark_uncollectible", "void"] as const);
  if (behavior === undefined) throw missingParam("pause_collection[behavior]");
  return { behavior, resumesAt: pause.timestamp("resumes_at") ?? null };
}

const ENDED: SubscriptionStatus[] = ["canceled", "incomplete_expired"];

function update(request: ApiRequest): JsonObject {
  const { sim, params, origin } = request;
  params.allowOnly([
    "items",
    "metadata",
    "description",
    "trial_end",
    "cancel_at_period_end",
    "cancel_at",
    "cancellation_details",
    "pause_collection",
    "payment_behavior",
    "billing_cycle_anchor",
    "collection_method",
    ...IGNORED,
  ]);
  const subscription = sim.store.subscriptions.require(pathParam(request, "id"));
  const at = sim.customerNow(subscription.customer);
  if (ENDED.includes(subscription.status)) {
    const other = Object.keys(params.form).find(
      (key) => key !== "metadata" && key !== "cancellation_details",
    );
    if (other !== undefined) {
      throw invalidRequest(
        "A canceled subscription can only update its cancellation_details and metadata.",
        other,
      );
    }
  }
  checkCancelExclusive(params);
  const before = renderSubscription(sim.store, subscription);
  // Changes go to a copy first so that a rejected request changes nothing.
  const draft = structuredClone(subscription);
  draft.metadata = params.metadata("metadata", draft.metadata);
  const description = params.clearableString("description");
  if (description !== undefined) draft.description = description;
  const details = params.object("cancellation_details")?.allowOnly(["comment", "feedback"]);
  if (details !== undefined) {
    const comment = details.clearableString("comment");
    if (comment !== undefined) draft.cancellationDetails.comment = comment;
    const feedback = details.clearableString("feedback");
    if (feedback !== undefined) draft.cancellationDetails.feedback = feedback;
  }
  const intervalChanged = applyItemChanges(sim, draft, params, at);
  const pause = readPauseCollection(params);
  if (pause !== undefined) draft.pauseCollection = pause;

  const trialEnd = readTrialEnd(params, at);
  const anchor = params.enumeration("billing_cycle_anchor", ["now", "unchanged"] as const);
  let restart = false;
  if (trialEnd === "now" && draft.status === "trialing") {
    draft.status = "active";
    draft.trialEnd = at;
    restart = true;
  } else if (typeof trialEnd === "number") {
    if (draft.status !== "trialing" && draft.status !== "active") {
      throw invalidRequest(`A ${draft.status} subscription cannot be given a trial.`, "trial_end");
    }
    if (draft.status === "active") {
      // A trial added to a running subscription starts now and replaces the current period.
      draft.trialStart = at;
      draft.currentPeriodStart = at;
    }
    draft.status = "trialing";
    draft.trialEnd = trialEnd;
    draft.billingCycleAnchor = trialEnd;
    draft.cycle = -1;
    draft.currentPeriodEnd = trialEnd;
  } else if (draft.status !== "trialing" && (intervalChanged || anchor === "now")) {
    restart = true;
  }
  if (restart) restartCycle(sim, draft, at);

  const cancelAtPeriodEnd = params.boolean("cancel_at_period_end");
  if (cancelAtPeriodEnd === true) {
    draft.cancelAtPeriodEnd = true;
    draft.cancelAt = draft.currentPeriodEnd;
    draft.canceledAt = at;
  } else if (cancelAtPeriodEnd === false) {
    draft.cancelAtPeriodEnd = false;
    draft.cancelAt = null;
    draft.canceledAt = null;
  }
  const cancelAt = readCancelAt(params, at);
  if (cancelAt !== undefined) {
    draft.cancelAtPeriodEnd = false;
    draft.cancelAt =
      cancelAt === null ? null : typeof cancelAt === "number" ? cancelAt : draft.currentPeriodEnd;
    draft.canceledAt = cancelAt === null ? null : at;
  }

  const customer = sim.store.customers.require(subscription.customer);
  const paymentBehavior = params.enumeration("payment_behavior", PAYMENT_BEHAVIORS) ?? "allow_incomplete";
  if (
    restart &&
    customer.paymentFails &&
    draft.pauseCollection === null &&
    paymentBehavior === "error_if_incomplete"
  ) {
    throw cardDeclined();
  }

  Object.assign(subscription, draft);
  const invoice = restart
    ? createInvoice(sim, subscription, "subscription_update", at, { start: at, end: at })
    : undefined;
  const after = renderSubscription(sim.store, subscription);
  sim.events.emitUpdate("customer.subscription.updated", before, after, { created: at, origin });
  if (invoice === undefined) return after;
  if (subscription.pauseCollection !== null) {
    invoice.status = "draft";
    invoice.finalizedAt = null;
    return renderSubscription(sim.store, subscription);
  }
  const outcome = attemptPayment(sim, invoice, at);
  emitPaymentOutcome(sim, invoice, outcome, at, origin);
  if (outcome === "failed" && subscription.status === "active") {
    const beforeFailure = renderSubscription(sim.store, subscription);
    subscription.status = "past_due";
    sim.events.emitUpdate(
      "customer.subscription.updated",
      beforeFailure,
      renderSubscription(sim.store, subscription),
      {
        created: at,
        origin,
      },
    );
  }
  return renderSubscription(sim.store, subscription);
}

function cancel(request: ApiRequest): JsonObject {
  const { sim, params, origin } = request;
  params.allowOnly(["invoice_now", "prorate", "cancellation_details"]);
  const subscription = sim.store.subscriptions.require(pathParam(request, "id"));
  if (ENDED.includes(subscription.status)) {
    throw invalidRequest(
      `This subscription is already ${subscription.status === "canceled" ? "canceled" : "expired"}.`,
    );
  }
  const details = params.object("cancellation_details")?.allowOnly(["comment", "feedback"]);
  if (details !== undefined) {
    subscription.cancellationDetails.comment =
      details.clearableString("comment") ?? subscription.cancellationDetails.comment;
    subscription.cancellationDetails.feedback =
      details.clearableString("feedback") ?? subscription.cancellationDetails.feedback;
  }
  const at = sim.customerNow(subscription.customer);
  subscription.canceledAt = at;
  endSubscription(sim, subscription, at, "cancellation_requested", origin);
  return renderSubscription(sim.store, subscription);
}

const STATUSES = [
  "active",
  "all",
  "canceled",
  "ended",
  "incomplete",
  "incomplete_expired",
  "past_due",
  "paused",
  "trialing",
  "unpaid",
] as const;

function list({ sim, params }: ApiRequest): JsonObject {
  params.allowOnly([
    ...LIST_KEYS,
    "customer",
    "price",
    "status",
    "test_clock",
    "created",
    "collection_method",
    "current_period_end",
    "current_period_start",
  ]);
  const customer = params.nonEmptyString("customer");
  const price = params.nonEmptyString("price");
  const status = params.enumeration("status", STATUSES);
  const testClock = params.nonEmptyString("test_clock");
  const created = rangeFilter(params, "created");
  const statusMatches = (value: SubscriptionStatus): boolean => {
    // Stripe's default leaves out ended subscriptions; `ended` = canceled + incomplete_expired.
    if (status === undefined) return !ENDED.includes(value);
    if (status === "all") return true;
    if (status === "ended") return ENDED.includes(value);
    return value === status;
  };
  return sim.store.subscriptions.page(
    params,
    "/v1/subscriptions",
    (subscription) =>
      statusMatches(subscription.status) &&
      (customer === undefined || subscription.customer === customer) &&
      (price === undefined || subscription.items.some((item) => item.price === price)) &&
      (testClock === undefined || subscription.testClock === testClock) &&
      (created === undefined || created(subscription.created)),
    (subscription) => renderSubscription(sim.store, subscription),
  );
}

export const subscriptionRoutes: ApiRoute[] = [
  { method: "POST", path: "/v1/subscriptions", handler: create },
  { method: "GET", path: "/v1/subscriptions", handler: list },
  {
    method: "GET",
    path: "/v1/subscriptions/:id",
    handler: (request) =>
      renderSubscription(
        request.sim.store,
        request.sim.store.subscriptions.require(pathParam(request, "id")),
      ),
  },
  { method: "POST", path: "/v1/subscriptions/:id", handler: update },
  { method: "DELETE", path: "/v1/subscriptions/:id", handler: cancel },
];
