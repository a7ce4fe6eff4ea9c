import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "#lib/aws.ts";
import { loadConfig } from "#lib/config.ts";
import { requeueStaleEvents } from "#lib/reconcile/stale-events.ts";
import { Table } from "#lib/store/dynamo.ts";
import { Inbox } from "#lib/store/inbox.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";

/** Reconcile's re-queue of events stuck in the inbox, against DynamoDB Local and the SQS emulator. */

let dynamo: DynamoDbLocal;
let queues: LocalQueues;
let sqs: SQSClient;
let table: (clock: () => number) => Table;

beforeAll(async () => {
  [dynamo, queues] = await Promise.all([startDynamoDbLocal(), startLocalQueues()]);
  await createTable(dynamo.endpoint, "stale-events");
  const config = loadConfig({ DYNAMODB_ENDPOINT: dynamo.endpoint, TABLE_NAME: "stale-events" });
  const client = createDocumentClient(config);
  table = (clock) => new Table(client, config.tableName, clock);
  sqs = new SQSClient({
    endpoint: queues.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), queues?.stop()]);
});

describe("requeueStaleEvents", () => {
  it("queues an event with a 128-character id again under a deduplication id SQS holds (at most 128)", async () => {
    const now = Date.parse("2026-12-04T12:00:00Z");
    const eventId = `evt_${"s".repeat(124)}`;
    // Recorded ten minutes ago, never queued.
    await new Inbox(table(() => now - 10 * 60_000)).record(
      {
        eventId,
        type: "customer.updated",
        groupId: "cus_stale",
        customerId: "cus_stale",
        livemode: false,
        created: 1,
        payload: "{}",
      },
      "received",
    );
    const inbox = new Inbox(table(() => now));
    const runId = "20261204T120000Z-a1b2c3";
    const found = await requeueStaleEvents(runId, false, {
      inbox,
      sqs,
      queueUrl: queues.queueUrl,
      staleEventMinutes: 5,
      now: () => new Date(now),
    });

    expect(found).toEqual([expect.objectContaining({ kind: "reenqueued", eventId })]);
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["MessageDeduplicationId", "MessageGroupId"],
      }),
    );
    expect(Messages.map((m) => JSON.parse(m.Body ?? "{}").eventId)).toEqual([eventId]);
    const deduplicationId = Messages[0]?.Attributes?.MessageDeduplicationId ?? "";
    expect(deduplicationId.length).toBeLessThanOrEqual(128);
    expect(deduplicationId).toMatch(new RegExp(`^evt_s+:reconcile:${runId}$`));
    expect(Messages[0]?.Attributes?.MessageGroupId).toBe("cus_stale");
    expect((await inbox.get(eventId))?.status).toBe("enqueued");
  });
});
