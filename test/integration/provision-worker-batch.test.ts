import type { SQSRecord } from "aws-lambda";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as worker from "#functions/provision-worker.ts";
import * as webhook from "#functions/stripe-webhook.ts";
import { loadConfig } from "#lib/config.ts";
import { createTable as createTableAdapter } from "#lib/provisioning/wiring.ts";
import { loadEnvironment } from "#lib/runtime.ts";
import { Customers } from "#lib/store/customers.ts";
import { Inbox } from "#lib/store/inbox.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";
import { makeCustomer, makeEvent, makeInvoice } from "#test/helpers/stripe-fixtures.ts";

/**
 * The worker's batch: SQS FIFO hands it several customers' events at once. Each customer's
 * events run in order, a failure holds back only the rest of that customer's events, and each
 * event's log lines carry its own ids while other customers' events run beside it.
 */

const SECRET = "whsec_worker_batch";
const stripe = new Stripe("sk_test_unused");

let dynamo: DynamoDbLocal;
let queues: LocalQueues;
let env: Record<string, string>;

beforeAll(async () => {
  [dynamo, queues] = await Promise.all([
    startDynamoDbLocal(),
    startLocalQueues({ visibilityTimeoutSeconds: 1 }),
  ]);
  await createTable(dynamo.endpoint, "worker-batch");
  env = {
    TABLE_NAME: "worker-batch",
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: queues.endpoint,
    QUEUE_URL: queues.queueUrl,
    STRIPE_WEBHOOK_SECRET: SECRET,
    // Customer events never call Stripe or integrator.io: closed ports make sure of it.
    STRIPE_SECRET_KEY: "sk_test_local",
    STRIPE_API_URL: "http://127.0.0.1:9",
    INTEGRATOR_API_URL: "http://127.0.0.1:9/v1",
    INTEGRATOR_TOKEN: "worker-batch-token",
    LOG_LEVEL: "INFO",
  };
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), queues?.stop()]);
});

/** Every line written to stdout and stderr while `work` runs (nothing passes through). */
async function linesOf(work: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      (rest.find((arg) => typeof arg === "function") as (() => void) | undefined)?.();
      return true;
    }) as typeof stream.write;
  }
  try {
    await work();
  } finally {
    streams.forEach((stream, i) => {
      stream.write = writes[i] as typeof stream.write;
    });
  }
  return written
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const record = (eventId: string, groupId: string): SQSRecord => ({
  messageId: `m-${eventId}`,
  receiptHandle: `r-${eventId}`,
  body: JSON.stringify({ eventId }),
  attributes: {
    ApproximateReceiveCount: "1",
    SentTimestamp: String(Date.now()),
    SenderId: "test",
    ApproximateFirstReceiveTimestamp: String(Date.now()),
    MessageGroupId: groupId,
    MessageDeduplicationId: eventId,
  },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: "arn:aws:sqs:local:000000000000:events.fifo",
  awsRegion: "us-east-1",
});

describe("the provision worker's batch", () => {
  it("runs each customer's events in order and holds back only the customer whose event failed", async () => {
    const environment = await loadEnvironment(env);
    const receive = webhook.makeHandler(webhook.createDeps(environment));
    const deliver = async (event: object) => {
      const payload = JSON.stringify(event);
      const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
      const answer = await receive(
        httpEvent("POST /webhooks/stripe", {
          headers: { "content-type": "application/json", "stripe-signature": signature },
          body: payload,
        }),
        lambdaContext,
      );
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
            record(unanswerable.id, broken.id),
            record(healthyFirst.id, healthy.id),
            record(brokenLater.id, broken.id),
            record(healthyThen.id, healthy.id),
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
});
