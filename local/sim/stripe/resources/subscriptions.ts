/** Subscriptions: create, retrieve, update, cancel, list — billing itself lives in billing.ts. */
import { type ApiRequest, type ApiRoute, LIST_KEYS, pathParam } from "../api.ts";
import {
  attemptPayment,
  createInvoice,
  emitPaymentOutcome,
  endSubscription,
  restartCycle,
} from "../billing.ts";
import { cardDeclined, invalidParam, invalidRequest, StripeSimError } from "../errors.ts";
import type { JsonObject, PauseCollection, SubscriptionStatus } from "../model.ts";
import { missingParam, type Params, rangeFilter } from "../params.ts";
import { renderSubscription } from "../render.ts";
import { applyItemChanges, ITEM_KEYS, readNewItems } from "./subscription-items.ts";
import { type CancelAt, emitOpened, openSubscription, PAYMENT_BEHAVIORS } from "./subscription-open.ts";

const MAX_TRIAL_SECONDS = 730 * 86_400;

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
