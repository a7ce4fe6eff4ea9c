import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { transferLicense } from "#lib/admin/customers.ts";
import type { AdminDeps } from "#lib/admin/deps.ts";
import { reconcileRoutes } from "#lib/admin/reconcile-routes.ts";
import { createDocumentClient } from "#lib/aws.ts";
import type { ProvisioningContext } from "#lib/engine/context.ts";
import { systemClock } from "#lib/engine/ports.ts";
import { HttpError } from "#lib/http/errors.ts";
import type { RouteInput } from "#lib/http/types.ts";
import { parseCatalog } from "#lib/licensing/catalog.ts";
import { ProductMetrics } from "#lib/observability/metrics.ts";
import { executeRun, REPAIR_LEASE, type ReconcileDeps, startRun } from "#lib/reconcile/run.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Leases } from "#lib/store/leases.ts";
import { Licenses } from "#lib/store/licenses.ts";
import { ReconcileRuns } from "#lib/store/reconcile-runs.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";

// When the store fails while a lease is held, against DynamoDB Local: the caller gets the error
// that matters (not the release's), and no lease is left held for its whole duration.

const tableName = "lease-error-paths-test";
let dynamo: DynamoDbLocal;
let table: Table;
let leases: Leases;
let runs: ReconcileRuns;
let sequence = 0;
const fresh = (label: string) => `${label}-${process.pid}-${sequence++}`;

/** Leases whose release fails, as DynamoDB may (throttling, an outage). */
class UnreleasableLeases extends Leases {
  override async release(): Promise<void> {
    throw new Error("ThrottlingException: the release was refused");
  }
}

const logger = new Logger({ logLevel: "SILENT" });
const catalog = parseCatalog({
  connectors: [
    {
      key: "shopify-netsuite",
      connectorId: "65f1c0a2b7d94e3a1c8b7d20",
      name: "Shopify ↔ NetSuite",
      editions: [{ key: "standard", prices: ["price_std_month"] }],
      addons: [],
    },
  ],
  policy: { renewalBufferDays: 3, pastDueGraceDays: 14, onEnd: "expire" },
});

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  await createTable(dynamo.endpoint, tableName);
  table = new Table(
    createDocumentClient({ dynamodbEndpoint: dynamo.endpoint, awsRegion: "us-east-1" }),
    tableName,
  );
  leases = new Leases(table);
  runs = new ReconcileRuns(table);
});
afterAll(() => dynamo?.stop());

/** What the code under test reads of the provisioning context: the catalog, licenses, a logger, a clock. */
const context = (log: Logger = logger) =>
  ({
    catalog,
    licenses: new Licenses(table),
    logger: log,
    now: () => new Date(),
    metrics: new ProductMetrics("reconcile"),
    engine: { ports: { clock: systemClock } },
  }) as unknown as ProvisioningContext;
const reconcileDeps = (overrides: Partial<ReconcileDeps> = {}): ReconcileDeps =>
  ({ ctx: context(), runs, leases, ...overrides }) as ReconcileDeps;

describe("a license transfer", () => {
  it("answers its own 404 when its lease cannot be released, and says so in the log", async () => {
    const log = new Logger({ logLevel: "SILENT" });
    const warn = vi.spyOn(log, "warn");
    const customerId = fresh("cus_missing");
    const transfer = transferLicense(
      customerId,
      "shopify-netsuite",
      "to@example.com",
      context(log),
      new UnreleasableLeases(table),
      fresh("request"),
    );
    await expect(transfer).rejects.toBeInstanceOf(HttpError);
    await expect(transfer).rejects.toMatchObject({ status: 404 });
    expect(warn).toHaveBeenCalledWith(
      "could not free a transfer lease",
      expect.objectContaining({ lease: `transfer#${customerId}#shopify-netsuite` }),
    );
  });
});

describe("a reconcile run", () => {
  it("that cannot be recorded answers the record's error, not the release's", async () => {
    class UnrecordableRuns extends ReconcileRuns {
      override async create(): Promise<never> {
        throw new Error("ProvisionedThroughputExceededException: the run was not recorded");
      }
    }
    const started = startRun(
      reconcileDeps({ runs: new UnrecordableRuns(table), leases: new UnreleasableLeases(table) }),
      { dryRun: false, trigger: "admin" },
    );
    await expect(started).rejects.toThrow("ProvisionedThroughputExceededException");
    // The lease that could not be freed lapses on its own; free it for the next tests.
    const holder = await leases.holder(REPAIR_LEASE);
    if (holder) await leases.release(REPAIR_LEASE, holder.holder);
  });

  it("whose claim succeeded but whose lease cannot be taken fails at once and frees the lease its start took", async () => {
    const started = await startRun(reconcileDeps(), { dryRun: false, trigger: "admin" });
    if (!("run" in started)) throw new Error("another run holds the repair lease");
    const { runId } = started.run;
    expect((await leases.holder(REPAIR_LEASE))?.holder).toBe(runId);

    class UntakeableLeases extends Leases {
      override async take(): Promise<never> {
        throw new Error("ThrottlingException: the lease was not taken");
      }
    }
    const ended = await executeRun(runId, reconcileDeps({ leases: new UntakeableLeases(table) }));
    expect(ended).toMatchObject({
      state: "failed",
      error: "could not take the repair lease: Error: ThrottlingException: the lease was not taken",
    });
    expect(await leases.holder(REPAIR_LEASE)).toBeUndefined();
    // A retry of the invocation finds it claimed and does nothing.
    expect(await executeRun(runId, reconcileDeps())).toMatchObject({ state: "failed" });
  });

  it("requested but not launched frees its lease even when it cannot be marked failed, and answers the launch's error", async () => {
    class UnfinishableRuns extends ReconcileRuns {
      override async finish(): Promise<never> {
        throw new Error("ProvisionedThroughputExceededException: the run was not updated");
      }
    }
    const failingRuns = new UnfinishableRuns(table);
    const deps = {
      ctx: context(),
      reconcile: reconcileDeps({ runs: failingRuns }),
      runs: failingRuns,
      leases,
      logger,
      launcher: {
        launch: async () => {
          throw new Error("EventBridge: PutEvents failed");
        },
      },
    } as unknown as AdminDeps;
    const start = reconcileRoutes(deps)["POST /admin/reconcile"];
    if (!start) throw new Error("no route");
    await expect(start({ body: { dryRun: false } } as RouteInput<{ dryRun: boolean }>)).rejects.toThrow(
      "EventBridge: PutEvents failed",
    );
    expect(await leases.holder(REPAIR_LEASE)).toBeUndefined();
  });
});
