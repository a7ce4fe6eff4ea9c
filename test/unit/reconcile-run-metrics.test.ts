import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import type { ProvisioningContext } from "#lib/engine/context.ts";
import type { MetricName } from "#lib/observability/metrics.ts";
import { executeRun, type ReconcileDeps, runScheduled, startRun } from "#lib/reconcile/run.ts";
import type { Leases } from "#lib/store/leases.ts";
import type { DriftCounts, ReconcileRun, ReconcileRuns } from "#lib/store/reconcile-runs.ts";

// The metrics cdk/alarms.ts watches: a run that ends `done` counts ReconcileRunCompleted (its
// absence for a few schedule periods alarms), one that ends `failed` ReconcileRunFailed.

/** Runs in memory, with the store's transitions (claimed once; finished with a state). */
class MemoryRuns {
  readonly runs = new Map<string, ReconcileRun>();
  async create(run: Parameters<ReconcileRuns["create"]>[0]): Promise<ReconcileRun> {
    const record: ReconcileRun = {
      ...run,
      state: "running",
      finishedAt: null,
      heartbeatAt: run.startedAt,
      itemCount: 0,
    };
    this.runs.set(run.runId, record);
    return record;
  }
  async get(runId: string): Promise<ReconcileRun | undefined> {
    const run = this.runs.get(runId);
    return run && { ...run };
  }
  async claim(runId: string): Promise<boolean> {
    const run = this.runs.get(runId);
    if (!run || run.claimedAt || run.state !== "running") return false;
    run.claimedAt = new Date().toISOString();
    return true;
  }
  async heartbeat(): Promise<void> {}
  async addItems(): Promise<void> {}
  async finish(
    runId: string,
    state: "done" | "failed",
    counts: DriftCounts,
    itemCount: number,
    error?: string,
  ): Promise<void> {
    const run = this.runs.get(runId);
    if (run) Object.assign(run, { state, counts, itemCount, finishedAt: new Date().toISOString(), error });
  }
}

/** A catalog without connectors, Stripe without subscriptions, an empty inbox unless `inboxFails`. */
function harness(options: { inboxFails?: boolean } = {}) {
  const counted: MetricName[] = [];
  const ctx = {
    catalog: { connectors: [] },
    logger: new Logger({ logLevel: "SILENT" }),
    now: () => new Date(),
    metrics: { count: (name: MetricName) => counted.push(name) },
    inbox: {
      stale: async () => {
        if (options.inboxFails)
          throw new Error("ProvisionedThroughputExceededException: the inbox is unreadable");
        return [];
      },
    },
    stripe: { sdk: async () => ({ subscriptions: { list: () => (async function* () {})() } }) },
    customers: { customerIdsWithSubscriptions: async () => [] },
  } as unknown as ProvisioningContext;
  const leases = {
    take: async () => ({ taken: true }),
    release: async () => undefined,
  } as unknown as Leases;
  const runs = new MemoryRuns();
  const deps = {
    ctx,
    runs: runs as unknown as ReconcileRuns,
    leases,
    sqs: {},
    queueUrl: "https://sqs.example/queue",
    staleEventMinutes: 30,
  } as unknown as ReconcileDeps;
  return { deps, counted, runs };
}

describe("a reconcile run's metrics", () => {
  it("count ReconcileRunCompleted for a scheduled run that ends done", async () => {
    const { deps, counted } = harness();
    const run = await runScheduled(deps);
    expect(run?.state).toBe("done");
    expect(counted).toEqual(["ReconcileRunCompleted"]);
  });

  it("count ReconcileRunCompleted for a dry run too", async () => {
    const { deps, counted } = harness();
    const started = await startRun(deps, { dryRun: true, trigger: "admin" });
    if (!("run" in started)) throw new Error("not started");
    expect((await executeRun(started.run.runId, deps))?.state).toBe("done");
    expect(counted).toEqual(["ReconcileRunCompleted"]);
  });

  it("count ReconcileRunFailed for a run that ends failed, and nothing for a run already taken", async () => {
    const { deps, counted } = harness({ inboxFails: true });
    const started = await startRun(deps, { dryRun: false, trigger: "admin" });
    if (!("run" in started)) throw new Error("not started");
    const run = await executeRun(started.run.runId, deps);
    expect(run?.state).toBe("failed");
    expect(run?.error).toMatch(/inbox is unreadable/);
    expect(counted).toEqual(["ReconcileRunFailed"]);
    // An async retry of the same invocation finds the run claimed: it carries nothing out, counts nothing.
    await executeRun(started.run.runId, deps);
    expect(counted).toEqual(["ReconcileRunFailed"]);
  });

  it("count ReconcileRunFailed for a run that finds another holding the repair lease", async () => {
    const { deps, counted } = harness();
    const started = await startRun(deps, { dryRun: false, trigger: "admin" });
    if (!("run" in started)) throw new Error("not started");
    const taken = {
      take: async () => ({
        taken: false,
        heldBy: { holder: "other-run", expiresAt: "2099-01-01T00:00:00Z" },
      }),
      release: async () => undefined,
    } as unknown as Leases;
    const run = await executeRun(started.run.runId, { ...deps, leases: taken });
    expect(run?.state).toBe("failed");
    expect(counted).toEqual(["ReconcileRunFailed"]);
  });
});
