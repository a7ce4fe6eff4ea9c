import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type Stripe from "stripe";
import { eventCustomerId, eventObjectIds, HANDLED_EVENT_TYPES } from "#lib/engine/stripe-events.ts";
import { HttpError } from "#lib/http/errors.ts";
import { IDENTIFIER_RULE, isEventType, isIdentifier } from "#lib/identifiers.ts";
import type { ProductMetrics } from "#lib/observability/metrics.ts";
import { NotConfiguredError, type SecretValue, secretValue } from "#lib/secrets.ts";
import type { Inbox } from "#lib/store/inbox.ts";
import type { StripeSdk } from "#lib/stripe/client.ts";
import { stripeEventSchema } from "#lib/stripe/schemas.ts";

/** Stripe's default signature tolerance: a signature older than 5 minutes is stale. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export interface WebhookDeps {
  /** Verifies signatures (`webhooks.constructEvent`); built at the first delivery. */
  stripe: StripeSdk;
  /**
   * `STRIPE_WEBHOOK_SECRET`, or how to read its current value: one signing secret, or several,
   * comma-separated, during a rolling rotation (a delivery signed under any of them is accepted).
   */
  webhookSecret: SecretValue;
  /** The configured key's mode; events of the other mode are recorded as ignored. */
  livemode: boolean;
  inbox: Inbox;
  sqs: SQSClient;
  queueUrl: string;
  metrics: ProductMetrics;
}

export type Receipt = { eventId: string; outcome: "enqueued" | "duplicate" | "ignored" };

/**
 * How deep a signed event may nest. Stripe's objects, expanded, stay under ten levels; the worker
 * stores snapshots in DynamoDB, which refuses items nested over 32 levels, so a deeper event could
 * never be processed: it is recorded `ignored` instead of retried into the dead-letter queue.
 */
const MAX_EVENT_DEPTH = 24;

/** True when `value` nests deeper than `limit` levels of objects and arrays (stops looking there). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (limit <= 0) return true;
  return Object.values(value).some((inner) => nestsDeeperThan(inner, limit - 1));
}

/**
 * A signed event whose own id or type no inbox key or queue id can hold is not a Stripe event:
 * 400, nothing recorded (docs/architecture.md §9).
 */
function refuseUnkeyableEvent(event: { id: string; type: string }): void {
  const problems = [
    ...(isIdentifier(event.id) ? [] : [{ path: "id", message: IDENTIFIER_RULE }]),
    ...(isEventType(event.type) ? [] : [{ path: "type", message: "must be a Stripe event type" }]),
  ];
  if (problems.length > 0) {
    const [first] = problems;
    throw new HttpError(
      400,
      "invalid_event",
      `Signed payload is not a Stripe event: ${first?.path} ${first?.message}.`,
      {
        details: problems,
      },
    );
  }
}

/** SQS FIFO's limit on a deduplication id. */
const MAX_DEDUPLICATION_ID_LENGTH = 128;

/**
 * The deduplication id of another send of an event (a replay, a redrive), `<eventId>:<kind>:<unique>`,
 * within SQS's 128 characters: a long event id is cut to fit, the unique part is always whole.
 */
export function repeatDeduplicationId(eventId: string, kind: string, unique: string): string {
  const suffix = `:${kind}:${unique}`;
  return `${eventId.slice(0, Math.max(0, MAX_DEDUPLICATION_ID_LENGTH - suffix.length))}${suffix}`.slice(
    -MAX_DEDUPLICATION_ID_LENGTH,
  );
}

/** The queue message: only the inbox item's id travels; the worker loads the event itself. */
export async function enqueueEvent(
  sqs: SQSClient,
  queueUrl: string,
  eventId: string,
  groupId: string,
  deduplicationId = eventId,
) {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ eventId }),
      MessageGroupId: groupId,
      MessageDeduplicationId: deduplicationId,
    }),
  );
}

/** The signing secrets of a `STRIPE_WEBHOOK_SECRET` value: one, or several comma-separated. */
export function webhookSecrets(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((secret) => secret.trim())
    .filter(Boolean);
}

/**
 * The event a delivery carries, once its signature verifies under one of `secrets` (within
 * `SIGNATURE_TOLERANCE_SECONDS`); a 400 naming what is wrong otherwise.
 */
function verifySignature(stripe: Stripe, rawBody: string, signature: string, secrets: string[]): unknown {
  const messages: string[] = [];
  for (const secret of secrets) {
    try {
      return stripe.webhooks.constructEvent(rawBody, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
    } catch (error) {
      // The SDK parses the body only once the signature matched: a parse error means a signed body
      // that is not JSON.
      if (error instanceof SyntaxError)
        throw new HttpError(400, "invalid_json", "Signed payload is not valid JSON.");
      messages.push(error instanceof Error ? error.message : "");
    }
  }
  // A stale signature shows only under the secret it was made with: that answer wins.
  const reason = messages.some((message) => /unable to extract/i.test(message))
    ? "Signature header is malformed: Stripe sends t=<seconds>,v1=<signature>."
    : messages.some((message) => /timestamp/i.test(message))
      ? "Signature timestamp is outside the tolerance."
      : "Signature does not match the payload.";
  throw new HttpError(400, "invalid_signature", reason);
}

/**
 * Verifies a Stripe delivery on its raw body, records it in the inbox (once per event id) and
 * queues it for the worker. Answers only once the event is durably in the inbox and on the queue.
 */
export async function receiveStripeEvent(
  rawBody: string,
  signature: string | undefined,
  deps: WebhookDeps,
): Promise<Receipt> {
  if (!signature) throw new HttpError(400, "invalid_signature", "Missing Stripe-Signature header.");
  const secrets = webhookSecrets(await secretValue(deps.webhookSecret));
  // None at all is "not configured yet" like a placeholder: 503, so Stripe delivers again later.
  if (secrets.length === 0)
    throw new NotConfiguredError("STRIPE_WEBHOOK_SECRET", "it holds no signing secret");
  const parsed = stripeEventSchema.safeParse(
    verifySignature(await deps.stripe(), rawBody, signature, secrets),
  );
  if (!parsed.success) {
    throw new HttpError(400, "invalid_event", "Signed payload is not a Stripe event.", {
      details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    });
  }
  const event = parsed.data;
  refuseUnkeyableEvent(event);
  deps.metrics.count("EventsReceived");
  const badId = Object.entries(eventObjectIds(event)).find(
    ([, value]) => value !== undefined && value !== null && !isIdentifier(value),
  );
  // An id no key or queue can hold is not recorded beside the event, nor used as its group.
  const customerId = badId ? undefined : eventCustomerId(event);
  const groupId = customerId ?? event.id;
  const ignoredReason =
    event.livemode !== deps.livemode
      ? `livemode ${event.livemode} does not match the configured key`
      : !HANDLED_EVENT_TYPES.has(event.type)
        ? `event type ${event.type} is not handled`
        : badId
          ? `${badId[0]} ${IDENTIFIER_RULE}`
          : nestsDeeperThan(event, MAX_EVENT_DEPTH)
            ? `the event nests deeper than ${MAX_EVENT_DEPTH} levels`
            : undefined;
  const entry = {
    eventId: event.id,
    type: event.type,
    groupId,
    ...(customerId ? { customerId } : {}),
    livemode: event.livemode,
    created: event.created,
    payload: rawBody,
  };
  const receivedAt = new Date().toISOString();
  const existing = await deps.inbox.record(
    entry,
    ignoredReason ? "ignored" : "received",
    ignoredReason,
    receivedAt,
  );
  if (ignoredReason && !existing) {
    deps.metrics.count("EventsIgnored");
    return { eventId: event.id, outcome: "ignored" };
  }
  if (existing && existing.status !== "received") return { eventId: event.id, outcome: "duplicate" };
  // New, or a duplicate of one that never reached the queue: enqueue before answering.
  await enqueueEvent(deps.sqs, deps.queueUrl, event.id, groupId);
  // The worker may already have processed it: only a `received` item becomes `enqueued`.
  await deps.inbox.setStatus(
    event.id,
    "enqueued",
    undefined,
    ["received"],
    existing?.receivedAt ?? receivedAt,
  );
  return { eventId: event.id, outcome: existing ? "duplicate" : "enqueued" };
}
