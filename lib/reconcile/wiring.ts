import type { Logger } from "@aws-lambda-powertools/logger";
import { createProvisioningContext, createTable } from "#lib/engine/wiring.ts";
import { InProcessLauncher } from "#lib/events/bus.ts";
import type { Lane } from "#lib/integrator/lanes.ts";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import type { Environment } from "#lib/runtime.ts";
import { Leases } from "#lib/store/leases.ts";
import { ReconcileRuns } from "#lib/store/reconcile-runs.ts";
import { EventBridgeRunLauncher, type RunLauncher } from "./launcher.ts";
import { executeRun, type ReconcileDeps } from "./run.ts";

/**
 * What the reconcile function (and the admin API, which starts runs) needs, built once per cold
 * start. `lane`: `bulk` for the reconcile function's runs, `interactive` for the admin API's actions.
 */
export async function createReconcileDeps(
  environment: Environment,
  logger: Logger,
  service: string,
  lane: Lane,
): Promise<ReconcileDeps> {
  const { config } = environment;
  const table = createTable(config);
  return {
    ctx: await createProvisioningContext(environment, logger, service, lane, table),
    runs: new ReconcileRuns(table),
    leases: new Leases(table),
    sqs: createSqsClient(config),
    queueUrl: config.queueUrl,
    staleEventMinutes: config.reconcileStaleEventMinutes,
  };
}

/**
 * Where a run requested through the admin API goes: the bus when one is configured (AWS), else —
 * outside Lambda, i.e. the local stack — this very process. In Lambda without a bus there is none:
 * a background promise would freeze with the function. A run in this process waits in the bulk
 * lane like the reconcile function's, not in the admin API's interactive one: its own deps, built
 * at the first run.
 */
export function createRunLauncher(environment: Environment, logger: Logger): RunLauncher | undefined {
  const { config } = environment;
  if (config.eventBusName) return new EventBridgeRunLauncher(config.eventBusName);
  if (config.inLambda) return undefined;
  let bulk: Promise<ReconcileDeps> | undefined;
  return new InProcessLauncher(
    async (runId) => {
      bulk ??= createReconcileDeps(environment, logger, "reconcile", "bulk").catch((error: unknown) => {
        bulk = undefined; // the next run tries again
        throw error;
      });
      return executeRun(runId, await bulk);
    },
    logger,
    "reconcile run",
    "runId",
  );
}
