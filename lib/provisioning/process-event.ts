import { describeError } from "#lib/http/http-function.ts";
import { LicenseConflictError } from "#lib/store/licenses.ts";
import { type StripeEvent, stripeEventSchema } from "#lib/stripe/schemas.ts";
import { UnrecognisedStripeObject } from "#lib/stripe/unrecognised.ts";
import { type AppliedEvent, applyStripeEvent } from "./apply-event.ts";
import type { ProvisioningContext } from "./context.ts";
import { convergeCustomer } from "./converge.ts";

/** Plans after a license write lost to another writer (reconcile, the admin API) before failing the event. */
const CONVERGE_ATTEMPTS = 3;

/**
 * Converges on the state the event was applied to — its licenses read afresh when applying
 * waited on Stripe or lost a write (integrator.io is changed before a license record's conditional
 * write could catch a stale one, so the view must be as fresh as a read right here). When another writer changed a license meanwhile — an admin transfer racing the webhook of its
 * own metadata change — it plans again from the store rather than failing the event, which would
 * hold the customer's later events back for a whole visibility timeout.
 */
async function convergeApplied(applied: AppliedEvent, ctx: ProvisioningContext, eventId: string) {
  const { profile, subscriptions, licenses } = applied.state;
  const view = {
    profile,
    subscriptions: subscriptions.map((s) => s.snapshot),
    ...(licenses ? { licenses } : {}),
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await convergeCustomer(applied.customerId, ctx, eventId, attempt === 1 ? view : {});
      return;
    } catch (error) {
      if (!(error instanceof LicenseConflictError) || attempt >= CONVERGE_ATTEMPTS) throw error;
      ctx.logger.info("a license changed meanwhile; planning again", { attempt });
    }
  }
}

/**
 * Applies the event and converges its customer. A Stripe object this code does not know (see
 * `leaveUnrecognised`) stops the event where it is met, maybe after something else was stored
 * (a subscription before its customer is fetched): the customer is converged on what the store
 * holds then, and the object is returned.
 */
async function applyAndConverge(
  event: StripeEvent,
  customerId: string | undefined,
  ctx: ProvisioningContext,
  eventId: string,
): Promise<UnrecognisedStripeObject | undefined> {
  try {
    const applied = await applyStripeEvent(event, ctx);
    if (applied) await convergeApplied(applied, ctx, eventId);
    return undefined;
  } catch (error) {
    if (!(error instanceof UnrecognisedStripeObject)) throw error;
    if (customerId) await convergeCustomer(customerId, ctx, eventId);
    return error;
  }
}

/**
 * The worker's job for one queued event id: load it from the inbox, apply it to the stored
 * customer state, converge the customer's licenses, and mark the inbox item processed — or
 * failed with its reason, rethrowing so SQS retries it (and, in the end, the DLQ keeps it).
 * An event whose Stripe object is unreadable even fetched in the pinned API version (a status
 * Stripe added since) is not failed: see `leaveUnrecognised`.
 */
export async function processInboxEvent(
  eventId: string,
  shared: ProvisioningContext,
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
  const ctx = { ...shared, logger };
  try {
    const event = stripeEventSchema.parse(JSON.parse(item.payload));
    const unrecognised = await applyAndConverge(event, item.customerId, ctx, eventId);
    if (unrecognised) {
      await leaveUnrecognised(eventId, unrecognised, item.receivedAt, ctx);
      return "processed";
    }
    await ctx.inbox.setStatus(eventId, "processed", undefined, undefined, item.receivedAt);
    ctx.metrics.count("EventsProcessed");
    return "processed";
  } catch (error) {
    const { name, message } = describeError(error);
    ctx.metrics.count("EventsFailed");
    logger.error("event failed", { error: { name, message } });
    // The reason is bounded by the inbox, so only the store itself can refuse this write: say so,
    // and let SQS retry the event either way.
    await ctx.inbox
      .setStatus(eventId, "failed", `${name}: ${message}`, undefined, item.receivedAt)
      .catch((statusError: unknown) =>
        logger.error("the failure could not be recorded in the inbox", { error: describeError(statusError) }),
      );
    throw error;
  }
}

/**
 * Stripe sent something this code does not know yet: retrying cannot help, and failing would hold
 * the customer's later events back and end in the DLQ. The object is not applied (nor the customer
 * converged); the event is recorded
 * `processed` with the reason `unrecognised: …` (replayable once the code knows the value, which
 * an `ignored` event is not), warned about in one bounded line and counted as `EventsUnrecognised`.
 */
async function leaveUnrecognised(
  eventId: string,
  error: UnrecognisedStripeObject,
  receivedAt: string,
  ctx: ProvisioningContext,
): Promise<void> {
  ctx.logger.warn("Stripe object not recognised; event left unapplied", {
    objectType: error.objectType,
    objectId: error.objectId,
    problems: error.problems,
  });
  ctx.metrics.count("EventsUnrecognised");
  await ctx.inbox.setStatus(eventId, "processed", `unrecognised: ${error.message}`, undefined, receivedAt);
}
