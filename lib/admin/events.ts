import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { currentActor } from "#lib/access/actor.ts";
import { conflict, notFound } from "#lib/http/errors.ts";
import type { AuditTrail } from "#lib/store/audit.ts";
import type { Inbox, InboxEvent } from "#lib/store/inbox.ts";
import { enqueueEvent, repeatDeduplicationId } from "#lib/webhook/receive.ts";
import type { DlqMessage, EventSummary } from "./schemas.ts";

export interface QueueDeps {
  inbox: Inbox;
  audit: AuditTrail;
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
}

/** An inbox event without its payload (the list stays small; the payload is Stripe's event). */
export function eventSummary(event: InboxEvent): EventSummary {
  const { payload: _payload, ...summary } = event;
  return summary;
}

/**
 * Queues an inbox event again for the worker (docs/architecture.md §9): a new FIFO deduplication id, since the
 * queue drops a repeated id for 5 minutes; same group, so it stays in its customer's order.
 * Processing is idempotent: replaying a processed event changes nothing.
 */
export async function replayEvent(
  eventId: string,
  deps: QueueDeps,
  requestId: string,
): Promise<{ eventId: string; deduplicationId: string }> {
  const event = await deps.inbox.get(eventId);
  if (!event) throw notFound(`No event ${eventId} in the inbox.`);
  if (event.status === "ignored")
    throw conflict(
      `Event ${eventId} was ignored (${event.reason ?? "not handled"}); the worker never processes it.`,
    );
  // The request's id: the inbox reason, the audit entry and the queue message name the same replay.
  const deduplicationId = repeatDeduplicationId(eventId, "replay", requestId);
  await enqueueEvent(deps.sqs, deps.queueUrl, eventId, event.groupId, deduplicationId);
  // From the state it was in: if the worker is already done with it, that state stays.
  await deps.inbox.setStatus(eventId, "enqueued", `replayed${byActor()} (${requestId})`, [event.status]);
  if (event.customerId) {
    await deps.audit.record({
      customerId: event.customerId,
      action: "admin.replay",
      cause: `admin:${requestId}`,
      detail: { eventId, type: event.type, from: event.status },
    });
  }
  return { eventId, deduplicationId };
}

/** How long listed DLQ messages are held invisible while we read them; released right after. */
const PEEK_VISIBILITY_SECONDS = 30;

/**
 * The messages in the DLQ with their inbox events and recorded failure reasons, without consuming
 * them: each is received with a short visibility timeout and released at once. A FIFO queue shows
 * only the first message of each group (customer) while it is held, so a customer with several
 * dead events shows one; `GET /admin/events?status=failed` lists them all.
 */
export async function peekDeadLetters(
  deps: QueueDeps,
  limit: number,
): Promise<{ data: DlqMessage[]; approximateTotal: number }> {
  const held: Message[] = [];
  try {
    while (held.length < limit) {
      const output = await deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deps.dlqUrl,
          MaxNumberOfMessages: Math.min(10, limit - held.length),
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ["All"],
        }),
      );
      const messages = output.Messages ?? [];
      if (messages.length === 0) break;
      held.push(...messages);
    }
  } finally {
    await release(deps, held);
  }
  const data = await Promise.all(held.map((message) => describeDeadLetter(message, deps.inbox)));
  const attributes = await deps.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: deps.dlqUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const approximateTotal =
    Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  return { data, approximateTotal };
}

async function release(deps: QueueDeps, messages: Message[]): Promise<void> {
  for (let offset = 0; offset < messages.length; offset += 10) {
    const entries = messages
      .slice(offset, offset + 10)
      .map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "", VisibilityTimeout: 0 }));
    await deps.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: deps.dlqUrl, Entries: entries }));
  }
}

const eventIdOf = (message: Message): string | undefined => {
  try {
    const body = JSON.parse(message.Body ?? "") as { eventId?: unknown };
    return typeof body.eventId === "string" ? body.eventId : undefined;
  } catch {
    return undefined;
  }
};

async function describeDeadLetter(message: Message, inbox: Inbox): Promise<DlqMessage> {
  const eventId = eventIdOf(message);
  const event = eventId ? await inbox.get(eventId) : undefined;
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    groupId: attributes.MessageGroupId ?? null,
    sentAt: attributes.SentTimestamp ? new Date(Number(attributes.SentTimestamp)).toISOString() : null,
    receiveCount: attributes.ApproximateReceiveCount ? Number(attributes.ApproximateReceiveCount) : null,
    eventId: eventId ?? null,
    event: event ? eventSummary(event) : null,
    reason: event?.reason ?? null,
  };
}

/** ` by <actor>` inside an admin request (lib/access/actor.ts), for the inbox reasons it writes. */
const byActor = () => {
  const actor = currentActor();
  return actor ? ` by ${actor}` : "";
};

/**
 * Moves every DLQ message back to the event queue (up to `limit`), in order: sent with a new
 * deduplication id in its own group, its inbox event marked `enqueued`, then deleted from the DLQ
 * — so a crash in between repeats a message (harmless) rather than losing one. Each redriven
 * event of a customer is audited (`admin.redrive`, under the request's actor) like a replay.
 */
export async function redriveDeadLetters(
  deps: QueueDeps,
  requestId: string,
  limit = 10_000,
  /** Called with the count moved so far after each batch (a redrive job stores it). */
  onProgress?: (moved: number) => Promise<void>,
): Promise<number> {
  let count = 0;
  while (count < limit) {
    const output = await deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deps.dlqUrl,
        MaxNumberOfMessages: Math.min(10, limit - count),
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const messages = output.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      const eventId = eventIdOf(message);
      const groupId = message.Attributes?.MessageGroupId ?? eventId ?? message.MessageId ?? "dlq";
      await deps.sqs.send(
        new SendMessageCommand({
          QueueUrl: deps.queueUrl,
          MessageBody: message.Body ?? "",
          MessageGroupId: groupId,
          MessageDeduplicationId: repeatDeduplicationId(
            eventId ?? message.MessageId ?? "",
            "redrive",
            randomUUID(),
          ),
        }),
      );
      const event = eventId ? await deps.inbox.get(eventId) : undefined;
      if (event) {
        await deps.inbox.setStatus(event.eventId, "enqueued", `redriven from the DLQ${byActor()}`, [
          "failed",
          "enqueued",
          "received",
        ]);
        if (event.customerId) {
          await deps.audit.record({
            customerId: event.customerId,
            action: "admin.redrive",
            cause: `admin:${requestId}`,
            detail: { eventId: event.eventId, type: event.type, from: event.status },
          });
        }
      }
      await deps.sqs.send(
        new DeleteMessageCommand({ QueueUrl: deps.dlqUrl, ReceiptHandle: message.ReceiptHandle ?? "" }),
      );
      count += 1;
    }
    await onProgress?.(count);
  }
  return count;
}
