import type { Context, SQSBatchResponse, SQSRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as worker from "#functions/provision-worker.ts";
import * as webhook from "#functions/stripe-webhook.ts";
import { loadConfig } from "#lib/config.ts";
import { createTable as createTableAdapter } from "#lib/engine/wiring.ts";
import { loadEnvironment } from "#lib/runtime.ts";
import { Customers } from "#lib/store/customers.ts";
import { Inbox, MAX_REASON_LENGTH } from "#lib/store/inbox.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";
import {
  CLOSED_URL,
  functionEnv,
  signedDelivery,
  workerRecord,
  writtenDuring,
} from "#test/helpers/function-harness.ts";
import { lambdaContext } from "#test/helpers/http-events.ts";
import { makeCheckoutSession, makeCustomer, makeEvent, makeInvoice } from "#test/helpers/stripe-fixtures.ts";

/**
 * The worker's batch: SQS FIFO hands it several customers' events at once. Each customer's
 * events run in order, a failure holds back only the rest of that customer's events, and each
 * event's log lines carry its own ids while other customers' events run beside it.
 */

const SECRET = "whsec_worker_batch";

let dynamo: DynamoDbLocal;
let queues: LocalQueues;
let env: Record<string, string>;

beforeAll(async () => {
  [dynamo, queues] = await Promise.all([
    startDynamoDbLocal(),
    startLocalQueues({ visibilityTimeoutSeconds: 1 }),
  ]);
  await createTable(dynamo.endpoint, "worker-batch");
  // Customer events never call Stripe or integrator.io: both APIs stay closed.
  env = functionEnv(
    { dynamo, queues, tableName: "worker-batch", webhookSecret: SECRET },
    { INTEGRATOR_API_URL: `${CLOSED_URL}/v1`, INTEGRATOR_TOKEN: "worker-batch-token", LOG_LEVEL: "INFO" },
  );
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), queues?.stop()]);
});

/** The JSON lines `work` wrote to stdout and stderr. */
async function linesOf(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  return (await writtenDuring(work, [process.stdout, process.stderr]))
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("the provision worker's batch", () => {
  it("runs each customer's events in order and holds back only the customer whose event failed", async () => {
    const environment = await loadEnvironment(env);
    const receive = webhook.makeHandler(webhook.createDeps(environment));
    const deliver = async (event: object) => {
      const answer = await receive(signedDelivery(JSON.stringify(event), SECRET), lambdaContext);
      expect(answer.statusCode).toBe(200);
    };
    const broken = makeCustomer({ id: "cus_batch_broken", email: "broken@example.com" });
    const healthy = makeCustomer({ id: "cus_batch_healthy", email: "first@example.com" });
    const created = Math.floor(Date.now() / 1000);
    // Its subscription must be fetched from Stripe, which does not answer: the event fails late,
    // after the other customer's events have run (and logged) beside it.
    const unanswerable = makeEvent(
      "invoice.paid",
      makeInvoice({ customer: broken.id, subscription: "sub_batch_unreachable" }),
    );
    const brokenLater = makeEvent("customer.created", broken, { created });
    const healthyFirst = makeEvent("customer.created", healthy, { created });
    const healthyThen = makeEvent(
      "customer.updated",
      { ...healthy, email: "second@example.com" },
      { created: created + 1 },
    );
    for (const event of [unanswerable, brokenLater, healthyFirst, healthyThen]) await deliver(event);

    const handler = worker.makeHandler(await worker.createDeps(environment));
    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await linesOf(async () => {
      result = await handler(
        {
          Records: [
            workerRecord(unanswerable.id, broken.id),
            workerRecord(healthyFirst.id, healthy.id),
            workerRecord(brokenLater.id, broken.id),
            workerRecord(healthyThen.id, healthy.id),
          ],
        },
        lambdaContext,
      );
    });

    // The failed event and the broken customer's later one go back to the queue; nothing else does.
    expect(result?.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [`m-${unanswerable.id}`, `m-${brokenLater.id}`].sort(),
    );
    const table = createTableAdapter(loadConfig(env));
    const inbox = new Inbox(table);
    expect((await inbox.get(unanswerable.id))?.status).toBe("failed");
    expect((await inbox.get(brokenLater.id))?.status).toBe("enqueued");
    const [first, then] = await Promise.all([inbox.get(healthyFirst.id), inbox.get(healthyThen.id)]);
    expect([first?.status, then?.status]).toEqual(["processed", "processed"]);
    expect(Date.parse(first?.updatedAt ?? "")).toBeLessThanOrEqual(Date.parse(then?.updatedAt ?? ""));
    expect((await new Customers(table).profile(healthy.id))?.email).toBe("second@example.com");
    expect(await new Customers(table).profile(broken.id)).toBeUndefined();

    // The failure is logged with the ids of the event that failed, not of one running beside it.
    const failures = lines.filter((line) => line.message === "event failed");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      eventId: unanswerable.id,
      customerId: broken.id,
      eventType: "invoice.paid",
    });
  });

  it("leaves an event processed when another delivery of it processed it while this one failed", async () => {
    const environment = await loadEnvironment(env);
    const receive = webhook.makeHandler(webhook.createDeps(environment));
    const event = makeEvent(
      "invoice.paid",
      makeInvoice({ customer: "cus_batch_twice", subscription: "sub_batch_twice_unreachable" }),
    );
    expect((await receive(signedDelivery(JSON.stringify(event), SECRET), lambdaContext)).statusCode).toBe(
      200,
    );
    const inbox = new Inbox(createTableAdapter(loadConfig(env)));
    // A redelivery (or a reconcile requeue) of the event succeeded while this delivery still ran.
    await inbox.setStatus(event.id, "processed");

    const handler = worker.makeHandler(await worker.createDeps(environment));
    let result: Awaited<ReturnType<typeof handler>> | undefined;
    await linesOf(async () => {
      result = await handler({ Records: [workerRecord(event.id, "cus_batch_twice")] }, lambdaContext);
    });
    expect(result?.batchItemFailures).toEqual([{ itemIdentifier: `m-${event.id}` }]);
    expect(await inbox.get(event.id)).toMatchObject({ status: "processed" });
  });

  it("marks an event whose failure reason is huge failed, with the reason and every log line bounded", async () => {
    const environment = await loadEnvironment(env);
    const receive = webhook.makeHandler(webhook.createDeps(environment));
    // 6,000 custom fields whose key is not a string: one schema issue each (within the 256 KB body).
    const customer = { id: "cus_batch_huge_reason" };
    const custom_fields = Array.from({ length: 6_000 }, (_, i) => ({ key: i, type: "text" }));
    const event = makeEvent("checkout.session.completed", {
      ...makeCheckoutSession({ customer: customer.id }),
      custom_fields,
    });
    const answer = await receive(signedDelivery(JSON.stringify(event), SECRET), lambdaContext);
    expect(answer.statusCode).toBe(200);

    const handler = worker.makeHandler(await worker.createDeps(environment));
    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const written = await writtenDuring(async () => {
      result = await handler({ Records: [workerRecord(event.id, customer.id)] }, lambdaContext);
    }, [process.stdout, process.stderr]);

    expect(result?.batchItemFailures).toEqual([{ itemIdentifier: `m-${event.id}` }]);
    const stored = await new Inbox(createTableAdapter(loadConfig(env))).get(event.id);
    expect(stored?.status).toBe("failed");
    expect(stored?.attempts).toBe(1);
    expect(stored?.reason?.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
    expect(stored?.reason).toMatch(/^\$?ZodError: custom_fields\.0\.key: .*… \(\d+ more characters\)$/s);
    const lines = written.split("\n").filter((line) => line.length > 0);
    expect(lines.some((line) => line.includes('"message":"event failed"'))).toBe(true);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(8 * 1024);
  });
});

/**
 * The worker starts a record only while more than its reserve is left of the invocation: the rest
 * go back to the queue in `batchItemFailures`, each customer's in order. The Lambda context's
 * remaining time is a fake clock: nothing here waits.
 */
describe("the provision worker's batch when the invocation's time runs out", () => {
  const RESERVE_MS = 30_000;

  /** A Lambda context whose remaining time is whatever `remaining` says when asked. */
  const contextWith = (remaining: () => number): Context =>
    ({ ...lambdaContext, getRemainingTimeInMillis: remaining }) as Context;

  /** Delivers a customer's `customer.created` then `count - 1` `customer.updated` events, in order. */
  async function customerEvents(id: string, count: number) {
    const environment = await loadEnvironment(env);
    const receive = webhook.makeHandler(webhook.createDeps(environment));
    const created = Math.floor(Date.now() / 1000);
    const customer = makeCustomer({ id, email: `${id}-0@example.com` });
    const events = Array.from({ length: count }, (_, i) =>
      i === 0
        ? makeEvent("customer.created", customer, { created })
        : makeEvent(
            "customer.updated",
            { ...customer, email: `${id}-${i}@example.com` },
            { created: created + i },
          ),
    );
    for (const event of events) {
      const answer = await receive(signedDelivery(JSON.stringify(event), SECRET), lambdaContext);
      expect(answer.statusCode).toBe(200);
    }
    return events.map((event) => ({ eventId: event.id, record: workerRecord(event.id, id) }));
  }

  /** The worker's deps, with the inbox reads that start each event recorded (and `onStart` called). */
  async function spiedDeps(onStart: (eventId: string) => void = () => {}) {
    const deps = await worker.createDeps(await loadEnvironment(env));
    const started: string[] = [];
    const get = deps.inbox.get.bind(deps.inbox);
    deps.inbox.get = (eventId: string) => {
      started.push(eventId);
      onStart(eventId);
      return get(eventId);
    };
    const count = vi.spyOn(deps.metrics, "count");
    return { deps, started, count };
  }

  const statuses = async (eventIds: string[]) => {
    const inbox = new Inbox(createTableAdapter(loadConfig(env)));
    return Promise.all(eventIds.map(async (id) => (await inbox.get(id))?.status));
  };
  const failedIds = (result: SQSBatchResponse | undefined) =>
    (result?.batchItemFailures ?? []).map((f) => f.itemIdentifier).sort();

  it("processes every record while time is left (the default reserve)", async () => {
    const [a1, a2] = await customerEvents("cus_deadline_ample_a", 2);
    const [b1] = await customerEvents("cus_deadline_ample_b", 1);
    const { deps, started, count } = await spiedDeps();
    const handler = worker.makeHandler(deps);
    const batch = [a1, b1, a2].map((e) => e?.record as SQSRecord);

    let result: SQSBatchResponse | undefined;
    const lines = await linesOf(async () => {
      result = await handler(
        { Records: batch },
        contextWith(() => 59_000),
      );
    });

    expect(result).toEqual({ batchItemFailures: [] });
    const ids = [a1, b1, a2].map((e) => e?.eventId as string);
    expect(started.sort()).toEqual([...ids].sort());
    expect(await statuses(ids)).toEqual(["processed", "processed", "processed"]);
    expect(lines.filter((line) => line.level === "WARN")).toEqual([]);
    expect(count).not.toHaveBeenCalledWith("RecordsDeferred", expect.anything());
  });

  it("leaves the records not started when time runs short for the retry: each group's rest, in order", async () => {
    const [a1, a2, a3] = await customerEvents("cus_deadline_short_a", 3);
    const [b1, b2] = await customerEvents("cus_deadline_short_b", 2);
    const { deps, started, count } = await spiedDeps();
    const handler = worker.makeHandler(deps, { reserveMs: RESERVE_MS });
    // Each customer's first record finds time enough (the groups start side by side); every later
    // look at the clock finds less than the reserve.
    const readings = [50_000, 50_000];
    const batch = [a1, b1, a2, b2, a3].map((e) => e?.record as SQSRecord);

    let result: SQSBatchResponse | undefined;
    const lines = await linesOf(async () => {
      result = await handler(
        { Records: batch },
        contextWith(() => readings.shift() ?? RESERVE_MS - 1),
      );
    });

    const [done, left] = [
      [a1, b1].map((e) => e?.eventId as string),
      [a2, a3, b2].map((e) => e?.eventId as string),
    ];
    expect(failedIds(result)).toEqual(left.map((id) => `m-${id}`).sort());
    // Only the records that finished ran; the rest were never started and wait in the inbox.
    expect(started.sort()).toEqual([...done].sort());
    expect(await statuses(done)).toEqual(["processed", "processed"]);
    expect(await statuses(left)).toEqual(["enqueued", "enqueued", "enqueued"]);
    // One warning with the count (no payloads), and the metric.
    const warnings = lines.filter((line) => line.level === "WARN");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ deferred: 3, reserveMs: RESERVE_MS });
    expect(JSON.stringify(warnings[0])).not.toContain("cus_deadline_short");
    expect(count).toHaveBeenCalledWith("RecordsDeferred", 3);
    expect(lines.some((line) => line.message === "event failed")).toBe(false);
  });

  it("lets a record already running finish when time runs short meanwhile", async () => {
    const [running, later] = await customerEvents("cus_deadline_running", 2);
    let remaining = 50_000;
    // Time runs short just as the first record starts: it must finish all the same.
    const { deps, started, count } = await spiedDeps((eventId) => {
      if (eventId === running?.eventId) remaining = 1_000;
    });
    const handler = worker.makeHandler(deps, { reserveMs: RESERVE_MS });

    let result: SQSBatchResponse | undefined;
    await linesOf(async () => {
      result = await handler(
        { Records: [running?.record as SQSRecord, later?.record as SQSRecord] },
        contextWith(() => remaining),
      );
    });

    expect(failedIds(result)).toEqual([`m-${later?.eventId}`]);
    expect(started).toEqual([running?.eventId]);
    expect(await statuses([running?.eventId as string, later?.eventId as string])).toEqual([
      "processed",
      "enqueued",
    ]);
    expect(count).toHaveBeenCalledWith("RecordsDeferred", 1);
  });
});
