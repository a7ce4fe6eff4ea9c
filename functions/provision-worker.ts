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

/**
 * The SQS FIFO consumer: each record is one inbox event id. A failed record fails the rest of its
 * customer's group in this batch (FIFO order), and SQS retries them; the DLQ keeps what never succeeds.
 */
export const makeHandler = (deps: Deps) => {
  const processor = new SqsFifoPartialProcessorAsync();
  const processRecord = async (record: SQSRecord) => {
    const { eventId } = JSON.parse(record.body) as { eventId: string };
    await processInboxEvent(eventId, deps);
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    try {
      return await processPartialResponse(event, processRecord, processor, {
        context,
        skipGroupOnError: true,
        throwOnFullBatchFailure: false,
      });
    } finally {
      deps.metrics.flush();
    }
  };
};

export const handler = lambdaHandler(createDeps, makeHandler);
