import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Inbox, InboxStatus } from "#lib/store/inbox.ts";
import type { DriftItem } from "#lib/store/reconcile-runs.ts";
import { enqueueEvent, repeatDeduplicationId } from "#lib/webhook/receive.ts";

export interface StaleEventDeps {
  inbox: Inbox;
  sqs: SQSClient;
  queueUrl: string;
  staleEventMinutes: number;
  now(): Date;
}

const STUCK: InboxStatus[] = ["received", "enqueued"];

/**
 * Inbox events that never reached the worker (a lost enqueue, a worker killed on every attempt):
 * left `received` or `enqueued` for `staleEventMinutes` since their last change. Each goes on the
 * queue again under a new deduplication id (FIFO drops a repeated id for 5 minutes), unless
 * `dryRun`. Processing an event twice changes nothing, so a false alarm costs one worker call.
 */
export async function requeueStaleEvents(
  runId: string,
  dryRun: boolean,
  deps: StaleEventDeps,
): Promise<DriftItem[]> {
  const cutoff = new Date(deps.now().getTime() - deps.staleEventMinutes * 60_000);
  const found: DriftItem[] = [];
  for (const status of STUCK) {
    for (const event of await deps.inbox.stale(status, cutoff)) {
      // `stale` goes by arrival; a replay or an earlier run moved it more recently.
      if (Date.parse(event.updatedAt) > cutoff.getTime()) continue;
      found.push({
        kind: "reenqueued",
        customerId: event.customerId ?? null,
        connector: null,
        eventId: event.eventId,
        detail: `${event.type} left ${status} since ${event.updatedAt}${dryRun ? "; would be queued again" : "; queued again"}`,
      });
      if (dryRun) continue;
      await enqueueEvent(
        deps.sqs,
        deps.queueUrl,
        event.eventId,
        event.groupId,
        repeatDeduplicationId(event.eventId, "reconcile", runId),
      );
      // Only from the stuck states: the worker may have finished it in the meantime.
      await deps.inbox.setStatus(event.eventId, "enqueued", `queued again by reconcile ${runId}`, STUCK);
    }
  }
  return found;
}
