import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { ProvisioningContext } from "#lib/engine/context.ts";
import { processInboxEvent } from "#lib/engine/inbox-event.ts";
import { createProvisioningContext } from "#lib/engine/wiring.ts";
import { addLambdaContext, createLogger } from "#lib/observability/logger.ts";
import { processFifoBatch } from "#lib/queue/fifo-batch.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";

export type Deps = ProvisioningContext;

export const createDeps = (environment: Environment): Promise<Deps> =>
  createProvisioningContext(
    environment,
    createLogger("provision-worker", environment.config),
    "provision-worker",
    "background",
  );

export interface HandlerOptions {
  /** The time an invocation keeps back from starting records, in ms (default `TIME_RESERVE_MS`). */
  reserveMs?: number;
}

/**
 * The SQS FIFO consumer: each record is one inbox event id, processed by the license engine,
 * each customer's records in order (lib/queue/fifo-batch.ts).
 */
export const makeHandler =
  (deps: Deps, { reserveMs }: HandlerOptions = {}) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    addLambdaContext(deps.logger, context);
    try {
      return await processFifoBatch(
        event,
        context,
        (record) => processInboxEvent((JSON.parse(record.body) as { eventId: string }).eventId, deps),
        { logger: deps.logger, metrics: deps.metrics, ...(reserveMs === undefined ? {} : { reserveMs }) },
      );
    } finally {
      deps.metrics.flush();
    }
  };

export const handler = lambdaHandler(createDeps, makeHandler);
