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

/**
 * `schema` with a description the OpenAPI document carries (every field of the admin API has one:
 * test/unit/openapi.test.ts). Described on the outermost schema, so optional and nullable keep it.
 */
const d = <T extends z.ZodMiniType>(schema: T, description: string): T =>
  schema.check(z.describe(description));
const text = (description: string) => d(z.string(), description);
const count = (description: string) => d(z.number(), description);
const at = (description: string) => d(isoDateTime, `${description} (ISO 8601 date-time, UTC).`);
const nextCursor = d(
  z.optional(z.string()),
  "Present while more remain: pass it back as `cursor`, with the same filters, for the next page.",
);

export const LICENSE_STATES = ["creating", "active", "pending_user", "expired", "deleted"] as const;
export const INBOX_STATUSES = ["received", "enqueued", "processed", "failed", "ignored"] as const;

export const licenseRecordSchema = z.object({
  customerId: text("The Stripe customer the license belongs to (`cus_...`)."),
  connectorKey: text("The connector's catalog key."),
  connectorId: text("The connector's integrator.io `_id`."),
  licenseId: d(
    z.optional(z.string()),
    "integrator.io's license `_id`; absent while `pending_user` or while a create's outcome is unknown.",
  ),
  email: text("The integrator.io email the license is (or is to be) issued to, lower-cased."),
  expires: at("When the license expires in integrator.io"),
  opts: d(json, "The license's `opts` as integrator.io holds them: `connectorEdition` and add-ons."),
  state: d(
    z.enum(LICENSE_STATES),
    "`creating`: a create is in flight or unresolved; `active`; `pending_user`: the email has no integrator.io account yet (retried by reconcile); `expired`; `deleted`.",
  ),
  subscriptionId: d(z.optional(z.string()), "The Stripe subscription that last decided this license."),
  rev: count("Revision: grows by one with every write (guards concurrent writers)."),
  intentAt: d(
    z.optional(isoDateTime),
    "Set while a create was recorded as intended and its outcome is not yet known (ISO 8601).",
  ),
  reason: d(z.optional(z.string()), "Why the license waits, for `pending_user` (`invalid_user`)."),
  updatedAt: at("Last written"),
});

/** An inbox event as the admin API lists it (GET /admin/events, the customer view): no payload. */
export const eventSummarySchema = z.object({
  eventId: text("Stripe's event id (`evt_...`)."),
  type: text("Stripe's event type, e.g. `invoice.paid`."),
  customerId: d(z.optional(z.string()), "The Stripe customer the event is about, when it names one."),
  groupId: text(
    "The SQS FIFO group: the Stripe customer id, or the event id for an event without a customer.",
  ),
  status: d(
    z.enum(INBOX_STATUSES),
    "`received`, `enqueued`, `processed`, `failed` (see `reason`; retried by SQS) or `ignored` (see `reason`).",
  ),
  reason: d(z.optional(z.string()), "Why it failed or was ignored (at most 2,000 characters)."),
  attempts: count("How many times the worker failed it."),
  created: count("Stripe's `created`: when Stripe created the event, in Unix seconds."),
  livemode: d(z.boolean(), "True for a live-mode event, false for test mode."),
  receivedAt: at("When the webhook first recorded it"),
  updatedAt: at("Last status change"),
});

// GET /admin/customers/{customerId}
export const customerParams = z.object({ customerId: d(id, "The Stripe customer id (`cus_...`).") });
const subscriptionSummary = z.object({
  subscriptionId: text("Stripe's subscription id (`sub_...`)."),
  status: text("Stripe's subscription status (`trialing`, `active`, `past_due`, `canceled`, ...)."),
  integratorEmail: d(
    z.nullable(z.string()),
    "The subscription's `metadata.integrator_email`: the first source of the license email (null when unset).",
  ),
  cancelAtPeriodEnd: d(z.boolean(), "True when the subscription ends at the end of its period."),
  cancelAt: d(z.nullable(z.number()), "When it is set to end, in Unix seconds (null when not)."),
  trialEnd: d(z.nullable(z.number()), "When its trial ends, in Unix seconds (null without a trial)."),
  items: d(
    z.array(
      z.object({
        price: text("The Stripe price id (`price_...`)."),
        lookupKey: d(z.nullable(z.string()), "The price's lookup key (null when it has none)."),
        quantity: count("Units of the price."),
        currentPeriodEnd: count("End of the item's current period, in Unix seconds."),
      }),
    ),
    "The subscription's items: its prices and quantities.",
  ),
  version: count(
    "Stripe `created` (Unix seconds) of the event this snapshot came from, or the time of a fetch: an older snapshot never replaces a newer one.",
  ),
  source: text("The id of the event that carried the snapshot, or `stripe` when fetched from Stripe."),
  updatedAt: at("Last written"),
});
const auditEntry = z.object({
  at: at("When it happened"),
  action: text(
    "What happened: a license change (`license.provisioned`, `license.updated`, `license.expired`, ...) or an admin action (`admin.transfer`, `admin.replay`, `admin.reconcile`).",
  ),
  connectorKey: d(z.optional(z.string()), "The connector's catalog key, for a license action."),
  licenseId: d(z.optional(z.string()), "integrator.io's license `_id`, when the action concerns one."),
  cause: d(
    z.optional(z.string()),
    "What caused it: a Stripe event id, `reconcile:<runId>`, `admin`, `install`.",
  ),
  actor: d(z.optional(z.string()), "Who acted, for a person's action: `operator:<name>` or `root`."),
  detail: d(z.optional(json), "Anything more the action records (before and after values, ...)."),
});
/**
 * integrator.io's copy of a license where it differs from ours (email, expiry or opts), or
 * `{missing: true}` when integrator.io no longer has it (docs/architecture.md §6).
 */
const integratorCopy = z.union([
  z.object({ missing: d(z.literal(true), "integrator.io no longer has this license.") }),
  z.object({
    email: d(z.nullable(z.string()), "The email integrator.io's copy names (null when none)."),
    expires: d(z.nullable(isoDateTime), "integrator.io's expiry, ISO 8601 (null when none)."),
    opts: d(json, "integrator.io's `opts`."),
    integrationId: d(z.optional(z.string()), "The integration integrator.io bound the license to."),
  }),
]);
const customerLicense = z.object({
  ...licenseRecordSchema.shape,
  integrator: d(
    z.optional(integratorCopy),
    "integrator.io's copy where it differs from ours (email, expiry or opts), or `{missing: true}`; absent when they agree.",
  ),
});

export const customerViewSchema = z.object({
  customerId: text("The Stripe customer id (`cus_...`)."),
  profile: d(
    z.nullable(
      z.object({
        email: d(z.nullable(z.string()), "The Stripe customer's email (null when Stripe has none)."),
        metadata: d(z.record(z.string(), z.string()), "The Stripe customer's metadata."),
        checkoutEmail: d(z.optional(z.string()), "The integrator.io email captured at checkout."),
        deleted: d(z.optional(z.boolean()), "True once the customer was deleted in Stripe."),
        version: count(
          "Stripe `created` (Unix seconds) of the event this snapshot came from, or a fetch's time.",
        ),
        updatedAt: at("Last written"),
      }),
    ),
    "The Stripe customer as stored (null before any customer event or fetch).",
  ),
  subscriptions: d(z.array(subscriptionSummary), "The customer's Stripe subscriptions as stored."),
  licenses: d(
    z.array(customerLicense),
    "Our licenses, each with integrator.io's copy where it differs from ours (read live, unless integrator.io is unreachable).",
  ),
  integratorUnavailable: d(
    z.optional(z.literal(true)),
    "Present when integrator.io could not be read: the licenses show ours only.",
  ),
  installs: d(
    z.optional(z.array(json)),
    "The customer's installs of the vendor's integration apps, as GET /admin/installs lists them.",
  ),
  events: d(
    z.array(eventSummarySchema),
    "The customer's Stripe events in the inbox, newest first (the last 50), as GET /admin/events lists them.",
  ),
  audit: d(z.array(auditEntry), "License changes and admin actions, newest first (the last 200)."),
});

// GET /admin/customers?q=
// In this order, the first way a customer matches names the match (lib/admin/customer-search.ts).
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
  customerId: text("The Stripe customer id (`cus_...`)."),
  email: d(
    z.nullable(z.string()),
    "The profile's email (null when Stripe has none, or no profile is stored).",
  ),
  matchedBy: d(
    z.enum(MATCHED_BY),
    "What `q` matched: the customer, a subscription or license id, the profile email, the checkout email or a license email.",
  ),
  subscriptions: d(
    z.array(
      z.object({
        subscriptionId: text("Stripe's subscription id."),
        status: text("Stripe's subscription status."),
      }),
    ),
    "The customer's subscriptions.",
  ),
  licenses: d(
    z.array(
      z.object({
        connectorKey: text("The connector's catalog key."),
        state: d(z.enum(LICENSE_STATES), "The license's state."),
        email: text("The email the license is issued to."),
      }),
    ),
    "The customer's licenses.",
  ),
});
export const customerSearchResponse = z.object({
  data: d(z.array(customerMatchSchema), "The matches, in customer-id order."),
  nextCursor,
});

// POST /admin/customers/{customerId}/reconcile
export const customerReconcileRequest = z.strictObject({
  dryRun: d(z.boolean(), "True: only report the findings; false: repair them."),
});
export const customerReconcileResponse = z.object({
  customerId: text("The Stripe customer id (`cus_...`)."),
  dryRun: d(z.boolean(), "Whether this was a dry run (nothing changed)."),
  findings: d(
    z.array(
      z.object({
        kind: d(z.enum(DRIFT_KINDS), "What kind of drift (docs/architecture.md §6.2)."),
        connectorKey: d(z.optional(z.string()), "The connector's catalog key."),
        licenseId: d(z.optional(z.string()), "integrator.io's license `_id`."),
        subscriptionId: d(z.optional(z.string()), "The Stripe subscription concerned."),
        eventId: d(z.optional(z.string()), "The inbox event concerned (a re-queued one)."),
        detail: text("What differs, in words."),
      }),
    ),
    "What differs between Stripe, the store and integrator.io for this customer.",
  ),
  repaired: count("Findings repaired (0 for a dry run)."),
});

// POST /admin/customers/{customerId}/licenses/{connector}/transfer
export const transferParams = z.object({
  customerId: d(id, "The Stripe customer id (`cus_...`)."),
  connector: d(connectorKey, "The connector's catalog key."),
});
export const transferBody = z.strictObject({
  email: d(email, "The integrator.io email the license moves to."),
});

// GET /admin/licenses
export const licenseListQuery = z.object({
  email: d(z.optional(email), "Only licenses issued to this email (any case)."),
  connector: d(z.optional(connectorKey), "Only this connector's licenses (catalog key)."),
  state: d(z.optional(z.enum(LICENSE_STATES)), "Only licenses in this state."),
  cursor,
  limit,
});
export const licenseListResponse = z.object({
  data: d(z.array(licenseRecordSchema), "The licenses of this page."),
  nextCursor,
});

// GET /admin/events, POST /admin/events/{eventId}/replay
export const eventListQuery = z.object({
  status: d(z.optional(z.enum(INBOX_STATUSES)), "Only events in this status."),
  type: d(z.optional(eventType), "Only events of this Stripe type, e.g. `invoice.paid`."),
  cursor,
  limit,
});
export const eventListResponse = z.object({
  data: d(z.array(eventSummarySchema), "The events of this page, newest first."),
  nextCursor,
});
export const eventParams = z.object({ eventId: d(id, "Stripe's event id (`evt_...`).") });
export const replayResponse = z.object({
  eventId: text("The event queued again."),
  deduplicationId: text("The new SQS FIFO deduplication id it was queued under."),
});

// GET /admin/dlq, POST /admin/dlq/redrive
export const dlqQuery = z.object({ limit });
export const dlqMessageSchema = z.object({
  messageId: text("SQS's message id."),
  groupId: d(z.nullable(z.string()), "The message's FIFO group: the Stripe customer id, or the event id."),
  sentAt: d(z.nullable(isoDateTime), "When the message was first sent, ISO 8601."),
  receiveCount: d(
    z.nullable(z.number()),
    "How many times the worker received it before it was dead-lettered.",
  ),
  eventId: d(z.nullable(z.string()), "The Stripe event id the message carries."),
  event: d(
    z.nullable(eventSummarySchema),
    "The inbox event the message carries (null when the inbox no longer has it).",
  ),
  reason: d(z.nullable(z.string()), "Why the worker last failed it, as recorded in the inbox."),
});
export const dlqListResponse = z.object({
  data: d(z.array(dlqMessageSchema), "The dead letters seen, read without consuming them."),
  approximateTotal: count(
    "SQS's approximate count of messages in the DLQ (a FIFO DLQ shows only the first message of each customer).",
  ),
});
// POST /admin/dlq/redrive, GET /admin/dlq/redrive/{jobId}: the redrive is a job (it may outlast 29 s).
export const redriveAccepted = z.object({
  jobId: text("The redrive job started: poll GET /admin/dlq/redrive/{jobId}."),
  location: text("Where its progress is: `/admin/dlq/redrive/{jobId}` (also the Location header)."),
});
export const redriveJobParams = z.object({
  jobId: d(identifier, "The job's id, as POST /admin/dlq/redrive answered it."),
});
export const redriveJobSchema = z.object({
  jobId: text("The job's id."),
  state: d(
    z.enum(["running", "done", "failed"]),
    "running until every message has moved (done) or one could not (failed).",
  ),
  moved: count("Messages moved back to the event queue so far."),
  requestedBy: d(
    z.optional(z.string()),
    "Who started it (`operator:<name>` or `root`); its audit entries name them.",
  ),
  startedAt: text("When it started (ISO 8601)."),
  finishedAt: d(z.optional(z.string()), "When it ended (ISO 8601); absent while running."),
  error: d(z.optional(z.string()), "Why it failed."),
});

// POST /admin/reconcile, GET /admin/reconcile, GET /admin/reconcile/{runId}
// Request bodies are strict: an unknown key is a 400, so a typo (`dryrun`) never starts a repair.
export const reconcileRequest = z.optional(
  z.strictObject({
    dryRun: d(z.optional(z.boolean()), "True: only report the drift; false or absent: repair it."),
  }),
);
export const reconcileAccepted = z.object({
  runId: text("The run started: poll GET /admin/reconcile/{runId}."),
});
export const runParams = z.object({
  runId: d(identifier, "The run's id, as POST /admin/reconcile answered it."),
});
export const runListQuery = z.object({ cursor, limit });
const COUNT_MEANINGS: Record<DriftCountKey, string> = {
  checked: "(customer, connector) licenses compared.",
  missing: "Licenses integrator.io should hold and does not.",
  wrongEdition: "Licenses with another edition or add-ons than the subscription's.",
  wrongExpiry: "Licenses whose expiry differs from the subscription's.",
  shouldBeExpired: "Licenses still live whose subscription ended.",
  pendingRetried: "`pending_user` licenses retried.",
  foreign: "Licenses of the vendor's connectors in integrator.io this product did not create (left alone).",
  notInStripe: "Stored subscriptions Stripe answers 404 for (never expired for it).",
  unreadable: "Subscriptions in a shape the code cannot read (skipped).",
  reenqueued: "Inbox events stuck `received` or `enqueued`, queued again.",
  adopted: "Licenses integrator.io holds for a create whose answer was lost, adopted.",
  errors: "Customers or licenses the run failed to check.",
};
const driftCounts = z.object(
  Object.fromEntries(DRIFT_COUNT_KEYS.map((key) => [key, count(COUNT_MEANINGS[key])])) as Record<
    DriftCountKey,
    z.ZodMiniNumber
  >,
);
export const driftItemSchema = z.object({
  kind: d(z.enum(DRIFT_KINDS), "What kind of drift."),
  customerId: d(
    z.nullable(z.string()),
    "The Stripe customer (null when none is known, e.g. a `foreign` license on no customer's email).",
  ),
  connector: d(z.nullable(z.string()), "The connector's catalog key (null when none applies)."),
  licenseId: d(z.optional(z.string()), "integrator.io's license `_id`."),
  eventId: d(z.optional(z.string()), "The inbox event concerned (a re-queued one)."),
  subscriptionId: d(z.optional(z.string()), "The Stripe subscription concerned."),
  detail: text("What differs, in words."),
});
const runSummary = {
  runId: text("The run's id."),
  state: d(
    z.enum(["running", "done", "failed"]),
    "`running`, `done`, or `failed` (see `error`; a run whose heartbeat stopped is failed too).",
  ),
  dryRun: d(z.boolean(), "True when the run only reported."),
  trigger: d(z.enum(["admin", "schedule"]), "Who started it: the admin API or the schedule."),
  requestedBy: d(z.optional(z.string()), "Who started an admin run: `operator:<name>` or `root`."),
  startedAt: at("When it started"),
  finishedAt: d(z.nullable(isoDateTime), "When it finished, ISO 8601 (null while running)."),
  counts: d(driftCounts, "What it found, by kind (always complete)."),
  itemCount: count("Findings recorded in the report."),
  error: d(z.optional(z.string()), "Why a failed run failed."),
};
export const reconcileRunSchema = z.object({
  ...runSummary,
  items: d(z.array(driftItemSchema), "The findings (at most the first 1,000)."),
  itemsTruncated: d(
    z.boolean(),
    "True when the report holds more findings than `items` shows (counts are always complete).",
  ),
});
export const reconcileRunListResponse = z.object({
  data: d(z.array(z.object(runSummary)), "The runs of this page, newest first."),
  nextCursor,
});

// GET /admin/catalog
export const catalogResponse = z.object({
  connectors: d(
    z.array(json),
    "The catalog's connectors: key, integrator.io `_connectorId`, editions and add-ons with their Stripe prices.",
  ),
  policy: d(json, "The licensing policy: grace days, renewal buffer, what happens when a subscription ends."),
});

// POST /admin/billing/portal-sessions
export const portalSessionRequest = z.strictObject({
  customerId: d(
    identifier.check(z.regex(/^cus_[A-Za-z0-9]+$/, "must be a Stripe customer id (cus_...)")),
    "The Stripe customer id (`cus_...`).",
  ),
  returnUrl: d(
    z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
    "Where the portal's back link goes; on an origin of CHECKOUT_ALLOWED_ORIGINS.",
  ),
});
export const portalSessionResponse = z.object({
  url: text("Stripe's customer portal: send the customer here."),
});

// GET /admin/overview
const runSummarySchema = z.object(runSummary);
export const overviewResponse = z.object({
  licenses: d(
    z.object(
      Object.fromEntries(
        LICENSE_STATES.map((state) => [state, count(`Stored licenses in state \`${state}\`.`)]),
      ) as Record<(typeof LICENSE_STATES)[number], z.ZodMiniNumber>,
    ),
    "Stored licenses per state.",
  ),
  licensesPartial: d(
    z.optional(z.literal(true)),
    "Present when a state held more licenses than one request counts: the counts are lower bounds.",
  ),
  eventsFailed24h: count("Events failed now whose failure was recorded in the last 24 hours."),
  dlq: d(
    z.object({ approximateCount: count("SQS's approximate count of dead letters.") }),
    "The dead-letter queue.",
  ),
  lastReconcile: d(
    z.nullable(runSummarySchema),
    "The newest reconcile run, as GET /admin/reconcile lists it; null before the first.",
  ),
  rateLimit: d(
    z.object({
      tokens: count("Tokens in the bucket now."),
      capacity: count("The bucket's size: integrator.io's, times this stack's share, less a safety margin."),
      refillPerSecond: count("Tokens added per second (likewise)."),
      pausedUntil: d(
        z.nullable(isoDateTime),
        "Until when a 429 paused every caller, ISO 8601 (null when not).",
      ),
      updatedAt: d(
        z.nullable(isoDateTime),
        "Always null: the bucket keeps one number, not when it was written.",
      ),
    }),
    "The integrator.io rate-limit bucket the fleet shares (the limits less the safety margin).",
  ),
  generatedAt: at("When this overview was computed"),
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
