import type { SQSClient } from "@aws-sdk/client-sqs";
import { actingAs, currentActor } from "#lib/access/actor.ts";
import type { ProvisioningContext } from "#lib/engine/context.ts";
import { functionTable } from "#lib/functions.ts";
import { describeError } from "#lib/http/http-function.ts";
import type { Lease, LeaseOutcome, Leases } from "#lib/store/leases.ts";
import { emptyCounts, newRunId, type ReconcileRun, type ReconcileRuns } from "#lib/store/reconcile-runs.ts";
import { type CustomerRun, reconcileCustomer } from "./customer.ts";
import { RunReport } from "./report.ts";
import { loadIntegratorState, loadStripeState, touchesCatalog, unreadableFinding } from "./sources.ts";
import { requeueStaleEvents } from "./stale-events.ts";

/** Everything a reconcile run talks to. */
export interface ReconcileDeps {
  ctx: ProvisioningContext;
  runs: ReconcileRuns;
  leases: Leases;
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

/** The lease a repairing run holds while it works: two would only race each other. */
export const REPAIR_LEASE = "reconcile-repair";
/**
 * How long a repairing run's lease lasts unless the run frees it: the reconcile function's timeout
 * and five minutes more, so a working run never loses it and a crashed one blocks no longer.
 */
export const REPAIR_LEASE_MS = functionTable.reconcile.timeoutSeconds * 1000 + 5 * 60_000;

/** A recorded run (state `running`), or — for a repairing run — the lease of the run already repairing. */
export type StartedRun = { run: ReconcileRun } | { repairing: Lease };

/**
 * Records a new run; `executeRun` carries it out. A repairing run first takes the repair lease
 * under its new id, so of concurrent starts one is recorded and the others learn which run works.
 */
export async function startRun(
  deps: Pick<ReconcileDeps, "ctx" | "runs" | "leases">,
  options: { dryRun: boolean; trigger: ReconcileRun["trigger"] },
): Promise<StartedRun> {
  const now = deps.ctx.now();
  const runId = newRunId(now);
  if (!options.dryRun) {
    const lease = await deps.leases.take(REPAIR_LEASE, runId, REPAIR_LEASE_MS, { trigger: options.trigger });
    if (!lease.taken) return { repairing: lease.heldBy };
  }
  const requestedBy = currentActor();
  try {
    const run = await deps.runs.create({
      runId,
      dryRun: options.dryRun,
      trigger: options.trigger,
      ...(requestedBy ? { requestedBy } : {}),
      startedAt: now.toISOString(),
      counts: emptyCounts(),
    });
    return { run };
  } catch (error) {
    // The error to answer is the create's; a lease not freed lapses after REPAIR_LEASE_MS.
    if (!options.dryRun) await releaseRepairLease(deps, runId);
    throw error;
  }
}

/** Frees the repair lease `runId` holds; a failure is logged, never thrown (the lease then lapses after REPAIR_LEASE_MS). */
export async function releaseRepairLease(
  deps: Pick<ReconcileDeps, "ctx" | "leases">,
  runId: string,
): Promise<void> {
  try {
    await deps.leases.release(REPAIR_LEASE, runId);
  } catch (error) {
    deps.ctx.logger.warn("could not free the repair lease", { runId, error: describeError(error) });
  }
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

/**
 * Carries out a recorded run, once: a second invocation for the same run (an async retry) finds it
 * claimed and does nothing. A repairing run works under the repair lease, taken again from its
 * claim (its start may have waited on the bus) and freed when it ends; one that finds another run
 * holding the lease fails without doing anything. Never throws for drift or per-customer failures;
 * a failure to read Stripe or integrator.io at all fails the run, with its reason.
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
  // A run an operator started repairs as them, in this process or the reconcile function.
  if (run.requestedBy) logger.appendKeys({ actor: run.requestedBy });
  const work = () => (run.dryRun ? carryOut(run, deps, async () => undefined) : repair(run, deps));
  const ended = await (run.requestedBy ? actingAs(run.requestedBy, work) : work());
  // The alarms' view of a run (cdk/alarms.ts): one that never gets here has not completed either.
  if (ended?.state === "done") ctx.metrics.count("ReconcileRunCompleted");
  if (ended?.state === "failed") ctx.metrics.count("ReconcileRunFailed");
  return ended;
}

async function repair(run: ReconcileRun, deps: ReconcileDeps): Promise<ReconcileRun | undefined> {
  const { ctx, runs, leases } = deps;
  const { runId } = run;
  // Not freed, it lapses after REPAIR_LEASE_MS: later runs wait that long, nothing breaks.
  const freeLease = () => releaseRepairLease(deps, runId);
  let lease: LeaseOutcome;
  try {
    lease = await leases.take(REPAIR_LEASE, runId, REPAIR_LEASE_MS, { trigger: run.trigger });
  } catch (error) {
    // Claimed, so no retry will carry it out: it fails now, and frees the lease its start took.
    const { name, message } = describeError(error);
    ctx.logger.error("reconcile run could not take the repair lease", { error: { name, message } });
    await freeLease();
    await runs.finish(runId, "failed", run.counts, 0, `could not take the repair lease: ${name}: ${message}`);
    return runs.get(runId);
  }
  if (!lease.taken) {
    const holder = lease.heldBy.holder;
    ctx.logger.warn("another reconcile run holds the repair lease; this one never started", { holder });
    await runs.finish(runId, "failed", run.counts, 0, `run ${holder} was repairing; this one never started`);
    return runs.get(runId);
  }
  return carryOut(run, deps, freeLease);
}

/**
 * The claimed run's work: the pass over everything, its report kept and its heartbeat beating.
 * `freeLease` (never throws) is called once the work is over and before the run is marked ended,
 * so a run shown `done` or `failed` never still blocks the next one.
 */
async function carryOut(
  run: ReconcileRun,
  deps: ReconcileDeps,
  freeLease: () => Promise<void>,
): Promise<ReconcileRun | undefined> {
  const { ctx, runs } = deps;
  const { runId } = run;
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
    await freeLease();
    await runs.finish(runId, "done", report.counts, report.itemCount);
    ctx.logger.info("reconcile run done", { counts: report.counts, dryRun: run.dryRun });
  } catch (error) {
    const { name, message } = describeError(error);
    ctx.logger.error("reconcile run failed", { error: { name, message } });
    await report.flush().catch(() => undefined);
    await freeLease();
    await runs.finish(runId, "failed", report.counts, report.itemCount, `${name}: ${message}`);
  } finally {
    clearInterval(beat);
  }
  return runs.get(runId);
}

/** The schedule's run: a full repair, unless another run holds the repair lease (then it skips). */
export async function runScheduled(deps: ReconcileDeps): Promise<ReconcileRun | undefined> {
  const started = await startRun(deps, { dryRun: false, trigger: "schedule" });
  if ("repairing" in started) {
    const { holder, expiresAt } = started.repairing;
    deps.ctx.logger.info("another reconcile run holds the repair lease; skipping this one", {
      runId: holder,
      leaseExpiresAt: expiresAt,
    });
    return undefined;
  }
  return executeRun(started.run.runId, deps);
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
