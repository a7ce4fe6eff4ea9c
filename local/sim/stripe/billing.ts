/**
 * Billing as Stripe runs it, in the simulator's terms: periods from a billing-cycle anchor,
 * invoices and payment attempts, and the time-driven transitions (trial end, renewal, payment
 * retries, cancellation at `cancel_at`, expiry of an unpaid first invoice) that a test clock
 * advance — or, for customers without a clock, real time — walks through in order.
 *
 * Event order (the contract the project's tests rely on; see README.md):
 * - trial end: `customer.subscription.updated` (trialing → active), then `invoice.paid`
 *   (or `invoice.payment_failed` and another `customer.subscription.updated` → past_due);
 * - renewal: `invoice.paid` then `customer.subscription.updated` (new period), or
 *   `invoice.payment_failed` then `customer.subscription.updated` (→ past_due);
 * - a retry that succeeds: `invoice.paid` then `customer.subscription.updated` (past_due → active);
 * - the end of a `cancel_at_period_end` / `cancel_at` subscription: `customer.subscription.deleted`.
 */
import { cardDeclined } from "./errors.ts";
import { AUTOMATIC, type EventOrigin } from "./events.ts";
import { newId } from "./ids.ts";
import type {
  CustomerRecord,
  Interval,
  InvoiceLineRecord,
  InvoiceRecord,
  PriceRecord,
  SubscriptionRecord,
} from "./model.ts";
import { renderInvoice, renderSubscription } from "./render.ts";
import type { Simulator } from "./simulator.ts";

export const DAY = 86_400;
/** Stripe expires a subscription whose first invoice stays unpaid for 23 hours. */
export const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;
/**
 * Waits after each failed attempt of a renewal invoice (3, 5 then 7 days, like a Stripe custom
 * retry schedule). When the attempt after the last wait fails too, the subscription is canceled,
 * Stripe's default "if all retries fail" setting.
 */
export const RETRY_DELAYS_SECONDS = [3 * DAY, 5 * DAY, 7 * DAY];

/** `from` plus `count` intervals; months clamp to the month's last day as Stripe's billing does. */
export function addInterval(from: number, interval: Interval, count: number): number {
  switch (interval) {
    case "day":
      return from + count * DAY;
    case "week":
      return from + count * 7 * DAY;
    case "month":
      return addMonths(from, count);
    case "year":
      return addMonths(from, count * 12);
  }
}

function addMonths(from: number, months: number): number {
  const date = new Date(from * 1000);
  const total = date.getUTCMonth() + months;
  const year = date.getUTCFullYear() + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(date.getUTCDate(), lastDay);
  return Date.UTC(year, month, day, date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()) / 1000;
}

/** The recurring interval shared by every item of a subscription (classic billing mode). */
export function subscriptionInterval(
  sim: Simulator,
  subscription: SubscriptionRecord,
): { interval: Interval; count: number } {
  const first = subscription.items[0];
  const price = first === undefined ? undefined : sim.store.prices.get(first.price);
  return { interval: price?.recurring?.interval ?? "month", count: price?.recurring?.intervalCount ?? 1 };
}

/** End of period number `cycle` counted from the anchor (computed from the anchor, so month-end clamping never drifts). */
export function periodEndOf(sim: Simulator, subscription: SubscriptionRecord, cycle: number): number {
  const { interval, count } = subscriptionInterval(sim, subscription);
  return addInterval(subscription.billingCycleAnchor, interval, count * (cycle + 1));
}

/** Starts a new billing cycle at `at` (trial ended early, interval changed, anchor reset). */
export function restartCycle(sim: Simulator, subscription: SubscriptionRecord, at: number): void {
  subscription.billingCycleAnchor = at;
  subscription.cycle = 0;
  subscription.currentPeriodStart = at;
  subscription.currentPeriodEnd = periodEndOf(sim, subscription, 0);
  if (subscription.cancelAtPeriodEnd) subscription.cancelAt = subscription.currentPeriodEnd;
}

export function snapshot(sim: Simulator, subscription: SubscriptionRecord) {
  return renderSubscription(sim.store, subscription);
}

function formatAmount(price: PriceRecord): string {
  const amount = (price.unitAmount / 100).toFixed(2);
  const symbol = price.currency === "usd" ? "$" : `${price.currency.toUpperCase()} `;
  const per =
    price.recurring === null
      ? ""
      : ` / ${price.recurring.intervalCount > 1 ? `${price.recurring.intervalCount} ` : ""}${price.recurring.interval}`;
  return `${symbol}${amount}${per}`;
}

/**
 * A finalized invoice for the subscription's current items. Lines cover the current period; the
 * invoice's own `period_start`/`period_end` are the given ones (for a renewal, the period that
 * just ended, as on Stripe). `trial`: a $0 invoice for the trial period.
 */
export function createInvoice(
  sim: Simulator,
  subscription: SubscriptionRecord,
  reason: InvoiceRecord["billingReason"],
  at: number,
  period: { start: number; end: number },
  { trial = false }: { trial?: boolean } = {},
): InvoiceRecord {
  const customer = sim.store.customers.require(subscription.customer);
  const id = newId("in");
  const lines: InvoiceLineRecord[] = subscription.items.map((item) => {
    const price = sim.store.prices.require(item.price);
    const productName = sim.store.products.get(price.product)?.name ?? price.product;
    return {
      id: newId("il"),
      price: price.id,
      subscriptionItem: item.id,
      quantity: item.quantity,
      amount: trial ? 0 : price.unitAmount * item.quantity,
      description: trial
        ? `Trial period for ${productName}`
        : `${item.quantity} × ${productName} (at ${formatAmount(price)})`,
      periodStart: subscription.currentPeriodStart,
      periodEnd: subscription.currentPeriodEnd,
    };
  });
  const invoice: InvoiceRecord = {
    id,
    created: at,
    customer: customer.id,
    subscription: subscription.id,
    status: "open",
    billingReason: reason,
    currency: subscription.currency,
    number: `${customer.invoicePrefix}-${String(customer.nextInvoiceSequence).padStart(4, "0")}`,
    periodStart: period.start,
    periodEnd: period.end,
    lines,
    total: lines.reduce((sum, line) => sum + line.amount, 0),
    amountPaid: 0,
    attemptCount: 0,
    attempted: false,
    nextPaymentAttempt: null,
    finalizedAt: at,
    paidAt: null,
    voidedAt: null,
    markedUncollectibleAt: null,
    testClock: subscription.testClock,
  };
  customer.nextInvoiceSequence += 1;
  subscription.latestInvoice = id;
  return sim.store.invoices.add(invoice);
}

export type PaymentOutcome = "paid" | "failed";

/**
 * One payment attempt. `succeed` forces the outcome; otherwise it follows the customer's
 * simulated card (`paymentFails`). $0 invoices always succeed. Mutates only: the caller emits.
 */
export function attemptPayment(
  sim: Simulator,
  invoice: InvoiceRecord,
  at: number,
  succeed?: boolean,
): PaymentOutcome {
  const customer = sim.store.customers.get(invoice.customer);
  const fails = invoice.total > 0 && !(succeed ?? !(customer?.paymentFails ?? false));
  invoice.attempted = true;
  invoice.attemptCount += 1;
  if (fails) {
    invoice.status = "open";
    // A first invoice waits for the customer (incomplete); renewals retry on a schedule.
    const wait =
      invoice.billingReason === "subscription_create"
        ? undefined
        : RETRY_DELAYS_SECONDS[invoice.attemptCount - 1];
    invoice.nextPaymentAttempt = wait === undefined ? null : at + wait;
    return "failed";
  }
  invoice.status = "paid";
  invoice.amountPaid = invoice.total;
  invoice.paidAt = at;
  invoice.nextPaymentAttempt = null;
  return "paid";
}

export function emitPaymentOutcome(
  sim: Simulator,
  invoice: InvoiceRecord,
  outcome: PaymentOutcome,
  at: number,
  origin: EventOrigin = AUTOMATIC,
): void {
  sim.events.emit(
    outcome === "paid" ? "invoice.paid" : "invoice.payment_failed",
    renderInvoice(sim.store, invoice),
    {
      created: at,
      origin,
    },
  );
}

/** Open invoices of a subscription that a payment attempt has already failed on. */
function unpaidInvoices(sim: Simulator, subscription: SubscriptionRecord): InvoiceRecord[] {
  return sim.store.invoices
    .values()
    .filter(
      (invoice) => invoice.subscription === subscription.id && invoice.status === "open" && invoice.attempted,
    );
}

/** After a payment: past_due / incomplete / unpaid become active once nothing is left unpaid. */
export function settleSubscription(
  sim: Simulator,
  subscription: SubscriptionRecord,
  at: number,
  origin: EventOrigin,
): void {
  if (!["past_due", "incomplete", "unpaid"].includes(subscription.status)) return;
  if (unpaidInvoices(sim, subscription).length > 0) return;
  const before = snapshot(sim, subscription);
  subscription.status = "active";
  sim.events.emitUpdate("customer.subscription.updated", before, snapshot(sim, subscription), {
    created: at,
    origin,
  });
}

/** Ends a subscription now: `customer.subscription.deleted`. */
export function endSubscription(
  sim: Simulator,
  subscription: SubscriptionRecord,
  at: number,
  reason: "cancellation_requested" | "payment_failed" | "payment_disputed",
  origin: EventOrigin,
): void {
  subscription.status = "canceled";
  subscription.endedAt = at;
  subscription.canceledAt ??= at;
  subscription.cancellationDetails = { ...subscription.cancellationDetails, reason };
  subscription.pauseCollection = null;
  // Stripe stops collecting a canceled subscription's invoices.
  for (const invoice of sim.store.invoices.values()) {
    if (invoice.subscription === subscription.id && invoice.status === "open")
      invoice.nextPaymentAttempt = null;
  }
  sim.events.emit("customer.subscription.deleted", snapshot(sim, subscription), { created: at, origin });
}

/**
 * Pays `invoice` now, on request (`POST /v1/invoices/{id}/pay`, `POST /_sim/subscriptions/{id}/pay`):
 * emits the outcome, settles the subscription, and throws Stripe's 402 when the card is declined.
 */
export function payInvoiceNow(
  sim: Simulator,
  invoice: InvoiceRecord,
  origin: EventOrigin,
  succeed?: boolean,
): void {
  const at = sim.customerNow(invoice.customer);
  const outcome = attemptPayment(sim, invoice, at, succeed);
  emitPaymentOutcome(sim, invoice, outcome, at, origin);
  if (outcome === "failed") throw cardDeclined();
  const subscription =
    invoice.subscription === null ? undefined : sim.store.subscriptions.get(invoice.subscription);
  if (subscription !== undefined) settleSubscription(sim, subscription, at, origin);
}

/**
 * Collects a renewal-like invoice honouring `pause_collection`: a paused subscription's invoices
 * are voided, left as drafts or marked uncollectible, and nothing is charged.
 */
function collect(
  sim: Simulator,
  subscription: SubscriptionRecord,
  invoice: InvoiceRecord,
  at: number,
): PaymentOutcome | "paused" {
  const pause = subscription.pauseCollection;
  if (pause === null) return attemptPayment(sim, invoice, at);
  if (pause.behavior === "void") {
    invoice.status = "void";
    invoice.voidedAt = at;
  } else if (pause.behavior === "mark_uncollectible") {
    invoice.status = "uncollectible";
    invoice.markedUncollectibleAt = at;
  } else {
    invoice.status = "draft";
    invoice.finalizedAt = null;
  }
  return "paused";
}

type DueKind = "retry" | "resume" | "cancel" | "trial_end" | "renew" | "expire_incomplete";
/** At one instant, earlier kinds go first: a cancellation at the period end wins over the renewal. */
const PRIORITY: DueKind[] = ["retry", "resume", "cancel", "trial_end", "renew", "expire_incomplete"];

interface Due {
  at: number;
  kind: DueKind;
  invoice?: InvoiceRecord;
}

/** The subscription's next time-driven transition. */
export function nextDue(sim: Simulator, subscription: SubscriptionRecord): Due | undefined {
  const s = subscription;
  const due: Due[] = [];
  if (s.status === "incomplete")
    due.push({ at: s.created + INCOMPLETE_EXPIRY_SECONDS, kind: "expire_incomplete" });
  if (s.status === "trialing" || s.status === "active" || s.status === "past_due") {
    if (s.cancelAt !== null) due.push({ at: s.cancelAt, kind: "cancel" });
    if (s.status === "trialing") due.push({ at: s.trialEnd ?? s.currentPeriodEnd, kind: "trial_end" });
    else due.push({ at: s.currentPeriodEnd, kind: "renew" });
    // Only a past_due subscription has failed invoices to retry; skipping the scan keeps the
    // real-time sweep cheap with thousands of subscriptions.
    if (s.status === "past_due") {
      for (const invoice of unpaidInvoices(sim, s)) {
        if (invoice.nextPaymentAttempt !== null)
          due.push({ at: invoice.nextPaymentAttempt, kind: "retry", invoice });
      }
    }
    if (s.pauseCollection?.resumesAt != null) due.push({ at: s.pauseCollection.resumesAt, kind: "resume" });
  }
  due.sort((a, b) => a.at - b.at || PRIORITY.indexOf(a.kind) - PRIORITY.indexOf(b.kind));
  return due[0];
}

function apply(sim: Simulator, subscription: SubscriptionRecord, due: Due): void {
  const s = subscription;
  const at = due.at;
  const created = { created: at };
  switch (due.kind) {
    case "cancel":
      endSubscription(sim, s, at, "cancellation_requested", AUTOMATIC);
      return;
    case "resume": {
      const before = snapshot(sim, s);
      s.pauseCollection = null;
      sim.events.emitUpdate("customer.subscription.updated", before, snapshot(sim, s), created);
      return;
    }
    case "expire_incomplete": {
      const before = snapshot(sim, s);
      s.status = "incomplete_expired";
      s.endedAt = at;
      s.canceledAt = at;
      const invoice = s.latestInvoice === null ? undefined : sim.store.invoices.get(s.latestInvoice);
      if (invoice?.status === "open") {
        invoice.status = "void";
        invoice.voidedAt = at;
        invoice.nextPaymentAttempt = null;
      }
      sim.events.emitUpdate("customer.subscription.updated", before, snapshot(sim, s), created);
      return;
    }
    case "trial_end": {
      const before = snapshot(sim, s);
      const trialStart = s.trialStart ?? s.currentPeriodStart;
      s.status = "active";
      s.cycle = 0;
      s.currentPeriodStart = at;
      s.currentPeriodEnd = periodEndOf(sim, s, 0);
      const invoice = createInvoice(sim, s, "subscription_cycle", at, { start: trialStart, end: at });
      sim.events.emitUpdate("customer.subscription.updated", before, snapshot(sim, s), created);
      const outcome = collect(sim, s, invoice, at);
      if (outcome === "paused") return;
      emitPaymentOutcome(sim, invoice, outcome, at);
      if (outcome === "failed") {
        const beforeFailure = snapshot(sim, s);
        s.status = "past_due";
        sim.events.emitUpdate("customer.subscription.updated", beforeFailure, snapshot(sim, s), created);
      }
      return;
    }
    case "renew": {
      const before = snapshot(sim, s);
      const ended = { start: s.currentPeriodStart, end: s.currentPeriodEnd };
      s.cycle += 1;
      s.currentPeriodStart = ended.end;
      s.currentPeriodEnd = periodEndOf(sim, s, s.cycle);
      const invoice = createInvoice(sim, s, "subscription_cycle", at, ended);
      const outcome = collect(sim, s, invoice, at);
      if (outcome !== "paused") {
        emitPaymentOutcome(sim, invoice, outcome, at);
        if (outcome === "failed") s.status = "past_due";
      }
      sim.events.emitUpdate("customer.subscription.updated", before, snapshot(sim, s), created);
      return;
    }
    case "retry": {
      const invoice = due.invoice;
      if (invoice === undefined) return;
      const outcome = attemptPayment(sim, invoice, at);
      emitPaymentOutcome(sim, invoice, outcome, at);
      if (outcome === "paid") settleSubscription(sim, s, at, AUTOMATIC);
      else if (invoice.nextPaymentAttempt === null) endSubscription(sim, s, at, "payment_failed", AUTOMATIC);
      return;
    }
  }
}

/**
 * Runs every transition due up to `until` for the subscriptions `inScope`, earliest first (across
 * subscriptions), each at its own instant: events carry that instant as `created`. `onStep` moves
 * a test clock's frozen time along.
 */
export function runDue(
  sim: Simulator,
  until: number,
  inScope: (subscription: SubscriptionRecord) => boolean,
  onStep: (at: number) => void = () => {},
): void {
  // A guard against a transition that would not move time forward; real runs stay far below it.
  for (let step = 0; step < 100_000; step++) {
    let next: { subscription: SubscriptionRecord; due: Due } | undefined;
    for (const subscription of sim.store.subscriptions.values()) {
      if (!inScope(subscription)) continue;
      const due = nextDue(sim, subscription);
      if (due === undefined || due.at > until) continue;
      if (next === undefined || due.at < next.due.at) next = { subscription, due };
    }
    if (next === undefined) return;
    onStep(next.due.at);
    apply(sim, next.subscription, next.due);
  }
  throw new Error("billing did not settle: a transition kept repeating");
}

/** The customer's card works again: failed renewal invoices are retried at the next advance (or, without a clock, now). */
export function retryUnpaidSoon(sim: Simulator, customer: CustomerRecord): void {
  const at = sim.customerNow(customer.id);
  for (const subscription of sim.store.subscriptions.values()) {
    if (
      subscription.customer !== customer.id ||
      !["past_due", "active", "trialing"].includes(subscription.status)
    )
      continue;
    for (const invoice of unpaidInvoices(sim, subscription)) {
      if (invoice.billingReason !== "subscription_create") invoice.nextPaymentAttempt = at;
    }
  }
}
