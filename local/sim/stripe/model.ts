/**
 * The simulator's own records. They hold what the simulator needs to behave like Stripe;
 * render.ts turns them into Stripe's wire objects (the shapes of test/fixtures/stripe).
 */
import type { Metadata } from "./params.ts";

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export type Interval = "day" | "week" | "month" | "year";

export interface CustomerRecord {
  id: string;
  created: number;
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  metadata: Metadata;
  testClock: string | null;
  invoicePrefix: string;
  nextInvoiceSequence: number;
  /** Set by the first subscription, as Stripe does. */
  currency: string | null;
  /** Simulator switch (`POST /_sim/customers/{id}/payment`): every charge of this customer fails. */
  paymentFails: boolean;
}

export interface ProductRecord {
  id: string;
  created: number;
  updated: number;
  name: string;
  description: string | null;
  active: boolean;
  metadata: Metadata;
  defaultPrice: string | null;
  images: string[];
  url: string | null;
  unitLabel: string | null;
  statementDescriptor: string | null;
}

export interface PriceRecord {
  id: string;
  created: number;
  product: string;
  active: boolean;
  currency: string;
  unitAmount: number;
  recurring: { interval: Interval; intervalCount: number } | null;
  lookupKey: string | null;
  nickname: string | null;
  metadata: Metadata;
}

export type SubscriptionStatus =
  | "incomplete"
  | "incomplete_expired"
  | "trialing"
  | "active"
  | "past_due"
  | "canceled"
  | "unpaid"
  | "paused";

export interface SubscriptionItemRecord {
  id: string;
  created: number;
  price: string;
  quantity: number;
  metadata: Metadata;
}

export interface PauseCollection {
  behavior: "keep_as_draft" | "mark_uncollectible" | "void";
  resumesAt: number | null;
}

export interface SubscriptionRecord {
  id: string;
  created: number;
  customer: string;
  status: SubscriptionStatus;
  items: SubscriptionItemRecord[];
  metadata: Metadata;
  description: string | null;
  currency: string;
  collectionMethod: "charge_automatically" | "send_invoice";
  startDate: number;
  /** Periods repeat from this anchor: period n ends at anchor + (n+1) intervals (month ends clamp). */
  billingCycleAnchor: number;
  /** Index of the current period from the anchor; -1 while in the trial. */
  cycle: number;
  /** The current period, shared by every item (classic billing mode). */
  currentPeriodStart: number;
  currentPeriodEnd: number;
  trialStart: number | null;
  trialEnd: number | null;
  cancelAt: number | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: number | null;
  endedAt: number | null;
  cancellationDetails: { comment: string | null; feedback: string | null; reason: string | null };
  latestInvoice: string | null;
  pauseCollection: PauseCollection | null;
  testClock: string | null;
  /** Rendered instead of `status` when set (control API): a status Stripe added after the pinned version. */
  shownStatus?: string | null;
}

export type InvoiceStatus = "draft" | "open" | "paid" | "uncollectible" | "void";

export interface InvoiceLineRecord {
  id: string;
  price: string;
  subscriptionItem: string;
  quantity: number;
  amount: number;
  description: string;
  periodStart: number;
  periodEnd: number;
}

export interface InvoiceRecord {
  id: string;
  created: number;
  customer: string;
  subscription: string | null;
  status: InvoiceStatus;
  billingReason: "subscription_create" | "subscription_cycle" | "subscription_update" | "manual";
  currency: string;
  number: string;
  periodStart: number;
  periodEnd: number;
  lines: InvoiceLineRecord[];
  total: number;
  amountPaid: number;
  attemptCount: number;
  attempted: boolean;
  nextPaymentAttempt: number | null;
  finalizedAt: number | null;
  paidAt: number | null;
  voidedAt: number | null;
  markedUncollectibleAt: number | null;
  testClock: string | null;
}

export interface CheckoutLineItemRecord {
  id: string;
  price: string;
  quantity: number;
}

export interface CheckoutSessionRecord {
  id: string;
  created: number;
  expiresAt: number;
  mode: "subscription";
  lineItems: CheckoutLineItemRecord[];
  clientReferenceId: string | null;
  metadata: Metadata;
  subscriptionData: {
    metadata: Metadata;
    description: string | null;
    trialPeriodDays: number | null;
    trialEnd: number | null;
  };
  customer: string | null;
  customerEmail: string | null;
  successUrl: string | null;
  cancelUrl: string | null;
  allowPromotionCodes: boolean | null;
  billingAddressCollection: string | null;
  locale: string | null;
  status: "open" | "complete" | "expired";
  paymentStatus: "paid" | "unpaid" | "no_payment_required";
  subscription: string | null;
  /** The email the buyer entered (customer_details.email), once complete. */
  detailsEmail: string | null;
  currency: string;
  amountTotal: number;
}

export interface PortalSessionRecord {
  id: string;
  created: number;
  customer: string;
  returnUrl: string | null;
  locale: string | null;
}

export interface WebhookEndpointRecord {
  id: string;
  created: number;
  url: string;
  secret: string;
  enabledEvents: string[];
  description: string | null;
  metadata: Metadata;
  status: "enabled" | "disabled";
  apiVersion: string | null;
}

export interface TestClockRecord {
  id: string;
  created: number;
  frozenTime: number;
  name: string | null;
  deletesAfter: number;
  /** Set between an advance request and the simulator finishing it (synchronously, before the next request). */
  advancingTo: number | null;
}

export interface EventRecord {
  id: string;
  created: number;
  type: string;
  /** The rendered event, as delivered (pending_webhooks is kept current). */
  body: JsonObject;
}

/** Two JSON values written alike (key order counts, as in what Stripe sends). */
export const sameJson = (a: Json | undefined, b: Json | undefined): boolean =>
  JSON.stringify(a) === JSON.stringify(b);
