import type { Logger } from "@aws-lambda-powertools/logger";
import { describeError } from "#lib/http/http-function.ts";
import type { ProductMetrics } from "#lib/observability/metrics.ts";
import type { Inbox, InboxStatus } from "#lib/store/inbox.ts";
import { stripeEventSchema } from "#lib/stripe/schemas.ts";
import type { UnrecognisedStripeObject } from "#lib/stripe/unrecognised.ts";
import type { Engine } from "./engine.ts";

/** The statuses a failed attempt may overwrite: never a success recorded by another delivery. */
const NOT_YET_PROCESSED: InboxStatus[] = ["received", "enqueued", "failed"];

/** What the worker needs for one queued event. */
export interface WorkerContext {
  engine: Engine;
  inbox: Inbox;
  metrics: Pick<ProductMetrics, "count">;
  logger: Logger;
}

/**
 * The worker's job for one queued event id: load it from the inbox, let the engine apply it and
 * converge its customer, and mark the inbox item processed — or failed with its reason,
 * rethrowing so SQS retries it (and, in the end, the DLQ keeps it). An event whose Stripe object
 * is unreadable even fetched in the pinned API version is not failed: see `leaveUnrecognised`.
 */
export async function processInboxEvent(
  eventId: string,
  shared: WorkerContext,
): Promise<"processed" | "skipped"> {
  const item = await shared.inbox.get(eventId);
  if (!item) {
    shared.logger.warn("queued event not in the inbox", { eventId });
    return "skipped";
  }
  if (item.status === "ignored") return "skipped";
  // Other customers' events run beside this one in the same process: its own correlated logger.
  const logger = shared.logger.createChild({
    persistentKeys: { eventId, customerId: item.customerId, eventType: item.type },
  });
  const engine = shared.engine.withLogger(logger);
  try {
    const event = stripeEventSchema.parse(JSON.parse(item.payload));
    const result = await engine.processEvent(event, eventId);
    if (result.outcome === "unrecognised") {
      await leaveUnrecognised(eventId, result.error, item.receivedAt, { ...shared, logger });
      return "processed";
    }
    await shared.inbox.setStatus(eventId, "processed", undefined, undefined, item.receivedAt);
    shared.metrics.count("EventsProcessed");
    return "processed";
  } catch (error) {
    const { name, message } = describeError(error);
    shared.metrics.count("EventsFailed");
    logger.error("event failed", { error: { name, message } });
    // The reason is bounded by the inbox, so only the store itself can refuse this write: say so,
    // and let SQS retry the event either way. A second delivery of the event that succeeded
    // meanwhile (a redelivery, a reconcile requeue) stays `processed`.
    await shared.inbox
      .setStatus(eventId, "failed", `${name}: ${message}`, NOT_YET_PROCESSED, item.receivedAt)
      .catch((statusError: unknown) =>
        logger.error("the failure could not be recorded in the inbox", { error: describeError(statusError) }),
      );
    throw error;
  }
}

/**
 * Stripe sent something this code does not know yet: retrying cannot help, and failing would hold
 * the customer's later events back and end in the DLQ. The object is not applied; the event is
 * recorded `processed` with the reason `unrecognised: …` (replayable once the code knows the
 * value, which an `ignored` event is not), warned about in one bounded line and counted as
 * `EventsUnrecognised`.
 */
async function leaveUnrecognised(
  eventId: string,
  error: UnrecognisedStripeObject,
  receivedAt: string,
  ctx: WorkerContext,
): Promise<void> {
  ctx.logger.warn("Stripe object not recognised; event left unapplied", {
    objectType: error.objectType,
    objectId: error.objectId,
    problems: error.problems,
  });
  ctx.metrics.count("EventsUnrecognised");
  await ctx.inbox.setStatus(eventId, "processed", `unrecognised: ${error.message}`, undefined, receivedAt);
}
