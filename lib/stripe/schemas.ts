import * as z from "zod/mini";

/**
 * The Stripe objects the licensing rules read, as Stripe sends them (API `2026-10-28.endive`):
 * loose objects, so every field we do not name is kept as is, and only the fields we use are
 * checked.
 *
 * - Timestamps are Unix **seconds**.
 * - Subscription periods are on the **items** (`items.data[].current_period_end`), not on the
 *   subscription.
 * - Expandable references (`customer`, `subscription`, `product`) are an id string or, when
 *   expanded, the object; `stripeId()` gives the id either way.
 * - Fields Stripe sends as `null` are `nullish` here (null or absent): a payload that omits
 *   one we can do without (a simulator, an older API version) still parses, and the rules treat
 *   absent as null. Fields the rules cannot do without (ids, `status`, item periods) are required.
 * - A subscription or invoice in an event that does not parse (another API version, a value
 *   Stripe added since) is fetched from Stripe in this version instead (lib/engine/apply.ts).
 * - `metadata` is normalised to `{}` when null or absent.
 */

/** The last second a date can name (9999-12-31T23:59:59Z): a later one is no date any clock reads. */
const LAST_UNIX_SECOND = 253_402_300_799;
const unixSeconds = z.number().check(z.int(), z.minimum(0), z.maximum(LAST_UNIX_SECOND));
const nonEmpty = z.string().check(z.minLength(1));

/**
 * Stripe metadata (string values); null or absent becomes `{}`. Stripe sends only strings; a value
 * that is not one is dropped rather than failing the whole object.
 */
const metadata = z.pipe(
  z.nullish(z.record(z.string(), z.unknown())),
  z.transform(
    (value): Record<string, string> =>
      Object.fromEntries(
        Object.entries(value ?? {}).filter(
          (entry): entry is [string, string] => typeof entry[1] === "string",
        ),
      ),
  ),
);

/** A reference Stripe may expand: the id, or the object carrying it. */
const expandable = z.union([nonEmpty, z.looseObject({ id: nonEmpty })]);

/** The id of an expandable reference (`"cus_123"` or `{ id: "cus_123", ... }`). */
export function stripeId(ref: string | { id: string }): string;
export function stripeId(ref: string | { id: string } | null | undefined): string | undefined;
export function stripeId(ref: string | { id: string } | null | undefined): string | undefined {
  if (ref === null || ref === undefined) return undefined;
  return typeof ref === "string" ? ref : ref.id;
}

export const stripePriceSchema = z.looseObject({
  id: nonEmpty,
  object: z.optional(z.literal("price")),
  lookup_key: z.nullish(z.string()),
  product: expandable,
  active: z.optional(z.boolean()),
  currency: z.optional(z.string()),
  unit_amount: z.nullish(z.number()),
  recurring: z.nullish(
    z.looseObject({
      interval: z.enum(["day", "week", "month", "year"]),
      interval_count: z.number(),
    }),
  ),
  metadata,
});
export type StripePrice = z.infer<typeof stripePriceSchema>;

export const stripeProductSchema = z.looseObject({
  id: nonEmpty,
  object: z.optional(z.literal("product")),
  name: z.string(),
  active: z.optional(z.boolean()),
  metadata,
});
export type StripeProduct = z.infer<typeof stripeProductSchema>;

export const stripeSubscriptionItemSchema = z.looseObject({
  id: nonEmpty,
  object: z.optional(z.literal("subscription_item")),
  price: stripePriceSchema,
  /** Absent for metered prices; the rules count an absent quantity as 1. */
  quantity: z.nullish(z.number().check(z.int(), z.nonnegative())),
  current_period_start: unixSeconds,
  current_period_end: unixSeconds,
  metadata,
});
export type StripeSubscriptionItem = z.infer<typeof stripeSubscriptionItemSchema>;

export const SUBSCRIPTION_STATUSES = [
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "canceled",
  "unpaid",
  "paused",
] as const;
export type StripeSubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const stripeCustomerSchema = z.looseObject({
  id: nonEmpty,
  object: z.optional(z.literal("customer")),
  /** A deleted customer is `{ id, object: "customer", deleted: true }` and nothing else. */
  deleted: z.optional(z.boolean()),
  email: z.nullish(z.string()),
  name: z.nullish(z.string()),
  metadata,
  created: z.optional(unixSeconds),
  livemode: z.optional(z.boolean()),
});
export type StripeCustomer = z.infer<typeof stripeCustomerSchema>;

export const stripeSubscriptionSchema = z.looseObject({
  id: nonEmpty,
  object: z.optional(z.literal("subscription")),
  customer: z.union([nonEmpty, stripeCustomerSchema]),
  status: z.enum(SUBSCRIPTION_STATUSES),
  items: z.looseObject({
    data: z.array(stripeSubscriptionItemSchema),
    has_more: z.optional(z.boolean()),
  }),
  trial_start: z.nullish(unixSeconds),
  trial_end: z.nullish(unixSeconds),
  cancel_at_period_end: z._default(z.boolean(), false),
  cancel_at: z.nullish(unixSeconds),
  canceled_at: z.nullish(unixSeconds),
  ended_at: z.nullish(unixSeconds),
  start_date: z.optional(unixSeconds),
  metadata,
  created: unixSeconds,
  livemode: z.boolean(),
  /** The subscription's newest invoice (its first one once it exists). */
  latest_invoice: z.nullish(expandable),
  pause_collection: z.nullish(
    z.looseObject({
      behavior: z.enum(["keep_as_draft", "mark_uncollectible", "void"]),
      resumes_at: z.nullish(unixSeconds),
    }),
  ),
});
export type StripeSubscription = z.infer<typeof stripeSubscriptionSchema>;

export const stripeCheckoutSessionSchema = z.looseObject({
  id: nonEmpty,
  object: z.optional(z.literal("checkout.session")),
  mode: z.optional(z.enum(["payment", "setup", "subscription"])),
  status: z.nullish(z.enum(["open", "complete", "expired"])),
  customer: z.nullish(z.union([nonEmpty, stripeCustomerSchema])),
  subscription: z.nullish(expandable),
  client_reference_id: z.nullish(z.string()),
  customer_email: z.nullish(z.string()),
  customer_details: z.nullish(z.looseObject({ email: z.nullish(z.string()) })),
  metadata,
  custom_fields: z._default(
    z.array(
      z.looseObject({
        key: z.string(),
        type: z.optional(z.string()),
        text: z.nullish(z.looseObject({ value: z.nullish(z.string()) })),
      }),
    ),
    [],
  ),
  created: z.optional(unixSeconds),
  livemode: z.optional(z.boolean()),
});
export type StripeCheckoutSession = z.infer<typeof stripeCheckoutSessionSchema>;

export const stripeInvoiceSchema = z.looseObject({
  id: nonEmpty,
  object: z.optional(z.literal("invoice")),
  customer: z.nullish(z.union([nonEmpty, stripeCustomerSchema])),
  /** Older API versions; current ones put it in `parent.subscription_details.subscription`. */
  subscription: z.nullish(expandable),
  parent: z.nullish(
    z.looseObject({
      type: z.optional(z.string()),
      subscription_details: z.nullish(z.looseObject({ subscription: z.nullish(expandable) })),
    }),
  ),
  status: z.nullish(z.enum(["draft", "open", "paid", "uncollectible", "void"])),
  billing_reason: z.nullish(z.string()),
  created: z.optional(unixSeconds),
  livemode: z.optional(z.boolean()),
});
export type StripeInvoice = z.infer<typeof stripeInvoiceSchema>;

/** The subscription an invoice belongs to, wherever the API version puts it. */
export function invoiceSubscriptionId(invoice: StripeInvoice): string | undefined {
  return stripeId(invoice.parent?.subscription_details?.subscription) ?? stripeId(invoice.subscription);
}

/**
 * The webhook event envelope. `data.object` is the full snapshot of the object (parse it with
 * the schema for `type`); `data.previous_attributes` appears on `*.updated` events only;
 * `created` is in seconds and many events share one second.
 */
export const stripeEventSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  object: z.optional(z.literal("event")),
  type: nonEmpty,
  created: unixSeconds,
  livemode: z.boolean(),
  api_version: z.nullish(z.string()),
  data: z.looseObject({
    object: z.looseObject({ object: z.optional(z.string()) }),
    previous_attributes: z.optional(z.record(z.string(), z.unknown())),
  }),
});
export type StripeEvent = z.infer<typeof stripeEventSchema>;
