import * as z from "zod/mini";
import { pageCursorParam, pageLimitParam } from "../http/page-limit-param.ts";
import { eventType, identifier } from "../identifiers.ts";
import { DRIFT_COUNT_KEYS, DRIFT_KINDS, type DriftCountKey } from "../reconcile/drift-kinds.ts";

/**
 * Request and response schemas of the admin API (docs/architecture.md §6). The route table carries them, so
 * validation, the OpenAPI document and these types all come from here. Only `zod/mini`: the route
 * table is in every function's bundle.
 */

const id = identifier;
const connectorKey = identifier.check(
  z.regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "must be a catalog connector key"),
);
const isoDateTime = z.string();
/** An email as SMTP allows it (RFC 5321: at most 254 characters); longer ones would not fit a DynamoDB key. */
const email = z.email("must be an email address").check(z.maxLength(254));
const cursor = pageCursorParam;
const limit = pageLimitParam(100);
const json = z.record(z.string(), z.unknown());

export const LICENSE_STATES = ["creating", "active", "pending_user", "expired", "deleted"] as const;
export const INBOX_STATUSES = ["received", "enqueued", "processed", "failed", "ignored"] as const;

export const licenseRecordSchema = z.object({
  customerId: z.string(),
  connectorKey: z.string(),
  connectorId: z.string(),
  licenseId: z.optional(z.string()),
  email: z.string(),
  expires: isoDateTime,
  opts: json,
  state: z.enum(LICENSE_STATES),
  subscriptionId: z.optional(z.string()),
  rev: z.number(),
  intentAt: z.optional(isoDateTime),
  reason: z.optional(z.string()),
  updatedAt: isoDateTime,
});

/** An inbox event as the admin API lists it (GET /admin/events, the customer view): no payload. */
export const eventSummarySchema = z.object({
  eventId: z.string(),
  type: z.string(),
  customerId: z.optional(z.string()),
  groupId: z.string(),
  status: z.enum(INBOX_STATUSES),
  reason: z.optional(z.string()),
  attempts: z.number(),
  created: z.number(),
  livemode: z.boolean(),
  receivedAt: isoDateTime,
  updatedAt: isoDateTime,
});

// GET /admin/customers/{customerId}
export const customerParams = z.object({ customerId: id });
const subscriptionSummary = z.object({
  subscriptionId: z.string(),
  status: z.string(),
  integratorEmail: z.nullable(z.string()),
  cancelAtPeriodEnd: z.boolean(),
  cancelAt: z.nullable(z.number()),
  trialEnd: z.nullable(z.number()),
  items: z.array(
    z.object({
      price: z.string(),
      lookupKey: z.nullable(z.string()),
      quantity: z.number(),
      currentPeriodEnd: z.number(),
    }),
  ),
  version: z.number(),
  source: z.string(),
  updatedAt: isoDateTime,
});
const auditEntry = z.object({
  at: isoDateTime,
  action: z.string(),
  connectorKey: z.optional(z.string()),
  licenseId: z.optional(z.string()),
  cause: z.optional(z.string()),
  /** Who acted, for a person's action: `operator:<name>` or `root`. */
  actor: z.optional(z.string()),
  detail: z.optional(json),
});
/**
 * integrator.io's copy of a license where it differs from ours (email, expiry or opts), or
 * `{missing: true}` when integrator.io no longer has it (docs/architecture.md §6).
 */
const integratorCopy = z.union([
  z.object({ missing: z.literal(true) }),
  z.object({
    email: z.nullable(z.string()),
    expires: z.nullable(isoDateTime),
    opts: json,
    integrationId: z.optional(z.string()),
  }),
]);
const customerLicense = z.object({ ...licenseRecordSchema.shape, integrator: z.optional(integratorCopy) });

export const customerViewSchema = z.object({
  customerId: z.string(),
  profile: z.nullable(
    z.object({
      email: z.nullable(z.string()),
      metadata: z.record(z.string(), z.string()),
      checkoutEmail: z.optional(z.string()),
      deleted: z.optional(z.boolean()),
      version: z.number(),
      updatedAt: isoDateTime,
    }),
  ),
  subscriptions: z.array(subscriptionSummary),
  /** Each with integrator.io's copy where it differs from ours (read live, unless integrator.io is unreachable). */
  licenses: z.array(customerLicense),
  /** True when integrator.io could not be read: the licenses show ours only. */
  integratorUnavailable: z.optional(z.literal(true)),
  /** The customer's installs of the vendor's integration apps, where the install store is wired in. */
  installs: z.optional(z.array(json)),
  /** The customer's Stripe events in the inbox, newest first (the last 50), as GET /admin/events lists them. */
  events: z.array(eventSummarySchema),
  /** License changes and admin actions, newest first (the last 200). */
  audit: z.array(auditEntry),
});

// GET /admin/customers?q=
export const MATCHED_BY = [
  "customerId",
  "subscriptionId",
  "licenseId",
  "email",
  "checkoutEmail",
  "licenseEmail",
] as const;
export const customerSearchQuery = z.object({
  q: z
    .string("must be an email, a customer, subscription or license id")
    .check(
      z.trim(),
      z.minLength(1, "must not be empty"),
      z.maxLength(254, "must be at most 254 characters"),
      z.describe(
        "An email (profile, checkout or license email; any case), a Stripe customer or subscription id, or an integrator.io license id.",
      ),
    ),
  cursor,
  limit,
});
export const customerMatchSchema = z.object({
  customerId: z.string(),
  /** The profile's email (null when Stripe has none, or no profile is stored). */
  email: z.nullable(z.string()),
  matchedBy: z.enum(MATCHED_BY),
  subscriptions: z.array(z.object({ subscriptionId: z.string(), status: z.string() })),
  licenses: z.array(z.object({ connectorKey: z.string(), state: z.enum(LICENSE_STATES), email: z.string() })),
});
export const customerSearchResponse = z.object({
  data: z.array(customerMatchSchema),
  nextCursor: z.optional(z.string()),
});

// POST /admin/customers/{customerId}/reconcile
export const customerReconcileRequest = z.strictObject({ dryRun: z.boolean() });
export const customerReconcileResponse = z.object({
  customerId: z.string(),
  dryRun: z.boolean(),
  findings: z.array(
    z.object({
      kind: z.enum(DRIFT_KINDS),
      connectorKey: z.optional(z.string()),
      licenseId: z.optional(z.string()),
      subscriptionId: z.optional(z.string()),
      eventId: z.optional(z.string()),
      detail: z.string(),
    }),
  ),
  /** Findings repaired (0 for a dry run). */
  repaired: z.number(),
});

// POST /admin/customers/{customerId}/licenses/{connector}/transfer
export const transferParams = z.object({ customerId: id, connector: connectorKey });
export const transferBody = z.strictObject({ email });

// GET /admin/licenses
export const licenseListQuery = z.object({
  email: z.optional(email),
  connector: z.optional(connectorKey),
  state: z.optional(z.enum(LICENSE_STATES)),
  cursor,
  limit,
});
export const licenseListResponse = z.object({
  data: z.array(licenseRecordSchema),
  nextCursor: z.optional(z.string()),
});

// GET /admin/events, POST /admin/events/{eventId}/replay
export const eventListQuery = z.object({
  status: z.optional(z.enum(INBOX_STATUSES)),
  type: z.optional(eventType),
  cursor,
  limit,
});
export const eventListResponse = z.object({
  data: z.array(eventSummarySchema),
  nextCursor: z.optional(z.string()),
});
export const eventParams = z.object({ eventId: id });
export const replayResponse = z.object({ eventId: z.string(), deduplicationId: z.string() });

// GET /admin/dlq, POST /admin/dlq/redrive
export const dlqQuery = z.object({ limit });
export const dlqMessageSchema = z.object({
  messageId: z.string(),
  groupId: z.nullable(z.string()),
  sentAt: z.nullable(isoDateTime),
  receiveCount: z.nullable(z.number()),
  eventId: z.nullable(z.string()),
  /** The inbox event the message carries (null when the inbox no longer has it). */
  event: z.nullable(eventSummarySchema),
  /** Why the worker last failed it, as recorded in the inbox. */
  reason: z.nullable(z.string()),
});
export const dlqListResponse = z.object({
  data: z.array(dlqMessageSchema),
  /** SQS's approximate count of messages in the DLQ (a FIFO DLQ shows only the first message of each customer). */
  approximateTotal: z.number(),
});
export const redriveResponse = z.object({ count: z.number() });

// POST /admin/reconcile, GET /admin/reconcile, GET /admin/reconcile/{runId}
// Request bodies are strict: an unknown key is a 400, so a typo (`dryrun`) never starts a repair.
export const reconcileRequest = z.optional(z.strictObject({ dryRun: z.optional(z.boolean()) }));
export const reconcileAccepted = z.object({ runId: z.string() });
export const runParams = z.object({
  runId: identifier,
});
export const runListQuery = z.object({ cursor, limit });
const driftCounts = z.object(
  Object.fromEntries(DRIFT_COUNT_KEYS.map((key) => [key, z.number()])) as Record<
    DriftCountKey,
    z.ZodMiniNumber
  >,
);
export const driftItemSchema = z.object({
  kind: z.enum(DRIFT_KINDS),
  customerId: z.nullable(z.string()),
  connector: z.nullable(z.string()),
  licenseId: z.optional(z.string()),
  eventId: z.optional(z.string()),
  subscriptionId: z.optional(z.string()),
  detail: z.string(),
});
const runSummary = {
  runId: z.string(),
  state: z.enum(["running", "done", "failed"]),
  dryRun: z.boolean(),
  trigger: z.enum(["admin", "schedule"]),
  /** Who started an admin run: `operator:<name>` or `root`. */
  requestedBy: z.optional(z.string()),
  startedAt: isoDateTime,
  finishedAt: z.nullable(isoDateTime),
  counts: driftCounts,
  itemCount: z.number(),
  error: z.optional(z.string()),
};
export const reconcileRunSchema = z.object({
  ...runSummary,
  items: z.array(driftItemSchema),
  /** True when the report holds more findings than `items` shows (counts are always complete). */
  itemsTruncated: z.boolean(),
});
export const reconcileRunListResponse = z.object({
  data: z.array(z.object(runSummary)),
  nextCursor: z.optional(z.string()),
});

// GET /admin/catalog
export const catalogResponse = z.object({ connectors: z.array(json), policy: json });

// POST /admin/billing/portal-sessions
export const portalSessionRequest = z.strictObject({
  customerId: identifier.check(z.regex(/^cus_[A-Za-z0-9]+$/, "must be a Stripe customer id (cus_...)")),
  returnUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
});
export const portalSessionResponse = z.object({ url: z.string() });

// GET /admin/overview
const runSummarySchema = z.object(runSummary);
export const overviewResponse = z.object({
  /** Stored licenses per state. */
  licenses: z.object(
    Object.fromEntries(LICENSE_STATES.map((state) => [state, z.number()])) as Record<
      (typeof LICENSE_STATES)[number],
      z.ZodMiniNumber
    >,
  ),
  /** Present (true) when a state held more licenses than one request counts: the counts are lower bounds. */
  licensesPartial: z.optional(z.literal(true)),
  /** Events failed now whose failure was recorded in the last 24 hours. */
  eventsFailed24h: z.number(),
  dlq: z.object({ approximateCount: z.number() }),
  /** The newest reconcile run, as GET /admin/reconcile lists it; null before the first. */
  lastReconcile: z.nullable(runSummarySchema),
  /** The integrator.io rate-limit bucket the fleet shares (the limits less the safety margin). */
  rateLimit: z.object({
    tokens: z.number(),
    capacity: z.number(),
    refillPerSecond: z.number(),
    pausedUntil: z.nullable(isoDateTime),
    updatedAt: z.nullable(isoDateTime),
  }),
  generatedAt: isoDateTime,
});

export type LicenseListQuery = z.infer<typeof licenseListQuery>;
export type CustomerSearchQuery = z.infer<typeof customerSearchQuery>;
export type CustomerMatch = z.infer<typeof customerMatchSchema>;
export type MatchedBy = (typeof MATCHED_BY)[number];
export type CustomerReconcileResult = z.infer<typeof customerReconcileResponse>;
export type Overview = z.infer<typeof overviewResponse>;
export type RunSummary = z.infer<typeof runSummarySchema>;
export type EventListQuery = z.infer<typeof eventListQuery>;
export type EventSummary = z.infer<typeof eventSummarySchema>;
export type DlqMessage = z.infer<typeof dlqMessageSchema>;
export type CustomerView = z.infer<typeof customerViewSchema>;
