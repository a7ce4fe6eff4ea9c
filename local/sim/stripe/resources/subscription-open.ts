/** Opening a subscription: the first period, the first invoice and its payment (shared by the API and Checkout). */
import {
  attemptPayment,
  createInvoice,
  emitPaymentOutcome,
  type PaymentOutcome,
  periodEndOf,
  snapshot,
} from "../billing.ts";
import { cardDeclined, invalidParam } from "../errors.ts";
import type { EventOrigin } from "../events.ts";
import { newId } from "../ids.ts";
import type { CustomerRecord, InvoiceRecord, SubscriptionRecord } from "../model.ts";
import { type Metadata, missingParam } from "../params.ts";
import type { Simulator } from "../simulator.ts";
import { checkItems, type NewItem } from "./subscription-items.ts";

export type PaymentBehavior =
  | "allow_incomplete"
  | "default_incomplete"
  | "error_if_incomplete"
  | "pending_if_incomplete";
export const PAYMENT_BEHAVIORS: PaymentBehavior[] = [
  "allow_incomplete",
  "default_incomplete",
  "error_if_incomplete",
  "pending_if_incomplete",
];

export type CancelAt = number | "min_period_end" | "max_period_end";

export interface NewSubscription {
  customer: CustomerRecord;
  items: NewItem[];
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
