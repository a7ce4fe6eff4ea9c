import type { Context } from "aws-lambda";
import { addLambdaContext, createLogger } from "#lib/observability/logger.ts";
import { requestedRunId } from "#lib/reconcile/request.ts";
import { executeRun, type ReconcileDeps, runScheduled } from "#lib/reconcile/run.ts";
import { createReconcileDeps } from "#lib/reconcile/wiring.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";
import type { ReconcileRun } from "#lib/store/reconcile-runs.ts";

export type Deps = ReconcileDeps;

export const createDeps = (environment: Environment): Promise<Deps> =>
  createReconcileDeps(environment, createLogger("reconcile", environment.config), "reconcile");

/** An EventBridge event: the schedule's (`Scheduled Event`) or the admin API's `reconcile.requested`. */
export type ReconcileEvent = { source?: string; "detail-type"?: string; detail?: unknown };

/**
 * Stripe ↔ store ↔ integrator.io (docs/architecture.md §1). A `reconcile.requested` event carries out the run
 * the admin API recorded; any other event (the schedule) starts a full repair run, unless one is
 * already working. Answers the run as it ended.
 */
export const makeHandler =
  (deps: Deps) =>
  async (event: ReconcileEvent, context?: Context): Promise<ReconcileRun | undefined> => {
    addLambdaContext(deps.ctx.logger, context);
    try {
      const runId = requestedRunId(event);
      return runId ? await executeRun(runId, deps) : await runScheduled(deps);
    } finally {
      if (deps.ctx.metrics.metrics.hasStoredMetrics()) deps.ctx.metrics.flush();
    }
  };

export const handler = lambdaHandler(createDeps, makeHandler);
