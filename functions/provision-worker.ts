import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { createLogger } from "#lib/observability/logger.ts";
import type { ProvisioningContext } from "#lib/provisioning/context.ts";
import { processInboxEvent } from "#lib/provisioning/process-event.ts";
import { createProvisioningContext } from "#lib/provisioning/wiring.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export type Deps = ProvisioningContext;

export const createDeps = (environment: Environment): Promise<Deps> =>
  createProvisioningContext(
    environment,
    createLogger("provision-worker", environment.config),
    "provision-worker",
  );

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
 * The SQS FIFO consumer: each record is one inbox event id. The batch's message groups (one
 * Stripe customer each) run side by side, each group's records in order through Powertools' FIFO
 * processor: a failed record fails the rest of its group in this batch, and SQS retries them; the
 * DLQ keeps what never succeeds. Other customers' records are not held back by the failure.
 */
export const makeHandler = (deps: Deps) => {
  const processRecord = async (record: SQSRecord) => {
    const { eventId } = JSON.parse(record.body) as { eventId: string };
    await processInboxEvent(eventId, deps);
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    try {
      const groups = byMessageGroup(event.Records);
      const outcomes = await Promise.allSettled(
        groups.map((Records) =>
          processPartialResponse({ Records }, processRecord, new SqsFifoPartialProcessorAsync(), {
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
      return { batchItemFailures };
    } finally {
      deps.metrics.flush();
    }
  };
};

export const handler = lambdaHandler(createDeps, makeHandler);
