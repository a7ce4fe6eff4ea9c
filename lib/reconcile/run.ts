import type { SQSClient } from "@aws-sdk/client-sqs";
import { describeError } from "#lib/http/http-function.ts";
import type { ProvisioningContext } from "#lib/provisioning/context.ts";
import { emptyCounts, newRunId, type ReconcileRun, type ReconcileRuns } from "#lib/store/reconcile-runs.ts";
import { type CustomerRun, reconcileCustomer } from "./customer.ts";
import { RunReport } from "./report.ts";
import { loadIntegratorState, loadStripeState, touchesCatalog, unreadableFinding } from "./sources.ts";
import { requeueStaleEvents } from "./stale-events.ts";

/** Everything a reconcile run talks to. */
export interface ReconcileDeps {
  ctx: ProvisioningContext;
  runs: ReconcileRuns;
  sqs: SQSClient;
  queueUrl: string;
  staleEventMinutes: number;
  /** Customers reconciled at once (each waits on Stripe, DynamoDB and the shared integrator.io limiter). */
  concurrency?: number;
}

/** A working run refreshes its heartbeat this often... */
export const HEARTBEAT_MS = 10_000;
/** ...so one whose heartbeat is older than this has died (a Lambda timeout, a crash). */
export const STALE_RUN_MS = 2 * 60_000;

/** Records a new run (state `running`); `executeRun` carries it out. */
export async function startRun(
  deps: ReconcileDeps,
  options: { dryRun: boolean; trigger: ReconcileRun["trigger"] },
): Promise<ReconcileRun> {
  const now = deps.ctx.now();
  return deps.runs.create({
    runId: newRunId(now),
    dryRun: options.dryRun,
    trigger: options.trigger,
    startedAt: now.toISOString(),
    counts: emptyCounts(),
  });
}

/** The run as an operator should see it: a `running` run whose heartbeat stopped has failed. */
export function effectiveRun(run: ReconcileRun, now: Date): ReconcileRun {
  if (run.state !== "running" || now.getTime() - Date.parse(run.heartbeatAt) <= STALE_RUN_MS) return run;
  return {
    ...run,
    state: "failed",
    finishedAt: run.heartbeatAt,
    error: run.claimedAt
      ? "the run stopped without finishing (timeout or crash)"
      : "the run was never started",
  };
}

/** A repairing (not dry) run that is still working, if any: two would only race each other. */
export async function activeRepairRun(
  deps: Pick<ReconcileDeps, "runs" | "ctx">,
): Promise<ReconcileRun | undefined> {
  const now = deps.ctx.now();
  const { items } = await deps.runs.list(20);
  return items.find((run) => !run.dryRun && effectiveRun(run, now).state === "running");
}

/**
 * Carries out a recorded run, once: a second invocation for the same run (an async retry) finds it
 * claimed and does nothing. Never throws for drift or per-customer failures; a failure to read
 * Stripe or integrator.io at all fails the run, with its reason.
 */
export async function executeRun(
  runId: string,
  sharedDeps: ReconcileDeps,
): Promise<ReconcileRun | undefined> {
  // A logger of its own: the admin function runs this in the background beside its requests.
  const logger = sharedDeps.ctx.logger.createChild({ persistentKeys: { reconcileRunId: runId } });
  const deps: ReconcileDeps = { ...sharedDeps, ctx: { ...sharedDeps.ctx, logger } };
  const { ctx, runs } = deps;
  const run = await runs.get(runId);
  if (!run) {
    ctx.logger.warn("reconcile run not found", { runId });
    return undefined;
  }
  if (!(await runs.claim(runId))) {
    ctx.logger.info("reconcile run already taken", { runId });
    return run;
  }
  const report = new RunReport(runs, runId, ctx.metrics);
  const beat = setInterval(() => {
    report
      .flush()
      .then(() => runs.heartbeat(runId, report.counts, report.itemCount))
      .catch((error: unknown) =>
        ctx.logger.warn("reconcile heartbeat failed", { error: describeError(error) }),
      );
  }, HEARTBEAT_MS);
  beat.unref();
  try {
    await reconcileAll(run, deps, report);
    await report.flush();
    await runs.finish(runId, "done", report.counts, report.itemCount);
    ctx.logger.info("reconcile run done", { counts: report.counts, dryRun: run.dryRun });
  } catch (error) {
    const { name, message } = describeError(error);
    ctx.logger.error("reconcile run failed", { error: { name, message } });
    await report.flush().catch(() => undefined);
    await runs.finish(runId, "failed", report.counts, report.itemCount, `${name}: ${message}`);
  } finally {
    clearInterval(beat);
  }
  return runs.get(runId);
}

/** The schedule's run: a full repair, unless one is already working. */
export async function runScheduled(deps: ReconcileDeps): Promise<ReconcileRun | undefined> {
  const active = await activeRepairRun(deps);
  if (active) {
    deps.ctx.logger.info("a reconcile run is already working; skipping this one", { runId: active.runId });
    return undefined;
  }
  const run = await startRun(deps, { dryRun: false, trigger: "schedule" });
  return executeRun(run.runId, deps);
}

/**
 * One pass over everything (docs/architecture.md §1, §5): stuck inbox events go back on the queue; every Stripe
 * subscription and every integrator.io license of the catalog's connectors is read once; licenses
 * we did not create are reported; then each customer known to Stripe, the store or integrator.io
 * is reconciled (see `reconcileCustomer`).
 */
async function reconcileAll(run: ReconcileRun, deps: ReconcileDeps, report: RunReport): Promise<void> {
  const { ctx } = deps;
  report.add(
    await requeueStaleEvents(run.runId, run.dryRun, {
      inbox: ctx.inbox,
      sqs: deps.sqs,
      queueUrl: deps.queueUrl,
      staleEventMinutes: deps.staleEventMinutes,
      now: ctx.now,
    }),
  );
  const [stripe, integrator, stored] = await Promise.all([
    loadStripeState(ctx),
    loadIntegratorState(ctx, { dryRun: run.dryRun }),
    ctx.customers.customerIdsWithSubscriptions(),
  ]);
  report.add(stripe.unreadable.map((unreadable) => unreadableFinding(unreadable)));

  for (const listed of integrator.foreign) {
    const email = listed.license.user?.email ?? "";
    // The (connector, email) index names the customer whose email it is, when it is one of ours.
    const ours = email ? await ctx.licenses.byConnectorEmail(listed.connectorId, email) : [];
    report.add([
      {
        kind: "foreign",
        customerId: ours[0]?.customerId ?? null,
        connector: listed.connectorKey,
        licenseId: listed.license._id,
        detail: `issued to ${email || "?"} until ${listed.license.expires ?? "never"}; not created by this product, left as it is`,
      },
    ]);
  }

  const customers = new Set<string>(stored);
  for (const [customerId, state] of stripe.customers) {
    if (state.subscriptions.some((s) => touchesCatalog(s, ctx.catalog))) customers.add(customerId);
  }
  for (const owned of integrator.ownedLive.values())
    for (const listed of owned) if (listed.owner) customers.add(listed.owner.customerId);

  const customerRun: CustomerRun = { runId: run.runId, dryRun: run.dryRun, stripe, integrator, ctx };
  const queue = [...customers].sort();
  const worker = async () => {
    for (let customerId = queue.shift(); customerId !== undefined; customerId = queue.shift()) {
      const { items, checked } = await reconcileCustomer(customerId, customerRun);
      report.add(items, checked);
    }
  };
  await Promise.all(Array.from({ length: deps.concurrency ?? 4 }, worker));
}
