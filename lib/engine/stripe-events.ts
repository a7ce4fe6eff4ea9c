import type { StripeEvent } from "#lib/stripe/schemas.ts";
import { objectIdOf } from "#lib/stripe/unrecognised.ts";

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

/** The subscription an invoice names in either API version's shape, read from the raw object. */
export function rawSubscriptionId(object: unknown): string | undefined {
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
