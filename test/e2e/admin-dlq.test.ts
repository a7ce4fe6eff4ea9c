import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqsClient } from "#lib/queue/sqs-client.ts";
import { AuditTrail } from "#lib/store/audit.ts";
import { adminApi, licensesOf, licenseWhere, purchase, storeOf } from "#test/helpers/admin-api.ts";
import { eventually, simControl, startTestStack, type TestStack } from "#test/helpers/local-stack.ts";

let stack: TestStack;
beforeAll(async () => {
  // Each failing event is received 5 times before it dead-letters: a 1 s visibility timeout (the
  // shortest SQS has) brings it back in about a second instead of two.
  stack = await startTestStack({}, { visibilityTimeoutSeconds: 1 });
});
afterAll(async () => {
  await stack?.stop();
});

interface DeadLetter {
  messageId: string;
  groupId: string | null;
  eventId: string | null;
  event: { status: string; type: string } | null;
  reason: string | null;
}

const queued = async (url: string) => {
  const { Attributes } = await createSqsClient(stack.config).send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
};

describe("dead letters through the admin API", () => {
  it("lists failed events with their reasons without consuming them, replays one, and redrives the rest", {
    timeout: 120_000,
  }, async () => {
    // integrator.io refuses everything: each license event fails on each of its 5 receives, then dead-letters.
    await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { errorRate: 1, status: 403 });
    const first = await purchase(stack, "dead-a", { waitForLicense: false });
    const second = await purchase(stack, "dead-b", { waitForLicense: false });
    const groups = [first.customer.id, second.customer.id];

    const dead = await eventually(
      async () => {
        const answer = await adminApi<{ data: DeadLetter[]; approximateTotal: number }>(
          stack,
          "GET",
          "/admin/dlq",
        );
        const seen = new Set(answer.body.data.map((m) => m.groupId));
        return groups.every((g) => seen.has(g)) && (await queued(stack.queueUrl)) === 0
          ? answer.body
          : undefined;
      },
      { what: "both customers' events in the DLQ", timeoutMs: 60_000, intervalMs: 500 },
    );
    const mine = dead.data.filter((m) => groups.includes(m.groupId ?? ""));
    for (const message of mine) {
      expect(message.eventId).toMatch(/^evt_/);
      expect(message.event?.status).toBe("failed");
      expect(message.reason).toMatch(/403|access_restricted/);
    }
    expect(dead.approximateTotal).toBeGreaterThanOrEqual(mine.length);

    // Listing consumes nothing: the same messages are there to list again.
    const again = await adminApi<{ data: DeadLetter[]; approximateTotal: number }>(
      stack,
      "GET",
      "/admin/dlq",
    );
    // (A late dead letter of another event may join meanwhile: none of the first ones may go.)
    expect(again.body.approximateTotal).toBeGreaterThanOrEqual(dead.approximateTotal);
    expect(again.body.data.map((m) => m.messageId)).toEqual(
      expect.arrayContaining(dead.data.map((m) => m.messageId)),
    );

    await simControl(stack.integratorOrigin, "PUT", "/_sim/faults", { errorRate: 0 });

    // A replay by id: the first customer's subscription event, straight from the inbox.
    const store = storeOf(stack);
    const failed = await adminApi<{ data: { eventId: string; customerId?: string; type: string }[] }>(
      stack,
      "GET",
      "/admin/events?status=failed&type=customer.subscription.created&limit=100",
    );
    const event = failed.body.data.find((e) => e.customerId === first.customer.id);
    expect(event).toBeDefined();
    const replay = await adminApi(stack, "POST", `/admin/events/${event?.eventId}/replay`);
    expect(replay.status).toBe(202);
    await licenseWhere(stack, first.email, () => true, "the replayed customer's license");

    // The redrive is a job (it may outlast one API call): 202 with its id and location, then its
    // progress until done; it acts as the operator who asked (the audit names them).
    const operator = await adminApi<{ token: string }>(stack, "POST", "/admin/operators", {
      name: "dlq-redriver",
      role: "operator",
    });
    expect(operator.status).toBe(201);
    const redrive = await adminApi<{ jobId: string; location: string }>(
      stack,
      "POST",
      "/admin/dlq/redrive",
      undefined,
      operator.body.token,
    );
    expect(redrive.status).toBe(202);
    expect(redrive.body.location).toBe(`/admin/dlq/redrive/${redrive.body.jobId}`);
    expect(redrive.headers.get("location")).toBe(redrive.body.location);
    const job = await eventually(
      async () => {
        const answer = await adminApi<{
          state: string;
          moved: number;
          requestedBy?: string;
          finishedAt?: string;
        }>(stack, "GET", redrive.body.location);
        expect(answer.status).toBe(200);
        return answer.body.state === "running" ? undefined : answer.body;
      },
      { what: "the redrive job done", timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(job).toMatchObject({ state: "done", requestedBy: "operator:dlq-redriver" });
    expect(job.moved).toBeGreaterThanOrEqual(dead.approximateTotal);
    expect(job.finishedAt).toBeDefined();
    expect(await queued(stack.dlqUrl)).toBe(0);
    const trail = await new AuditTrail(store.table).forCustomer(second.customer.id);
    expect(trail.filter((entry) => entry.action === "admin.redrive").map((entry) => entry.actor)).toContain(
      "operator:dlq-redriver",
    );
    await licenseWhere(stack, second.email, () => true, "the redriven customer's license");
    await eventually(
      async () => {
        // An event on its last receive when the faults ended may dead-letter after the redrive
        // (under load): redrive it too, as an operator would.
        if ((await queued(stack.dlqUrl)) > 0) await adminApi(stack, "POST", "/admin/dlq/redrive");
        const { items } = await store.inbox.list({ limit: 200 });
        const theirs = items.filter((e) => groups.includes(e.customerId ?? ""));
        return theirs.length > 0 && theirs.every((e) => e.status === "processed");
      },
      { what: "every event of both customers processed", timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(await licensesOf(stack, first.email)).toHaveLength(1);
    expect(await licensesOf(stack, second.email)).toHaveLength(1);
    expect((await adminApi<{ data: DeadLetter[] }>(stack, "GET", "/admin/dlq")).body.data).toEqual([]);
  });
});
