import { emailFromCheckoutSession } from "#lib/licensing/email.ts";
import { sameJson } from "#lib/licensing/license.ts";
import { type CustomerState, type SubscriptionRecord, TERMINAL_STATUSES } from "#lib/store/customers.ts";
import {
  invoiceSubscriptionId,
  type StripeEvent,
  type StripeSubscription,
  stripeCheckoutSessionSchema,
  stripeCustomerSchema,
  stripeId,
  stripeInvoiceSchema,
  stripeSubscriptionSchema,
} from "#lib/stripe/schemas.ts";
import { describeIssues, objectIdOf, UnrecognisedStripeObject } from "#lib/stripe/unrecognised.ts";
import type { ProvisioningContext } from "./context.ts";

/** The Stripe event types the product acts on; any other type is recorded as ignored. */
export const HANDLED_EVENT_TYPES = new Set([
  "customer.created",
  "customer.updated",
  "customer.deleted",
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
  "customer.subscription.trial_will_end",
  "invoice.paid",
  "invoice.payment_failed",
]);

/** The Stripe customer an event is about (its FIFO group), when it names one. */
export function eventCustomerId(event: Pick<StripeEvent, "type" | "data">): string | undefined {
  const object = event.data.object as { id?: unknown; customer?: unknown };
  if (event.type.startsWith("customer.") && !event.type.startsWith("customer.subscription.")) {
    return typeof object.id === "string" ? object.id : undefined;
  }
  const customer = object.customer;
  if (typeof customer === "string") return customer;
  if (customer && typeof customer === "object" && typeof (customer as { id?: unknown }).id === "string") {
    return (customer as { id: string }).id;
  }
  return undefined;
}

/**
 * The ids an event names that the worker turns into store keys, FIFO groups and Stripe requests,
 * by where they sit: its object's (the customer's, for `customer.*`), its customer's, and the
 * subscription an invoice or checkout session bills. Absent ones are `undefined` or `null`. The
 * webhook queues no event with one that is not an identifier (lib/identifiers.ts).
 */
export function eventObjectIds(event: Pick<StripeEvent, "data">): Record<string, unknown> {
  const object = event.data.object as { id?: unknown; customer?: unknown };
  const customer = object.customer;
  return {
    "data.object.id": object.id,
    "data.object.customer":
      customer !== null && typeof customer === "object" ? (customer as { id?: unknown }).id : customer,
    "data.object.subscription": rawSubscriptionId(object),
  };
}

/** A customer's stored state after an event was applied to it (read once, kept current). */
export interface AppliedEvent {
  customerId: string;
  state: CustomerState;
}

/**
 * Applies one Stripe event to the stored customer state, never letting an older snapshot
 * overwrite a newer one (docs/architecture.md §5). The customer's records are read once, in one query, and
 * kept current with every write made here; the conditional writes guard against other writers.
 * A subscription or invoice the pinned API version cannot read is fetched from Stripe instead.
 * Returns the customer whose licenses may have changed, with that state.
 */
export async function applyStripeEvent(
  event: StripeEvent,
  ctx: ProvisioningContext,
): Promise<AppliedEvent | undefined> {
  const customerId = eventCustomerId(event);
  if (!customerId) return undefined;
  const state = await ctx.customers.state(customerId);
  switch (event.type) {
    case "customer.created":
    case "customer.updated":
    case "customer.deleted": {
      const customer = stripeCustomerSchema.parse(event.data.object);
      const stored = state.profile;
      const profile = {
        customerId: customer.id,
        email: customer.email ?? null,
        metadata: customer.metadata,
        ...(event.type === "customer.deleted" || customer.deleted ? { deleted: true } : {}),
        version: event.created,
      };
      const tie =
        stored &&
        (stored.version === event.created || stored.source === "stripe") &&
        (stored.email !== profile.email || !sameJson(stored.metadata, profile.metadata));
      // Two changes in one second can't be ordered, nor an event and a customer fetched from
      // Stripe (see `applySnapshot`): Stripe's current customer decides.
      if (tie && event.type !== "customer.deleted")
        await refreshProfile(customer.id, event.created, ctx, state);
      else await saveProfileInto(state, profile, ctx);
      break;
    }
    case "checkout.session.completed": {
      const session = stripeCheckoutSessionSchema.parse(event.data.object);
      const email = emailFromCheckoutSession(session);
      if (email) state.profile = await ctx.customers.saveCheckoutEmail(customerId, email);
      const subscriptionId = stripeId(session.subscription);
      if (subscriptionId) await refreshSubscription(customerId, subscriptionId, event.created, ctx, state);
      break;
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      // An invoice carries no subscription snapshot: Stripe's current one is the truth — unless
      // the stored snapshot already shows this invoice paid.
      const invoice = await readableInvoice(event, ctx);
      const subscriptionId = invoice?.subscriptionId;
      if (!invoice || !subscriptionId) break;
      if (event.type === "invoice.paid" && showsPaid(state, subscriptionId, invoice.id, event.created)) break;
      await refreshSubscription(customerId, subscriptionId, event.created, ctx, state);
      break;
    }
    default: {
      if (!event.type.startsWith("customer.subscription.")) break;
      const snapshot = stripeSubscriptionSchema.safeParse(event.data.object);
      if (snapshot.success) await applySnapshot(snapshot.data, event.created, event.id, ctx, state);
      else {
        // Another API version's snapshot (periods on the subscription) or a value this one does not
        // know: Stripe's current subscription, fetched in the pinned version, decides — as it does
        // when two snapshots cannot be ordered, so the fetch is stored as newer than anything stored.
        const subscriptionId = unreadableObjectId(event, snapshot.error.issues, ctx);
        await refreshSubscription(customerId, subscriptionId, event.created, ctx, state);
      }
    }
  }
  await ensureProfile(customerId, event.created, ctx, state);
  return { customerId, state };
}

/**
 * The id of an event's object that does not parse in the pinned API version, logged with what did
 * not parse; the worker fetches that object instead. An object without an id cannot be fetched.
 */
function unreadableObjectId(
  event: StripeEvent,
  issues: Parameters<typeof describeIssues>[0],
  ctx: ProvisioningContext,
): string {
  const problems = describeIssues(issues, event.data.object);
  const objectType = event.type.startsWith("invoice.") ? "invoice" : "subscription";
  const id = objectIdOf(event.data.object);
  if (!id) throw new UnrecognisedStripeObject(objectType, "(no id)", problems);
  ctx.logger.info("event object not readable in the pinned API version; fetching it from Stripe", {
    objectId: id,
    apiVersion: event.api_version ?? null,
    problems,
  });
  return id;
}

/** An invoice as far as the worker needs it: its id and the subscription it bills. */
interface InvoiceRef {
  id: string;
  subscriptionId: string | undefined;
}

/** The subscription an invoice names in either API version's shape, read from the raw object. */
function rawSubscriptionId(object: unknown): string | undefined {
  const invoice = object as {
    subscription?: unknown;
    parent?: { subscription_details?: { subscription?: unknown } | null } | null;
  };
  for (const ref of [invoice.parent?.subscription_details?.subscription, invoice.subscription]) {
    const id = typeof ref === "string" ? ref : objectIdOf(ref);
    if (id) return id;
  }
  return undefined;
}

/**
 * The event's invoice: its snapshot; when that does not parse, the subscription it names (all the
 * worker needs, whatever else Stripe changed), or else the invoice fetched from Stripe (undefined
 * on 404).
 */
async function readableInvoice(
  event: StripeEvent,
  ctx: ProvisioningContext,
): Promise<InvoiceRef | undefined> {
  const snapshot = stripeInvoiceSchema.safeParse(event.data.object);
  if (snapshot.success) return { id: snapshot.data.id, subscriptionId: invoiceSubscriptionId(snapshot.data) };
  const invoiceId = unreadableObjectId(event, snapshot.error.issues, ctx);
  const named = rawSubscriptionId(event.data.object);
  if (named) return { id: invoiceId, subscriptionId: named };
  const invoice = await ctx.stripe.invoice(invoiceId);
  if (!invoice) ctx.logger.warn("invoice not found in Stripe", { invoiceId });
  return invoice && { id: invoice.id, subscriptionId: invoiceSubscriptionId(invoice) };
}

/**
 * True when the stored snapshot already shows what Stripe would answer after `invoiceId` was paid:
 * the invoice is its latest, the subscription is in good standing, and the snapshot is no older
 * than the invoice's event (`version` ≥ `created`). Paying the invoice changed nothing there, so
 * fetching the subscription would only store the same snapshot again. The version condition keeps
 * the ordering fence where a fetch would have put it: an older snapshot delivered late (a `past_due`
 * or `unpaid` from before the payment) is still refused. A first invoice left unpaid
 * (`incomplete`) or a failed renewal (`past_due`, `unpaid`) is fetched.
 */
function showsPaid(
  state: CustomerState,
  subscriptionId: string,
  invoiceId: string,
  created: number,
): boolean {
  const stored = state.subscriptions.find((s) => s.subscriptionId === subscriptionId);
  if (!stored || (stored.status !== "active" && stored.status !== "trialing")) return false;
  return stored.version >= created && stripeId(stored.snapshot.latest_invoice) === invoiceId;
}

/**
 * The stored record of a subscription: from `state` on a first look, else read again (after a
 * refused write) — and what was read replaces what `state` held, so the plan sees it too.
 */
async function storedSubscription(
  customerId: string,
  subscriptionId: string,
  ctx: ProvisioningContext,
  state: CustomerState | undefined,
  fresh: boolean,
): Promise<SubscriptionRecord | undefined> {
  if (state && !fresh) return state.subscriptions.find((s) => s.subscriptionId === subscriptionId);
  const record = await ctx.customers.subscription(customerId, subscriptionId);
  remember(state, subscriptionId, record);
  if (state) state.licenses = undefined;
  return record;
}

/** Keeps `state` current after a subscription write or read (undefined: not stored). */
function remember(
  state: CustomerState | undefined,
  subscriptionId: string,
  record: SubscriptionRecord | undefined,
): void {
  if (!state) return;
  state.subscriptions = [
    ...state.subscriptions.filter((s) => s.subscriptionId !== subscriptionId),
    ...(record ? [record] : []),
  ];
}

/**
 * Stores `snapshot` unless the stored one is newer. Same second and different content cannot be
 * ordered, nor can an event's snapshot and one fetched from Stripe: Stripe's current subscription
 * decides (and on 404 the more final snapshot stays).
 */
export async function applySnapshot(
  snapshot: StripeSubscription,
  version: number,
  source: string,
  ctx: ProvisioningContext,
  state?: CustomerState,
): Promise<void> {
  const customerId = stripeId(snapshot.customer);
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await storedSubscription(customerId, snapshot.id, ctx, state, attempt > 0);
    if (stored) {
      if (TERMINAL_STATUSES.has(stored.status) && !TERMINAL_STATUSES.has(snapshot.status)) return;
      if (version < stored.version) return;
      // A snapshot fetched from Stripe is as new as the fetch, which may be later than any event
      // still on its way, yet it carries an event's version: an event snapshot cannot be ordered
      // against it any more than against one of the same second.
      if (version === stored.version || stored.source === "stripe") {
        if (sameJson(stored.snapshot, snapshot)) return;
        if (await refreshSubscription(customerId, snapshot.id, version, ctx, state)) return;
        // Stripe no longer has it: keep the more final of the two.
        if (!TERMINAL_STATUSES.has(snapshot.status)) return;
      }
    }
    const record = {
      customerId,
      subscriptionId: snapshot.id,
      status: snapshot.status,
      version,
      source,
      snapshot,
    };
    const saved = await ctx.customers.saveSubscription(record, stored?.version);
    if (saved) return remember(state, snapshot.id, saved);
  }
  throw new Error(`subscription ${snapshot.id} kept changing under us`);
}

/**
 * Stores Stripe's current subscription: it is the truth as of now, so it replaces whatever is
 * stored, at the version (event `created`) of the newest event seen — only a strictly newer event
 * can replace it, and one of the same second fetches again. False when Stripe answers 404.
 * Versions stay in Stripe's event time, never our clock (test clocks freeze event time).
 */
export async function refreshSubscription(
  customerId: string,
  subscriptionId: string,
  atVersion: number,
  ctx: ProvisioningContext,
  state?: CustomerState,
): Promise<boolean> {
  if (state) state.licenses = undefined;
  const current = await ctx.stripe.subscription(subscriptionId);
  if (!current) {
    ctx.logger.warn("subscription not found in Stripe", { subscriptionId });
    return false;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const stored = await storedSubscription(customerId, subscriptionId, ctx, state, attempt > 0);
    const version = Math.max(atVersion, stored?.version ?? 0);
    // Already stored as fetched, at this version: nothing to write.
    if (stored?.source === "stripe" && stored.version === version && sameJson(stored.snapshot, current))
      return true;
    const record = {
      customerId,
      subscriptionId,
      status: current.status,
      version,
      source: "stripe",
      snapshot: current,
    };
    const saved = await ctx.customers.saveSubscription(record, stored?.version);
    if (saved) {
      remember(state, subscriptionId, saved);
      return true;
    }
  }
  throw new Error(`subscription ${subscriptionId} kept changing under us`);
}

/** A customer we never heard a customer event for is fetched from Stripe once. */
async function ensureProfile(
  customerId: string,
  atVersion: number,
  ctx: ProvisioningContext,
  state: CustomerState,
): Promise<void> {
  if (state.profile && state.profile.version > 0) return;
  await refreshProfile(customerId, atVersion, ctx, state);
}

/** Stores Stripe's current customer at the version of the newest event seen (see `refreshSubscription`). */
export async function refreshProfile(
  customerId: string,
  atVersion: number,
  ctx: ProvisioningContext,
  state?: CustomerState,
): Promise<void> {
  if (state) state.licenses = undefined;
  const [customer, stored] = await Promise.all([
    ctx.stripe.customer(customerId),
    state ? state.profile : ctx.customers.profile(customerId),
  ]);
  if (!customer) return;
  const profile = {
    customerId,
    email: customer.email ?? null,
    metadata: customer.metadata,
    ...(customer.deleted ? { deleted: true } : {}),
    version: Math.max(atVersion, stored?.version ?? 0, 1),
    source: "stripe" as const,
  };
  if (state) await saveProfileInto(state, profile, ctx);
  else await ctx.customers.saveProfile(profile);
}

/** Saves a profile and keeps `state` current; refused, a newer one is stored, which the plan must see. */
async function saveProfileInto(
  state: CustomerState,
  profile: Parameters<ProvisioningContext["customers"]["saveProfile"]>[0],
  ctx: ProvisioningContext,
): Promise<void> {
  const saved = await ctx.customers.saveProfile(profile);
  if (saved) {
    state.profile = saved;
    return;
  }
  state.profile = await ctx.customers.profile(profile.customerId);
  state.licenses = undefined;
}
