import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { actingAs, currentActor } from "#lib/access/actor.ts";
import { type QueueDeps, redriveDeadLetters, replayEvent } from "#lib/admin/events.ts";
import { createRedriveJob, executeRedriveJob, type RedriveDeps } from "#lib/admin/redrive-job.ts";
import type { AuditEntry } from "#lib/store/audit.ts";
import type { InboxEvent } from "#lib/store/inbox.ts";
import type { RedriveJob, RedriveJobs } from "#lib/store/redrive-jobs.ts";

/**
 * Replays and redrives name the operator who asked for them (issue: every audit entry of an
 * action names its actor): in the audit entry of each customer whose event moves, and in the
 * inbox reason the events list shows.
 */
function fakes(events: InboxEvent[]) {
  const audited: (Omit<AuditEntry, "at"> & { actor: string | undefined })[] = [];
  const reasons: Record<string, string | undefined> = {};
  let dead = events.map((event, i) => ({
    MessageId: `m${i}`,
    ReceiptHandle: `r${i}`,
    Body: JSON.stringify({ eventId: event.eventId }),
    Attributes: { MessageGroupId: event.groupId },
  }));
  const sqs = {
    send: async (command: { constructor: { name: string } }) => {
      if (command.constructor.name === "ReceiveMessageCommand") {
        const batch = dead;
        dead = [];
        return { Messages: batch };
      }
      return {};
    },
  } as unknown as SQSClient;
  const deps = {
    sqs,
    queueUrl: "queue",
    dlqUrl: "dlq",
    inbox: {
      get: async (id: string) => events.find((event) => event.eventId === id),
      setStatus: async (id: string, _status: string, reason?: string) => {
        reasons[id] = reason;
      },
    },
    audit: {
      record: async (entry: Omit<AuditEntry, "at">) => {
        audited.push({ ...entry, actor: currentActor() });
      },
    },
  } as unknown as QueueDeps;
  return { deps, audited, reasons };
}

const event = (eventId: string, customerId: string | undefined): InboxEvent =>
  ({
    eventId,
    type: "customer.subscription.created",
    groupId: customerId ?? eventId,
    ...(customerId ? { customerId } : {}),
    livemode: false,
    created: 1,
    status: "failed",
    attempts: 5,
    receivedAt: "2026-12-04T10:00:00.000Z",
    updatedAt: "2026-12-04T10:00:00.000Z",
    payload: "{}",
  }) as InboxEvent;

describe("admin actions on events name their actor", () => {
  it("a redrive audits each customer's event under the operator, and its inbox reason names them", async () => {
    const { deps, audited, reasons } = fakes([event("evt_a", "cus_a"), event("evt_b", undefined)]);
    const count = await actingAs("operator:otto", () => redriveDeadLetters(deps, "req-1"));
    expect(count).toBe(2);
    expect(audited).toEqual([
      {
        customerId: "cus_a",
        action: "admin.redrive",
        cause: "admin:req-1",
        actor: "operator:otto",
        detail: { eventId: "evt_a", type: "customer.subscription.created", from: "failed" },
      },
    ]);
    expect(reasons).toEqual({
      evt_a: "redriven from the DLQ by operator:otto",
      evt_b: "redriven from the DLQ by operator:otto",
    });
  });

  it("a redrive job keeps the operator who asked: recorded as requestedBy, its audit entries under them", async () => {
    const { deps, audited, reasons } = fakes([event("evt_j", "cus_j")]);
    const stored = new Map<string, RedriveJob>();
    const jobs = {
      create: async (job: Pick<RedriveJob, "jobId" | "requestedBy" | "requestId" | "startedAt">) => {
        const record: RedriveJob = { ...job, state: "running", moved: 0 };
        stored.set(job.jobId, record);
        return record;
      },
      get: async (jobId: string) => stored.get(jobId),
      progress: async (jobId: string, moved: number) => {
        stored.set(jobId, { ...(stored.get(jobId) as RedriveJob), moved });
      },
      finish: async (jobId: string, state: "done" | "failed", moved: number) => {
        stored.set(jobId, { ...(stored.get(jobId) as RedriveJob), state, moved, finishedAt: "now" });
      },
    } as unknown as RedriveJobs;
    // The request records the job under its actor; the job runs later, outside the request.
    const job = await actingAs("operator:otto", () =>
      createRedriveJob(jobs, "req-9", new Date("2026-12-04T10:00:00Z")),
    );
    expect(job.requestedBy).toBe("operator:otto");
    const logger = { error: () => undefined } as unknown as RedriveDeps["logger"];
    const ended = await executeRedriveJob(job.jobId, { jobs, queue: deps, logger });
    expect(ended).toMatchObject({ state: "done", moved: 1, requestedBy: "operator:otto" });
    expect(audited).toEqual([expect.objectContaining({ action: "admin.redrive", actor: "operator:otto" })]);
    expect(reasons.evt_j).toBe("redriven from the DLQ by operator:otto");
  });

  it("a replay's inbox reason names the operator beside the request", async () => {
    const { deps, audited, reasons } = fakes([event("evt_c", "cus_c")]);
    await actingAs("operator:vera", () => replayEvent("evt_c", deps, "req-2"));
    expect(reasons.evt_c).toBe("replayed by operator:vera (req-2)");
    expect(audited[0]).toMatchObject({ action: "admin.replay", actor: "operator:vera" });
    // Outside an admin request (none today): no actor, no "by".
    const outside = fakes([event("evt_d", "cus_d")]);
    await replayEvent("evt_d", outside.deps, "req-3");
    expect(outside.reasons.evt_d).toBe("replayed (req-3)");
  });
});
