import type { Context } from "aws-lambda";
import {
  executeRedriveJob,
  queueDepsOf,
  type RedriveDeps,
  requestedRedriveJobId,
} from "#lib/admin/redrive-job.ts";
import { addLambdaContext, createLogger } from "#lib/observability/logger.ts";
import { requestedRunId } from "#lib/reconcile/request.ts";
import { executeRun, type ReconcileDeps, runScheduled } from "#lib/reconcile/run.ts";
import { createReconcileDeps } from "#lib/reconcile/wiring.ts";
import { type Environment, lambdaHandler } from "#lib/runtime.ts";
import { configuredFor, type SecretSource } from "#lib/secrets.ts";
import type { ReconcileRun } from "#lib/store/reconcile-runs.ts";
import { RedriveJobs } from "#lib/store/redrive-jobs.ts";

/** `secrets`: which of the run's secrets are not configured yet (absent: all are, as in tests). */
/** `redrive`: the dead-letter redrive jobs the admin API hands over (`dlq.redrive.requested`). */
export type Deps = ReconcileDeps & { secrets?: Pick<SecretSource, "notConfigured">; redrive?: RedriveDeps };

export const createDeps = async (environment: Environment): Promise<Deps> => {
  const logger = createLogger("reconcile", environment.config);
  const deps = await createReconcileDeps(environment, logger, "reconcile", "bulk");
  return {
    ...deps,
    secrets: environment.secrets,
    redrive: {
      jobs: new RedriveJobs(deps.ctx.table),
      queue: queueDepsOf(deps, environment.config.dlqUrl),
      logger,
    },
  };
};

/** What a run calls Stripe and integrator.io with. */
const RUN_SECRETS = ["STRIPE_SECRET_KEY", "INTEGRATOR_TOKEN"] as const;

/**
 * An EventBridge event: the schedule's (`Scheduled Event`), or the admin API's `reconcile.requested`
 * or `dlq.redrive.requested` (a redrive job, lib/admin/redrive-job.ts: it may outlast the admin's 29 s).
 */
export type ReconcileEvent = { source?: string; "detail-type"?: string; detail?: unknown };

/**
 * Stripe ↔ store ↔ integrator.io (docs/architecture.md §1). A `reconcile.requested` event carries out the run
 * the admin API recorded; any other event (the schedule) starts a full repair run, unless one is
 * already working, or a secret it needs is not configured yet (skipped with one warning and
 * `NotConfigured`). Answers the run as it ended.
 */
export const makeHandler =
  (deps: Deps) =>
  async (event: ReconcileEvent, context?: Context): Promise<ReconcileRun | undefined> => {
    addLambdaContext(deps.ctx.logger, context);
    try {
      const jobId = requestedRedriveJobId(event);
      if (jobId && deps.redrive) {
        await executeRedriveJob(jobId, deps.redrive);
        return undefined;
      }
      const runId = requestedRunId(event);
      if (runId) return await executeRun(runId, deps);
      // The schedule, before the secrets are set: one warning and NotConfigured, not a 401 per call.
      if (deps.secrets && !configuredFor("reconcile", deps.secrets, RUN_SECRETS, deps.ctx)) return undefined;
      return await runScheduled(deps);
    } finally {
      if (deps.ctx.metrics.metrics.hasStoredMetrics()) deps.ctx.metrics.flush();
    }
  };

export const handler = lambdaHandler(createDeps, makeHandler);
