import { readFileSync } from "node:fs";
import {
  type StripeCheckoutSession,
  type StripeCustomer,
  type StripeEvent,
  type StripeInvoice,
  type StripePrice,
  type StripeSubscription,
  type StripeSubscriptionStatus,
  stripeCheckoutSessionSchema,
  stripeCustomerSchema,
  stripeEventSchema,
  stripeInvoiceSchema,
  stripePriceSchema,
  stripeSubscriptionSchema,
} from "#lib/stripe/schemas.ts";

/**
 * Typed factories for Stripe objects, built from Stripe's own example objects in
 * `test/fixtures/stripe` (copied into the repository) so test payloads have Stripe's real shape:
 * every field Stripe sends is there, periods are on the subscription items, timestamps are Unix
 * seconds. The factories replace the fixtures' placeholder values with realistic ones around a
 * fixed `now` (`FIXED_NOW` unless given) and return the object parsed by our schema, so a
 * factory can never produce something our parser would reject.
 *
 * @example
 * const sub = makeSubscription({ status: "active", customer: "cus_1", items: [{ price: "price_std_month" }, { price: "price_store_month", quantity: 2 }] });
 * const event = makeEvent("customer.subscription.updated", sub, { previous_attributes: { status: "trialing" } });
 */

export const STRIPE_FIXTURES_DIR = new URL("../fixtures/stripe/", import.meta.url);

export const STRIPE_FIXTURE_NAMES = [
  "checkout.session",
  "customer",
  "entitlements.active_entitlement_summary",
  "event",
  "invoice",
  "price",
  "product",
  "subscription",
  "subscription_item",
] as const;
export type StripeFixtureName = (typeof STRIPE_FIXTURE_NAMES)[number];

type Json = Record<string, unknown>;

/** A fresh copy of one fixture as Stripe sent it (mutate freely). */
export function loadStripeFixture(name: StripeFixtureName): Json {
  return JSON.parse(readFileSync(new URL(`${name}.json`, STRIPE_FIXTURES_DIR), "utf8")) as Json;
}

/** The fixed "now" of unit tests: 2026-11-15T12:00:00Z. */
export const FIXED_NOW = new Date("2026-11-15T12:00:00.000Z");
export const DAY_SECONDS = 86_400;

/** Unix seconds of a Date. */
export const unix = (date: Date): number => Math.floor(date.getTime() / 1000);
/** Unix seconds `days` (may be fractional or negative) after `from` (a Date or Unix seconds). */
export const daysAfter = (from: Date | number, days: number): number =>
  (typeof from === "number" ? from : unix(from)) + Math.round(days * DAY_SECONDS);
/** Unix seconds `months` calendar months (UTC) after `from`, as Stripe advances billing periods. */
export function monthsAfter(from: number, months: number): number {
  const date = new Date(from * 1000);
  date.setUTCMonth(date.getUTCMonth() + months);
  return unix(date);
}
/** ISO date-time of Unix seconds (the form `expires` takes). */
export const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

let counter = 0;
/** A deterministic, Stripe-looking id: `sub_1TEST000000000001`. */
export function testId(prefix: string): string {
  counter += 1;
  return `${prefix}_1TEST${String(counter).padStart(12, "0")}`;
}

export type PriceInterval = "day" | "week" | "month" | "year";

/**
 * A price: a catalog price reference (`"price_std_month"` is an id, `"std_yearly"` a lookup key,
 * the price then gets a generated id) or the fields explicitly.
 */
export type PriceInput =
  | string
  | {
      id?: string;
      lookup_key?: string | null;
      interval?: PriceInterval;
      unit_amount?: number;
      product?: string;
    };

/** A Stripe price from the fixture; the interval defaults to `year` when the reference mentions "year". */
export function makePrice(input: PriceInput): StripePrice {
  const spec: Exclude<PriceInput, string> = typeof input === "string" ? priceSpecFromRef(input) : input;
  const raw = loadStripeFixture("price");
  const interval = spec.interval ?? "month";
  Object.assign(raw, {
    id: spec.id ?? testId("price"),
    lookup_key: spec.lookup_key ?? null,
    product: spec.product ?? "prod_1TESTshopifynetsuite",
    created: daysAfter(FIXED_NOW, -400),
    unit_amount: spec.unit_amount ?? 2000,
    unit_amount_decimal: String(spec.unit_amount ?? 2000),
    recurring: { ...(raw.recurring as Json), interval, interval_count: 1 },
    transform_quantity: null,
  });
  return stripePriceSchema.parse(raw);
}

function priceSpecFromRef(ref: string): Exclude<PriceInput, string> {
  const interval: PriceInterval = /year/i.test(ref) ? "year" : "month";
  return ref.startsWith("price_")
    ? { id: ref, interval }
    : { id: `price_1TESTlk_${ref}`, lookup_key: ref, interval };
}

export interface SubscriptionItemInput {
  price: PriceInput;
  quantity?: number;
  id?: string;
  current_period_start?: number;
  current_period_end?: number;
}

export interface SubscriptionInput {
  id?: string;
  customer?: string | StripeCustomer;
  status?: StripeSubscriptionStatus;
  /** Default: one item of `price_std_month`. */
  items?: SubscriptionItemInput[];
  /** The moment the defaults are built around (default `FIXED_NOW`). */
  now?: Date;
  created?: number;
  /** Period of every item that does not give its own (default: started 10 days before `now`, one interval long). */
  current_period_start?: number;
  current_period_end?: number;
  trial_start?: number | null;
  trial_end?: number | null;
  cancel_at_period_end?: boolean;
  cancel_at?: number | null;
  canceled_at?: number | null;
  ended_at?: number | null;
  metadata?: Record<string, string>;
  livemode?: boolean;
  pause_collection?: {
    behavior: "keep_as_draft" | "mark_uncollectible" | "void";
    resumes_at: number | null;
  } | null;
}

/**
 * A subscription from the fixture with realistic timestamps for its status around `now`:
 * `trialing` started 5 days ago with a 30-day trial (the period is the trial); every other
 * status has a period that started 10 days ago; `canceled` / `incomplete_expired` ended an hour
 * ago; `incomplete` was created an hour ago. Everything can be overridden.
 */
export function makeSubscription(input: SubscriptionInput = {}): StripeSubscription {
  const now = input.now ?? FIXED_NOW;
  const status = input.status ?? "active";
  const id = input.id ?? testId("sub");
  const trialing = status === "trialing";
  const trialStart =
    input.trial_start !== undefined ? input.trial_start : trialing ? daysAfter(now, -5) : null;
  const trialEnd =
    input.trial_end !== undefined
      ? input.trial_end
      : trialing && trialStart !== null
        ? daysAfter(trialStart, 30)
        : null;
  const defaultStart =
    trialing && trialStart !== null
      ? trialStart
      : status === "incomplete"
        ? daysAfter(now, -1 / 24)
        : daysAfter(now, -10);
  const created = input.created ?? Math.min(defaultStart, input.current_period_start ?? defaultStart);
  const endedNow = status === "canceled" || status === "incomplete_expired";
  const endedAt = input.ended_at !== undefined ? input.ended_at : endedNow ? daysAfter(now, -1 / 24) : null;
  const canceledAt =
    input.canceled_at !== undefined
      ? input.canceled_at
      : status === "canceled"
        ? endedAt
        : input.cancel_at
          ? daysAfter(now, -1)
          : null;

  const template = loadStripeFixture("subscription");
  const itemTemplate = ((template.items as { data: Json[] }).data[0] ??
    loadStripeFixture("subscription_item")) as Json;
  const items = (input.items ?? [{ price: "price_std_month" }]).map((item) => {
    const price = makePrice(item.price);
    const interval = price.recurring?.interval ?? "month";
    const start = item.current_period_start ?? input.current_period_start ?? defaultStart;
    const end =
      item.current_period_end ??
      input.current_period_end ??
      (trialing && trialEnd !== null
        ? trialEnd
        : interval === "year"
          ? monthsAfter(start, 12)
          : interval === "month"
            ? monthsAfter(start, 1)
            : daysAfter(start, interval === "week" ? 7 : 1));
    return {
      ...structuredClone(itemTemplate),
      id: item.id ?? testId("si"),
      created,
      price,
      plan: {
        ...(itemTemplate.plan as Json),
        id: price.id,
        amount: price.unit_amount ?? null,
        amount_decimal: String(price.unit_amount ?? ""),
        billing_scheme: "per_unit",
        created: price.created,
        currency: "usd",
        interval,
        interval_count: 1,
        livemode: input.livemode ?? false,
        metadata: {},
        product: price.product,
        transform_usage: null,
      },
      quantity: item.quantity ?? 1,
      subscription: id,
      current_period_start: start,
      current_period_end: end,
      billing_thresholds: null,
    };
  });
  const firstStart = items[0]?.current_period_start ?? defaultStart;

  Object.assign(template, {
    id,
    customer: input.customer ?? "cus_1TESTcustomer0001",
    status,
    created,
    start_date: created,
    billing_cycle_anchor: firstStart,
    billing_cycle_anchor_config: null,
    items: { ...(template.items as Json), data: items, url: `/v1/subscription_items?subscription=${id}` },
    trial_start: trialStart,
    trial_end: trialEnd,
    cancel_at_period_end: input.cancel_at_period_end ?? false,
    cancel_at: input.cancel_at ?? null,
    canceled_at: canceledAt,
    ended_at: endedAt,
    metadata: input.metadata ?? {},
    livemode: input.livemode ?? false,
    pause_collection: input.pause_collection ?? null,
    pending_update: null,
    pending_invoice_item_interval: null,
    next_pending_invoice_item_invoice: null,
    transfer_data: null,
    billing_schedules: [],
    cancellation_details: {
      comment: null,
      feedback: null,
      reason:
        status === "canceled"
          ? "cancellation_requested"
          : status === "incomplete_expired"
            ? "payment_failed"
            : null,
    },
  });
  return stripeSubscriptionSchema.parse(template);
}

export interface CustomerInput {
  id?: string;
  email?: string | null;
  name?: string | null;
  metadata?: Record<string, string>;
  created?: number;
  livemode?: boolean;
  /** A deleted customer is only `{ id, object, deleted: true }`, as Stripe sends it. */
  deleted?: boolean;
}

export function makeCustomer(input: CustomerInput = {}): StripeCustomer {
  const id = input.id ?? "cus_1TESTcustomer0001";
  if (input.deleted) return stripeCustomerSchema.parse({ id, object: "customer", deleted: true });
  const raw = loadStripeFixture("customer");
  Object.assign(raw, {
    id,
    email: input.email === undefined ? "buyer@example.com" : input.email,
    name: input.name === undefined ? "Buyer Inc." : input.name,
    metadata: input.metadata ?? {},
    created: input.created ?? daysAfter(FIXED_NOW, -30),
    livemode: input.livemode ?? false,
    discount: null,
  });
  return stripeCustomerSchema.parse(raw);
}

export interface CheckoutSessionInput {
  id?: string;
  customer?: string | null;
  subscription?: string | null;
  client_reference_id?: string | null;
  customer_email?: string | null;
  /** `customer_details.email`: what the buyer typed on Stripe's page. */
  detailsEmail?: string | null;
  /** Adds the `integrator_email` text custom field with this value. */
  integratorEmail?: string;
  metadata?: Record<string, string>;
  status?: "open" | "complete" | "expired";
  created?: number;
  livemode?: boolean;
}

/** A completed subscription-mode checkout session (override `status` for others). */
export function makeCheckoutSession(input: CheckoutSessionInput = {}): StripeCheckoutSession {
  const raw = loadStripeFixture("checkout.session");
  const id = input.id ?? testId("cs_test");
  const created = input.created ?? daysAfter(FIXED_NOW, -1 / 24);
  const status = input.status ?? "complete";
  Object.assign(raw, {
    id,
    mode: "subscription",
    status,
    payment_status: status === "complete" ? "paid" : "unpaid",
    customer: input.customer === undefined ? "cus_1TESTcustomer0001" : input.customer,
    subscription: input.subscription === undefined ? null : input.subscription,
    client_reference_id: input.client_reference_id ?? null,
    customer_email: input.customer_email ?? null,
    customer_details: {
      ...(raw.customer_details as Json),
      email: input.detailsEmail === undefined ? "buyer@example.com" : input.detailsEmail,
    },
    metadata: input.metadata ?? {},
    custom_fields:
      input.integratorEmail === undefined
        ? []
        : [
            {
              key: "integrator_email",
              label: { custom: "integrator.io account email", type: "custom" },
              optional: false,
              type: "text",
              text: {
                default_value: null,
                maximum_length: null,
                minimum_length: null,
                value: input.integratorEmail,
              },
            },
          ],
    payment_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    created,
    expires_at: daysAfter(created, 1),
    livemode: input.livemode ?? false,
    url: status === "open" ? `https://checkout.stripe.com/c/pay/${id}` : null,
  });
  return stripeCheckoutSessionSchema.parse(raw);
}

export interface InvoiceInput {
  id?: string;
  customer?: string;
  subscription?: string | null;
  status?: "draft" | "open" | "paid" | "uncollectible" | "void";
  billing_reason?: string;
  created?: number;
  livemode?: boolean;
}

/** An invoice whose subscription is in `parent.subscription_details` (current API versions). */
export function makeInvoice(input: InvoiceInput = {}): StripeInvoice {
  const raw = loadStripeFixture("invoice");
  const subscription = input.subscription === undefined ? null : input.subscription;
  Object.assign(raw, {
    id: input.id ?? testId("in"),
    customer: input.customer ?? "cus_1TESTcustomer0001",
    subscription: null,
    parent:
      subscription === null
        ? null
        : {
            quote_details: null,
            subscription_details: { metadata: {}, subscription },
            type: "subscription_details",
          },
    status: input.status ?? "paid",
    billing_reason: input.billing_reason ?? (subscription === null ? "manual" : "subscription_cycle"),
    created: input.created ?? unix(FIXED_NOW),
    livemode: input.livemode ?? false,
  });
  return stripeInvoiceSchema.parse(raw);
}

export interface EventOptions {
  id?: string;
  /** Unix seconds (default: `FIXED_NOW`). */
  created?: number;
  livemode?: boolean;
  /** Only on `*.updated` events: the changed fields' previous values. */
  previous_attributes?: Record<string, unknown>;
}

/** A webhook event envelope from the fixture carrying `object` as `data.object`. */
export function makeEvent<T extends object>(
  type: string,
  object: T,
  options: EventOptions = {},
): StripeEvent & { data: { object: T } } {
  const raw = loadStripeFixture("event");
  Object.assign(raw, {
    id: options.id ?? testId("evt"),
    type,
    created: options.created ?? unix(FIXED_NOW),
    livemode: options.livemode ?? false,
    api_version: "2026-10-28.endive",
    pending_webhooks: 1,
    data: {
      object,
      ...(options.previous_attributes !== undefined
        ? { previous_attributes: options.previous_attributes }
        : {}),
    },
  });
  const event = stripeEventSchema.parse(raw);
  // The schema keeps data.object as is (loose), so it is still the `T` given.
  return event as StripeEvent & { data: { object: T } };
}
