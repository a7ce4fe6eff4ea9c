import { randomBytes } from "node:crypto";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DRIFT_KINDS, DriftCounts } from "../reconcile/drift-kinds.ts";
import { isConditionFailure, type Page, type Table, withoutKeys } from "./dynamo.ts";

export type { DriftCounts } from "../reconcile/drift-kinds.ts";
export { DRIFT_COUNT_KEYS, emptyCounts } from "../reconcile/drift-kinds.ts";

/** One finding of a run. `connector` is the catalog key (null for an event); `customerId` null when unknown. */
export interface DriftItem {
  kind: (typeof DRIFT_KINDS)[number];
  customerId: string | null;
  connector: string | null;
  licenseId?: string;
  eventId?: string;
  subscriptionId?: string;
  detail: string;
}

export type RunState = "running" | "done" | "failed";

export interface ReconcileRun {
  runId: string;
  state: RunState;
  dryRun: boolean;
  /** Who asked: the admin API or the schedule. */
  trigger: "admin" | "schedule";
  /** The person who started an admin run (`operator:<name>` or `root`); its repairs act as them. */
  requestedBy?: string;
  startedAt: string;
  finishedAt: string | null;
  /** Refreshed while the run works; a `running` run whose heartbeat stops has died (timeout, crash). */
  heartbeatAt: string;
  /** Set once by the process that carries the run out, so a retried invocation never runs it twice. */
  claimedAt?: string;
  counts: DriftCounts;
  itemCount: number;
  error?: string;
}

/** Runs and their reports are kept 90 days. */
const RETENTION_SECONDS = 90 * 86_400;
const runKey = (runId: string) => `RECONCILE#${runId}`;
const itemSk = (index: number) => `ITEM#${String(index).padStart(8, "0")}`;

/** A run id that sorts by start time and reads well in a URL: `20261127T204326Z-3f9a1c`. */
export function newRunId(now: Date): string {
  return `${now
    .toISOString()
    .replace(/\.\d{3}/, "")
    .replace(/[-:]/g, "")}-${randomBytes(3).toString("hex")}`;
}

/** Reconcile runs: one item per run, its findings as items of the same partition. */
export class ReconcileRuns {
  constructor(private readonly table: Table) {}

  private ttl(): number {
    return Math.floor(this.table.now() / 1000) + RETENTION_SECONDS;
  }

  /** Records a new run in state `running`. */
  async create(
    run: Pick<ReconcileRun, "runId" | "dryRun" | "trigger" | "startedAt" | "counts" | "requestedBy">,
  ): Promise<ReconcileRun> {
    const record: ReconcileRun = {
      ...run,
      state: "running",
      finishedAt: null,
      heartbeatAt: run.startedAt,
      itemCount: 0,
    };
    await this.table.put(
      {
        pk: runKey(run.runId),
        sk: "RUN",
        gsi2pk: "RECONCILE_RUNS",
        gsi2sk: `${run.startedAt}#${run.runId}`,
        ttl: this.ttl(),
        ...record,
      },
      { ConditionExpression: "attribute_not_exists(pk)" },
    );
    return record;
  }

  async get(runId: string): Promise<ReconcileRun | undefined> {
    const item = await this.table.get(runKey(runId), "RUN");
    return item ? withoutKeys<ReconcileRun>(item) : undefined;
  }

  /** Takes the run for this process; false when another invocation already has it. */
  async claim(runId: string): Promise<boolean> {
    const now = new Date(this.table.now()).toISOString();
    try {
      await this.table.update({
        Key: { pk: runKey(runId), sk: "RUN" },
        UpdateExpression: "SET claimedAt = :now, heartbeatAt = :now",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(claimedAt) AND #state = :running",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: { ":now": now, ":running": "running" },
      });
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Progress so far: the counts and a fresh heartbeat. */
  async heartbeat(runId: string, counts: DriftCounts, itemCount: number): Promise<void> {
    await this.table.update({
      Key: { pk: runKey(runId), sk: "RUN" },
      UpdateExpression: "SET heartbeatAt = :now, counts = :counts, itemCount = :items",
      ConditionExpression: "#state = :running",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: {
        ":now": new Date(this.table.now()).toISOString(),
        ":counts": counts,
        ":items": itemCount,
        ":running": "running",
      },
    });
  }

  /** Stores findings `items` as numbers `first`, `first + 1`, ... of the run's report. */
  async addItems(runId: string, first: number, items: DriftItem[]): Promise<void> {
    const ttl = this.ttl();
    for (let offset = 0; offset < items.length; offset += 25) {
      let requests: Record<string, unknown[]> | undefined = {
        [this.table.name]: items.slice(offset, offset + 25).map((item, i) => ({
          PutRequest: { Item: { pk: runKey(runId), sk: itemSk(first + offset + i), ttl, ...item } },
        })),
      };
      for (let attempt = 0; requests && Object.keys(requests).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const output = await this.table.client.send(
          new BatchWriteCommand({ RequestItems: requests as never }),
        );
        requests = output.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    }
  }

  async finish(
    runId: string,
    state: "done" | "failed",
    counts: DriftCounts,
    itemCount: number,
    error?: string,
  ): Promise<void> {
    const now = new Date(this.table.now()).toISOString();
    await this.table.update({
      Key: { pk: runKey(runId), sk: "RUN" },
      UpdateExpression: `SET #state = :state, finishedAt = :now, heartbeatAt = :now, counts = :counts, itemCount = :items${error ? ", #error = :error" : ""}`,
      ExpressionAttributeNames: { "#state": "state", ...(error ? { "#error": "error" } : {}) },
      ExpressionAttributeValues: {
        ":state": state,
        ":now": now,
        ":counts": counts,
        ":items": itemCount,
        ...(error ? { ":error": error } : {}),
      },
    });
  }

  /** The first `limit` findings of a run, in the order they were found. */
  async items(runId: string, limit: number): Promise<DriftItem[]> {
    const found: DriftItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.table.query(
        {
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :item)",
          ExpressionAttributeValues: { ":pk": runKey(runId), ":item": "ITEM#" },
          Limit: Math.min(500, limit - found.length),
        },
        cursor,
      );
      found.push(...page.items.map((item) => withoutKeys<DriftItem>(item)));
      cursor = page.nextCursor;
    } while (cursor && found.length < limit);
    return found;
  }

  /** Runs, newest first. */
  async list(limit: number, cursor?: string): Promise<Page<ReconcileRun>> {
    const page = await this.table.query(
      {
        IndexName: "gsi2",
        KeyConditionExpression: "gsi2pk = :pk",
        ExpressionAttributeValues: { ":pk": "RECONCILE_RUNS" },
        ScanIndexForward: false,
        Limit: limit,
      },
      cursor,
    );
    return { ...page, items: page.items.map((item) => withoutKeys<ReconcileRun>(item)) };
  }
}
