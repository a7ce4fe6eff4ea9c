import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Config } from "#lib/config.ts";
import type { ProvisioningContext } from "#lib/engine/context.ts";
import { readBucket } from "#lib/integrator/distributed-bucket.ts";
import { effectiveRun } from "#lib/reconcile/run.ts";
import { LICENSE_STATE_PARTITIONS } from "#lib/store/licenses.ts";
import type { ReconcileRuns } from "#lib/store/reconcile-runs.ts";
import { runSummary } from "./reconcile-routes.ts";
import type { Overview } from "./schemas.ts";

/**
 * The admin overview (`GET /admin/overview`, docs/architecture.md §6), every read bounded: per
 * license state one `COUNT` query of the state index (at most `MAX_COUNT_PAGES` pages of 1 MB,
 * else the count is a lower bound and `licensesPartial` says so), the failed events of the
 * status index likewise, one GetQueueAttributes of the DLQ, the newest reconcile run (one item),
 * and the rate-limit bucket's item.
 */

/** Pages (1 MB each) one count reads at most: some 100,000 licenses of a state. */
export const MAX_COUNT_PAGES = 25;

export interface OverviewDeps {
  ctx: ProvisioningContext;
  runs: ReconcileRuns;
  sqs: SQSClient;
  dlqUrl: string;
  config: Pick<Config, "rateLimit">;
}

export async function overview(deps: OverviewDeps): Promise<Overview> {
  const { ctx } = deps;
  const now = ctx.now();
  const [counts, failed, dlq, runs, bucket] = await Promise.all([
    Promise.all(LICENSE_STATE_PARTITIONS.map((state) => ctx.licenses.countInState(state, MAX_COUNT_PAGES))),
    ctx.inbox.countFailedSince(new Date(now.getTime() - 24 * 3600_000), MAX_COUNT_PAGES),
    deps.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deps.dlqUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    ),
    deps.runs.list(1),
    readBucket(
      { client: ctx.table.client, tableName: ctx.table.name, ...deps.config.rateLimit },
      now.getTime(),
    ),
  ]);
  const licenses = Object.fromEntries(
    LICENSE_STATE_PARTITIONS.map((state, i) => [state, counts[i]?.count ?? 0]),
  ) as Overview["licenses"];
  const last = runs.items[0];
  // As GET /admin/dlq counts it: messages held by a peek at that moment are in the DLQ too.
  const attributes = dlq.Attributes ?? {};
  const approximateCount =
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  return {
    licenses,
    ...(counts.some((c) => !c.complete) ? { licensesPartial: true as const } : {}),
    eventsFailed24h: failed.count,
    dlq: { approximateCount },
    lastReconcile: last ? runSummary(effectiveRun(last, now)) : null,
    rateLimit: {
      tokens: bucket.tokens,
      capacity: bucket.capacity,
      refillPerSecond: bucket.refillPerSecond,
      pausedUntil: bucket.pausedUntil === undefined ? null : new Date(bucket.pausedUntil).toISOString(),
      // The bucket keeps one number (its GCRA `tat`), not when it was written.
      updatedAt: null,
    },
    generatedAt: now.toISOString(),
  };
}
