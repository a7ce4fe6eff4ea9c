import { emailFromCheckoutSession } from "#lib/licensing/email.ts";
import { sameJson } from "#lib/licensing/license.ts";
import type { CustomerState } from "#lib/store/customers.ts";
import {
  invoiceSubscriptionId,
  type StripeEvent,
  stripeCheckoutSessionSchema,
  stripeCustomerSchema,
  stripeId,
  stripeInvoiceSchema,
  stripeSubscriptionSchema,
} from "#lib/stripe/schemas.ts";
import { describeIssues, objectIdOf, UnrecognisedStripeObject } from "#lib/stripe/unrecognised.ts";
import type { EnginePorts } from "./ports.ts";
import { eventCustomerId, rawSubscriptionId } from "./stripe-events.ts";
import { refreshProfile, refreshSubscription, saveProfile, storeEventSnapshot } from "./subscriptions.ts";

/** A customer's state after an event was applied to it, and whether anything stored changed. */
export interface Applied {
  customerId: string;
  state: CustomerState;
  changed: boolean;
}

/**
 * Applies one Stripe event to a customer's stored `state` (as read, in one query, just before),
 * never letting an older snapshot overwrite a newer one (docs/architecture.md §5). Returns the new
 * state — `state` itself is never changed. A subscription or invoice the pinned API version cannot
 * read is fetched from Stripe instead. A write another writer won throws `RecordConflictError`:
 * the caller applies the event again from a fresh read.
 */
export async function applyEvent(
  event: StripeEvent,
  state: CustomerState,
  ports: EnginePorts,
): Promise<Applied> {
  const customerId = eventCustomerId(event) ?? "";
  const next = await applyToState(event, customerId, state, ports);
  const complete =
    next.profile && next.profile.version > 0
      ? next
      : await refreshProfile(ports, next, customerId, event.created);
  return { customerId, state: complete, changed: complete !== state };
}

async function applyToState(
  event: StripeEvent,
  customerId: string,
  state: CustomerState,
  ports: EnginePorts,
): Promise<CustomerState> {
  switch (event.type) {
    case "customer.created":
    case "customer.updated":
    case "customer.deleted": {
      const customer = stripeCustomerSchema.parse(event.data.object);
      const stored = state.profile;
      const deleted = event.type === "customer.deleted" || customer.deleted === true;
      const profile = {
        customerId: customer.id,
        email: customer.email ?? null,
        metadata: customer.metadata,
        ...(deleted ? { deleted: true } : {}),
        version: event.created,
      };
      // Two changes in one second can't be ordered, nor an event and a customer fetched from
      // Stripe: Stripe's current customer decides.
      const tie =
        stored &&
        (stored.version === event.created || stored.source === "stripe") &&
        (stored.email !== profile.email || !sameJson(stored.metadata, profile.metadata));
      if (tie && !deleted) return refreshProfile(ports, state, customer.id, event.created);
      return saveProfile(ports, state, profile);
    }
    case "checkout.session.completed": {
      const session = stripeCheckoutSessionSchema.parse(event.data.object);
      const email = emailFromCheckoutSession(session);
      const withEmail = email
        ? { ...state, profile: await ports.customers.saveCheckoutEmail(customerId, email) }
        : state;
      const subscriptionId = stripeId(session.subscription);
      if (!subscriptionId) return withEmail;
      return (await refreshSubscription(ports, withEmail, customerId, subscriptionId, event.created)).state;
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      // An invoice carries no subscription snapshot: Stripe's current one is the truth — unless
      // the stored snapshot already shows this invoice paid.
      const invoice = await readableInvoice(event, ports);
      const subscriptionId = invoice?.subscriptionId;
      if (!invoice || !subscriptionId) return state;
      if (event.type === "invoice.paid" && showsPaid(state, subscriptionId, invoice.id, event.created))
        return state;
      return (await refreshSubscription(ports, state, customerId, subscriptionId, event.created)).state;
    }
    default: {
      if (!event.type.startsWith("customer.subscription.")) return state;
      const snapshot = stripeSubscriptionSchema.safeParse(event.data.object);
      if (snapshot.success) {
        return storeEventSnapshot(ports, state, customerId, snapshot.data, event.created, event.id);
      }
      // Another API version's snapshot (periods on the subscription) or a value this one does not
      // know: Stripe's current subscription, fetched in the pinned version, decides — as it does
      // when two snapshots cannot be ordered, so the fetch is stored as newer than anything stored.
      const subscriptionId = unreadableObjectId(event, snapshot.error.issues, ports);
      return (await refreshSubscription(ports, state, customerId, subscriptionId, event.created)).state;
    }
  }
}

/**
 * The id of an event's object that does not parse in the pinned API version, logged with what did
 * not parse; the engine fetches that object instead. An object without an id cannot be fetched.
 */
function unreadableObjectId(
  event: StripeEvent,
  issues: Parameters<typeof describeIssues>[0],
  ports: EnginePorts,
): string {
  const problems = describeIssues(issues, event.data.object);
  const objectType = event.type.startsWith("invoice.") ? "invoice" : "subscription";
  const id = objectIdOf(event.data.object);
  if (!id) throw new UnrecognisedStripeObject(objectType, "(no id)", problems);
  ports.logger.info("event object not readable in the pinned API version; fetching it from Stripe", {
    objectId: id,
    apiVersion: event.api_version ?? null,
    problems,
  });
  return id;
}

/** An invoice as far as the engine needs it: its id and the subscription it bills. */
interface InvoiceRef {
  id: string;
  subscriptionId: string | undefined;
}

/**
 * The event's invoice: its snapshot; when that does not parse, the subscription it names (all the
 * engine needs, whatever else Stripe changed), or else the invoice fetched from Stripe (undefined
 * on 404).
 */
async function readableInvoice(event: StripeEvent, ports: EnginePorts): Promise<InvoiceRef | undefined> {
  const snapshot = stripeInvoiceSchema.safeParse(event.data.object);
  if (snapshot.success) return { id: snapshot.data.id, subscriptionId: invoiceSubscriptionId(snapshot.data) };
  const invoiceId = unreadableObjectId(event, snapshot.error.issues, ports);
  const named = rawSubscriptionId(event.data.object);
  if (named) return { id: invoiceId, subscriptionId: named };
  const invoice = await ports.stripe.invoice(invoiceId);
  if (!invoice) ports.logger.warn("invoice not found in Stripe", { invoiceId });
  return invoice && { id: invoice.id, subscriptionId: invoiceSubscriptionId(invoice) };
}

/**
 * True when the stored snapshot already shows what Stripe would answer after `invoiceId` was paid:
 * the invoice is its latest, the subscription is in good standing, and the snapshot is no older
 * than the invoice's event (`version` ≥ `created`). Fetching the subscription would only store the
 * same snapshot again. The version condition keeps the ordering fence where a fetch would have put
 * it: an older snapshot delivered late (a `past_due` from before the payment) is still refused. A
 * first invoice left unpaid (`incomplete`) or a failed renewal (`past_due`, `unpaid`) is fetched.
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
