import type { Logger } from "@aws-lambda-powertools/logger";
import { actingAs, currentActor } from "#lib/access/actor.ts";
import { type BusClient, EventBus, InProcessLauncher } from "#lib/events/bus.ts";
import { describeError } from "#lib/http/http-function.ts";
import type { ReconcileDeps } from "#lib/reconcile/run.ts";
import type { Environment } from "#lib/runtime.ts";
import { newRunId } from "#lib/store/reconcile-runs.ts";
import type { RedriveJob, RedriveJobs } from "#lib/store/redrive-jobs.ts";
import { type QueueDeps, redriveDeadLetters } from "./events.ts";
import { REDRIVE_REQUEST } from "./redrive-request.ts";

export { REDRIVE_REQUEST, requestedRedriveJobId } from "./redrive-request.ts";

export interface RedriveDeps {
  jobs: RedriveJobs;
  queue: QueueDeps;
  logger: Logger;
}

/** The queues, inbox and audit trail a redrive works on, from a function's provisioning wiring. */
export function queueDepsOf(
  reconcile: Pick<ReconcileDeps, "ctx" | "sqs" | "queueUrl">,
  dlqUrl: string,
): QueueDeps {
  return {
    inbox: reconcile.ctx.inbox,
    audit: reconcile.ctx.audit,
    sqs: reconcile.sqs,
    queueUrl: reconcile.queueUrl,
    dlqUrl,
  };
}

/** Records a job `running` under the request's actor (`requestedBy`). */
export async function createRedriveJob(jobs: RedriveJobs, requestId: string, now: Date): Promise<RedriveJob> {
  const requestedBy = currentActor();
  return jobs.create({
    jobId: newRunId(now),
    requestId,
    startedAt: now.toISOString(),
    ...(requestedBy ? { requestedBy } : {}),
  });
}

/**
 * Carries a recorded job out: every DLQ message back to the event queue, acting as the one who
 * asked (its `admin.redrive` audit entries name them), the count stored as it grows; the job ends
 * `done`, or `failed` with the error.
 */
export async function executeRedriveJob(jobId: string, deps: RedriveDeps): Promise<RedriveJob | undefined> {
  const job = await deps.jobs.get(jobId);
  if (job?.state !== "running") return job;
  let moved = 0;
  const work = () =>
    redriveDeadLetters(deps.queue, job.requestId, undefined, async (count) => {
      moved = count;
      await deps.jobs.progress(jobId, count);
    });
  try {
    moved = await (job.requestedBy ? actingAs(job.requestedBy, work) : work());
    await deps.jobs.finish(jobId, "done", moved);
  } catch (error) {
    deps.logger.error("dlq redrive failed", { jobId, error: describeError(error) });
    await deps.jobs.finish(jobId, "failed", moved, error instanceof Error ? error.message : String(error));
  }
  return deps.jobs.get(jobId);
}

/** Starts a recorded job somewhere that may outlive the HTTP request that asked for it. */
export interface RedriveLauncher {
  launch(jobId: string): Promise<void>;
}

/** AWS: a `dlq.redrive.requested` event on the bus; its rule invokes the reconcile function. */
export class EventBridgeRedriveLauncher implements RedriveLauncher {
  private readonly bus: EventBus;

  constructor(busName: string, client?: BusClient) {
    this.bus = new EventBus(busName, client);
  }

  async launch(jobId: string): Promise<void> {
    await this.bus.put({ ...REDRIVE_REQUEST, detail: { jobId } }, "the redrive request");
  }
}

/** The bus when one is configured (AWS), else outside Lambda this process; in Lambda without a bus, none (503). */
export function createRedriveLauncher(
  environment: Environment,
  deps: RedriveDeps,
): RedriveLauncher | undefined {
  const { config } = environment;
  if (config.eventBusName) return new EventBridgeRedriveLauncher(config.eventBusName);
  if (config.inLambda) return undefined;
  return new InProcessLauncher(
    (jobId) => executeRedriveJob(jobId, deps),
    deps.logger,
    "dlq redrive",
    "jobId",
  );
}
