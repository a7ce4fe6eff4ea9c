import { HttpError, notFound } from "#lib/http/errors.ts";
import { describeError, type RouteHandler } from "#lib/http/http-function.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { effectiveRun, releaseRepairLease, startRun } from "#lib/reconcile/run.ts";
import type { Lease } from "#lib/store/leases.ts";
import { DRIFT_COUNT_KEYS, type DriftCounts } from "#lib/store/reconcile-runs.ts";
import type { AdminDeps } from "./deps.ts";
import { pageLimit } from "./page-limit.ts";

/** The run list's cursors: one list, no filters. */
const RUN_LIST = { list: "reconcile-runs" };

/** Findings shown per run; the counts always cover all of them. */
const SHOWN_ITEMS = 1000;

/** Reconcile runs: start one (202, it may outlast API Gateway's 30 s), list them, read a report. */
export function reconcileRoutes(deps: AdminDeps): Record<string, RouteHandler> {
  return {
    "POST /admin/reconcile": async ({ body }: RouteInput<{ dryRun?: boolean } | undefined>) => {
      const dryRun = body?.dryRun ?? false;
      if (!deps.launcher)
        throw new HttpError(
          503,
          "not_configured",
          "Reconcile runs cannot be started: EVENT_BUS_NAME is not configured.",
        );
      const started = await startRun(deps.reconcile, { dryRun, trigger: "admin" });
      if ("repairing" in started) throw alreadyRepairing(started.repairing);
      const { run } = started;
      try {
        await deps.launcher.launch(run.runId);
      } catch (error) {
        // The answer is the launch's error; the lease is freed even when the run cannot be marked
        // failed (it then shows failed once its heartbeat is stale: it was never claimed).
        try {
          await deps.runs.finish(run.runId, "failed", run.counts, 0, "the run could not be started");
        } catch (finishError) {
          deps.logger.warn("could not mark an unstarted reconcile run failed", {
            runId: run.runId,
            error: describeError(finishError),
          });
        } finally {
          if (!dryRun) await releaseRepairLease(deps, run.runId);
        }
        throw error;
      }
      return {
        status: 202,
        body: { runId: run.runId },
        headers: { location: `/admin/reconcile/${run.runId}` },
      };
    },

    "GET /admin/reconcile": async ({ query }: RouteInput<unknown, { cursor?: string; limit?: number }>) => {
      const cursor = deps.cursors.read(RUN_LIST, query.cursor);
      const page = await deps.runs.list(pageLimit(query.limit, 20), cursor);
      const now = deps.ctx.now();
      const nextCursor = deps.cursors.issue(RUN_LIST, page.nextCursor);
      return {
        body: {
          data: page.items.map((run) => runSummary(effectiveRun(run, now))),
          ...(nextCursor ? { nextCursor } : {}),
        },
      };
    },

    "GET /admin/reconcile/{runId}": async ({
      params,
    }: RouteInput<unknown, Record<string, string>, { runId: string }>) => {
      const run = await deps.runs.get(params.runId);
      if (!run) throw notFound(`No reconcile run ${params.runId}.`);
      const items = await deps.runs.items(run.runId, SHOWN_ITEMS);
      return {
        body: {
          ...runSummary(effectiveRun(run, deps.ctx.now())),
          items,
          itemsTruncated: run.itemCount > items.length,
        },
      };
    },
  };
}

/** 409 for a repairing run while another holds the repair lease: which one, and until when at most. */
function alreadyRepairing(lease: Lease): HttpError {
  return new HttpError(
    409,
    "conflict",
    `Run ${lease.holder} is repairing (its lease lapses at ${lease.expiresAt} at the latest); wait for it, or start a dry run.`,
    { details: [{ runId: lease.holder, leaseExpiresAt: lease.expiresAt }] },
  );
}

/** A run as the run list shows it (and the overview its last). */
export function runSummary(run: ReturnType<typeof effectiveRun>) {
  const { runId, state, dryRun, trigger, requestedBy, startedAt, finishedAt, itemCount, error } = run;
  // In the documented order (the store keeps a map), and 0 for a count an older run did not have.
  const counts = Object.fromEntries(
    DRIFT_COUNT_KEYS.map((key) => [key, run.counts[key] ?? 0]),
  ) as DriftCounts;
  return {
    runId,
    state,
    dryRun,
    trigger,
    ...(requestedBy ? { requestedBy } : {}),
    startedAt,
    finishedAt,
    counts,
    itemCount,
    ...(error ? { error } : {}),
  };
}
