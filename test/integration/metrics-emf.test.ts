import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as worker from "#functions/provision-worker.ts";
import * as webhook from "#functions/stripe-webhook.ts";
import { loadEnvironment } from "#lib/runtime.ts";
import { createTable, type DynamoDbLocal, startDynamoDbLocal } from "#local/dynamodb-local.ts";
import { type LocalQueues, startLocalQueues } from "#local/queues.ts";
import { type IntegratorSimulator, startIntegratorSimulator } from "#local/sim/integrator/index.ts";
import { httpEvent, lambdaContext } from "#test/helpers/http-events.ts";
import { simControl } from "#test/helpers/local-stack.ts";
import { makeCustomer, makeEvent, makeSubscription } from "#test/helpers/stripe-fixtures.ts";

/**
 * DESIGN §9: the product's metrics leave each function as CloudWatch EMF lines on stdout, in the
 * `IntegratorLicensing` namespace, under the names the alarms are built on. One webhook delivery
 * and one worker batch run with metrics enabled (the test config disables them) and stdout captured.
 */

const CONNECTOR_ID = "65f1c0a2b7d94e3a1c8b7d20"; // local/catalog.json
const SECRET = "whsec_metrics_test";
const stripe = new Stripe("sk_test_unused");

let dynamo: DynamoDbLocal;
let queues: LocalQueues;
let integrator: IntegratorSimulator;
let env: Record<string, string>;

beforeAll(async () => {
  [dynamo, queues, integrator] = await Promise.all([
    startDynamoDbLocal(),
    startLocalQueues({ visibilityTimeoutSeconds: 1 }),
    startIntegratorSimulator({ vendorToken: "metrics-vendor-token", quiet: true }),
  ]);
  await createTable(dynamo.endpoint, "metrics-test");
  await simControl(integrator.origin, "POST", "/_sim/connectors", { _id: CONNECTOR_ID, name: "Shopify" });
  await simControl(integrator.origin, "POST", "/_sim/users", { email: "metrics@example.com" });
  env = {
    TABLE_NAME: "metrics-test",
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: queues.endpoint,
    QUEUE_URL: queues.queueUrl,
    STRIPE_WEBHOOK_SECRET: SECRET,
    // Stripe is never called by these events: a closed port makes sure of it.
    STRIPE_SECRET_KEY: "sk_test_local",
    STRIPE_API_URL: "http://127.0.0.1:9",
    INTEGRATOR_API_URL: integrator.url,
    INTEGRATOR_TOKEN: "metrics-vendor-token",
    LOG_LEVEL: "SILENT",
  };
  // Powertools reads this when a Metrics object is built: enabled for the functions built below.
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([dynamo?.stop(), queues?.stop(), integrator?.stop()]);
});

type Emf = {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  service: string;
} & Record<string, unknown>;

/** Runs `work`, returning the EMF documents written to stdout meanwhile (other output passes through). */
async function emfOf(work: () => Promise<unknown>): Promise<Emf[]> {
  const written: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    await work();
  } finally {
    process.stdout.write = write;
  }
  return written
    .join("")
    .split("\n")
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf);
}

const names = (documents: Emf[]) =>
  documents.flatMap((d) => d._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((metric) => metric.Name)));

describe("EMF metrics", () => {
  const customer = makeCustomer({ id: "cus_metrics1", email: "metrics@example.com" });
  const subscription = makeSubscription({
    customer: customer.id,
    status: "active",
    items: [{ price: "price_std_month" }],
    now: new Date(),
  });
  const events = [
    makeEvent("customer.created", customer),
    makeEvent("customer.subscription.created", subscription),
  ];

  it("a webhook delivery: EventsReceived, and EventsIgnored for a type the product does not handle", async () => {
    const handler = webhook.makeHandler(webhook.createDeps(await loadEnvironment(env)));
    const deliver = (payload: string) =>
      handler(
        httpEvent("POST /webhooks/stripe", {
          headers: {
            "content-type": "application/json",
            "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }),
          },
          body: payload,
        }),
        lambdaContext,
      );
    for (const event of events) {
      const documents = await emfOf(() => deliver(JSON.stringify(event)));
      expect(names(documents)).toEqual(["EventsReceived"]);
      expect(documents[0]).toMatchObject({
        service: "integrator-licensing.stripe-webhook",
        EventsReceived: 1,
      });
      expect(documents[0]?._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: "IntegratorLicensing",
        Dimensions: [["service"]],
        Metrics: [{ Name: "EventsReceived", Unit: "Count" }],
      });
    }
    const ignored = await emfOf(() =>
      deliver(JSON.stringify(makeEvent("charge.succeeded", { id: "ch_1", customer: customer.id }))),
    );
    expect(names(ignored).sort()).toEqual(["EventsIgnored", "EventsReceived"]);
  });

  it("a worker batch: EventsProcessed per record and LicensesCreated for the new license", async () => {
    const handler = worker.makeHandler(await worker.createDeps(await loadEnvironment(env)));
    const records = events.map((event, i) => ({
      messageId: `m${i}`,
      receiptHandle: `r${i}`,
      body: JSON.stringify({ eventId: event.id }),
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "test",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
        MessageGroupId: customer.id,
        MessageDeduplicationId: event.id,
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:local:000000000000:events.fifo",
      awsRegion: "us-east-1",
    }));
    let result: unknown;
    const documents = await emfOf(async () => {
      result = await handler({ Records: records }, lambdaContext);
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(documents).toHaveLength(1);
    expect(documents[0]).toMatchObject({
      service: "integrator-licensing.provision-worker",
      // One value per count: CloudWatch sums them.
      EventsProcessed: [1, 1],
      LicensesCreated: 1,
    });
    expect(names(documents).sort()).toEqual(["EventsProcessed", "LicensesCreated"]);
    expect(documents[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe("IntegratorLicensing");
  });
});
