/**
 * For tests that call the webhook and the worker handlers directly (no gateway, no poller): their
 * environment over DynamoDB Local and the SQS emulator, a signed Stripe delivery, an SQS FIFO
 * record as Lambda hands it over, and the output the handlers write meanwhile.
 */
import type { SQSRecord } from "aws-lambda";
import Stripe from "stripe";
import type { DynamoDbLocal } from "#local/dynamodb-local.ts";
import type { LocalQueues } from "#local/queues.ts";
import { httpEvent } from "./http-events.ts";

/** Nothing listens here: a call to it fails at once, proving the code under test made none. */
export const CLOSED_URL = "http://127.0.0.1:9";

/** The functions' environment on a test's own table and queue; Stripe's API is closed unless overridden. */
export function functionEnv(
  services: { dynamo: DynamoDbLocal; queues: LocalQueues; tableName: string; webhookSecret: string },
  settings: Record<string, string>,
): Record<string, string> {
  return {
    TABLE_NAME: services.tableName,
    DYNAMODB_ENDPOINT: services.dynamo.endpoint,
    SQS_ENDPOINT: services.queues.endpoint,
    QUEUE_URL: services.queues.queueUrl,
    STRIPE_WEBHOOK_SECRET: services.webhookSecret,
    STRIPE_SECRET_KEY: "sk_test_local",
    STRIPE_API_URL: CLOSED_URL,
    ...settings,
  };
}

const signer = new Stripe("sk_test_signing_only");

/** `POST /webhooks/stripe` carrying `payload`, signed with `secret` as Stripe signs it. */
export function signedDelivery(payload: string, secret: string) {
  return httpEvent("POST /webhooks/stripe", {
    headers: {
      "content-type": "application/json",
      "stripe-signature": signer.webhooks.generateTestHeaderString({ payload, secret }),
    },
    body: payload,
  });
}

/** The FIFO queue's record of one inbox event id, in its customer's message group. */
export function workerRecord(eventId: string, groupId: string): SQSRecord {
  return {
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
  };
}

/** Everything written to `streams` while `work` runs (held back, not passed through). */
export async function writtenDuring(
  work: () => Promise<unknown>,
  streams: NodeJS.WriteStream[] = [process.stdout],
): Promise<string> {
  const written: string[] = [];
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
  return written.join("");
}
