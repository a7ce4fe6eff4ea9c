import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { functionTable } from "#lib/functions.ts";
import type { MetricName } from "#lib/observability/metrics.ts";

/** A batch's records per message group (one Stripe customer each), each group in queue order. */
export function byMessageGroup(records: SQSRecord[]): SQSRecord[][] {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const group = record.attributes.MessageGroupId ?? record.messageId;
    const members = groups.get(group);
    if (members) members.push(record);
    else groups.set(group, [record]);
  }
  return [...groups.values()];
}

/**
 * No record starts with less than this much of the invocation left (ms): half the worker's 60 s
 * timeout. A record normally takes well under a second, but one slowed by integrator.io's 429s
 * (each `Retry-After` waited out) or by a stuck call (10 s per attempt, integrator.io's and
 * Stripe's) takes tens of seconds, and the metrics are flushed after it. A record started later
 * risks the timeout, which sends the whole batch back, other customers' records included.
 */
export const TIME_RESERVE_MS = (functionTable["provision-worker"].timeoutSeconds * 1000) / 2;

/** A record not started because the invocation's time is running out: SQS delivers it again. */
class NotStarted extends Error {
  override name = "NotStarted";
}

/**
 * One SQS FIFO batch: its message groups (one Stripe customer each) run side by side, each group's
 * records in order through Powertools' FIFO processor: a failed record fails the rest of its group
 * in this batch, and SQS retries them; the DLQ keeps what never succeeds. Other customers' records
 * are not held back by the failure. A record is started only while more than `reserveMs` is left
 * of the invocation; one that is not started fails with the rest of its group, so SQS delivers
 * them again, in order (one warning and `RecordsDeferred` count them). Records in progress finish.
 */
export async function processFifoBatch(
  event: SQSEvent,
  context: Context,
  processRecord: (record: SQSRecord) => Promise<unknown>,
  deps: { logger: Logger; metrics: { count(name: MetricName, value?: number): void }; reserveMs?: number },
): Promise<SQSBatchResponse> {
  const reserveMs = deps.reserveMs ?? TIME_RESERVE_MS;
  let deferred = 0;
  /** One group's record handler: the group's records come to it in order. */
  const processRecordOf = (group: SQSRecord[]) => {
    let started = 0;
    return async (record: SQSRecord) => {
      if (context.getRemainingTimeInMillis() < reserveMs) {
        // This record and the group's later ones, which the FIFO processor now skips.
        deferred += group.length - started;
        throw new NotStarted();
      }
      started++;
      await processRecord(record);
    };
  };
  const groups = byMessageGroup(event.Records);
  const outcomes = await Promise.allSettled(
    groups.map((Records) =>
      processPartialResponse({ Records }, processRecordOf(Records), new SqsFifoPartialProcessorAsync(), {
        context,
        skipGroupOnError: true,
        throwOnFullBatchFailure: false,
      }),
    ),
  );
  // A group whose processing itself failed goes back to the queue whole.
  const batchItemFailures = outcomes.flatMap((outcome, i) =>
    outcome.status === "fulfilled"
      ? outcome.value.batchItemFailures
      : (groups[i] ?? []).map((r) => ({ itemIdentifier: r.messageId })),
  );
  if (deferred > 0) {
    deps.logger.warn("time running out: records left unstarted for SQS to deliver again", {
      deferred,
      reserveMs,
    });
    deps.metrics.count("RecordsDeferred", deferred);
  }
  return { batchItemFailures };
}
