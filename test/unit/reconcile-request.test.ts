import type { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { describe, expect, it } from "vitest";
import { EventBridgeRunLauncher } from "#lib/reconcile/launcher.ts";
import { RECONCILE_REQUEST, requestedRunId } from "#lib/reconcile/request.ts";
import { effectiveRun, STALE_RUN_MS } from "#lib/reconcile/run.ts";
import { emptyCounts, newRunId, type ReconcileRun } from "#lib/store/reconcile-runs.ts";

/** The EventBridge client at the edge of the process: records what would be sent. */
function fakeBus(answer: { FailedEntryCount: number; Entries?: { ErrorCode?: string }[] }) {
  const sent: PutEventsCommand[] = [];
  const client = {
    send: async (command: PutEventsCommand) => {
      sent.push(command);
      return answer;
    },
  } as unknown as Pick<EventBridgeClient, "send">;
  return { client, sent };
}

describe("requested reconcile runs in AWS", () => {
  it("puts one reconcile.requested event carrying the run id on the bus", async () => {
    const { client, sent } = fakeBus({ FailedEntryCount: 0 });
    await new EventBridgeRunLauncher("product-bus", client).launch("20261127T204326Z-3f9a1c");
    expect(sent.map((command) => command.input.Entries)).toEqual([
      [
        {
          EventBusName: "product-bus",
          Source: RECONCILE_REQUEST.source,
          DetailType: RECONCILE_REQUEST.detailType,
          Detail: JSON.stringify({ runId: "20261127T204326Z-3f9a1c" }),
        },
      ],
    ]);
  });

  it("fails when EventBridge refuses the event (the API then answers the error and marks the run failed)", async () => {
    const { client } = fakeBus({ FailedEntryCount: 1, Entries: [{ ErrorCode: "ThrottlingException" }] });
    await expect(new EventBridgeRunLauncher("product-bus", client).launch("run")).rejects.toThrow(
      /ThrottlingException/,
    );
  });

  it("tells the admin API's requests from the schedule's events", () => {
    const requested = {
      source: RECONCILE_REQUEST.source,
      "detail-type": RECONCILE_REQUEST.detailType,
      detail: { runId: "r-1" },
    };
    expect(requestedRunId(requested)).toBe("r-1");
    expect(
      requestedRunId({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }),
    ).toBeUndefined();
    expect(
      requestedRunId({ source: "local.scheduler", "detail-type": "Scheduled Event", detail: {} }),
    ).toBeUndefined();
    expect(requestedRunId({ ...requested, detail: {} })).toBeUndefined();
    expect(requestedRunId({ ...requested, source: "someone.else" })).toBeUndefined();
    expect(requestedRunId(undefined)).toBeUndefined();
  });
});

describe("run state as operators see it", () => {
  const now = new Date("2026-11-27T12:00:00.000Z");
  const run = (fields: Partial<ReconcileRun>): ReconcileRun => ({
    runId: newRunId(now),
    state: "running",
    dryRun: false,
    trigger: "admin",
    startedAt: now.toISOString(),
    finishedAt: null,
    heartbeatAt: now.toISOString(),
    counts: emptyCounts(),
    itemCount: 0,
    ...fields,
  });
  const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

  it("keeps a working run running and a finished one as it is", () => {
    expect(effectiveRun(run({ heartbeatAt: ago(30_000), claimedAt: ago(60_000) }), now).state).toBe(
      "running",
    );
    const done = run({ state: "done", heartbeatAt: ago(3_600_000), finishedAt: ago(3_600_000) });
    expect(effectiveRun(done, now)).toBe(done);
  });

  it("shows a run whose heartbeat stopped as failed, saying whether it ever started", () => {
    expect(
      effectiveRun(run({ heartbeatAt: ago(STALE_RUN_MS + 1), claimedAt: ago(STALE_RUN_MS + 1) }), now),
    ).toMatchObject({
      state: "failed",
      error: "the run stopped without finishing (timeout or crash)",
    });
    expect(effectiveRun(run({ heartbeatAt: ago(STALE_RUN_MS + 1) }), now)).toMatchObject({
      state: "failed",
      error: "the run was never started",
    });
  });

  it("names runs so they sort by start time", () => {
    expect(newRunId(now)).toMatch(/^20261127T120000Z-[0-9a-f]{6}$/);
  });
});
